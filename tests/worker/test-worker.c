/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-worker"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "rs-account-store.h"
#include "rs-reply-store.h"
#include "rs-secret-store.h"
#include "rs-test-reporting-server.h"
#include "rs-test-server.h"
#include "rs-test-utils.h"
#include "rs-worker.h"

/* The background worker end to end: retailsphere-accounts send / sync /
 * replies (and RsWorker itself) against a real Dovecot, with delivery
 * through a real Exim, the real keyring of the rs-session-run session,
 * and a local Retailsphere server that follows docs/REPORTING-API.md.
 * After every sync, Dovecot's own log must show that no session of ours
 * fetched a body. */

#define PASSWORD "correct horse"
#define TOKEN    "worker-test-token-81c2"
#define CUSTOMER "customer@example.org"

typedef struct
{
  char                  *home;        /* XDG_CONFIG_HOME and XDG_DATA_HOME live here */
  RsTestServer          *imap;
  RsTestServer          *smtp;
  RsTestReportingServer *reporting;
  char                  *account_id;
  const char            *address;
  char                  *out;
  char                  *err;
  int                    status;
} Fixture;

/* ------------------------------------------------------------ helpers */

static GSubprocessLauncher *
cli_launcher (Fixture *f)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                             G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                             G_SUBPROCESS_FLAGS_STDERR_PIPE);

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", f->home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", f->home, TRUE);
  /* The server address is read from GSettings: a keyfile the test writes. */
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);

  return launcher;
}

/* Runs the CLI to its end while this thread's main context (and so the
 * local Retailsphere server) keeps running. */
static void
cli (Fixture    *f,
     const char *stdin_text,
     ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = cli_launcher (f);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (char *) g_getenv ("RS_CLI"));
  va_start (ap, stdin_text);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_clear_pointer (&f->out, g_free);
  g_clear_pointer (&f->err, g_free);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, stdin_text, NULL, rs_test_result_cb, &result);
  g_subprocess_communicate_utf8_finish (process, rs_test_wait_result (&result), &f->out, &f->err, &error);
  g_assert_no_error (error);
  f->status = g_subprocess_get_exit_status (process);

  g_test_message ("%s %s: status %d\nstdout: %s\nstderr: %s", (char *) args->pdata[1],
                  args->len > 2 ? (char *) args->pdata[2] : "", f->status, f->out, f->err);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

/* How many messages in INBOX carry this Message-ID. */
static guint
count_in_inbox (Fixture    *f,
                const char *message_id)
{
  g_autofree char *out = NULL;
  g_autofree char *bracketed = g_strdup_printf ("<%s>", message_id);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  rs_test_dovecot_doveadm (f->imap, (const char * const[]) { "search", "-u", rs_test_server_get_user (f->imap),
                                                             "mailbox", "INBOX", "header", "Message-ID", bracketed, NULL },
                           &out, &error);
  g_assert_no_error (error);
  lines = g_strsplit (out ? out : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += *g_strstrip (lines[i]) != '\0';

  return n;
}

/* Waits (a little) for Exim's delivery into Dovecot's INBOX. */
static guint
wait_in_inbox (Fixture    *f,
               const char *message_id,
               guint       expected)
{
  guint n = 0;

  for (guint attempt = 0; attempt < 100; attempt++)
    {
      n = count_in_inbox (f, message_id);
      if (n >= expected)
        break;
      g_usleep (50 * 1000);
    }

  return n;
}

static void
append (Fixture    *f,
        const char *message)
{
  g_autoptr(GError) error = NULL;

  rs_test_dovecot_append (f->imap, "INBOX", message, &error);
  g_assert_no_error (error);
}

static RsReplyStore *
open_reply_store (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->home, "retailsphere-settings", "worker.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  RsReplyStore *store = rs_reply_store_open (path, &error);

  g_assert_no_error (error);

  return store;
}

static void
write_message (Fixture    *f,
               const char *name,
               const char *text,
               char      **path)
{
  g_autoptr(GError) error = NULL;

  *path = g_build_filename (f->home, name, NULL);
  g_file_set_contents (*path, text, -1, &error);
  g_assert_no_error (error);
}

static void
save_token (const char *token)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (token != NULL)
    {
      rs_secret_store_save_api_token_async (token, NULL, rs_test_result_cb, &result);
      rs_secret_store_save_api_token_finish (rs_test_wait_result (&result), &error);
    }
  else
    {
      rs_secret_store_delete_async (RS_SECRET_RETAILSPHERE_ID, NULL, rs_test_result_cb, &result);
      rs_secret_store_delete_finish (rs_test_wait_result (&result), &error);
    }
  g_assert_no_error (error);
}

