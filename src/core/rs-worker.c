/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-worker"

#include "config.h"

#include <glib/gi18n.h>
#include <gmime/gmime.h>
#include <libsecret/secret.h>
#include <string.h>

#include "rs-enums.h"
#include "rs-error.h"
#include "rs-imap-backend.h"
#include "rs-net.h"
#include "rs-reply-match.h"
#include "rs-reply-store.h"
#include "rs-reporter.h"
#include "rs-secret-store.h"
#include "rs-worker.h"

/* The worker thread.
 *
 * Everything below the "worker thread" line runs on the worker's own
 * thread and GMainContext; the owner side only hands it closures with
 * idle sources (invoke_on()) and gets results back the same way.
 *
 * Per account a Runner serialises the backend's operations (one at a
 * time): queued jobs (a sync pass, a send) run first; when there is none
 * and the worker is watching, the runner waits for changes (IDLE or
 * polling), and a change queues a sync pass.  A new job cancels the wait.
 *
 * Sending follows the store's crash rule (rs-reply-store.c): the intent
 * is recorded before the SMTP submission starts; open intents found
 * later are never resent: they become "unknown" unless the message is
 * seen in INBOX (a copy, e.g. to oneself) or a reply answers it, which
 * proves it was sent.  (Searching the Sent folder needs IMAP SEARCH,
 * which the backend interface does not offer yet.) */

#define MAILBOX             "INBOX"
#define WAIT_SECONDS        (25 * 60)
#define SETTINGS_SCHEMA     "com.retailsphere.Settings"
#define SETTINGS_SERVER_KEY "retailsphere-server"

typedef struct _Thread Thread;
typedef struct _Runner Runner;
typedef struct _Job    Job;

/* Shared between both sides: how the worker thread finds the owner. */
typedef struct
{
  gatomicrefcount  ref_count;
  GWeakRef         worker;
} Link;

struct _RsWorker
{
  GObject         parent_instance;

  RsAccountStore *accounts;
  char           *store_path;
  GMainContext   *owner_context;
  Link           *link;

  GThread        *thread;
  Thread         *th;
  gboolean        watching;
  char           *watched_account;
  guint           poll_interval;
  gboolean        use_idle;
  gulong          items_changed_id;
};

G_DEFINE_FINAL_TYPE (RsWorker, rs_worker, G_TYPE_OBJECT)

enum {
  ACCOUNT_STATE_CHANGED,
  REPLIES_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One account as the owner saw it: its id and its settings, serialised
 * so that the worker thread builds its own RsAccount from them. */
typedef struct
{
  char *id;
  char *data;
} Snapshot;

typedef void (*JobDone) (Job          *job,
                         const GError *error,
                         gpointer      user_data);

typedef enum
{
  JOB_SYNC,
  JOB_SEND,
} JobKind;

struct _Job
{
  JobKind       kind;
  Runner       *runner;
  GCancellable *cancellable;
  GCancellable *user_cancellable;
  gulong        user_handler;
  gulong        stop_handler;
  JobDone       done;
  gpointer      done_data;
  gboolean      watch;         /* a pass of the continuous watch */
  gboolean      nested;        /* an outbox send inside a sync pass */

  /* JOB_SEND */
  GBytes       *message;
  char         *message_id;
  char         *subject;
  GStrv         recipients;
  char         *outbox_id;
  gboolean      force_new_id;

  /* JOB_SYNC */
  GPtrArray    *outbox;        /* RsOutboxItem */
  guint         outbox_pos;
  GHashTable   *tracked;
  GPtrArray    *seen_tracked;  /* tracked Message-IDs seen in INBOX */
  Job          *outbox_send;   /* the send of the current outbox item */
};

struct _Runner
{
  Thread         *th;
  char           *id;
  char           *data;
  RsAccount      *account;
  RsBackend      *backend;
  gboolean        stale;
  gboolean        removed;

  GQueue          jobs;
  Job            *current;
  gboolean        waiting;
  GCancellable   *wait_cancellable;
  GSource        *retry_source;
  guint           retry_attempt;
  gboolean        intents_settled;
  gboolean        watch_sync_queued;

  gboolean        have_state;
  RsAccountState  state;
  char           *detail;
};

struct _Thread
{
  Link            *link;
  GMainContext    *owner_context;
  GMainContext    *context;
  GMainLoop       *loop;
  GCancellable    *cancellable;
  char            *store_path;
  RsReplyStore    *store;
  GError          *store_error;
  GHashTable      *runners;          /* id → Runner */
  GHashTable      *addresses;        /* id → address, every known account */
  gboolean         watching;
  char            *watched_account;
  guint            poll_interval;
  gboolean         use_idle;
  gboolean         stopping;

  GNetworkMonitor *monitor;
  gulong           monitor_id;
  gboolean         online;

  /* Reporting */
  gboolean         reporting_loaded;
  gboolean         reporting_loading;
  GPtrArray       *reporting_waiters;  /* ReportWaiter */
  RsReporter      *reporter;
  gboolean         reporting_paused;
  gboolean         reporting_busy;
  GPtrArray       *report_waiters;     /* ReportWaiter */
  GSource         *report_timer;
  GPtrArray       *report_batch;       /* RsReply being sent */
  gboolean         have_reporting_state;
  RsAccountState   reporting_state;
  guint            n_busy;             /* other async work in flight */
};

typedef struct
{
  void     (*func) (Thread *th, gpointer data);
  gpointer data;
} ReportWaiter;

static void runner_kick         (Runner *runner);
static void runner_free         (Runner *runner);
static void job_run             (Job    *job);
static void report_round        (Thread *th,
                                 void  (*func) (Thread *th, gpointer data),
                                 gpointer data);
static void reporting_load      (Thread *th,
                                 void  (*func) (Thread *th, gpointer data),
                                 gpointer data);
static void send_step_backend   (Job    *job);

/* ------------------------------------------------------------------ link */

/* g_main_context_invoke() would run @func at once on the calling thread
 * when it can acquire @context; a cross-thread hand-over must never do
 * that, so always go through an idle source. */
static void
invoke_on (GMainContext   *context,
           GSourceFunc     func,
           gpointer        data,
           GDestroyNotify  destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[rs-worker] invoke");
  g_source_attach (source, context);
}

static Link *
link_new (RsWorker *worker)
{
  Link *link = g_new0 (Link, 1);

  g_atomic_ref_count_init (&link->ref_count);
  g_weak_ref_init (&link->worker, worker);

  return link;
}

static Link *
link_ref (Link *link)
{
  g_atomic_ref_count_inc (&link->ref_count);
  return link;
}

static void
link_unref (Link *link)
{
  if (g_atomic_ref_count_dec (&link->ref_count))
    {
      g_weak_ref_clear (&link->worker);
      g_free (link);
    }
}

static void
snapshot_free (Snapshot *snapshot)
{
  g_free (snapshot->id);
  g_free (snapshot->data);
  g_free (snapshot);
}

/* --------------------------------------------- owner side: notifications */

typedef struct
{
  Link           *link;
  char           *account_id;
  RsAccountState  state;
  char           *detail;
  gboolean        replies;
} Notify;

static void
notify_free (gpointer data)
{
  Notify *notify = data;

  link_unref (notify->link);
  g_free (notify->account_id);
  g_free (notify->detail);
  g_free (notify);
}

static gboolean
notify_on_owner_cb (gpointer data)
{
  Notify *notify = data;
  g_autoptr(RsWorker) self = g_weak_ref_get (&notify->link->worker);

  if (self == NULL)
    return G_SOURCE_REMOVE;

  if (notify->replies)
    {
      g_signal_emit (self, signals[REPLIES_CHANGED], 0);
      return G_SOURCE_REMOVE;
    }

  if (self->accounts != NULL)
    {
      RsAccount *account = rs_account_store_lookup (self->accounts, notify->account_id);

      if (account != NULL)
        {
          /* Idle is only reached at the end of a pass that succeeded:
           * that is when the account was last checked. */
          if (notify->state == RS_ACCOUNT_STATE_IDLE)
            {
              g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

              rs_account_set_last_checked (account, now);
            }

          rs_account_set_state (account, notify->state, notify->detail);
        }
    }

  g_signal_emit (self, signals[ACCOUNT_STATE_CHANGED], 0,
                 notify->account_id, notify->state, notify->detail);

  return G_SOURCE_REMOVE;
}

static void
notify_owner (Thread         *th,
              const char     *account_id,
              RsAccountState  state,
              const char     *detail,
              gboolean        replies)
{
  Notify *notify = g_new0 (Notify, 1);

  notify->link = link_ref (th->link);
  notify->account_id = g_strdup (account_id);
  notify->state = state;
  notify->detail = g_strdup (detail);
  notify->replies = replies;
  invoke_on (th->owner_context, notify_on_owner_cb, notify, notify_free);
}

/* Completing an owner's GTask on the owner's context, so that the last
 * reference to the task (and to the worker) never drops on the worker
 * thread. */
typedef struct
{
  GTask  *task;
  GError *error;
  char   *string;
} Completion;

static gboolean
complete_on_owner_cb (gpointer data)
{
  Completion *completion = data;

  if (completion->error != NULL)
    g_task_return_error (completion->task, g_steal_pointer (&completion->error));
  else if (completion->string != NULL)
    g_task_return_pointer (completion->task, g_steal_pointer (&completion->string), g_free);
  else
    g_task_return_boolean (completion->task, TRUE);

  g_clear_object (&completion->task);
  g_free (completion);

  return G_SOURCE_REMOVE;
}

static void
complete_task (Thread       *th,
               GTask        *task,
               const GError *error,
               const char   *string)
{
  Completion *completion = g_new0 (Completion, 1);

  completion->task = task;  /* takes the reference */
  completion->error = error ? g_error_copy (error) : NULL;
  completion->string = g_strdup (string);
  invoke_on (th->owner_context, complete_on_owner_cb, completion, NULL);
}

/* ======================================================== worker thread */

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
set_runner_state (Runner         *runner,
                  RsAccountState  state,
                  const char     *detail)
{
  if (runner->have_state && runner->state == state && g_strcmp0 (runner->detail, detail) == 0)
    return;

  runner->have_state = TRUE;
  runner->state = state;
  g_free (runner->detail);
  runner->detail = g_strdup (detail);
  notify_owner (runner->th, runner->id, state, detail, FALSE);
}

static void
set_reporting_state (Thread         *th,
                     RsAccountState  state,
                     const char     *detail)
{
  if (th->have_reporting_state && th->reporting_state == state && state != RS_ACCOUNT_STATE_NEEDS_ATTENTION)
    return;

  th->have_reporting_state = TRUE;
  th->reporting_state = state;
  notify_owner (th, RS_WORKER_RETAILSPHERE_ID, state, detail, FALSE);
}

/* What an error means for the account's state. */
static RsAccountState
state_for_error (const GError *error)
{
  if (error->domain == RS_ERROR)
    {
      switch ((RsErrorCode) error->code)
        {
        case RS_ERROR_NETWORK:
        case RS_ERROR_TIMEOUT:
          return RS_ACCOUNT_STATE_OFFLINE;
        default:
          return RS_ACCOUNT_STATE_NEEDS_ATTENTION;
        }
    }

  return RS_ACCOUNT_STATE_NEEDS_ATTENTION;
}

static GError *
store_error (Thread *th)
{
  if (th->store != NULL)
    return NULL;

  return g_error_copy (th->store_error);
}

/* ------------------------------------------------------------- messages */

/* The header block of @data: its length up to (not including) the empty
 * line, and the line end the message uses. */
static gsize
header_block_length (const char *data,
                     gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != '\n')
        continue;
      if (i + 1 < len && data[i + 1] == '\n')
        return i + 1;
      if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
        return i + 1;
    }

  return len;
}

