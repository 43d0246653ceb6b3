/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-reporter"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "rs-error.h"
#include "rs-reporter.h"

/* Reports reply metadata to Retailsphere and fetches its outbox, as
 * docs/REPORTING-API.md defines.  Only the fields listed there leave the
 * machine; the token goes in the Authorization header and nowhere else
 * (never in a URL, a log line or an error). */

#define REQUEST_TIMEOUT_SECONDS 30
#define MAX_RESPONSE_BYTES      (64 * 1024 * 1024)
#define MAX_SERVER_TEXT         300

/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

struct _RsReporter
{
  GObject      parent_instance;

  char        *server_url;   /* without a trailing slash */
  char        *token;
  SoupSession *session;
  GHashTable  *addresses;    /* account id → address */
};

G_DEFINE_FINAL_TYPE (RsReporter, rs_reporter, G_TYPE_OBJECT)

typedef struct
{
  guint first;
  guint n;
} Range;

typedef struct
{
  GPtrArray   *replies;
  GQueue       ranges;
  SoupMessage *message;
  Range       *current;

  GPtrArray   *accepted;
  GPtrArray   *duplicates;
  GPtrArray   *rejected;
  GPtrArray   *pending;
  gint64       retry_after;
  guint        http_status;
  gboolean     auth_failed;
  GError      *error;
} SendData;

static void
send_data_free (SendData *data)
{
  g_clear_pointer (&data->replies, g_ptr_array_unref);
  g_queue_clear_full (&data->ranges, g_free);
  g_clear_object (&data->message);
  g_clear_pointer (&data->current, g_free);
  g_clear_pointer (&data->accepted, g_ptr_array_unref);
  g_clear_pointer (&data->duplicates, g_ptr_array_unref);
  g_clear_pointer (&data->rejected, g_ptr_array_unref);
  g_clear_pointer (&data->pending, g_ptr_array_unref);
  g_clear_error (&data->error);
  g_free (data);
}

void
rs_report_result_free (RsReportResult *result)
{
  if (result == NULL)
    return;

  g_strfreev (result->accepted);
  g_strfreev (result->duplicates);
  g_strfreev (result->rejected);
  g_strfreev (result->pending);
  g_clear_error (&result->error);
  g_free (result);
}

void
rs_outbox_item_free (RsOutboxItem *item)
{
  if (item == NULL)
    return;

  g_free (item->id);
  g_free (item->account);
  g_clear_pointer (&item->raw, g_bytes_unref);
  g_free (item);
}

/**
 * rs_backoff_delay:
 * @attempt: failed attempts so far (0 for the first retry)
 * @retry_after: seconds the server asked for, or -1
 * @random: a number in [0, 1), e.g. g_random_double ()
 *
 * Exponential backoff with full jitter: a uniformly random delay up to
 * base × 2^attempt, the ceiling capped at %RS_BACKOFF_CAP_SECONDS; never
 * less than the server's Retry-After (itself capped at a day).
 *
 * Returns: the delay in seconds, at least 1
 */
guint
rs_backoff_delay (guint  attempt,
                  gint64 retry_after,
                  double random)
{
  guint64 ceiling;
  guint delay;

  if (!(random >= 0.0))
    random = 0.0;
  if (random >= 1.0)
    random = 1.0;

  ceiling = (guint64) RS_BACKOFF_BASE_SECONDS << MIN (attempt, 24u);
  ceiling = MIN (ceiling, (guint64) RS_BACKOFF_CAP_SECONDS);

  delay = (guint) (random * (double) ceiling);
  delay = MAX (delay, 1u);

  if (retry_after >= 0)
    delay = MAX (delay, (guint) MIN (retry_after, (gint64) RS_RETRY_AFTER_CAP_SECONDS));

  return delay;
}

/**
 * rs_parse_retry_after:
 * @value: (nullable): a Retry-After value: delay-seconds or an HTTP-date
 * @now: (nullable): the current time, for an HTTP-date
 *
 * Returns: the seconds to wait (0 for a date in the past), or -1 when
 *   @value is absent or not valid
 */
