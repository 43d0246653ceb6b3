/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-bench-worker"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "rs-account-store.h"
#include "rs-backend.h"
#include "rs-imap-backend.h"
#include "rs-reply-match.h"
#include "rs-reply-store.h"
#include "rs-test-server.h"
#include "rs-worker.h"

/*
 * The worker benchmark (bench/worker/run): a real Dovecot on loopback with
 * an INBOX of 50,000 realistic messages, and side by side in one run
 *
 *   (a) the first scan by the worker's code path (RsImapBackend's
 *       two-phase header fetch, the threading filter over the tracked set,
 *       GMime parsing of the candidates, one store commit) against
 *       `doveadm fetch` and a plain Python imaplib script of the same
 *       11 header fields;
 *   (b) the bytes Dovecot sent (its logout line's out=) for ours and for
 *       the imaplib script;
 *   (c) delivery-to-recorded latency with IDLE;
 *   (d) the peak memory (VmHWM) of a scan process at 5,000 and 50,000.
 *
 * Each scan of ours runs in its own process ("bench-worker scan …"), as
 * `retailsphere-accounts sync --once` would, so its VmHWM is its own.
 */

#define ACCOUNT        "bench"
#define N_TRACKED      500
#define REPLY_EVERY    100        /* 1 % of the messages answer a tracked one */
#define FIELDS_11      "MESSAGE-ID IN-REPLY-TO REFERENCES FROM TO CC DATE SUBJECT " \
                       "AUTO-SUBMITTED PRECEDENCE CONTENT-TYPE"
#define DOVEADM_FIELDS "hdr.message-id hdr.in-reply-to hdr.references hdr.from hdr.to hdr.cc " \
                       "hdr.date hdr.subject hdr.auto-submitted hdr.precedence hdr.content-type"


/* ------------------------------------------------------------ helpers */

/* What to remove at the end, also when the bench dies on g_error(): the
 * servers (50,000 messages on disk) and the work folder. */
static GPtrArray *cleanup_servers;
static char *cleanup_dir;

static void
cleanup_all (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;

  while (cleanup_servers != NULL && cleanup_servers->len > 0)
    rs_test_server_free (g_ptr_array_steal_index (cleanup_servers, cleanup_servers->len - 1));
  if (cleanup_dir != NULL)
    {
      const char *argv[] = { "rm", "-rf", cleanup_dir, NULL };

      g_spawn_sync (NULL, (char **) argv, NULL,
                    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, NULL, NULL);
    }
}

static RsTestServer *
cleanup_add (RsTestServer *server)
{
  if (cleanup_servers == NULL)
    cleanup_servers = g_ptr_array_new ();
  g_ptr_array_add (cleanup_servers, server);

  return server;
}

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  GLogWriterOutput result = g_log_writer_default (log_level, fields, n_fields, user_data);

  if (log_level & G_LOG_LEVEL_ERROR)
    cleanup_all ();

  return result;
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static guint64
vm_hwm_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmHWM:");
  if (p == NULL)
    return 0;

  return g_ascii_strtoull (p + strlen ("VmHWM:"), NULL, 10);
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0;

  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* The 1-minute load average: other work on the machine shows in times. */
static double
load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;

  return g_ascii_strtod (text, NULL);
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;

  if (values->len == 0)
    return 0;
  sorted = g_array_copy (values);
  g_array_sort (sorted, compare_double);
  if (sorted->len % 2 == 1)
    return g_array_index (sorted, double, sorted->len / 2);

  return (g_array_index (sorted, double, sorted->len / 2 - 1) +
          g_array_index (sorted, double, sorted->len / 2)) / 2;
}

static double
array_max (GArray *values)
{
  double max = 0;

  for (guint i = 0; i < values->len; i++)
    max = MAX (max, g_array_index (values, double, i));

  return max;
}

static void
add_value (GArray *values,
           double  value)
{
  g_array_append_val (values, value);
}

/* "key=value key=value" → a table. */
static GHashTable *
parse_pairs (const char *line)
{
  GHashTable *pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) words = g_strsplit_set (line, " \n", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *eq = strchr (words[i], '=');

      if (eq != NULL)
        g_hash_table_insert (pairs, g_strndup (words[i], eq - words[i]), g_strdup (eq + 1));
    }

  return pairs;
}

static double
pair_double (GHashTable *pairs,
             const char *key)
{
  const char *value = g_hash_table_lookup (pairs, key);

  if (value == NULL)
    g_error ("bench: no %s= in the output", key);

  return g_ascii_strtod (value, NULL);
}

/* ------------------------------------------------------ the scan child */

typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} Waiter;

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
  g_main_loop_quit (waiter->loop);
}

static GAsyncResult *
wait_for (Waiter *waiter)
{
  if (waiter->result == NULL)
    g_main_loop_run (waiter->loop);
  g_clear_pointer (&waiter->loop, g_main_loop_unref);

  return waiter->result;
}

#define WAITER_INIT { g_main_loop_new (NULL, FALSE), NULL }

/* The worker's candidate filter: a tracked Message-ID in In-Reply-To or
 * References (GMime's reference parser). */
static gboolean
threading_filter (const char *message_id,
                  const char *in_reply_to,
                  const char *references,
                  gpointer    user_data)
{
  GHashTable *tracked = user_data;
  g_autofree char *match = NULL;

  if (in_reply_to == NULL && references == NULL)
    return FALSE;

  match = rs_reply_match_threading_only (in_reply_to, references, tracked);

  return match != NULL;
}

typedef struct
{
  guint n_new;
  guint n_candidates;
  guint n_recorded;
  guint64 phase1_bytes;
  guint64 phase2_bytes;
  guint n_commands;
  double fetch_s;    /* from the call until the fetch finished */
  double commit_s;   /* parse, match and the store commit */
} SyncResult;

/* One sync pass over INBOX from @cursor, as the worker does it: fetch
 * (two phases), parse and match the candidates, commit the replies and
 * the new cursor in one transaction. */
static gboolean
sync_pass (RsImapBackend  *backend,
           RsReplyStore   *store,
           GHashTable     *tracked,
           const char     *user,
           char          **cursor,
           SyncResult     *out,
           GError        **error)
{
  const char * const own[] = { user, NULL };
  Waiter waiter = WAITER_INIT;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  g_autofree char *new_cursor = NULL;
  const RsImapFetchStats *stats;
  RsImapMailboxState state = { 0 };
  RsMailboxCursor store_cursor = { 0 };
  gboolean reset = FALSE;
  guint n_new = 0;
  double start = now_s (), fetched_at;

  rs_backend_fetch_replies_async (RS_BACKEND (backend), *cursor, threading_filter, tracked, NULL,
                                  NULL, done_cb, &waiter);
  result = wait_for (&waiter);
  found = rs_backend_fetch_replies_finish (RS_BACKEND (backend), result, &new_cursor, &reset, error);
  if (found == NULL)
    return FALSE;
  fetched_at = now_s ();

  for (guint i = 0; i < found->len; i++)
    {
      RsFetchedHeaders *fetched = g_ptr_array_index (found, i);
      g_autoptr(RsReplyHeaders) headers = NULL;
      gconstpointer data;
      gsize len;
      const char *answers;

      data = g_bytes_get_data (fetched->raw_headers, &len);
      headers = rs_reply_headers_parse (data, len, NULL);
      if (headers == NULL)
        continue;
      answers = rs_reply_match (headers, tracked, own);
      if (answers != NULL)
        g_ptr_array_add (replies, rs_reply_new_from_headers (answers, headers));
    }

  if (!rs_imap_cursor_parse (new_cursor, &state))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bad cursor %s", new_cursor);
      return FALSE;
    }
  store_cursor.uidvalidity = state.uidvalidity;
  store_cursor.uidnext = state.uidnext;
  store_cursor.highestmodseq = state.highestmodseq;
  if (!rs_reply_store_commit_sync_batch (store, ACCOUNT, "INBOX", &store_cursor, replies,
                                         g_get_real_time () / G_USEC_PER_SEC, &n_new, error))
    return FALSE;

  stats = rs_imap_backend_get_last_fetch_stats (backend);
  if (out != NULL)
    {
      out->n_new = stats->n_new;
      out->n_candidates = stats->n_candidates;
      out->n_recorded = n_new;
      out->phase1_bytes = stats->phase1_bytes;
      out->phase2_bytes = stats->phase2_bytes;
      out->n_commands = stats->n_phase1_commands + stats->n_phase2_commands;
      out->fetch_s = fetched_at - start;
      out->commit_s = now_s () - fetched_at;
    }
  g_free (*cursor);
  *cursor = g_steal_pointer (&new_cursor);

  return TRUE;
}

