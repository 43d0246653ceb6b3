/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-imap-client"

/*
 * The IMAP client against a real Dovecot started by the harness.
 *
 * A few edges cannot be had from any real server configuration: a PREAUTH
 * greeting on cleartext, bytes injected after a STARTTLS OK, a server that
 * accepts and never speaks.  For those, a HOSTILE PEER — a tiny loopback
 * listener in this file — plays the attacker or the broken server.  It
 * follows RFC 3501 / RFC 8314 framing only as far as the attack needs,
 * and records every byte the client sent, so the tests can show what did
 * (not) cross the wire.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-error.h"
#include "rs-imap-client.h"
#include "rs-net.h"
#include "rs-test-server.h"
#include "rs-test-utils.h"

/* ------------------------------------------------------------- servers */

typedef struct
{
  RsTestCert    cert;
  gboolean      no_starttls;
  RsTestServer *server;
} ServerSlot;

static ServerSlot servers[] = {
  { RS_TEST_CERT_VALID, FALSE, NULL },
  { RS_TEST_CERT_SELF_SIGNED, FALSE, NULL },
  { RS_TEST_CERT_VALID, TRUE, NULL },
};

static RsTestCa *shared_ca;

/* Starts (once) a Dovecot; skips the test with the reason when it cannot. */
static RsTestServer *
get_dovecot (RsTestCert cert,
             gboolean   no_starttls)
{
  g_autofree char *reason = NULL;

  if (!rs_test_dovecot_available (&reason))
    {
      g_test_skip (reason);
      return NULL;
    }

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      RsTestDovecotOptions opts = { 0 };
      g_autoptr(GError) error = NULL;

      if (servers[i].cert != cert || servers[i].no_starttls != no_starttls)
        continue;
      if (servers[i].server != NULL)
        return servers[i].server;

      opts.certificate = cert;
      opts.no_starttls = no_starttls;
      opts.ca = shared_ca;
      servers[i].server = rs_test_dovecot_start (&opts, &error);
      g_assert_no_error (error);
      if (shared_ca == NULL)
        shared_ca = rs_test_ca_ref (rs_test_server_get_ca (servers[i].server));

      return servers[i].server;
    }

  g_assert_not_reached ();
}

static RsServerSettings *
settings_for (RsTestServer *server,
              const char   *port_name,
              RsSecurity    security)
{
  return rs_server_settings_new (rs_test_server_get_host (server),
                                 rs_test_server_get_port (server, port_name),
                                 security,
                                 rs_test_server_get_user (server));
}

/* ------------------------------------------------------- running async */

static gboolean
client_connect (RsImapClient  *client,
                GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_imap_client_connect_async (client, NULL, rs_test_result_cb, &result);
  rs_test_wait_result (&result);

  return rs_imap_client_connect_finish (client, result, error);
}

static gboolean
client_authenticate (RsImapClient  *client,
                     const char    *password,
                     GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_imap_client_authenticate_async (client, password, NULL, rs_test_result_cb, &result);
  rs_test_wait_result (&result);

  return rs_imap_client_authenticate_finish (client, result, error);
}

static gboolean
client_logout (RsImapClient  *client,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_imap_client_logout_async (client, NULL, rs_test_result_cb, &result);
  rs_test_wait_result (&result);

  return rs_imap_client_logout_finish (client, result, error);
}

static gboolean
run_check (const RsServerSettings  *settings,
           const RsTrust           *trust,
           const char              *password,
           GError                 **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_imap_check_async (settings, trust, password, NULL, rs_test_result_cb, &result);
  rs_test_wait_result (&result);

  g_assert_true (RS_IS_IMAP_CLIENT (rs_imap_check_get_client (result)));

  return rs_imap_check_finish (result, error);
}

static gboolean
wait_for_log (RsTestServer *server,
              const char   *needle)
{
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *log = rs_test_server_read_log (server);

      if (log != NULL && strstr (log, needle) != NULL)
        return TRUE;
      g_usleep (100 * 1000);
    }

  return FALSE;
}

