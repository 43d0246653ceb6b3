/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-email-form"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-certificate.h"
#include "rs-email-form.h"
#include "rs-error.h"

static const RsEmailFormInput valid_input = {
  .address = "ada@example.com",
  .password = "secret",
  .imap_host = "imap.example.com",
  .imap_port = "993",
  .imap_username = "ada@example.com",
  .smtp_host = "smtp.example.com",
  .smtp_port = "465",
  .smtp_username = "ada@example.com",
};

static void
test_form_valid (void)
{
  g_autoptr(RsEmailFormState) state = rs_email_form_state_new (&valid_input);

  g_assert_true (state->can_continue);
  g_assert_true (state->can_connect);
  g_assert_null (state->address_error);
  g_assert_null (state->password_error);
  g_assert_null (state->imap_host_error);
  g_assert_null (state->imap_port_error);
  g_assert_null (state->imap_username_error);
  g_assert_null (state->smtp_host_error);
  g_assert_null (state->smtp_port_error);
  g_assert_null (state->smtp_username_error);
}

static void
test_form_address (void)
{
  static const char *invalid[] = {
    "", "ada", "ada@", "@example.com", "ada @example.com", "ada@example", "ada@@example.com",
  };

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      RsEmailFormInput input = valid_input;
      g_autoptr(RsEmailFormState) state = NULL;

      input.address = invalid[i];
      state = rs_email_form_state_new (&input);

      g_assert_false (state->can_continue);
      g_assert_false (state->can_connect);
      g_assert_nonnull (state->address_error);
      g_assert_cmpstr (state->address_error, !=, "");
    }
}

static void
test_form_password (void)
{
  RsEmailFormInput input = valid_input;
  g_autoptr(RsEmailFormState) state = NULL;

  input.password = "";
  state = rs_email_form_state_new (&input);

  g_assert_false (state->can_continue);
  g_assert_false (state->can_connect);
  g_assert_cmpstr (state->password_error, ==, "Enter your password");
}