static RsImapBackend *
backend_new (const char *host,
             guint16     port,
             const char *user,
             const char *ca_file,
             const char *password)
{
  g_autoptr(RsServerSettings) settings = rs_server_settings_new (host, port, RS_SECURITY_TLS, user);
  g_autoptr(RsTrust) trust = rs_trust_new (ca_file, NULL);

  return rs_imap_backend_new (settings, NULL, trust, password, NULL);
}

static void
backend_close (RsImapBackend *backend)
{
  Waiter waiter = WAITER_INIT;
  g_autoptr(GAsyncResult) result = NULL;

  rs_backend_close_async (RS_BACKEND (backend), NULL, done_cb, &waiter);
  result = wait_for (&waiter);
  rs_backend_close_finish (RS_BACKEND (backend), result, NULL);
}

/* bench-worker scan HOST PORT USER CAFILE STORE   (password on stdin) */
static int
scan_main (int    argc,
           char **argv)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GHashTable) tracked = NULL;
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  char password[512];
  SyncResult sr = { 0 };
  double start, elapsed;

  if (argc != 7)
    g_error ("usage: bench-worker scan HOST PORT USER CAFILE STORE");
  if (fgets (password, sizeof password, stdin) == NULL)
    g_error ("bench-worker scan: no password on stdin");
  g_strchomp (password);

  rs_gmime_ensure_init ();

  start = now_s ();
  store = rs_reply_store_open (argv[6], &error);
  if (store == NULL)
    g_error ("store: %s", error->message);
  tracked = rs_reply_store_tracked_ids (store, ACCOUNT, &error);
  if (tracked == NULL)
    g_error ("tracked: %s", error->message);

  backend = backend_new (argv[2], (guint16) atoi (argv[3]), argv[4], argv[5], password);
  memset (password, 0, sizeof password);
  if (!sync_pass (backend, store, tracked, argv[4], &cursor, &sr, &error))
    g_error ("scan: %s", error->message);
  backend_close (backend);
  elapsed = now_s () - start;

  g_print ("elapsed=%.6f messages=%u candidates=%u recorded=%u phase1_bytes=%" G_GUINT64_FORMAT
           " phase2_bytes=%" G_GUINT64_FORMAT " commands=%u fetch=%.6f commit=%.6f cpu=%.6f"
           " vmhwm_kb=%" G_GUINT64_FORMAT "\n",
           elapsed, sr.n_new, sr.n_candidates, sr.n_recorded, sr.phase1_bytes, sr.phase2_bytes,
           sr.n_commands, sr.fetch_s, sr.commit_s, cpu_seconds (), vm_hwm_kb ());

  return 0;
}

/* ----------------------------------------------------------- mailboxes */

static const char * const first_names[] = {
  "Anna", "Bernd", "Chiara", "Dmitri", "Elif", "Farid", "Grace", "Hiroshi", "Ines", "Jonas",
  "Katarzyna", "Liam", "Marisol", "Nikolai", "Olga", "Pedro", "Quentin", "Rania", "Sven", "Tamsin",
};
static const char * const last_names[] = {
  "Andersson", "Brennan", "Castellano", "Dubois", "Eriksen", "Fitzgerald", "Gonçalves",
  "Hoffmann", "Iwasaki", "Jankowski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor",
};
static const char * const domains[] = {
  "example.com", "mail.example.org", "retail-partners.example", "supplier.example.net",
  "wholesale.example.co.uk", "store-42.example.de",
};
static const char * const subjects[] = {
  "Quarterly order forecast for store",
  "Invoice for the spring collection, number",
  "Delivery schedule update, shipment",
  "Price list and minimum quantities, edition",
  "Meeting notes: merchandising review",
  "Your quote #",
};
static const char * const words[] = {
  "order", "delivery", "please", "confirm", "the", "quantities", "for", "next", "week",
  "we", "would", "like", "to", "update", "pallet", "invoice", "attached", "regards",
  "store", "shelf", "promotion", "stock", "supplier", "thanks", "and", "of", "a",
};

typedef struct
{
  guint64 allowlisted_bytes;   /* the 11 fields as served (CRLF) */
  guint64 file_bytes;
} FillStats;

static void
append_field (GString   *m,
              FillStats *stats,
              gboolean   allowed,
              const char *format,
              ...) G_GNUC_PRINTF (4, 5);

static void
append_field (GString    *m,
              FillStats  *stats,
              gboolean    allowed,
              const char *format,
              ...)
{
  gsize before = m->len;
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (m, format, args);
  va_end (args);

  if (allowed)
    {
      /* Served with CRLF line ends. */
      stats->allowlisted_bytes += m->len - before;
      for (gsize i = before; i < m->len; i++)
        if (m->str[i] == '\n')
          stats->allowlisted_bytes++;
    }
}

static char *
person (GRand *rand,
        char **address)
{
  const char *first = first_names[g_rand_int_range (rand, 0, G_N_ELEMENTS (first_names))];
  const char *last = last_names[g_rand_int_range (rand, 0, G_N_ELEMENTS (last_names))];
  const char *domain = domains[g_rand_int_range (rand, 0, G_N_ELEMENTS (domains))];
  g_autofree char *local = g_ascii_strdown (first, -1);

  *address = g_strdup_printf ("%s.%c@%s", local, g_ascii_tolower (last[0]), domain);

  return g_strdup_printf ("%s %s", first, last);
}

/* One realistic message: trace and signature fields we must skip, the
 * allowlisted fields (~330 bytes on average), and a body of a few KB. */
