/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-servers"

#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "cli-runner.h"
#include "rs-secret-store.h"
#include "rs-test-server.h"

/* retailsphere-accounts add-imap / check / remove against real Dovecot
 * and Exim, with the real keyring of the rs-session-run session: what an
 * administrator would see, and what ends up saved (or not). */

typedef struct
{
  Run           run;
  RsTestServer *imap;
  RsTestServer *smtp;
  char         *imaps_port;
  char         *imap_port;
  char         *smtps_port;
  char         *submission_port;
  guint         secrets_before;  /* earlier tests share the session's keyring */
} Fixture;

static guint count_secrets (const char *account_id);

static void
start_servers (Fixture    *f,
               RsTestCert  certificate,
               const char *smtp_password)
{
  RsTestDovecotOptions imap_options = { .certificate = certificate, .password = "correct horse" };
  RsTestEximOptions smtp_options = { .certificate = certificate, .password = smtp_password };
  g_autoptr(GError) error = NULL;

  f->secrets_before = count_secrets (NULL);

  f->imap = rs_test_dovecot_start (&imap_options, &error);
  g_assert_no_error (error);

  smtp_options.deliver_to = f->imap;
  f->smtp = rs_test_exim_start (&smtp_options, &error);
  g_assert_no_error (error);

  f->imaps_port = g_strdup_printf ("%u", rs_test_server_get_port (f->imap, "imaps"));
  f->imap_port = g_strdup_printf ("%u", rs_test_server_get_port (f->imap, "imap"));
  f->smtps_port = g_strdup_printf ("%u", rs_test_server_get_port (f->smtp, "smtps"));
  f->submission_port = g_strdup_printf ("%u", rs_test_server_get_port (f->smtp, "submission"));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  run_init (&f->run);
  f->run.session_bus = TRUE;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *file = g_build_filename (f->run.config_dir, "retailsphere-settings", "accounts.ini", NULL);
  g_autofree char *dir = g_path_get_dirname (file);

  g_clear_pointer (&f->smtp, rs_test_server_free);
  g_clear_pointer (&f->imap, rs_test_server_free);
  g_free (f->imaps_port);
  g_free (f->imap_port);
  g_free (f->smtps_port);
  g_free (f->submission_port);
  g_remove (file);
  g_rmdir (dir);
  g_rmdir (f->run.config_dir);
  g_free (f->run.config_dir);
  run_clear (&f->run);
}

static char *
accounts_file_contents (Fixture *f)
{
  g_autofree char *file = g_build_filename (f->run.config_dir, "retailsphere-settings", "accounts.ini", NULL);
  char *contents = NULL;

  if (!g_file_get_contents (file, &contents, NULL, NULL))
    return g_strdup ("");

  return contents;
}

