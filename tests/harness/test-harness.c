/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-harness"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include <stdlib.h>

#include "rs-test-server.h"

/* ---- A tiny line-based client, enough to talk to IMAP and SMTP ---- */

typedef struct
{
  GSocketConnection *socket;
  GIOStream          *stream;   /* the socket, or TLS over it */
  GDataInputStream   *input;
} Client;

static void
client_free (Client *client)
{
  g_clear_object (&client->input);
  if (client->stream != NULL)
    g_io_stream_close (client->stream, NULL, NULL);
  g_clear_object (&client->stream);
  g_clear_object (&client->socket);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static void
client_set_stream (Client    *client,
                   GIOStream *stream)
{
  g_clear_object (&client->input);
  g_set_object (&client->stream, stream);
  client->input = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  g_data_input_stream_set_newline_type (client->input, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (client->input), FALSE);
}

static Client *
client_connect (RsTestServer  *server,
                const char    *port_name,
                GError       **error)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(Client) client = g_new0 (Client, 1);

  g_socket_client_set_timeout (socket_client, 5);
  client->socket = g_socket_client_connect_to_host (socket_client,
                                                    rs_test_server_get_host (server),
                                                    rs_test_server_get_port (server, port_name),
                                                    NULL, error);
  if (client->socket == NULL)
    return NULL;

  client_set_stream (client, G_IO_STREAM (client->socket));
  return g_steal_pointer (&client);
}

/* TLS over what the client has so far, trusting the server's test CA
 * and checking the server is "localhost". */
static gboolean
client_start_tls (Client        *client,
                  RsTestServer  *server,
                  GError       **error)
{
  g_autoptr(GSocketConnectable) identity = g_network_address_new ("localhost", 0);
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GIOStream) tls = NULL;

  database = rs_test_ca_new_database (rs_test_server_get_ca (server), error);
  if (database == NULL)
    return FALSE;

  tls = g_tls_client_connection_new (G_IO_STREAM (client->socket), identity, error);
  if (tls == NULL)
    return FALSE;

  g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, error))
    return FALSE;

  client_set_stream (client, tls);
  return TRUE;
}

static Client *
client_connect_tls (RsTestServer  *server,
                    const char    *port_name,
                    GError       **error)
{
  g_autoptr(Client) client = client_connect (server, port_name, error);

  if (client == NULL || !client_start_tls (client, server, error))
    return NULL;

  return g_steal_pointer (&client);
}

static char *
client_read_line (Client *client)
{
  g_autoptr(GError) error = NULL;
  char *line;

  line = g_data_input_stream_read_line (client->input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);

  return line;
}

