/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-reporting-server"

#include "config.h"

#include <string.h>

#include "rs-test-reporting-server.h"

/* A fake, allowed because Retailsphere's real API cannot be had here: see
 * rs-test-reporting-server.h.  It follows docs/REPORTING-API.md. */

typedef struct
{
  char *id;
  char *account;
  char *raw;
} OutboxItem;

/* Exactly the documented fields: nothing else may leave the machine. */
static const char *event_members[] = {
  "idempotency_key", "account", "tracked_message_id", "message_id", "from", "date", "subject",
};

static void
outbox_item_free (OutboxItem *item)
{
  g_free (item->id);
  g_free (item->account);
  g_free (item->raw);
  g_free (item);
}

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
authorized (RsTestReportingServer *server,
            SoupServerMessage     *msg)
{
  const char *value = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree char *expected = g_strdup_printf ("Bearer %s", server->token);

  return g_strcmp0 (value, expected) == 0;
}

static gboolean
event_well_formed (JsonObject *event)
{
  if (json_object_get_size (event) != G_N_ELEMENTS (event_members) ||
      json_object_get_string_member_with_default (event, "idempotency_key", NULL) == NULL ||
      json_object_get_string_member_with_default (event, "message_id", NULL) == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (event_members); i++)
    {
      if (!json_object_has_member (event, event_members[i]))
        return FALSE;
    }

  return TRUE;
}

static void
events_cb (SoupServer        *soup_server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  RsTestReportingServer *server = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GPtrArray) known = g_ptr_array_new ();
  JsonArray *events;
  JsonNode *root;

  server->n_requests++;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST only");
      return;
    }

  if (!authorized (server, msg))
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "This token was revoked");
      return;
    }

  server->n_posts++;

  if (server->busy_left > 0)
    {
      server->busy_left--;
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", server->busy_retry_after);
      /* 429 Too Many Requests: libsoup 3.2 has no name for it. */
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

      if (!event_well_formed (event) || g_strcmp0 (key, server->bad_key) == 0)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Malformed event");
          return;
        }
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "accepted");
  json_builder_begin_array (builder);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonNode *event = json_array_get_element (events, i);
      JsonObject *object = json_node_get_object (event);
      const char *key = json_object_get_string_member (object, "idempotency_key");
      const char *message_id = json_object_get_string_member (object, "message_id");

      server->n_events++;
      if (g_hash_table_contains (server->stored, key))
        {
          g_ptr_array_add (known, (gpointer) key);
          continue;
        }

      g_hash_table_insert (server->stored, g_strdup (key), json_to_string (event, FALSE));
      g_hash_table_insert (server->per_message, g_strdup (message_id),
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (server->per_message, message_id)) + 1));
      json_builder_add_string_value (builder, key);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "duplicates");
  json_builder_begin_array (builder);
  for (guint i = 0; i < known->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (known, i));
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
  RsTestReportingServer *server = user_data;

  server->n_requests++;

  if (!authorized (server, msg))
    {
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "This token was revoked");
      return;
    }

  if (g_str_equal (path, "/api/v1/outbox") && g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;
      const char *account = query ? g_hash_table_lookup (query, "account") : NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "messages");
      json_builder_begin_array (builder);
      for (guint i = 0; i < server->outbox->len; i++)
        {
          OutboxItem *item = g_ptr_array_index (server->outbox, i);
          g_autofree char *encoded = NULL;

          if (g_strcmp0 (account, item->account) != 0 ||
              rs_test_reporting_server_count_marked (server, item->id) > 0)
            continue;

          encoded = g_base64_encode ((const guchar *) item->raw, strlen (item->raw));
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, item->id);
          json_builder_set_member_name (builder, "account");
          json_builder_add_string_value (builder, item->account);
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
      g_autofree char *id = NULL;
      JsonNode *root;

      if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) ||
          !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Not JSON");
          return;
        }

      /* "/api/v1/outbox/ID/sent" */
      id = g_uri_unescape_segment (path + strlen ("/api/v1/outbox/"), path + strlen (path) - strlen ("/sent"), NULL);
      g_ptr_array_add (server->marked_sent,
                       g_strdup_printf ("%s %s", id,
                                        json_object_get_string_member (json_node_get_object (root), "message_id")));
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }

  respond_error (msg, SOUP_STATUS_NOT_FOUND, "No such thing");
}

RsTestReportingServer *
rs_test_reporting_server_new (const char *token)
{
  RsTestReportingServer *server = g_new0 (RsTestReportingServer, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  server->token = g_strdup (token);
  server->server = soup_server_new (NULL, NULL);
  server->stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  server->per_message = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->outbox = g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_item_free);
  server->marked_sent = g_ptr_array_new_with_free_func (g_free);
  server->max_events = 1000;
  server->busy_retry_after = g_strdup ("7");
  soup_server_add_handler (server->server, "/api/v1/reply-events", events_cb, server, NULL);
  soup_server_add_handler (server->server, "/api/v1/outbox", outbox_cb, server, NULL);

  soup_server_listen_local (server->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (server->server);
  server->url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  /* "http://127.0.0.1:PORT/" → without the slash: paths are appended. */
  if (g_str_has_suffix (server->url, "/"))
    server->url[strlen (server->url) - 1] = '\0';

  return server;
}

void
rs_test_reporting_server_free (RsTestReportingServer *server)
{
  soup_server_disconnect (server->server);
  g_clear_object (&server->server);
  g_hash_table_unref (server->stored);
  g_hash_table_unref (server->per_message);
  g_ptr_array_unref (server->outbox);
  g_ptr_array_unref (server->marked_sent);
  g_free (server->busy_retry_after);
  g_free (server->bad_key);
  g_free (server->url);
  g_free (server->token);
  g_free (server);
}

void
rs_test_reporting_server_add_outbox (RsTestReportingServer *server,
                                     const char            *id,
                                     const char            *account_address,
                                     const char            *raw)
{
  OutboxItem *item = g_new0 (OutboxItem, 1);

  item->id = g_strdup (id);
  item->account = g_strdup (account_address);
  item->raw = g_strdup (raw);
  g_ptr_array_add (server->outbox, item);
}

guint
rs_test_reporting_server_count_marked (RsTestReportingServer *server,
                                       const char            *id)
{
  g_autofree char *prefix = g_strdup_printf ("%s ", id);
  guint n = 0;

  for (guint i = 0; i < server->marked_sent->len; i++)
    n += g_str_has_prefix (g_ptr_array_index (server->marked_sent, i), prefix);

  return n;
}
