/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-reply-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "rs-error.h"
#include "rs-reply-store.h"
#include "rs-reply-store-private.h"

/* The worker's state in one SQLite file, in WAL mode.
 *
 * Durability: synchronous=FULL.  In WAL mode NORMAL already survives a
 * crash of the process (SIGKILL) with every committed transaction, but
 * a power loss may undo the last ones.  For the replies and cursors that
 * would be harmless (a cursor and its replies go back together and are
 * fetched again), but not for a send intent: an intent undone after the
 * message went out would let the message be sent a second time.  FULL
 * makes every commit reach the disk; the worker commits a few times per
 * sync pass or sent message, so the fsyncs cost nothing a user notices.
 *
 * Crash recovery of sends (the rule): an intent is recorded before the
 * SMTP submission starts and marked sent or failed after.  An intent
 * still open when the worker starts (rs_reply_store_list_intents()) is
 * NEVER resent automatically.  The worker searches the account's Sent
 * folder (and INBOX, for servers that deliver a copy) for its
 * Message-ID: found means sent (rs_reply_store_mark_sent()); not found
 * means unknown (rs_reply_store_mark_unknown()), because many servers do
 * not file submitted mail in Sent, so absence proves nothing.  An
 * unknown message is shown to the user, who decides whether to send it
 * again, which makes a new intent with a new Message-ID.  A reply that
 * answers an intent or unknown message proves it was sent; the worker
 * then marks it sent.  Tracked ids of every state are matched. */

#define BUSY_TIMEOUT_MS 5000

struct _RsReplyStore
{
  GObject  parent_instance;

  char    *path;
  sqlite3 *db;
};

G_DEFINE_FINAL_TYPE (RsReplyStore, rs_reply_store, G_TYPE_OBJECT)

typedef sqlite3_stmt RsStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsStmt, sqlite3_finalize)

static const char *tracked_states[] = { "intent", "sent", "failed", "unknown" };

static gboolean
set_db_error (RsReplyStore  *self,
              GError       **error,
              const char    *message)
{
  const char *sqlite_text = self->db ? sqlite3_errmsg (self->db) : NULL;
  GError *local;

  /* The sentence is ours; SQLite's own words travel as the server text. */
  local = g_error_new (RS_ERROR, RS_ERROR_STORAGE, "%s (%s)", message,
                       sqlite_text ? sqlite_text : "no connection");
  rs_error_set_server_text (local, sqlite_text);
  g_propagate_error (error, local);

  return FALSE;
}

static gboolean
exec_sql (RsReplyStore  *self,
          const char    *sql,
          GError       **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_db_error (self, error, _("The worker’s database could not be updated"));

  return TRUE;
}

