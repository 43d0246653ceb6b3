/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-sync-imap"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "rs-backend.h"
#include "rs-error.h"
#include "rs-imap-backend.h"
#include "rs-imap-client.h"
#include "rs-imap-parser.h"
#include "rs-test-server.h"
#include "rs-test-utils.h"

/* ------------------------------------------------------------- running */

/* The filter used by most tests: accept messages whose In-Reply-To or
 * References name a "tracked" Message-ID. */
typedef struct
{
  GPtrArray *tracked;   /* "<id@host>" */
  guint      n_calls;
  gboolean   kill_imap; /* unused by Dovecot tests */
} Filter;

static gboolean
filter_cb (const char *message_id,
           const char *in_reply_to,
           const char *references,
           gpointer    user_data)
{
  Filter *filter = user_data;

  filter->n_calls++;
  for (guint i = 0; filter->tracked != NULL && i < filter->tracked->len; i++)
    {
      const char *id = g_ptr_array_index (filter->tracked, i);

      if ((in_reply_to != NULL && strstr (in_reply_to, id) != NULL)
          || (references != NULL && strstr (references, id) != NULL))
        return TRUE;
    }

  return FALSE;
}

static gboolean
accept_all_cb (const char *message_id,
               const char *in_reply_to,
               const char *references,
               gpointer    user_data)
{
  guint *n_calls = user_data;

  (*n_calls)++;
  return TRUE;
}

static GPtrArray *
fetch (RsBackend          *backend,
       const char         *cursor,
       RsCandidateFilter   filter,
       gpointer            filter_data,
       char              **new_cursor,
       gboolean           *reset,
       GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_backend_fetch_replies_async (backend, cursor, filter, filter_data, NULL, NULL,
                                  rs_test_result_cb, &result);
  rs_test_wait_result (&result);

  return rs_backend_fetch_replies_finish (backend, result, new_cursor, reset, error);
}

static void
close_backend (RsBackend *backend)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  rs_backend_close_async (backend, NULL, rs_test_result_cb, &result);
  rs_test_wait_result (&result);
  rs_backend_close_finish (backend, result, &error);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------- servers */

static RsTestServer *
start_dovecot (void)
{
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;
  RsTestServer *server;

  if (!rs_test_dovecot_available (&reason))
    {
      g_test_skip (reason);
      return NULL;
    }

  server = rs_test_dovecot_start (NULL, &error);
  g_assert_no_error (error);

  return server;
}

static RsImapBackend *
backend_for (RsTestServer *server)
{
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;

  settings = rs_server_settings_new (rs_test_server_get_host (server),
                                     rs_test_server_get_port (server, "imaps"),
                                     RS_SECURITY_TLS,
                                     rs_test_server_get_user (server));
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);

  return rs_imap_backend_new (settings, NULL, trust, rs_test_server_get_password (server), NULL);
}

static char *
make_message (guint       n,
              const char *in_reply_to,
              const char *references)
{
  GString *m = g_string_new (NULL);

  g_string_append_printf (m, "Message-ID: <msg-%u@example.test>\r\n", n);
  g_string_append (m, "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n");
  g_string_append_printf (m, "From: Sender %u <sender%u@example.test>\r\n", n, n);
  g_string_append (m, "To: test@example.test\r\n");
  g_string_append_printf (m, "Subject: Message %u\r\n", n);
  g_string_append (m, "X-Private: not a field we may read\r\n");
  if (in_reply_to != NULL)
    g_string_append_printf (m, "In-Reply-To: %s\r\n", in_reply_to);
  if (references != NULL)
    g_string_append_printf (m, "References: %s\r\n", references);
  g_string_append (m, "Content-Type: text/plain; charset=utf-8\r\n");
  g_string_append (m, "\r\n");
  g_string_append_printf (m, "SECRET BODY TEXT %u\r\n", n);

  return g_string_free (m, FALSE);
}

/* What Dovecot must send for the full field set: the allowlisted lines in
 * the message's order, and the empty line that ends a header. */
static char *
expected_headers (guint       n,
                  const char *in_reply_to,
                  const char *references)
{
  GString *m = g_string_new (NULL);

  g_string_append_printf (m, "Message-ID: <msg-%u@example.test>\r\n", n);
  g_string_append (m, "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n");
  g_string_append_printf (m, "From: Sender %u <sender%u@example.test>\r\n", n, n);
  g_string_append (m, "To: test@example.test\r\n");
  g_string_append_printf (m, "Subject: Message %u\r\n", n);
  if (in_reply_to != NULL)
    g_string_append_printf (m, "In-Reply-To: %s\r\n", in_reply_to);
  if (references != NULL)
    g_string_append_printf (m, "References: %s\r\n", references);
  g_string_append (m, "Content-Type: text/plain; charset=utf-8\r\n");
  g_string_append (m, "\r\n");

  return g_string_free (m, FALSE);
}