/* Signs in to the local Retailsphere server: its address in GSettings (a
 * keyfile the CLI reads), its token in the keyring. */
static void
sign_in_to_reporting (Fixture *f)
{
  g_autofree char *dir = g_build_filename (f->home, "glib-2.0", "settings", NULL);
  g_autofree char *file = g_build_filename (dir, "keyfile", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  f->reporting = rs_test_reporting_server_new (TOKEN);
  g_mkdir_with_parents (dir, 0700);
  text = g_strdup_printf ("[com/retailsphere/Settings]\nretailsphere-server='%s'\n", f->reporting->url);
  g_file_set_contents (file, text, -1, &error);
  g_assert_no_error (error);
  save_token (TOKEN);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  RsTestDovecotOptions imap_options = { .password = PASSWORD };
  RsTestEximOptions smtp_options = { 0 };
  g_autofree char *imaps = NULL;
  g_autofree char *smtps = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) added = NULL;

  f->home = g_dir_make_tmp ("rs-worker-XXXXXX", &error);
  g_assert_no_error (error);

  if (!rs_test_require_session_mail_servers ())
    return;

  save_token (NULL);

  f->imap = rs_test_dovecot_start (&imap_options, &error);
  g_assert_no_error (error);
  smtp_options.deliver_to = f->imap;
  f->smtp = rs_test_exim_start (&smtp_options, &error);
  g_assert_no_error (error);
  f->address = rs_test_server_get_user (f->imap);

  imaps = g_strdup_printf ("%u", rs_test_server_get_port (f->imap, "imaps"));
  smtps = g_strdup_printf ("%u", rs_test_server_get_port (f->smtp, "smtps"));
  cli (f, PASSWORD "\n", "add-imap", "--json", "--email", f->address,
       "--imap-host", "localhost", "--imap-port", imaps,
       "--smtp-host", "localhost", "--smtp-port", smtps,
       "--ca-file", rs_test_server_get_ca_file (f->imap), "--password-stdin", NULL);
  g_assert_cmpint (f->status, ==, 0);
  added = parse_json (f->out);
  f->account_id = g_strdup (json_object_get_string_member (json_node_get_object (added), "id"));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->account_id != NULL)
    cli (f, NULL, "remove", f->account_id, NULL);
  if (f->imap != NULL)
    save_token (NULL);
  g_clear_pointer (&f->reporting, rs_test_reporting_server_free);
  g_clear_pointer (&f->smtp, rs_test_server_free);
  g_clear_pointer (&f->imap, rs_test_server_free);
  rs_test_remove_tree (f->home);
  g_free (f->home);
  g_free (f->account_id);
  g_free (f->out);
  g_free (f->err);
}

/* Sends a tracked message through the CLI and returns its Message-ID. */
static char *
send_tracked (Fixture    *f,
              const char *name,
              const char *message_id)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = message_id ? g_strdup_printf ("Message-ID: <%s>\r\n", message_id) : g_strdup ("");

  text = g_strdup_printf ("From: Shop <%s>\r\nTo: %s\r\nSubject: Your quote %s\r\n%s\r\nHello\r\n",
                          f->address, f->address, name, header);
  write_message (f, name, text, &path);
  cli (f, NULL, "send", f->account_id, path, NULL);
  g_assert_cmpint (f->status, ==, 0);

  return g_strdup (g_strstrip (f->out));
}

static JsonArray *
list_replies (Fixture  *f,
              JsonNode **root)
{
  cli (f, NULL, "replies", "--json", NULL);
  g_assert_cmpint (f->status, ==, 0);
  *root = parse_json (f->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (*root));

  return json_node_get_array (*root);
}