gint64
rs_parse_retry_after (const char *value,
                      GDateTime  *now)
{
  g_autoptr(GDateTime) when = NULL;
  g_autoptr(GDateTime) current = NULL;
  guint64 seconds;
  gint64 diff;

  if (value == NULL)
    return -1;

  while (g_ascii_isspace (*value))
    value++;

  if (g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &seconds, NULL))
    return (gint64) seconds;

  when = soup_date_time_new_from_http_string (value);
  if (when == NULL)
    return -1;

  current = now ? g_date_time_ref (now) : g_date_time_new_now_utc ();
  diff = g_date_time_difference (when, current) / G_TIME_SPAN_SECOND;

  return MAX (diff, 0);
}

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);

  return address != NULL && g_inet_address_get_is_loopback (address);
}

static void
rs_reporter_finalize (GObject *object)
{
  RsReporter *self = (RsReporter *)object;

  g_free (self->server_url);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_clear_pointer (&self->addresses, g_hash_table_unref);

  G_OBJECT_CLASS (rs_reporter_parent_class)->finalize (object);
}

static void
rs_reporter_dispose (GObject *object)
{
  RsReporter *self = (RsReporter *)object;

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (rs_reporter_parent_class)->dispose (object);
}

static void
rs_reporter_class_init (RsReporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_reporter_dispose;
  object_class->finalize = rs_reporter_finalize;
}

static void
rs_reporter_init (RsReporter *self)
{
  self->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * rs_reporter_new:
 * @server_url: the Retailsphere server, e.g. "https://app.retailsphere.com"
 * @token: the API token from the keyring
 * @error: return location for an error
 *
 * The server must be https://, except on loopback (for tests), so the
 * token never crosses a network in clear text.  Certificates are checked
 * against the system's trust store.
 *
 * Returns: (transfer full) (nullable): a reporter, or %NULL with
 *   %RS_ERROR_INPUT
 */
RsReporter *
rs_reporter_new (const char  *server_url,
                 const char  *token,
                 GError     **error)
{
  g_autoptr(RsReporter) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *user_agent = NULL;
  const char *scheme;
  gsize len;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0) ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("“%s” is not a Retailsphere server address"), server_url);
      return NULL;
    }

  if (g_strcmp0 (scheme, "https") != 0 && !is_loopback_host (g_uri_get_host (uri)))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The Retailsphere server address must start with https://"));
      return NULL;
    }

  if (token[0] == '\0' || strpbrk (token, "\r\n") != NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT, _("The Retailsphere sign-in is not valid"));
      return NULL;
    }

  self = g_object_new (RS_TYPE_REPORTER, NULL);
  self->server_url = g_strdup (server_url);
  len = strlen (self->server_url);
  while (len > 0 && self->server_url[len - 1] == '/')
    self->server_url[--len] = '\0';
  self->token = g_strdup (token);

  user_agent = g_strdup_printf ("retailsphere-settings/%s", PACKAGE_VERSION);
  self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                 "timeout", REQUEST_TIMEOUT_SECONDS,
                                                 "idle-timeout", 60,
                                                 NULL);

  return g_steal_pointer (&self);
}

const char *
rs_reporter_get_server_url (RsReporter *self)
{
  g_return_val_if_fail (RS_IS_REPORTER (self), NULL);

  return self->server_url;
}

/**
 * rs_reporter_set_account_address:
 * @account: the account id the store uses
 * @address: the mailbox's email address
 *
 * Events carry the account's address in `account`; without a mapping
 * the store's account string is sent as it is.
 */
void
rs_reporter_set_account_address (RsReporter *self,
                                 const char *account,
                                 const char *address)
{
  g_return_if_fail (RS_IS_REPORTER (self));
  g_return_if_fail (account != NULL);
  g_return_if_fail (address != NULL);

  g_hash_table_replace (self->addresses, g_strdup (account), g_strdup (address));
}

static const char *
account_address (RsReporter *self,
                 const char *account)
{
  const char *address;

  if (account == NULL)
    return NULL;

  address = g_hash_table_lookup (self->addresses, account);

  return address ? address : account;
}