static char *
make_message (GRand      *rand,
              guint       n,
              const char *tracked_id,
              gboolean    human,
              FillStats  *stats)
{
  GString *m = g_string_sized_new (4096);
  g_autofree char *from_addr = NULL;
  g_autofree char *from = person (rand, &from_addr);
  const char *domain = strchr (from_addr, '@') + 1;
  guint body_lines;
  /* ≥ 95: an automatic message (Auto-Submitted, Precedence: bulk). */
  guint roll = g_rand_int_range (rand, 0, human ? 95 : 100);
  const char *subject = subjects[n % G_N_ELEMENTS (subjects)];

  append_field (m, stats, FALSE, "Return-Path: <%s>\n", from_addr);
  append_field (m, stats, FALSE,
                "Received: from mx.%s (mx.%s [192.0.2.%u])\n"
                "\tby mail.example.test with ESMTPS id %08X\n"
                "\tfor <test@example.test>; Mon, 1 Jan 2024 10:%02u:%02u +0000\n",
                domain, domain, n % 250 + 1, g_rand_int (rand), n / 60 % 60, n % 60);
  append_field (m, stats, FALSE,
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=sel1;\n"
                "\th=from:to:subject:date:message-id; bh=%08X%08X%08X%08X=;\n"
                "\tb=%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X\n",
                domain, g_rand_int (rand), g_rand_int (rand), g_rand_int (rand), g_rand_int (rand),
                g_rand_int (rand), g_rand_int (rand), g_rand_int (rand), g_rand_int (rand),
                g_rand_int (rand), g_rand_int (rand), g_rand_int (rand), g_rand_int (rand),
                g_rand_int (rand), g_rand_int (rand), g_rand_int (rand), g_rand_int (rand),
                g_rand_int (rand), g_rand_int (rand), g_rand_int (rand), g_rand_int (rand));
  append_field (m, stats, FALSE, "MIME-Version: 1.0\n");
  append_field (m, stats, FALSE, "X-Mailer: Example Mail 7.%u\n", n % 10);

  append_field (m, stats, TRUE, "Message-ID: <%u.%08X.%u@%s>\n", 1700000000 + n, g_rand_int (rand), n, domain);
  append_field (m, stats, TRUE, "Date: Mon, 1 Jan 2024 10:%02u:%02u +0000\n", n / 60 % 60, n % 60);
  append_field (m, stats, TRUE, "From: %s <%s>\n", from, from_addr);
  append_field (m, stats, TRUE, "To: Test User <test@example.test>\n");
  if (roll < 20)
    {
      g_autofree char *cc_addr = NULL;
      g_autofree char *cc = person (rand, &cc_addr);

      append_field (m, stats, TRUE, "Cc: %s <%s>\n", cc, cc_addr);
    }

  if (tracked_id != NULL)
    {
      append_field (m, stats, TRUE, "Subject: Re: %s%s%u\n", subject,
                    g_str_has_suffix (subject, "#") ? "" : " ", n);
      append_field (m, stats, TRUE, "In-Reply-To: <%s>\n", tracked_id);
      append_field (m, stats, TRUE, "References: <%u.%08X@%s>\n <%s>\n",
                    n, g_rand_int (rand), domain, tracked_id);
    }
  else if (roll < 35)
    {
      /* A thread that has nothing to do with us. */
      append_field (m, stats, TRUE, "Subject: Re: %s%s%u\n", subject,
                    g_str_has_suffix (subject, "#") ? "" : " ", n);
      append_field (m, stats, TRUE, "In-Reply-To: <%u.%08X@%s>\n", n - 1, g_rand_int (rand), domain);
      append_field (m, stats, TRUE, "References: <%u.%08X@%s>\n <%u.%08X@%s>\n",
                    n - 7, g_rand_int (rand), domain, n - 1, g_rand_int (rand), domain);
    }
  else
    {
      append_field (m, stats, TRUE, "Subject: %s%s%u\n", subject,
                    g_str_has_suffix (subject, "#") ? "" : " ", n);
    }

  if (roll >= 97)
    append_field (m, stats, TRUE, "Auto-Submitted: auto-generated\n");
  else if (roll >= 95)
    append_field (m, stats, TRUE, "Precedence: bulk\n");
  append_field (m, stats, TRUE, "Content-Type: text/plain; charset=utf-8\n");
  append_field (m, stats, FALSE, "Content-Transfer-Encoding: 8bit\n");
  append_field (m, stats, TRUE, "\n");   /* the empty line the server sends too */

  /* A body of 1.5–4 KB that nobody may read. */
  body_lines = g_rand_int_range (rand, 25, 65);
  g_string_append_printf (m, "PRIVATE BODY %u — must never be fetched.\n", n);
  for (guint l = 0; l < body_lines; l++)
    {
      for (guint w = 0; w < 11; w++)
        {
          g_string_append (m, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
          g_string_append_c (m, w == 10 ? '\n' : ' ');
        }
    }

  stats->file_bytes += m->len;

  return g_string_free (m, FALSE);
}

static void
write_file_fast (const char *path,
                 const char *data,
                 gsize       len,
                 uid_t       uid,
                 gid_t       gid)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);

  if (fd < 0)
    g_error ("open %s: %s", path, g_strerror (errno));
  if (write (fd, data, len) != (gssize) len)
    g_error ("write %s: %s", path, g_strerror (errno));
  if (fchown (fd, uid, gid) != 0)
    g_error ("chown %s: %s", path, g_strerror (errno));
  close (fd);
}

/* Fills INBOX with @n messages written straight into the maildir's cur/,
 * as a delivery agent leaves them: Dovecot finds them at the next login. */
static FillStats
fill_mailbox (RsTestServer *server,
              guint         n,
              guint32       seed)
{
  const char *maildir = rs_test_server_get_maildir (server);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  FillStats stats = { 0 };
  GStatBuf st;

  if (g_stat (maildir, &st) != 0)
    g_error ("stat %s: %s", maildir, g_strerror (errno));

  for (guint i = 0; i < 3; i++)
    {
      const char *sub[] = { "cur", "new", "tmp" };
      g_autofree char *path = g_build_filename (maildir, sub[i], NULL);

      if (g_mkdir_with_parents (path, 0700) != 0 || chown (path, st.st_uid, st.st_gid) != 0)
        g_error ("mkdir %s: %s", path, g_strerror (errno));
    }

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *tracked_id = NULL;
      g_autofree char *message = NULL;
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;
      gsize len;

      if (i % REPLY_EVERY == 0)
        tracked_id = g_strdup_printf ("tracked-%u@shop.example.com", (i / REPLY_EVERY) % N_TRACKED);
      message = make_message (rand, i, tracked_id, FALSE, &stats);
      len = strlen (message);
      name = g_strdup_printf ("%u.M%uP%u.bench,S=%" G_GSIZE_FORMAT ":2,", 1700000000 + i, i, 4242, len);
      path = g_build_filename (maildir, "cur", name, NULL);
      write_file_fast (path, message, len, st.st_uid, st.st_gid);
    }

  return stats;
}

/* ----------------------------------------------------------- processes */

static char *
doveadm_conf (RsTestServer *server)
{
  return g_build_filename (rs_test_server_get_folder (server), "dovecot.conf", NULL);
}

/* Runs a child with @input on stdin; returns its stdout (or dies). */
static char *
run_child (const char * const *argv,
           const char         *input,
           double             *wall)
{
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  double start = now_s ();

  child = g_subprocess_newv (argv,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &error);
  if (child == NULL)
    g_error ("%s: %s", argv[0], error->message);
  if (!g_subprocess_communicate_utf8 (child, input, NULL, &out, &err, &error))
    g_error ("%s: %s", argv[0], error->message);
  if (wall != NULL)
    *wall = now_s () - start;
  if (!g_subprocess_get_successful (child))
    g_error ("%s %s failed: %s%s", argv[0], argv[1], out, err);

  return g_steal_pointer (&out);
}

/* `doveadm fetch` of the 11 fields of every message, output discarded.
 * Returns the wall time (the whole doveadm process). */
