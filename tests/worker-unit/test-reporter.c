/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-reporter"

#include "config.h"

#include <libsoup/soup.h>

#include "rs-error.h"
#include "rs-reporter.h"
#include "rs-test-reporting-server.h"
#include "rs-test-utils.h"

/* The reporter against a LOCAL Retailsphere server: the harness's
 * rs-test-reporting-server, a fake allowed because Retailsphere's real API
 * cannot be had on this machine.  It implements docs/REPORTING-API.md and
 * nothing more, and listens on 127.0.0.1 only. */

#define TOKEN "test-token-5e2b9d"
#define ACCOUNT_ID "acct-1"
#define ACCOUNT_ADDRESS "shop@example.com"

typedef struct
{
  RsTestReportingServer *server;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->server = rs_test_reporting_server_new (TOKEN);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->server, rs_test_reporting_server_free);
}

static GPtrArray *
make_replies (guint n)
{
  GPtrArray *replies = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  g_autoptr(GDateTime) date = g_date_time_new_from_iso8601 ("2024-03-01T09:30:00+01:00", NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("reply-%u@customer.example", i);
      RsReply *reply = rs_reply_new ("sent-1@shop.example.com", id, "Jürgen Müller",
                                     "jm@customer.example", date, "Re: Bögen");

      reply->account = g_strdup (ACCOUNT_ID);
      reply->idempotency_key = g_uuid_string_random ();
      g_ptr_array_add (replies, reply);
    }

  return replies;
}

static RsReporter *
make_reporter (RsTestReportingServer *server,
               const char            *token)
{
  g_autoptr(GError) error = NULL;
  RsReporter *reporter = rs_reporter_new (server->url, token, &error);

  g_assert_no_error (error);
  rs_reporter_set_account_address (reporter, ACCOUNT_ID, ACCOUNT_ADDRESS);

  return reporter;
}

static RsReportResult *
send_batch (RsReporter *reporter,
            GPtrArray  *replies)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  RsReportResult *report;

  rs_reporter_send_batch_async (reporter, replies, NULL, rs_test_result_cb, &result);
  report = rs_reporter_send_batch_finish (reporter, rs_test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);

  return report;
}

static void
test_accepted (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (3);
  g_autoptr(RsReportResult) report = send_batch (reporter, replies);
  g_autoptr(JsonParser) parser = json_parser_new ();
  RsReply *first = g_ptr_array_index (replies, 0);
  const char *stored;
  JsonObject *event;

  g_assert_cmpint (report->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (report->duplicates), ==, 0);
  g_assert_cmpuint (g_strv_length (report->pending), ==, 0);
  g_assert_true (g_strv_contains ((const char * const *) report->accepted, first->idempotency_key));
  g_assert_no_error (report->error);
  g_assert_cmpuint (f->server->n_requests, ==, 1);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 3);

  /* What the server holds is exactly what the Activity view shows. */
  stored = g_hash_table_lookup (f->server->stored, first->idempotency_key);
  g_assert_true (json_parser_load_from_data (parser, stored, -1, NULL));
  event = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (event, "account"), ==, ACCOUNT_ADDRESS);
  g_assert_cmpstr (json_object_get_string_member (event, "tracked_message_id"), ==, "sent-1@shop.example.com");
  g_assert_cmpstr (json_object_get_string_member (event, "message_id"), ==, "reply-0@customer.example");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (event, "from"), "name"), ==, "Jürgen Müller");
  g_assert_cmpstr (json_object_get_string_member (event, "date"), ==, "2024-03-01T09:30:00+01:00");
  g_assert_cmpstr (json_object_get_string_member (event, "subject"), ==, "Re: Bögen");
}

static void
test_duplicates (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (3);
  g_autoptr(RsReportResult) first = send_batch (reporter, replies);
  g_autoptr(RsReportResult) again = NULL;

  /* The same keys again, as after a crash before mark_reported. */
  again = send_batch (reporter, replies);
  g_assert_cmpint (again->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_strv_length (again->accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (again->duplicates), ==, 3);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 3);
}

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (3);
  g_autoptr(RsReportResult) busy = NULL;
  g_autoptr(RsReportResult) later = NULL;

  f->server->busy_left = 1;
  busy = send_batch (reporter, replies);
  g_assert_cmpint (busy->status, ==, RS_REPORT_RETRY);
  g_assert_cmpint (busy->retry_after, ==, 7);
  g_assert_cmpuint (busy->http_status, ==, 429);
  g_assert_cmpuint (g_strv_length (busy->pending), ==, 3);
  g_assert_cmpuint (g_strv_length (busy->accepted), ==, 0);
  g_assert_error (busy->error, RS_ERROR, RS_ERROR_NETWORK);
  g_assert_cmpstr (rs_error_get_server_text (busy->error), ==, "Slow down");
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 0);

  /* The worker waits at least that long, whatever the jitter draws. */
  for (guint attempt = 0; attempt < 4; attempt++)
    g_assert_cmpuint (rs_backoff_delay (attempt, busy->retry_after, 0.0), >=, 7);

  later = send_batch (reporter, replies);
  g_assert_cmpint (later->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 3);
}