static RsStmt *
prepare (RsReplyStore  *self,
         const char    *sql,
         GError       **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, _("The worker’s database could not be read"));
      return NULL;
    }

  return stmt;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           index)
{
  const unsigned char *text = sqlite3_column_text (stmt, index);

  return text ? g_strdup ((const char *) text) : NULL;
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (RsReplyStore  *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_db_error (self, error, _("The worker’s database could not be updated"));

  return TRUE;
}

static gboolean
begin (RsReplyStore  *self,
       GError       **error)
{
  /* IMMEDIATE takes the write lock now, so a busy database fails here
   * (after busy_timeout) and not half-way through. */
  return exec_sql (self, "BEGIN IMMEDIATE", error);
}

static gboolean
commit (RsReplyStore  *self,
        GError       **error)
{
  if (!exec_sql (self, "COMMIT", error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  return TRUE;
}

static void
rollback (RsReplyStore *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char schema_v1[] =
  "CREATE TABLE tracked ("
  "  id INTEGER PRIMARY KEY,"
  "  account TEXT NOT NULL,"
  "  message_id TEXT NOT NULL,"
  "  subject TEXT,"
  "  recipients TEXT,"
  "  state TEXT NOT NULL CHECK (state IN ('intent', 'sent', 'failed', 'unknown')),"
  "  created INTEGER NOT NULL,"
  "  sent_at INTEGER,"
  "  outbox_id TEXT,"
  "  UNIQUE (account, message_id),"
  "  UNIQUE (account, outbox_id)"
  ");"
  "CREATE TABLE replies ("
  "  id INTEGER PRIMARY KEY,"
  "  account TEXT NOT NULL,"
  "  tracked_message_id TEXT NOT NULL,"
  "  message_id TEXT NOT NULL,"
  "  from_name TEXT,"
  "  from_address TEXT NOT NULL,"
  "  date TEXT,"
  "  subject TEXT,"
  "  found_at INTEGER NOT NULL,"
  "  UNIQUE (account, message_id)"
  ");"
  "CREATE TABLE report_queue ("
  "  reply_id INTEGER PRIMARY KEY REFERENCES replies (id) ON DELETE CASCADE,"
  "  idempotency_key TEXT NOT NULL UNIQUE,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt_at INTEGER NOT NULL,"
  "  reported_at INTEGER"
  ");"
  "CREATE INDEX report_queue_due ON report_queue (next_attempt_at) WHERE reported_at IS NULL;"
  "CREATE TABLE cursors ("
  "  account TEXT NOT NULL,"
  "  mailbox TEXT NOT NULL,"
  "  uidvalidity INTEGER NOT NULL,"
  "  uidnext INTEGER NOT NULL,"
  "  highestmodseq INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (account, mailbox)"
  ");";

/* Each step takes the schema from version i to i + 1. */
static const char *migrations[] = {
  schema_v1,
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == RS_REPLY_STORE_SCHEMA_VERSION);

static int
get_user_version (RsReplyStore *self)
{
  g_autoptr(RsStmt) stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);

  return version;
}

static gboolean
migrate (RsReplyStore  *self,
         GError       **error)
{
  int version;

  if (!begin (self, error))
    return FALSE;

  version = get_user_version (self);
  if (version < 0)
    {
      rollback (self);
      return set_db_error (self, error, _("The worker’s database could not be read"));
    }

  if (version > RS_REPLY_STORE_SCHEMA_VERSION)
    {
      rollback (self);
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("The worker’s database was written by a newer version of Retailsphere Settings"));
      return FALSE;
    }

  for (int i = version; i < RS_REPLY_STORE_SCHEMA_VERSION; i++)
    {
      g_autofree char *pragma = g_strdup_printf ("PRAGMA user_version = %d", i + 1);

      if (!exec_sql (self, migrations[i], error) ||
          !exec_sql (self, pragma, error))
        {
          rollback (self);
          return FALSE;
        }
    }

  return commit (self, error);
}

static gboolean
configure (RsReplyStore  *self,
           GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;
  const char *mode;
  gboolean is_wal;

  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  stmt = prepare (self, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_db_error (self, error, _("The worker’s database could not be opened"));

  mode = (const char *) sqlite3_column_text (stmt, 0);
  is_wal = g_ascii_strcasecmp (mode ? mode : "", "wal") == 0;
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!is_wal)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("The worker’s database cannot use write-ahead logging on this file system"));
      return FALSE;
    }

  /* See the top of this file for why FULL. */
  return exec_sql (self, "PRAGMA synchronous = FULL", error) &&
         exec_sql (self, "PRAGMA foreign_keys = ON", error) &&
         migrate (self, error);
}

static void
rs_reply_store_finalize (GObject *object)
{
  RsReplyStore *self = (RsReplyStore *)object;

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self->path);

  G_OBJECT_CLASS (rs_reply_store_parent_class)->finalize (object);
}

static void
rs_reply_store_class_init (RsReplyStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rs_reply_store_finalize;
}

static void
rs_reply_store_init (RsReplyStore *self)
{
}

/* Records and their JSON */

RsReply *
rs_reply_new (const char *tracked_message_id,
              const char *message_id,
              const char *from_name,
              const char *from_address,
              GDateTime  *date,
              const char *subject)
{
  RsReply *reply = g_new0 (RsReply, 1);

  reply->tracked_message_id = g_strdup (tracked_message_id);
  reply->message_id = g_strdup (message_id);
  reply->from_name = g_strdup (from_name);
  reply->from_address = g_strdup (from_address);
  reply->date = date ? g_date_time_ref (date) : NULL;
  reply->subject = g_strdup (subject);

  return reply;
}

/**
 * rs_reply_new_from_headers:
 * @tracked_message_id: what rs_reply_match() returned
 * @headers: the reply's parsed headers
 *
 * Returns: (transfer full): a reply for rs_reply_store_commit_sync_batch()
 */
RsReply *
rs_reply_new_from_headers (const char           *tracked_message_id,
                           const RsReplyHeaders *headers)
{
  g_return_val_if_fail (tracked_message_id != NULL, NULL);
  g_return_val_if_fail (headers != NULL, NULL);

  return rs_reply_new (tracked_message_id, headers->message_id,
                       headers->from_name, headers->from_address ? headers->from_address : "",
                       headers->date, headers->subject);
}