static void
append (RsTestServer *server,
        const char   *message)
{
  g_autoptr(GError) error = NULL;

  rs_test_dovecot_append (server, "INBOX", message, &error);
  g_assert_no_error (error);
}

static void
append_n (RsTestServer *server,
          guint         first,
          guint         n,
          const char   *in_reply_to)
{
  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *message = make_message (i, in_reply_to, NULL);

      append (server, message);
    }
}

/* ---------------------------------------------------------- pure tests */

/* No builder can name a body; the response side drops any body item. */
static void
test_body_never_commands (void)
{
  static const char * const refused[][2] = {
    { "BODY[]", NULL }, { "TEXT", NULL }, { "RFC822", NULL }, { "RFC822.TEXT", NULL },
    { "BODYSTRUCTURE", NULL }, { "BINARY[1]", NULL }, { "Message-ID)] BODY[TEXT", NULL },
    { "Subject)] RFC822 (", NULL }, { "", NULL },
  };
  static const char * const good[] = { "Message-ID", "In-Reply-To", "References", NULL };
  static const guint32 uids[] = { 3, 4, 5, 6, 7, 9, 12, 13, 14 };
  static const guint32 backwards[] = { 5, 4 };
  static const char expected[] =
    "T1 UID FETCH 3:7,9,12:14 (UID BODY.PEEK[HEADER.FIELDS (Message-ID In-Reply-To References)])\r\n";
  g_autoptr(RsImapCommand) command = NULL;
  g_autoptr(GPtrArray) segments = NULL;
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize len;

  command = rs_imap_command_uid_fetch_header_set (uids, G_N_ELEMENTS (uids), good, &error);
  g_assert_no_error (error);
  segments = rs_imap_command_encode (command, "T1", FALSE);
  data = g_bytes_get_data (g_ptr_array_index (segments, 0), &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) e1 = NULL;
      g_autoptr(GError) e2 = NULL;
      g_autoptr(RsImapCommand) c1 = rs_imap_command_uid_fetch_headers (1, 5, refused[i], &e1);
      g_autoptr(RsImapCommand) c2 = rs_imap_command_uid_fetch_header_set (uids, 2, refused[i], &e2);

      g_assert_null (c1);
      g_assert_error (e1, RS_ERROR, RS_ERROR_INPUT);
      g_assert_null (c2);
      g_assert_error (e2, RS_ERROR, RS_ERROR_INPUT);
    }

  /* A set out of order, empty, or too large is refused too. */
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(RsImapCommand) c = rs_imap_command_uid_fetch_header_set (backwards, 2, good, &e);

    g_assert_null (c);
    g_assert_error (e, RS_ERROR, RS_ERROR_INPUT);
  }

  /* Mailbox commands: read-only EXAMINE, STATUS, and names we cannot send. */
  {
    g_autoptr(RsImapCommand) examine = rs_imap_command_examine ("INBOX", TRUE, NULL);
    g_autoptr(RsImapCommand) status = rs_imap_command_status ("INBOX", FALSE, NULL);
    g_autoptr(GError) e = NULL;
    g_autoptr(RsImapCommand) bad = rs_imap_command_examine ("Entwürfe", FALSE, &e);
    g_autofree char *d1 = rs_imap_command_describe (examine, "T2");
    g_autofree char *d2 = rs_imap_command_describe (status, "T3");

    g_assert_cmpstr (d1, ==, "T2 EXAMINE \"INBOX\" (CONDSTORE)");
    g_assert_cmpstr (d2, ==, "T3 STATUS \"INBOX\" (UIDNEXT UIDVALIDITY MESSAGES)");
    g_assert_null (bad);
    g_assert_error (e, RS_ERROR, RS_ERROR_INPUT);
  }
}