static void
client_send (Client     *client,
             const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strconcat (line, "\r\n", NULL);
  GOutputStream *output = g_io_stream_get_output_stream (client->stream);

  g_output_stream_write_all (output, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* IMAP: reads up to and including the tagged reply; returns all of it. */
static char *
imap_read_until_tagged (Client     *client,
                        const char *tag)
{
  GString *reply = g_string_new (NULL);
  g_autofree char *prefix = g_strconcat (tag, " ", NULL);

  for (;;)
    {
      g_autofree char *line = client_read_line (client);

      g_string_append_printf (reply, "%s\n", line);
      if (g_str_has_prefix (line, prefix))
        break;
    }

  return g_string_free (reply, FALSE);
}

/* SMTP: reads one (possibly multi-line) reply. */
static char *
smtp_read_reply (Client *client)
{
  GString *reply = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *line = client_read_line (client);

      g_string_append_printf (reply, "%s\n", line);
      if (strlen (line) < 4 || line[3] == ' ')
        break;
    }

  return g_string_free (reply, FALSE);
}

static char *
smtp_command (Client     *client,
              const char *command)
{
  client_send (client, command);
  return smtp_read_reply (client);
}

static gboolean
skip_without (gboolean (*available) (char **reason))
{
  g_autofree char *reason = NULL;

  if (available (&reason))
    return FALSE;

  g_test_skip (reason);
  return TRUE;
}

static guint
count_files (const char *maildir)
{
  guint count = 0;

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_build_filename (maildir, i == 0 ? "new" : "cur", NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

      while (dir != NULL && g_dir_read_name (dir) != NULL)
        count++;
    }

  return count;
}

static gboolean
wait_for_files (const char *maildir,
                guint       count)
{
  for (guint i = 0; i < 500; i++)
    {
      if (count_files (maildir) >= count)
        return TRUE;
      g_usleep (10 * 1000);
    }

  return FALSE;
}

static gboolean
wait_until_gone (GPid    pid,
                 guint16 port)
{
  for (guint i = 0; i < 1000; i++)
    {
      if (rs_test_pid_is_gone (pid) && !rs_test_port_is_listening (port))
        return TRUE;
      g_usleep (10 * 1000);
    }

  return FALSE;
}

/* ---- Certificates ---- */

static void
test_ca_certificates (void)
{
  static const struct {
    RsTestCert           cert;
    GTlsCertificateFlags flags;
  } cases[] = {
    { RS_TEST_CERT_VALID, 0 },
    { RS_TEST_CERT_EXPIRED, G_TLS_CERTIFICATE_EXPIRED },
    { RS_TEST_CERT_NOT_YET_VALID, G_TLS_CERTIFICATE_NOT_ACTIVATED },
    { RS_TEST_CERT_WRONG_HOST, G_TLS_CERTIFICATE_BAD_IDENTITY },
    { RS_TEST_CERT_SELF_SIGNED, G_TLS_CERTIFICATE_UNKNOWN_CA },
  };
  g_autofree char *folder = NULL;
  g_autofree char *ca_folder = NULL;
  g_autoptr(RsTestCa) ca = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSocketConnectable) identity = g_network_address_new ("localhost", 993);
  g_autoptr(GError) error = NULL;

  folder = g_dir_make_tmp ("rs-test-ca-XXXXXX", &error);
  g_assert_no_error (error);
  ca_folder = g_build_filename (folder, "ca", NULL);

  ca = rs_test_ca_new (ca_folder, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (rs_test_ca_get_ca_file (ca), G_FILE_TEST_IS_REGULAR));

  database = rs_test_ca_new_database (ca, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GTlsCertificate) cert = NULL;
      GTlsCertificateFlags flags;

      g_test_message ("certificate %u", cases[i].cert);
      g_assert_true (g_file_test (rs_test_ca_get_key_file (ca, cases[i].cert), G_FILE_TEST_IS_REGULAR));

      cert = g_tls_certificate_new_from_file (rs_test_ca_get_cert_file (ca, cases[i].cert), &error);
      g_assert_no_error (error);

      flags = g_tls_database_verify_chain (database, cert,
                                           G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                           identity, NULL, G_TLS_DATABASE_VERIFY_NONE,
                                           NULL, &error);
      g_assert_no_error (error);
      g_assert_cmphex (flags & cases[i].flags, ==, cases[i].flags);
      if (cases[i].flags == 0)
        g_assert_cmphex (flags, ==, 0);
    }

  /* A valid certificate for localhost is valid for 127.0.0.1 too. */
  {
    g_autoptr(GTlsCertificate) cert = NULL;
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketConnectable) ip = G_SOCKET_CONNECTABLE (g_inet_socket_address_new (loopback, 993));

    cert = g_tls_certificate_new_from_file (rs_test_ca_get_cert_file (ca, RS_TEST_CERT_VALID), &error);
    g_assert_no_error (error);
    g_assert_cmphex (g_tls_database_verify_chain (database, cert,
                                                  G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                                  ip, NULL, G_TLS_DATABASE_VERIFY_NONE,
                                                  NULL, &error), ==, 0);
    g_assert_no_error (error);
  }

  g_clear_pointer (&ca, rs_test_ca_unref);
  {
    g_autoptr(GFile) file = g_file_new_for_path (folder);
    g_autofree char *command = g_strdup_printf ("rm -rf '%s'", folder);

    g_assert_true (g_str_has_prefix (folder, g_get_tmp_dir ()));
    g_assert_cmpint (system (command), ==, 0);
    g_assert_false (g_file_query_exists (file, NULL));
  }
}

/* ---- Dovecot ---- */