static void
add_member_string (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/**
 * rs_reporter_build_events:
 * @replies: (element-type RsReply): replies from rs_reply_store_next_reports()
 * @first: the first to include
 * @n: how many
 *
 * The request body of `POST /api/v1/reply-events`: exactly the fields
 * the document lists, nothing else.
 *
 * Returns: (transfer full): `{"events": [...]}`
 */
JsonNode *
rs_reporter_build_events (RsReporter *self,
                          GPtrArray  *replies,
                          guint       first,
                          guint       n)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RS_IS_REPORTER (self), NULL);
  g_return_val_if_fail (replies != NULL, NULL);
  g_return_val_if_fail (first + n <= replies->len, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "events");
  json_builder_begin_array (builder);

  for (guint i = first; i < first + n; i++)
    {
      const RsReply *reply = g_ptr_array_index (replies, i);
      g_autofree char *date = rs_reply_format_date (reply);

      json_builder_begin_object (builder);
      add_member_string (builder, "idempotency_key", reply->idempotency_key);
      add_member_string (builder, "account", account_address (self, reply->account));
      add_member_string (builder, "tracked_message_id", reply->tracked_message_id);
      add_member_string (builder, "message_id", reply->message_id);
      json_builder_set_member_name (builder, "from");
      json_builder_begin_object (builder);
      add_member_string (builder, "name", reply->from_name);
      add_member_string (builder, "address", reply->from_address);
      json_builder_end_object (builder);
      add_member_string (builder, "date", date);
      add_member_string (builder, "subject", reply->subject);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static SoupMessage *
new_message (RsReporter *self,
             const char *method,
             const char *url,
             JsonNode   *body)
{
  SoupMessage *message = soup_message_new (method, url);
  g_autofree char *authorization = NULL;
  SoupMessageHeaders *headers;

  if (message == NULL)
    return NULL;

  headers = soup_message_get_request_headers (message);
  authorization = g_strdup_printf ("Bearer %s", self->token);
  soup_message_headers_replace (headers, "Authorization", authorization);
  soup_message_headers_replace (headers, "Accept", "application/json");
  memset (authorization, 0, strlen (authorization));

  if (body != NULL)
    {
      gsize length;
      char *text = json_to_string (body, FALSE);
      g_autoptr(GBytes) bytes = NULL;

      length = strlen (text);
      bytes = g_bytes_new_take (text, length);
      soup_message_set_request_body_from_bytes (message, "application/json", bytes);
    }

  return message;
}

/* The server's own words, from `{"error": "..."}` or the start of the
 * body; never the request. */
static char *
server_text (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size = 0;
  const char *data;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &size);
  if (size == 0)
    return NULL;

  if (json_parser_load_from_data (parser, data, (gssize) size, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);

      if (JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *object = json_node_get_object (root);
          JsonNode *error = json_object_get_member (object, "error");

          if (error != NULL && JSON_NODE_HOLDS_VALUE (error) &&
              json_node_get_value_type (error) == G_TYPE_STRING)
            return g_utf8_make_valid (json_node_get_string (error), -1);
        }
    }

  return g_utf8_make_valid (data, MIN (size, MAX_SERVER_TEXT));
}

static GError *
status_error (SoupMessage *message,
              GBytes      *body)
{
  guint status = soup_message_get_status (message);
  g_autofree char *text = server_text (body);
  g_autofree char *code = g_strdup_printf ("%u", status);
  GError *error;

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    error = g_error_new (RS_ERROR, RS_ERROR_AUTHENTICATION,
                         _("Retailsphere no longer accepts this sign-in. Sign in to Retailsphere again."));
  else if (status == STATUS_TOO_MANY_REQUESTS || status >= 500)
    error = g_error_new (RS_ERROR, RS_ERROR_NETWORK,
                         _("Retailsphere is busy or unavailable (HTTP %u)"), status);
  else
    error = g_error_new (RS_ERROR, RS_ERROR_PROTOCOL,
                         _("Retailsphere refused the request (HTTP %u)"), status);

  rs_error_set_server_text (error, text);
  rs_error_set_response_code (error, code);

  return error;
}

static GError *
transport_error (const GError *io_error)
{
  RsErrorCode code = RS_ERROR_NETWORK;
  GError *error;

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = RS_ERROR_TIMEOUT;
  else if (io_error->domain == G_TLS_ERROR)
    code = RS_ERROR_CERTIFICATE;

  error = g_error_new (RS_ERROR, code, _("Retailsphere could not be reached: %s"), io_error->message);
  rs_error_set_server_text (error, io_error->message);

  return error;
}

static void
add_range_keys (SendData    *data,
                GPtrArray   *to,
                const Range *range)
{
  for (guint i = range->first; i < range->first + range->n; i++)
    {
      const RsReply *reply = g_ptr_array_index (data->replies, i);

      g_ptr_array_add (to, g_strdup (reply->idempotency_key));
    }
}