void
rs_reply_free (RsReply *reply)
{
  if (reply == NULL)
    return;

  g_free (reply->account);
  g_free (reply->tracked_message_id);
  g_free (reply->message_id);
  g_free (reply->from_name);
  g_free (reply->from_address);
  g_clear_pointer (&reply->date, g_date_time_unref);
  g_free (reply->subject);
  g_free (reply->idempotency_key);
  g_free (reply);
}

/**
 * rs_reply_format_date:
 *
 * Returns: (transfer full) (nullable): the reply's Date as RFC 3339 with
 *   the sender's offset, e.g. "2024-03-01T09:30:00+01:00"
 */
char *
rs_reply_format_date (const RsReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  if (reply->date == NULL)
    return NULL;

  return g_date_time_format (reply->date, "%Y-%m-%dT%H:%M:%S%:z");
}

static char *
format_unix (gint64 when)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (when);

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

static void
add_nullable_string (JsonBuilder *builder,
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
 * rs_reply_to_json:
 *
 * The object `retailsphere-accounts replies --json` prints: `account`,
 * `tracked_message_id`, `message_id`, `from` {`name`, `address`}, `date`
 * (RFC 3339 or null), `subject`, `reported` (boolean) and `reported_at`
 * (RFC 3339 UTC or null).  Nothing else is known about a reply.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
rs_reply_to_json (const RsReply *reply)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *date = NULL;
  g_autofree char *reported_at = NULL;

  g_return_val_if_fail (reply != NULL, NULL);

  date = rs_reply_format_date (reply);
  if (reply->reported_at > 0)
    reported_at = format_unix (reply->reported_at);

  json_builder_begin_object (builder);
  add_nullable_string (builder, "account", reply->account);
  add_nullable_string (builder, "tracked_message_id", reply->tracked_message_id);
  add_nullable_string (builder, "message_id", reply->message_id);
  json_builder_set_member_name (builder, "from");
  json_builder_begin_object (builder);
  add_nullable_string (builder, "name", reply->from_name);
  add_nullable_string (builder, "address", reply->from_address);
  json_builder_end_object (builder);
  add_nullable_string (builder, "date", date);
  add_nullable_string (builder, "subject", reply->subject);
  json_builder_set_member_name (builder, "reported");
  json_builder_add_boolean_value (builder, reply->reported_at > 0);
  add_nullable_string (builder, "reported_at", reported_at);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * rs_replies_to_json:
 * @replies: (element-type RsReply): from rs_reply_store_list_replies()
 *
 * Returns: (transfer full): a JSON array of rs_reply_to_json() objects
 */
JsonNode *
rs_replies_to_json (GPtrArray *replies)
{
  JsonArray *array;
  JsonNode *node;

  g_return_val_if_fail (replies != NULL, NULL);

  array = json_array_sized_new (replies->len);
  for (guint i = 0; i < replies->len; i++)
    json_array_add_element (array, rs_reply_to_json (g_ptr_array_index (replies, i)));

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);

  return node;
}

void
rs_tracked_free (RsTracked *tracked)
{
  if (tracked == NULL)
    return;

  g_free (tracked->account);
  g_free (tracked->message_id);
  g_free (tracked->subject);
  g_free (tracked->recipients);
  g_free (tracked->outbox_id);
  g_free (tracked);
}

const char *
rs_tracked_state_to_string (RsTrackedState state)
{
  g_return_val_if_fail (state < G_N_ELEMENTS (tracked_states), NULL);

  return tracked_states[state];
}

static RsTrackedState
tracked_state_from_string (const char *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (tracked_states); i++)
    {
      if (g_strcmp0 (state, tracked_states[i]) == 0)
        return i;
    }

  return RS_TRACKED_UNKNOWN;
}

/* Opening */

/**
 * rs_reply_store_default_path:
 *
 * Returns: (transfer full): `$XDG_DATA_HOME/retailsphere-settings/worker.sqlite`
 */
char *
rs_reply_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "retailsphere-settings", "worker.sqlite", NULL);
}

sqlite3 *
rs_reply_store_get_db (RsReplyStore *self)
{
  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);

  return self->db;
}

const char *
rs_reply_store_get_path (RsReplyStore *self)
{
  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);

  return self->path;
}

/**
 * rs_reply_store_open:
 * @path: (nullable): the database file, or %NULL for
 *   rs_reply_store_default_path()
 * @error: return location for an error
 *
 * Opens (creating if needed, readable by the user only) and migrates the
 * store.  The returned object must only be used from the calling thread.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with
 *   %RS_ERROR_STORAGE
 */
