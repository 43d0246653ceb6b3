/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-smtp-client"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "rs-certificate.h"
#include "rs-error.h"
#include "rs-net.h"
#include "rs-smtp-client.h"
#include "rs-test-server.h"
#include "rs-test-utils.h"

/*
 * RsSmtpClient against a real Exim on loopback, started by the harness.
 *
 * A few cases need a peer no real server configuration gives cheaply: a
 * server that pipelines bytes after its STARTTLS answer (the "response
 * injection" attack class, USENIX Security 2021), one that accepts and
 * never speaks, and one that never offers STARTTLS while recording every
 * byte we send.  Those are small scripted listeners in this file
 * ("HostilePeer"); they follow RFC 5321 / RFC 3207 as far as they speak
 * at all, and each is a hostile or broken server on purpose.  The same
 * scripted peer, over TLS, plays the answers of providers we cannot run
 * here: Microsoft 365's "535 5.7.139" when SMTP AUTH is turned off for the
 * tenant, a temporary "454 4.7.0", and a server that offers only AUTH
 * LOGIN (RFC 4954 replies, texts as those providers document them).
 */

static RsTestCa *test_ca;
static char *test_ca_folder;

/* Helpers */

static void
log_error (gboolean      ok,
           GError      **error)
{
  if (!ok && error != NULL && *error != NULL)
    g_test_message ("failed: %s [%s %d] server: %s, code: %s",
                    (*error)->message, g_quark_to_string ((*error)->domain), (*error)->code,
                    rs_error_get_server_text (*error), rs_error_get_response_code (*error));
}

static gboolean
run_connect (RsSmtpClient  *client,
             GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gboolean ok;

  rs_smtp_client_connect_async (client, NULL, rs_test_result_cb, &result);
  ok = rs_smtp_client_connect_finish (client, rs_test_wait_result (&result), error);
  log_error (ok, error);

  return ok;
}

static gboolean
run_authenticate (RsSmtpClient  *client,
                  const char    *password,
                  GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gboolean ok;

  rs_smtp_client_authenticate_async (client, password, NULL, rs_test_result_cb, &result);
  ok = rs_smtp_client_authenticate_finish (client, rs_test_wait_result (&result), error);
  log_error (ok, error);

  return ok;
}

static gboolean
run_send (RsSmtpClient        *client,
          const char          *from,
          const char * const  *to,
          const char          *message,
          GError             **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (message, strlen (message));
  g_autoptr(GAsyncResult) result = NULL;
  gboolean ok;

  rs_smtp_client_send_async (client, from, to, bytes, NULL, rs_test_result_cb, &result);
  ok = rs_smtp_client_send_finish (client, rs_test_wait_result (&result), error);
  log_error (ok, error);

  return ok;
}

static gboolean
run_quit (RsSmtpClient  *client,
          GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gboolean ok;

  rs_smtp_client_quit_async (client, NULL, rs_test_result_cb, &result);
  ok = rs_smtp_client_quit_finish (client, rs_test_wait_result (&result), error);
  log_error (ok, error);

  return ok;
}

static gboolean
exim_usable (void)
{
  g_autofree char *reason = NULL;

  if (!rs_test_exim_available (&reason))
    {
      g_test_skip (reason);
      return FALSE;
    }

  return TRUE;
}

static RsTestServer *
start_exim (RsTestCert certificate,
            gboolean   no_starttls)
{
  RsTestEximOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  RsTestServer *server;

  options.certificate = certificate;
  options.no_starttls = no_starttls;
  options.ca = test_ca;

  server = rs_test_exim_start (&options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (server);

  return server;
}

static RsSmtpClient *
new_client (RsTestServer *server,
            const char   *port_name,
            RsSecurity    security,
            const RsTrust *trust)
{
  g_autoptr(RsServerSettings) settings = NULL;

  settings = rs_server_settings_new (rs_test_server_get_host (server),
                                     rs_test_server_get_port (server, port_name),
                                     security,
                                     rs_test_server_get_user (server));

  return rs_smtp_client_new (settings, trust);
}

static RsTrust *
trust_test_ca (void)
{
  return rs_trust_new (rs_test_ca_get_ca_file (test_ca), NULL);
}

static char *
fingerprint_of_file (const char *cert_file)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;

  certificate = g_tls_certificate_new_from_file (cert_file, &error);
  g_assert_no_error (error);

  return rs_certificate_fingerprint (certificate);
}