static guint
count_secrets (const char *account_id)
{
  g_autoptr(GHashTable) attributes = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;
  guint n;

  if (account_id != NULL)
    attributes = secret_attributes_build (rs_secret_schema_get (), "account-id", account_id, NULL);
  else
    attributes = secret_attributes_build (rs_secret_schema_get (), "kind", "password", NULL);

  items = secret_password_searchv_sync (rs_secret_schema_get (), attributes,
                                        SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  n = g_list_length (items);
  g_list_free_full (items, g_object_unref);

  return n;
}

static void
assert_password_nowhere (Fixture *f)
{
  g_autofree char *contents = accounts_file_contents (f);

  g_assert_null (strstr (f->run.out, "correct horse"));
  g_assert_null (strstr (f->run.err, "correct horse"));
  g_assert_null (strstr (contents, "correct horse"));
}

static void
assert_nothing_saved (Fixture *f)
{
  g_autofree char *contents = accounts_file_contents (f);

  g_assert_null (strstr (contents, "Address="));
  g_assert_cmpuint (count_secrets (NULL), ==, f->secrets_before);
}

/* add-imap --json on the implicit-TLS ports, trusting the test CA. */
static void
add_imap_tls_json (Fixture    *f,
                   const char *password_line)
{
  run_cli (&f->run, password_line, "add-imap", "--json",
           "--email", rs_test_server_get_user (f->imap),
           "--imap-host", "localhost", "--imap-port", f->imaps_port,
           "--smtp-host", "localhost", "--smtp-port", f->smtps_port,
           "--ca-file", rs_test_server_get_ca_file (f->imap), "--password-stdin", NULL);
}

static void
test_add_check_remove (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(JsonObject) added = NULL;
  g_autoptr(JsonObject) checked = NULL;
  g_autofree char *id = NULL;
  g_autofree char *contents = NULL;

  if (!rs_test_require_session_mail_servers ())
    return;

  start_servers (f, RS_TEST_CERT_VALID, NULL);

  add_imap_tls_json (f, "correct horse\n");
  g_assert_cmpint (f->run.status, ==, 0);
  added = parse_json_object (f->run.out);
  id = g_strdup (json_object_get_string_member (added, "id"));
  g_assert_nonnull (id);
  assert_password_nowhere (f);

  /* Settings in the file, the password only in the keyring. */
  contents = accounts_file_contents (f);
  g_assert_nonnull (strstr (contents, id));
  g_assert_nonnull (strstr (contents, "CaFile="));
  g_assert_cmpuint (count_secrets (id), ==, 1);

  run_cli (&f->run, NULL, "check", id, "--json", NULL);
  g_assert_cmpint (f->run.status, ==, 0);
  checked = parse_json_object (f->run.out);
  g_assert_true (json_object_get_boolean_member (checked, "ok"));

  run_cli (&f->run, NULL, "list", NULL);
  g_assert_nonnull (strstr (f->run.out, rs_test_server_get_user (f->imap)));

  run_cli (&f->run, NULL, "remove", id, NULL);
  g_assert_cmpint (f->run.status, ==, 0);
  g_assert_cmpuint (count_secrets (id), ==, 0);
  run_cli (&f->run, NULL, "list", NULL);
  g_assert_nonnull (strstr (f->run.out, "No accounts"));
}

static void
test_add_starttls (Fixture       *f,
                   gconstpointer  data)
{
  if (!rs_test_require_session_mail_servers ())
    return;

  start_servers (f, RS_TEST_CERT_VALID, NULL);

  run_cli (&f->run, "correct horse\n", "add-imap",
           "--email", rs_test_server_get_user (f->imap),
           "--imap-host", "localhost", "--imap-port", f->imap_port, "--imap-security", "starttls",
           "--smtp-host", "localhost", "--smtp-port", f->submission_port, "--smtp-security", "starttls",
           "--ca-file", rs_test_server_get_ca_file (f->imap), "--password-stdin", NULL);
  g_assert_cmpint (f->run.status, ==, 0);
  g_assert_nonnull (strstr (f->run.err, "Signing in to receive (IMAP)… done"));
  g_assert_nonnull (strstr (f->run.err, "Signing in to send (SMTP)… done"));
  assert_password_nowhere (f);
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(JsonObject) error = NULL;

  if (!rs_test_require_session_mail_servers ())
    return;

  start_servers (f, RS_TEST_CERT_VALID, NULL);

  add_imap_tls_json (f, "wrong horse\n");
  g_assert_cmpint (f->run.status, ==, 1);
  error = parse_error_json (f->run.out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "authentication");
  g_assert_cmpstr (json_object_get_string_member (error, "service"), ==, "imap");
  /* Dovecot's own words, kept. */
  g_assert_nonnull (strstr (json_object_get_string_member (error, "server_text"), "Authentication failed"));
  g_assert_cmpstr (json_object_get_string_member (error, "response_code"), ==, "AUTHENTICATIONFAILED");
  assert_nothing_saved (f);
}

/* IMAP accepts, SMTP refuses: still nothing is saved. */
static void
test_smtp_refuses (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(JsonObject) error = NULL;

  if (!rs_test_require_session_mail_servers ())
    return;

  start_servers (f, RS_TEST_CERT_VALID, "a different password");

  add_imap_tls_json (f, "correct horse\n");
  g_assert_cmpint (f->run.status, ==, 1);
  error = parse_error_json (f->run.out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "authentication");
  g_assert_cmpstr (json_object_get_string_member (error, "service"), ==, "smtp");
  g_assert_nonnull (json_object_get_string_member (error, "server_text"));
  /* Exim does not offer ENHANCEDSTATUSCODES, so the basic code is kept. */
  g_assert_cmpstr (json_object_get_string_member (error, "response_code"), ==, "535");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "server_text"), "Incorrect authentication data"));
  assert_nothing_saved (f);
}