static void
test_retry_after_date (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (1);
  g_autoptr(GDateTime) in_two_minutes = NULL;
  g_autoptr(RsReportResult) busy = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  in_two_minutes = g_date_time_add_seconds (now, 120);
  g_free (f->server->busy_retry_after);
  f->server->busy_retry_after = soup_date_time_to_string (in_two_minutes, SOUP_DATE_HTTP);
  f->server->busy_left = 1;

  busy = send_batch (reporter, replies);
  g_assert_cmpint (busy->status, ==, RS_REPORT_RETRY);
  g_assert_cmpint (busy->retry_after, >=, 115);
  g_assert_cmpint (busy->retry_after, <=, 120);
}

static void
test_unauthorized (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, "revoked-token-77");
  g_autoptr(GPtrArray) replies = make_replies (250);
  g_autoptr(RsReportResult) report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_AUTH_FAILED);
  g_assert_error (report->error, RS_ERROR, RS_ERROR_AUTHENTICATION);
  g_assert_cmpstr (rs_error_get_server_text (report->error), ==, "This token was revoked");
  g_assert_null (strstr (report->error->message, "revoked-token-77"));
  /* It stops at the first refusal and keeps everything queued. */
  g_assert_cmpuint (f->server->n_requests, ==, 1);
  g_assert_cmpuint (g_strv_length (report->pending), ==, 250);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 0);
}

static void
test_too_large (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (5);
  g_autoptr(RsReportResult) report = NULL;

  f->server->max_events = 2;
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 5);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 5);
  /* 5 → 413; 3 → 413; 2, 1 accepted; 2 accepted. */
  g_assert_cmpuint (f->server->n_requests, ==, 5);
}

static void
test_rejected_event (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (4);
  g_autoptr(RsReportResult) report = NULL;
  const char *bad = ((RsReply *) g_ptr_array_index (replies, 2))->idempotency_key;

  f->server->bad_key = g_strdup (bad);
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_REJECTED);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (report->rejected), ==, 1);
  g_assert_cmpstr (report->rejected[0], ==, bad);
  g_assert_error (report->error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 3);
}

static void
test_batches_of_100 (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (250);
  g_autoptr(RsReportResult) report = NULL;

  f->server->max_events = RS_REPORTER_MAX_BATCH;
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (f->server->n_requests, ==, 3);
  g_assert_cmpuint (g_hash_table_size (f->server->stored), ==, 250);
}