/* What a user would see: the kind, the service, the words. */
static void
assert_smtp_error (const GError *error,
                   RsErrorCode   code)
{
  g_assert_nonnull (error);
  g_test_message ("error: %s [%s] server: %s code: %s",
                  error->message,
                  rs_error_code_to_string (error->code),
                  rs_error_get_server_text (error),
                  rs_error_get_response_code (error));
  g_assert_error (error, RS_ERROR, (int)code);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_SMTP);
  g_assert_cmpuint (strlen (error->message), >, 0);
}

/* Hostile peers */

typedef struct
{
  GSocket    *listener;
  guint16     port;
  gboolean    tls;        /* implicit TLS with the test CA's valid certificate */
  const char *const *script;
  GThread    *thread;
  GString    *received;
} HostilePeer;

static gboolean
peer_read_line (GInputStream *input,
                GString      *received)
{
  for (;;)
    {
      char c;
      gssize n = g_input_stream_read (input, &c, 1, NULL, NULL);

      if (n <= 0)
        return FALSE;
      g_string_append_c (received, c);
      if (c == '\n')
        return TRUE;
    }
}

static gpointer
hostile_peer_thread (gpointer user_data)
{
  HostilePeer *peer = user_data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GIOStream) tls = NULL;
  GInputStream *input;
  GOutputStream *output;
  char buffer[1024];
  gssize n;

  socket = g_socket_accept (peer->listener, NULL, NULL);
  if (socket == NULL)
    return NULL;
  g_socket_set_timeout (socket, 10);
  connection = g_socket_connection_factory_create_connection (socket);

  if (peer->tls)
    {
      g_autoptr(GTlsCertificate) certificate = NULL;
      g_autoptr(GError) error = NULL;

      certificate = g_tls_certificate_new_from_files (rs_test_ca_get_cert_file (test_ca, RS_TEST_CERT_VALID),
                                                      rs_test_ca_get_key_file (test_ca, RS_TEST_CERT_VALID),
                                                      &error);
      if (certificate != NULL)
        tls = g_tls_server_connection_new (G_IO_STREAM (connection), certificate, &error);
      if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error))
        {
          g_string_append_printf (peer->received, "(TLS failed: %s)", error->message);
          return NULL;
        }
    }

  input = g_io_stream_get_input_stream (tls ? tls : G_IO_STREAM (connection));
  output = g_io_stream_get_output_stream (tls ? tls : G_IO_STREAM (connection));

  for (guint i = 0; peer->script[i] != NULL; i++)
    {
      const char *step = peer->script[i];

      if (step[0] == '<')
        {
          if (!peer_read_line (input, peer->received))
            return NULL;
        }
      else if (step[0] == '>')
        {
          /* Each step goes out in one write. */
          if (!g_output_stream_write_all (output, step + 1, strlen (step + 1), NULL, NULL, NULL))
            return NULL;
        }
    }

  /* Record whatever else the client sends, until it hangs up. */
  while ((n = g_input_stream_read (input, buffer, sizeof buffer, NULL, NULL)) > 0)
    g_string_append_len (peer->received, buffer, n);

  return NULL;
}

static GSocket *
new_loopback_listener (guint16 *port)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);

  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return g_steal_pointer (&socket);
}

static HostilePeer *
hostile_peer_start_full (const char * const *script,
                         gboolean            tls)
{
  HostilePeer *peer = g_new0 (HostilePeer, 1);

  peer->tls = tls;
  peer->listener = new_loopback_listener (&peer->port);
  peer->script = script;
  peer->received = g_string_new (NULL);
  if (script != NULL)
    peer->thread = g_thread_new ("hostile-peer", hostile_peer_thread, peer);

  return peer;
}

static HostilePeer *
hostile_peer_start (const char * const *script)
{
  return hostile_peer_start_full (script, FALSE);
}

/* Waits for the peer to see the client hang up, and returns every byte
 * the client sent. */
