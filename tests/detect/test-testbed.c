/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-testbed"

/*
 * The detection test bed itself: inside its network namespace, names
 * resolve through dnsmasq (A, MX, SRV, and nothing else), the test CA is
 * trusted by GIO's default TLS database as if it were a public one, and the
 * web, mail and hanging hosts behave as the detection tests expect.
 */

#include "config.h"

#include <glib/gi18n.h>

#include <string.h>

#include "detect-bed.h"

static DetectBed *bed;
static char *bed_skip;
static GError *bed_error;

static gboolean
need_bed (void)
{
  if (bed_skip != NULL)
    {
      g_test_skip (bed_skip);
      return FALSE;
    }
  g_assert_no_error (bed_error);
  g_assert_nonnull (bed);

  return TRUE;
}

static char *
resolve (const char  *name,
         GError     **error)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GList *addresses;
  char *first;

  addresses = g_resolver_lookup_by_name (resolver, name, NULL, error);
  if (addresses == NULL)
    return NULL;

  first = g_inet_address_to_string (addresses->data);
  g_resolver_free_addresses (addresses);
  return first;
}

static GIOStream *
connect_to (const char  *host,
            guint16      port,
            gboolean     tls,
            GError     **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  /* GIO's default TLS database: the namespace's system trust store. */
  g_socket_client_set_tls (client, tls);
  g_socket_client_set_timeout (client, 5);

  return G_IO_STREAM (g_socket_client_connect_to_host (client, host, port, NULL, error));
}

static char *
read_all (GIOStream  *stream,
          GError    **error)
{
  GInputStream *input = g_io_stream_get_input_stream (stream);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[4096];
  gssize n;

  while ((n = g_input_stream_read (input, buffer, sizeof buffer, NULL, error)) > 0)
    g_byte_array_append (data, buffer, (guint) n);
  if (n < 0)
    return NULL;

  g_byte_array_append (data, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
}

static char *
http_get (const char *host,
          guint16     port,
          gboolean    tls,
          const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *request = NULL;
  char *response;

  stream = connect_to (host, port, tls, &error);
  g_assert_no_error (error);

  request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
  g_output_stream_write_all (g_io_stream_get_output_stream (stream),
                             request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);

  response = read_all (stream, &error);
  g_assert_no_error (error);
  return response;
}

static char *
read_greeting (const char *host,
               guint16     port,
               gboolean    tls)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  char *line;

  stream = connect_to (host, port, tls, &error);
  g_assert_no_error (error);

  lines = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  return line;
}

/* ---- Tests ---- */