RsReplyStore *
rs_reply_store_open (const char  *path,
                     GError     **error)
{
  g_autoptr(RsReplyStore) self = g_object_new (RS_TYPE_REPLY_STORE, NULL);
  g_autofree char *dir = NULL;
  int fd;

  self->path = path ? g_strdup (path) : rs_reply_store_default_path ();

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("The folder “%s” could not be created: %s"), dir, g_strerror (saved_errno));
      return NULL;
    }

  /* Create it with the user's permissions only; SQLite gives its -wal
   * and -shm files the same. */
  fd = g_open (self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("The file “%s” could not be opened: %s"), self->path, g_strerror (saved_errno));
      return NULL;
    }
  g_close (fd, NULL);

  if (sqlite3_open_v2 (self->path, &self->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK)
    {
      set_db_error (self, error, _("The worker’s database could not be opened"));
      return NULL;
    }

  if (!configure (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/* Tracked messages */

static char *
join_recipients (const char * const *recipients)
{
  if (recipients == NULL || recipients[0] == NULL)
    return NULL;

  return g_strjoinv (", ", (char **) recipients);
}

/**
 * rs_reply_store_record_intent:
 * @account: the account id
 * @message_id: the Message-ID the message will carry (no brackets)
 * @subject: (nullable): its subject
 * @recipients: (nullable) (array zero-terminated=1): its recipients
 * @outbox_id: (nullable): the Retailsphere outbox item it comes from
 * @now: Unix time
 *
 * Records the intent to send, BEFORE the submission starts.  Fails with
 * %RS_ERROR_INPUT when the Message-ID, or the outbox item, already has
 * an entry: that message must not be sent again.
 */
gboolean
rs_reply_store_record_intent (RsReplyStore        *self,
                              const char          *account,
                              const char          *message_id,
                              const char          *subject,
                              const char * const  *recipients,
                              const char          *outbox_id,
                              gint64               now,
                              GError             **error)
{
  g_autoptr(RsStmt) stmt = NULL;
  g_autofree char *joined = NULL;
  int rc;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (message_id != NULL, FALSE);

  stmt = prepare (self,
                  "INSERT INTO tracked (account, message_id, subject, recipients, state, created, outbox_id) "
                  "VALUES (?1, ?2, ?3, ?4, 'intent', ?5, ?6)", error);
  if (stmt == NULL)
    return FALSE;

  joined = join_recipients (recipients);
  bind_text (stmt, 1, account);
  bind_text (stmt, 2, message_id);
  bind_text (stmt, 3, subject);
  bind_text (stmt, 4, joined);
  sqlite3_bind_int64 (stmt, 5, now);
  bind_text (stmt, 6, outbox_id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("This message was already sent or is being sent"));
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, _("The worker’s database could not be updated"));

  return TRUE;
}

static gboolean
set_tracked_state (RsReplyStore    *self,
                   const char      *account,
                   const char      *message_id,
                   RsTrackedState   state,
                   gint64           sent_at,
                   GError         **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (message_id != NULL, FALSE);

  stmt = prepare (self,
                  "UPDATE tracked SET state = ?3, sent_at = COALESCE (?4, sent_at) "
                  "WHERE account = ?1 AND message_id = ?2", error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, account);
  bind_text (stmt, 2, message_id);
  bind_text (stmt, 3, tracked_states[state]);
  if (sent_at > 0)
    sqlite3_bind_int64 (stmt, 4, sent_at);
  else
    sqlite3_bind_null (stmt, 4);

  if (!step_done (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("No message with the Message-ID “%s” was sent from this account"), message_id);
      return FALSE;
    }

  return TRUE;
}

gboolean
rs_reply_store_mark_sent (RsReplyStore  *self,
                          const char    *account,
                          const char    *message_id,
                          gint64         now,
                          GError       **error)
{
  return set_tracked_state (self, account, message_id, RS_TRACKED_SENT, MAX (now, 1), error);
}

gboolean
rs_reply_store_mark_failed (RsReplyStore  *self,
                            const char    *account,
                            const char    *message_id,
                            GError       **error)
{
  return set_tracked_state (self, account, message_id, RS_TRACKED_FAILED, 0, error);
}

gboolean
rs_reply_store_mark_unknown (RsReplyStore  *self,
                             const char    *account,
                             const char    *message_id,
                             GError       **error)
{
  return set_tracked_state (self, account, message_id, RS_TRACKED_UNKNOWN, 0, error);
}

static RsTracked *
tracked_from_row (sqlite3_stmt *stmt)
{
  RsTracked *tracked = g_new0 (RsTracked, 1);

  tracked->id = sqlite3_column_int64 (stmt, 0);
  tracked->account = column_text (stmt, 1);
  tracked->message_id = column_text (stmt, 2);
  tracked->subject = column_text (stmt, 3);
  tracked->recipients = column_text (stmt, 4);
  tracked->state = tracked_state_from_string ((const char *) sqlite3_column_text (stmt, 5));
  tracked->created = sqlite3_column_int64 (stmt, 6);
  tracked->sent_at = sqlite3_column_int64 (stmt, 7);
  tracked->outbox_id = column_text (stmt, 8);

  return tracked;
}

#define TRACKED_COLUMNS "id, account, message_id, subject, recipients, state, created, sent_at, outbox_id"

/**
 * rs_reply_store_list_intents:
 * @account: (nullable): one account, or %NULL for all
 *
 * The messages whose submission started and whose outcome was never
 * recorded (a crash).  See the rule at the top of rs-reply-store.c: they
 * are checked, never resent blindly.
 *
 * Returns: (transfer container) (element-type RsTracked) (nullable):
 *   oldest first, or %NULL with an error
 */
GPtrArray *
rs_reply_store_list_intents (RsReplyStore  *self,
                             const char    *account,
                             GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_tracked_free);
  int rc;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);

  stmt = prepare (self,
                  "SELECT " TRACKED_COLUMNS " FROM tracked "
                  "WHERE state = 'intent' AND (?1 IS NULL OR account = ?1) ORDER BY id", error);
  if (stmt == NULL)
    return NULL;

  bind_text (stmt, 1, account);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, tracked_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, _("The worker’s database could not be read"));
      return NULL;
    }

  return g_steal_pointer (&result);
}