static void
test_dovecot_greets (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(RsTestServer) other = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(Client) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *login = NULL;
  g_autofree char *log = NULL;

  if (skip_without (rs_test_dovecot_available))
    return;

  server = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);
  other = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);

  /* Each in its own folder, on its own free ports. */
  g_assert_true (g_file_test (rs_test_server_get_folder (server), G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (rs_test_server_get_folder (server), !=, rs_test_server_get_folder (other));
  g_assert_cmpuint (rs_test_server_get_port (server, "imaps"), !=, 0);
  g_assert_cmpuint (rs_test_server_get_port (server, "imap"), !=, 0);
  g_assert_cmpuint (rs_test_server_get_port (server, "imaps"), !=, rs_test_server_get_port (server, "imap"));
  g_assert_cmpuint (rs_test_server_get_port (server, "imaps"), !=, rs_test_server_get_port (other, "imaps"));
  g_assert_cmpuint (rs_test_server_get_port (server, "smtps"), ==, 0);
  g_assert_true (rs_test_server_is_running (server));

  /* Implicit TLS, trusting the test CA: greeting, then log in. */
  tls = client_connect_tls (server, "imaps", &error);
  g_assert_no_error (error);
  greeting = client_read_line (tls);
  g_assert_true (g_str_has_prefix (greeting, "* OK"));

  login = g_strdup_printf ("a LOGIN \"%s\" \"%s\"",
                           rs_test_server_get_user (server),
                           rs_test_server_get_password (server));
  client_send (tls, login);
  reply = imap_read_until_tagged (tls, "a");
  g_assert_nonnull (strstr (reply, "a OK"));
  g_clear_pointer (&reply, g_free);

  client_send (tls, "b LOGOUT");
  reply = imap_read_until_tagged (tls, "b");
  g_assert_nonnull (strstr (reply, "b OK"));
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&greeting, g_free);

  /* The other port greets in plain text and offers STARTTLS. */
  plain = client_connect (server, "imap", &error);
  g_assert_no_error (error);
  greeting = client_read_line (plain);
  g_assert_true (g_str_has_prefix (greeting, "* OK"));
  g_assert_nonnull (strstr (greeting, "STARTTLS"));

  client_send (plain, "c STARTTLS");
  reply = imap_read_until_tagged (plain, "c");
  g_assert_nonnull (strstr (reply, "c OK"));
  client_start_tls (plain, server, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_free);
  client_send (plain, "d CAPABILITY");
  reply = imap_read_until_tagged (plain, "d");
  g_assert_nonnull (strstr (reply, "AUTH=PLAIN"));

  /* The logout line tells how much was fetched; tests of the worker rely on it. */
  for (guint i = 0; i < 500; i++)
    {
      g_clear_pointer (&log, g_free);
      log = rs_test_server_read_log (server);
      if (strstr (log, "body_count=") != NULL)
        break;
      g_usleep (10 * 1000);
    }
  g_assert_nonnull (strstr (log, "Login: user=<test@example.test>"));
  g_assert_nonnull (strstr (log, "body_count=0 body_bytes=0"));
}

static void
test_dovecot_wrong_password (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *reply = NULL;
  const RsTestDovecotOptions options = {
    .user = "someone@example.test",
    .password = "a password with spaces",
  };

  if (skip_without (rs_test_dovecot_available))
    return;

  server = rs_test_dovecot_start (&options, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rs_test_server_get_user (server), ==, "someone@example.test");
  g_assert_cmpstr (rs_test_server_get_password (server), ==, "a password with spaces");

  tls = client_connect_tls (server, "imaps", &error);
  g_assert_no_error (error);
  greeting = client_read_line (tls);

  /* Right first: after a failure Dovecot delays the next attempt from the
   * same address by seconds (its "auth penalty"). */
  client_send (tls, "a LOGIN \"someone@example.test\" \"a password with spaces\"");
  reply = imap_read_until_tagged (tls, "a");
  g_assert_nonnull (strstr (reply, "a OK"));
  g_clear_pointer (&reply, g_free);
  g_clear_pointer (&tls, client_free);
  g_clear_pointer (&greeting, g_free);

  tls = client_connect_tls (server, "imaps", &error);
  g_assert_no_error (error);
  greeting = client_read_line (tls);

  client_send (tls, "b LOGIN \"someone@example.test\" \"wrong\"");
  reply = imap_read_until_tagged (tls, "b");
  g_assert_nonnull (strstr (reply, "b NO [AUTHENTICATIONFAILED]"));
}