static void
test_unreachable (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(RsReporter) reporter = NULL;
  g_autoptr(GPtrArray) replies = make_replies (2);
  g_autoptr(RsReportResult) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  /* A port that is bound but not listening refuses connections. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  reporter = rs_reporter_new (url, TOKEN, &error);
  g_assert_no_error (error);
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_RETRY);
  g_assert_error (report->error, RS_ERROR, RS_ERROR_NETWORK);
  g_assert_cmpuint (g_strv_length (report->pending), ==, 2);
  g_assert_cmpint (report->retry_after, ==, -1);
}

static void
test_outbox (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, TOKEN);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) marked = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  RsOutboxItem *item;
  gsize size;
  const char *raw;

  rs_test_reporting_server_add_outbox (f->server, "ob 1/2", ACCOUNT_ADDRESS,
                                       "From: shop@example.com\r\nTo: c@example.org\r\nSubject: Quote\r\n\r\nHello\r\n");
  rs_reporter_fetch_outbox_async (reporter, ACCOUNT_ID, NULL, rs_test_result_cb, &result);
  items = rs_reporter_fetch_outbox_finish (reporter, rs_test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpstr (item->id, ==, "ob 1/2");
  g_assert_cmpstr (item->account, ==, ACCOUNT_ADDRESS);
  raw = g_bytes_get_data (item->raw, &size);
  g_assert_true (size > 20 && memcmp (raw, "From: shop@example.com\r\n", 24) == 0);

  rs_reporter_mark_outbox_sent_async (reporter, item->id, "rs.1@example.com", NULL, rs_test_result_cb, &marked);
  g_assert_true (rs_reporter_mark_outbox_sent_finish (reporter, rs_test_wait_result (&marked), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->server->marked_sent->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->server->marked_sent, 0), ==, "ob 1/2 rs.1@example.com");
}

static void
test_outbox_unauthorized (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (f->server, "wrong");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;

  rs_reporter_fetch_outbox_async (reporter, ACCOUNT_ID, NULL, rs_test_result_cb, &result);
  items = rs_reporter_fetch_outbox_finish (reporter, rs_test_wait_result (&result), &error);
  g_assert_null (items);
  g_assert_error (error, RS_ERROR, RS_ERROR_AUTHENTICATION);
}

static void
test_server_url (void)
{
  const char *refused[] = { "http://retailsphere.example.com", "ftp://x.example", "not a url",
                            "https://", "https://x.example/?token=1" };
  g_autoptr(RsReporter) https = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(RsReporter) reporter = rs_reporter_new (refused[i], TOKEN, &error);

      g_assert_null (reporter);
      g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
      g_clear_error (&error);
    }

  https = rs_reporter_new ("https://app.retailsphere.example/", TOKEN, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rs_reporter_get_server_url (https), ==, "https://app.retailsphere.example");
}

static void
test_backoff (void)
{
  /* Full jitter: anywhere from 1 s up to the ceiling. */
  g_assert_cmpuint (rs_backoff_delay (0, -1, 0.0), ==, 1);
  g_assert_cmpuint (rs_backoff_delay (0, -1, 0.999), ==, 4);
  g_assert_cmpuint (rs_backoff_delay (1, -1, 0.999), ==, 9);
  g_assert_cmpuint (rs_backoff_delay (3, -1, 0.5), ==, 20);
  /* The ceiling grows, then stops at the cap. */
  g_assert_cmpuint (rs_backoff_delay (30, -1, 0.999), <=, RS_BACKOFF_CAP_SECONDS);
  g_assert_cmpuint (rs_backoff_delay (30, -1, 0.999), >=, RS_BACKOFF_CAP_SECONDS - 2);
  g_assert_cmpuint (rs_backoff_delay (G_MAXUINT, -1, 1.0), ==, RS_BACKOFF_CAP_SECONDS);
  /* Retry-After is a floor, capped at a day. */
  g_assert_cmpuint (rs_backoff_delay (0, 120, 0.3), ==, 120);
  g_assert_cmpuint (rs_backoff_delay (10, 2, 0.999), >, 2);
  g_assert_cmpuint (rs_backoff_delay (0, G_MAXINT64, 0.0), ==, RS_RETRY_AFTER_CAP_SECONDS);
  /* A bad random number cannot make it zero or huge. */
  g_assert_cmpuint (rs_backoff_delay (2, -1, -5.0), ==, 1);
  g_assert_cmpuint (rs_backoff_delay (2, -1, 7.0), ==, 20);

  for (guint i = 0; i < 1000; i++)
    {
      guint attempt = (guint) g_test_rand_int_range (0, 40);
      guint delay = rs_backoff_delay (attempt, -1, g_test_rand_double ());

      g_assert_cmpuint (delay, >=, 1);
      g_assert_cmpuint (delay, <=, RS_BACKOFF_CAP_SECONDS);
    }
}

static void
test_parse_retry_after (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2024, 3, 1, 12, 0, 0);

  g_assert_cmpint (rs_parse_retry_after ("120", now), ==, 120);
  g_assert_cmpint (rs_parse_retry_after (" 0", now), ==, 0);
  g_assert_cmpint (rs_parse_retry_after ("Fri, 01 Mar 2024 12:05:00 GMT", now), ==, 300);
  g_assert_cmpint (rs_parse_retry_after ("Fri, 01 Mar 2024 11:00:00 GMT", now), ==, 0);
  g_assert_cmpint (rs_parse_retry_after ("soon", now), ==, -1);
  g_assert_cmpint (rs_parse_retry_after ("-5", now), ==, -1);
  g_assert_cmpint (rs_parse_retry_after (NULL, now), ==, -1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/reporter/accepted", test_accepted);
  ADD ("/reporter/duplicates-idempotent", test_duplicates);
  ADD ("/reporter/retry-after", test_retry_after);
  ADD ("/reporter/retry-after-date", test_retry_after_date);
  ADD ("/reporter/unauthorized", test_unauthorized);
  ADD ("/reporter/too-large-split", test_too_large);
  ADD ("/reporter/rejected-event", test_rejected_event);
  ADD ("/reporter/batches-of-100", test_batches_of_100);
  ADD ("/reporter/outbox", test_outbox);
  ADD ("/reporter/outbox-unauthorized", test_outbox_unauthorized);
#undef ADD
  g_test_add_func ("/reporter/unreachable", test_unreachable);
  g_test_add_func ("/reporter/server-url", test_server_url);
  g_test_add_func ("/reporter/backoff", test_backoff);
  g_test_add_func ("/reporter/parse-retry-after", test_parse_retry_after);

  return g_test_run ();
}