static RsTracked *
lookup_tracked_by (RsReplyStore  *self,
                   const char    *sql,
                   const char    *account,
                   const char    *value,
                   GError       **error)
{
  g_autoptr(RsStmt) stmt = prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;

  bind_text (stmt, 1, account);
  bind_text (stmt, 2, value);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return tracked_from_row (stmt);
  if (rc != SQLITE_DONE)
    set_db_error (self, error, _("The worker’s database could not be read"));

  return NULL;
}

/**
 * rs_reply_store_lookup_tracked:
 *
 * Returns: (transfer full) (nullable): the tracked message, or %NULL
 *   when there is none (then @error is not set) or on error
 */
RsTracked *
rs_reply_store_lookup_tracked (RsReplyStore  *self,
                               const char    *account,
                               const char    *message_id,
                               GError       **error)
{
  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);
  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (message_id != NULL, NULL);

  return lookup_tracked_by (self,
                            "SELECT " TRACKED_COLUMNS " FROM tracked WHERE account = ?1 AND message_id = ?2",
                            account, message_id, error);
}

/**
 * rs_reply_store_lookup_outbox:
 *
 * Whether an outbox item was already taken (in any state): such an item
 * is never sent again.
 *
 * Returns: (transfer full) (nullable): the tracked message, or %NULL
 */
RsTracked *
rs_reply_store_lookup_outbox (RsReplyStore  *self,
                              const char    *account,
                              const char    *outbox_id,
                              GError       **error)
{
  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);
  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (outbox_id != NULL, NULL);

  return lookup_tracked_by (self,
                            "SELECT " TRACKED_COLUMNS " FROM tracked WHERE account = ?1 AND outbox_id = ?2",
                            account, outbox_id, error);
}

/**
 * rs_reply_store_tracked_ids:
 * @account: the account id
 *
 * The set rs_reply_match() takes: every tracked Message-ID of @account,
 * whatever its state.
 *
 * Returns: (transfer full) (element-type utf8 utf8) (nullable): a set
 */
GHashTable *
rs_reply_store_tracked_ids (RsReplyStore  *self,
                            const char    *account,
                            GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int rc;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);
  g_return_val_if_fail (account != NULL, NULL);

  stmt = prepare (self, "SELECT message_id FROM tracked WHERE account = ?1", error);
  if (stmt == NULL)
    return NULL;

  bind_text (stmt, 1, account);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (ids, column_text (stmt, 0));

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, _("The worker’s database could not be read"));
      return NULL;
    }

  return g_steal_pointer (&ids);
}

/* Cursors */

/**
 * rs_reply_store_get_cursor:
 * @out_cursor: (out): the cursor, zeroed when there is none
 *
 * Returns: %TRUE when a cursor is stored; %FALSE when there is none
 *   (@error unset: start from the beginning) or on error
 */