/* Everything not decided yet waits for a later attempt. */
static void
defer_rest (SendData *data)
{
  Range *range;

  if (data->current != NULL)
    {
      add_range_keys (data, data->pending, data->current);
      g_clear_pointer (&data->current, g_free);
    }

  while ((range = g_queue_pop_head (&data->ranges)) != NULL)
    {
      add_range_keys (data, data->pending, range);
      g_free (range);
    }
}

static void
set_error (SendData *data,
           GError   *error)
{
  g_clear_error (&data->error);
  data->error = error;
}

static GStrv
to_strv (GPtrArray *array)
{
  /* Takes @array; its strings move to the vector. */
  g_ptr_array_set_free_func (array, NULL);
  g_ptr_array_add (array, NULL);

  return (GStrv) g_ptr_array_free (array, FALSE);
}

static RsReportResult *
make_result (SendData *data)
{
  RsReportResult *result = g_new0 (RsReportResult, 1);

  result->retry_after = data->retry_after;
  result->http_status = data->http_status;
  result->error = g_steal_pointer (&data->error);

  if (data->auth_failed)
    result->status = RS_REPORT_AUTH_FAILED;
  else if (data->pending->len > 0)
    result->status = RS_REPORT_RETRY;
  else if (data->rejected->len > 0)
    result->status = RS_REPORT_REJECTED;
  else
    result->status = RS_REPORT_OK;

  result->accepted = to_strv (g_steal_pointer (&data->accepted));
  result->duplicates = to_strv (g_steal_pointer (&data->duplicates));
  result->rejected = to_strv (g_steal_pointer (&data->rejected));
  result->pending = to_strv (g_steal_pointer (&data->pending));

  return result;
}

static GHashTable *
string_set_from_member (JsonObject *object,
                        const char *name)
{
  GHashTable *set = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode *node = json_object_get_member (object, name);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return set;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_hash_table_add (set, (gpointer) json_node_get_string (element));
    }

  return set;
}

static void
read_accepted (SendData *data,
               GBytes   *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GHashTable) accepted = NULL;
  g_autoptr(GHashTable) duplicates = NULL;
  const char *bytes;
  gsize size = 0;
  JsonNode *root;
  guint undecided = 0;

  bytes = g_bytes_get_data (body, &size);
  if (!json_parser_load_from_data (parser, bytes ? bytes : "", (gssize) size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
    {
      set_error (data, g_error_new (RS_ERROR, RS_ERROR_PROTOCOL,
                                    _("Retailsphere answered something that is not a report receipt")));
      add_range_keys (data, data->pending, data->current);
      return;
    }

  /* The table borrows strings from the parser, which lives until the
   * end of this function. */
  accepted = string_set_from_member (json_node_get_object (root), "accepted");
  duplicates = string_set_from_member (json_node_get_object (root), "duplicates");

  for (guint i = data->current->first; i < data->current->first + data->current->n; i++)
    {
      const RsReply *reply = g_ptr_array_index (data->replies, i);
      const char *key = reply->idempotency_key;

      if (g_hash_table_contains (duplicates, key))
        {
          g_ptr_array_add (data->accepted, g_strdup (key));
          g_ptr_array_add (data->duplicates, g_strdup (key));
        }
      else if (g_hash_table_contains (accepted, key))
        {
          g_ptr_array_add (data->accepted, g_strdup (key));
        }
      else
        {
          /* Not in the receipt: not stored, as far as we know. */
          g_ptr_array_add (data->pending, g_strdup (key));
          undecided++;
        }
    }

  if (undecided > 0)
    set_error (data, g_error_new (RS_ERROR, RS_ERROR_PROTOCOL,
                                  _("Retailsphere did not confirm every reply it was sent")));
}

static void send_next (GTask *task);

static void
batch_sent_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (error != NULL)
    {
      set_error (data, transport_error (error));
      defer_rest (data);
      send_next (g_steal_pointer (&task));
      return;
    }

  status = soup_message_get_status (data->message);
  data->http_status = status;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      read_accepted (data, body);
      g_clear_pointer (&data->current, g_free);
    }
  else if (status == SOUP_STATUS_BAD_REQUEST || status == SOUP_STATUS_CONFLICT ||
           status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE || status == SOUP_STATUS_UNPROCESSABLE_ENTITY)
    {
      /* The server takes a batch whole or not at all: halve it until the
       * event it refuses stands alone. */
      if (data->current->n > 1)
        {
          Range *second = g_new0 (Range, 1);
          Range *first = g_steal_pointer (&data->current);

          second->n = first->n / 2;
          first->n -= second->n;
          second->first = first->first + first->n;
          g_queue_push_head (&data->ranges, second);
          g_queue_push_head (&data->ranges, first);
        }
      else
        {
          set_error (data, status_error (data->message, body));
          add_range_keys (data, data->rejected, data->current);
          g_clear_pointer (&data->current, g_free);
        }
    }
  else
    {
      if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
        data->auth_failed = TRUE;

      if (status == STATUS_TOO_MANY_REQUESTS || status == SOUP_STATUS_SERVICE_UNAVAILABLE)
        {
          const char *value = soup_message_headers_get_one (soup_message_get_response_headers (data->message),
                                                            "Retry-After");

          data->retry_after = rs_parse_retry_after (value, NULL);
        }

      set_error (data, status_error (data->message, body));
      defer_rest (data);
    }

  send_next (g_steal_pointer (&task));
}