static gboolean
field_is (const char *line,
          gsize       len,
          const char *name)
{
  gsize n = strlen (name);

  return len > n && g_ascii_strncasecmp (line, name, n) == 0 && line[n] == ':';
}

/* Rewrites the header block: drops Bcc, drops Message-ID when
 * @message_id is set, and puts "Message-ID: <@message_id>" first. */
static GBytes *
rewrite_message (GBytes     *message,
                 const char *message_id)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  gsize header_len = header_block_length (data, len);
  gboolean crlf = memchr (data, '\r', MIN (header_len, len)) != NULL;
  GString *out = g_string_sized_new (len + 128);
  gboolean dropping = FALSE;
  gsize pos = 0;

  if (message_id != NULL)
    g_string_append_printf (out, "Message-ID: <%s>%s", message_id, crlf ? "\r\n" : "\n");

  while (pos < header_len)
    {
      const char *line = data + pos;
      const char *end = memchr (line, '\n', header_len - pos);
      gsize line_len = end ? (gsize) (end - line) + 1 : header_len - pos;

      if (line[0] != ' ' && line[0] != '\t')
        dropping = field_is (line, line_len, "Bcc") ||
                   (message_id != NULL && field_is (line, line_len, "Message-ID"));

      if (!dropping)
        g_string_append_len (out, line, (gssize) line_len);
      pos += line_len;
    }

  g_string_append_len (out, data + header_len, (gssize) (len - header_len));

  return g_string_free_to_bytes (out);
}

static void
add_addresses (GPtrArray           *out,
               InternetAddressList *list)
{
  if (list == NULL)
    return;

  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        {
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));

          if (addr != NULL && *addr != '\0' && !g_ptr_array_find_with_equal_func (out, addr, g_str_equal, NULL))
            g_ptr_array_add (out, g_strdup (addr));
        }
      else if (INTERNET_ADDRESS_IS_GROUP (address))
        add_addresses (out, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)));
    }
}

static char *
new_message_id (const char *address)
{
  const char *at = address ? strrchr (address, '@') : NULL;
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("rs.%s@%s", uuid, at != NULL && at[1] != '\0' ? at + 1 : "localhost");
}

/* Reads what sending needs from @message and gives it a Message-ID:
 * its own when it has one and @force_new_id is unset, else a new one. */
static gboolean
prepare_message (Job         *job,
                 GError     **error)
{
  Runner *runner = job->runner;
  GMimeStream *stream;
  GMimeParser *parser;
  g_autoptr(GObject) mime = NULL;  /* the GMimeMessage */
  GMimeMessage *message;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  gconstpointer data;
  gsize len;
  GBytes *rewritten;

  rs_gmime_ensure_init ();

  data = g_bytes_get_data (job->message, &len);
  stream = g_mime_stream_mem_new_with_buffer (data, len);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  message = g_mime_parser_construct_message (parser, NULL);
  mime = (GObject *) message;
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT, _("The file is not an email message"));
      return FALSE;
    }

  add_addresses (recipients, g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO));
  add_addresses (recipients, g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC));
  add_addresses (recipients, g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_BCC));
  if (recipients->len == 0)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("The message has no recipients (no To, Cc or Bcc)"));
      return FALSE;
    }
  g_ptr_array_add (recipients, NULL);

  if (!job->force_new_id && g_mime_message_get_message_id (message) != NULL &&
      strchr (g_mime_message_get_message_id (message), '@') != NULL)
    {
      job->message_id = rs_message_id_normalize (g_mime_message_get_message_id (message));
      rewritten = rewrite_message (job->message, NULL);
    }
  else
    {
      job->message_id = new_message_id (rs_account_get_address (runner->account));
      rewritten = rewrite_message (job->message, job->message_id);
    }

  g_bytes_unref (job->message);
  job->message = rewritten;
  job->subject = g_strdup (g_mime_message_get_subject (message));
  job->recipients = (GStrv) g_ptr_array_steal (recipients, NULL);

  return TRUE;
}

/* ----------------------------------------------------------------- jobs */

static void
cancel_job_cb (GCancellable *cancellable,
               gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static Job *
job_new (Runner       *runner,
         JobKind       kind,
         GCancellable *user_cancellable,
         JobDone       done,
         gpointer      done_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->runner = runner;
  job->cancellable = g_cancellable_new ();
  job->done = done;
  job->done_data = done_data;
  job->stop_handler = g_cancellable_connect (runner->th->cancellable, G_CALLBACK (cancel_job_cb),
                                             g_object_ref (job->cancellable), g_object_unref);
  if (user_cancellable != NULL)
    {
      job->user_cancellable = g_object_ref (user_cancellable);
      job->user_handler = g_cancellable_connect (user_cancellable, G_CALLBACK (cancel_job_cb),
                                                 g_object_ref (job->cancellable), g_object_unref);
    }

  return job;
}

static void
job_free (Job *job)
{
  g_cancellable_disconnect (job->runner->th->cancellable, job->stop_handler);
  if (job->user_cancellable != NULL)
    g_cancellable_disconnect (job->user_cancellable, job->user_handler);
  g_clear_object (&job->user_cancellable);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->message, g_bytes_unref);
  g_free (job->message_id);
  g_free (job->subject);
  g_strfreev (job->recipients);
  g_free (job->outbox_id);
  g_clear_pointer (&job->outbox, g_ptr_array_unref);
  g_clear_pointer (&job->tracked, g_hash_table_unref);
  g_clear_pointer (&job->seen_tracked, g_ptr_array_unref);
  g_free (job);
}