static double
doveadm_fetch (RsTestServer *server)
{
  g_autofree char *conf = doveadm_conf (server);
  const char *argv[] = {
    "/usr/bin/doveadm", "-c", conf, "fetch", "-u", rs_test_server_get_user (server),
    DOVEADM_FIELDS, "mailbox", "INBOX", "all", NULL
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  double start = now_s ();

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err, &status, &error))
    g_error ("doveadm: %s", error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("doveadm fetch failed: %s", err);

  return now_s () - start;
}

/* Dovecot's logout lines, in order. */
static GPtrArray *
logout_lines (RsTestServer *server)
{
  g_autofree char *log = rs_test_server_read_log (server);
  g_auto(GStrv) lines = g_strsplit (log ? log : "", "\n", -1);
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], " out=") != NULL && strstr (lines[i], "body_count=") != NULL)
      g_ptr_array_add (found, g_strdup (strstr (lines[i], "in=")));

  return found;
}

/* Waits for the logout line of the session that just ended (sessions
 * run one after another) and returns its counters. */
static GHashTable *
next_logout (RsTestServer *server,
             guint        *seen)
{
  for (guint attempt = 0; attempt < 500; attempt++)
    {
      g_autoptr(GPtrArray) lines = logout_lines (server);

      if (lines->len > *seen)
        {
          *seen = lines->len;
          return parse_pairs (g_ptr_array_index (lines, lines->len - 1));
        }
      g_usleep (10 * 1000);
    }
  g_error ("bench: Dovecot logged no logout line");
}

typedef struct
{
  RsTestServer *server;
  guint         n_messages;
  FillStats     fill;
  guint         logouts_seen;
  guint         our_sessions;
  guint         our_sessions_clean;   /* body_count=0 body_bytes=0 */
} Mailbox;

static void
check_our_session (Mailbox    *mb,
                   GHashTable *logout)
{
  mb->our_sessions++;
  if (pair_double (logout, "body_count") == 0 && pair_double (logout, "body_bytes") == 0)
    mb->our_sessions_clean++;
}

/* Waits for at least one more logout line, then checks every new one:
 * for runs of ours that may have used more than one session. */
static void
check_new_sessions (Mailbox *mb)
{
  g_autoptr(GHashTable) first = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  guint seen = mb->logouts_seen;

  first = next_logout (mb->server, &mb->logouts_seen);
  g_usleep (200 * 1000);
  lines = logout_lines (mb->server);
  for (guint i = seen; i < lines->len; i++)
    {
      g_autoptr(GHashTable) logout = parse_pairs (g_ptr_array_index (lines, i));

      check_our_session (mb, logout);
    }
  mb->logouts_seen = lines->len;
}

/* One scan of ours in its own process, from a fresh copy of the store. */
static GHashTable *
run_ours (const char *self_exe,
          Mailbox    *mb,
          const char *template_store,
          const char *work_dir,
          GHashTable **logout)
{
  static guint counter;
  g_autofree char *store = g_strdup_printf ("%s/scan-%u.sqlite", work_dir, ++counter);
  g_autofree char *port = g_strdup_printf ("%u", rs_test_server_get_port (mb->server, "imaps"));
  g_autofree char *password = g_strdup_printf ("%s\n", rs_test_server_get_password (mb->server));
  g_autofree char *out = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  const char *argv[] = {
    self_exe, "scan", rs_test_server_get_host (mb->server), port,
    rs_test_server_get_user (mb->server), rs_test_server_get_ca_file (mb->server), store, NULL
  };
  GHashTable *result;

  if (!g_file_get_contents (template_store, &contents, &len, NULL) ||
      !g_file_set_contents (store, contents, len, NULL))
    g_error ("bench: cannot copy the store");

  out = run_child (argv, password, NULL);
  result = parse_pairs (out);
  *logout = next_logout (mb->server, &mb->logouts_seen);
  check_our_session (mb, *logout);

  if ((guint) pair_double (result, "messages") != mb->n_messages)
    g_error ("bench: our scan saw %s messages, not %u", (char *) g_hash_table_lookup (result, "messages"),
             mb->n_messages);

  return result;
}

static GHashTable *
run_imaplib (const char  *script,
             Mailbox     *mb,
             GHashTable **logout)
{
  g_autofree char *port = g_strdup_printf ("%u", rs_test_server_get_port (mb->server, "imaps"));
  g_autofree char *password = g_strdup_printf ("%s\n", rs_test_server_get_password (mb->server));
  g_autofree char *out = NULL;
  const char *argv[] = {
    "/usr/bin/python3", script, rs_test_server_get_host (mb->server), port,
    rs_test_server_get_user (mb->server), rs_test_server_get_ca_file (mb->server), NULL
  };
  GHashTable *result;

  double wall = 0;

  out = run_child (argv, password, &wall);
  result = parse_pairs (out);
  g_hash_table_insert (result, g_strdup ("wall"), g_strdup_printf ("%.6f", wall));
  *logout = next_logout (mb->server, &mb->logouts_seen);

  if ((guint) pair_double (result, "messages") != mb->n_messages)
    g_error ("bench: imaplib saw %s messages, not %u", (char *) g_hash_table_lookup (result, "messages"),
             mb->n_messages);

  return result;
}

/* The store every scan starts from: N_TRACKED messages sent earlier. */
static void
make_template_store (const char *path,
                     const char *account)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *recipients[] = { "buyer@example.com", NULL };

  store = rs_reply_store_open (path, &error);
  if (store == NULL)
    g_error ("store: %s", error->message);

  for (guint k = 0; k < N_TRACKED; k++)
    {
      g_autofree char *id = g_strdup_printf ("tracked-%u@shop.example.com", k);
      g_autofree char *subject = g_strdup_printf ("Your quote #%u", k);

      if (!rs_reply_store_record_intent (store, account, id, subject, recipients, NULL, now, &error) ||
          !rs_reply_store_mark_sent (store, account, id, now, &error))
        g_error ("store: %s", error->message);
    }
}

/* --------------------------------------------------------- latency (c) */

typedef struct
{
  GMainLoop *loop;
  gboolean   waited;
  gboolean   changed;
  double     woken_at;
  gboolean   saved;
  double     saved_at;
  GError    *error;
} LatencyRound;

static void
wait_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LatencyRound *round = user_data;

  if (!rs_backend_wait_for_changes_finish (RS_BACKEND (object), result, &round->changed, &round->error))
    round->changed = FALSE;
  round->woken_at = now_s ();
  round->waited = TRUE;
  g_main_loop_quit (round->loop);
}

static void
save_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LatencyRound *round = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_communicate_finish (G_SUBPROCESS (object), result, NULL, NULL, &error) ||
      !g_subprocess_get_successful (G_SUBPROCESS (object)))
    g_error ("doveadm save failed: %s", error ? error->message : "exit status");
  round->saved_at = now_s ();
  round->saved = TRUE;
  g_main_loop_quit (round->loop);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);

  return G_SOURCE_REMOVE;
}

/* Appends a reply with `doveadm save` while the backend IDLEs, and
 * measures until the worker's pass has committed it to the store. */