static void
test_form_servers (void)
{
  static const struct {
    gsize       offset;          /* the field in RsEmailFormInput */
    const char *value;
    gsize       error_offset;    /* the error in RsEmailFormState */
    const char *expected;
  } cases[] = {
    { G_STRUCT_OFFSET (RsEmailFormInput, imap_host), "imap.example .com",
      G_STRUCT_OFFSET (RsEmailFormState, imap_host_error), "The IMAP server cannot contain spaces" },
    { G_STRUCT_OFFSET (RsEmailFormInput, imap_host), "",
      G_STRUCT_OFFSET (RsEmailFormState, imap_host_error), "Enter the IMAP server" },
    { G_STRUCT_OFFSET (RsEmailFormInput, smtp_host), "smtp.example.com:465",
      G_STRUCT_OFFSET (RsEmailFormState, smtp_host_error), NULL },
    { G_STRUCT_OFFSET (RsEmailFormInput, imap_port), "0",
      G_STRUCT_OFFSET (RsEmailFormState, imap_port_error), "The IMAP port must be a number from 1 to 65535" },
    { G_STRUCT_OFFSET (RsEmailFormInput, imap_port), "65536",
      G_STRUCT_OFFSET (RsEmailFormState, imap_port_error), "The IMAP port must be a number from 1 to 65535" },
    { G_STRUCT_OFFSET (RsEmailFormInput, smtp_port), "58 7",
      G_STRUCT_OFFSET (RsEmailFormState, smtp_port_error), "The SMTP port must be a number from 1 to 65535" },
    { G_STRUCT_OFFSET (RsEmailFormInput, smtp_port), "",
      G_STRUCT_OFFSET (RsEmailFormState, smtp_port_error), "The SMTP port must be a number from 1 to 65535" },
    { G_STRUCT_OFFSET (RsEmailFormInput, imap_username), "ada lovelace",
      G_STRUCT_OFFSET (RsEmailFormState, imap_username_error), "The IMAP username cannot contain spaces" },
    { G_STRUCT_OFFSET (RsEmailFormInput, smtp_username), "",
      G_STRUCT_OFFSET (RsEmailFormState, smtp_username_error), "Enter the SMTP username" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      RsEmailFormInput input = valid_input;
      g_autoptr(RsEmailFormState) state = NULL;
      const char *error;

      G_STRUCT_MEMBER (const char *, &input, cases[i].offset) = cases[i].value;
      state = rs_email_form_state_new (&input);
      error = G_STRUCT_MEMBER (char *, state, cases[i].error_offset);

      g_test_message ("case %u: “%s”", i, cases[i].value);

      /* The first page does not depend on the servers. */
      g_assert_true (state->can_continue);
      g_assert_false (state->can_connect);
      g_assert_nonnull (error);
      if (cases[i].expected != NULL)
        g_assert_cmpstr (error, ==, cases[i].expected);
    }
}

static void
test_security_for_port (void)
{
  static const struct {
    RsService   service;
    const char *port;
    gboolean    changes;
    RsSecurity  security;
  } cases[] = {
    { RS_SERVICE_IMAP, "993", TRUE, RS_SECURITY_TLS },
    { RS_SERVICE_IMAP, "143", TRUE, RS_SECURITY_STARTTLS },
    { RS_SERVICE_SMTP, "465", TRUE, RS_SECURITY_TLS },
    { RS_SERVICE_SMTP, "587", TRUE, RS_SECURITY_STARTTLS },
    { RS_SERVICE_SMTP, "25", TRUE, RS_SECURITY_STARTTLS },
    /* A port of the other service, or one the user chose, decides nothing. */
    { RS_SERVICE_IMAP, "587", FALSE, 0 },
    { RS_SERVICE_SMTP, "993", FALSE, 0 },
    { RS_SERVICE_IMAP, "10143", FALSE, 0 },
    { RS_SERVICE_SMTP, "2525", FALSE, 0 },
    /* While typing "143", nothing happens before the last digit. */
    { RS_SERVICE_IMAP, "1", FALSE, 0 },
    { RS_SERVICE_IMAP, "14", FALSE, 0 },
    { RS_SERVICE_IMAP, "", FALSE, 0 },
    { RS_SERVICE_IMAP, "abc", FALSE, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      RsSecurity security = 42;
      gboolean changes;

      changes = rs_email_security_for_typed_port (cases[i].service, cases[i].port, &security);

      g_test_message ("case %u: port “%s”", i, cases[i].port);
      g_assert_cmpint (changes, ==, cases[i].changes);
      if (changes)
        g_assert_cmpint (security, ==, cases[i].security);
      else
        g_assert_cmpint (security, ==, 42);
    }
}

static void
test_port_for_security (void)
{
  static const struct {
    RsService   service;
    const char *port;
    RsSecurity  security;
    gboolean    changes;
    guint16     new_port;
  } cases[] = {
    { RS_SERVICE_IMAP, "993", RS_SECURITY_STARTTLS, TRUE, 143 },
    { RS_SERVICE_IMAP, "143", RS_SECURITY_TLS, TRUE, 993 },
    { RS_SERVICE_SMTP, "465", RS_SECURITY_STARTTLS, TRUE, 587 },
    { RS_SERVICE_SMTP, "587", RS_SECURITY_TLS, TRUE, 465 },
    { RS_SERVICE_SMTP, "25", RS_SECURITY_TLS, TRUE, 465 },
    { RS_SERVICE_IMAP, "", RS_SECURITY_TLS, TRUE, 993 },
    /* Already consistent. */
    { RS_SERVICE_IMAP, "993", RS_SECURITY_TLS, FALSE, 0 },
    { RS_SERVICE_SMTP, "587", RS_SECURITY_STARTTLS, FALSE, 0 },
    /* The user's own port is kept. */
    { RS_SERVICE_IMAP, "10993", RS_SECURITY_STARTTLS, FALSE, 0 },
    { RS_SERVICE_SMTP, "2525", RS_SECURITY_TLS, FALSE, 0 },
    { RS_SERVICE_SMTP, "nonsense", RS_SECURITY_TLS, FALSE, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint16 port = 0;
      gboolean changes;

      changes = rs_email_port_for_security (cases[i].service, cases[i].port,
                                            cases[i].security, &port);

      g_test_message ("case %u: port “%s”", i, cases[i].port);
      g_assert_cmpint (changes, ==, cases[i].changes);
      g_assert_cmpuint (port, ==, cases[i].new_port);
    }
}

static GError *
new_service_error (RsErrorCode  code,
                   RsService    service,
                   const char  *message)
{
  GError *error = g_error_new_literal (RS_ERROR, code, message);

  rs_error_set_service (error, service);

  return error;
}

static void
test_problem_texts (void)
{
  static const struct {
    RsErrorCode  code;
    RsService    service;
    const char  *heading;
    const char  *hint_contains;
  } cases[] = {
    { RS_ERROR_AUTHENTICATION, RS_SERVICE_IMAP, "Receiving (IMAP) failed", "app password" },
    { RS_ERROR_AUTHENTICATION, RS_SERVICE_SMTP, "Sending (SMTP) failed", "app password" },
    { RS_ERROR_TLS_UNAVAILABLE, RS_SERVICE_IMAP, "Receiving (IMAP) failed", "Choose TLS" },
    { RS_ERROR_NETWORK, RS_SERVICE_SMTP, "Sending (SMTP) failed", "server name and port" },
    { RS_ERROR_TIMEOUT, RS_SERVICE_IMAP, "Receiving (IMAP) failed", "did not answer in time" },
    { RS_ERROR_PROTOCOL, RS_SERVICE_SMTP, "Sending (SMTP) failed", "something unexpected" },
    { RS_ERROR_KEYRING, RS_SERVICE_NONE, "The keyring is not available", "keyring" },
    { RS_ERROR_STORAGE, RS_SERVICE_NONE, "The account could not be saved", "home folder" },
    { RS_ERROR_INPUT, RS_SERVICE_NONE, "This account cannot be added", "Edit the settings" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = new_service_error (cases[i].code, cases[i].service, "What happened.");
      g_autoptr(RsEmailProblem) problem = rs_email_problem_new (error);

      g_test_message ("case %u", i);
      g_assert_cmpstr (problem->heading, ==, cases[i].heading);
      g_assert_cmpstr (problem->message, ==, "What happened.");
      g_assert_nonnull (problem->hint);
      g_assert_nonnull (strstr (problem->hint, cases[i].hint_contains));
      g_assert_null (problem->server_words);
      g_assert_false (problem->show_certificate);
    }
}

static void
test_problem_server_words (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsEmailProblem) problem = NULL;
  g_autoptr(RsEmailProblem) code_only = NULL;

  error = new_service_error (RS_ERROR_AUTHENTICATION, RS_SERVICE_IMAP,
                             "The server refused the password.");
  rs_error_set_server_text (error, "Authentication failed.");
  rs_error_set_response_code (error, "AUTHENTICATIONFAILED");
  problem = rs_email_problem_new (error);

  g_assert_cmpstr (problem->server_words, ==,
                   "Authentication failed.\n\nResponse code: AUTHENTICATIONFAILED");

  rs_error_set_server_text (error, NULL);
  code_only = rs_email_problem_new (error);
  g_assert_cmpstr (code_only->server_words, ==, "Response code: AUTHENTICATIONFAILED");
}

static void
test_problem_foreign_error (void)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "Oops.");
  g_autoptr(RsEmailProblem) problem = rs_email_problem_new (error);

  g_assert_cmpstr (problem->heading, ==, "The account could not be connected");
  g_assert_cmpstr (problem->message, ==, "Oops.");
  g_assert_null (problem->hint);
  g_assert_false (problem->show_certificate);
}

static RsCertificateInfo *
new_certificate_info (void)
{
  RsCertificateInfo *info = g_new0 (RsCertificateInfo, 1);

  info->fingerprint = g_strdup ("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  info->subject = g_strdup ("CN=mail.example.com");
  info->issuer = g_strdup ("CN=Example Corporate CA,O=Example");
  info->not_before = g_date_time_new_utc (2024, 1, 2, 3, 4, 0);
  info->not_after = g_date_time_new_utc (2025, 12, 31, 23, 59, 0);
  info->errors = G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_EXPIRED;

  return info;
}

static void
test_problem_certificate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) bare = NULL;
  g_autoptr(RsEmailProblem) problem = NULL;
  g_autoptr(RsEmailProblem) bare_problem = NULL;

  error = new_service_error (RS_ERROR_CERTIFICATE, RS_SERVICE_SMTP, "Not trusted.");
  rs_error_set_certificate (error, new_certificate_info ());
  problem = rs_email_problem_new (error);

  g_assert_true (problem->show_certificate);
  g_assert_cmpstr (problem->heading, ==, "Sending (SMTP) failed");

  /* Without a certificate to show, the Problem page explains. */
  bare = new_service_error (RS_ERROR_CERTIFICATE, RS_SERVICE_SMTP, "Not trusted.");
  bare_problem = rs_email_problem_new (bare);
  g_assert_false (bare_problem->show_certificate);
  g_assert_nonnull (bare_problem->hint);
}