static char *
hostile_peer_finish (HostilePeer *peer)
{
  char *received;

  if (peer->thread != NULL)
    g_thread_join (peer->thread);
  g_socket_close (peer->listener, NULL);
  g_object_unref (peer->listener);
  received = g_string_free (peer->received, FALSE);
  g_free (peer);

  return received;
}

static RsSmtpClient *
new_client_for_port (guint16     port,
                     RsSecurity  security)
{
  g_autoptr(RsServerSettings) settings = NULL;

  settings = rs_server_settings_new ("127.0.0.1", port, security, "test@example.test");

  return rs_smtp_client_new (settings, NULL);
}

static RsSmtpClient *
new_client_for_tls_peer (HostilePeer *peer)
{
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = trust_test_ca ();

  settings = rs_server_settings_new ("127.0.0.1", peer->port, RS_SECURITY_TLS, "test@example.test");

  return rs_smtp_client_new (settings, trust);
}

/* Cases against Exim */

static void
test_implicit_tls (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected_fingerprint = NULL;
  RsCertificateInfo *info;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);
  trust = trust_test_ca ();
  client = new_client (server, "smtps", RS_SECURITY_TLS, trust);

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);
  g_assert_true (rs_smtp_client_is_connected (client));
  g_assert_true (g_str_has_prefix (rs_smtp_client_get_greeting (client), "220 "));
  g_assert_true (rs_smtp_client_has_capability (client, "auth"));

  /* What the Security view shows. */
  g_assert_cmpint (rs_smtp_client_get_tls_protocol_version (client), >=, G_TLS_PROTOCOL_VERSION_TLS_1_2);
  g_assert_nonnull (rs_smtp_client_get_tls_ciphersuite_name (client));
  g_assert_cmpint (rs_smtp_client_get_tls_trust (client), ==, RS_TLS_TRUST_CA_FILE);
  info = rs_smtp_client_get_peer_certificate (client);
  g_assert_nonnull (info);
  expected_fingerprint = fingerprint_of_file (rs_test_ca_get_cert_file (test_ca, RS_TEST_CERT_VALID));
  g_assert_cmpstr (info->fingerprint, ==, expected_fingerprint);
  g_assert_nonnull (strstr (info->subject, "localhost"));

  g_assert_true (run_authenticate (client, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);
  g_assert_true (rs_smtp_client_is_authenticated (client));
  g_assert_cmpstr (rs_smtp_client_get_auth_mechanism (client), ==, "PLAIN");

  g_assert_true (run_quit (client, &error));
  g_assert_no_error (error);
  g_assert_false (rs_smtp_client_is_connected (client));
}

static void
test_starttls (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);
  trust = trust_test_ca ();
  client = new_client (server, "submission", RS_SECURITY_STARTTLS, trust);

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);

  /* The capabilities are those said over TLS: Exim offers AUTH only
   * there, and no longer STARTTLS. */
  g_assert_true (rs_smtp_client_has_capability (client, "AUTH"));
  g_assert_false (rs_smtp_client_has_capability (client, "STARTTLS"));
  g_assert_cmpint (rs_smtp_client_get_tls_protocol_version (client), >=, G_TLS_PROTOCOL_VERSION_TLS_1_2);

  g_assert_true (run_authenticate (client, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);

  g_assert_true (run_quit (client, &error));
  g_assert_no_error (error);
}

static GPtrArray *
list_maildir (const char *maildir)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *subdirs[] = { "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (files, g_build_filename (path, name, NULL));
    }

  return files;
}

