/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-validate"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "rs-error.h"
#include "rs-validate.h"

static gboolean
has_space_or_control (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        return TRUE;
    }

  return FALSE;
}

/* One DNS label per RFC 1123, allowing internationalised names (which GIO
 * converts to ASCII when it resolves them). */
static gboolean
label_is_valid (const char *label,
                gsize       length)
{
  if (length == 0 || length > 63)
    return FALSE;

  if (label[0] == '-' || label[length - 1] == '-')
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      guchar c = label[i];

      if (!(g_ascii_isalnum (c) || c == '-' || c >= 0x80))
        return FALSE;
    }

  return TRUE;
}

static gboolean
domain_is_valid (const char *domain)
{
  g_auto(GStrv) labels = NULL;
  g_autofree char *copy = NULL;
  gsize length = strlen (domain);

  if (length == 0 || length > 253 || !g_utf8_validate (domain, -1, NULL))
    return FALSE;

  /* A trailing dot (a fully qualified name) is allowed. */
  copy = g_strndup (domain, domain[length - 1] == '.' ? length - 1 : length);
  labels = g_strsplit (copy, ".", -1);

  for (guint i = 0; labels[i] != NULL; i++)
    if (!label_is_valid (labels[i], strlen (labels[i])))
      return FALSE;

  return labels[0] != NULL;
}

/**
 * rs_validate_address:
 *
 * Accepts `local@domain` where the domain is a host name; refuses spaces,
 * a missing or doubled `@`, and empty parts.
 */
gboolean
rs_validate_address (const char  *address,
                     GError     **error)
{
  const char *at;

  if (address == NULL || *address == '\0')
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("Enter your email address"));
      return FALSE;
    }

  if (!g_utf8_validate (address, -1, NULL) || has_space_or_control (address))
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("An email address cannot contain spaces"));
      return FALSE;
    }

  at = strrchr (address, '@');
  if (at == NULL || at == address || at[1] == '\0' || strchr (address, '@') != at)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("“%s” is not an email address: it should look like name@example.com"),
                   address);
      return FALSE;
    }

  if (strlen (address) > 254 || (gsize)(at - address) > 64)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("This email address is too long"));
      return FALSE;
    }

  if (!domain_is_valid (at + 1) || strchr (at + 1, '.') == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("“%s” is not a valid domain for an email address"),
                   at + 1);
      return FALSE;
    }

  return TRUE;
}

/**
 * rs_validate_hostname:
 * @field: the field's name as the user sees it ("IMAP server")
 *
 * Accepts a host name or an IP address literal.
 */
gboolean
rs_validate_hostname (const char  *field,
                      const char  *hostname,
                      GError     **error)
{
  if (hostname == NULL || *hostname == '\0')
    {
      /* Translators: %s is a field name such as "IMAP server" */
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT, _("Enter the %s"), field);
      return FALSE;
    }

  if (!g_utf8_validate (hostname, -1, NULL) || has_space_or_control (hostname))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The %s cannot contain spaces"), field);
      return FALSE;
    }

  if (g_hostname_is_ip_address (hostname))
    return TRUE;

  if (strchr (hostname, ':') != NULL || strchr (hostname, '/') != NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("Enter only a server name for the %s, such as mail.example.com — "
                     "the port goes in its own field"),
                   field);
      return FALSE;
    }

  if (!domain_is_valid (hostname))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("“%s” is not a valid %s name"), hostname, field);
      return FALSE;
    }

  return TRUE;
}

gboolean
rs_validate_username (const char  *field,
                      const char  *username,
                      GError     **error)
{
  if (username == NULL || *username == '\0')
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT, _("Enter the %s"), field);
      return FALSE;
    }

  if (!g_utf8_validate (username, -1, NULL) || has_space_or_control (username))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The %s cannot contain spaces"), field);
      return FALSE;
    }

  return TRUE;
}

/**
 * rs_parse_port:
 *
 * Accepts a decimal number from 1 to 65535, nothing else.
 */
gboolean
rs_parse_port (const char  *field,
               const char  *text,
               guint16     *port,
               GError     **error)
{
  guint64 value;

  g_return_val_if_fail (port != NULL, FALSE);

  if (text == NULL || *text == '\0' ||
      !g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The %s must be a number from 1 to 65535"), field);
      return FALSE;
    }

  *port = (guint16)value;

  return TRUE;
}

guint16
rs_default_port (RsService  service,
                 RsSecurity security)
{
  if (service == RS_SERVICE_SMTP)
    return security == RS_SECURITY_STARTTLS ? 587 : 465;

  return security == RS_SECURITY_STARTTLS ? 143 : 993;
}

/**
 * rs_security_for_port:
 *
 * Returns: the security a port implies: STARTTLS for the ports where the
 *   conversation starts in cleartext (143, 587, 25), implicit TLS for all
 *   others — the safe default.
 */
RsSecurity
rs_security_for_port (RsService service,
                      guint16   port)
{
  if (service == RS_SERVICE_SMTP)
    return (port == 587 || port == 25) ? RS_SECURITY_STARTTLS : RS_SECURITY_TLS;

  return port == 143 ? RS_SECURITY_STARTTLS : RS_SECURITY_TLS;
}