static void
measure_latency (Mailbox    *mb,
                 const char *template_store,
                 const char *work_dir,
                 guint       rounds,
                 GArray     *latencies,
                 GArray     *deliveries,
                 GArray     *notices,
                 GArray     *after_notice,
                 guint      *n_recorded)
{
  g_autofree char *store_path = g_build_filename (work_dir, "latency.sqlite", NULL);
  g_autofree char *conf = doveadm_conf (mb->server);
  g_autofree char *contents = NULL;
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GHashTable) tracked = NULL;
  g_autoptr(RsImapBackend) backend = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GHashTable *logout;
  gsize len;

  if (!g_file_get_contents (template_store, &contents, &len, NULL) ||
      !g_file_set_contents (store_path, contents, len, NULL))
    g_error ("bench: cannot copy the store");
  store = rs_reply_store_open (store_path, &error);
  if (store == NULL)
    g_error ("store: %s", error->message);
  tracked = rs_reply_store_tracked_ids (store, ACCOUNT, &error);

  backend = backend_new (rs_test_server_get_host (mb->server),
                         rs_test_server_get_port (mb->server, "imaps"),
                         rs_test_server_get_user (mb->server),
                         rs_test_server_get_ca_file (mb->server),
                         rs_test_server_get_password (mb->server));
  /* The first scan, not timed: the cursor is then at the mailbox's end. */
  if (!sync_pass (backend, store, tracked, rs_test_server_get_user (mb->server), &cursor, NULL, &error))
    g_error ("latency: first scan: %s", error->message);

  for (guint r = 0; r < rounds; r++)
    {
      LatencyRound round = { g_main_loop_new (NULL, FALSE), FALSE, FALSE, 0, FALSE, 0, NULL };
      g_autoptr(GSubprocess) save = NULL;
      g_autofree char *tracked_id = g_strdup_printf ("tracked-%u@shop.example.com", r * 7 % N_TRACKED);
      g_autofree char *message = NULL;
      g_autoptr(GBytes) input = NULL;
      FillStats ignored = { 0 };
      SyncResult sr = { 0 };
      double start;

      rs_backend_wait_for_changes_async (RS_BACKEND (backend), cursor, 60, NULL, wait_done_cb, &round);
      /* Let the IDLE command reach the server. */
      g_timeout_add (300, quit_cb, round.loop);
      g_main_loop_run (round.loop);
      if (round.waited)
        g_error ("latency: the wait ended before delivery (changed=%d): %s", round.changed,
                 round.error ? round.error->message : "no error");

      message = make_message (rand, mb->n_messages + 1000 + r, tracked_id, TRUE, &ignored);
      input = g_bytes_new_take (message, strlen (message));
      message = NULL;

      start = now_s ();
      save = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                               "/usr/bin/doveadm", "-c", conf, "save", "-u",
                               rs_test_server_get_user (mb->server), "-m", "INBOX", NULL);
      if (save == NULL)
        g_error ("doveadm save: %s", error->message);
      g_subprocess_communicate_async (save, input, NULL, save_done_cb, &round);

      while (!round.waited)
        g_main_loop_run (round.loop);
      if (round.error != NULL)
        g_error ("latency: wait: %s", round.error->message);
      if (!round.changed)
        g_error ("latency: the wait timed out without a change");

      if (!sync_pass (backend, store, tracked, rs_test_server_get_user (mb->server), &cursor, &sr, &error))
        g_error ("latency: %s", error->message);
      add_value (latencies, now_s () - start);
      add_value (notices, round.woken_at - start);
      add_value (after_notice, now_s () - round.woken_at);
      *n_recorded += sr.n_recorded;

      while (!round.saved)
        g_main_loop_run (round.loop);
      add_value (deliveries, round.saved_at - start);
      g_main_loop_unref (round.loop);
    }

  backend_close (backend);
  logout = next_logout (mb->server, &mb->logouts_seen);
  check_our_session (mb, logout);
  g_hash_table_unref (logout);
}

/* ------------------------------------------- the real worker (session) */

/*
 * Inside rs-session-run (a private keyring), with --cli: the accounts are
 * added with `retailsphere-accounts add-imap`, (d) measures whole
 * `retailsphere-accounts sync --once ID` processes and (c) runs RsWorker
 * itself.
 */

typedef struct
{
  Mailbox      *mb;
  RsTestServer *smtp;
  char         *id;
  char         *template_store;
} Account;

static char *
add_account (const char *cli,
             Mailbox    *mb,
             RsTestServer *smtp)
{
  g_autofree char *imaps = g_strdup_printf ("%u", rs_test_server_get_port (mb->server, "imaps"));
  g_autofree char *smtps = g_strdup_printf ("%u", rs_test_server_get_port (smtp, "smtps"));
  g_autofree char *password = g_strdup_printf ("%s\n", rs_test_server_get_password (mb->server));
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = {
    cli, "add-imap", "--json", "--email", rs_test_server_get_user (mb->server),
    "--imap-host", rs_test_server_get_host (mb->server), "--imap-port", imaps,
    "--smtp-host", rs_test_server_get_host (smtp), "--smtp-port", smtps,
    "--ca-file", rs_test_server_get_ca_file (mb->server), "--password-stdin", NULL
  };
  JsonObject *object;

  out = run_child (argv, password, NULL);
  /* Its check was a Dovecot session too. */
  check_new_sessions (mb);

  if (!json_parser_load_from_data (parser, out, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    g_error ("add-imap: %s", out);
  object = json_node_get_object (json_parser_get_root (parser));

  return g_strdup (json_object_get_string_member (object, "id"));
}

static void
install_store (const char *template_store,
               const char *path)
{
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  const char *suffixes[] = { "-wal", "-shm", "-journal" };
  gsize len;

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *extra = g_strconcat (path, suffixes[i], NULL);

      g_unlink (extra);
    }
  g_mkdir_with_parents (dir, 0700);
  if (!g_file_get_contents (template_store, &contents, &len, NULL) ||
      !g_file_set_contents (path, contents, len, NULL))
    g_error ("bench: cannot install the store at %s", path);
}

static guint
count_replies (const char *store_path,
               const char *account)
{
  g_autoptr(RsReplyStore) store = rs_reply_store_open (store_path, NULL);
  g_autoptr(GPtrArray) replies = NULL;

  if (store == NULL)
    return 0;
  replies = rs_reply_store_list_replies (store, account, NULL);

  return replies ? replies->len : 0;
}

/* `retailsphere-accounts sync --once ID` from a fresh store: its wall
 * time and its peak RSS (wait4's ru_maxrss, the process's VmHWM). */
static void
run_sync_once (const char *cli,
               Account    *account,
               double     *wall,
               double     *maxrss_kb,
               guint      *n_replies)
{
  g_autofree char *store_path = rs_reply_store_default_path ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { cli, "sync", "--once", account->id, NULL };
  struct rusage usage;
  GPid pid;
  int status;
  double start;

  install_store (account->template_store, store_path);

  start = now_s ();
  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, &pid, &error))
    g_error ("%s: %s", cli, error->message);
  if (wait4 (pid, &status, 0, &usage) != pid)
    g_error ("wait4: %s", g_strerror (errno));
  *wall = now_s () - start;
  g_spawn_close_pid (pid);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("retailsphere-accounts sync --once failed (status %d)", status);
  *maxrss_kb = usage.ru_maxrss;
  *n_replies = count_replies (store_path, account->id);

  check_new_sessions (account->mb);
}

typedef struct
{
  guint replies_changed;
} WorkerSeen;

static void
replies_changed_cb (RsWorker *worker,
                    gpointer  user_data)
{
  WorkerSeen *seen = user_data;

  seen->replies_changed++;
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;

  return G_SOURCE_REMOVE;
}