static void
send_next (GTask *task)
{
  RsReporter *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *url = NULL;

  g_clear_object (&data->message);
  g_clear_pointer (&data->current, g_free);

  data->current = g_queue_pop_head (&data->ranges);
  if (data->current == NULL)
    {
      g_task_return_pointer (task, make_result (data), (GDestroyNotify) rs_report_result_free);
      g_object_unref (task);
      return;
    }

  url = g_strconcat (self->server_url, "/api/v1/reply-events", NULL);
  body = rs_reporter_build_events (self, data->replies, data->current->first, data->current->n);
  data->message = new_message (self, SOUP_METHOD_POST, url, body);

  soup_session_send_and_read_async (self->session, data->message, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task),
                                    batch_sent_cb, task);
}

/**
 * rs_reporter_send_batch_async:
 * @replies: (element-type RsReply): replies with their idempotency keys,
 *   from rs_reply_store_next_reports()
 * @cancellable: (nullable): a cancellable
 *
 * Reports @replies in requests of at most %RS_REPORTER_MAX_BATCH
 * events, one after the other.  A batch the server refuses as a whole
 * (400, 409, 413, 422) is halved until the refused event stands alone;
 * 401/403, 429, 503, other errors and network failures stop the run and
 * leave the rest pending.
 */
void
rs_reporter_send_batch_async (RsReporter          *self,
                              GPtrArray           *replies,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *data;

  g_return_if_fail (RS_IS_REPORTER (self));
  g_return_if_fail (replies != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  for (guint i = 0; i < replies->len; i++)
    g_return_if_fail (((RsReply *) g_ptr_array_index (replies, i))->idempotency_key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_reporter_send_batch_async);

  data = g_new0 (SendData, 1);
  data->replies = g_ptr_array_ref (replies);
  data->accepted = g_ptr_array_new_with_free_func (g_free);
  data->duplicates = g_ptr_array_new_with_free_func (g_free);
  data->rejected = g_ptr_array_new_with_free_func (g_free);
  data->pending = g_ptr_array_new_with_free_func (g_free);
  data->retry_after = -1;
  g_queue_init (&data->ranges);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  for (guint first = 0; first < replies->len; first += RS_REPORTER_MAX_BATCH)
    {
      Range *range = g_new0 (Range, 1);

      range->first = first;
      range->n = MIN (RS_REPORTER_MAX_BATCH, replies->len - first);
      g_queue_push_tail (&data->ranges, range);
    }

  send_next (g_steal_pointer (&task));
}

/**
 * rs_reporter_send_batch_finish:
 *
 * Returns: (transfer full) (nullable): what became of each key; %NULL
 *   only when cancelled (%G_IO_ERROR_CANCELLED).  Failures are in the
 *   result: its status, @error and the keys left pending.
 */
RsReportResult *
rs_reporter_send_batch_finish (RsReporter    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (RS_IS_REPORTER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The outbox */

/* The body of a successful answer to the task's message, or %NULL once
 * @task has failed. */
static GBytes *
outbox_read_finish (GTask        *task,
                    GObject      *session,
                    GAsyncResult *result)
{
  SoupMessage *message = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (session), result, &error);
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, transport_error (error));
      return NULL;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    {
      g_task_return_error (task, status_error (message, body));
      return NULL;
    }

  return g_steal_pointer (&body);
}

static void
outbox_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_outbox_item_free);
  const char *data;
  gsize size = 0;
  JsonNode *root;
  JsonNode *messages;

  body = outbox_read_finish (task, object, result);
  if (body == NULL)
    return;

  data = g_bytes_get_data (body, &size);
  if (size > MAX_RESPONSE_BYTES ||
      !json_parser_load_from_data (parser, data ? data : "", (gssize) size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)) ||
      (messages = json_object_get_member (json_node_get_object (root), "messages")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (messages))
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_PROTOCOL,
                               _("Retailsphere answered something that is not an outbox"));
      return;
    }

  for (guint i = 0; i < json_array_get_length (json_node_get_array (messages)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (messages), i);
      JsonObject *object_item;
      const char *id;
      const char *raw;
      guchar *decoded;
      gsize decoded_len = 0;
      RsOutboxItem *item;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      object_item = json_node_get_object (node);
      id = json_object_get_string_member_with_default (object_item, "id", NULL);
      raw = json_object_get_string_member_with_default (object_item, "raw", NULL);
      if (id == NULL || raw == NULL)
        continue;

      decoded = g_base64_decode (raw, &decoded_len);
      if (decoded == NULL || decoded_len == 0)
        {
          g_free (decoded);
          continue;
        }

      item = g_new0 (RsOutboxItem, 1);
      item->id = g_strdup (id);
      item->account = g_strdup (json_object_get_string_member_with_default (object_item, "account", NULL));
      item->raw = g_bytes_new_take (decoded, decoded_len);
      g_ptr_array_add (items, item);
    }

  g_task_return_pointer (task, g_steal_pointer (&items), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * rs_reporter_fetch_outbox_async:
 * @account: the account id (sent as its address, see
 *   rs_reporter_set_account_address())
 *
 * `GET /api/v1/outbox?account=…`: the messages Retailsphere queued for
 * this account.
 */
void
rs_reporter_fetch_outbox_async (RsReporter          *self,
                                const char          *account,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;
  SoupMessage *message;

  g_return_if_fail (RS_IS_REPORTER (self));
  g_return_if_fail (account != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_reporter_fetch_outbox_async);

  escaped = g_uri_escape_string (account_address (self, account), NULL, FALSE);
  url = g_strconcat (self->server_url, "/api/v1/outbox?account=", escaped, NULL);
  message = new_message (self, SOUP_METHOD_GET, url, NULL);
  g_task_set_task_data (task, message, g_object_unref);

  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT, cancellable,
                                    outbox_read_cb, g_steal_pointer (&task));
}

