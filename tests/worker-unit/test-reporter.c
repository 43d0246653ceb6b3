/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-reporter"

#include "config.h"

#include <libsoup/soup.h>

#include "rs-error.h"
#include "rs-reporter.h"

/* The reporter against a LOCAL Retailsphere server.  This server is a
 * fake, allowed here because Retailsphere's real API cannot be had on
 * this machine: it implements docs/REPORTING-API.md and nothing more —
 * bearer token, atomic batches, idempotency keys stored once, 200 with
 * accepted/duplicates, 400 for a malformed event, 413 above a batch
 * size, 429 with Retry-After, 401 for a wrong token, and the outbox.
 * It listens on 127.0.0.1 only. */

#define TOKEN "test-token-5e2b9d"
#define ACCOUNT_ID "acct-1"
#define ACCOUNT_ADDRESS "shop@example.com"

typedef struct
{
  SoupServer *server;
  char       *url;
  GHashTable *stored;         /* key → event JSON */
  guint       requests;
  guint       max_events;     /* 413 above this many */
  guint       busy_left;      /* 429 this many times */
  char       *busy_retry_after;
  char       *bad_key;        /* 400 when a batch holds it */
  GPtrArray  *marked_sent;    /* "id message_id" */
} Server;

static const char *event_members[] = {
  "idempotency_key", "account", "tracked_message_id", "message_id", "from", "date", "subject",
};

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              JsonNode          *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  respond_json (msg, status, node);
}

static gboolean
authorized (SoupServerMessage *msg)
{
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  return g_strcmp0 (value, "Bearer " TOKEN) == 0;
}

static void
events_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Server *server = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  JsonArray *events;
  JsonNode *root;

  server->requests++;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST only");
      return;
    }

  if (!authorized (msg))
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "This token was revoked");
      return;
    }

  if (server->busy_left > 0)
    {
      server->busy_left--;
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", server->busy_retry_after);
      respond_error (msg, 429, "Slow down");
      return;
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)) ||
      !json_object_has_member (json_node_get_object (root), "events"))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Not a batch");
      return;
    }

  events = json_object_get_array_member (json_node_get_object (root), "events");
  if (json_array_get_length (events) > server->max_events)
    {
      respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Too many events");
      return;
    }

  /* Validate the whole batch first: it is stored whole or not at all. */
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *key = json_object_get_string_member_with_default (event, "idempotency_key", NULL);

      /* Exactly the documented fields: nothing else leaves the machine. */
      if (json_object_get_size (event) != G_N_ELEMENTS (event_members) || key == NULL ||
          g_strcmp0 (key, server->bad_key) == 0)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Malformed event");
          return;
        }
      for (guint j = 0; j < G_N_ELEMENTS (event_members); j++)
        {
          if (!json_object_has_member (event, event_members[j]))
            {
              respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Malformed event");
              return;
            }
        }
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "accepted");
  json_builder_begin_array (builder);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonNode *event = json_array_get_element (events, i);
      const char *key = json_object_get_string_member (json_node_get_object (event), "idempotency_key");

      if (!g_hash_table_contains (server->stored, key))
        {
          g_hash_table_insert (server->stored, g_strdup (key), json_to_string (event, FALSE));
          json_builder_add_string_value (builder, key);
        }
      else
        g_ptr_array_add (fresh, (gpointer) key);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "duplicates");
  json_builder_begin_array (builder);
  for (guint i = 0; i < fresh->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (fresh, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  reply = json_builder_get_root (builder);
  respond_json (msg, SOUP_STATUS_OK, reply);
}

static void
outbox_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Server *server = user_data;

  server->requests++;

  if (!authorized (msg))
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "This token was revoked");
      return;
    }

  if (g_str_equal (path, "/api/v1/outbox") && g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      const char *raw = "From: shop@example.com\r\nTo: c@example.org\r\nSubject: Quote\r\n\r\nHello\r\n";
      g_autofree char *encoded = g_base64_encode ((const guchar *) raw, strlen (raw));
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;
      const char *account = query ? g_hash_table_lookup (query, "account") : NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "messages");
      json_builder_begin_array (builder);
      if (g_strcmp0 (account, ACCOUNT_ADDRESS) == 0)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, "ob 1/2");
          json_builder_set_member_name (builder, "account");
          json_builder_add_string_value (builder, account);
          json_builder_set_member_name (builder, "raw");
          json_builder_add_string_value (builder, encoded);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
      respond_json (msg, SOUP_STATUS_OK, node);
      return;
    }

  if (g_str_has_suffix (path, "/sent") && g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) ||
          !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Not JSON");
          return;
        }

      g_ptr_array_add (server->marked_sent,
                       g_strdup_printf ("%s %s", path,
                                        json_object_get_string_member (json_node_get_object (root), "message_id")));
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }

  respond_error (msg, SOUP_STATUS_NOT_FOUND, "No such thing");
}