static void
runner_retry_later (Runner *runner)
{
  Thread *th = runner->th;
  guint delay;

  if (!th->watching || th->stopping || runner->retry_source != NULL)
    return;

  delay = rs_backoff_delay (runner->retry_attempt++, -1, g_random_double ());
  g_debug ("%s: retrying in %u s", runner->id, delay);
  runner->retry_source = g_timeout_source_new_seconds (MAX (delay, 1));
  /* Set up by runner_retry_cb's owner below. */
}

static gboolean
runner_maybe_reap (Runner *runner)
{
  if (!runner->removed || runner->current != NULL || runner->waiting)
    return FALSE;

  g_hash_table_steal (runner->th->runners, runner->id);
  runner_free (runner);

  return TRUE;
}

/* Ends the running job: its owner hears the outcome, and the runner goes
 * on with the next one. */
static void
job_finish (Job          *job,
            const GError *error)
{
  Runner *runner = job->runner;

  g_assert (runner->current == job);

  if (job->nested)
    ;  /* the sync pass around it speaks for the account */
  else if (error == NULL)
    {
      runner->retry_attempt = 0;
      set_runner_state (runner, RS_ACCOUNT_STATE_IDLE, NULL);
    }
  else if (!is_cancelled (error))
    {
      g_debug ("%s: %s", runner->id, error->message);
      set_runner_state (runner, state_for_error (error), error->message);
      if (job->watch)
        runner_retry_later (runner);
    }

  /* A refused password may have been replaced in the keyring since: the
   * next attempt reads it again. */
  if (g_error_matches (error, RS_ERROR, RS_ERROR_AUTHENTICATION))
    runner->stale = TRUE;

  if (job->done != NULL)
    job->done (job, error, job->done_data);

  /* A nested send hands the slot back to its sync pass in done(). */
  if (runner->current == job)
    runner->current = NULL;
  job_free (job);

  if (runner->current != NULL)
    return;

  if (runner->stale)
    {
      runner->stale = FALSE;
      g_clear_object (&runner->backend);
    }

  if (runner_maybe_reap (runner))
    return;

  runner_kick (runner);
}

static void
job_fail (Job    *job,
          GError *error)
{
  job_finish (job, error);
  g_error_free (error);
}

/* Getting the backend: the password from the keyring, once. */

static void
backend_password_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Job *job = user_data;
  Runner *runner = job->runner;
  GError *error = NULL;
  char *password;

  runner->th->n_busy--;
  password = rs_secret_store_lookup_password_finish (result, &error);
  if (password == NULL)
    {
      job_fail (job, error);
      return;
    }

  if (runner->backend == NULL)
    {
      RsImapBackend *backend = rs_imap_backend_new (rs_account_get_imap_settings (runner->account),
                                                    rs_account_get_smtp_settings (runner->account),
                                                    rs_account_get_trust (runner->account),
                                                    password, password);

      if (runner->th->poll_interval > 0)
        rs_imap_backend_set_poll_interval (backend, runner->th->poll_interval);
      rs_imap_backend_set_use_idle (backend, runner->th->use_idle);
      runner->backend = RS_BACKEND (backend);
    }

  secret_password_free (password);
  job_run (job);
}

static gboolean
ensure_backend (Job *job)
{
  Runner *runner = job->runner;

  if (runner->backend != NULL)
    return TRUE;

  if (rs_account_get_kind (runner->account) != RS_ACCOUNT_KIND_IMAP)
    {
      job_fail (job, g_error_new (RS_ERROR, RS_ERROR_INPUT,
                                  _("%s accounts cannot be watched by this version"),
                                  rs_account_kind_to_string (rs_account_get_kind (runner->account))));
      return FALSE;
    }

  runner->th->n_busy++;
  rs_secret_store_lookup_password_async (runner->account, job->cancellable, backend_password_cb, job);

  return FALSE;
}

/* Sending */

static gboolean
send_error_proves_not_sent (const GError *error)
{
  if (error->domain != RS_ERROR)
    return FALSE;

  /* These happen before the message data is accepted, or are the
   * server's refusal of it: the message did not go out. */
  switch ((RsErrorCode) error->code)
    {
    case RS_ERROR_INPUT:
    case RS_ERROR_AUTHENTICATION:
    case RS_ERROR_CERTIFICATE:
    case RS_ERROR_TLS_UNAVAILABLE:
    case RS_ERROR_PROTOCOL:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
send_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Job *job = user_data;
  Runner *runner = job->runner;
  RsReplyStore *store = runner->th->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) store_error = NULL;
  g_autofree char *used = NULL;

  used = rs_backend_send_finish (RS_BACKEND (object), result, &error);
  if (used == NULL)
    {
      if (send_error_proves_not_sent (error))
        rs_reply_store_mark_failed (store, runner->id, job->message_id, &store_error);
      else
        rs_reply_store_mark_unknown (store, runner->id, job->message_id, &store_error);
      if (store_error != NULL)
        g_warning ("%s", store_error->message);
      job_finish (job, error);
      return;
    }

  if (!rs_reply_store_mark_sent (store, runner->id, job->message_id, now_seconds (), &store_error))
    {
      /* It went out; the open intent keeps it from going out again. */
      g_warning ("%s", store_error->message);
    }

  job_finish (job, NULL);
}

static void
send_step_backend (Job *job)
{
  Runner *runner = job->runner;
  GError *error = NULL;

  if ((error = store_error (runner->th)) != NULL)
    {
      job_fail (job, error);
      return;
    }

  if (job->message_id == NULL && !prepare_message (job, &error))
    {
      job_fail (job, error);
      return;
    }

  if (!ensure_backend (job))
    return;

  if (g_cancellable_set_error_if_cancelled (job->cancellable, &error))
    {
      job_fail (job, error);
      return;
    }

  /* The rule: the intent is on disk before a byte goes to the server. */
  if (!rs_reply_store_record_intent (runner->th->store, runner->id, job->message_id, job->subject,
                                     (const char * const *) job->recipients, job->outbox_id,
                                     now_seconds (), &error))
    {
      job_fail (job, error);
      return;
    }

  rs_backend_send_async (runner->backend, job->message, rs_account_get_address (runner->account),
                         (const char * const *) job->recipients, job->cancellable,
                         send_done_cb, job);
}

/* Syncing: intents, outbox, replies */

typedef struct
{
  GHashTable *tracked;
  GPtrArray  *seen_tracked;
} FilterData;

static void
filter_data_free (gpointer data)
{
  FilterData *fd = data;

  g_hash_table_unref (fd->tracked);
  g_ptr_array_unref (fd->seen_tracked);
  g_free (fd);
}

static gboolean
candidate_filter (const char *message_id,
                  const char *in_reply_to,
                  const char *references,
                  gpointer    user_data)
{
  FilterData *fd = user_data;
  g_autofree char *match = NULL;

  if (message_id != NULL)
    {
      g_autofree char *id = rs_message_id_normalize (message_id);

      if (id != NULL && g_hash_table_contains (fd->tracked, id))
        g_ptr_array_add (fd->seen_tracked, g_steal_pointer (&id));
    }

  match = rs_reply_match_threading_only (in_reply_to, references, fd->tracked);

  return match != NULL;
}

/* A tracked message whose outcome was not known is proven sent. */
static void
prove_sent (Runner     *runner,
            const char *message_id)
{
  g_autoptr(RsTracked) tracked = NULL;
  g_autoptr(GError) error = NULL;

  tracked = rs_reply_store_lookup_tracked (runner->th->store, runner->id, message_id, NULL);
  if (tracked == NULL || (tracked->state != RS_TRACKED_INTENT && tracked->state != RS_TRACKED_UNKNOWN))
    return;

  if (!rs_reply_store_mark_sent (runner->th->store, runner->id, message_id, now_seconds (), &error))
    g_warning ("%s", error->message);
}