/**
 * rs_reporter_fetch_outbox_finish:
 *
 * Returns: (transfer container) (element-type RsOutboxItem) (nullable):
 *   the queued messages, or %NULL with an error (%RS_ERROR_AUTHENTICATION
 *   for 401/403)
 */
GPtrArray *
rs_reporter_fetch_outbox_finish (RsReporter    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (RS_IS_REPORTER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
outbox_marked_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) body = NULL;

  body = outbox_read_finish (task, object, result);
  if (body != NULL)
    g_task_return_boolean (task, TRUE);
}

/**
 * rs_reporter_mark_outbox_sent_async:
 * @outbox_id: the outbox item
 * @message_id: the Message-ID it was sent with (no brackets)
 *
 * `POST /api/v1/outbox/{id}/sent`.
 */
void
rs_reporter_mark_outbox_sent_async (RsReporter          *self,
                                    const char          *outbox_id,
                                    const char          *message_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;
  SoupMessage *message;

  g_return_if_fail (RS_IS_REPORTER (self));
  g_return_if_fail (outbox_id != NULL);
  g_return_if_fail (message_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_reporter_mark_outbox_sent_async);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message_id");
  json_builder_add_string_value (builder, message_id);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  escaped = g_uri_escape_string (outbox_id, NULL, FALSE);
  url = g_strconcat (self->server_url, "/api/v1/outbox/", escaped, "/sent", NULL);
  message = new_message (self, SOUP_METHOD_POST, url, body);
  g_task_set_task_data (task, message, g_object_unref);

  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT, cancellable,
                                    outbox_marked_cb, g_steal_pointer (&task));
}

gboolean
rs_reporter_mark_outbox_sent_finish (RsReporter    *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (RS_IS_REPORTER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