static void
server_set_up (Server        *server,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *uri = NULL;

  server->server = soup_server_new (NULL, NULL);
  server->stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  server->marked_sent = g_ptr_array_new_with_free_func (g_free);
  server->max_events = 1000;
  server->busy_retry_after = g_strdup ("7");
  soup_server_add_handler (server->server, "/api/v1/reply-events", events_cb, server, NULL);
  soup_server_add_handler (server->server, "/api/v1/outbox", outbox_cb, server, NULL);

  soup_server_listen_local (server->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (server->server);
  uri = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  server->url = g_strdup (uri);
}

static void
server_tear_down (Server        *server,
                  gconstpointer  data)
{
  soup_server_disconnect (server->server);
  g_clear_object (&server->server);
  g_clear_pointer (&server->stored, g_hash_table_unref);
  g_clear_pointer (&server->marked_sent, g_ptr_array_unref);
  g_free (server->busy_retry_after);
  g_free (server->bad_key);
  g_free (server->url);
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
make_reporter (Server     *server,
               const char *token)
{
  g_autoptr(GError) error = NULL;
  RsReporter *reporter = rs_reporter_new (server->url, token, &error);

  g_assert_no_error (error);
  rs_reporter_set_account_address (reporter, ACCOUNT_ID, ACCOUNT_ADDRESS);

  return reporter;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

static RsReportResult *
send_batch (RsReporter *reporter,
            GPtrArray  *replies)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  RsReportResult *report;

  rs_reporter_send_batch_async (reporter, replies, NULL, result_cb, &result);
  report = rs_reporter_send_batch_finish (reporter, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);

  return report;
}

static void
test_accepted (Server        *server,
               gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
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
  g_assert_cmpuint (server->requests, ==, 1);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 3);

  /* What the server holds is exactly what the Activity view shows. */
  stored = g_hash_table_lookup (server->stored, first->idempotency_key);
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
test_duplicates (Server        *server,
                 gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (3);
  g_autoptr(RsReportResult) first = send_batch (reporter, replies);
  g_autoptr(RsReportResult) again = NULL;

  /* The same keys again, as after a crash before mark_reported. */
  again = send_batch (reporter, replies);
  g_assert_cmpint (again->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_strv_length (again->accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (again->duplicates), ==, 3);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 3);
}

static void
test_retry_after (Server        *server,
                  gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (3);
  g_autoptr(RsReportResult) busy = NULL;
  g_autoptr(RsReportResult) later = NULL;

  server->busy_left = 1;
  busy = send_batch (reporter, replies);
  g_assert_cmpint (busy->status, ==, RS_REPORT_RETRY);
  g_assert_cmpint (busy->retry_after, ==, 7);
  g_assert_cmpuint (busy->http_status, ==, 429);
  g_assert_cmpuint (g_strv_length (busy->pending), ==, 3);
  g_assert_cmpuint (g_strv_length (busy->accepted), ==, 0);
  g_assert_error (busy->error, RS_ERROR, RS_ERROR_NETWORK);
  g_assert_cmpstr (rs_error_get_server_text (busy->error), ==, "Slow down");
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 0);

  /* The worker waits at least that long, whatever the jitter draws. */
  for (guint attempt = 0; attempt < 4; attempt++)
    g_assert_cmpuint (rs_backoff_delay (attempt, busy->retry_after, 0.0), >=, 7);

  later = send_batch (reporter, replies);
  g_assert_cmpint (later->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 3);
}

static void
test_retry_after_date (Server        *server,
                       gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (1);
  g_autoptr(GDateTime) in_two_minutes = NULL;
  g_autoptr(RsReportResult) busy = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  in_two_minutes = g_date_time_add_seconds (now, 120);
  g_free (server->busy_retry_after);
  server->busy_retry_after = soup_date_time_to_string (in_two_minutes, SOUP_DATE_HTTP);
  server->busy_left = 1;

  busy = send_batch (reporter, replies);
  g_assert_cmpint (busy->status, ==, RS_REPORT_RETRY);
  g_assert_cmpint (busy->retry_after, >=, 115);
  g_assert_cmpint (busy->retry_after, <=, 120);
}

static void
test_unauthorized (Server        *server,
                   gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, "revoked-token-77");
  g_autoptr(GPtrArray) replies = make_replies (250);
  g_autoptr(RsReportResult) report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_AUTH_FAILED);
  g_assert_error (report->error, RS_ERROR, RS_ERROR_AUTHENTICATION);
  g_assert_cmpstr (rs_error_get_server_text (report->error), ==, "This token was revoked");
  g_assert_null (strstr (report->error->message, "revoked-token-77"));
  /* It stops at the first refusal and keeps everything queued. */
  g_assert_cmpuint (server->requests, ==, 1);
  g_assert_cmpuint (g_strv_length (report->pending), ==, 250);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 0);
}