static JsonObject *
find_reply (JsonArray  *replies,
            const char *message_id)
{
  JsonObject *found = NULL;

  for (guint i = 0; i < json_array_get_length (replies); i++)
    {
      JsonObject *reply = json_array_get_object_element (replies, i);

      if (g_strcmp0 (json_object_get_string_member (reply, "message_id"), message_id) == 0)
        {
          g_assert_null (found);  /* recorded once */
          found = reply;
        }
    }

  return found;
}

/* -------------------------------------------------------------- tests */

/* send: the message reaches the recipient with the Message-ID printed,
 * and the store tracks it as sent. */
static void
test_send (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(RsTracked) tracked = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *fixed = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (f->imap == NULL)
    return;

  message_id = send_tracked (f, "first.eml", NULL);
  g_assert_true (g_str_has_prefix (message_id, "rs."));
  g_assert_true (g_str_has_suffix (message_id, "@example.test"));
  g_assert_cmpuint (wait_in_inbox (f, message_id, 1), ==, 1);

  store = open_reply_store (f);
  tracked = rs_reply_store_lookup_tracked (store, f->account_id, message_id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tracked);
  g_assert_cmpint (tracked->state, ==, RS_TRACKED_SENT);
  g_assert_cmpstr (tracked->recipients, ==, f->address);

  /* Its own Message-ID is kept; sending the same message again is refused. */
  fixed = send_tracked (f, "second.eml", "fixed-1@shop.example.test");
  g_assert_cmpstr (fixed, ==, "fixed-1@shop.example.test");
  write_message (f, "again.eml",
                 "From: x@example.test\r\nTo: test@example.test\r\nMessage-ID: <fixed-1@shop.example.test>\r\n\r\nx\r\n",
                 &path);
  cli (f, NULL, "send", f->account_id, path, "--json", NULL);
  g_assert_cmpint (f->status, ==, 2);  /* kind "input": this message cannot be sent again */
  g_assert_nonnull (strstr (f->out, "\"input\""));
  g_usleep (300 * 1000);
  g_assert_cmpuint (count_in_inbox (f, "fixed-1@shop.example.test"), ==, 1);

  /* A sync sees our own copies in INBOX: they are not replies. */
  cli (f, NULL, "sync", "--once", f->account_id, NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_cmpuint (rs_reply_store_list_replies (store, NULL, NULL)->len, ==, 0);
  rs_test_dovecot_assert_no_bodies (f->imap, 1);
}

/* Which messages count as replies, each recorded once, reported once. */
static void
test_replies (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) root2 = NULL;
  g_autoptr(JsonNode) root3 = NULL;
  g_autofree char *tracked = NULL;
  g_autofree char *msg = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *replies;
  JsonObject *reply;
  guint posts;

  if (f->imap == NULL)
    return;

  tracked = send_tracked (f, "quote.eml", "quote-1@shop.example.test");
  g_assert_cmpuint (wait_in_inbox (f, tracked, 1), ==, 1);

  /* By In-Reply-To only */
  msg = g_strdup_printf ("From: Customer <" CUSTOMER ">\nTo: %s\nDate: Fri, 01 Mar 2024 09:30:00 +0100\n"
                         "Subject: Re: Your quote\nMessage-ID: <r1@customer.example.org>\n"
                         "In-Reply-To: <%s>\n\nYes please\n", f->address, tracked);
  append (f, msg);
  append (f, msg);  /* delivered twice */
  g_free (msg);
  /* By References only, folded */
  msg = g_strdup_printf ("From: " CUSTOMER "\nTo: %s\nSubject: Re: Your quote\n"
                         "Message-ID: <r2@customer.example.org>\n"
                         "References: <older@elsewhere.example>\n <%s>\n\n\n", f->address, tracked);
  append (f, msg);
  g_free (msg);
  /* Folded and RFC 2047-encoded From name and Subject */
  msg = g_strdup_printf ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=\n <" CUSTOMER ">\nTo: %s\n"
                         "Subject: =?UTF-8?B?UmU6IELDtmdlbg==?=\n =?UTF-8?Q?_und_mehr?=\n"
                         "Message-ID: <r3@customer.example.org>\nIn-Reply-To:\n <%s>\n\nJa\n",
                         f->address, tracked);
  append (f, msg);
  g_free (msg);
  /* An auto-reply, a bounce, a non-reply, a reply to something untracked */
  msg = g_strdup_printf ("From: " CUSTOMER "\nSubject: Out of office\nAuto-Submitted: auto-replied\n"
                         "Message-ID: <auto@customer.example.org>\nIn-Reply-To: <%s>\n\nAway\n", tracked);
  append (f, msg);
  g_free (msg);
  msg = g_strdup_printf ("From: MAILER-DAEMON@example.org\nSubject: Undelivered\n"
                         "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
                         "Message-ID: <bounce@example.org>\nReferences: <%s>\n\n--b--\n", tracked);
  append (f, msg);
  g_free (msg);
  append (f, "From: " CUSTOMER "\nSubject: Hello\nMessage-ID: <plain@customer.example.org>\n\nHi\n");
  append (f, "From: " CUSTOMER "\nSubject: Re: other\nMessage-ID: <untracked@customer.example.org>\n"
             "In-Reply-To: <someone-else@shop.example.test>\n\nHi\n");

  /* Not signed in to Retailsphere: kept and queued. */
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  rs_test_dovecot_assert_no_bodies (f->imap, 1);

  replies = list_replies (f, &root);
  g_assert_cmpuint (json_array_get_length (replies), ==, 3);
  reply = find_reply (replies, "r1@customer.example.org");
  g_assert_nonnull (reply);
  g_assert_cmpstr (json_object_get_string_member (reply, "account"), ==, f->account_id);
  g_assert_cmpstr (json_object_get_string_member (reply, "tracked_message_id"), ==, tracked);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (reply, "from"), "address"), ==, CUSTOMER);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (reply, "from"), "name"), ==, "Customer");
  g_assert_cmpstr (json_object_get_string_member (reply, "date"), ==, "2024-03-01T09:30:00+01:00");
  g_assert_cmpstr (json_object_get_string_member (reply, "subject"), ==, "Re: Your quote");
  g_assert_false (json_object_get_boolean_member (reply, "reported"));
  g_assert_nonnull (find_reply (replies, "r2@customer.example.org"));
  reply = find_reply (replies, "r3@customer.example.org");
  g_assert_nonnull (reply);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (reply, "from"), "name"), ==, "Jürgen Müller");
  g_assert_cmpstr (json_object_get_string_member (reply, "subject"), ==, "Re: Bögen und mehr");

  /* Signed in: each reported once; a second pass reports nothing. */
  sign_in_to_reporting (f);
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->reporting->stored), ==, 3);
  g_assert_cmpuint (f->reporting->n_events, ==, 3);
  replies = list_replies (f, &root2);
  for (guint i = 0; i < json_array_get_length (replies); i++)
    g_assert_true (json_object_get_boolean_member (json_array_get_object_element (replies, i), "reported"));

  posts = f->reporting->n_posts;
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_cmpuint (f->reporting->n_posts, ==, posts);

  /* A new UIDVALIDITY: the mailbox is scanned again, nothing is recorded
   * or reported twice, and a new reply still is. */
  rs_test_dovecot_doveadm (f->imap, (const char * const[]) { "mailbox", "update", "-u", rs_test_server_get_user (f->imap),
                                                             "--uid-validity", "777", "INBOX", NULL },
                           NULL, &error);
  g_assert_no_error (error);
  msg = g_strdup_printf ("From: " CUSTOMER "\nSubject: Re: again\nMessage-ID: <r4@customer.example.org>\n"
                         "In-Reply-To: <%s>\n\nOne more\n", tracked);
  append (f, msg);
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  replies = list_replies (f, &root3);
  g_assert_cmpuint (json_array_get_length (replies), ==, 4);
  g_assert_nonnull (find_reply (replies, "r4@customer.example.org"));
  g_assert_cmpuint (g_hash_table_size (f->reporting->stored), ==, 4);
  g_assert_cmpuint (f->reporting->n_events, ==, 4);
  for (guint i = 1; i <= 4; i++)
    {
      g_autofree char *id = g_strdup_printf ("r%u@customer.example.org", i);

      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (f->reporting->per_message, id)), ==, 1);
    }
  rs_test_dovecot_assert_no_bodies (f->imap, 4);
}