static void
sync_fetched_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Job *job = user_data;
  Runner *runner = job->runner;
  RsReplyStore *store = runner->th->store;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  g_autofree char *cursor_string = NULL;
  const char *own[] = { rs_account_get_address (runner->account), NULL };
  RsImapMailboxState state = { 0 };
  RsMailboxCursor cursor = { 0 };
  gboolean reset = FALSE;
  guint n_new = 0;
  GError *error = NULL;

  candidates = rs_backend_fetch_replies_finish (RS_BACKEND (object), result, &cursor_string, &reset, &error);
  if (candidates == NULL)
    {
      job_fail (job, error);
      return;
    }

  for (guint i = 0; i < candidates->len; i++)
    {
      RsFetchedHeaders *fetched = g_ptr_array_index (candidates, i);
      g_autoptr(RsReplyHeaders) headers = NULL;
      g_autoptr(GError) parse_error = NULL;
      gconstpointer data;
      gsize len;
      const char *tracked_id;

      data = g_bytes_get_data (fetched->raw_headers, &len);
      headers = rs_reply_headers_parse (data, len, &parse_error);
      if (headers == NULL)
        {
          g_debug ("UID %" G_GUINT64_FORMAT ": %s", fetched->uid, parse_error->message);
          continue;
        }

      tracked_id = rs_reply_match (headers, job->tracked, own);
      if (tracked_id == NULL || headers->from_address == NULL)
        continue;

      g_ptr_array_add (replies, rs_reply_new_from_headers (tracked_id, headers));
    }

  if (!rs_imap_cursor_parse (cursor_string, &state))
    {
      job_fail (job, g_error_new (RS_ERROR, RS_ERROR_PROTOCOL,
                                  _("The mail account returned a position the worker cannot read")));
      return;
    }
  cursor.uidvalidity = state.uidvalidity;
  cursor.uidnext = state.uidnext;
  cursor.highestmodseq = state.highestmodseq;

  /* A new UIDVALIDITY voids every stored UID: start the cursor over; the
   * store refuses a reply it has already (by Message-ID), so nothing is
   * reported twice. */
  if (reset && !rs_reply_store_reset_cursor (store, runner->id, MAILBOX, cursor.uidvalidity, &error))
    {
      job_fail (job, error);
      return;
    }

  if (!rs_reply_store_commit_sync_batch (store, runner->id, MAILBOX, &cursor, replies,
                                         now_seconds (), &n_new, &error))
    {
      job_fail (job, error);
      return;
    }

  for (guint i = 0; i < job->seen_tracked->len; i++)
    prove_sent (runner, g_ptr_array_index (job->seen_tracked, i));
  for (guint i = 0; i < replies->len; i++)
    prove_sent (runner, ((RsReply *) g_ptr_array_index (replies, i))->tracked_message_id);

  g_debug ("%s: %u candidates, %u new replies", runner->id, candidates->len, n_new);
  if (n_new > 0)
    notify_owner (runner->th, NULL, 0, NULL, TRUE);

  job_finish (job, NULL);
}

static void
sync_step_fetch (Job *job)
{
  Runner *runner = job->runner;
  RsMailboxCursor stored = { 0 };
  g_autofree char *cursor = NULL;
  FilterData *fd;
  GError *error = NULL;

  job->tracked = rs_reply_store_tracked_ids (runner->th->store, runner->id, &error);
  if (job->tracked == NULL)
    {
      job_fail (job, error);
      return;
    }

  if (rs_reply_store_get_cursor (runner->th->store, runner->id, MAILBOX, &stored, &error))
    {
      RsImapMailboxState state = { stored.uidvalidity, stored.uidnext, 0, stored.highestmodseq };

      cursor = rs_imap_cursor_format (&state);
    }
  else if (error != NULL)
    {
      job_fail (job, error);
      return;
    }

  job->seen_tracked = g_ptr_array_new_with_free_func (g_free);
  fd = g_new0 (FilterData, 1);
  fd->tracked = g_hash_table_ref (job->tracked);
  fd->seen_tracked = g_ptr_array_ref (job->seen_tracked);

  rs_backend_fetch_replies_async (runner->backend, cursor, candidate_filter, fd, filter_data_free,
                                  job->cancellable, sync_fetched_cb, job);
}

static void sync_step_outbox_next (Job *job);

static void
outbox_marked_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  job->runner->th->n_busy--;
  if (!rs_reporter_mark_outbox_sent_finish (RS_REPORTER (object), result, &error))
    g_debug ("Marking an outbox item sent: %s", error->message);

  if (is_cancelled (error))
    {
      job_finish (job, error);
      return;
    }

  job->outbox_pos++;
  sync_step_outbox_next (job);
}

static void
mark_outbox_sent (Job        *job,
                  const char *outbox_id,
                  const char *message_id)
{
  Thread *th = job->runner->th;

  th->n_busy++;
  rs_reporter_mark_outbox_sent_async (th->reporter, outbox_id, message_id, job->cancellable,
                                      outbox_marked_cb, job);
}

/* The send of one outbox item runs inside the sync job: a nested Job
 * that is never queued. */
static void
outbox_send_done (Job          *send,
                  const GError *error,
                  gpointer      user_data)
{
  Job *job = user_data;

  job->outbox_send = NULL;
  if (error != NULL)
    {
      /* Refused or unknown: never retried blindly; the user sees it. */
      g_debug ("Outbox item not sent: %s", error->message);
      if (is_cancelled (error))
        {
          job->runner->current = job;
          job_finish (job, error);
          return;
        }
      job->runner->current = job;
      job->outbox_pos++;
      sync_step_outbox_next (job);
      return;
    }

  job->runner->current = job;
  {
    RsOutboxItem *item = g_ptr_array_index (job->outbox, job->outbox_pos);

    mark_outbox_sent (job, item->id, send->message_id);
  }
}

static void
sync_step_outbox_next (Job *job)
{
  Runner *runner = job->runner;

  while (job->outbox != NULL && job->outbox_pos < job->outbox->len)
    {
      RsOutboxItem *item = g_ptr_array_index (job->outbox, job->outbox_pos);
      g_autoptr(RsTracked) tracked = NULL;
      g_autoptr(GError) error = NULL;
      Job *send;

      tracked = rs_reply_store_lookup_outbox (runner->th->store, runner->id, item->id, &error);
      if (error != NULL)
        {
          job_finish (job, error);
          return;
        }

      if (tracked != NULL)
        {
          /* Sent before: Retailsphere did not hear of it yet. */
          if (tracked->state == RS_TRACKED_SENT)
            {
              mark_outbox_sent (job, item->id, tracked->message_id);
              return;
            }
          /* Intent, unknown or failed: never resent automatically. */
          job->outbox_pos++;
          continue;
        }

      /* A nested send job: it takes the runner's current slot until done. */
      send = job_new (runner, JOB_SEND, NULL, outbox_send_done, job);
      send->message = g_bytes_ref (item->raw);
      send->outbox_id = g_strdup (item->id);
      send->force_new_id = TRUE;
      send->nested = TRUE;
      job->outbox_send = send;
      runner->current = send;
      send_step_backend (send);
      return;
    }

  sync_step_fetch (job);
}

static void
outbox_fetched_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  Thread *th = job->runner->th;
  g_autoptr(GError) error = NULL;

  th->n_busy--;
  job->outbox = rs_reporter_fetch_outbox_finish (RS_REPORTER (object), result, &error);
  if (job->outbox == NULL)
    {
      if (is_cancelled (error))
        {
          job_finish (job, error);
          return;
        }
      if (g_error_matches (error, RS_ERROR, RS_ERROR_AUTHENTICATION))
        {
          th->reporting_paused = TRUE;
          set_reporting_state (th, RS_ACCOUNT_STATE_NEEDS_ATTENTION, _("Sign in to Retailsphere again"));
        }
      g_debug ("Outbox: %s", error->message);
    }

  job->outbox_pos = 0;
  sync_step_outbox_next (job);
}

static void
settle_intents (Runner *runner)
{
  g_autoptr(GPtrArray) intents = NULL;
  g_autoptr(GError) error = NULL;

  if (runner->intents_settled)
    return;

  /* Left open by a crash (this process starts with none of its own in
   * flight): not proven sent, so unknown, never resent. */
  intents = rs_reply_store_list_intents (runner->th->store, runner->id, &error);
  for (guint i = 0; intents != NULL && i < intents->len; i++)
    {
      RsTracked *tracked = g_ptr_array_index (intents, i);

      g_debug ("%s: the outcome of %s is unknown", runner->id, tracked->message_id);
      rs_reply_store_mark_unknown (runner->th->store, runner->id, tracked->message_id, NULL);
    }

  runner->intents_settled = intents != NULL;
}