static void
test_body_never_responses (void)
{
  static const struct {
    const char *response;
    gboolean    is_fetch;
    guint32     uid;
    const char *headers;   /* NULL: none handed on */
    guint       n_refused;
  } cases[] = {
    { "* 1 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
      TRUE, 7, "Message-ID: <a@b>\r\n\r\n", 0 },
    { "* 1 FETCH (UID 7 BODY[TEXT] {6}\r\nsecret BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
      TRUE, 7, "Message-ID: <a@b>\r\n\r\n", 1 },
    { "* 1 FETCH (UID 8 BODY[] {6}\r\nsecret RFC822 {6}\r\nsecret RFC822.TEXT {6}\r\nsecret)\r\n",
      TRUE, 8, NULL, 3 },
    { "* 1 FETCH (UID 9 BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 6 1) BODY (\"text\") BINARY[1] {6}\r\nsecret)\r\n",
      TRUE, 9, NULL, 3 },
    { "* 1 FETCH (UID 9 BODY[HEADER.FIELDS.NOT (X)] {6}\r\nsecret RFC822.HEADER {6}\r\nsecret)\r\n",
      TRUE, 9, NULL, 2 },
    { "* 1 FETCH (FLAGS (\\Seen))\r\n", FALSE, 0, NULL, 0 },
    { "* 3 EXISTS\r\n", FALSE, 0, NULL, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RsImapResponse) response = NULL;
      g_autoptr(GBytes) headers = NULL;
      gboolean oversized;
      guint n_refused;
      guint32 uid;
      gboolean ok;

      g_test_message ("case %u", i);
      response = rs_imap_parse_response (cases[i].response, strlen (cases[i].response), NULL, &error);
      g_assert_no_error (error);

      ok = rs_imap_fetch_get_headers (response, 1024, &uid, &headers, &n_refused, &oversized);
      g_assert_cmpint (ok, ==, cases[i].is_fetch);
      if (!ok)
        continue;
      g_assert_cmpuint (uid, ==, cases[i].uid);
      g_assert_cmpuint (n_refused, ==, cases[i].n_refused);
      g_assert_false (oversized);
      if (cases[i].headers == NULL)
        g_assert_null (headers);
      else
        g_assert_cmpmem (g_bytes_get_data (headers, NULL), g_bytes_get_size (headers),
                         cases[i].headers, strlen (cases[i].headers));
    }

  /* A header section over the bound is dropped, not handed on. */
  {
    const char *big = "* 1 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n";
    g_autoptr(RsImapResponse) response = rs_imap_parse_response (big, strlen (big), NULL, NULL);
    g_autoptr(GBytes) headers = NULL;
    gboolean oversized;
    guint n_refused;
    guint32 uid;

    g_assert_true (rs_imap_fetch_get_headers (response, 10, &uid, &headers, &n_refused, &oversized));
    g_assert_true (oversized);
    g_assert_null (headers);
  }
}

static void
test_cursor_and_headers (void)
{
  RsImapMailboxState state = { 1700000000, 42, 5, 99 };
  RsImapMailboxState back;
  g_autofree char *cursor = rs_imap_cursor_format (&state);
  static const char block[] =
    "Message-ID: <x@y>\r\n"
    "References: <a@b>\r\n"
    " <c@d>\r\n"
    "\t<e@f>\r\n"
    "in-reply-to:   <c@d>  \r\n"
    "\r\n"
    "Subject: after the header\r\n";
  g_autofree char *refs = rs_backend_header_get (block, strlen (block), "REFERENCES");
  g_autofree char *irt = rs_backend_header_get (block, strlen (block), "In-Reply-To");
  g_autofree char *subject = rs_backend_header_get (block, strlen (block), "Subject");

  g_assert_cmpstr (cursor, ==, "imap1:1700000000:42:99");
  g_assert_true (rs_imap_cursor_parse (cursor, &back));
  g_assert_cmpuint (back.uidvalidity, ==, 1700000000);
  g_assert_cmpuint (back.uidnext, ==, 42);
  g_assert_cmpuint (back.highestmodseq, ==, 99);
  g_assert_false (rs_imap_cursor_parse ("gmail:123", &back));
  g_assert_false (rs_imap_cursor_parse ("imap1:0:5:0", &back));
  g_assert_false (rs_imap_cursor_parse ("imap1:1:99999999999:0", &back));

  g_assert_cmpstr (refs, ==, "<a@b> <c@d>\t<e@f>");
  g_assert_cmpstr (irt, ==, "<c@d>");
  g_assert_null (subject);
}

/* ------------------------------------------------------ Dovecot tests */

static void
test_examine_status (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(RsImapClient) client = NULL;
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  RsImapMailboxState examined = { 0 };
  RsImapMailboxState status = { 0 };

  if (server == NULL)
    return;

  append_n (server, 1, 3, NULL);

  settings = rs_server_settings_new (rs_test_server_get_host (server),
                                     rs_test_server_get_port (server, "imaps"),
                                     RS_SECURITY_TLS, rs_test_server_get_user (server));
  trust = rs_trust_new (rs_test_server_get_ca_file (server), NULL);
  client = rs_imap_client_new (settings, trust);

  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_connect_async (client, NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_connect_finish (client, r, &error));
  }
  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_authenticate_async (client, rs_test_server_get_password (server), NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_authenticate_finish (client, r, &error));
  }
  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_status_async (client, "INBOX", NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_status_finish (client, r, &status, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_examine_async (client, "INBOX", NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_examine_finish (client, r, &examined, &error));
    g_assert_no_error (error);
  }

  g_assert_cmpuint (examined.exists, ==, 3);
  g_assert_cmpuint (examined.uidnext, ==, 4);
  g_assert_cmpuint (examined.uidvalidity, !=, 0);
  g_assert_true (rs_imap_client_is_selected (client));
  if (rs_imap_client_has_capability (client, "CONDSTORE"))
    g_assert_cmpuint (examined.highestmodseq, >, 0);
  g_assert_cmpuint (status.uidvalidity, ==, examined.uidvalidity);
  g_assert_cmpuint (status.uidnext, ==, 4);
  g_assert_cmpuint (status.exists, ==, 3);

  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_noop_async (client, NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_noop_finish (client, r, &error));
  }
  {
    g_autoptr(GAsyncResult) r = NULL;

    rs_imap_client_logout_async (client, NULL, rs_test_result_cb, &r);
    rs_test_wait_result (&r);
    g_assert_true (rs_imap_client_logout_finish (client, r, &error));
  }

  rs_test_dovecot_assert_no_bodies (server, 1);
}