static void
test_dovecot_no_starttls (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(Client) plain = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *reply = NULL;
  const RsTestDovecotOptions options = { .no_starttls = TRUE };

  if (skip_without (rs_test_dovecot_available))
    return;

  server = rs_test_dovecot_start (&options, &error);
  g_assert_no_error (error);

  plain = client_connect (server, "imap", &error);
  g_assert_no_error (error);
  greeting = client_read_line (plain);
  g_assert_true (g_str_has_prefix (greeting, "* OK"));
  g_assert_null (strstr (greeting, "STARTTLS"));

  client_send (plain, "a CAPABILITY");
  reply = imap_read_until_tagged (plain, "a");
  g_assert_null (strstr (reply, "STARTTLS"));
  g_clear_pointer (&reply, g_free);

  client_send (plain, "b STARTTLS");
  reply = imap_read_until_tagged (plain, "b");
  g_assert_null (strstr (reply, "b OK"));
  g_clear_pointer (&greeting, g_free);

  /* Implicit TLS is still there. */
  tls = client_connect_tls (server, "imaps", &error);
  g_assert_no_error (error);
  greeting = client_read_line (tls);
  g_assert_true (g_str_has_prefix (greeting, "* OK"));
}

static void
test_dovecot_bad_certificate (void)
{
  static const struct {
    RsTestCert           cert;
    GTlsCertificateFlags flag;
  } cases[] = {
    { RS_TEST_CERT_EXPIRED, G_TLS_CERTIFICATE_EXPIRED },
    { RS_TEST_CERT_SELF_SIGNED, G_TLS_CERTIFICATE_UNKNOWN_CA },
    { RS_TEST_CERT_WRONG_HOST, G_TLS_CERTIFICATE_BAD_IDENTITY },
  };
  g_autoptr(RsTestCa) ca = NULL;

  if (skip_without (rs_test_dovecot_available))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsTestServer) server = NULL;
      g_autoptr(Client) client = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GTlsCertificate) presented = NULL;
      g_autoptr(GTlsDatabase) database = NULL;
      g_autoptr(GIOStream) tls = NULL;
      g_autoptr(GSocketConnectable) identity = g_network_address_new ("localhost", 0);
      RsTestDovecotOptions options = { .certificate = cases[i].cert, .ca = ca };

      server = rs_test_dovecot_start (&options, &error);
      g_assert_no_error (error);

      /* Share one CA between the servers, as a test with both would. */
      if (ca == NULL)
        ca = rs_test_ca_ref (rs_test_server_get_ca (server));
      g_assert_true (rs_test_server_get_ca (server) == ca);

      client = client_connect (server, "imaps", &error);
      g_assert_no_error (error);

      database = rs_test_ca_new_database (ca, &error);
      g_assert_no_error (error);
      tls = g_tls_client_connection_new (G_IO_STREAM (client->socket), identity, &error);
      g_assert_no_error (error);
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);

      /* The handshake fails for the reason the certificate was made for,
       * and the certificate on the wire is the one the server reports. */
      g_assert_false (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      g_clear_error (&error);
      g_assert_cmphex (g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls)) & cases[i].flag,
                       ==, cases[i].flag);

      presented = g_tls_certificate_new_from_file (rs_test_server_get_cert_file (server), &error);
      g_assert_no_error (error);
      g_assert_true (g_tls_certificate_is_same (presented,
                                                g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls))));
    }
}