static void
sync_step_backend (Job *job)
{
  Runner *runner = job->runner;
  Thread *th = runner->th;
  GError *error = NULL;

  if ((error = store_error (th)) != NULL)
    {
      job_fail (job, error);
      return;
    }

  if (!ensure_backend (job))
    return;

  set_runner_state (runner, RS_ACCOUNT_STATE_SYNCING, NULL);
  settle_intents (runner);

  if (th->reporter != NULL && !th->reporting_paused)
    {
      th->n_busy++;
      rs_reporter_fetch_outbox_async (th->reporter, rs_account_get_address (runner->account),
                                      job->cancellable, outbox_fetched_cb, job);
      return;
    }

  sync_step_fetch (job);
}

static void
job_run (Job *job)
{
  switch (job->kind)
    {
    case JOB_SYNC:
      sync_step_backend (job);
      break;
    case JOB_SEND:
      send_step_backend (job);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* -------------------------------------------------------------- runners */

static void
watch_sync_done (Job          *job,
                 const GError *error,
                 gpointer      user_data)
{
  Thread *th = job->runner->th;

  if (error == NULL)
    report_round (th, NULL, NULL);
}

static void
runner_queue (Runner *runner,
              Job    *job)
{
  g_queue_push_tail (&runner->jobs, job);
  runner_kick (runner);
}

static void
runner_queue_watch_sync (Runner *runner)
{
  Job *job;

  if (runner->watch_sync_queued)
    {
      runner_kick (runner);
      return;
    }

  job = job_new (runner, JOB_SYNC, NULL, watch_sync_done, NULL);
  job->watch = TRUE;
  runner->watch_sync_queued = TRUE;
  runner_queue (runner, job);
}

static void
wait_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Runner *runner = user_data;
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;

  runner->waiting = FALSE;
  g_clear_object (&runner->wait_cancellable);

  if (!rs_backend_wait_for_changes_finish (RS_BACKEND (object), result, &changed, &error))
    {
      if (!is_cancelled (error))
        {
          set_runner_state (runner, state_for_error (error), error->message);
          runner_retry_later (runner);
        }
    }
  else if (changed)
    runner_queue_watch_sync (runner);

  if (runner_maybe_reap (runner))
    return;

  runner_kick (runner);
}

static gboolean
runner_retry_cb (gpointer user_data)
{
  Runner *runner = user_data;

  g_clear_pointer (&runner->retry_source, g_source_unref);
  runner_queue_watch_sync (runner);

  return G_SOURCE_REMOVE;
}

static gboolean
runner_is_watched (Runner *runner)
{
  Thread *th = runner->th;

  return th->watching && !th->stopping && !runner->removed &&
         (th->watched_account == NULL || g_str_equal (th->watched_account, runner->id));
}

static void
runner_kick (Runner *runner)
{
  Thread *th = runner->th;
  RsMailboxCursor stored = { 0 };
  g_autofree char *cursor = NULL;

  if (runner->current != NULL)
    return;

  /* The first job that may run: watch passes pause while offline;
   * what the user asked for is always tried. */
  for (GList *l = runner->jobs.head; l != NULL; l = l->next)
    {
      Job *job = l->data;

      if (job->watch && !th->online)
        continue;

      if (runner->waiting)
        {
          g_cancellable_cancel (runner->wait_cancellable);
          return;
        }

      g_queue_delete_link (&runner->jobs, l);
      runner->current = job;
      if (job->watch)
        runner->watch_sync_queued = FALSE;
      job_run (job);
      return;
    }

  /* A pending retry timer: attach it now that the runner is free. */
  if (runner->retry_source != NULL && g_source_get_context (runner->retry_source) == NULL)
    {
      g_source_set_callback (runner->retry_source, runner_retry_cb, runner, NULL);
      g_source_attach (runner->retry_source, th->context);
      return;
    }

  if (!runner_is_watched (runner) || !th->online || runner->waiting ||
      runner->retry_source != NULL || runner->backend == NULL || th->store == NULL)
    return;

  if (rs_reply_store_get_cursor (th->store, runner->id, MAILBOX, &stored, NULL))
    {
      RsImapMailboxState state = { stored.uidvalidity, stored.uidnext, 0, stored.highestmodseq };

      cursor = rs_imap_cursor_format (&state);
    }

  runner->waiting = TRUE;
  runner->wait_cancellable = g_cancellable_new ();
  rs_backend_wait_for_changes_async (runner->backend, cursor, WAIT_SECONDS,
                                     runner->wait_cancellable, wait_done_cb, runner);
}

static Runner *
runner_new (Thread     *th,
            const char *id,
            const char *data,
            RsAccount  *account)
{
  Runner *runner = g_new0 (Runner, 1);

  runner->th = th;
  runner->id = g_strdup (id);
  runner->data = g_strdup (data);
  runner->account = g_object_ref (account);
  g_queue_init (&runner->jobs);

  return runner;
}

static void
runner_free (Runner *runner)
{
  g_assert (runner->current == NULL && !runner->waiting);

  if (runner->retry_source != NULL)
    {
      g_source_destroy (runner->retry_source);
      g_source_unref (runner->retry_source);
    }
  g_free (runner->id);
  g_free (runner->data);
  g_free (runner->detail);
  g_clear_object (&runner->account);
  g_clear_object (&runner->backend);
  g_free (runner);
}

static void
runner_cancel_queued (Runner *runner)
{
  Job *job;

  while ((job = g_queue_pop_head (&runner->jobs)) != NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     _("The worker stopped"));

      /* Never started: only its owner hears of it. */
      if (job->done != NULL)
        job->done (job, error, job->done_data);
      job_free (job);
    }

  if (runner->waiting)
    g_cancellable_cancel (runner->wait_cancellable);
}

/* Brings the runners in line with the owner's accounts. */
static void
update_accounts (Thread    *th,
                 GPtrArray *snapshots)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < snapshots->len; i++)
    {
      Snapshot *snapshot = g_ptr_array_index (snapshots, i);
      Runner *runner = g_hash_table_lookup (th->runners, snapshot->id);
      g_autoptr(GKeyFile) key_file = g_key_file_new ();
      g_autoptr(RsAccount) account = NULL;
      g_autoptr(GError) error = NULL;

      g_hash_table_add (seen, snapshot->id);

      if (runner != NULL && g_strcmp0 (runner->data, snapshot->data) == 0)
        continue;

      if (!g_key_file_load_from_data (key_file, snapshot->data, (gsize) -1, G_KEY_FILE_NONE, &error) ||
          (account = rs_account_new_from_key_file (key_file, snapshot->id, &error)) == NULL)
        {
          g_warning ("Account %s: %s", snapshot->id, error->message);
          continue;
        }

      g_hash_table_insert (th->addresses, g_strdup (snapshot->id), g_strdup (rs_account_get_address (account)));
      if (th->reporter != NULL)
        rs_reporter_set_account_address (th->reporter, snapshot->id, rs_account_get_address (account));

      if (runner == NULL)
        {
          runner = runner_new (th, snapshot->id, snapshot->data, account);
          g_hash_table_insert (th->runners, runner->id, runner);
          continue;
        }

      /* Changed settings (or a new password): a new backend. */
      g_set_object (&runner->account, account);
      g_free (runner->data);
      runner->data = g_strdup (snapshot->data);
      if (runner->current != NULL || runner->waiting)
        runner->stale = TRUE;
      else
        g_clear_object (&runner->backend);
      if (runner->waiting)
        g_cancellable_cancel (runner->wait_cancellable);
    }

  /* Removed accounts: the ones idle now go; busy ones go when done. */
  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Runner *runner = value;

      if (g_hash_table_contains (seen, key))
        continue;

      runner->removed = TRUE;
      runner_cancel_queued (runner);
      if (runner->current == NULL && !runner->waiting)
        {
          g_hash_table_iter_steal (&iter);
          runner_free (runner);
        }
    }
}

/* ------------------------------------------------------------ reporting */

