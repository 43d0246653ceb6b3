/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-certificate"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-certificate.h"
#include "rs-error.h"

G_DEFINE_BOXED_TYPE (RsCertificateInfo, rs_certificate_info,
                     rs_certificate_info_copy, rs_certificate_info_free)

/**
 * rs_certificate_fingerprint:
 *
 * Returns: (transfer full) (nullable): the SHA-256 of the certificate's
 *   DER encoding as 64 lowercase hex digits without colons, or %NULL if
 *   the certificate has no DER encoding
 */
char *
rs_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL || der->len == 0)
    return NULL;

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

/**
 * rs_certificate_info_new:
 * @certificate: the certificate a server presented
 * @errors: why it was refused, or 0
 *
 * Returns: (transfer full): what a user needs to decide about @certificate
 */
RsCertificateInfo *
rs_certificate_info_new (GTlsCertificate      *certificate,
                         GTlsCertificateFlags  errors)
{
  RsCertificateInfo *info;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  info = g_new0 (RsCertificateInfo, 1);
  info->fingerprint = rs_certificate_fingerprint (certificate);
  info->subject = g_tls_certificate_get_subject_name (certificate);
  info->issuer = g_tls_certificate_get_issuer_name (certificate);
  info->not_before = g_tls_certificate_get_not_valid_before (certificate);
  info->not_after = g_tls_certificate_get_not_valid_after (certificate);
  info->errors = errors;

  return info;
}

RsCertificateInfo *
rs_certificate_info_copy (const RsCertificateInfo *info)
{
  RsCertificateInfo *copy;

  g_return_val_if_fail (info != NULL, NULL);

  copy = g_new0 (RsCertificateInfo, 1);
  copy->fingerprint = g_strdup (info->fingerprint);
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->not_before = info->not_before ? g_date_time_ref (info->not_before) : NULL;
  copy->not_after = info->not_after ? g_date_time_ref (info->not_after) : NULL;
  copy->errors = info->errors;

  return copy;
}

void
rs_certificate_info_free (RsCertificateInfo *info)
{
  if (info == NULL)
    return;

  g_free (info->fingerprint);
  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info);
}

/**
 * rs_certificate_describe_problems:
 * @errors: the problems GIO found with a certificate
 *
 * Puts each problem in plain words, most telling first, in the order the
 * user should read them.  Bits GIO may add later read as a generic
 * problem, so no problem goes unmentioned.
 *
 * Returns: (transfer full): a %NULL-terminated array, empty when @errors is 0
 */
char **
rs_certificate_describe_problems (GTlsCertificateFlags errors)
{
  static const GTlsCertificateFlags known =
    G_TLS_CERTIFICATE_UNKNOWN_CA |
    G_TLS_CERTIFICATE_BAD_IDENTITY |
    G_TLS_CERTIFICATE_NOT_ACTIVATED |
    G_TLS_CERTIFICATE_EXPIRED |
    G_TLS_CERTIFICATE_REVOKED |
    G_TLS_CERTIFICATE_INSECURE |
    G_TLS_CERTIFICATE_GENERIC_ERROR;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_strv_builder_add (builder, _("The certificate is not signed by an authority this computer trusts"));
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_strv_builder_add (builder, _("The certificate was issued for a different server name"));
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    g_strv_builder_add (builder, _("The certificate has expired"));
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_strv_builder_add (builder, _("The certificate is not valid yet; check this computer’s date and time"));
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    g_strv_builder_add (builder, _("The certificate has been revoked by its authority"));
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    g_strv_builder_add (builder, _("The certificate uses an insecure algorithm"));
  if ((errors & G_TLS_CERTIFICATE_GENERIC_ERROR) || (errors & ~known) != 0)
    g_strv_builder_add (builder, _("The certificate could not be checked"));

  return g_strv_builder_end (builder);
}

/**
 * rs_fingerprint_normalize:
 * @input: a SHA-256 fingerprint as a user may paste it: hex digits in any
 *   case, optionally separated by colons or spaces
 * @normalized: (out) (optional) (transfer full): 64 lowercase hex digits
 *
 * Returns: %TRUE if @input is exactly one SHA-256 fingerprint
 */
gboolean
rs_fingerprint_normalize (const char  *input,
                          char       **normalized)
{
  g_autoptr(GString) out = NULL;

  if (normalized != NULL)
    *normalized = NULL;

  if (input == NULL)
    return FALSE;

  out = g_string_sized_new (64);

  for (const char *p = input; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ' || *p == '\t')
        continue;

      if (!g_ascii_isxdigit (*p) || out->len == 64)
        return FALSE;

      g_string_append_c (out, g_ascii_tolower (*p));
    }

  if (out->len != 64)
    return FALSE;

  if (normalized != NULL)
    *normalized = g_string_free (g_steal_pointer (&out), FALSE);

  return TRUE;
}