/* 25 messages in chunks of 10: three commands, every header exact. */
static void
test_fetch_chunks (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  const RsImapFetchStats *stats;
  gboolean reset = TRUE;
  guint n_calls = 0;

  if (server == NULL)
    return;

  for (guint i = 1; i <= 25; i++)
    {
      g_autofree char *irt = g_strdup_printf ("<sent-%u@example.test>", i);
      g_autofree char *message = make_message (i, irt, "<thread@example.test> <other@example.test>");

      append (server, message);
    }

  backend = backend_for (server);
  rs_imap_backend_set_chunk_size (backend, 10);
  found = fetch (RS_BACKEND (backend), NULL, accept_all_cb, &n_calls, &cursor, &reset, &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  g_assert_false (reset);
  g_assert_cmpuint (n_calls, ==, 25);
  g_assert_cmpuint (found->len, ==, 25);

  for (guint i = 0; i < found->len; i++)
    {
      RsFetchedHeaders *h = g_ptr_array_index (found, i);
      g_autofree char *irt = g_strdup_printf ("<sent-%u@example.test>", i + 1);
      g_autofree char *expected = expected_headers (i + 1, irt, "<thread@example.test> <other@example.test>");
      gsize len;
      const char *data = g_bytes_get_data (h->raw_headers, &len);

      g_assert_cmpuint (h->uid, ==, i + 1);
      g_assert_cmpmem (data, len, expected, strlen (expected));
      g_assert_null (g_strstr_len (data, len, "SECRET"));
      g_assert_null (g_strstr_len (data, len, "X-Private"));
    }

  stats = rs_imap_backend_get_last_fetch_stats (backend);
  g_assert_cmpuint (stats->n_new, ==, 25);
  g_assert_cmpuint (stats->n_phase1_commands, ==, 3);
  g_assert_cmpuint (stats->n_phase2_commands, ==, 3);
  g_assert_cmpuint (stats->max_uids_per_command, ==, 10);
  g_assert_cmpuint (rs_imap_client_get_n_refused_items (rs_imap_backend_get_client (backend)), ==, 0);
  g_assert_true (g_str_has_prefix (cursor, "imap1:"));

  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 1);
}

/* Only the messages the filter accepts have their other fields fetched;
 * and a second fetch from the cursor returns new mail only. */