static void
iterate_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* (c) with RsWorker itself: started on the account, watching (IDLE);
 * a reply saved with `doveadm save`; timed until replies-changed, which
 * the worker emits after the store commit. */
static void
measure_worker_latency (Account *account,
                        guint    rounds,
                        GArray  *latencies,
                        guint   *n_recorded)
{
  g_autofree char *store_path = rs_reply_store_default_path ();
  g_autofree char *conf = doveadm_conf (account->mb->server);
  g_autoptr(RsAccountStore) accounts = rs_account_store_new (NULL);
  g_autoptr(RsWorker) worker = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  WorkerSeen seen = { 0 };
  RsAccount *acc;
  gboolean timed_out = FALSE;
  guint timeout_id;
  guint base;

  install_store (account->template_store, store_path);
  if (!rs_account_store_load (accounts, &error))
    g_error ("accounts: %s", error->message);
  acc = rs_account_store_lookup (accounts, account->id);
  if (acc == NULL)
    g_error ("bench: account %s is missing", account->id);

  worker = rs_worker_new (accounts, store_path);
  rs_worker_set_watched_account (worker, account->id);
  g_signal_connect (worker, "replies-changed", G_CALLBACK (replies_changed_cb), &seen);
  rs_worker_start (worker);

  /* The first pass (the whole INBOX), then the watch. */
  timeout_id = g_timeout_add_seconds (60, flag_cb, &timed_out);
  while (!timed_out && rs_account_get_state (acc) != RS_ACCOUNT_STATE_IDLE)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("bench: the worker never became idle: %s", rs_account_get_state_detail (acc));
  g_source_remove (timeout_id);
  iterate_for (500);
  base = count_replies (store_path, account->id);

  for (guint r = 0; r < rounds; r++)
    {
      g_autofree char *tracked_id = g_strdup_printf ("tracked-%u@shop.example.com", (r * 13 + 5) % N_TRACKED);
      g_autofree char *message = NULL;
      g_autoptr(GSubprocess) save = NULL;
      g_autoptr(GBytes) input = NULL;
      FillStats ignored = { 0 };
      guint before = seen.replies_changed;
      double start;

      gsize len;

      message = make_message (rand, account->mb->n_messages + 2000 + r, tracked_id, TRUE, &ignored);
      len = strlen (message);
      input = g_bytes_new_take (g_steal_pointer (&message), len);

      start = now_s ();
      save = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                               "/usr/bin/doveadm", "-c", conf, "save", "-u",
                               rs_test_server_get_user (account->mb->server), "-m", "INBOX", NULL);
      if (save == NULL || !g_subprocess_communicate (save, input, NULL, NULL, NULL, &error))
        g_error ("doveadm save: %s", error->message);

      timed_out = FALSE;
      timeout_id = g_timeout_add_seconds (10, flag_cb, &timed_out);
      while (!timed_out && seen.replies_changed == before)
        g_main_context_iteration (NULL, TRUE);
      if (timed_out)
        g_error ("bench: the worker did not record a delivered reply within 10 s (state %d: %s)",
                 rs_account_get_state (acc), rs_account_get_state_detail (acc));
      g_source_remove (timeout_id);
      add_value (latencies, now_s () - start);
      iterate_for (300);
    }

  rs_worker_stop (worker);
  *n_recorded = count_replies (store_path, account->id) - base;
  check_new_sessions (account->mb);
}

/* --------------------------------------------------------------- main */

static void
print_row (const char *what,
           const char *measured,
           const char *baseline,
           double      ratio,
           const char *target,
           const char *verdict)
{
  g_autofree char *ratio_text = g_strdup_printf ("%.2f×", ratio);

  g_print ("%-44s %10s %30s %7s %9s  %s\n", what, measured, baseline, ratio_text, target, verdict);
}

#define VERDICT(pass) ((pass) ? "PASS" : "MISS")

static Mailbox
start_mailbox (guint       n,
               guint32     seed,
               const char *user)
{
  RsTestDovecotOptions options = { .user = user };
  g_autoptr(GError) error = NULL;
  Mailbox mb = { 0 };
  double start = now_s ();

  mb.server = rs_test_dovecot_start (&options, &error);
  if (mb.server == NULL)
    g_error ("Dovecot: %s", error->message);
  cleanup_add (mb.server);
  mb.n_messages = n;
  mb.fill = fill_mailbox (mb.server, n, seed);
  g_printerr ("  %u messages written in %.1f s (%.0f bytes of the 11 fields per message, "
              "%.1f KB per file)\n", n, now_s () - start,
              (double) mb.fill.allowlisted_bytes / n, (double) mb.fill.file_bytes / n / 1024);

  return mb;
}

