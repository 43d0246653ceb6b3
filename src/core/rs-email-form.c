/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-email-form"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-email-form.h"
#include "rs-validate.h"

static char *
validation_message (gboolean  valid,
                    GError   *error)
{
  g_autoptr(GError) owned = error;

  if (valid)
    return NULL;

  return g_strdup (owned->message);
}

static char *
check_hostname (const char *field,
                const char *text)
{
  GError *error = NULL;
  gboolean valid = rs_validate_hostname (field, text, &error);

  return validation_message (valid, error);
}

static char *
check_username (const char *field,
                const char *text)
{
  GError *error = NULL;
  gboolean valid = rs_validate_username (field, text, &error);

  return validation_message (valid, error);
}

static char *
check_port (const char *field,
            const char *text)
{
  GError *error = NULL;
  guint16 port;
  gboolean valid = rs_parse_port (field, text, &port, &error);

  return validation_message (valid, error);
}

/**
 * rs_email_form_state_new:
 * @input: the values the dialog holds
 *
 * Checks every field with the same validators the account setup uses, so
 * that nothing the setup would refuse is ever sent.
 *
 * Returns: (transfer full): which fields are wrong and what may be pressed
 */
RsEmailFormState *
rs_email_form_state_new (const RsEmailFormInput *input)
{
  RsEmailFormState *state;
  GError *error = NULL;
  gboolean valid;

  g_return_val_if_fail (input != NULL, NULL);

  state = g_new0 (RsEmailFormState, 1);

  valid = rs_validate_address (input->address, &error);
  state->address_error = validation_message (valid, error);

  if (input->password == NULL || *input->password == '\0')
    state->password_error = g_strdup (_("Enter your password"));

  state->imap_host_error = check_hostname (_("IMAP server"), input->imap_host);
  state->imap_port_error = check_port (_("IMAP port"), input->imap_port);
  state->imap_username_error = check_username (_("IMAP username"), input->imap_username);
  state->smtp_host_error = check_hostname (_("SMTP server"), input->smtp_host);
  state->smtp_port_error = check_port (_("SMTP port"), input->smtp_port);
  state->smtp_username_error = check_username (_("SMTP username"), input->smtp_username);

  state->can_continue = state->address_error == NULL && state->password_error == NULL;
  state->can_connect = state->can_continue &&
                       state->imap_host_error == NULL &&
                       state->imap_port_error == NULL &&
                       state->imap_username_error == NULL &&
                       state->smtp_host_error == NULL &&
                       state->smtp_port_error == NULL &&
                       state->smtp_username_error == NULL;

  return state;
}

void
rs_email_form_state_free (RsEmailFormState *state)
{
  if (state == NULL)
    return;

  g_free (state->address_error);
  g_free (state->password_error);
  g_free (state->imap_host_error);
  g_free (state->imap_port_error);
  g_free (state->imap_username_error);
  g_free (state->smtp_host_error);
  g_free (state->smtp_port_error);
  g_free (state->smtp_username_error);
  g_free (state);
}

static gboolean
is_known_port (RsService service,
               guint16   port)
{
  return port == rs_default_port (service, RS_SECURITY_TLS) ||
         port == rs_default_port (service, RS_SECURITY_STARTTLS) ||
         (service == RS_SERVICE_SMTP && port == 25);
}

/**
 * rs_email_security_for_typed_port:
 * @security: (out): the security the port implies
 *
 * The well-known ports decide the security: 993 and 465 mean TLS, 143 and
 * 587 (and 25) mean STARTTLS.  Any other port leaves the choice to the
 * user.
 *
 * Returns: %TRUE when the security should follow the typed port
 */
gboolean
rs_email_security_for_typed_port (RsService   service,
                                  const char *port_text,
                                  RsSecurity *security)
{
  guint16 port;

  g_return_val_if_fail (security != NULL, FALSE);

  if (!rs_parse_port ("", port_text, &port, NULL) || !is_known_port (service, port))
    return FALSE;

  *security = rs_security_for_port (service, port);

  return TRUE;
}

/**
 * rs_email_port_for_security:
 * @port: (out): the default port for @security
 *
 * A port the user chose themselves is kept; an empty one, or one of the
 * well-known ports, follows the security.
 *
 * Returns: %TRUE when the port should change to @port
 */
gboolean
rs_email_port_for_security (RsService   service,
                            const char *port_text,
                            RsSecurity  security,
                            guint16    *port)
{
  guint16 current = 0;
  guint16 wanted;

  g_return_val_if_fail (port != NULL, FALSE);

  wanted = rs_default_port (service, security);

  if (port_text != NULL && *port_text != '\0')
    {
      if (!rs_parse_port ("", port_text, &current, NULL) || !is_known_port (service, current))
        return FALSE;
    }

  if (current == wanted)
    return FALSE;

  *port = wanted;

  return TRUE;
}