gboolean
rs_reply_store_get_cursor (RsReplyStore     *self,
                           const char       *account,
                           const char       *mailbox,
                           RsMailboxCursor  *out_cursor,
                           GError          **error)
{
  g_autoptr(RsStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (mailbox != NULL, FALSE);
  g_return_val_if_fail (out_cursor != NULL, FALSE);

  memset (out_cursor, 0, sizeof *out_cursor);

  stmt = prepare (self,
                  "SELECT uidvalidity, uidnext, highestmodseq FROM cursors "
                  "WHERE account = ?1 AND mailbox = ?2", error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, account);
  bind_text (stmt, 2, mailbox);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      out_cursor->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 0);
      out_cursor->uidnext = (guint32) sqlite3_column_int64 (stmt, 1);
      out_cursor->highestmodseq = (guint64) sqlite3_column_int64 (stmt, 2);
      return TRUE;
    }

  if (rc != SQLITE_DONE)
    set_db_error (self, error, _("The worker’s database could not be read"));

  return FALSE;
}

static gboolean
write_cursor (RsReplyStore          *self,
              const char            *account,
              const char            *mailbox,
              const RsMailboxCursor *cursor,
              gboolean               forward_only,
              GError               **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  /* Within one UIDVALIDITY a cursor only moves forward: UIDNEXT never
   * decreases (RFC 3501 §2.3.1.1), so a smaller one is stale. */
  stmt = prepare (self,
                  "INSERT INTO cursors (account, mailbox, uidvalidity, uidnext, highestmodseq) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) "
                  "ON CONFLICT (account, mailbox) DO UPDATE SET "
                  "  uidnext = CASE WHEN ?6 AND uidvalidity = excluded.uidvalidity "
                  "                 THEN MAX (uidnext, excluded.uidnext) ELSE excluded.uidnext END,"
                  "  highestmodseq = CASE WHEN ?6 AND uidvalidity = excluded.uidvalidity "
                  "                 THEN MAX (highestmodseq, excluded.highestmodseq) ELSE excluded.highestmodseq END,"
                  "  uidvalidity = excluded.uidvalidity", error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, account);
  bind_text (stmt, 2, mailbox);
  sqlite3_bind_int64 (stmt, 3, cursor->uidvalidity);
  sqlite3_bind_int64 (stmt, 4, cursor->uidnext);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) cursor->highestmodseq);
  sqlite3_bind_int (stmt, 6, forward_only);

  return step_done (self, stmt, error);
}

gboolean
rs_reply_store_set_cursor (RsReplyStore           *self,
                           const char             *account,
                           const char             *mailbox,
                           const RsMailboxCursor  *cursor,
                           GError                **error)
{
  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (mailbox != NULL, FALSE);
  g_return_val_if_fail (cursor != NULL, FALSE);

  return write_cursor (self, account, mailbox, cursor, TRUE, error);
}

/**
 * rs_reply_store_reset_cursor:
 * @uidvalidity: the mailbox's new UIDVALIDITY
 *
 * After a UIDVALIDITY change: the cursor starts again at UID 1 (and
 * modseq 0).  Replies already found stay, and since a reply is unique by
 * (account, Message-ID) finding them again neither stores nor reports
 * them twice.
 */
gboolean
rs_reply_store_reset_cursor (RsReplyStore  *self,
                             const char    *account,
                             const char    *mailbox,
                             guint32        uidvalidity,
                             GError       **error)
{
  RsMailboxCursor cursor = { uidvalidity, 1, 0 };

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (mailbox != NULL, FALSE);

  return write_cursor (self, account, mailbox, &cursor, FALSE, error);
}

static gboolean
insert_reply (RsReplyStore  *self,
              sqlite3_stmt  *insert,
              sqlite3_stmt  *enqueue,
              const char    *account,
              const RsReply *reply,
              gint64         now,
              gboolean      *out_new,
              GError       **error)
{
  g_autofree char *date = NULL;
  g_autofree char *key = NULL;

  *out_new = FALSE;

  if (reply->message_id == NULL || reply->tracked_message_id == NULL || reply->from_address == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("A reply without a Message-ID, tracked message or sender cannot be stored"));
      return FALSE;
    }

  date = rs_reply_format_date (reply);
  sqlite3_reset (insert);
  sqlite3_clear_bindings (insert);
  bind_text (insert, 1, account);
  bind_text (insert, 2, reply->tracked_message_id);
  bind_text (insert, 3, reply->message_id);
  bind_text (insert, 4, reply->from_name);
  bind_text (insert, 5, reply->from_address);
  bind_text (insert, 6, date);
  bind_text (insert, 7, reply->subject);
  sqlite3_bind_int64 (insert, 8, now);

  if (!step_done (self, insert, error))
    return FALSE;

  /* Already stored (delivered twice, or found again after a UIDVALIDITY
   * change): nothing to store, nothing to report. */
  if (sqlite3_changes (self->db) == 0)
    return TRUE;

  key = g_uuid_string_random ();
  sqlite3_reset (enqueue);
  sqlite3_clear_bindings (enqueue);
  sqlite3_bind_int64 (enqueue, 1, sqlite3_last_insert_rowid (self->db));
  bind_text (enqueue, 2, key);
  sqlite3_bind_int64 (enqueue, 3, now);

  if (!step_done (self, enqueue, error))
    return FALSE;

  *out_new = TRUE;

  return TRUE;
}