static void
waiters_run (Thread    *th,
             GPtrArray *waiters)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);

  /* Waiters may add new waiters: run a copy. */
  for (guint i = 0; i < waiters->len; i++)
    g_ptr_array_add (list, g_ptr_array_index (waiters, i));
  g_ptr_array_set_free_func (waiters, NULL);
  g_ptr_array_set_size (waiters, 0);
  g_ptr_array_set_free_func (waiters, g_free);

  for (guint i = 0; i < list->len; i++)
    {
      ReportWaiter *waiter = g_ptr_array_index (list, i);

      if (waiter->func != NULL)
        waiter->func (th, waiter->data);
    }
}

static void
waiters_add (GPtrArray *waiters,
             void     (*func) (Thread *th, gpointer data),
             gpointer   data)
{
  ReportWaiter *waiter = g_new0 (ReportWaiter, 1);

  waiter->func = func;
  waiter->data = data;
  g_ptr_array_add (waiters, waiter);
}

static void
token_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Thread *th = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *server = NULL;
  char *token;

  th->reporting_loading = FALSE;
  th->n_busy--;
  th->reporting_loaded = TRUE;
  g_clear_object (&th->reporter);
  th->reporting_paused = FALSE;

  token = rs_secret_store_lookup_api_token_finish (result, &error);
  if (error != NULL)
    g_debug ("No Retailsphere token: %s", error->message);

  {
    GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
    g_autoptr(GSettingsSchema) schema = NULL;

    if (source != NULL)
      schema = g_settings_schema_source_lookup (source, SETTINGS_SCHEMA, TRUE);
    if (schema != NULL)
      {
        g_autoptr(GSettings) settings = g_settings_new (SETTINGS_SCHEMA);

        server = g_settings_get_string (settings, SETTINGS_SERVER_KEY);
      }
  }

  if (token != NULL && server != NULL && *server != '\0')
    {
      g_autoptr(GError) reporter_error = NULL;

      th->reporter = rs_reporter_new (server, token, &reporter_error);
      if (th->reporter == NULL)
        set_reporting_state (th, RS_ACCOUNT_STATE_NEEDS_ATTENTION, reporter_error->message);
      else
        {
          GHashTableIter iter;
          gpointer key, value;

          g_hash_table_iter_init (&iter, th->addresses);
          while (g_hash_table_iter_next (&iter, &key, &value))
            rs_reporter_set_account_address (th->reporter, key, value);
        }
    }
  else if (error == NULL)
    set_reporting_state (th, RS_ACCOUNT_STATE_CONNECTED, _("Not signed in to Retailsphere: replies are kept until you sign in"));

  if (token != NULL)
    secret_password_free (token);

  waiters_run (th, th->reporting_waiters);
}

static void
reporting_load (Thread   *th,
                void    (*func) (Thread *th, gpointer data),
                gpointer  data)
{
  if (th->reporting_loaded && !th->reporting_loading)
    {
      if (func != NULL)
        func (th, data);
      return;
    }

  waiters_add (th->reporting_waiters, func, data);
  if (th->reporting_loading)
    return;

  th->reporting_loading = TRUE;
  th->n_busy++;
  rs_secret_store_lookup_api_token_async (th->cancellable, token_cb, th);
}

static gboolean report_timer_cb (gpointer user_data);

static void
report_round_end (Thread *th)
{
  gint64 when = 0;

  th->reporting_busy = FALSE;

  if (th->report_timer != NULL)
    {
      g_source_destroy (th->report_timer);
      g_clear_pointer (&th->report_timer, g_source_unref);
    }

  if (th->watching && !th->stopping && th->reporter != NULL && !th->reporting_paused && th->store != NULL &&
      rs_reply_store_next_report_due (th->store, &when, NULL))
    {
      gint64 delay = CLAMP (when - now_seconds (), 1, RS_RETRY_AFTER_CAP_SECONDS);

      th->report_timer = g_timeout_source_new_seconds ((guint) delay);
      g_source_set_callback (th->report_timer, report_timer_cb, th, NULL);
      g_source_attach (th->report_timer, th->context);
    }

  waiters_run (th, th->report_waiters);
}

static void report_next_batch (Thread *th);

static void
report_sent_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Thread *th = user_data;
  g_autoptr(RsReportResult) report = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = now_seconds ();
  gboolean again = FALSE;

  th->n_busy--;
  report = rs_reporter_send_batch_finish (RS_REPORTER (object), result, &error);
  if (report == NULL)
    {
      g_debug ("Reporting: %s", error->message);
      report_round_end (th);
      return;
    }

  if (report->accepted != NULL && report->accepted[0] != NULL)
    {
      g_autoptr(GError) store_error = NULL;

      if (!rs_reply_store_mark_reported (th->store, (const char * const *) report->accepted, now, &store_error))
        g_warning ("%s", store_error->message);
      else
        notify_owner (th, NULL, 0, NULL, TRUE);
    }

  for (guint i = 0; report->rejected != NULL && report->rejected[i] != NULL; i++)
    rs_reply_store_reschedule (th->store, report->rejected[i], now + RS_BACKOFF_CAP_SECONDS, NULL);

  if (report->pending != NULL && report->pending[0] != NULL)
    {
      for (guint i = 0; report->pending[i] != NULL; i++)
        {
          guint attempts = 0;

          for (guint j = 0; th->report_batch != NULL && j < th->report_batch->len; j++)
            {
              RsReply *reply = g_ptr_array_index (th->report_batch, j);

              if (g_strcmp0 (reply->idempotency_key, report->pending[i]) == 0)
                attempts = reply->attempts;
            }

          rs_reply_store_reschedule (th->store, report->pending[i],
                                     now + rs_backoff_delay (attempts, report->retry_after, g_random_double ()),
                                     NULL);
        }
    }

  switch (report->status)
    {
    case RS_REPORT_OK:
    case RS_REPORT_REJECTED:
      set_reporting_state (th, RS_ACCOUNT_STATE_IDLE, NULL);
      again = report->accepted != NULL && report->accepted[0] != NULL;
      break;

    case RS_REPORT_AUTH_FAILED:
      /* Stop; keep the queue; the user signs in again. */
      th->reporting_paused = TRUE;
      set_reporting_state (th, RS_ACCOUNT_STATE_NEEDS_ATTENTION, _("Sign in to Retailsphere again"));
      break;

    case RS_REPORT_RETRY:
    default:
      break;
    }

  if (again)
    report_next_batch (th);
  else
    report_round_end (th);
}

static void
report_next_batch (Thread *th)
{
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;

  if (th->stopping || th->reporter == NULL || th->reporting_paused || th->store == NULL)
    {
      report_round_end (th);
      return;
    }

  due = rs_reply_store_next_reports (th->store, RS_REPORTER_MAX_BATCH, now_seconds (), &error);
  if (due == NULL || due->len == 0)
    {
      report_round_end (th);
      return;
    }

  th->n_busy++;
  g_clear_pointer (&th->report_batch, g_ptr_array_unref);
  th->report_batch = g_ptr_array_ref (due);
  rs_reporter_send_batch_async (th->reporter, due, th->cancellable, report_sent_cb, th);
}

static void
report_round_loaded (Thread   *th,
                     gpointer  data)
{
  report_next_batch (th);
}

/* Reports every due reply; @func runs when the round is over. */
static void
report_round (Thread   *th,
              void    (*func) (Thread *th, gpointer data),
              gpointer  data)
{
  if (func != NULL)
    waiters_add (th->report_waiters, func, data);

  if (th->reporting_busy)
    return;

  th->reporting_busy = TRUE;
  reporting_load (th, report_round_loaded, NULL);
}

static gboolean
report_timer_cb (gpointer user_data)
{
  Thread *th = user_data;

  g_clear_pointer (&th->report_timer, g_source_unref);
  report_round (th, NULL, NULL);

  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------- network */

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  Thread *th = user_data;
  GHashTableIter iter;
  gpointer value;

  if (available == th->online)
    return;

  th->online = available;
  g_debug ("Network %s", available ? "back" : "gone");

  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Runner *runner = value;

      if (!runner_is_watched (runner))
        continue;

      if (!available)
        {
          /* Pause: no waiting, no retries; state offline. */
          if (runner->waiting)
            g_cancellable_cancel (runner->wait_cancellable);
          if (runner->retry_source != NULL)
            {
              g_source_destroy (runner->retry_source);
              g_clear_pointer (&runner->retry_source, g_source_unref);
            }
          set_runner_state (runner, RS_ACCOUNT_STATE_OFFLINE, _("No network connection"));
        }
      else
        {
          /* Back: resume at once. */
          runner->retry_attempt = 0;
          if (runner->current != NULL || runner->waiting)
            runner->stale = TRUE;
          else
            g_clear_object (&runner->backend);
          runner_queue_watch_sync (runner);
        }
    }

  if (available)
    report_round (th, NULL, NULL);
}