static void
test_dovecot_append (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *login = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *greeting = NULL;
  static const char message[] =
    "From: Customer <customer@example.org>\n"
    "To: test@example.test\n"
    "Subject: Re: Your order\n"
    "Message-ID: <reply-1@example.org>\n"
    "In-Reply-To: <sent-1@example.test>\n"
    "\n"
    "Thanks!\n";

  if (skip_without (rs_test_dovecot_available))
    return;

  server = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);

  rs_test_dovecot_append (server, NULL, message, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (rs_test_server_get_maildir (server)), ==, 1);

  tls = client_connect_tls (server, "imaps", &error);
  g_assert_no_error (error);
  greeting = client_read_line (tls);
  login = g_strdup_printf ("a LOGIN \"%s\" \"%s\"",
                           rs_test_server_get_user (server),
                           rs_test_server_get_password (server));
  client_send (tls, login);
  g_free (imap_read_until_tagged (tls, "a"));
  client_send (tls, "b EXAMINE INBOX");
  reply = imap_read_until_tagged (tls, "b");
  g_assert_nonnull (strstr (reply, "* 1 EXISTS"));
}

/* ---- Exim ---- */

static void
test_exim_greets_and_authenticates (void)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(Client) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *encoded = NULL;
  gsize credentials_len;

  if (skip_without (rs_test_exim_available))
    return;

  server = rs_test_exim_start (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_test_server_get_port (server, "smtps"), !=, 0);
  g_assert_cmpuint (rs_test_server_get_port (server, "submission"), !=, 0);

  /* Submission port: STARTTLS first, AUTH only after it. */
  plain = client_connect (server, "submission", &error);
  g_assert_no_error (error);
  reply = smtp_read_reply (plain);
  g_assert_true (g_str_has_prefix (reply, "220 "));
  g_clear_pointer (&reply, g_free);

  reply = smtp_command (plain, "EHLO client.example.test");
  g_assert_nonnull (strstr (reply, "250-STARTTLS"));
  g_assert_null (strstr (reply, "AUTH"));
  g_clear_pointer (&reply, g_free);

  reply = smtp_command (plain, "STARTTLS");
  g_assert_true (g_str_has_prefix (reply, "220"));
  g_clear_pointer (&reply, g_free);
  client_start_tls (plain, server, &error);
  g_assert_no_error (error);

  reply = smtp_command (plain, "EHLO client.example.test");
  g_assert_nonnull (strstr (reply, "AUTH PLAIN LOGIN"));
  g_clear_pointer (&reply, g_free);

  /* Unauthenticated senders are turned away. */
  reply = smtp_command (plain, "MAIL FROM:<test@example.test>");
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);
  reply = smtp_command (plain, "RCPT TO:<customer@example.org>");
  g_assert_true (g_str_has_prefix (reply, "550"));
  g_clear_pointer (&reply, g_free);

  /* Implicit TLS: 220, AUTH, send, and the message arrives. */
  tls = client_connect_tls (server, "smtps", &error);
  g_assert_no_error (error);
  reply = smtp_read_reply (tls);
  g_assert_true (g_str_has_prefix (reply, "220 "));
  g_clear_pointer (&reply, g_free);

  reply = smtp_command (tls, "EHLO client.example.test");
  g_assert_nonnull (strstr (reply, "AUTH PLAIN LOGIN"));
  g_clear_pointer (&reply, g_free);

  reply = smtp_command (tls, "AUTH PLAIN AHRlc3RAZXhhbXBsZS50ZXN0AHdyb25n");  /* "wrong" */
  g_assert_true (g_str_has_prefix (reply, "535"));
  g_clear_pointer (&reply, g_free);

  credentials = g_strdup_printf ("%c%s%c%s", 0, rs_test_server_get_user (server),
                                 0, rs_test_server_get_password (server));
  credentials_len = 2 + strlen (rs_test_server_get_user (server)) +
                    strlen (rs_test_server_get_password (server));
  encoded = g_base64_encode ((const guchar *) credentials, credentials_len);
  auth = g_strdup_printf ("AUTH PLAIN %s", encoded);
  reply = smtp_command (tls, auth);
  g_assert_true (g_str_has_prefix (reply, "235"));
  g_clear_pointer (&reply, g_free);

  reply = smtp_command (tls, "MAIL FROM:<test@example.test>");
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);
  reply = smtp_command (tls, "RCPT TO:<customer@example.org>");
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);
  reply = smtp_command (tls, "DATA");
  g_assert_true (g_str_has_prefix (reply, "354"));
  g_clear_pointer (&reply, g_free);
  client_send (tls, "Subject: Your order\r\nMessage-ID: <sent-1@example.test>\r\n\r\nHello\r\n.");
  reply = smtp_read_reply (tls);
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);

  g_assert_true (wait_for_files (rs_test_server_get_maildir (server), 1));
}