static void
test_send (void)
{
  const char *to[] = { "someone@example.test", NULL };
  const char *message =
    "From: test@example.test\n"
    "To: someone@example.test\n"
    "Subject: Retailsphere send test\n"
    "Message-ID: <send-test@example.test>\n"
    "\n"
    "A line.\n"
    ".A line that starts with a dot\n"
    ".\n"
    "The end.\n";
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *delivered = NULL;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);
  trust = trust_test_ca ();
  client = new_client (server, "smtps", RS_SECURITY_TLS, trust);

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);

  /* Not signed in: Exim's own refusal comes back, and the session stays
   * usable. */
  g_assert_false (run_send (client, rs_test_server_get_user (server), to, message, &error));
  assert_smtp_error (error, RS_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (rs_error_get_server_text (error), "Authentication required"));
  g_assert_cmpstr (rs_error_get_response_code (error), ==, "5.7.1");
  g_clear_error (&error);
  g_assert_true (rs_smtp_client_is_connected (client));

  g_assert_true (run_authenticate (client, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);
  g_assert_true (run_send (client, rs_test_server_get_user (server), to, message, &error));
  g_assert_no_error (error);
  g_assert_true (run_quit (client, &error));
  g_assert_no_error (error);

  /* Delivery is immediate but not synchronous with our 250. */
  for (guint i = 0; i < 100; i++)
    {
      files = list_maildir (rs_test_server_get_maildir (server));
      if (files->len > 0)
        break;
      g_clear_pointer (&files, g_ptr_array_unref);
      g_usleep (50 * 1000);
    }
  g_assert_nonnull (files);
  g_assert_cmpuint (files->len, ==, 1);

  g_file_get_contents (g_ptr_array_index (files, 0), &delivered, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (delivered, "Subject: Retailsphere send test"));
  /* Dot-stuffing undone by the server: the text arrives as written. */
  g_assert_nonnull (strstr (delivered, "\n.A line that starts with a dot\n.\nThe end.\n"));
}

static void
test_wrong_password (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  const char *text;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);
  trust = trust_test_ca ();
  client = new_client (server, "submission", RS_SECURITY_STARTTLS, trust);

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);

  g_assert_false (run_authenticate (client, "not-the-password", &error));
  assert_smtp_error (error, RS_ERROR_AUTHENTICATION);
  g_assert_false (rs_smtp_client_is_authenticated (client));

  /* Exim's own words and code travel with the error. */
  text = rs_error_get_server_text (error);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "535 "));
  g_assert_nonnull (strstr (text, "Incorrect authentication data"));
  g_assert_nonnull (rs_error_get_response_code (error));
  if (strstr (text, "5.7.8") != NULL)
    g_assert_cmpstr (rs_error_get_response_code (error), ==, "5.7.8");
  else
    g_assert_cmpstr (rs_error_get_response_code (error), ==, "535");
  g_assert_nonnull (strstr (error->message, "password"));
}

static void
test_check (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);
  trust = trust_test_ca ();
  settings = rs_server_settings_new (rs_test_server_get_host (server),
                                     rs_test_server_get_port (server, "submission"),
                                     RS_SECURITY_STARTTLS,
                                     rs_test_server_get_user (server));

  rs_smtp_check_async (settings, trust, rs_test_server_get_password (server), NULL, rs_test_result_cb, &result);
  g_assert_true (rs_smtp_check_finish (rs_test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  rs_smtp_check_async (settings, trust, "wrong", NULL, rs_test_result_cb, &result);
  g_assert_false (rs_smtp_check_finish (rs_test_wait_result (&result), &error));
  assert_smtp_error (error, RS_ERROR_AUTHENTICATION);
  g_assert_nonnull (rs_error_get_server_text (error));
  g_clear_object (&result);
  g_clear_error (&error);

  /* The sign-in's test cancelled: silent, not an error to show. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    rs_smtp_check_async (settings, trust, "wrong", cancellable, rs_test_result_cb, &result);
    g_cancellable_cancel (cancellable);
    g_assert_false (rs_smtp_check_finish (rs_test_wait_result (&result), &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_object (&result);
  }
}

static void
test_self_signed_and_pin (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsTestServer) other = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) pinned = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *pin = NULL;
  RsCertificateInfo *info;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_SELF_SIGNED, FALSE);
  expected = fingerprint_of_file (rs_test_ca_get_cert_file (test_ca, RS_TEST_CERT_SELF_SIGNED));

  /* Refused, with what the user needs to decide. */
  client = new_client (server, "smtps", RS_SECURITY_TLS, NULL);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_CERTIFICATE);
  g_assert_false (rs_smtp_client_is_connected (client));
  info = rs_error_get_certificate (error);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, expected);
  g_assert_nonnull (info->subject);
  g_assert_nonnull (info->issuer);
  g_assert_nonnull (strstr (info->subject, "localhost"));
  g_assert_cmpstr (info->subject, ==, info->issuer);
  g_assert_nonnull (info->not_before);
  g_assert_nonnull (info->not_after);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_nonnull (strstr (error->message, "authority"));
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  pin = g_strdup (info->fingerprint);
  g_clear_error (&error);
  g_clear_object (&client);

  /* Pinned, in the form a user may paste it. */
  {
    g_autoptr(GString) colons = g_string_new (NULL);

    for (guint i = 0; pin[i] != '\0'; i += 2)
      g_string_append_printf (colons, "%s%c%c", i ? ":" : "", g_ascii_toupper (pin[i]), g_ascii_toupper (pin[i + 1]));
    pinned = rs_trust_new (NULL, (const char *[]) { colons->str, NULL });
  }

  client = new_client (server, "submission", RS_SECURITY_STARTTLS, pinned);
  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rs_smtp_client_get_tls_trust (client), ==, RS_TLS_TRUST_PINNED);
  g_assert_cmpstr (rs_smtp_client_get_peer_certificate (client)->fingerprint, ==, pin);
  g_assert_true (run_authenticate (client, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);
  g_assert_true (run_quit (client, &error));
  g_assert_no_error (error);
  g_clear_object (&client);

  /* The pin is for that certificate only: another one at the same place
   * is refused, and the error names the new one. */
  rs_test_server_stop (server);
  other = start_exim (RS_TEST_CERT_VALID, FALSE);
  client = new_client (other, "smtps", RS_SECURITY_TLS, pinned);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_CERTIFICATE);
  info = rs_error_get_certificate (error);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, !=, pin);
}

