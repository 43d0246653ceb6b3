/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-smtp-unit"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-certificate.h"
#include "rs-error.h"
#include "rs-net.h"
#include "rs-smtp-client.h"

/* Fingerprints */

static void
test_fingerprint_normalize (void)
{
  static const char *expected =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  static const struct {
    const char *input;
    gboolean    valid;
  } cases[] = {
    { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", TRUE },
    { "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", TRUE },
    { "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF", TRUE },
    { "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef", TRUE },
    { " 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef ", TRUE },
    { "", FALSE },
    { "0123456789abcdef", FALSE },                                                    /* too short: SHA-1 style */
    { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", FALSE },      /* 63 digits */
    { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", FALSE },    /* 65 digits */
    { "0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef", FALSE },     /* not hex */
    { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", FALSE },   /* stray newline */
    { "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *normalized = NULL;
      gboolean valid = rs_fingerprint_normalize (cases[i].input, &normalized);

      g_test_message ("case %u: “%s”", i, cases[i].input);
      g_assert_cmpint (valid, ==, cases[i].valid);
      if (valid)
        g_assert_cmpstr (normalized, ==, expected);
      else
        g_assert_null (normalized);
    }

  g_assert_false (rs_fingerprint_normalize (NULL, NULL));
  g_assert_true (rs_fingerprint_normalize (expected, NULL));
}

/* Problems in words */

static void
test_describe_problems (void)
{
  static const GTlsCertificateFlags single[] = {
    G_TLS_CERTIFICATE_UNKNOWN_CA,
    G_TLS_CERTIFICATE_BAD_IDENTITY,
    G_TLS_CERTIFICATE_EXPIRED,
    G_TLS_CERTIFICATE_NOT_ACTIVATED,
    G_TLS_CERTIFICATE_REVOKED,
    G_TLS_CERTIFICATE_INSECURE,
    G_TLS_CERTIFICATE_GENERIC_ERROR,
  };
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) none = rs_certificate_describe_problems (0);
  g_auto(GStrv) all = NULL;
  g_auto(GStrv) two = NULL;
  g_auto(GStrv) unknown_bit = NULL;

  g_assert_nonnull (none);
  g_assert_null (none[0]);

  /* One distinct sentence per problem. */
  for (guint i = 0; i < G_N_ELEMENTS (single); i++)
    {
      g_auto(GStrv) problems = rs_certificate_describe_problems (single[i]);

      g_assert_cmpuint (g_strv_length (problems), ==, 1);
      g_assert_cmpuint (strlen (problems[0]), >, 10);
      g_assert_false (g_hash_table_contains (seen, problems[0]));
      g_hash_table_add (seen, g_strdup (problems[0]));
    }

  all = rs_certificate_describe_problems (G_TLS_CERTIFICATE_VALIDATE_ALL);
  g_assert_cmpuint (g_strv_length (all), ==, G_N_ELEMENTS (single));

  two = rs_certificate_describe_problems (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_cmpuint (g_strv_length (two), ==, 2);
  g_assert_nonnull (strstr (two[0], "authority"));
  g_assert_nonnull (strstr (two[1], "expired"));

  /* A flag GLib may add later is still mentioned. */
  unknown_bit = rs_certificate_describe_problems (1 << 20);
  g_assert_cmpuint (g_strv_length (unknown_bit), ==, 1);
}

/* Reply parsing */

static RsSmtpReply *
parse_all (const char  *input,
           GError     **error)
{
  gsize consumed = 0;
  RsSmtpReply *reply;

  reply = rs_smtp_reply_parse (input, strlen (input), &consumed, error);
  if (reply != NULL)
    g_assert_cmpuint (consumed, ==, strlen (input));

  return reply;
}

static void
test_reply_single_line (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSmtpReply) reply = parse_all ("220 mail.example.test ESMTP Exim 4.96\r\n", &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->code, ==, 220);
  g_assert_null (reply->enhanced_code);
  g_assert_cmpstr (reply->text, ==, "220 mail.example.test ESMTP Exim 4.96");
  g_assert_cmpuint (g_strv_length (reply->lines), ==, 1);
  g_assert_cmpstr (reply->lines[0], ==, "mail.example.test ESMTP Exim 4.96");
}

static void
test_reply_multi_line (void)
{
  const char *input =
    "250-mail.example.test Hello [127.0.0.1]\r\n"
    "250-SIZE 52428800\r\n"
    "250-8BITMIME\r\n"
    "250-AUTH PLAIN LOGIN\r\n"
    "250 HELP\r\n"
    "221 next reply\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSmtpReply) reply = NULL;
  gsize consumed = 0;

  reply = rs_smtp_reply_parse (input, strlen (input), &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->code, ==, 250);
  /* Only the first reply is taken; the next one stays in the buffer. */
  g_assert_cmpuint (consumed, ==, strlen (input) - strlen ("221 next reply\r\n"));
  g_assert_cmpuint (g_strv_length (reply->lines), ==, 5);
  g_assert_cmpstr (reply->lines[3], ==, "AUTH PLAIN LOGIN");
  g_assert_cmpstr (reply->lines[4], ==, "HELP");
  g_assert_true (g_str_has_prefix (reply->text, "250-mail.example.test Hello [127.0.0.1]\n250-SIZE"));
}

static void
test_reply_enhanced_codes (void)
{
  static const struct {
    const char *input;
    guint       code;
    const char *enhanced;
  } cases[] = {
    { "535 5.7.8 Authentication credentials invalid\r\n", 535, "5.7.8" },
    { "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\r\n", 535, "5.7.139" },
    { "454 4.7.0 Temporary authentication failure\r\n", 454, "4.7.0" },
    { "250 2.1.5 Ok\r\n", 250, "2.1.5" },
    { "535 Incorrect authentication data\r\n", 535, NULL },
    { "535 4.7.8 class disagrees with the code\r\n", 535, NULL },
    { "550 5.7.1234 detail too long\r\n", 550, NULL },
    { "550 5.7.1\r\n", 550, "5.7.1" },
    { "550 5.7.\r\n", 550, NULL },
    { "250\r\n", 250, NULL },
    { "220 ready\n", 220, NULL },   /* a bare LF is tolerated */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RsSmtpReply) reply = parse_all (cases[i].input, &error);

      g_test_message ("case %u: %s", i, cases[i].input);
      g_assert_no_error (error);
      g_assert_nonnull (reply);
      g_assert_cmpuint (reply->code, ==, cases[i].code);
      g_assert_cmpstr (reply->enhanced_code, ==, cases[i].enhanced);
    }
}

static void
test_reply_incomplete (void)
{
  static const char *cases[] = {
    "",
    "25",
    "250-first line\r\n",
    "250-first line\r\n250 last line without end",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RsSmtpReply) reply = NULL;
      gsize consumed = 42;

      reply = rs_smtp_reply_parse (cases[i], strlen (cases[i]), &consumed, &error);
      g_assert_no_error (error);
      g_assert_null (reply);
      g_assert_cmpuint (consumed, ==, 0);
    }
}

static void
test_reply_malformed (void)
{
  static const char *cases[] = {
    "hello\r\n",
    "25\r\n",
    "2500 four digits\r\n",
    "199 one hundreds are not SMTP\r\n",
    "600 nor six hundreds\r\n",
    "250-first\r\n251 different code\r\n",
    "250_wrong separator\r\n",
    "* OK an IMAP greeting\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RsSmtpReply) reply = NULL;
      gsize consumed = 0;

      g_test_message ("case %u: %s", i, cases[i]);
      reply = rs_smtp_reply_parse (cases[i], strlen (cases[i]), &consumed, &error);
      g_assert_null (reply);
      g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
      g_assert_nonnull (rs_error_get_server_text (error));
    }
}

static void
test_reply_embedded_nul (void)
{
  const char input[] = "250 nul\0inside\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSmtpReply) reply = NULL;
  gsize consumed = 0;

  reply = rs_smtp_reply_parse (input, sizeof input - 1, &consumed, &error);
  g_assert_null (reply);
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
}

static void
test_reply_bounds (void)
{
  g_autoptr(GString) long_line = g_string_new ("250 ");
  g_autoptr(GString) many_lines = g_string_new (NULL);
  g_autoptr(GString) fits = g_string_new ("250 ");
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSmtpReply) reply = NULL;
  gsize consumed = 0;

  /* A line that never ends is refused once it passes the bound, before
   * its end arrives. */
  while (long_line->len < RS_SMTP_MAX_LINE_LENGTH)
    g_string_append_c (long_line, 'x');
  reply = rs_smtp_reply_parse (long_line->str, long_line->len, &consumed, &error);
  g_assert_null (reply);
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Just under the bound is fine. */
  while (fits->len < RS_SMTP_MAX_LINE_LENGTH - 2)
    g_string_append_c (fits, 'y');
  g_string_append (fits, "\r\n");
  reply = rs_smtp_reply_parse (fits->str, fits->len, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (consumed, ==, fits->len);
  g_clear_pointer (&reply, rs_smtp_reply_free);

  /* A reply of endless continuation lines is refused too. */
  for (guint i = 0; i < RS_SMTP_MAX_REPLY_LINES + 5; i++)
    g_string_append (many_lines, "250-more\r\n");
  g_string_append (many_lines, "250 end\r\n");
  reply = rs_smtp_reply_parse (many_lines->str, many_lines->len, &consumed, &error);
  g_assert_null (reply);
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
}

static void
test_reply_invalid_utf8 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsSmtpReply) reply = parse_all ("535 5.7.8 caf\xe9 mot de passe\r\n", &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (g_utf8_validate (reply->text, -1, NULL));
  g_assert_cmpstr (reply->enhanced_code, ==, "5.7.8");
}

/* Dot-stuffing */

static void
test_dot_stuff (void)
{
  static const struct {
    const char *input;
    const char *output;
  } cases[] = {
    { "", ".\r\n" },
    { "Subject: hi\r\n\r\nbody\r\n", "Subject: hi\r\n\r\nbody\r\n.\r\n" },
    { "Subject: hi\n\nbody", "Subject: hi\r\n\r\nbody\r\n.\r\n" },
    { "a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n" },
    { ".starts with a dot\r\n", "..starts with a dot\r\n.\r\n" },
    { "x\r\n..two\r\n", "x\r\n...two\r\n.\r\n" },
    { "mid.dle.\r\n", "mid.dle.\r\n.\r\n" },
    { "bare\rcr\r\n", "bare\r\ncr\r\n.\r\n" },
    { "end\r\n.\r\n", "end\r\n..\r\n.\r\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) input = g_bytes_new_static (cases[i].input, strlen (cases[i].input));
      g_autoptr(GBytes) output = rs_smtp_dot_stuff (input);
      gsize length;
      const char *data = g_bytes_get_data (output, &length);
      g_autofree char *text = g_strndup (data, length);

      g_test_message ("case %u", i);
      g_assert_cmpstr (text, ==, cases[i].output);
    }
}

/* Settings and trust */

static void
test_trust_copy (void)
{
  const char *pins[] = { "aa", "bb", NULL };
  g_autoptr(RsTrust) trust = rs_trust_new ("/tmp/ca.pem", pins);
  g_autoptr(RsTrust) copy = rs_trust_copy (trust);
  g_autoptr(RsServerSettings) settings = rs_server_settings_new ("smtp.example.test", 587,
                                                                 RS_SECURITY_STARTTLS, "me@example.test");
  g_autoptr(RsServerSettings) settings_copy = rs_server_settings_copy (settings);

  g_assert_cmpstr (copy->ca_file, ==, "/tmp/ca.pem");
  g_assert_cmpuint (g_strv_length (copy->pinned_fingerprints), ==, 2);
  g_assert_true (copy->pinned_fingerprints != trust->pinned_fingerprints);
  g_assert_cmpstr (settings_copy->host, ==, "smtp.example.test");
  g_assert_cmpuint (settings_copy->port, ==, 587);
  g_assert_cmpint (settings_copy->security, ==, RS_SECURITY_STARTTLS);
  g_assert_cmpstr (settings_copy->username, ==, "me@example.test");
}

static void
test_client_before_connect (void)
{
  g_autoptr(RsServerSettings) settings = rs_server_settings_new ("smtp.example.test", 465,
                                                                 RS_SECURITY_TLS, "me@example.test");
  g_autoptr(RsSmtpClient) client = rs_smtp_client_new (settings, NULL);
  g_auto(GStrv) mechanisms = rs_smtp_client_dup_auth_mechanisms (client);

  g_assert_false (rs_smtp_client_is_connected (client));
  g_assert_false (rs_smtp_client_is_authenticated (client));
  g_assert_cmpuint (rs_smtp_client_get_timeout (client), ==, RS_DEFAULT_TIMEOUT_SECONDS);
  rs_smtp_client_set_timeout (client, 3);
  g_assert_cmpuint (rs_smtp_client_get_timeout (client), ==, 3);
  g_assert_null (rs_smtp_client_get_capabilities (client));
  g_assert_false (rs_smtp_client_has_capability (client, "STARTTLS"));
  g_assert_cmpuint (g_strv_length (mechanisms), ==, 0);
  g_assert_null (rs_smtp_client_get_peer_certificate (client));
  g_assert_cmpint (rs_smtp_client_get_tls_protocol_version (client), ==, G_TLS_PROTOCOL_VERSION_UNKNOWN);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smtp/unit/fingerprint/normalize", test_fingerprint_normalize);
  g_test_add_func ("/smtp/unit/certificate/describe-problems", test_describe_problems);
  g_test_add_func ("/smtp/unit/reply/single-line", test_reply_single_line);
  g_test_add_func ("/smtp/unit/reply/multi-line", test_reply_multi_line);
  g_test_add_func ("/smtp/unit/reply/enhanced-codes", test_reply_enhanced_codes);
  g_test_add_func ("/smtp/unit/reply/incomplete", test_reply_incomplete);
  g_test_add_func ("/smtp/unit/reply/malformed", test_reply_malformed);
  g_test_add_func ("/smtp/unit/reply/embedded-nul", test_reply_embedded_nul);
  g_test_add_func ("/smtp/unit/reply/bounds", test_reply_bounds);
  g_test_add_func ("/smtp/unit/reply/invalid-utf8", test_reply_invalid_utf8);
  g_test_add_func ("/smtp/unit/dot-stuff", test_dot_stuff);
  g_test_add_func ("/smtp/unit/trust-copy", test_trust_copy);
  g_test_add_func ("/smtp/unit/client-before-connect", test_client_before_connect);

  return g_test_run ();
}