static void
test_exim_delivers_to_dovecot (void)
{
  g_autoptr(RsTestServer) imap = NULL;
  g_autoptr(RsTestServer) smtp = NULL;
  g_autoptr(Client) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *rcpt = NULL;
  RsTestEximOptions options = { 0 };

  if (skip_without (rs_test_exim_available) || skip_without (rs_test_dovecot_available))
    return;

  imap = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);

  options.deliver_to = imap;
  smtp = rs_test_exim_start (&options, &error);
  g_assert_no_error (error);

  /* The same account and the same CA on both. */
  g_assert_cmpstr (rs_test_server_get_user (smtp), ==, rs_test_server_get_user (imap));
  g_assert_cmpstr (rs_test_server_get_password (smtp), ==, rs_test_server_get_password (imap));
  g_assert_cmpstr (rs_test_server_get_ca_file (smtp), ==, rs_test_server_get_ca_file (imap));

  tls = client_connect_tls (smtp, "smtps", &error);
  g_assert_no_error (error);
  g_free (smtp_read_reply (tls));
  g_free (smtp_command (tls, "EHLO client.example.test"));

  /* AUTH LOGIN this time. */
  {
    g_autofree char *user = g_base64_encode ((const guchar *) rs_test_server_get_user (smtp),
                                             strlen (rs_test_server_get_user (smtp)));
    g_autofree char *password = g_base64_encode ((const guchar *) rs_test_server_get_password (smtp),
                                                 strlen (rs_test_server_get_password (smtp)));

    reply = smtp_command (tls, "AUTH LOGIN");
    g_assert_true (g_str_has_prefix (reply, "334"));
    g_clear_pointer (&reply, g_free);
    reply = smtp_command (tls, user);
    g_assert_true (g_str_has_prefix (reply, "334"));
    g_clear_pointer (&reply, g_free);
    reply = smtp_command (tls, password);
    g_assert_true (g_str_has_prefix (reply, "235"));
    g_clear_pointer (&reply, g_free);
  }

  g_free (smtp_command (tls, "MAIL FROM:<customer@example.org>"));
  rcpt = g_strdup_printf ("RCPT TO:<%s>", rs_test_server_get_user (imap));
  reply = smtp_command (tls, rcpt);
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);
  reply = smtp_command (tls, "RCPT TO:<someone-else@example.org>");
  g_assert_true (g_str_has_prefix (reply, "250"));
  g_clear_pointer (&reply, g_free);
  g_free (smtp_command (tls, "DATA"));
  client_send (tls, "Subject: Re: Your order\r\nIn-Reply-To: <sent-1@example.test>\r\n\r\nThanks\r\n.");
  reply = smtp_read_reply (tls);
  g_assert_true (g_str_has_prefix (reply, "250"));

  /* The user's copy lands in Dovecot's INBOX, the other in Exim's maildir. */
  g_assert_true (wait_for_files (rs_test_server_get_maildir (imap), 1));
  g_assert_true (wait_for_files (rs_test_server_get_maildir (smtp), 1));
  g_assert_cmpuint (count_files (rs_test_server_get_maildir (imap)), ==, 1);
}

/* ---- Stopping ---- */