static void
test_too_large (Server        *server,
                gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (5);
  g_autoptr(RsReportResult) report = NULL;

  server->max_events = 2;
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 5);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 5);
  /* 5 → 413; 3 → 413; 2, 1 accepted; 2 accepted. */
  g_assert_cmpuint (server->requests, ==, 5);
}

static void
test_rejected_event (Server        *server,
                     gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (4);
  g_autoptr(RsReportResult) report = NULL;
  const char *bad = ((RsReply *) g_ptr_array_index (replies, 2))->idempotency_key;

  server->bad_key = g_strdup (bad);
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_REJECTED);
  g_assert_cmpuint (g_strv_length (report->accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (report->rejected), ==, 1);
  g_assert_cmpstr (report->rejected[0], ==, bad);
  g_assert_error (report->error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 3);
}

static void
test_batches_of_100 (Server        *server,
                     gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GPtrArray) replies = make_replies (250);
  g_autoptr(RsReportResult) report = NULL;

  server->max_events = RS_REPORTER_MAX_BATCH;
  report = send_batch (reporter, replies);

  g_assert_cmpint (report->status, ==, RS_REPORT_OK);
  g_assert_cmpuint (server->requests, ==, 3);
  g_assert_cmpuint (g_hash_table_size (server->stored), ==, 250);
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
test_outbox (Server        *server,
             gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, TOKEN);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) marked = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  RsOutboxItem *item;
  gsize size;
  const char *raw;

  rs_reporter_fetch_outbox_async (reporter, ACCOUNT_ID, NULL, result_cb, &result);
  items = rs_reporter_fetch_outbox_finish (reporter, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpstr (item->id, ==, "ob 1/2");
  g_assert_cmpstr (item->account, ==, ACCOUNT_ADDRESS);
  raw = g_bytes_get_data (item->raw, &size);
  g_assert_true (size > 20 && memcmp (raw, "From: shop@example.com\r\n", 24) == 0);

  rs_reporter_mark_outbox_sent_async (reporter, item->id, "rs.1@example.com", NULL, result_cb, &marked);
  g_assert_true (rs_reporter_mark_outbox_sent_finish (reporter, wait_result (&marked), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (server->marked_sent->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (server->marked_sent, 0), ==, "/api/v1/outbox/ob 1/2/sent rs.1@example.com");
}

static void
test_outbox_unauthorized (Server        *server,
                          gconstpointer  data)
{
  g_autoptr(RsReporter) reporter = make_reporter (server, "wrong");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;

  rs_reporter_fetch_outbox_async (reporter, ACCOUNT_ID, NULL, result_cb, &result);
  items = rs_reporter_fetch_outbox_finish (reporter, wait_result (&result), &error);
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

#define ADD(path, func) g_test_add (path, Server, NULL, server_set_up, func, server_tear_down)
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