/* The Retailsphere outbox: each item sent once, with our Message-ID,
 * and marked sent. */
static void
test_outbox (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(RsTracked) tracked = NULL;
  const char *marked;

  if (f->imap == NULL)
    return;

  sign_in_to_reporting (f);
  rs_test_reporting_server_add_outbox (f->reporting, "ob_1", f->address,
                               "From: shop@example.test\r\nTo: test@example.test\r\n"
                               "Message-ID: <theirs@retailsphere.example>\r\nSubject: Quote\r\n\r\nHello\r\n");
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_cmpuint (f->reporting->marked_sent->len, ==, 1);
  marked = g_ptr_array_index (f->reporting->marked_sent, 0);
  g_assert_true (g_str_has_prefix (marked, "ob_1 rs."));

  store = open_reply_store (f);
  tracked = rs_reply_store_lookup_outbox (store, f->account_id, "ob_1", NULL);
  g_assert_nonnull (tracked);
  g_assert_cmpint (tracked->state, ==, RS_TRACKED_SENT);
  g_assert_cmpstr (tracked->message_id, ==, marked + strlen ("ob_1 "));
  g_assert_cmpuint (wait_in_inbox (f, tracked->message_id, 1), ==, 1);
  g_assert_cmpuint (count_in_inbox (f, "theirs@retailsphere.example"), ==, 0);

  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_usleep (300 * 1000);
  g_assert_cmpuint (count_in_inbox (f, tracked->message_id), ==, 1);
  rs_test_dovecot_assert_no_bodies (f->imap, 2);
}