/* ----------------------------------------------- requests from the owner */

typedef struct
{
  Thread       *th;
  GPtrArray    *snapshots;
  char         *account_id;
  GBytes       *eml;
  GCancellable *cancellable;
  GTask        *task;      /* the owner's */
  guint         pending;
  GError       *error;
} Request;

static void
request_free (Request *request)
{
  g_clear_pointer (&request->snapshots, g_ptr_array_unref);
  g_free (request->account_id);
  g_clear_pointer (&request->eml, g_bytes_unref);
  g_clear_object (&request->cancellable);
  g_clear_error (&request->error);
  g_assert (request->task == NULL);
  g_free (request);
}

static void
request_complete (Request    *request,
                  const char *string)
{
  complete_task (request->th, g_steal_pointer (&request->task), request->error, string);
  request_free (request);
}

static GError *
no_such_account (const char *id)
{
  return g_error_new (RS_ERROR, RS_ERROR_INPUT,
                      _("No account has the ID “%s” (see “retailsphere-accounts list”)"), id);
}

/* sync_once */

static void
sync_request_reported (Thread   *th,
                       gpointer  data)
{
  request_complete (data, NULL);
}

static void
sync_request_account_done (Job          *job,
                           const GError *error,
                           gpointer      user_data)
{
  Request *request = user_data;

  if (error != NULL && request->error == NULL)
    request->error = g_error_copy (error);

  if (--request->pending > 0)
    return;

  if (request->th->stopping || (request->error != NULL && is_cancelled (request->error)))
    {
      request_complete (request, NULL);
      return;
    }

  /* Reporting failures do not fail the pass: the replies stay queued. */
  report_round (request->th, sync_request_reported, request);
}

static void
sync_request_loaded (Thread   *th,
                     gpointer  data)
{
  Request *request = data;
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) targets = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Runner *runner = value;

      if (!runner->removed && (request->account_id == NULL || g_str_equal (runner->id, request->account_id)))
        g_ptr_array_add (targets, runner);
    }

  if (request->account_id != NULL && targets->len == 0)
    {
      request->error = no_such_account (request->account_id);
      request_complete (request, NULL);
      return;
    }

  if (targets->len == 0)
    {
      report_round (th, sync_request_reported, request);
      return;
    }

  request->pending = targets->len;
  for (guint i = 0; i < targets->len; i++)
    {
      Runner *runner = g_ptr_array_index (targets, i);

      runner_queue (runner, job_new (runner, JOB_SYNC, request->cancellable,
                                     sync_request_account_done, request));
    }
}

static gboolean
sync_request_cb (gpointer data)
{
  Request *request = data;
  Thread *th = request->th;

  update_accounts (th, request->snapshots);
  reporting_load (th, sync_request_loaded, request);

  return G_SOURCE_REMOVE;
}

/* send */

static void
send_request_done (Job          *job,
                   const GError *error,
                   gpointer      user_data)
{
  Request *request = user_data;

  if (error != NULL)
    request->error = g_error_copy (error);

  request_complete (request, error == NULL ? job->message_id : NULL);
}

static gboolean
send_request_cb (gpointer data)
{
  Request *request = data;
  Thread *th = request->th;
  Runner *runner;
  Job *job;

  update_accounts (th, request->snapshots);

  runner = g_hash_table_lookup (th->runners, request->account_id);
  if (runner == NULL || runner->removed)
    {
      request->error = no_such_account (request->account_id);
      request_complete (request, NULL);
      return G_SOURCE_REMOVE;
    }

  job = job_new (runner, JOB_SEND, request->cancellable, send_request_done, request);
  job->message = g_bytes_ref (request->eml);
  runner_queue (runner, job);

  return G_SOURCE_REMOVE;
}

/* start, accounts, reporting changes, stop */

typedef struct
{
  Thread    *th;
  GPtrArray *snapshots;
  gboolean   watching;
  char      *watched_account;
} Update;

static void
update_free (gpointer data)
{
  Update *update = data;

  g_clear_pointer (&update->snapshots, g_ptr_array_unref);
  g_free (update->watched_account);
  g_free (update);
}

static gboolean
update_cb (gpointer data)
{
  Update *update = data;
  Thread *th = update->th;
  gboolean was_watching = th->watching;
  GHashTableIter iter;
  gpointer value;

  th->watching = update->watching;
  g_free (th->watched_account);
  th->watched_account = g_strdup (update->watched_account);
  update_accounts (th, update->snapshots);

  if (!th->watching)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Runner *runner = value;

      if (!runner_is_watched (runner))
        continue;
      if (!th->online)
        set_runner_state (runner, RS_ACCOUNT_STATE_OFFLINE, _("No network connection"));
      else if (!was_watching || (runner->backend == NULL && runner->current == NULL))
        runner_queue_watch_sync (runner);
    }

  if (!was_watching)
    report_round (th, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static gboolean
reporting_changed_cb (gpointer data)
{
  Thread *th = data;

  if (th->reporting_loading)
    return G_SOURCE_REMOVE;

  th->reporting_loaded = FALSE;
  report_round (th, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer data)
{
  Thread *th = data;

  th->stopping = TRUE;
  g_cancellable_cancel (th->cancellable);
  g_main_loop_quit (th->loop);

  return G_SOURCE_REMOVE;
}

static gboolean
thread_is_busy (Thread *th)
{
  GHashTableIter iter;
  gpointer value;

  if (th->n_busy > 0 || th->reporting_busy)
    return TRUE;

  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Runner *runner = value;

      if (runner->current != NULL || runner->waiting || !g_queue_is_empty (&runner->jobs))
        return TRUE;
    }

  return FALSE;
}

static void
close_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  guint *n_closing = user_data;

  rs_backend_close_finish (RS_BACKEND (object), result, NULL);
  (*n_closing)--;
}

static gboolean
close_timeout_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static gpointer
thread_func (gpointer data)
{
  Thread *th = data;
  g_autoptr(GCancellable) close_cancellable = g_cancellable_new ();
  g_autoptr(GSource) close_timer = NULL;
  GHashTableIter iter;
  gpointer value;
  guint n_closing = 0;

  g_main_context_push_thread_default (th->context);

  th->store = rs_reply_store_open (th->store_path, &th->store_error);
  if (th->store == NULL)
    g_warning ("%s", th->store_error->message);

  th->monitor = g_object_ref (g_network_monitor_get_default ());
  th->online = g_network_monitor_get_network_available (th->monitor);
  th->monitor_id = g_signal_connect (th->monitor, "network-changed", G_CALLBACK (network_changed_cb), th);

  g_main_loop_run (th->loop);

  /* Stopping: everything in flight was cancelled; let it finish. */
  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    runner_cancel_queued (value);
  while (thread_is_busy (th))
    g_main_context_iteration (th->context, TRUE);

  /* Sign out politely, but not for long. */
  close_timer = g_timeout_source_new_seconds (2);
  g_source_set_callback (close_timer, close_timeout_cb, close_cancellable, NULL);
  g_source_attach (close_timer, th->context);
  g_hash_table_iter_init (&iter, th->runners);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Runner *runner = value;

      if (runner->backend == NULL)
        continue;
      n_closing++;
      rs_backend_close_async (runner->backend, close_cancellable, close_cb, &n_closing);
    }
  while (n_closing > 0)
    g_main_context_iteration (th->context, TRUE);
  g_source_destroy (close_timer);

  g_signal_handler_disconnect (th->monitor, th->monitor_id);
  g_clear_object (&th->monitor);
  if (th->report_timer != NULL)
    {
      g_source_destroy (th->report_timer);
      g_clear_pointer (&th->report_timer, g_source_unref);
    }
  g_hash_table_remove_all (th->runners);
  g_clear_object (&th->reporter);
  g_clear_object (&th->store);

  /* Sources of finished operations may still be pending. */
  while (g_main_context_pending (th->context))
    g_main_context_iteration (th->context, FALSE);

  g_main_context_pop_thread_default (th->context);

  return NULL;
}

static void
thread_free (Thread *th)
{
  link_unref (th->link);
  g_main_context_unref (th->owner_context);
  g_main_loop_unref (th->loop);
  g_main_context_unref (th->context);
  g_object_unref (th->cancellable);
  g_free (th->store_path);
  g_clear_error (&th->store_error);
  g_hash_table_unref (th->runners);
  g_hash_table_unref (th->addresses);
  g_free (th->watched_account);
  g_ptr_array_unref (th->reporting_waiters);
  g_ptr_array_unref (th->report_waiters);
  g_free (th);
}