static const char *
service_heading (RsService service)
{
  switch (service)
    {
    case RS_SERVICE_IMAP:
      return _("Receiving (IMAP) failed");

    case RS_SERVICE_SMTP:
      return _("Sending (SMTP) failed");

    case RS_SERVICE_NONE:
    default:
      return NULL;
    }
}

static const char *
error_hint (const GError *error)
{
  if (error->domain != RS_ERROR)
    return NULL;

  switch ((RsErrorCode)error->code)
    {
    case RS_ERROR_AUTHENTICATION:
      return _("Check the password. Many providers need an app password when "
               "two-step verification is on: create one in your provider’s "
               "security settings and use it here.");

    case RS_ERROR_TLS_UNAVAILABLE:
      return _("The server does not offer encryption on this port, and Retailsphere "
               "never signs in without it. Choose TLS, or another port.");

    case RS_ERROR_NETWORK:
      return _("Check the server name and port, and your internet connection.");

    case RS_ERROR_TIMEOUT:
      return _("The server did not answer in time. Check the server name and port, "
               "and your internet connection.");

    case RS_ERROR_PROTOCOL:
      return _("The server answered something unexpected. Check that the server name "
               "and port are the ones for this service.");

    case RS_ERROR_CERTIFICATE:
      return _("The server’s identity could not be confirmed, so nothing was sent to it.");

    case RS_ERROR_KEYRING:
      return _("Retailsphere keeps your password in the system keyring. Unlock it, "
               "or install one such as GNOME Keyring, then try again.");

    case RS_ERROR_STORAGE:
      return _("Check that there is free space and that your home folder can be written to.");

    case RS_ERROR_INPUT:
      return _("Edit the settings and try again.");

    default:
      return NULL;
    }
}

static char *
server_words (const GError *error)
{
  const char *text = rs_error_get_server_text (error);
  const char *code = rs_error_get_response_code (error);

  if (text != NULL && *text != '\0' && code != NULL && *code != '\0')
    /* Translators: the first %s is what a mail server said, word for
     * word; the second its response code, such as AUTHENTICATIONFAILED
     * or 535 */
    return g_strdup_printf (_("%s\n\nResponse code: %s"), text, code);

  if (text != NULL && *text != '\0')
    return g_strdup (text);

  if (code != NULL && *code != '\0')
    return g_strdup_printf (_("Response code: %s"), code);

  return NULL;
}

/**
 * rs_email_problem_new:
 * @error: why the connection test failed
 *
 * Returns: (transfer full): what the Problem page says
 */
RsEmailProblem *
rs_email_problem_new (const GError *error)
{
  RsEmailProblem *problem;
  const char *heading = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  problem = g_new0 (RsEmailProblem, 1);

  if (error->domain == RS_ERROR)
    {
      switch ((RsErrorCode)error->code)
        {
        case RS_ERROR_KEYRING:
          heading = _("The keyring is not available");
          break;

        case RS_ERROR_STORAGE:
          heading = _("The account could not be saved");
          break;

        case RS_ERROR_INPUT:
          heading = _("This account cannot be added");
          break;

        case RS_ERROR_AUTHENTICATION:
        case RS_ERROR_CERTIFICATE:
        case RS_ERROR_NETWORK:
        case RS_ERROR_TIMEOUT:
        case RS_ERROR_TLS_UNAVAILABLE:
        case RS_ERROR_PROTOCOL:
        default:
          heading = service_heading (rs_error_get_service (error));
          break;
        }

      problem->show_certificate = error->code == RS_ERROR_CERTIFICATE &&
                                  rs_error_get_certificate (error) != NULL;
    }

  if (heading == NULL)
    heading = _("The account could not be connected");

  problem->heading = g_strdup (heading);
  problem->message = g_strdup (error->message);
  problem->hint = g_strdup (error_hint (error));
  problem->server_words = server_words (error);

  return problem;
}

void
rs_email_problem_free (RsEmailProblem *problem)
{
  if (problem == NULL)
    return;

  g_free (problem->heading);
  g_free (problem->message);
  g_free (problem->hint);
  g_free (problem->server_words);
  g_free (problem);
}

/**
 * rs_format_fingerprint:
 * @fingerprint: hex digits, as rs_certificate_fingerprint() gives them
 *
 * Returns: (transfer full): the digits in upper case, in pairs separated
 *   by spaces, so that they can be read aloud and wrap on a narrow screen
 */