/* RsWorker in this process: watching with IDLE, a reply delivered is
 * recorded within seconds, with signals on this thread's context. */
typedef struct
{
  guint  replies_changed;
  GArray *states;
} Seen;

static void
replies_changed_cb (RsWorker *worker,
                    gpointer  user_data)
{
  Seen *seen = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  seen->replies_changed++;
}

static void
state_changed_cb (RsWorker       *worker,
                  const char     *account_id,
                  RsAccountState  state,
                  const char     *detail,
                  gpointer        user_data)
{
  Seen *seen = user_data;

  if (g_strcmp0 (account_id, RS_WORKER_RETAILSPHERE_ID) != 0)
    g_array_append_val (seen->states, state);
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_watch (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(RsAccountStore) accounts = NULL;
  g_autoptr(RsWorker) worker = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tracked = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *config = NULL;
  g_autofree char *store_path = NULL;
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GPtrArray) found = NULL;
  Seen seen = { 0 };
  gboolean timed_out = FALSE;
  guint timeout_id;
  RsAccount *account;

  if (f->imap == NULL)
    return;

  tracked = send_tracked (f, "watch.eml", "watch-1@shop.example.test");

  config = g_build_filename (f->home, "retailsphere-settings", "accounts.ini", NULL);
  accounts = rs_account_store_new (config);
  rs_account_store_load (accounts, &error);
  g_assert_no_error (error);
  account = rs_account_store_lookup (accounts, f->account_id);
  g_assert_nonnull (account);

  store_path = g_build_filename (f->home, "retailsphere-settings", "worker.sqlite", NULL);
  worker = rs_worker_new (accounts, store_path);
  seen.states = g_array_new (FALSE, FALSE, sizeof (RsAccountState));
  g_signal_connect (worker, "replies-changed", G_CALLBACK (replies_changed_cb), &seen);
  g_signal_connect (worker, "account-state-changed", G_CALLBACK (state_changed_cb), &seen);
  rs_worker_start (worker);
  g_assert_true (rs_worker_is_running (worker));

  /* The first pass ends idle (watching). */
  timeout_id = g_timeout_add_seconds (20, timeout_cb, &timed_out);
  while (!timed_out && rs_account_get_state (account) != RS_ACCOUNT_STATE_IDLE)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_assert_cmpuint (seen.states->len, >=, 2);
  g_assert_cmpint (g_array_index (seen.states, RsAccountState, 0), ==, RS_ACCOUNT_STATE_SYNCING);
  /* The row can now say "last checked just now". */
  g_assert_nonnull (rs_account_get_last_checked (account));

  /* Let IDLE start, then deliver a reply. */
  for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 2; g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);
  msg = g_strdup_printf ("From: " CUSTOMER "\nSubject: Re: watch\nMessage-ID: <w1@customer.example.org>\n"
                         "In-Reply-To: <%s>\n\nYes\n", tracked);
  append (f, msg);

  while (!timed_out && seen.replies_changed == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout_id);

  rs_worker_stop (worker);
  g_assert_false (rs_worker_is_running (worker));

  store = open_reply_store (f);
  found = rs_reply_store_list_replies (store, f->account_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((RsReply *) g_ptr_array_index (found, 0))->message_id, ==, "w1@customer.example.org");
  g_array_unref (seen.states);
  rs_test_dovecot_assert_no_bodies (f->imap, 1);
}