static void
test_stop (void)
{
  g_autoptr(RsTestServer) imap = NULL;
  g_autoptr(RsTestServer) smtp = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *folder = NULL;
  GPid imap_pid, smtp_pid;
  guint16 imaps, smtps;

  if (skip_without (rs_test_exim_available) || skip_without (rs_test_dovecot_available))
    return;

  imap = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);
  smtp = rs_test_exim_start (NULL, &error);
  g_assert_no_error (error);

  imap_pid = rs_test_server_get_pid (imap);
  smtp_pid = rs_test_server_get_pid (smtp);
  imaps = rs_test_server_get_port (imap, "imaps");
  smtps = rs_test_server_get_port (smtp, "smtps");
  g_assert_cmpint (imap_pid, >, 0);
  g_assert_cmpint (smtp_pid, >, 0);
  g_assert_true (rs_test_port_is_listening (imaps));
  g_assert_true (rs_test_port_is_listening (smtps));

  rs_test_server_stop (imap);
  rs_test_server_stop (smtp);

  g_assert_false (rs_test_server_is_running (imap));
  g_assert_cmpint (rs_test_server_get_pid (imap), ==, 0);
  g_assert_true (wait_until_gone (imap_pid, imaps));
  g_assert_true (wait_until_gone (smtp_pid, smtps));

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", imaps, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (connection);

  /* Freeing removes the folder. */
  folder = g_strdup (rs_test_server_get_folder (imap));
  g_clear_pointer (&imap, rs_test_server_free);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
}

static void
test_aborted_test_stops_servers (void)
{
  g_autofree char *folder = NULL;
  g_autofree char *record = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) values = NULL;

  if (g_test_subprocess ())
    {
      RsTestServer *imap, *smtp;
      g_autofree char *text = NULL;


      imap = rs_test_dovecot_start (NULL, &error);
      g_assert_no_error (error);
      smtp = rs_test_exim_start (NULL, &error);
      g_assert_no_error (error);

      g_autofree char *imap_ca = g_path_get_dirname (rs_test_server_get_ca_file (imap));
      g_autofree char *smtp_ca = g_path_get_dirname (rs_test_server_get_ca_file (smtp));

      text = g_strdup_printf ("%d %u %d %u %s %s %s %s",
                              rs_test_server_get_pid (imap),
                              rs_test_server_get_port (imap, "imaps"),
                              rs_test_server_get_pid (smtp),
                              rs_test_server_get_port (smtp, "smtps"),
                              rs_test_server_get_folder (imap),
                              rs_test_server_get_folder (smtp),
                              imap_ca, smtp_ca);
      g_file_set_contents (g_getenv ("RS_HARNESS_RECORD"), text, -1, &error);
      g_assert_no_error (error);

      /* A failing test: no cleanup runs. */
      abort ();
    }

  if (skip_without (rs_test_exim_available) || skip_without (rs_test_dovecot_available))
    return;

  folder = g_dir_make_tmp ("rs-test-abort-XXXXXX", &error);
  g_assert_no_error (error);
  record = g_build_filename (folder, "record", NULL);
  g_setenv ("RS_HARNESS_RECORD", record, TRUE);

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();

  g_file_get_contents (record, &contents, NULL, &error);
  g_assert_no_error (error);
  values = g_strsplit (contents, " ", -1);
  g_assert_cmpuint (g_strv_length (values), ==, 8);

  /* The servers heard their parent die and went away. */
  g_assert_true (wait_until_gone (atoi (values[0]), atoi (values[1])));
  g_assert_true (wait_until_gone (atoi (values[2]), atoi (values[3])));

  g_unlink (record);
  g_rmdir (folder);
  for (guint i = 4; i < 8; i++)
    {
      g_autofree char *command = g_strdup_printf ("rm -rf '%s'", values[i]);

      g_assert_true (g_str_has_prefix (values[i], g_get_tmp_dir ()));
      g_assert_cmpint (system (command), ==, 0);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/harness/ca/certificates", test_ca_certificates);
  g_test_add_func ("/harness/dovecot/greets", test_dovecot_greets);
  g_test_add_func ("/harness/dovecot/wrong-password", test_dovecot_wrong_password);
  g_test_add_func ("/harness/dovecot/no-starttls", test_dovecot_no_starttls);
  g_test_add_func ("/harness/dovecot/bad-certificate", test_dovecot_bad_certificate);
  g_test_add_func ("/harness/dovecot/append", test_dovecot_append);
  g_test_add_func ("/harness/exim/greets-and-authenticates", test_exim_greets_and_authenticates);
  g_test_add_func ("/harness/exim/delivers-to-dovecot", test_exim_delivers_to_dovecot);
  g_test_add_func ("/harness/stop", test_stop);
  g_test_add_func ("/harness/aborted-test-stops-servers", test_aborted_test_stops_servers);

  return g_test_run ();
}