char *
rs_format_fingerprint (const char *fingerprint)
{
  GString *out;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  out = g_string_new (NULL);

  for (gsize i = 0; fingerprint[i] != '\0'; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, g_ascii_toupper (fingerprint[i]));
    }

  return g_string_free (out, FALSE);
}

static char *
format_date (GDateTime *date_time)
{
  g_autoptr(GDateTime) utc = NULL;

  if (date_time == NULL)
    return g_strdup (_("Unknown"));

  utc = g_date_time_to_utc (date_time);

  /* Translators: a certificate's validity date, see g_date_time_format();
   * certificates count time in UTC */
  return g_date_time_format (utc, _("%-d %B %Y, %H:%M UTC"));
}

/**
 * rs_certificate_text_new:
 * @host: the server's name, as the user typed it
 *
 * Returns: (transfer full): what the Certificate page says
 */
RsCertificateText *
rs_certificate_text_new (const RsCertificateInfo *info,
                         RsService                service,
                         const char              *host)
{
  RsCertificateText *text;

  g_return_val_if_fail (info != NULL, NULL);
  g_return_val_if_fail (host != NULL, NULL);

  text = g_new0 (RsCertificateText, 1);

  if (service == RS_SERVICE_SMTP)
    /* Translators: %s is a server name such as smtp.example.com */
    text->intro = g_strdup_printf (_("The sending (SMTP) server %s presented a certificate "
                                     "this computer does not trust, so your password was "
                                     "not sent."), host);
  else
    /* Translators: %s is a server name such as imap.example.com */
    text->intro = g_strdup_printf (_("The receiving (IMAP) server %s presented a certificate "
                                     "this computer does not trust, so your password was "
                                     "not sent."), host);

  text->problems = rs_certificate_describe_problems (info->errors);
  text->subject = g_strdup (info->subject != NULL ? info->subject : _("Unknown"));
  text->issuer = g_strdup (info->issuer != NULL ? info->issuer : _("Unknown"));
  text->valid_from = format_date (info->not_before);
  text->valid_until = format_date (info->not_after);
  text->fingerprint = rs_format_fingerprint (info->fingerprint != NULL ? info->fingerprint : "");

  return text;
}

void
rs_certificate_text_free (RsCertificateText *text)
{
  if (text == NULL)
    return;

  g_free (text->intro);
  g_strfreev (text->problems);
  g_free (text->subject);
  g_free (text->issuer);
  g_free (text->valid_from);
  g_free (text->valid_until);
  g_free (text->fingerprint);
  g_free (text);
}

/**
 * rs_trust_add_pinned:
 * @trust: (inout) (nullable): the trust so far; created when %NULL
 * @fingerprint: a SHA-256 fingerprint in any of the forms users paste
 *
 * Adds @fingerprint once, normalized, to the pinned fingerprints.
 */
void
rs_trust_add_pinned (RsTrust    **trust,
                     const char  *fingerprint)
{
  g_autofree char *normalized = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;

  g_return_if_fail (trust != NULL);

  if (!rs_fingerprint_normalize (fingerprint, &normalized))
    {
      g_critical ("“%s” is not a SHA-256 fingerprint", fingerprint);
      return;
    }

  if (*trust == NULL)
    *trust = rs_trust_new (NULL, NULL);

  if ((*trust)->pinned_fingerprints != NULL &&
      g_strv_contains ((const char * const *)(*trust)->pinned_fingerprints, normalized))
    return;

  builder = g_strv_builder_new ();
  if ((*trust)->pinned_fingerprints != NULL)
    g_strv_builder_addv (builder, (const char **)(*trust)->pinned_fingerprints);
  g_strv_builder_add (builder, normalized);

  g_strfreev ((*trust)->pinned_fingerprints);
  (*trust)->pinned_fingerprints = g_strv_builder_end (builder);
}

/**
 * rs_trust_set_ca_file:
 * @trust: (inout) (nullable): the trust so far; created when %NULL, and
 *   freed when nothing is left in it
 * @ca_file: (nullable): a PEM file of certificate authorities
 */
void
rs_trust_set_ca_file (RsTrust    **trust,
                      const char  *ca_file)
{
  g_return_if_fail (trust != NULL);

  if (ca_file != NULL && *ca_file == '\0')
    ca_file = NULL;

  if (*trust == NULL)
    {
      if (ca_file == NULL)
        return;

      *trust = rs_trust_new (NULL, NULL);
    }

  g_free ((*trust)->ca_file);
  (*trust)->ca_file = g_strdup (ca_file);

  if ((*trust)->ca_file == NULL &&
      ((*trust)->pinned_fingerprints == NULL || (*trust)->pinned_fingerprints[0] == NULL))
    g_clear_pointer (trust, rs_trust_free);
}