/* ------------------------------------------------------ Dovecot tests */

static void
assert_signed_in (RsImapClient *client,
                  const char   *password)
{
  g_autoptr(GError) error = NULL;
  RsCertificateInfo *info;

  g_assert_true (rs_imap_client_is_encrypted (client));
  g_assert_true (rs_imap_client_has_capability (client, "IMAP4rev1"));
  /* After TLS the list is asked again; Dovecot drops STARTTLS and
   * LOGINDISABLED from it. */
  g_assert_false (rs_imap_client_has_capability (client, "STARTTLS"));
  g_assert_false (rs_imap_client_has_capability (client, "LOGINDISABLED"));
  g_assert_cmpint (rs_imap_client_get_tls_protocol_version (client), >=, G_TLS_PROTOCOL_VERSION_TLS_1_2);
  g_assert_nonnull (rs_imap_client_get_tls_ciphersuite_name (client));
  info = rs_imap_client_get_peer_certificate (client);
  g_assert_nonnull (info);
  g_assert_cmpuint (strlen (info->fingerprint), ==, 64);
  g_assert_cmpint (rs_imap_client_get_tls_trust (client), ==, RS_TLS_TRUST_CA_FILE);

  g_assert_true (client_authenticate (client, password, &error));
  g_assert_no_error (error);
  g_assert_true (rs_imap_client_is_authenticated (client));
  g_assert_null (rs_imap_client_get_alert (client));
  /* Capabilities after sign-in are Dovecot's full list. */
  g_assert_true (rs_imap_client_has_capability (client, "IDLE"));

  g_assert_true (client_logout (client, &error));
  g_assert_no_error (error);
}

static void
test_implicit_tls (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_VALID, FALSE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(RsImapClient) client = NULL;
  g_autoptr(GError) error = NULL;

  if (server == NULL)
    return;

  settings = settings_for (server, "imaps", RS_SECURITY_TLS);
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  client = rs_imap_client_new (settings, trust);
  rs_imap_client_set_timeout (client, 10);

  g_assert_true (client_connect (client, &error));
  g_assert_no_error (error);
  g_assert_nonnull (rs_imap_client_get_greeting (client));
  assert_signed_in (client, rs_test_server_get_password (server));

  g_assert_true (wait_for_log (server, "Login: user=<"));
}

static void
test_starttls (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_VALID, FALSE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(RsImapClient) client = NULL;
  g_autoptr(GError) error = NULL;

  if (server == NULL)
    return;

  settings = settings_for (server, "imap", RS_SECURITY_STARTTLS);
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  client = rs_imap_client_new (settings, trust);
  rs_imap_client_set_timeout (client, 10);

  g_assert_true (client_connect (client, &error));
  g_assert_no_error (error);
  assert_signed_in (client, rs_test_server_get_password (server));
}