static void
test_certificate_problem (gconstpointer user_data)
{
  RsTestCert kind = GPOINTER_TO_INT (user_data);
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) problems = NULL;
  GTlsCertificateFlags expected_flag;
  RsCertificateInfo *info;
  const char *expected_words;

  if (!exim_usable ())
    return;

  switch (kind)
    {
    case RS_TEST_CERT_EXPIRED:
      expected_flag = G_TLS_CERTIFICATE_EXPIRED;
      expected_words = "expired";
      break;
    case RS_TEST_CERT_NOT_YET_VALID:
      expected_flag = G_TLS_CERTIFICATE_NOT_ACTIVATED;
      expected_words = "not valid yet";
      break;
    case RS_TEST_CERT_WRONG_HOST:
      expected_flag = G_TLS_CERTIFICATE_BAD_IDENTITY;
      expected_words = "different server name";
      break;
    case RS_TEST_CERT_VALID:
    case RS_TEST_CERT_SELF_SIGNED:
    default:
      g_assert_not_reached ();
    }

  server = start_exim (kind, FALSE);

  /* Even trusting the CA that signed it, it is refused, and the message
   * says why in words rather than "unknown authority". */
  trust = trust_test_ca ();
  client = new_client (server, "smtps", RS_SECURITY_TLS, trust);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_CERTIFICATE);
  info = rs_error_get_certificate (error);
  g_assert_nonnull (info);
  g_assert_true (info->errors & expected_flag);
  g_assert_false (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_nonnull (strstr (error->message, expected_words));

  problems = rs_certificate_describe_problems (info->errors);
  g_assert_nonnull (problems[0]);
  g_assert_true (g_str_has_prefix (error->message, problems[0]));
  g_clear_error (&error);
  g_clear_object (&client);

  /* Without the CA, the unknown authority is part of the story too. */
  client = new_client (server, "submission", RS_SECURITY_STARTTLS, NULL);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_CERTIFICATE);
  info = rs_error_get_certificate (error);
  g_assert_true (info->errors & expected_flag);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
}

static void
test_bad_ca_file (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) missing = NULL;
  g_autoptr(RsTrust) garbage = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *garbage_path = NULL;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, FALSE);

  missing = rs_trust_new ("/nonexistent/corporate-ca.pem", NULL);
  client = new_client (server, "smtps", RS_SECURITY_TLS, missing);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "/nonexistent/corporate-ca.pem"));
  g_clear_error (&error);
  g_clear_object (&client);

  garbage_path = g_build_filename (test_ca_folder, "not-a-ca.pem", NULL);
  g_file_set_contents (garbage_path, "this is not a certificate\n", -1, &error);
  g_assert_no_error (error);
  garbage = rs_trust_new (garbage_path, NULL);
  client = new_client (server, "smtps", RS_SECURITY_TLS, garbage);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "not-a-ca.pem"));
}

