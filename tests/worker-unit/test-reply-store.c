/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-reply-store"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rs-error.h"
#include "rs-reply-store.h"
#include "rs-reply-store-private.h"
#include "rs-test-utils.h"

#define ACCOUNT "acct-1"
#define TRACKED "sent-1@shop.example.com"
#define NOW 1700000000

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("rs-reply-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "sub", "worker.sqlite", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  rs_test_remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static RsReplyStore *
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  RsReplyStore *store = rs_reply_store_open (f->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);

  return store;
}

static RsReply *
make_reply (const char *message_id)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_iso8601 ("2024-03-01T09:30:00+01:00", NULL);

  return rs_reply_new (TRACKED, message_id, "Jürgen Müller", "jm@example.de", date, "Re: Bögen");
}

static GPtrArray *
make_batch (const char *first,
            ...)
{
  GPtrArray *batch = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  va_list args;

  va_start (args, first);
  for (const char *id = first; id != NULL; id = va_arg (args, const char *))
    g_ptr_array_add (batch, make_reply (id));
  va_end (args);

  return batch;
}

static gint64
count_rows (RsReplyStore *store,
            const char   *table)
{
  g_autofree char *sql = g_strdup_printf ("SELECT COUNT(*) FROM %s", table);
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (rs_reply_store_get_db (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  return n;
}

static void
commit_ok (RsReplyStore *store,
           guint32       uidvalidity,
           guint32       uidnext,
           GPtrArray    *batch,
           guint         expected_new)
{
  RsMailboxCursor cursor = { uidvalidity, uidnext, 0 };
  g_autoptr(GError) error = NULL;
  guint n_new = G_MAXUINT;

  g_assert_true (rs_reply_store_commit_sync_batch (store, ACCOUNT, "INBOX", &cursor, batch, NOW, &n_new, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_new, ==, expected_new);
}

static void
test_intent_sent (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) intents = NULL;
  g_autoptr(RsTracked) tracked = NULL;
  g_autoptr(RsTracked) by_outbox = NULL;
  g_autoptr(GHashTable) ids = NULL;
  const char *recipients[] = { "a@example.org", "b@example.org", NULL };

  g_assert_true (rs_reply_store_record_intent (store, ACCOUNT, TRACKED, "Your quote", recipients, "ob-1", NOW, &error));
  g_assert_no_error (error);

  intents = rs_reply_store_list_intents (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (intents->len, ==, 1);
  g_assert_cmpstr (((RsTracked *) g_ptr_array_index (intents, 0))->message_id, ==, TRACKED);

  /* The same message, or the same outbox item, cannot be sent twice. */
  g_assert_false (rs_reply_store_record_intent (store, ACCOUNT, TRACKED, NULL, NULL, NULL, NOW, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (rs_reply_store_record_intent (store, ACCOUNT, "other@shop.example.com", NULL, NULL, "ob-1", NOW, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
  g_clear_error (&error);

  by_outbox = rs_reply_store_lookup_outbox (store, ACCOUNT, "ob-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_outbox->message_id, ==, TRACKED);

  g_assert_true (rs_reply_store_mark_sent (store, ACCOUNT, TRACKED, NOW + 5, &error));
  g_assert_no_error (error);

  tracked = rs_reply_store_lookup_tracked (store, ACCOUNT, TRACKED, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tracked->state, ==, RS_TRACKED_SENT);
  g_assert_cmpint (tracked->sent_at, ==, NOW + 5);
  g_assert_cmpstr (tracked->recipients, ==, "a@example.org, b@example.org");
  g_assert_cmpstr (tracked->subject, ==, "Your quote");

  g_clear_pointer (&intents, g_ptr_array_unref);
  intents = rs_reply_store_list_intents (store, ACCOUNT, &error);
  g_assert_cmpuint (intents->len, ==, 0);

  /* After a crash: an intent becomes unknown, never resent. */
  g_assert_true (rs_reply_store_record_intent (store, ACCOUNT, "crashed@shop.example.com", NULL, NULL, NULL, NOW, &error));
  g_assert_true (rs_reply_store_mark_unknown (store, ACCOUNT, "crashed@shop.example.com", &error));
  g_assert_true (rs_reply_store_record_intent (store, ACCOUNT, "refused@shop.example.com", NULL, NULL, NULL, NOW, &error));
  g_assert_true (rs_reply_store_mark_failed (store, ACCOUNT, "refused@shop.example.com", &error));
  g_assert_no_error (error);

  g_assert_false (rs_reply_store_mark_sent (store, ACCOUNT, "never@shop.example.com", NOW, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
  g_clear_error (&error);

  g_assert_null (rs_reply_store_lookup_tracked (store, "acct-2", TRACKED, &error));
  g_assert_no_error (error);

  ids = rs_reply_store_tracked_ids (store, ACCOUNT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 3);
  g_assert_true (g_hash_table_contains (ids, TRACKED));
  g_assert_true (g_hash_table_contains (ids, "crashed@shop.example.com"));
}

static void
test_duplicates (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) first = make_batch ("r1@c.example", "r2@c.example", "r1@c.example", NULL);
  g_autoptr(GPtrArray) again = make_batch ("r2@c.example", NULL);
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;

  commit_ok (store, 7, 10, first, 2);
  commit_ok (store, 7, 11, again, 0);

  g_assert_cmpint (count_rows (store, "replies"), ==, 2);
  due = rs_reply_store_next_reports (store, 10, NOW, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (due->len, ==, 2);
  g_assert_cmpstr (((RsReply *) g_ptr_array_index (due, 0))->idempotency_key, !=,
                   ((RsReply *) g_ptr_array_index (due, 1))->idempotency_key);
}

static void
assert_untouched (RsReplyStore *store)
{
  RsMailboxCursor cursor;
  g_autoptr(GError) error = NULL;

  g_assert_true (rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &cursor, &error));
  g_assert_cmpuint (cursor.uidvalidity, ==, 7);
  g_assert_cmpuint (cursor.uidnext, ==, 10);
  g_assert_cmpint (count_rows (store, "replies"), ==, 1);
  g_assert_cmpint (count_rows (store, "report_queue"), ==, 1);
}

static void
test_atomic_invalid_reply (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) first = make_batch ("r1@c.example", NULL);
  g_autoptr(GPtrArray) broken = make_batch ("r2@c.example", "r3@c.example", "r4@c.example", NULL);
  RsMailboxCursor cursor = { 7, 20, 0 };
  g_autoptr(GError) error = NULL;

  commit_ok (store, 7, 10, first, 1);

  /* The second reply is refused after the first was written. */
  g_clear_pointer (&((RsReply *) g_ptr_array_index (broken, 1))->message_id, g_free);
  g_assert_false (rs_reply_store_commit_sync_batch (store, ACCOUNT, "INBOX", &cursor, broken, NOW, NULL, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);

  assert_untouched (store);
}

static void
test_atomic_cursor_failure (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) first = make_batch ("r1@c.example", NULL);
  g_autoptr(GPtrArray) batch = make_batch ("r2@c.example", "r3@c.example", NULL);
  RsMailboxCursor cursor = { 7, 20, 0 };
  g_autoptr(GError) error = NULL;

  commit_ok (store, 7, 10, first, 1);

  /* The disk "fails" on the last statement of the transaction, after
   * every reply and its queue entry were written. */
  g_assert_cmpint (sqlite3_exec (rs_reply_store_get_db (store),
                                 "CREATE TEMP TRIGGER fail_cursor BEFORE UPDATE ON main.cursors "
                                 "BEGIN SELECT RAISE (ABORT, 'simulated failure'); END;",
                                 NULL, NULL, NULL), ==, SQLITE_OK);

  g_assert_false (rs_reply_store_commit_sync_batch (store, ACCOUNT, "INBOX", &cursor, batch, NOW, NULL, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_STORAGE);
  g_assert_nonnull (strstr (error->message, "simulated failure"));

  assert_untouched (store);
}

static void
test_uidvalidity_reset (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) first = make_batch ("r1@c.example", NULL);
  g_autoptr(GPtrArray) refound = make_batch ("r1@c.example", "r5@c.example", NULL);
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  RsMailboxCursor cursor;
  const char *keys[2] = { NULL, NULL };

  commit_ok (store, 7, 10, first, 1);
  due = rs_reply_store_next_reports (store, 10, NOW, &error);
  keys[0] = ((RsReply *) g_ptr_array_index (due, 0))->idempotency_key;
  g_assert_true (rs_reply_store_mark_reported (store, keys, NOW + 1, &error));
  g_assert_no_error (error);

  g_assert_true (rs_reply_store_reset_cursor (store, ACCOUNT, "INBOX", 8, &error));
  g_assert_true (rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &cursor, &error));
  g_assert_cmpuint (cursor.uidvalidity, ==, 8);
  g_assert_cmpuint (cursor.uidnext, ==, 1);

  /* The rescan finds the old reply again and one new one. */
  commit_ok (store, 8, 3, refound, 1);

  g_clear_pointer (&due, g_ptr_array_unref);
  due = rs_reply_store_next_reports (store, 10, NOW + 2, &error);
  g_assert_cmpuint (due->len, ==, 1);
  g_assert_cmpstr (((RsReply *) g_ptr_array_index (due, 0))->message_id, ==, "r5@c.example");

  all = rs_reply_store_list_replies (store, ACCOUNT, &error);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_cmpint (((RsReply *) g_ptr_array_index (all, 0))->reported_at, ==, NOW + 1);
  g_assert_cmpint (((RsReply *) g_ptr_array_index (all, 1))->reported_at, ==, 0);
}

static void
test_cursor_forward_only (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  RsMailboxCursor cursor = { 7, 50, 900 };
  RsMailboxCursor stale = { 7, 40, 800 };
  RsMailboxCursor got;
  g_autoptr(GError) error = NULL;

  g_assert_false (rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &got, &error));
  g_assert_no_error (error);

  g_assert_true (rs_reply_store_set_cursor (store, ACCOUNT, "INBOX", &cursor, &error));
  g_assert_true (rs_reply_store_set_cursor (store, ACCOUNT, "INBOX", &stale, &error));
  g_assert_true (rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &got, &error));
  g_assert_cmpuint (got.uidnext, ==, 50);
  g_assert_cmpuint (got.highestmodseq, ==, 900);
  g_assert_false (rs_reply_store_get_cursor (store, ACCOUNT, "Archive", &got, &error));
}

static void
test_wal (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  sqlite3_stmt *stmt = NULL;
  GStatBuf st;

  g_assert_cmpint (sqlite3_prepare_v2 (rs_reply_store_get_db (store), "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);

  g_assert_cmpint (sqlite3_prepare_v2 (rs_reply_store_get_db (store), "PRAGMA synchronous", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 2); /* FULL */
  sqlite3_finalize (stmt);

  /* Only the user can read what was found. */
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) batch = make_batch ("r1@c.example", NULL);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(RsTracked) tracked = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *date = NULL;
  RsMailboxCursor cursor;
  RsReply *reply;

  g_assert_true (rs_reply_store_record_intent (store, ACCOUNT, TRACKED, "Quote", NULL, NULL, NOW, &error));
  g_assert_true (rs_reply_store_mark_sent (store, ACCOUNT, TRACKED, NOW, &error));
  commit_ok (store, 7, 10, batch, 1);
  g_clear_object (&store);

  store = open_store (f);
  g_assert_cmpint (sqlite3_exec (rs_reply_store_get_db (store), "SELECT 1", NULL, NULL, NULL), ==, SQLITE_OK);
  tracked = rs_reply_store_lookup_tracked (store, ACCOUNT, TRACKED, &error);
  g_assert_nonnull (tracked);
  g_assert_cmpint (tracked->state, ==, RS_TRACKED_SENT);
  g_assert_true (rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &cursor, &error));
  g_assert_cmpuint (cursor.uidnext, ==, 10);

  all = rs_reply_store_list_replies (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 1);
  reply = g_ptr_array_index (all, 0);
  g_assert_cmpstr (reply->account, ==, ACCOUNT);
  g_assert_cmpstr (reply->from_name, ==, "Jürgen Müller");
  g_assert_cmpstr (reply->subject, ==, "Re: Bögen");
  date = rs_reply_format_date (reply);
  g_assert_cmpstr (date, ==, "2024-03-01T09:30:00+01:00");
  g_assert_nonnull (reply->idempotency_key);
  g_assert_true (g_uuid_string_is_valid (reply->idempotency_key));
}

static void
test_newer_schema_refused (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(RsReplyStore) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (sqlite3_exec (rs_reply_store_get_db (store), "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  g_clear_object (&store);

  again = rs_reply_store_open (f->path, &error);
  g_assert_null (again);
  g_assert_error (error, RS_ERROR, RS_ERROR_STORAGE);
}

static void
test_report_queue (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) batch = make_batch ("r1@c.example", "r2@c.example", "r3@c.example", NULL);
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *later_key = NULL;
  const char *keys[3] = { NULL };
  gint64 when = 0;

  commit_ok (store, 7, 10, batch, 3);

  g_assert_true (rs_reply_store_next_report_due (store, &when, &error));
  g_assert_cmpint (when, ==, NOW);

  due = rs_reply_store_next_reports (store, 2, NOW, &error);
  g_assert_cmpuint (due->len, ==, 2);
  keys[0] = ((RsReply *) g_ptr_array_index (due, 0))->idempotency_key;
  keys[1] = ((RsReply *) g_ptr_array_index (due, 1))->idempotency_key;
  g_assert_true (rs_reply_store_mark_reported (store, keys, NOW + 1, &error));
  g_clear_pointer (&due, g_ptr_array_unref);

  due = rs_reply_store_next_reports (store, 10, NOW + 1, &error);
  g_assert_cmpuint (due->len, ==, 1);
  later_key = g_strdup (((RsReply *) g_ptr_array_index (due, 0))->idempotency_key);
  g_assert_true (rs_reply_store_reschedule (store, later_key, NOW + 60, &error));
  g_clear_pointer (&due, g_ptr_array_unref);

  due = rs_reply_store_next_reports (store, 10, NOW + 59, &error);
  g_assert_cmpuint (due->len, ==, 0);
  g_clear_pointer (&due, g_ptr_array_unref);
  due = rs_reply_store_next_reports (store, 10, NOW + 60, &error);
  g_assert_cmpuint (due->len, ==, 1);
  g_assert_cmpuint (((RsReply *) g_ptr_array_index (due, 0))->attempts, ==, 1);

  keys[0] = later_key;
  keys[1] = NULL;
  g_assert_true (rs_reply_store_mark_reported (store, keys, NOW + 60, &error));
  g_assert_false (rs_reply_store_next_report_due (store, &when, &error));
  g_assert_no_error (error);
}

static void
test_json (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = open_store (f);
  g_autoptr(GPtrArray) batch = make_batch ("r1@c.example", NULL);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  JsonObject *object;

  commit_ok (store, 7, 10, batch, 1);
  all = rs_reply_store_list_replies (store, NULL, &error);
  node = rs_replies_to_json (all);
  text = json_to_string (node, FALSE);
  g_test_message ("%s", text);

  object = json_array_get_object_element (json_node_get_array (node), 0);
  g_assert_cmpstr (json_object_get_string_member (object, "account"), ==, ACCOUNT);
  g_assert_cmpstr (json_object_get_string_member (object, "tracked_message_id"), ==, TRACKED);
  g_assert_cmpstr (json_object_get_string_member (object, "message_id"), ==, "r1@c.example");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "from"), "address"), ==, "jm@example.de");
  g_assert_cmpstr (json_object_get_string_member (object, "date"), ==, "2024-03-01T09:30:00+01:00");
  g_assert_cmpstr (json_object_get_string_member (object, "subject"), ==, "Re: Bögen");
  g_assert_false (json_object_get_boolean_member (object, "reported"));
  g_assert_true (json_object_get_null_member (object, "reported_at"));
}

/* The crash test: a child commits batch after batch and is killed with
 * SIGKILL, either from inside a transaction (a trigger fires after the
 * first reply of batch K is written) or by a thread at a random moment.
 * The parent reopens the file: every batch is there whole with its
 * cursor, or not at all. */

#define CRASH_PER_BATCH 3

static void
kill_self_func (sqlite3_context  *context,
                int               argc,
                sqlite3_value   **argv)
{
  kill (getpid (), SIGKILL);
}

static gpointer
killer_thread (gpointer data)
{
  g_usleep (GPOINTER_TO_UINT (data));
  kill (getpid (), SIGKILL);
  return NULL;
}

static void
crash_child (void)
{
  const char *path = g_getenv ("RS_TEST_CRASH_DB");
  guint kill_at = (guint) g_ascii_strtoull (g_getenv ("RS_TEST_CRASH_AT"), NULL, 10);
  guint kill_after_us = (guint) g_ascii_strtoull (g_getenv ("RS_TEST_CRASH_AFTER_US"), NULL, 10);
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  guint first;

  store = rs_reply_store_open (path, &error);
  g_assert_no_error (error);

  if (kill_after_us > 0)
    {
      g_thread_unref (g_thread_new ("killer", killer_thread, GUINT_TO_POINTER (kill_after_us)));
    }
  else
    {
      g_autofree char *trigger = g_strdup_printf ("CREATE TEMP TRIGGER crash AFTER INSERT ON main.replies "
                                                  "WHEN new.message_id = 'c%u.0@crash.example' "
                                                  "BEGIN SELECT rs_test_kill (); END;", kill_at);

      sqlite3_create_function (rs_reply_store_get_db (store), "rs_test_kill", 0, SQLITE_UTF8, NULL,
                               kill_self_func, NULL, NULL);
      g_assert_cmpint (sqlite3_exec (rs_reply_store_get_db (store), trigger, NULL, NULL, NULL), ==, SQLITE_OK);
    }

  /* Go on from where the previous run was killed, as the worker does. */
  {
    RsMailboxCursor start;

    rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &start, &error);
    g_assert_no_error (error);
    first = start.uidnext / 10;
  }

  for (guint i = first; i < first + 100000; i++)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
      RsMailboxCursor cursor = { 1, (i + 1) * 10, 0 };

      for (guint j = 0; j < CRASH_PER_BATCH; j++)
        {
          g_autofree char *id = g_strdup_printf ("c%u.%u@crash.example", i, j);

          g_ptr_array_add (batch, make_reply (id));
        }

      g_assert_true (rs_reply_store_commit_sync_batch (store, ACCOUNT, "INBOX", &cursor, batch, NOW, NULL, &error));
    }

  /* Not killed: the parent fails the test. */
}

static void
check_after_crash (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsReplyStore) store = rs_reply_store_open (path, &error);
  g_autoptr(GPtrArray) all = NULL;
  RsMailboxCursor cursor = { 0 };
  guint batches;

  g_assert_no_error (error);
  rs_reply_store_get_cursor (store, ACCOUNT, "INBOX", &cursor, &error);
  g_assert_no_error (error);
  batches = cursor.uidnext / 10;

  all = rs_reply_store_list_replies (store, ACCOUNT, &error);
  g_assert_no_error (error);
  g_test_message ("after the crash: %u batches committed, %u replies", batches, all->len);

  /* No reply without its cursor advance, and no advance without its replies. */
  g_assert_cmpuint (all->len, ==, batches * CRASH_PER_BATCH);
  g_assert_cmpint (count_rows (store, "report_queue"), ==, all->len);
  for (guint i = 0; i < all->len; i++)
    {
      RsReply *reply = g_ptr_array_index (all, i);
      g_autofree char *expected = g_strdup_printf ("c%u.%u@crash.example", i / CRASH_PER_BATCH, i % CRASH_PER_BATCH);

      g_assert_cmpstr (reply->message_id, ==, expected);
      g_assert_nonnull (reply->idempotency_key);
    }
}

static void
run_crash (Fixture *f,
           guint    kill_at,
           guint    kill_after_us)
{
  g_autofree char *at = g_strdup_printf ("%u", kill_at);
  g_autofree char *after = g_strdup_printf ("%u", kill_after_us);
  g_autofree char *sub = g_path_get_dirname (f->path);

  g_mkdir_with_parents (sub, 0700);
  g_setenv ("RS_TEST_CRASH_DB", f->path, TRUE);
  g_setenv ("RS_TEST_CRASH_AT", at, TRUE);
  g_setenv ("RS_TEST_CRASH_AFTER_US", after, TRUE);

  g_test_trap_subprocess ("/reply-store/crash/child", 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();

  check_after_crash (f->path);
}

static void
test_crash_child (void)
{
  if (!g_test_subprocess ())
    {
      g_test_skip ("the body of /reply-store/crash/*, run only in their child process");
      return;
    }

  crash_child ();
}

static void
test_crash_in_transaction (Fixture       *f,
                           gconstpointer  data)
{
  run_crash (f, (guint) g_test_rand_int_range (1, 40), 0);
}

static void
test_crash_at_random_times (Fixture       *f,
                            gconstpointer  data)
{
  /* Several kills at random moments of a steady stream of commits. */
  for (guint round = 0; round < 5; round++)
    run_crash (f, 0, (guint) g_test_rand_int_range (20000, 300000));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/reply-store/intent-sent", test_intent_sent);
  ADD ("/reply-store/duplicates-ignored", test_duplicates);
  ADD ("/reply-store/atomic/invalid-reply", test_atomic_invalid_reply);
  ADD ("/reply-store/atomic/cursor-failure", test_atomic_cursor_failure);
  ADD ("/reply-store/uidvalidity-reset", test_uidvalidity_reset);
  ADD ("/reply-store/cursor-forward-only", test_cursor_forward_only);
  ADD ("/reply-store/wal", test_wal);
  ADD ("/reply-store/reopen", test_reopen);
  ADD ("/reply-store/newer-schema-refused", test_newer_schema_refused);
  ADD ("/reply-store/report-queue", test_report_queue);
  ADD ("/reply-store/json", test_json);
  ADD ("/reply-store/crash/in-transaction", test_crash_in_transaction);
  ADD ("/reply-store/crash/random-times", test_crash_at_random_times);
#undef ADD
  g_test_add_func ("/reply-store/crash/child", test_crash_child);

  return g_test_run ();
}