/* =========================================================== owner side */

static GPtrArray *
take_snapshots (RsWorker *self)
{
  GPtrArray *snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_free);
  guint n = self->accounts ? g_list_model_get_n_items (G_LIST_MODEL (self->accounts)) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RsAccount) account = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);
      g_autoptr(GKeyFile) key_file = g_key_file_new ();
      Snapshot *snapshot = g_new0 (Snapshot, 1);

      /* LastChecked changes without changing what the worker does. */
      rs_account_save_to_key_file (account, key_file, rs_account_get_id (account));
      g_key_file_remove_key (key_file, rs_account_get_id (account), "LastChecked", NULL);
      snapshot->id = g_strdup (rs_account_get_id (account));
      snapshot->data = g_key_file_to_data (key_file, NULL, NULL);
      g_ptr_array_add (snapshots, snapshot);
    }

  return snapshots;
}

static void
ensure_thread (RsWorker *self)
{
  Thread *th;

  if (self->th != NULL)
    return;

  th = g_new0 (Thread, 1);
  th->link = link_ref (self->link);
  th->owner_context = g_main_context_ref (self->owner_context);
  th->context = g_main_context_new ();
  th->loop = g_main_loop_new (th->context, FALSE);
  th->cancellable = g_cancellable_new ();
  th->store_path = g_strdup (self->store_path);
  th->runners = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) runner_free);
  th->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  th->poll_interval = self->poll_interval;
  th->use_idle = self->use_idle;
  th->reporting_waiters = g_ptr_array_new_with_free_func (g_free);
  th->report_waiters = g_ptr_array_new_with_free_func (g_free);

  self->th = th;
  self->thread = g_thread_new ("rs-worker", thread_func, th);
}

static void
send_update (RsWorker *self)
{
  Update *update;

  if (self->th == NULL)
    return;

  update = g_new0 (Update, 1);
  update->th = self->th;
  update->snapshots = take_snapshots (self);
  update->watching = self->watching;
  update->watched_account = g_strdup (self->watched_account);
  invoke_on (self->th->context, update_cb, update, update_free);
}

static void
accounts_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  send_update (RS_WORKER (user_data));
}

static void
rs_worker_dispose (GObject *object)
{
  RsWorker *self = RS_WORKER (object);

  rs_worker_stop (self);
  if (self->accounts != NULL)
    g_clear_signal_handler (&self->items_changed_id, self->accounts);
  g_clear_object (&self->accounts);

  G_OBJECT_CLASS (rs_worker_parent_class)->dispose (object);
}

static void
rs_worker_finalize (GObject *object)
{
  RsWorker *self = RS_WORKER (object);

  g_free (self->store_path);
  g_free (self->watched_account);
  g_main_context_unref (self->owner_context);
  g_weak_ref_set (&self->link->worker, NULL);
  link_unref (self->link);

  G_OBJECT_CLASS (rs_worker_parent_class)->finalize (object);
}

static void
rs_worker_class_init (RsWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_worker_dispose;
  object_class->finalize = rs_worker_finalize;

  signals[ACCOUNT_STATE_CHANGED] =
    g_signal_new ("account-state-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING, RS_TYPE_ACCOUNT_STATE, G_TYPE_STRING);

  signals[REPLIES_CHANGED] =
    g_signal_new ("replies-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
rs_worker_init (RsWorker *self)
{
  self->use_idle = TRUE;
  self->link = link_new (self);
}

/**
 * rs_worker_new:
 * @accounts: (nullable): the accounts to serve
 * @store_path: (nullable): the reply store, or %NULL for
 *   rs_reply_store_default_path()
 *
 * Returns: (transfer full): a worker, not started
 */
RsWorker *
rs_worker_new (RsAccountStore *accounts,
               const char     *store_path)
{
  RsWorker *self;

  g_return_val_if_fail (accounts == NULL || RS_IS_ACCOUNT_STORE (accounts), NULL);

  self = g_object_new (RS_TYPE_WORKER, NULL);
  self->accounts = accounts ? g_object_ref (accounts) : NULL;
  self->store_path = store_path ? g_strdup (store_path) : rs_reply_store_default_path ();
  self->owner_context = g_main_context_ref_thread_default ();

  if (self->accounts != NULL)
    self->items_changed_id = g_signal_connect_object (self->accounts, "items-changed",
                                                      G_CALLBACK (accounts_changed_cb), self, 0);

  return self;
}

const char *
rs_worker_get_store_path (RsWorker *self)
{
  g_return_val_if_fail (RS_IS_WORKER (self), NULL);

  return self->store_path;
}

gboolean
rs_worker_is_running (RsWorker *self)
{
  g_return_val_if_fail (RS_IS_WORKER (self), FALSE);

  return self->th != NULL;
}

void
rs_worker_set_poll_interval (RsWorker *self,
                             guint     seconds)
{
  g_return_if_fail (RS_IS_WORKER (self));

  self->poll_interval = seconds;
}

void
rs_worker_set_use_idle (RsWorker *self,
                        gboolean  use_idle)
{
  g_return_if_fail (RS_IS_WORKER (self));

  self->use_idle = !!use_idle;
}

void
rs_worker_set_watched_account (RsWorker   *self,
                               const char *account_id)
{
  g_return_if_fail (RS_IS_WORKER (self));

  g_free (self->watched_account);
  self->watched_account = g_strdup (account_id);
  send_update (self);
}

/**
 * rs_worker_start:
 *
 * Starts the worker thread (if needed) and the continuous watch of every
 * account.
 */
void
rs_worker_start (RsWorker *self)
{
  g_return_if_fail (RS_IS_WORKER (self));

  self->watching = TRUE;
  ensure_thread (self);
  send_update (self);
}

/**
 * rs_worker_stop:
 *
 * Cancels everything, signs out (for at most a few seconds) and joins the
 * thread.  Pending calls finish with %G_IO_ERROR_CANCELLED.
 */
void
rs_worker_stop (RsWorker *self)
{
  Thread *th;

  g_return_if_fail (RS_IS_WORKER (self));

  self->watching = FALSE;
  if (self->th == NULL)
    return;

  th = g_steal_pointer (&self->th);
  invoke_on (th->context, quit_cb, th, NULL);
  g_thread_join (g_steal_pointer (&self->thread));
  thread_free (th);
}

/**
 * rs_worker_reporting_changed:
 *
 * Reads the Retailsphere server address and token again (after the user
 * signed in or out), and resumes reporting if it was paused.
 */
void
rs_worker_reporting_changed (RsWorker *self)
{
  g_return_if_fail (RS_IS_WORKER (self));

  if (self->th != NULL)
    invoke_on (self->th->context, reporting_changed_cb, self->th, NULL);
}

static Request *
request_new (RsWorker     *self,
             GTask        *task,
             const char   *account_id,
             GCancellable *cancellable)
{
  Request *request = g_new0 (Request, 1);

  ensure_thread (self);
  request->th = self->th;
  request->task = task;
  request->snapshots = take_snapshots (self);
  request->account_id = g_strdup (account_id);
  request->cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  return request;
}

void
rs_worker_sync_once_async (RsWorker            *self,
                           const char          *account_id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  Request *request;

  g_return_if_fail (RS_IS_WORKER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_worker_sync_once_async);

  request = request_new (self, task, account_id, cancellable);
  invoke_on (self->th->context, sync_request_cb, request, NULL);
}

gboolean
rs_worker_sync_once_finish (RsWorker      *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (RS_IS_WORKER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
rs_worker_send_async (RsWorker            *self,
                      const char          *account_id,
                      GBytes              *eml,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  GTask *task;
  Request *request;

  g_return_if_fail (RS_IS_WORKER (self));
  g_return_if_fail (account_id != NULL);
  g_return_if_fail (eml != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_worker_send_async);

  request = request_new (self, task, account_id, cancellable);
  request->eml = g_bytes_ref (eml);
  invoke_on (self->th->context, send_request_cb, request, NULL);
}

/**
 * rs_worker_send_finish:
 *
 * Returns: (transfer full): the Message-ID used, without angle brackets
 */
char *
rs_worker_send_finish (RsWorker      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (RS_IS_WORKER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