static void
test_starttls_not_offered (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  if (!exim_usable ())
    return;

  server = start_exim (RS_TEST_CERT_VALID, TRUE);
  trust = trust_test_ca ();
  client = new_client (server, "submission", RS_SECURITY_STARTTLS, trust);

  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_TLS_UNAVAILABLE);
  /* The server's EHLO answer, as proof of what it offered. */
  g_assert_nonnull (rs_error_get_server_text (error));
  g_assert_true (g_str_has_prefix (rs_error_get_server_text (error), "250"));
  g_assert_null (strstr (rs_error_get_server_text (error), "STARTTLS"));
  g_assert_false (rs_smtp_client_is_connected (client));
  g_clear_error (&error);

  /* Nothing more can be sent on that connection: the password never
   * leaves. */
  g_assert_false (run_authenticate (client, rs_test_server_get_password (server), &error));
  assert_smtp_error (error, RS_ERROR_NETWORK);

  log = rs_test_server_read_log (server);
  g_test_message ("Exim log:\n%s", log);
  g_assert_null (strstr (log, "authenticator failed"));
  g_assert_null (strstr (log, "A=plain"));
  g_assert_null (strstr (log, "A=login"));
}

static void
test_starttls_not_offered_wire (void)
{
  /* A peer that offers AUTH in the clear and no STARTTLS: we must send
   * nothing after EHLO, and above all no password. */
  static const char *script[] = {
    ">220 hostile.example.test ESMTP\r\n",
    "<",
    ">250-hostile.example.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
    NULL
  };
  HostilePeer *peer = hostile_peer_start (script);
  g_autoptr(RsSmtpClient) client = new_client_for_port (peer->port, RS_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_TLS_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_false (run_authenticate (client, "secret-password", &error));

  received = hostile_peer_finish (peer);
  g_test_message ("received: %s", received);
  g_assert_true (g_str_has_prefix (received, "EHLO "));
  g_assert_null (strstr (received, "AUTH"));
  g_assert_null (strstr (received, "\r\nEHLO"));
  g_assert_cmpuint (strlen (received), ==, strcspn (received, "\n") + 1);
}

static void
test_response_injection (void)
{
  static const char *script[] = {
    ">220 hostile.example.test ESMTP\r\n",
    "<",
    ">250-hostile.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
    "<",
    ">220 ready\r\n250 injected\r\n",
    NULL
  };
  HostilePeer *peer = hostile_peer_start (script);
  g_autoptr(RsSmtpClient) client = new_client_for_port (peer->port, RS_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (rs_error_get_server_text (error), "250 injected"));
  g_assert_false (rs_smtp_client_is_connected (client));

  /* No TLS handshake was attempted on top of the injected bytes: the
   * last thing we said was STARTTLS. */
  received = hostile_peer_finish (peer);
  g_test_message ("received: %s", received);
  g_assert_true (g_str_has_suffix (received, "\r\nSTARTTLS\r\n"));
}

static void
test_auth_blocked_by_policy (void)
{
  static const char *script[] = {
    ">220 hostile.example.test Microsoft ESMTP MAIL Service ready\r\n",
    "<",
    ">250-hostile.example.test Hello\r\n250-SIZE 157286400\r\n250-AUTH LOGIN XOAUTH2 PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n",
    "<",
    ">535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
      "Visit https://aka.ms/smtp_auth_disabled for more information.\r\n",
    NULL
  };
  HostilePeer *peer = hostile_peer_start_full (script, TRUE);
  g_autoptr(RsSmtpClient) client = new_client_for_tls_peer (peer);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autofree char *plain = NULL;
  static const char credentials[] = "\0test@example.test\0right-password";

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);
  g_assert_false (run_authenticate (client, "right-password", &error));
  assert_smtp_error (error, RS_ERROR_AUTHENTICATION);
  g_assert_cmpstr (rs_error_get_response_code (error), ==, "5.7.139");
  g_assert_nonnull (strstr (rs_error_get_server_text (error), "SmtpClientAuthentication is disabled"));
  /* Not "wrong password": an administrator can fix it. */
  g_assert_nonnull (strstr (error->message, "administrator"));
  g_assert_null (strstr (error->message, "username or password"));
  g_clear_object (&client);

  /* PLAIN with an initial response (RFC 4954, RFC 4616), over TLS only. */
  received = hostile_peer_finish (peer);
  plain = g_base64_encode ((const guchar *)credentials, sizeof credentials - 1);
  g_assert_nonnull (strstr (received, "\r\nAUTH PLAIN "));
  g_assert_nonnull (strstr (received, plain));
}