/**
 * rs_reply_store_commit_sync_batch:
 * @account: the account id
 * @mailbox: the mailbox name, e.g. "INBOX"
 * @new_cursor: the cursor after the messages of @replies
 * @replies: (element-type RsReply) (nullable): the replies found
 * @now: Unix time (found_at, and when the reports are first due)
 * @out_n_new: (out) (optional): how many replies were new
 * @error: return location for an error
 *
 * In ONE transaction: stores the replies not stored before (by account
 * and Message-ID), queues each new one for reporting with a fresh
 * idempotency key, and advances the cursor.  On any failure nothing at
 * all changes, so the same batch can be fetched and committed again.
 */
gboolean
rs_reply_store_commit_sync_batch (RsReplyStore           *self,
                                  const char             *account,
                                  const char             *mailbox,
                                  const RsMailboxCursor  *new_cursor,
                                  GPtrArray              *replies,
                                  gint64                  now,
                                  guint                  *out_n_new,
                                  GError                **error)
{
  g_autoptr(RsStmt) insert = NULL;
  g_autoptr(RsStmt) enqueue = NULL;
  guint n_new = 0;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (mailbox != NULL, FALSE);
  g_return_val_if_fail (new_cursor != NULL, FALSE);

  if (out_n_new != NULL)
    *out_n_new = 0;

  insert = prepare (self,
                    "INSERT INTO replies (account, tracked_message_id, message_id, from_name, "
                    "                     from_address, date, subject, found_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                    "ON CONFLICT (account, message_id) DO NOTHING", error);
  if (insert == NULL)
    return FALSE;

  enqueue = prepare (self,
                     "INSERT INTO report_queue (reply_id, idempotency_key, attempts, next_attempt_at) "
                     "VALUES (?1, ?2, 0, ?3)", error);
  if (enqueue == NULL)
    return FALSE;

  if (!begin (self, error))
    return FALSE;

  for (guint i = 0; replies != NULL && i < replies->len; i++)
    {
      gboolean is_new;

      if (!insert_reply (self, insert, enqueue, account, g_ptr_array_index (replies, i), now, &is_new, error))
        {
          rollback (self);
          return FALSE;
        }

      n_new += is_new;
    }

  if (!write_cursor (self, account, mailbox, new_cursor, TRUE, error))
    {
      rollback (self);
      return FALSE;
    }

  if (!commit (self, error))
    return FALSE;

  if (out_n_new != NULL)
    *out_n_new = n_new;

  return TRUE;
}

/* The report queue */

#define REPLY_COLUMNS \
  "r.id, r.account, r.tracked_message_id, r.message_id, r.from_name, r.from_address, r.date, " \
  "r.subject, r.found_at, q.idempotency_key, q.attempts, q.next_attempt_at, q.reported_at"

static RsReply *
reply_from_row (sqlite3_stmt *stmt)
{
  RsReply *reply = g_new0 (RsReply, 1);
  const char *date;

  reply->id = sqlite3_column_int64 (stmt, 0);
  reply->account = column_text (stmt, 1);
  reply->tracked_message_id = column_text (stmt, 2);
  reply->message_id = column_text (stmt, 3);
  reply->from_name = column_text (stmt, 4);
  reply->from_address = column_text (stmt, 5);
  date = (const char *) sqlite3_column_text (stmt, 6);
  if (date != NULL)
    reply->date = g_date_time_new_from_iso8601 (date, NULL);
  reply->subject = column_text (stmt, 7);
  reply->found_at = sqlite3_column_int64 (stmt, 8);
  reply->idempotency_key = column_text (stmt, 9);
  reply->attempts = (guint) sqlite3_column_int (stmt, 10);
  reply->next_attempt_at = sqlite3_column_int64 (stmt, 11);
  reply->reported_at = sqlite3_column_int64 (stmt, 12);

  return reply;
}

static GPtrArray *
collect_replies (RsReplyStore  *self,
                 sqlite3_stmt  *stmt,
                 GError       **error)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, reply_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, _("The worker’s database could not be read"));
      return NULL;
    }

  return g_steal_pointer (&result);
}