static void
test_two_phase_and_cursor (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *cursor2 = NULL;
  const RsImapFetchStats *stats;
  Filter filter = { 0 };
  gboolean reset = TRUE;

  if (server == NULL)
    return;

  filter.tracked = g_ptr_array_new ();
  g_ptr_array_add (filter.tracked, "<tracked-1@example.test>");

  append_n (server, 1, 6, NULL);                                 /* not replies */
  {
    g_autofree char *by_irt = make_message (7, "<tracked-1@example.test>", NULL);
    g_autofree char *by_refs = make_message (8, NULL, "<x@example.test> <tracked-1@example.test>");
    g_autofree char *other = make_message (9, "<untracked@example.test>", NULL);

    append (server, by_irt);
    append (server, by_refs);
    append (server, other);
  }

  backend = backend_for (server);
  found = fetch (RS_BACKEND (backend), NULL, filter_cb, &filter, &cursor, &reset, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (filter.n_calls, ==, 9);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_cmpuint (((RsFetchedHeaders *)g_ptr_array_index (found, 0))->uid, ==, 7);
  g_assert_cmpuint (((RsFetchedHeaders *)g_ptr_array_index (found, 1))->uid, ==, 8);
  {
    RsFetchedHeaders *h = g_ptr_array_index (found, 0);
    g_autofree char *expected = expected_headers (7, "<tracked-1@example.test>", NULL);

    g_assert_cmpmem (g_bytes_get_data (h->raw_headers, NULL), g_bytes_get_size (h->raw_headers),
                     expected, strlen (expected));
  }

  stats = rs_imap_backend_get_last_fetch_stats (backend);
  g_assert_cmpuint (stats->n_new, ==, 9);
  g_assert_cmpuint (stats->n_candidates, ==, 2);
  g_assert_cmpuint (stats->n_phase2_commands, ==, 1);
  /* Phase 1 asked for three fields only: much less than phase 2 per message. */
  g_assert_cmpuint (stats->phase1_bytes / 9, <, stats->phase2_bytes / 2);

  /* Nothing new: nothing returned, the cursor unchanged. */
  filter.n_calls = 0;
  again = fetch (RS_BACKEND (backend), cursor, filter_cb, &filter, &cursor2, &reset, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, 0);
  g_assert_cmpuint (filter.n_calls, ==, 0);
  g_assert_cmpstr (cursor2, ==, cursor);
  g_clear_pointer (&again, g_ptr_array_unref);
  g_clear_pointer (&cursor2, g_free);

  /* Two new messages, one a reply: only they are looked at. */
  {
    g_autofree char *reply = make_message (10, NULL, "<tracked-1@example.test>");

    append_n (server, 11, 1, NULL);
    append (server, reply);
  }
  again = fetch (RS_BACKEND (backend), cursor, filter_cb, &filter, &cursor2, &reset, &error);
  g_assert_no_error (error);
  g_assert_false (reset);
  g_assert_cmpuint (filter.n_calls, ==, 2);
  g_assert_cmpuint (again->len, ==, 1);
  g_assert_cmpuint (((RsFetchedHeaders *)g_ptr_array_index (again, 0))->uid, ==, 11);
  g_assert_cmpstr (cursor2, !=, cursor);

  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 1);
  g_ptr_array_unref (filter.tracked);
}

/* A new UIDVALIDITY voids the cursor: flagged, and the scan starts over. */
static void
test_uidvalidity_change (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *cursor2 = NULL;
  RsImapMailboxState before, after;
  gboolean reset = TRUE;
  guint n_calls = 0;

  if (server == NULL)
    return;

  append_n (server, 1, 4, NULL);
  backend = backend_for (server);
  found = fetch (RS_BACKEND (backend), NULL, accept_all_cb, &n_calls, &cursor, &reset, &error);
  g_assert_no_error (error);
  g_assert_false (reset);
  g_assert_cmpuint (found->len, ==, 4);
  g_clear_pointer (&found, g_ptr_array_unref);
  close_backend (RS_BACKEND (backend));

  g_assert_true (rs_imap_cursor_parse (cursor, &before));
  {
    g_autofree char *validity = g_strdup_printf ("%u", before.uidvalidity + 1000);

    rs_test_dovecot_doveadm (server, (const char * const[]) { "mailbox", "update", "-u",
                                                              rs_test_server_get_user (server),
                                                              "--uid-validity", validity, "INBOX", NULL },
                             NULL, &error);
    g_assert_no_error (error);
  }

  n_calls = 0;
  found = fetch (RS_BACKEND (backend), cursor, accept_all_cb, &n_calls, &cursor2, &reset, &error);
  g_assert_no_error (error);
  g_assert_true (reset);
  g_assert_true (rs_imap_backend_get_last_fetch_stats (backend)->cursor_reset);
  g_assert_cmpuint (found->len, ==, 4);   /* all again: the store de-duplicates */
  g_assert_true (rs_imap_cursor_parse (cursor2, &after));
  g_assert_cmpuint (after.uidvalidity, ==, before.uidvalidity + 1000);

  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 2);
}

typedef struct
{
  RsBackend    *backend;
  GMainLoop    *loop;
  gboolean      changed;
  GError       *error;
  gint64        woke_at;
} WaitState;

static void
waited_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  WaitState *ws = user_data;

  rs_backend_wait_for_changes_finish (ws->backend, result, &ws->changed, &ws->error);
  ws->woke_at = g_get_monotonic_time ();
  g_main_loop_quit (ws->loop);
}

static gpointer
append_later_thread (gpointer data)
{
  RsTestServer *server = data;
  g_autofree char *message = make_message (99, NULL, NULL);
  gint64 *appended_at = g_new (gint64, 1);

  g_usleep (G_USEC_PER_SEC);
  append (server, message);
  *appended_at = g_get_monotonic_time ();

  return appended_at;
}