/* SIGKILL at random points of send and sync, then a restart: nothing
 * lost, nothing sent twice, nothing reported twice. */
static void
kill_after (Fixture    *f,
            guint       delay_ms,
            const char *first,
            ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = cli_launcher (f);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gint64 end = g_get_monotonic_time () + delay_ms * 1000;
  const char *arg;
  va_list ap;

  g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_ptr_array_add (args, (char *) g_getenv ("RS_CLI"));
  g_ptr_array_add (args, (char *) first);
  va_start (ap, first);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata, &error);
  g_assert_no_error (error);

  /* Keep the reporting server answering meanwhile. */
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }

  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
}

static void
test_sigkill (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20241204);
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *tracked = NULL;
  guint n_replies = 0;
  const guint rounds = 5;

  if (f->imap == NULL)
    return;

  sign_in_to_reporting (f);
  tracked = send_tracked (f, "base.eml", "base@shop.example.test");

  for (guint round = 0; round < rounds; round++)
    {
      g_autofree char *id = g_strdup_printf ("kill-%u@shop.example.test", round);
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;

      /* Two replies arrive each round. */
      for (guint i = 0; i < 2; i++)
        {
          g_autofree char *msg = g_strdup_printf ("From: " CUSTOMER "\nSubject: Re: %u\n"
                                                  "Message-ID: <k%u-%u@customer.example.org>\n"
                                                  "In-Reply-To: <%s>\n\nok\n", round, round, i, tracked);
          append (f, msg);
          n_replies++;
        }

      text = g_strdup_printf ("From: %s\r\nTo: %s\r\nSubject: Round %u\r\nMessage-ID: <%s>\r\n\r\nHi\r\n",
                              f->address, f->address, round, id);
      write_message (f, "kill.eml", text, &path);
      g_ptr_array_add (ids, g_steal_pointer (&id));

      kill_after (f, g_rand_int_range (rand, 20, 250), "send", f->account_id, path, NULL);
      kill_after (f, g_rand_int_range (rand, 20, 600), "sync", NULL);
      {
        g_autoptr(RsReplyStore) between = open_reply_store (f);
        g_autoptr(RsTracked) state = rs_reply_store_lookup_tracked (between, f->account_id,
                                                                    g_ptr_array_index (ids, round), NULL);
        g_autoptr(GPtrArray) kept = rs_reply_store_list_replies (between, f->account_id, NULL);
        guint reported = 0;

        for (guint i = 0; kept != NULL && i < kept->len; i++)
          reported += ((RsReply *) g_ptr_array_index (kept, i))->reported_at > 0;
        g_test_message ("round %u after the kills: message %s, %u replies stored, %u reported, "
                        "%u events at the server",
                        round, state ? rs_tracked_state_to_string (state->state) : "not recorded",
                        kept ? kept->len : 0, reported, g_hash_table_size (f->reporting->stored));
      }

      /* Restart: whatever the kill interrupted is settled, never repeated. */
      cli (f, NULL, "sync", "--once", NULL);
      g_assert_cmpint (f->status, ==, 0);
      /* Sending it again: refused when it was (or may have been) sent. */
      cli (f, NULL, "send", f->account_id, path, NULL);
    }

  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_usleep (500 * 1000);

  store = open_reply_store (f);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autoptr(RsTracked) sent = rs_reply_store_lookup_tracked (store, f->account_id, id, NULL);
      guint delivered = count_in_inbox (f, id);

      /* Sent at most once; and when it went out, the store knows it. */
      g_test_message ("%s: delivered %u, state %s", id, delivered,
                      sent ? rs_tracked_state_to_string (sent->state) : "none");
      g_assert_cmpuint (delivered, <=, 1);
      if (delivered == 1)
        {
          g_assert_nonnull (sent);
          g_assert_cmpint (sent->state, !=, RS_TRACKED_FAILED);
          g_assert_cmpint (sent->state, !=, RS_TRACKED_INTENT);
        }
    }

  /* Every reply recorded, once, and reported once. */
  found = rs_reply_store_list_replies (store, f->account_id, NULL);
  g_assert_cmpuint (found->len, ==, n_replies);
  for (guint i = 0; i < found->len; i++)
    {
      RsReply *reply = g_ptr_array_index (found, i);

      g_assert_cmpint (reply->reported_at, >, 0);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (f->reporting->per_message, reply->message_id)), ==, 1);
    }
  g_assert_cmpuint (g_hash_table_size (f->reporting->stored), ==, n_replies);
  rs_test_dovecot_assert_no_bodies (f->imap, rounds);
}