/**
 * rs_reply_store_next_reports:
 * @limit: at most this many
 * @now: Unix time
 *
 * The replies due for reporting: not reported yet and whose next attempt
 * is at or before @now, oldest due first.  Each carries its
 * idempotency key and attempt count.
 *
 * Returns: (transfer container) (element-type RsReply) (nullable)
 */
GPtrArray *
rs_reply_store_next_reports (RsReplyStore  *self,
                             guint          limit,
                             gint64         now,
                             GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);

  stmt = prepare (self,
                  "SELECT " REPLY_COLUMNS " FROM report_queue q JOIN replies r ON r.id = q.reply_id "
                  "WHERE q.reported_at IS NULL AND q.next_attempt_at <= ?1 "
                  "ORDER BY q.next_attempt_at, r.id LIMIT ?2", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, limit);

  return collect_replies (self, stmt, error);
}

/**
 * rs_reply_store_next_report_due:
 * @out_when: (out): when the next report is due (Unix time)
 *
 * Returns: %TRUE when a report is waiting; %FALSE when none is (@error
 *   unset) or on error
 */
gboolean
rs_reply_store_next_report_due (RsReplyStore  *self,
                                gint64        *out_when,
                                GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (out_when != NULL, FALSE);

  *out_when = 0;

  stmt = prepare (self, "SELECT MIN (next_attempt_at) FROM report_queue WHERE reported_at IS NULL", error);
  if (stmt == NULL)
    return FALSE;

  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_db_error (self, error, _("The worker’s database could not be read"));

  if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    return FALSE;

  *out_when = sqlite3_column_int64 (stmt, 0);

  return TRUE;
}

/**
 * rs_reply_store_mark_reported:
 * @keys: (array zero-terminated=1): idempotency keys the server accepted
 *   (or already had)
 * @now: Unix time
 *
 * Marks the keys reported, all in one transaction.  Unknown keys and
 * keys already reported are ignored (the first time is kept).
 */
gboolean
rs_reply_store_mark_reported (RsReplyStore        *self,
                              const char * const  *keys,
                              gint64               now,
                              GError             **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);

  if (keys == NULL || keys[0] == NULL)
    return TRUE;

  stmt = prepare (self,
                  "UPDATE report_queue SET reported_at = ?2 "
                  "WHERE idempotency_key = ?1 AND reported_at IS NULL", error);
  if (stmt == NULL)
    return FALSE;

  if (!begin (self, error))
    return FALSE;

  for (guint i = 0; keys[i] != NULL; i++)
    {
      sqlite3_reset (stmt);
      bind_text (stmt, 1, keys[i]);
      sqlite3_bind_int64 (stmt, 2, now);

      if (!step_done (self, stmt, error))
        {
          rollback (self);
          return FALSE;
        }
    }

  return commit (self, error);
}

/**
 * rs_reply_store_reschedule:
 * @key: an idempotency key
 * @next_attempt_at: Unix time of the next attempt
 *
 * Counts a failed attempt and sets when to try again (see
 * rs_backoff_delay()).
 */
gboolean
rs_reply_store_reschedule (RsReplyStore  *self,
                           const char    *key,
                           gint64         next_attempt_at,
                           GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  stmt = prepare (self,
                  "UPDATE report_queue SET attempts = attempts + 1, next_attempt_at = ?2 "
                  "WHERE idempotency_key = ?1 AND reported_at IS NULL", error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, next_attempt_at);

  return step_done (self, stmt, error);
}

/**
 * rs_reply_store_list_replies:
 * @account: (nullable): one account, or %NULL for all
 *
 * Every reply found, in the order found, with its report state (for the
 * Activity view and `retailsphere-accounts replies`).
 *
 * Returns: (transfer container) (element-type RsReply) (nullable)
 */
GPtrArray *
rs_reply_store_list_replies (RsReplyStore  *self,
                             const char    *account,
                             GError       **error)
{
  g_autoptr(RsStmt) stmt = NULL;

  g_return_val_if_fail (RS_IS_REPLY_STORE (self), NULL);

  stmt = prepare (self,
                  "SELECT " REPLY_COLUMNS " FROM replies r LEFT JOIN report_queue q ON q.reply_id = r.id "
                  "WHERE ?1 IS NULL OR r.account = ?1 ORDER BY r.id", error);
  if (stmt == NULL)
    return NULL;

  bind_text (stmt, 1, account);

  return collect_replies (self, stmt, error);
}