static void
test_check (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_VALID, FALSE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;

  if (server == NULL)
    return;

  settings = settings_for (server, "imaps", RS_SECURITY_TLS);
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  g_assert_true (run_check (settings, trust, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);
}

static void
test_wrong_password (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_VALID, FALSE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;

  if (server == NULL)
    return;

  settings = settings_for (server, "imaps", RS_SECURITY_TLS);
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  g_assert_false (run_check (settings, trust, "not-the-password", &error));

  g_assert_error (error, RS_ERROR, RS_ERROR_AUTHENTICATION);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  g_assert_cmpstr (rs_error_get_response_code (error), ==, "AUTHENTICATIONFAILED");
  /* Dovecot's own words. */
  g_assert_cmpstr (rs_error_get_server_text (error), ==, "Authentication failed.");
}

static void
test_self_signed_then_pinned (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_SELF_SIGNED, FALSE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(RsTrust) pinned = NULL;
  g_autoptr(RsImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  RsCertificateInfo *info;

  if (server == NULL)
    return;

  settings = settings_for (server, "imaps", RS_SECURITY_TLS);
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  g_assert_false (run_check (settings, trust, rs_test_server_get_password (server), &error));

  g_assert_error (error, RS_ERROR, RS_ERROR_CERTIFICATE);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  info = rs_error_get_certificate (error);
  g_assert_nonnull (info);
  g_assert_cmpuint (strlen (info->fingerprint), ==, 64);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  fingerprint = g_strdup (info->fingerprint);

  /* The user chose to trust this very certificate. */
  pinned = rs_trust_new (NULL, (const char * const []) { fingerprint, NULL });
  client = rs_imap_client_new (settings, pinned);
  g_clear_error (&error);
  g_assert_true (client_connect (client, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rs_imap_client_get_tls_trust (client), ==, RS_TLS_TRUST_PINNED);
  g_assert_cmpstr (rs_imap_client_get_peer_certificate (client)->fingerprint, ==, fingerprint);
  g_assert_true (client_authenticate (client, rs_test_server_get_password (server), &error));
  g_assert_no_error (error);
  g_assert_true (client_logout (client, &error));
}

static void
test_starttls_not_offered_dovecot (void)
{
  RsTestServer *server = get_dovecot (RS_TEST_CERT_VALID, TRUE);
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  if (server == NULL)
    return;

  settings = settings_for (server, "imap", RS_SECURITY_STARTTLS);
  g_assert_false (run_check (settings, NULL, rs_test_server_get_password (server), &error));

  g_assert_error (error, RS_ERROR, RS_ERROR_TLS_UNAVAILABLE);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);

  /* Dovecot saw the connection go without a single sign-in attempt. */
  g_assert_true (wait_for_log (server, "no auth attempts"));
  log = rs_test_server_read_log (server);
  g_assert_null (strstr (log, rs_test_server_get_password (server)));
}

/* --------------------------------------------------------- hostile peer */

typedef enum
{
  PEER_SILENT,        /* accepts, never says a word */
  PEER_PREAUTH,       /* "* PREAUTH" on cleartext */
  PEER_NO_STARTTLS,   /* a cleartext server that would gladly take a password */
  PEER_INJECTION,     /* STARTTLS OK followed by injected responses */
} PeerScript;

typedef struct
{
  PeerScript  script;
  GSocket    *socket;
  guint16     port;
  GThread    *thread;
  GMutex      lock;
  GString    *received;
} HostilePeer;

static void
peer_send (GSocket    *client,
           const char *text)
{
  gsize len = strlen (text);
  gsize sent = 0;

  while (sent < len)
    {
      gssize n = g_socket_send (client, text + sent, len - sent, NULL, NULL);

      if (n <= 0)
        return;
      sent += n;
    }
}

/* One line from @client, or NULL when it is gone. */
static char *
peer_read_line (HostilePeer *peer,
                GSocket     *client)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (;;)
    {
      char c;
      gssize n = g_socket_receive (client, &c, 1, NULL, NULL);

      if (n <= 0)
        return NULL;

      g_mutex_lock (&peer->lock);
      g_string_append_c (peer->received, c);
      g_mutex_unlock (&peer->lock);

      g_string_append_c (line, c);
      if (c == '\n')
        return g_string_free (g_steal_pointer (&line), FALSE);
    }
}

static gpointer
peer_thread (gpointer data)
{
  HostilePeer *peer = data;
  g_autoptr(GSocket) client = NULL;
  char *line;

  client = g_socket_accept (peer->socket, NULL, NULL);
  if (client == NULL)
    return NULL;
  g_socket_set_timeout (client, 15);

  switch (peer->script)
    {
    case PEER_SILENT:
      break;

    case PEER_PREAUTH:
      peer_send (client, "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as test\r\n");
      break;

    case PEER_NO_STARTTLS:
      peer_send (client, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n");
      break;

    case PEER_INJECTION:
      peer_send (client, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n");
      break;

    default:
      g_assert_not_reached ();
    }

  while ((line = peer_read_line (peer, client)) != NULL)
    {
      g_auto(GStrv) words = g_strsplit (line, " ", 3);
      g_autofree char *reply = NULL;

      g_free (line);
      /* Silent means silent: a TLS hello may hold a newline and a space
       * by chance, and must not be answered as if it were a command. */
      if (peer->script == PEER_SILENT)
        continue;
      if (words[0] == NULL || words[1] == NULL)
        continue;
      g_strchomp (words[1]);

      if (peer->script == PEER_INJECTION && g_ascii_strcasecmp (words[1], "STARTTLS") == 0)
        /* The attacker's bytes ride on the same segment as the OK. */
        reply = g_strdup_printf ("%s OK Begin TLS negotiation now\r\n"
                                 "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", words[0]);
      else if (g_ascii_strcasecmp (words[1], "CAPABILITY") == 0)
        reply = g_strdup_printf ("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n%s OK done\r\n", words[0]);
      else
        reply = g_strdup_printf ("%s OK done\r\n", words[0]);

      peer_send (client, reply);
    }

  return NULL;
}

static HostilePeer *
hostile_peer_start (PeerScript script)
{
  HostilePeer *peer = g_new0 (HostilePeer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  peer->script = script;
  peer->received = g_string_new (NULL);
  g_mutex_init (&peer->lock);

  peer->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (peer->socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (peer->socket, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (peer->socket, 15);
  bound = g_socket_get_local_address (peer->socket, &error);
  g_assert_no_error (error);
  peer->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  peer->thread = g_thread_new ("hostile-peer", peer_thread, peer);

  return peer;
}

/* Returns what the client sent. */
static char *
hostile_peer_stop (HostilePeer *peer)
{
  char *received;

  g_thread_join (peer->thread);
  g_socket_close (peer->socket, NULL);
  g_object_unref (peer->socket);
  received = g_string_free (peer->received, FALSE);
  g_mutex_clear (&peer->lock);
  g_free (peer);

  return received;
}

static RsServerSettings *
peer_settings (HostilePeer *peer,
               RsSecurity   security)
{
  return rs_server_settings_new ("127.0.0.1", peer->port, security, "victim@example.test");
}

#define PEER_PASSWORD "hunter2-do-not-send"

static void
test_peer_starttls_not_offered (void)
{
  HostilePeer *peer = hostile_peer_start (PEER_NO_STARTTLS);
  g_autoptr(RsServerSettings) settings = peer_settings (peer, RS_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autofree char *b64 = NULL;

  g_assert_false (run_check (settings, NULL, PEER_PASSWORD, &error));
  received = hostile_peer_stop (peer);

  g_assert_error (error, RS_ERROR, RS_ERROR_TLS_UNAVAILABLE);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);

  /* No credentials crossed the wire, in any form. */
  b64 = g_base64_encode ((const guchar *)"\0victim@example.test\0" PEER_PASSWORD,
                         strlen ("victim@example.test" PEER_PASSWORD) + 2);
  g_assert_null (strstr (received, PEER_PASSWORD));
  g_assert_null (strstr (received, b64));
  g_assert_null (g_strstr_len (received, -1, "LOGIN"));
  g_assert_null (g_strstr_len (received, -1, "AUTHENTICATE"));
}

static void
test_peer_preauth_cleartext (void)
{
  HostilePeer *peer = hostile_peer_start (PEER_PREAUTH);
  g_autoptr(RsServerSettings) settings = peer_settings (peer, RS_SECURITY_STARTTLS);
  g_autoptr(RsImapClient) client = rs_imap_client_new (settings, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  g_assert_false (client_connect (client, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  g_assert_cmpstr (rs_error_get_server_text (error), ==, "Logged in as test");
  g_assert_false (rs_imap_client_is_authenticated (client));

  /* Nothing is usable afterwards: no sign-in on that connection. */
  g_clear_error (&error);
  g_assert_false (client_authenticate (client, PEER_PASSWORD, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);

  g_clear_object (&client);
  received = hostile_peer_stop (peer);
  g_assert_cmpstr (received, ==, "");
}

static void
test_peer_starttls_injection (void)
{
  HostilePeer *peer = hostile_peer_start (PEER_INJECTION);
  g_autoptr(RsServerSettings) settings = peer_settings (peer, RS_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;

  g_assert_false (run_check (settings, NULL, PEER_PASSWORD, &error));
  received = hostile_peer_stop (peer);

  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  /* The client asked for STARTTLS and then said nothing more: not even a
   * TLS hello, let alone credentials. */
  g_assert_cmpstr (received, ==, "R1 STARTTLS\r\n");
  g_assert_cmpstr (error->message, ==, _("The mail server sent data before encryption started"));
}

static void
test_peer_silent_timeout (void)
{
  HostilePeer *peer = hostile_peer_start (PEER_SILENT);
  g_autoptr(RsServerSettings) settings = peer_settings (peer, RS_SECURITY_TLS);
  g_autoptr(RsImapClient) client = rs_imap_client_new (settings, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  gint64 start, elapsed;

  rs_imap_client_set_timeout (client, 2);
  start = g_get_monotonic_time ();
  g_assert_false (client_connect (client, &error));
  elapsed = g_get_monotonic_time () - start;

  g_test_message ("after %" G_GINT64_FORMAT " ms: %s (%s)", elapsed / 1000, error->message,
                  rs_error_get_server_text (error));
  g_assert_error (error, RS_ERROR, RS_ERROR_TIMEOUT);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  g_assert_cmpint (elapsed, >=, 1900 * 1000);
  g_assert_cmpint (elapsed, <=, 3500 * 1000);

  g_clear_object (&client);
  received = hostile_peer_stop (peer);
}

static void
test_peer_silent_timeout_cleartext (void)
{
  HostilePeer *peer = hostile_peer_start (PEER_SILENT);
  g_autoptr(RsServerSettings) settings = peer_settings (peer, RS_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *received = NULL;
  g_autoptr(RsImapClient) client = rs_imap_client_new (settings, NULL);
  gint64 start, elapsed;

  rs_imap_client_set_timeout (client, 2);
  start = g_get_monotonic_time ();
  g_assert_false (client_connect (client, &error));
  elapsed = g_get_monotonic_time () - start;

  g_assert_error (error, RS_ERROR, RS_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed, <=, 3500 * 1000);

  g_clear_object (&client);
  received = hostile_peer_stop (peer);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/imap/dovecot/implicit-tls", test_implicit_tls);
  g_test_add_func ("/imap/dovecot/starttls", test_starttls);
  g_test_add_func ("/imap/dovecot/check", test_check);
  g_test_add_func ("/imap/dovecot/wrong-password", test_wrong_password);
  g_test_add_func ("/imap/dovecot/self-signed-then-pinned", test_self_signed_then_pinned);
  g_test_add_func ("/imap/dovecot/starttls-not-offered", test_starttls_not_offered_dovecot);
  g_test_add_func ("/imap/hostile/starttls-not-offered", test_peer_starttls_not_offered);
  g_test_add_func ("/imap/hostile/preauth-cleartext", test_peer_preauth_cleartext);
  g_test_add_func ("/imap/hostile/starttls-injection", test_peer_starttls_injection);
  g_test_add_func ("/imap/hostile/silent-timeout-tls", test_peer_silent_timeout);
  g_test_add_func ("/imap/hostile/silent-timeout-cleartext", test_peer_silent_timeout_cleartext);

  ret = g_test_run ();

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    g_clear_pointer (&servers[i].server, rs_test_server_free);
  g_clear_pointer (&shared_ca, rs_test_ca_unref);

  return ret;
}