/* "sync ID" without --once watches until SIGTERM, printing each state,
 * then signs out and exits 0. */
static void
test_sync_until_stopped (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *syncing = NULL;
  g_autofree char *idle = NULL;
  gint64 end;

  if (f->imap == NULL)
    return;

  launcher = cli_launcher (f);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("RS_CLI"), "sync", f->account_id, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, rs_test_result_cb, &result);

  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  g_assert_null (result);  /* still watching */
  g_subprocess_send_signal (process, SIGTERM);

  g_subprocess_communicate_utf8_finish (process, rs_test_wait_result (&result), &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s\nstderr: %s", out, err);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  syncing = g_strdup_printf ("%s: syncing\n", f->account_id);
  idle = g_strdup_printf ("%s: idle\n", f->account_id);
  g_assert_nonnull (strstr (out, syncing));
  g_assert_nonnull (strstr (out, idle));
  rs_test_dovecot_assert_no_bodies (f->imap, 1);
}

/* A refused Retailsphere token: reporting pauses and says so, the
 * replies stay queued, and they are reported after signing in again. */
static void
test_reporting_auth (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *tracked = NULL;
  g_autofree char *msg = NULL;
  JsonArray *replies;

  if (f->imap == NULL)
    return;

  tracked = send_tracked (f, "auth.eml", "auth-1@shop.example.test");
  msg = g_strdup_printf ("From: " CUSTOMER "\nSubject: Re: auth\nMessage-ID: <a1@customer.example.org>\n"
                         "In-Reply-To: <%s>\n\nYes\n", tracked);
  append (f, msg);

  sign_in_to_reporting (f);
  save_token ("revoked-token");
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_nonnull (strstr (f->out, "Sign in to Retailsphere again"));
  g_assert_cmpuint (g_hash_table_size (f->reporting->stored), ==, 0);
  replies = list_replies (f, &root);
  g_assert_cmpuint (json_array_get_length (replies), ==, 1);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (replies, 0), "reported"));

  save_token (TOKEN);
  cli (f, NULL, "sync", "--once", NULL);
  g_assert_cmpint (f->status, ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->reporting->stored), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (f->reporting->per_message, "a1@customer.example.org")), ==, 1);
  rs_test_dovecot_assert_no_bodies (f->imap, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/worker/send", Fixture, NULL, fixture_set_up, test_send, fixture_tear_down);
  g_test_add ("/worker/replies", Fixture, NULL, fixture_set_up, test_replies, fixture_tear_down);
  g_test_add ("/worker/reporting-auth", Fixture, NULL, fixture_set_up, test_reporting_auth, fixture_tear_down);
  g_test_add ("/worker/sync-until-stopped", Fixture, NULL, fixture_set_up, test_sync_until_stopped, fixture_tear_down);
  g_test_add ("/worker/outbox", Fixture, NULL, fixture_set_up, test_outbox, fixture_tear_down);
  g_test_add ("/worker/watch", Fixture, NULL, fixture_set_up, test_watch, fixture_tear_down);
  g_test_add ("/worker/sigkill", Fixture, NULL, fixture_set_up, test_sigkill, fixture_tear_down);

  return g_test_run ();
}