static void
test_isolated (void)
{
  g_autofree char *resolv = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  if (!need_bed ())
    return;

  g_assert_true (g_file_get_contents ("/etc/resolv.conf", &resolv, NULL, NULL));
  g_assert_nonnull (strstr (resolv, "nameserver 127.0.0.1"));

  /* No way out: only loopback exists in here (192.0.2.1 is TEST-NET-1). */
  connection = g_socket_client_connect_to_host (client, "192.0.2.1", 80, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
}

static void
test_dns_a (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *web = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *ispdb = NULL;

  if (!need_bed ())
    return;

  web = resolve ("autoconfig.ac-only.test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (web, ==, RS_TEST_NETNS_WEB_ADDRESS);

  mail = resolve ("imap.guess-only.test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mail, ==, DETECT_MAIL_ADDRESS);

  /* A real name of the Internet, answered by the bed. */
  ispdb = resolve ("autoconfig.thunderbird.net", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ispdb, ==, RS_TEST_NETNS_WEB_ADDRESS);
}

static void
test_dns_not_found (void)
{
  static const char * const names[] = {
    "nothing.test", "autoconfig.nothing.test", "mail.guess-only.test",
    "guess-only.test", "www.example.com",
  };
  gint64 start;

  if (!need_bed ())
    return;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *address = resolve (names[i], &error);

      g_assert_null (address);
      g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
    }

  /* An answer, not a timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

static void
lookup_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GError **error = user_data;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, error);
  g_resolver_free_addresses (addresses);
  if (*error == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "answered");
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_dns_unanswered (void)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  if (!need_bed ())
    return;

  /* No answer, not even "does not exist", within a second. */
  g_resolver_lookup_by_name_async (resolver, "imap.blackhole.test", cancellable,
                                   lookup_done_cb, &error);
  g_timeout_add (1000, cancel_cb, cancellable);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_dns_mx (void)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GError) error = NULL;
  GList *records;
  guint16 preference[2];
  const char *host[2];

  if (!need_bed ())
    return;

  records = g_resolver_lookup_records (resolver, "google-mx.test", G_RESOLVER_RECORD_MX, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (records), ==, 2);

  for (guint i = 0; i < 2; i++)
    g_variant_get (g_list_nth_data (records, i), "(q&s)", &preference[i], &host[i]);
  if (preference[0] > preference[1])
    {
      const char *h = host[0];

      host[0] = host[1];
      host[1] = h;
    }
  g_assert_cmpstr (host[0], ==, "aspmx.l.google.com");
  g_assert_cmpstr (host[1], ==, "alt1.aspmx.l.google.com");

  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
}

static void
test_dns_srv (void)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GError) error = NULL;
  GList *targets;
  GList *records;
  const char *target;
  guint16 priority, weight, port;

  if (!need_bed ())
    return;

  /* GResolver orders by priority: 10 before 20. */
  targets = g_resolver_lookup_service (resolver, "imaps", "tcp", "srv-only.test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (targets), ==, 2);
  g_assert_cmpstr (g_srv_target_get_hostname (targets->data), ==, "imap-10.srv-only.test");
  g_assert_cmpuint (g_srv_target_get_port (targets->data), ==, 993);
  g_assert_cmpstr (g_srv_target_get_hostname (targets->next->data), ==, "imap-20.srv-only.test");
  g_resolver_free_targets (targets);

  targets = g_resolver_lookup_service (resolver, "submission", "tcp", "srv-only.test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_srv_target_get_hostname (targets->data), ==, "submit.srv-only.test");
  g_assert_cmpuint (g_srv_target_get_port (targets->data), ==, 587);
  g_resolver_free_targets (targets);

  /* The record is there, and its target is the root: "not offered". */
  records = g_resolver_lookup_records (resolver, "_submissions._tcp.srv-only.test",
                                       G_RESOLVER_RECORD_SRV, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (records), ==, 1);
  g_variant_get (records->data, "(qqq&s)", &priority, &weight, &port, &target);
  g_assert_true (g_str_equal (target, "") || g_str_equal (target, "."));
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);

  /* No record at all. */
  targets = g_resolver_lookup_service (resolver, "imaps", "tcp", "nothing.test", NULL, &error);
  g_assert_null (targets);
  g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
}