static void
test_certificate_text (void)
{
  g_autoptr(RsCertificateInfo) info = new_certificate_info ();
  g_autoptr(RsCertificateText) text = rs_certificate_text_new (info, RS_SERVICE_IMAP, "mail.example.com");

  g_assert_nonnull (strstr (text->intro, "receiving (IMAP) server mail.example.com"));
  g_assert_nonnull (strstr (text->intro, "password was not sent"));
  g_assert_cmpuint (g_strv_length (text->problems), ==, 2);
  g_assert_cmpstr (text->problems[0], ==,
                   "The certificate is not signed by an authority this computer trusts");
  g_assert_cmpstr (text->problems[1], ==, "The certificate has expired");
  g_assert_cmpstr (text->subject, ==, "CN=mail.example.com");
  g_assert_cmpstr (text->issuer, ==, "CN=Example Corporate CA,O=Example");
  g_assert_cmpstr (text->valid_from, ==, "2 January 2024, 03:04 UTC");
  g_assert_cmpstr (text->valid_until, ==, "31 December 2025, 23:59 UTC");
  g_assert_cmpstr (text->fingerprint, ==,
                   "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF "
                   "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF");
}

static void
test_trust_pin (void)
{
  g_autoptr(RsTrust) trust = NULL;
  const char *fingerprint = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  g_autofree char *formatted = rs_format_fingerprint (fingerprint);

  rs_trust_add_pinned (&trust, fingerprint);
  g_assert_nonnull (trust);
  g_assert_null (trust->ca_file);
  g_assert_cmpuint (g_strv_length (trust->pinned_fingerprints), ==, 1);
  g_assert_cmpstr (trust->pinned_fingerprints[0], ==, fingerprint);

  /* The same certificate, as shown on the page, is pinned once. */
  rs_trust_add_pinned (&trust, formatted);
  g_assert_cmpuint (g_strv_length (trust->pinned_fingerprints), ==, 1);

  rs_trust_add_pinned (&trust, "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  g_assert_cmpuint (g_strv_length (trust->pinned_fingerprints), ==, 2);

  /* A CA file comes and goes without touching the pins. */
  rs_trust_set_ca_file (&trust, "/etc/ssl/corporate.pem");
  g_assert_cmpstr (trust->ca_file, ==, "/etc/ssl/corporate.pem");
  rs_trust_set_ca_file (&trust, NULL);
  g_assert_nonnull (trust);
  g_assert_null (trust->ca_file);
  g_assert_cmpuint (g_strv_length (trust->pinned_fingerprints), ==, 2);
}

static void
test_trust_ca_file (void)
{
  g_autoptr(RsTrust) trust = NULL;

  rs_trust_set_ca_file (&trust, NULL);
  g_assert_null (trust);

  rs_trust_set_ca_file (&trust, "/etc/ssl/corporate.pem");
  g_assert_nonnull (trust);
  g_assert_cmpstr (trust->ca_file, ==, "/etc/ssl/corporate.pem");
  g_assert_null (trust->pinned_fingerprints);

  /* Clearing the only choice leaves the system's trust alone. */
  rs_trust_set_ca_file (&trust, "");
  g_assert_null (trust);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/email-form/valid", test_form_valid);
  g_test_add_func ("/email-form/address", test_form_address);
  g_test_add_func ("/email-form/password", test_form_password);
  g_test_add_func ("/email-form/servers", test_form_servers);
  g_test_add_func ("/email-form/security-for-port", test_security_for_port);
  g_test_add_func ("/email-form/port-for-security", test_port_for_security);
  g_test_add_func ("/email-form/problem/texts", test_problem_texts);
  g_test_add_func ("/email-form/problem/server-words", test_problem_server_words);
  g_test_add_func ("/email-form/problem/foreign-error", test_problem_foreign_error);
  g_test_add_func ("/email-form/problem/certificate", test_problem_certificate);
  g_test_add_func ("/email-form/certificate-text", test_certificate_text);
  g_test_add_func ("/email-form/trust/pin", test_trust_pin);
  g_test_add_func ("/email-form/trust/ca-file", test_trust_ca_file);

  return g_test_run ();
}