static void
test_auth_temporary (void)
{
  static const char *script[] = {
    ">220 hostile.example.test ESMTP\r\n",
    "<",
    ">250-hostile.example.test\r\n250 AUTH PLAIN\r\n",
    "<",
    ">454 4.7.0 Temporary authentication failure\r\n",
    NULL
  };
  HostilePeer *peer = hostile_peer_start_full (script, TRUE);
  g_autoptr(RsSmtpClient) client = new_client_for_tls_peer (peer);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);
  g_assert_false (run_authenticate (client, "password", &error));
  assert_smtp_error (error, RS_ERROR_AUTHENTICATION);
  g_assert_cmpstr (rs_error_get_response_code (error), ==, "4.7.0");
  g_assert_nonnull (strstr (error->message, "Try again later"));
  g_assert_cmpstr (rs_error_get_server_text (error), ==, "454 4.7.0 Temporary authentication failure");
  g_clear_object (&client);

  received = hostile_peer_finish (peer);
}

static void
test_auth_login_fallback (void)
{
  static const char *script[] = {
    ">220 hostile.example.test ESMTP\r\n",
    "<",
    ">250-hostile.example.test\r\n250-AUTH=LOGIN\r\n250 AUTH CRAM-MD5 LOGIN\r\n",
    "<",
    ">334 VXNlcm5hbWU6\r\n",
    "<",
    ">334 UGFzc3dvcmQ6\r\n",
    "<",
    ">235 2.7.0 Authentication successful\r\n",
    "<",
    ">221 2.0.0 Bye\r\n",
    NULL
  };
  HostilePeer *peer = hostile_peer_start_full (script, TRUE);
  g_autoptr(RsSmtpClient) client = new_client_for_tls_peer (peer);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autofree char *user = g_base64_encode ((const guchar *)"test@example.test", 17);
  g_autofree char *password = g_base64_encode ((const guchar *)"pass word", 9);
  g_autofree char *expected = NULL;
  g_auto(GStrv) mechanisms = NULL;

  g_assert_true (run_connect (client, &error));
  g_assert_no_error (error);
  mechanisms = rs_smtp_client_dup_auth_mechanisms (client);
  g_assert_cmpuint (g_strv_length (mechanisms), ==, 2);
  g_assert_cmpstr (mechanisms[0], ==, "LOGIN");
  g_assert_cmpstr (mechanisms[1], ==, "CRAM-MD5");

  g_assert_true (run_authenticate (client, "pass word", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (rs_smtp_client_get_auth_mechanism (client), ==, "LOGIN");
  g_assert_true (run_quit (client, &error));
  g_assert_no_error (error);

  received = hostile_peer_finish (peer);
  expected = g_strdup_printf ("\r\nAUTH LOGIN\r\n%s\r\n%s\r\nQUIT\r\n", user, password);
  g_assert_true (g_str_has_suffix (received, expected));
}

static void
test_closed_port (void)
{
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* A port that was free a moment ago and has nothing listening. */
  {
    g_autoptr(GSocket) socket = new_loopback_listener (&port);
    g_socket_close (socket, NULL);
  }

  client = new_client_for_port (port, RS_SECURITY_TLS);
  g_assert_false (run_connect (client, &error));
  assert_smtp_error (error, RS_ERROR_NETWORK);
  g_assert_nonnull (rs_error_get_server_text (error));
}

static void
test_unknown_host (void)
{
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;

  /* RFC 6761: .invalid never resolves. */
  settings = rs_server_settings_new ("smtp.retailsphere.invalid", 465, RS_SECURITY_TLS, "me");
  client = rs_smtp_client_new (settings, NULL);
  rs_smtp_client_set_timeout (client, 5);

  g_assert_false (run_connect (client, &error));
  g_assert_nonnull (error);
  if (g_error_matches (error, RS_ERROR, RS_ERROR_TIMEOUT))
    {
      g_test_skip ("The resolver did not answer here");
      return;
    }
  assert_smtp_error (error, RS_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "smtp.retailsphere.invalid"));
}

static void
test_silent_server (gconstpointer user_data)
{
  RsSecurity security = GPOINTER_TO_INT (user_data);
  HostilePeer *peer = hostile_peer_start (NULL);   /* listens, never accepts nor speaks */
  g_autoptr(RsSmtpClient) client = new_client_for_port (peer->port, security);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  gint64 start, elapsed;

  rs_smtp_client_set_timeout (client, 2);

  start = g_get_monotonic_time ();
  g_assert_false (run_connect (client, &error));
  elapsed = g_get_monotonic_time () - start;

  assert_smtp_error (error, RS_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed, >=, 1 * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
  g_assert_false (rs_smtp_client_is_connected (client));

  received = hostile_peer_finish (peer);
}

static void
test_cancel (void)
{
  HostilePeer *peer = hostile_peer_start (NULL);
  g_autoptr(RsSmtpClient) client = new_client_for_port (peer->port, RS_SECURITY_STARTTLS);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  rs_smtp_client_connect_async (client, cancellable, rs_test_result_cb, &result);
  g_timeout_add_once (200, (GSourceOnceFunc)g_cancellable_cancel, cancellable);
  g_assert_false (rs_smtp_client_connect_finish (client, rs_test_wait_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&result);

  received = hostile_peer_finish (peer);
}

/* Setup */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  test_ca_folder = g_dir_make_tmp ("rs-smtp-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* Exim reads its certificate and key after dropping root. */
  g_assert_cmpint (g_chmod (test_ca_folder, 0755), ==, 0);
  test_ca = rs_test_ca_new (test_ca_folder, &error);
  g_assert_no_error (error);

  g_test_add_func ("/smtp/client/implicit-tls", test_implicit_tls);
  g_test_add_func ("/smtp/client/starttls", test_starttls);
  g_test_add_func ("/smtp/client/send", test_send);
  g_test_add_func ("/smtp/client/wrong-password", test_wrong_password);
  g_test_add_func ("/smtp/client/check", test_check);
  g_test_add_func ("/smtp/certificate/self-signed-then-pinned", test_self_signed_and_pin);
  g_test_add_data_func ("/smtp/certificate/expired",
                        GINT_TO_POINTER (RS_TEST_CERT_EXPIRED), test_certificate_problem);
  g_test_add_data_func ("/smtp/certificate/not-yet-valid",
                        GINT_TO_POINTER (RS_TEST_CERT_NOT_YET_VALID), test_certificate_problem);
  g_test_add_data_func ("/smtp/certificate/wrong-host",
                        GINT_TO_POINTER (RS_TEST_CERT_WRONG_HOST), test_certificate_problem);
  g_test_add_func ("/smtp/certificate/bad-ca-file", test_bad_ca_file);
  g_test_add_func ("/smtp/starttls/not-offered", test_starttls_not_offered);
  g_test_add_func ("/smtp/starttls/not-offered-wire", test_starttls_not_offered_wire);
  g_test_add_func ("/smtp/starttls/response-injection", test_response_injection);
  g_test_add_func ("/smtp/auth/blocked-by-policy", test_auth_blocked_by_policy);
  g_test_add_func ("/smtp/auth/temporary", test_auth_temporary);
  g_test_add_func ("/smtp/auth/login-fallback", test_auth_login_fallback);
  g_test_add_func ("/smtp/network/closed-port", test_closed_port);
  g_test_add_func ("/smtp/network/unknown-host", test_unknown_host);
  g_test_add_data_func ("/smtp/network/timeout-greeting",
                        GINT_TO_POINTER (RS_SECURITY_STARTTLS), test_silent_server);
  g_test_add_data_func ("/smtp/network/timeout-handshake",
                        GINT_TO_POINTER (RS_SECURITY_TLS), test_silent_server);
  g_test_add_func ("/smtp/network/cancel", test_cancel);

  ret = g_test_run ();

  g_clear_pointer (&test_ca, rs_test_ca_unref);
  rs_test_remove_tree (test_ca_folder);
  g_free (test_ca_folder);

  return ret;
}