static void
test_https_trusted (void)
{
  g_autofree char *config = NULL;
  g_autofree char *ispdb = NULL;
  g_autofree char *missing = NULL;

  if (!need_bed ())
    return;

  /* The test CA is trusted by GIO's default database, as in the product. */
  config = http_get ("autoconfig.ac-only.test", 443, TRUE,
                     "/mail/config-v1.1.xml?emailaddress=user%40ac-only.test");
  g_assert_true (g_str_has_prefix (config, "HTTP/1.0 200") || g_str_has_prefix (config, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (config, "<hostname>in.ac-only.test</hostname>"));

  ispdb = http_get ("autoconfig.thunderbird.net", 443, TRUE, "/v1.1/ispdb-only.test");
  g_assert_nonnull (strstr (ispdb, " 200 "));
  g_assert_nonnull (strstr (ispdb, "<hostname>in.ispdb-only.test</hostname>"));

  missing = http_get ("autoconfig.thunderbird.net", 443, TRUE, "/v1.1/nothing.test");
  g_assert_nonnull (strstr (missing, " 404 "));

  g_assert_true (rs_test_netns_wait_web_log (bed->net,
                                             "autoconfig.ac-only.test 443 \"GET /mail/config-v1.1.xml"
                                             "?emailaddress=user%40ac-only.test HTTP/1.0\" 200",
                                             3000));
}

static void
test_https_wrong_name (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;

  if (!need_bed ())
    return;

  /* The web server's certificate is for the bed's names only: reached as
   * its bare address, the name does not match and GIO refuses. */
  stream = connect_to (RS_TEST_NETNS_WEB_ADDRESS, 443, TRUE, &error);
  g_assert_null (stream);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

static void
test_https_redirect (void)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  if (!need_bed ())
    return;

  first = http_get ("redirect.test", 443, TRUE, "/.well-known/autoconfig/mail/config-v1.1.xml");
  g_assert_nonnull (strstr (first, " 301 "));
  g_assert_nonnull (strstr (first, "\nLocation: https://redirect.test/moved/config-v1.1.xml\r\n"));

  second = http_get ("redirect.test", 443, TRUE, "/moved/config-v1.1.xml");
  g_assert_nonnull (strstr (second, " 200 "));
  g_assert_nonnull (strstr (second, "<hostname>in.redirect.test</hostname>"));
}

static void
test_http_only (void)
{
  g_autofree char *plain = NULL;
  g_autofree char *secure = NULL;
  g_autofree char *other = NULL;

  if (!need_bed ())
    return;

  plain = http_get ("autoconfig.http-only.test", 80, FALSE, "/mail/config-v1.1.xml");
  g_assert_nonnull (strstr (plain, " 200 "));
  g_assert_nonnull (strstr (plain, "<hostname>in.http-only.test</hostname>"));

  secure = http_get ("autoconfig.http-only.test", 443, TRUE, "/mail/config-v1.1.xml");
  g_assert_nonnull (strstr (secure, " 404 "));

  /* And the HTTPS-only files are not served over plain HTTP. */
  other = http_get ("autoconfig.ac-only.test", 80, FALSE, "/mail/config-v1.1.xml");
  g_assert_nonnull (strstr (other, " 404 "));
}

static void
test_hostile_file (void)
{
  g_autofree char *response = NULL;

  if (!need_bed ())
    return;

  response = http_get ("autoconfig.hostile.test", 443, TRUE, "/mail/config-v1.1.xml");
  g_assert_nonnull (strstr (response, " 200 "));
  g_assert_nonnull (strstr (response, "<!ENTITY lol9 "));
}

static void
test_mail_greetings (void)
{
  g_autofree char *imaps = NULL;
  g_autofree char *imap = NULL;
  g_autofree char *smtps = NULL;
  g_autofree char *submission = NULL;

  if (!need_bed ())
    return;

  /* Real Dovecot and Exim at the guessed names, on the standard ports,
   * trusted through the namespace's store. */
  imaps = read_greeting ("imap.guess-only.test", 993, TRUE);
  g_assert_true (g_str_has_prefix (imaps, "* OK"));
  imap = read_greeting ("imap.guess-only.test", 143, FALSE);
  g_assert_true (g_str_has_prefix (imap, "* OK"));
  g_assert_nonnull (strstr (imap, "STARTTLS"));
  smtps = read_greeting ("smtp.guess-only.test", 465, TRUE);
  g_assert_true (g_str_has_prefix (smtps, "220 "));
  submission = read_greeting ("smtp.guess-only.test", 587, FALSE);
  g_assert_true (g_str_has_prefix (submission, "220 "));
}

static void
test_hanging_host (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  GSocket *socket;
  guint8 byte;
  gint64 start;

  if (!need_bed ())
    return;

  /* The connection is accepted... */
  stream = connect_to ("autoconfig.hang.test", 443, FALSE, &error);
  g_assert_no_error (error);

  /* ...and nothing ever comes. */
  socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  g_socket_set_timeout (socket, 1);
  start = g_get_monotonic_time ();
  g_assert_cmpint (g_socket_receive (socket, (char *) &byte, 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC / 2);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  bed = detect_bed_start (&bed_skip, &bed_error);

  g_test_add_func ("/testbed/isolated", test_isolated);
  g_test_add_func ("/testbed/dns/a", test_dns_a);
  g_test_add_func ("/testbed/dns/not-found", test_dns_not_found);
  g_test_add_func ("/testbed/dns/unanswered", test_dns_unanswered);
  g_test_add_func ("/testbed/dns/mx", test_dns_mx);
  g_test_add_func ("/testbed/dns/srv", test_dns_srv);
  g_test_add_func ("/testbed/https/trusted", test_https_trusted);
  g_test_add_func ("/testbed/https/wrong-name", test_https_wrong_name);
  g_test_add_func ("/testbed/https/redirect", test_https_redirect);
  g_test_add_func ("/testbed/http-only", test_http_only);
  g_test_add_func ("/testbed/hostile-file", test_hostile_file);
  g_test_add_func ("/testbed/mail-greetings", test_mail_greetings);
  g_test_add_func ("/testbed/hanging-host", test_hanging_host);

  status = g_test_run ();

  g_clear_pointer (&bed, detect_bed_free);
  g_clear_error (&bed_error);
  g_free (bed_skip);

  return status;
}