/* A certificate nobody vouches for is refused and shown; the user may pin
 * exactly that one. */
static void
test_certificate_pinning (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(JsonObject) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *contents = NULL;
  JsonObject *certificate;

  if (!rs_test_require_session_mail_servers ())
    return;

  start_servers (f, RS_TEST_CERT_SELF_SIGNED, NULL);

  run_cli (&f->run, "correct horse\n", "add-imap", "--json",
           "--email", rs_test_server_get_user (f->imap),
           "--imap-host", "localhost", "--imap-port", f->imaps_port,
           "--smtp-host", "localhost", "--smtp-port", f->smtps_port,
           "--password-stdin", NULL);
  g_assert_cmpint (f->run.status, ==, 1);
  error = parse_error_json (f->run.out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "certificate");
  g_assert_cmpstr (json_object_get_string_member (error, "service"), ==, "imap");
  fingerprint = g_strdup (json_object_get_string_member (error, "fingerprint"));
  g_assert_cmpuint (strlen (fingerprint), ==, 64);
  certificate = json_object_get_object_member (error, "certificate");
  g_assert_nonnull (json_object_get_string_member (certificate, "subject"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (certificate, "problems")), >, 0);
  assert_nothing_saved (f);

  /* The human output says what to do. */
  run_cli (&f->run, "correct horse\n", "add-imap",
           "--email", rs_test_server_get_user (f->imap),
           "--imap-host", "localhost", "--imap-port", f->imaps_port,
           "--smtp-host", "localhost", "--smtp-port", f->smtps_port,
           "--password-stdin", NULL);
  g_assert_cmpint (f->run.status, ==, 1);
  g_assert_nonnull (strstr (f->run.err, "Receiving (IMAP) failed"));
  g_assert_nonnull (strstr (f->run.err, fingerprint));
  g_assert_nonnull (strstr (f->run.err, "--trust-fingerprint"));

  run_cli (&f->run, "correct horse\n", "add-imap", "--json",
           "--email", rs_test_server_get_user (f->imap),
           "--imap-host", "localhost", "--imap-port", f->imaps_port,
           "--smtp-host", "localhost", "--smtp-port", f->smtps_port,
           "--trust-fingerprint", fingerprint, "--password-stdin", NULL);
  g_assert_cmpint (f->run.status, ==, 0);
  contents = accounts_file_contents (f);
  g_assert_nonnull (strstr (contents, fingerprint));
}

static void
test_unreachable (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(JsonObject) error = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autofree char *closed_port = NULL;
  guint16 port;

  if (!rs_test_require_session_mail_servers ())
    return;

  f->secrets_before = count_secrets (NULL);

  /* A port that was free a moment ago and is closed now. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);
  g_socket_listener_close (listener);
  closed_port = g_strdup_printf ("%u", port);

  run_cli (&f->run, "correct horse\n", "add-imap", "--json",
           "--email", "test@example.test",
           "--imap-host", "127.0.0.1", "--imap-port", closed_port,
           "--smtp-host", "127.0.0.1", "--smtp-port", closed_port,
           "--password-stdin", NULL);
  g_assert_cmpint (f->run.status, ==, 1);
  error = parse_error_json (f->run.out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "network");
  g_assert_cmpstr (json_object_get_string_member (error, "service"), ==, "imap");
  assert_nothing_saved (f);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/cli/servers/add-check-remove", Fixture, NULL, fixture_set_up, test_add_check_remove, fixture_tear_down);
  g_test_add ("/cli/servers/add-starttls", Fixture, NULL, fixture_set_up, test_add_starttls, fixture_tear_down);
  g_test_add ("/cli/servers/wrong-password", Fixture, NULL, fixture_set_up, test_wrong_password, fixture_tear_down);
  g_test_add ("/cli/servers/smtp-refuses", Fixture, NULL, fixture_set_up, test_smtp_refuses, fixture_tear_down);
  g_test_add ("/cli/servers/certificate-pinning", Fixture, NULL, fixture_set_up, test_certificate_pinning, fixture_tear_down);
  g_test_add ("/cli/servers/unreachable", Fixture, NULL, fixture_set_up, test_unreachable, fixture_tear_down);

  return g_test_run ();
}