/* IDLE wakes within a second of a delivery; a timeout says "no change". */
static void
test_idle_wakes (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree gint64 *appended_at = NULL;
  WaitState ws = { 0 };
  GThread *thread;
  guint n_calls = 0;

  if (server == NULL)
    return;

  append_n (server, 1, 2, NULL);
  backend = backend_for (server);
  found = fetch (RS_BACKEND (backend), NULL, accept_all_cb, &n_calls, &cursor, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (rs_imap_client_has_capability (rs_imap_backend_get_client (backend), "IDLE"));

  /* No mail: the wait ends at its timeout, with no change. */
  ws.backend = RS_BACKEND (backend);
  ws.loop = g_main_loop_new (NULL, FALSE);
  rs_backend_wait_for_changes_async (ws.backend, cursor, 2, NULL, waited_cb, &ws);
  g_main_loop_run (ws.loop);
  g_assert_no_error (ws.error);
  g_assert_false (ws.changed);

  /* Mail arrives while idling. */
  thread = g_thread_new ("append", append_later_thread, server);
  rs_backend_wait_for_changes_async (ws.backend, cursor, 30, NULL, waited_cb, &ws);
  g_main_loop_run (ws.loop);
  appended_at = g_thread_join (thread);
  g_assert_no_error (ws.error);
  g_assert_true (ws.changed);
  g_assert_cmpint (ws.woke_at - *appended_at, <, G_USEC_PER_SEC);

  /* A fetch then finds exactly the new message. */
  g_clear_pointer (&found, g_ptr_array_unref);
  n_calls = 0;
  found = fetch (RS_BACKEND (backend), cursor, accept_all_cb, &n_calls, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpuint (((RsFetchedHeaders *)g_ptr_array_index (found, 0))->uid, ==, 3);

  /* Mail that came while no one waited: the wait returns at once. */
  rs_backend_wait_for_changes_async (ws.backend, cursor, 30, NULL, waited_cb, &ws);
  g_main_loop_run (ws.loop);
  g_assert_no_error (ws.error);
  g_assert_true (ws.changed);

  g_main_loop_unref (ws.loop);
  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 1);
}

/* Without IDLE: polling finds new mail too. */
static void
test_poll_wakes (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree gint64 *appended_at = NULL;
  WaitState ws = { 0 };
  GThread *thread;
  guint n_calls = 0;

  if (server == NULL)
    return;

  backend = backend_for (server);
  rs_imap_backend_set_use_idle (backend, FALSE);
  rs_imap_backend_set_poll_interval (backend, 1);
  found = fetch (RS_BACKEND (backend), NULL, accept_all_cb, &n_calls, &cursor, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);

  ws.backend = RS_BACKEND (backend);
  ws.loop = g_main_loop_new (NULL, FALSE);
  thread = g_thread_new ("append", append_later_thread, server);
  rs_backend_wait_for_changes_async (ws.backend, cursor, 30, NULL, waited_cb, &ws);
  g_main_loop_run (ws.loop);
  appended_at = g_thread_join (thread);
  g_assert_no_error (ws.error);
  g_assert_true (ws.changed);
  g_assert_cmpint (ws.woke_at - *appended_at, <, 3 * G_USEC_PER_SEC);

  /* Cancelling a wait ends it at once. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autofree char *now = NULL;

    g_clear_pointer (&found, g_ptr_array_unref);
    found = fetch (RS_BACKEND (backend), cursor, accept_all_cb, &n_calls, &now, NULL, &error);
    g_assert_no_error (error);
    rs_backend_wait_for_changes_async (ws.backend, now, 60, cancellable, waited_cb, &ws);
    g_cancellable_cancel (cancellable);
    g_main_loop_run (ws.loop);
    g_assert_error (ws.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&ws.error);
  }

  g_main_loop_unref (ws.loop);
  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 1);
}

/* 2,000 messages: fetched in bounded chunks, found completely. */
static void
test_large_mailbox (void)
{
  g_autoptr(RsTestServer) server = start_dovecot ();
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *new_dir = NULL;
  const RsImapFetchStats *stats;
  Filter filter = { 0 };
  const guint n = 2000;

  if (server == NULL)
    return;

  /* One delivery through doveadm makes the maildir; the rest are
   * delivered as an MTA does, one file each in new/. */
  append_n (server, 1, 1, NULL);
  new_dir = g_build_filename (rs_test_server_get_maildir (server), "new", NULL);
  for (guint i = 2; i <= n; i++)
    {
      g_autofree char *message = make_message (i, i % 100 == 0 ? "<tracked-big@example.test>" : NULL, NULL);
      g_autofree char *name = g_strdup_printf ("%u.M%uP1.rs-test", 1700000000 + i, i);
      g_autofree char *path = g_build_filename (new_dir, name, NULL);

      g_file_set_contents (path, message, -1, &error);
      g_assert_no_error (error);
    }
  {
    g_autofree char *home = g_path_get_dirname (rs_test_server_get_maildir (server));
    g_autofree char *owner = NULL;
    GStatBuf st;

    g_assert_cmpint (g_stat (home, &st), ==, 0);
    owner = g_strdup_printf ("%u:%u", st.st_uid, st.st_gid);
    g_assert_true (g_spawn_sync (NULL, (char *[]) { "chown", "-R", owner, home, NULL }, NULL,
                                 G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, &error));
  }

  filter.tracked = g_ptr_array_new ();
  g_ptr_array_add (filter.tracked, "<tracked-big@example.test>");

  backend = backend_for (server);
  rs_imap_backend_set_chunk_size (backend, 500);
  found = fetch (RS_BACKEND (backend), NULL, filter_cb, &filter, &cursor, NULL, &error);
  g_assert_no_error (error);

  stats = rs_imap_backend_get_last_fetch_stats (backend);
  g_assert_cmpuint (stats->n_new, ==, n);
  g_assert_cmpuint (filter.n_calls, ==, n);
  g_assert_cmpuint (stats->n_phase1_commands, ==, n / 500);
  g_assert_cmpuint (stats->max_uids_per_command, <=, 500);
  g_assert_cmpuint (found->len, ==, n / 100);
  g_assert_cmpuint (stats->n_candidates, ==, n / 100);

  close_backend (RS_BACKEND (backend));
  rs_test_dovecot_assert_no_bodies (server, 1);
  g_ptr_array_unref (filter.tracked);
}

/* ----------------------------------------------------- hostile peer */

/*
 * A hostile loopback IMAP peer, over TLS with the test CA's certificate:
 * it follows RFC 3501 until the FETCH, then sends part of the answer —
 * or adds body items nobody asked for — and acts on its script.  No real
 * server configuration can do either on cue.
 */

typedef enum
{
  PEER_DROP_MID_FETCH,
  PEER_SENDS_BODIES,
} PeerScript;

typedef struct
{
  PeerScript    script;
  GSocket      *listener;
  guint16       port;
  GTlsCertificate *certificate;
  GThread      *thread;
} Peer;

static char *
peer_read_line (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

  return line;
}

static void
peer_write (GOutputStream *out,
            const char    *text)
{
  g_output_stream_write_all (out, text, strlen (text), NULL, NULL, NULL);
}

static char *
tag_of (const char *line)
{
  const char *space = strchr (line, ' ');

  return g_strndup (line, space != NULL ? (gsize)(space - line) : strlen (line));
}

static const char peer_headers[] =
  "Message-ID: <h1@example.test>\r\nIn-Reply-To: <tracked@example.test>\r\n\r\n";

static gpointer
peer_thread (gpointer data)
{
  Peer *peer = data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  GOutputStream *out;
  char *line;

  socket = g_socket_accept (peer->listener, NULL, NULL);
  if (socket == NULL)
    return NULL;
  connection = g_socket_connection_factory_create_connection (socket);
  tls = g_tls_server_connection_new (G_IO_STREAM (connection), peer->certificate, NULL);
  if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    return NULL;

  in = g_data_input_stream_new (g_io_stream_get_input_stream (tls));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (tls);

  peer_write (out, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hostile peer ready\r\n");

  while ((line = peer_read_line (in)) != NULL)
    {
      g_autofree char *owned = line;
      g_autofree char *tag = tag_of (line);
      g_autofree char *reply = NULL;

      if (strstr (line, " AUTHENTICATE ") != NULL)
        reply = g_strdup_printf ("%s OK [CAPABILITY IMAP4rev1] signed in\r\n", tag);
      else if (strstr (line, " EXAMINE ") != NULL)
        reply = g_strdup_printf ("* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 3] ok\r\n"
                                 "%s OK [READ-ONLY] examined\r\n", tag);
      else if (strstr (line, " UID FETCH ") != NULL && peer->script == PEER_DROP_MID_FETCH)
        {
          g_autofree char *partial =
            g_strdup_printf ("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)] {%zu}\r\n%s)\r\n"
                             "* 2 FETCH (UID 2 BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)] {200}\r\n"
                             "Message-ID: <h2@exa",
                             strlen (peer_headers), peer_headers);

          peer_write (out, partial);
          g_output_stream_flush (out, NULL, NULL);
          break;   /* and hang up */
        }
      else if (strstr (line, " UID FETCH ") != NULL)
        reply = g_strdup_printf ("* 1 FETCH (UID 1 BODY[TEXT] {17}\r\nSECRET BODY TEXT! "
                                 "RFC822 {6}\r\nSECRET BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO)] {%zu}\r\n%s)\r\n"
                                 "* 2 FETCH (UID 2 RFC822.TEXT {6}\r\nSECRET)\r\n"
                                 "%s OK fetched\r\n",
                                 strlen (peer_headers), peer_headers, tag);
      else if (strstr (line, " LOGOUT") != NULL)
        {
          peer_write (out, "* BYE bye\r\n");
          reply = g_strdup_printf ("%s OK bye\r\n", tag);
          peer_write (out, reply);
          break;
        }
      else
        reply = g_strdup_printf ("%s BAD not in this script\r\n", tag);

      peer_write (out, reply);
    }

  g_io_stream_close (tls, NULL, NULL);

  return NULL;
}

static Peer *
peer_start (PeerScript  script,
            RsTestCa   *ca)
{
  Peer *peer = g_new0 (Peer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  peer->script = script;
  peer->certificate = g_tls_certificate_new_from_files (rs_test_ca_get_cert_file (ca, RS_TEST_CERT_VALID),
                                                        rs_test_ca_get_key_file (ca, RS_TEST_CERT_VALID),
                                                        &error);
  g_assert_no_error (error);
  peer->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (peer->listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (peer->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (peer->listener, &error);
  g_assert_no_error (error);
  peer->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  peer->thread = g_thread_new ("hostile-peer", peer_thread, peer);

  return peer;
}

static void
peer_stop (Peer *peer)
{
  g_thread_join (peer->thread);
  g_socket_close (peer->listener, NULL);
  g_clear_object (&peer->listener);
  g_clear_object (&peer->certificate);
  g_free (peer);
}

static RsImapBackend *
backend_for_peer (Peer     *peer,
                  RsTestCa *ca)
{
  g_autoptr(RsServerSettings) settings = NULL;
  g_autoptr(RsTrust) trust = NULL;
  RsImapBackend *backend;

  settings = rs_server_settings_new ("127.0.0.1", peer->port, RS_SECURITY_TLS, "test@example.test");
  trust = rs_trust_new (rs_test_ca_get_ca_file (ca), NULL);
  backend = rs_imap_backend_new (settings, NULL, trust, "any password", NULL);
  rs_imap_backend_set_timeout (backend, 5);

  return backend;
}

static void
test_peer_drops_mid_fetch (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsTestCa) ca = rs_test_ca_new (NULL, &error);
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *cursor = NULL;
  Peer *peer;
  guint n_calls = 0;

  g_assert_no_error (error);
  peer = peer_start (PEER_DROP_MID_FETCH, ca);
  backend = backend_for_peer (peer, ca);

  found = fetch (RS_BACKEND (backend), "imap1:7:1:0", accept_all_cb, &n_calls, &cursor, NULL, &error);
  peer_stop (peer);

  /* The first message was seen, but nothing is handed on: no list, no
   * cursor, and the error says what a user can act on. */
  g_assert_null (found);
  g_assert_null (cursor);
  g_assert_cmpuint (n_calls, ==, 1);
  g_assert_error (error, RS_ERROR, RS_ERROR_NETWORK);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
  g_assert_null (rs_imap_backend_get_client (backend));
}

static void
test_peer_sends_bodies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsTestCa) ca = rs_test_ca_new (NULL, &error);
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *cursor = NULL;
  RsFetchedHeaders *h;
  Peer *peer;
  guint n_calls = 0;

  g_assert_no_error (error);
  peer = peer_start (PEER_SENDS_BODIES, ca);
  backend = backend_for_peer (peer, ca);

  found = fetch (RS_BACKEND (backend), NULL, accept_all_cb, &n_calls, &cursor, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_calls, ==, 1);
  g_assert_cmpuint (found->len, ==, 1);
  h = g_ptr_array_index (found, 0);
  g_assert_cmpmem (g_bytes_get_data (h->raw_headers, NULL), g_bytes_get_size (h->raw_headers),
                   peer_headers, strlen (peer_headers));
  /* Two commands, three body items each, all dropped. */
  g_assert_cmpuint (rs_imap_client_get_n_refused_items (rs_imap_backend_get_client (backend)), ==, 6);
  g_assert_cmpstr (cursor, ==, "imap1:7:3:0");

  close_backend (RS_BACKEND (backend));
  peer_stop (peer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sync/imap/body-never/commands", test_body_never_commands);
  g_test_add_func ("/sync/imap/body-never/responses", test_body_never_responses);
  g_test_add_func ("/sync/imap/cursor-and-headers", test_cursor_and_headers);
  g_test_add_func ("/sync/dovecot/examine-status", test_examine_status);
  g_test_add_func ("/sync/dovecot/fetch-chunks", test_fetch_chunks);
  g_test_add_func ("/sync/dovecot/two-phase-and-cursor", test_two_phase_and_cursor);
  g_test_add_func ("/sync/dovecot/uidvalidity-change", test_uidvalidity_change);
  g_test_add_func ("/sync/dovecot/idle-wakes", test_idle_wakes);
  g_test_add_func ("/sync/dovecot/poll-wakes", test_poll_wakes);
  g_test_add_func ("/sync/dovecot/large-mailbox", test_large_mailbox);
  g_test_add_func ("/sync/hostile/drop-mid-fetch", test_peer_drops_mid_fetch);
  g_test_add_func ("/sync/hostile/unasked-bodies", test_peer_sends_bodies);

  return g_test_run ();
}