static int
bench_main (const char *self_exe,
            const char *script,
            const char *cli,
            guint       n_big,
            guint       n_small,
            guint       runs,
            guint       rounds)
{
  g_autofree char *reason = NULL;
  g_autofree char *work_dir = NULL;
  g_autofree char *template_store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ours_t = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_t = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) doveadm_t = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_out = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_out = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_hdr = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_hdr = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) hwm_big = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) hwm_small = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) deliveries = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) notices = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) after_notice = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_fetch = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ours_commit = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) imaplib_wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sync_wall_big = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sync_wall_small = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sync_rss_big = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sync_rss_small = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) worker_lat = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean session = cli != NULL && g_getenv ("RS_TEST_SESSION") != NULL;
  Account big_account = { 0 }, small_account = { 0 };
  guint sync_replies_big = 0, sync_replies_small = 0, worker_recorded = 0;
  GHashTable *r, *logout;
  Mailbox big, small;
  double cold_ours, doveadm_first, start_all = now_s (), load_start = load_average ();
  guint recorded = 0, candidates = 0, phase1 = 0, phase2 = 0, commands = 0, latency_recorded = 0;
  char measured[64], baseline[64], what[64];

  if (!rs_test_dovecot_available (&reason))
    {
      g_printerr ("bench: %s\n", reason);
      return 77;
    }
  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_printerr ("bench: /usr/bin/python3 is missing\n");
      return 77;
    }

  work_dir = g_dir_make_tmp ("rs-bench-worker-XXXXXX", &error);
  if (work_dir == NULL)
    g_error ("%s", error->message);
  cleanup_dir = g_strdup (work_dir);
  template_store = g_build_filename (work_dir, "template.sqlite", NULL);
  make_template_store (template_store, ACCOUNT);

  g_printerr ("Filling two INBOXes on two Dovecot servers…\n");
  big = start_mailbox (n_big, 1, "test@example.test");
  small = start_mailbox (n_small, 2, "small@example.test");

  /* Cold: the first scan after delivery, Dovecot indexes the maildir and
   * builds its cache.  Ours only (information, no target). */
  g_printerr ("Cold scan (ours)…\n");
  r = run_ours (self_exe, &big, template_store, work_dir, &logout);
  cold_ours = pair_double (r, "elapsed");
  g_hash_table_unref (r);
  g_hash_table_unref (logout);
  r = run_ours (self_exe, &small, template_store, work_dir, &logout);
  g_hash_table_unref (r);
  g_hash_table_unref (logout);

  /* Warm Dovecot's cache for all 11 fields with one doveadm pass. */
  doveadm_first = doveadm_fetch (big.server);
  doveadm_fetch (small.server);

  if (session)
    {
      Account *both[] = { &big_account, &small_account };
      Mailbox *boxes[] = { &big, &small };

      g_printerr ("Adding the accounts with retailsphere-accounts add-imap…\n");
      for (guint i = 0; i < 2; i++)
        {
          RsTestEximOptions exim_options = { .deliver_to = boxes[i]->server };

          both[i]->mb = boxes[i];
          both[i]->smtp = rs_test_exim_start (&exim_options, &error);
          if (both[i]->smtp == NULL)
            g_error ("Exim: %s", error->message);
          cleanup_add (both[i]->smtp);
          both[i]->id = add_account (cli, boxes[i], both[i]->smtp);
          both[i]->template_store = g_strdup_printf ("%s/template-%u.sqlite", work_dir, i);
          make_template_store (both[i]->template_store, both[i]->id);
        }
    }

  g_printerr ("Warm scans, %u rounds of ours / doveadm / imaplib%s…\n", runs,
              session ? " / sync --once" : "");
  for (guint i = 0; i < runs; i++)
    {
      guint n_contenders = session ? 4 : 3;

      /* Rotate the order so no contender always runs right after another. */
      for (guint k = 0; k < n_contenders; k++)
        {
          switch ((i + k) % n_contenders)
            {
            case 0:
              r = run_ours (self_exe, &big, template_store, work_dir, &logout);
              add_value (ours_t, pair_double (r, "elapsed"));
              add_value (ours_cpu, pair_double (r, "cpu"));
              add_value (ours_fetch, pair_double (r, "fetch"));
              add_value (ours_commit, pair_double (r, "commit"));
              add_value (hwm_big, pair_double (r, "vmhwm_kb"));
              add_value (ours_out, pair_double (logout, "out"));
              add_value (ours_hdr, pair_double (logout, "hdr_bytes"));
              recorded = (guint) pair_double (r, "recorded");
              candidates = (guint) pair_double (r, "candidates");
              phase1 = (guint) pair_double (r, "phase1_bytes");
              phase2 = (guint) pair_double (r, "phase2_bytes");
              commands = (guint) pair_double (r, "commands");
              break;
            case 1:
              add_value (doveadm_t, doveadm_fetch (big.server));
              continue;
            case 3:
              {
                double wall, rss;

                run_sync_once (cli, &big_account, &wall, &rss, &sync_replies_big);
                add_value (sync_wall_big, wall);
                add_value (sync_rss_big, rss);
              }
              continue;
            default:
              r = run_imaplib (script, &big, &logout);
              add_value (imaplib_t, pair_double (r, "elapsed"));
              add_value (imaplib_cpu, pair_double (r, "cpu"));
              add_value (imaplib_wall, pair_double (r, "wall"));
              add_value (imaplib_out, pair_double (logout, "out"));
              add_value (imaplib_hdr, pair_double (logout, "hdr_bytes"));
              add_value (imaplib_rss, pair_double (r, "maxrss_kb"));
              break;
            }
          g_hash_table_unref (r);
          g_hash_table_unref (logout);
        }

      r = run_ours (self_exe, &small, template_store, work_dir, &logout);
      add_value (hwm_small, pair_double (r, "vmhwm_kb"));
      g_hash_table_unref (r);
      g_hash_table_unref (logout);
      if (session)
        {
          double wall, rss;

          run_sync_once (cli, &small_account, &wall, &rss, &sync_replies_small);
          add_value (sync_wall_small, wall);
          add_value (sync_rss_small, rss);
        }
    }

  g_printerr ("Delivery-to-recorded latency, %u deliveries…\n", rounds);
  measure_latency (&big, template_store, work_dir, rounds, latencies, deliveries, notices, after_notice,
                   &latency_recorded);
  if (session)
    {
      g_printerr ("Delivery-to-recorded latency with RsWorker, %u deliveries…\n", rounds);
      measure_worker_latency (&big_account, rounds, worker_lat, &worker_recorded);
    }

  /* ---- the table ---- */
  g_print ("\nWorker benchmark — INBOX of %u messages (%.0f bytes of the 11 fields and %.1f KB per "
           "message on disk), %u tracked Message-IDs, %u replies among them; Dovecot %s over IMAPS "
           "on loopback. Times: median of %u.\n\n",
           n_big, (double) big.fill.allowlisted_bytes / n_big, (double) big.fill.file_bytes / n_big / 1024,
           N_TRACKED, n_big / REPLY_EVERY, "2.3", runs);
  g_print ("%-44s %10s %30s %7s %9s  %s\n", "", "measured", "baseline (same run)", "ratio", "target", "");

  g_snprintf (measured, sizeof measured, "%.3f s", median (ours_t));
  g_snprintf (baseline, sizeof baseline, "%.3f s imaplib", median (imaplib_t));
  print_row ("(a) first scan, ours vs Python imaplib", measured, baseline,
             median (ours_t) / median (imaplib_t), "≤ 1.00×", VERDICT (median (ours_t) <= median (imaplib_t)));
  g_snprintf (baseline, sizeof baseline, "%.3f s doveadm", median (doveadm_t));
  print_row ("(a) first scan, ours vs doveadm fetch", measured, baseline,
             median (ours_t) / median (doveadm_t), "none", "—");
  if (session)
    {
      g_snprintf (measured, sizeof measured, "%.3f s", median (sync_wall_big));
      g_snprintf (baseline, sizeof baseline, "%.3f s imaplib process", median (imaplib_wall));
      print_row ("(a) `sync --once`, whole process", measured, baseline,
                 median (sync_wall_big) / median (imaplib_wall), "≤ 1.00×",
                 VERDICT (median (sync_wall_big) <= median (imaplib_wall)));
    }
  g_snprintf (measured, sizeof measured, "%.1f MB", median (ours_out) / 1e6);
  g_snprintf (baseline, sizeof baseline, "%.1f MB imaplib", median (imaplib_out) / 1e6);
  print_row ("(b) bytes the server sent (out=)", measured, baseline,
             median (ours_out) / median (imaplib_out), "≤ 0.70×",
             VERDICT (median (ours_out) <= 0.7 * median (imaplib_out)));
  g_snprintf (baseline, sizeof baseline, "%.3f s Dovecot's IDLE notice", median (notices));
  if (session)
    {
      g_snprintf (measured, sizeof measured, "%.3f s", median (worker_lat));
      print_row ("(c) delivery-to-recorded, RsWorker (IDLE)", measured, baseline,
                 median (worker_lat) / median (notices), "< 1 s", VERDICT (median (worker_lat) < 1.0));
    }
  g_snprintf (measured, sizeof measured, "%.3f s", median (latencies));
  print_row (session ? "(c) the same, bare backend loop" : "(c) delivery-to-recorded, backend loop (IDLE)",
             measured, baseline,
             median (latencies) / median (notices), "< 1 s", VERDICT (median (latencies) < 1.0));
  g_snprintf (measured, sizeof measured, "%.1f MB", median (hwm_big) / 1024);
  g_snprintf (baseline, sizeof baseline, "%.1f MB at %u", median (hwm_small) / 1024, n_small);
  if (session)
    {
      g_snprintf (measured, sizeof measured, "%.1f MB", median (sync_rss_big) / 1024);
      g_snprintf (baseline, sizeof baseline, "%.1f MB at %u", median (sync_rss_small) / 1024, n_small);
      g_snprintf (what, sizeof what, "(d) peak RSS of `sync --once` at %u", n_big);
      print_row (what, measured, baseline,
                 median (sync_rss_big) / median (sync_rss_small), "≤ 1.20×",
                 VERDICT (median (sync_rss_big) <= 1.2 * median (sync_rss_small)));
    }
  g_snprintf (measured, sizeof measured, "%.1f MB", median (hwm_big) / 1024);
  g_snprintf (baseline, sizeof baseline, "%.1f MB at %u", median (hwm_small) / 1024, n_small);
  g_snprintf (what, sizeof what, "(d) peak memory (VmHWM) of a scan at %u", n_big);
  print_row (what, measured, baseline,
             median (hwm_big) / median (hwm_small), "≤ 1.20×",
             VERDICT (median (hwm_big) <= 1.2 * median (hwm_small)));

  g_print ("\nDetails\n");
  g_print ("  (a) cold first scan of ours (Dovecot indexes the maildir and builds its cache): %.3f s; "
           "doveadm's first pass after it: %.3f s\n", cold_ours, doveadm_first);
  g_print ("  (a) runs: ours");
  for (guint i = 0; i < ours_t->len; i++)
    g_print (" %.3f", g_array_index (ours_t, double, i));
  g_print (" s; imaplib");
  for (guint i = 0; i < imaplib_t->len; i++)
    g_print (" %.3f", g_array_index (imaplib_t, double, i));
  g_print (" s; doveadm");
  for (guint i = 0; i < doveadm_t->len; i++)
    g_print (" %.3f", g_array_index (doveadm_t, double, i));
  g_print (" s\n");
  g_print ("      ours and imaplib: connect, TLS, login, fetch, logout (timed inside each process); "
           "ours also parses the candidates and commits them to the SQLite store; doveadm: the whole "
           "process, no network\n");
  g_print ("  (a) ours: fetch %.3f s, then parse + match + store commit %.3f s; CPU time %.3f s "
           "(imaplib process: %.3f s, interpreter start included)\n",
           median (ours_fetch), median (ours_commit), median (ours_cpu), median (imaplib_cpu));
  g_print ("  (a) ours: %u commands, %u candidates after phase 1, %u replies recorded; phase 1 "
           "%.1f MB of header data, phase 2 %.1f KB\n",
           commands, candidates, recorded, phase1 / 1e6, phase2 / 1e3);
  g_print ("  (b) header data Dovecot served (hdr_bytes=): ours %.1f MB, imaplib %.1f MB "
           "(%.0f %% framing on imaplib's)\n",
           median (ours_hdr) / 1e6, median (imaplib_hdr) / 1e6,
           100.0 * (median (imaplib_out) - median (imaplib_hdr)) / median (imaplib_hdr));
  g_print ("  (c) backend loop: RsImapBackend wait_for_changes with IDLE, then fetch_replies, "
           "parse, match and rs_reply_store_commit_sync_batch, in the bench process%s; from the start of `doveadm save` until the commit returned; %u of %u "
           "replies recorded; max %.3f s\n",
           session ? "" : " (RsWorker and `sync --once` need the keyring: run through "
                          "tests/harness/rs-session-run with --cli, as bench/worker/run does)",
           latency_recorded, rounds, array_max (latencies));
  g_print ("      Dovecot's IDLE notice came %.3f s after `doveadm save` started (doveadm save "
           "itself: %.3f s; Dovecot waits 0.5 s to coalesce changes before it notifies); ours from "
           "the notice to the commit: %.3f s (max %.3f s)\n",
           median (notices), median (deliveries), median (after_notice), array_max (after_notice));
  if (session)
    {
      g_print ("  (a) `retailsphere-accounts sync --once ID` (process start to exit; keyring, store, "
               "IMAP scan, no Retailsphere sign-in): %.3f s at %u, %.3f s at %u; %u and %u replies "
               "recorded; the imaplib script as a process: %.3f s\n",
               median (sync_wall_big), n_big, median (sync_wall_small), n_small,
               sync_replies_big, sync_replies_small, median (imaplib_wall));
      g_print ("  (c) RsWorker: started on the account, first pass, then watching with IDLE; from the "
               "start of `doveadm save` until RsWorker::replies-changed on the owner thread; "
               "%u of %u recorded; max %.3f s\n",
               worker_recorded, rounds, array_max (worker_lat));
      g_print ("  (d) peak RSS (wait4 ru_maxrss) of `sync --once`: %.1f MB at %u, %.1f MB at %u\n",
               median (sync_rss_small) / 1024, n_small, median (sync_rss_big) / 1024, n_big);
    }
  g_print ("  (d) VmHWM of scan processes: %.1f MB at %u, %.1f MB at %u (max %.1f MB); "
           "the imaplib script's max RSS at %u: %.1f MB\n",
           median (hwm_small) / 1024, n_small, median (hwm_big) / 1024, n_big,
           array_max (hwm_big) / 1024, n_big, median (imaplib_rss) / 1024);
  g_print ("  Dovecot's log: %u of %u of our sessions show body_count=0 body_bytes=0 (at %u: %u of %u)%s\n",
           big.our_sessions_clean, big.our_sessions, n_small, small.our_sessions_clean,
           small.our_sessions,
           big.our_sessions_clean == big.our_sessions && small.our_sessions_clean == small.our_sessions
             ? "  PASS" : "  MISS");
  g_print ("  Reference (../shared/REFERENCE.md, this kind of machine): imaplib 0.37–0.40 s warm, "
           "doveadm fetch 0.38–0.48 s, first fetch after delivery 1.35 s; 24.1 MB sent for 16.4 MB "
           "of header data.\n");
  g_print ("  Whole bench: %.0f s; load average %.1f at the start, %.1f at the end, on %u CPUs%s\n",
           now_s () - start_all, load_start, load_average (), g_get_num_processors (),
           MAX (load_start, load_average ()) > g_get_num_processors ()
             ? " — a busy machine: times are not representative" : "");

  g_free (big_account.id);
  g_free (small_account.id);
  g_free (big_account.template_store);
  g_free (small_account.template_store);
  cleanup_all ();

  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *self_exe = NULL;
  guint n_big = 50000, n_small = 5000, runs = 3, rounds = 10;
  const char *script = NULL;
  const char *cli = NULL;

  setlocale (LC_ALL, "");

  if (argc >= 2 && g_str_equal (argv[1], "scan"))
    return scan_main (argc, argv);

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--python") && i + 1 < argc)
        script = argv[++i];
      else if (g_str_equal (argv[i], "--cli") && i + 1 < argc)
        cli = argv[++i];
      else if (g_str_equal (argv[i], "--messages") && i + 1 < argc)
        n_big = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--small") && i + 1 < argc)
        n_small = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--runs") && i + 1 < argc)
        runs = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--deliveries") && i + 1 < argc)
        rounds = atoi (argv[++i]);
      else
        {
          g_printerr ("usage: bench-worker --python imaplib-scan.py [--messages N] [--small N] "
                      "[--runs N] [--deliveries N]\n");
          return 2;
        }
    }
  if (script == NULL || n_big < REPLY_EVERY || n_small < REPLY_EVERY || runs == 0 || rounds == 0)
    {
      g_printerr ("usage: bench-worker --python imaplib-scan.py [--messages N] [--small N] "
                  "[--runs N] [--deliveries N]\n");
      return 2;
    }

  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);

  return bench_main (self_exe, script, cli, n_big, n_small, runs, rounds);
}
