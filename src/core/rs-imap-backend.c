/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-imap-backend"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "rs-error.h"
#include "rs-imap-backend.h"
#include "rs-imap-parser.h"
#include "rs-smtp-client.h"

#define MAILBOX "INBOX"

struct _RsImapBackend
{
  GObject             parent_instance;

  RsServerSettings   *imap;
  RsServerSettings   *smtp;          /* nullable: sending is not offered */
  RsTrust            *trust;
  char               *imap_password;
  char               *smtp_password;

  guint               chunk_size;
  guint               poll_interval;
  guint               timeout;
  gboolean            use_idle;

  RsImapClient       *client;        /* signed in, or NULL */
  RsImapFetchStats    stats;
};

/* The threading headers first; the rest only for candidates. */
static const char * const phase1_fields[] = {
  "Message-ID", "In-Reply-To", "References", NULL
};

static const char * const phase2_fields[] = {
  "Message-ID", "In-Reply-To", "References", "From", "To", "Cc", "Date", "Subject",
  "Auto-Submitted", "Precedence", "Content-Type", NULL
};

typedef void (*ReadyFunc) (GTask *task);

typedef struct
{
  RsCandidateFilter   filter;
  gpointer            filter_data;
  GDestroyNotify      filter_data_destroy;
  RsImapMailboxState  old;
  gboolean            have_old;
  RsImapMailboxState  now;
  gboolean            reset;
  guint32             next_uid;     /* phase 1: start of the next chunk */
  GArray             *chunk;        /* guint32 */
  GArray             *accepted;     /* guint32 */
  guint               accepted_pos; /* phase 2: next index */
  GPtrArray          *results;      /* RsFetchedHeaders */
  RsImapFetchStats    stats;
} FetchData;

typedef struct
{
  RsImapMailboxState  old;
  gboolean            have_old;
  gint64              deadline;
} WaitData;

typedef struct
{
  RsSmtpClient *smtp;
  GBytes       *message;
  char         *from;
  GStrv         recipients;
  char         *message_id;
} SendData;

static void rs_imap_backend_iface_init (RsBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RsImapBackend, rs_imap_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RS_TYPE_BACKEND, rs_imap_backend_iface_init))

/* -------------------------------------------------------------- helpers */

static void
wipe_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
fetch_data_free (gpointer data)
{
  FetchData *fd = data;

  if (fd->filter_data_destroy != NULL)
    fd->filter_data_destroy (fd->filter_data);
  g_clear_pointer (&fd->chunk, g_array_unref);
  g_clear_pointer (&fd->accepted, g_array_unref);
  g_clear_pointer (&fd->results, g_ptr_array_unref);
  g_free (fd);
}

static void
send_data_free (gpointer data)
{
  SendData *sd = data;

  g_clear_object (&sd->smtp);
  g_clear_pointer (&sd->message, g_bytes_unref);
  g_free (sd->from);
  g_strfreev (sd->recipients);
  g_free (sd->message_id);
  g_free (sd);
}

/* Any failure leaves the connection in an unknown state: start afresh. */
static void
drop_client (RsImapBackend *self)
{
  g_clear_object (&self->client);
}

static void
backend_fail (GTask  *task,
              GError *error)
{
  RsImapBackend *self = g_task_get_source_object (task);

  drop_client (self);
  g_task_return_error (task, error);
}

/* --------------------------------------------------- signing in, lazily */

static void
ensure_authenticated_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReadyFunc ready = g_object_get_data (G_OBJECT (task), "ready");
  GError *error = NULL;

  if (!rs_imap_client_authenticate_finish (RS_IMAP_CLIENT (object), result, &error))
    {
      backend_fail (task, error);
      return;
    }

  ready (g_steal_pointer (&task));
}

static void
ensure_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapBackend *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!rs_imap_client_connect_finish (RS_IMAP_CLIENT (object), result, &error))
    {
      backend_fail (task, error);
      return;
    }

  rs_imap_client_authenticate_async (self->client, self->imap_password,
                                     g_task_get_cancellable (task),
                                     ensure_authenticated_cb, g_object_ref (task));
}

/* Calls @ready (taking the task's reference) once signed in. */
static void
ensure_client (GTask     *task,
               ReadyFunc  ready)
{
  RsImapBackend *self = g_task_get_source_object (task);

  if (self->client != NULL && rs_imap_client_is_authenticated (self->client))
    {
      ready (task);
      return;
    }

  drop_client (self);
  self->client = rs_imap_client_new (self->imap, self->trust);
  rs_imap_client_set_timeout (self->client, self->timeout);
  g_object_set_data (G_OBJECT (task), "ready", ready);
  rs_imap_client_connect_async (self->client, g_task_get_cancellable (task),
                                ensure_connected_cb, task);
}

/* ---------------------------------------------------------------- check */

static void
check_smtp_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!rs_smtp_check_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
check_imap_ready (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);

  if (self->smtp == NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  rs_smtp_check_async (self->smtp, self->trust, self->smtp_password != NULL ? self->smtp_password : "",
                       g_task_get_cancellable (task), check_smtp_cb, task);
}

static void
rs_imap_backend_check_async (RsBackend           *backend,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task = g_task_new (backend, cancellable, callback, user_data);

  g_task_set_source_tag (task, rs_imap_backend_check_async);
  ensure_client (task, check_imap_ready);
}

static gboolean
rs_imap_backend_check_finish (RsBackend     *backend,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ----------------------------------------------------------------- send */

static void
send_quit_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *sd = g_task_get_task_data (task);

  /* The message was accepted; a failed goodbye changes nothing. */
  rs_smtp_client_quit_finish (RS_SMTP_CLIENT (object), result, NULL);
  g_task_return_pointer (task, g_strdup (sd->message_id), g_free);
}

static void
send_sent_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!rs_smtp_client_send_finish (RS_SMTP_CLIENT (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  rs_smtp_client_quit_async (RS_SMTP_CLIENT (object), g_task_get_cancellable (task),
                             send_quit_cb, g_object_ref (task));
}

static void
send_authenticated_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *sd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_smtp_client_authenticate_finish (RS_SMTP_CLIENT (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  rs_smtp_client_send_async (sd->smtp, sd->from, (const char * const *)sd->recipients,
                             sd->message, g_task_get_cancellable (task),
                             send_sent_cb, g_object_ref (task));
}

static void
send_connected_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapBackend *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!rs_smtp_client_connect_finish (RS_SMTP_CLIENT (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  rs_smtp_client_authenticate_async (RS_SMTP_CLIENT (object),
                                     self->smtp_password != NULL ? self->smtp_password : "",
                                     g_task_get_cancellable (task),
                                     send_authenticated_cb, g_object_ref (task));
}

static void
rs_imap_backend_send_async (RsBackend           *backend,
                            GBytes              *message,
                            const char          *from,
                            const char * const  *recipients,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  RsImapBackend *self = RS_IMAP_BACKEND (backend);
  g_autoptr(GTask) task = NULL;
  g_autofree char *message_id = NULL;
  SendData *sd;
  gconstpointer data;
  gsize len;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_backend_send_async);

  if (self->smtp == NULL)
    {
      GError *error = g_error_new_literal (RS_ERROR, RS_ERROR_INPUT,
                                           _("This account has no server for sending mail"));

      rs_error_set_service (error, RS_SERVICE_SMTP);
      g_task_return_error (task, error);
      return;
    }

  data = g_bytes_get_data (message, &len);
  message_id = rs_backend_header_get (data, len, "Message-ID");
  if (message_id != NULL)
    {
      /* "<id@host>" → "id@host" */
      g_strstrip (message_id);
      if (message_id[0] == '<' && strchr (message_id, '>') != NULL)
        {
          *strchr (message_id, '>') = '\0';
          memmove (message_id, message_id + 1, strlen (message_id));
        }
    }

  if (message_id == NULL || *message_id == '\0' || strchr (message_id, '@') == NULL)
    {
      GError *error = g_error_new_literal (RS_ERROR, RS_ERROR_INPUT,
                                           _("The message has no Message-ID, so its replies could not be recognised"));

      rs_error_set_service (error, RS_SERVICE_SMTP);
      g_task_return_error (task, error);
      return;
    }

  sd = g_new0 (SendData, 1);
  sd->smtp = rs_smtp_client_new (self->smtp, self->trust);
  rs_smtp_client_set_timeout (sd->smtp, self->timeout);
  sd->message = g_bytes_ref (message);
  sd->from = g_strdup (from);
  sd->recipients = g_strdupv ((char **)recipients);
  sd->message_id = g_steal_pointer (&message_id);
  g_task_set_task_data (task, sd, send_data_free);

  rs_smtp_client_connect_async (sd->smtp, cancellable, send_connected_cb, g_steal_pointer (&task));
}

static char *
rs_imap_backend_send_finish (RsBackend     *backend,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------- fetch */

static void fetch_phase1_next (GTask *task);
static void fetch_phase2_next (GTask *task);

static void
fetch_succeed (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);
  FetchData *fd = g_task_get_task_data (task);

  fd->stats.cursor_reset = fd->reset;
  self->stats = fd->stats;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
phase1_headers_cb (guint32   uid,
                   GBytes   *headers,
                   gpointer  user_data)
{
  FetchData *fd = user_data;
  g_autofree char *message_id = NULL;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *references = NULL;
  gconstpointer data;
  gsize len;

  data = g_bytes_get_data (headers, &len);
  fd->stats.n_new++;
  fd->stats.phase1_bytes += len;

  message_id = rs_backend_header_get (data, len, "Message-ID");
  in_reply_to = rs_backend_header_get (data, len, "In-Reply-To");
  references = rs_backend_header_get (data, len, "References");

  if (fd->filter (message_id, in_reply_to, references, fd->filter_data))
    g_array_append_val (fd->accepted, uid);
}

static void
phase2_headers_cb (guint32   uid,
                   GBytes   *headers,
                   gpointer  user_data)
{
  FetchData *fd = user_data;

  fd->stats.phase2_bytes += g_bytes_get_size (headers);
  g_ptr_array_add (fd->results, rs_fetched_headers_new (uid, headers));
}

static void
fetch_chunk_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *fd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_imap_client_fetch_headers_finish (RS_IMAP_CLIENT (object), result, &error))
    {
      backend_fail (task, error);
      return;
    }

  if (fd->accepted_pos == 0 && fd->next_uid != 0)
    fetch_phase1_next (g_steal_pointer (&task));
  else
    fetch_phase2_next (g_steal_pointer (&task));
}

/* Phase 2: the full allowlisted fields of accepted UIDs only. */
static void
fetch_phase2_next (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);
  FetchData *fd = g_task_get_task_data (task);
  guint n;

  fd->next_uid = 0;   /* phase 1 is over */

  if (fd->accepted_pos >= fd->accepted->len)
    {
      fetch_succeed (task);
      return;
    }

  n = MIN (fd->accepted->len - fd->accepted_pos, self->chunk_size);
  fd->stats.n_phase2_commands++;
  fd->stats.max_uids_per_command = MAX (fd->stats.max_uids_per_command, n);

  rs_imap_client_fetch_headers_async (self->client,
                                      &g_array_index (fd->accepted, guint32, fd->accepted_pos), n,
                                      phase2_fields, phase2_headers_cb, fd,
                                      g_task_get_cancellable (task),
                                      fetch_chunk_cb, task);
  fd->accepted_pos += n;
}

/* Phase 1: the threading headers of each new UID, chunk by chunk. */
static void
fetch_phase1_next (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);
  FetchData *fd = g_task_get_task_data (task);
  guint32 last;

  if (fd->next_uid == 0 || fd->next_uid >= fd->now.uidnext)
    {
      fd->stats.n_candidates = fd->accepted->len;
      fd->accepted_pos = 0;
      fetch_phase2_next (task);
      return;
    }

  last = fd->now.uidnext - 1;
  if (last - fd->next_uid >= self->chunk_size)
    last = fd->next_uid + self->chunk_size - 1;

  g_array_set_size (fd->chunk, 0);
  for (guint32 uid = fd->next_uid; ; uid++)
    {
      g_array_append_val (fd->chunk, uid);
      if (uid == last)
        break;
    }
  fd->next_uid = last + 1 < fd->now.uidnext ? last + 1 : fd->now.uidnext;
  fd->stats.n_phase1_commands++;
  fd->stats.max_uids_per_command = MAX (fd->stats.max_uids_per_command, fd->chunk->len);

  rs_imap_client_fetch_headers_async (self->client,
                                      (const guint32 *)(gpointer)fd->chunk->data, fd->chunk->len,
                                      phase1_fields, phase1_headers_cb, fd,
                                      g_task_get_cancellable (task),
                                      fetch_chunk_cb, task);
}

static void
fetch_examined_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *fd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_imap_client_examine_finish (RS_IMAP_CLIENT (object), result, &fd->now, &error))
    {
      backend_fail (task, error);
      return;
    }

  if (!fd->have_old)
    fd->next_uid = 1;
  else if (fd->old.uidvalidity != fd->now.uidvalidity)
    {
      /* Every stored UID is void: start over; the store de-duplicates. */
      g_debug ("UIDVALIDITY changed from %u to %u: rescanning", fd->old.uidvalidity, fd->now.uidvalidity);
      fd->reset = TRUE;
      fd->next_uid = 1;
    }
  else
    fd->next_uid = MAX (fd->old.uidnext, 1);

  /* The cursor never goes back. */
  if (fd->have_old && !fd->reset && fd->old.uidnext > fd->now.uidnext)
    fd->now.uidnext = fd->old.uidnext;

  if (fd->next_uid >= fd->now.uidnext)
    fd->next_uid = 0;   /* nothing new */

  fd->accepted_pos = 0;
  if (fd->next_uid == 0)
    {
      fd->stats.n_candidates = 0;
      fetch_succeed (g_steal_pointer (&task));
      return;
    }

  fetch_phase1_next (g_steal_pointer (&task));
}

static void
fetch_ready (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);

  rs_imap_client_examine_async (self->client, MAILBOX, g_task_get_cancellable (task),
                                fetch_examined_cb, task);
}

static void
rs_imap_backend_fetch_replies_async (RsBackend           *backend,
                                     const char          *cursor,
                                     RsCandidateFilter    filter,
                                     gpointer             filter_data,
                                     GDestroyNotify       filter_data_destroy,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task = g_task_new (backend, cancellable, callback, user_data);
  FetchData *fd = g_new0 (FetchData, 1);

  g_task_set_source_tag (task, rs_imap_backend_fetch_replies_async);

  fd->filter = filter;
  fd->filter_data = filter_data;
  fd->filter_data_destroy = filter_data_destroy;
  fd->have_old = cursor != NULL && rs_imap_cursor_parse (cursor, &fd->old);
  /* A cursor we cannot read (another backend's, a damaged one) is reset. */
  fd->reset = cursor != NULL && !fd->have_old;
  fd->chunk = g_array_new (FALSE, FALSE, sizeof (guint32));
  fd->accepted = g_array_new (FALSE, FALSE, sizeof (guint32));
  fd->results = g_ptr_array_new_with_free_func ((GDestroyNotify)rs_fetched_headers_free);
  g_task_set_task_data (task, fd, fetch_data_free);

  ensure_client (task, fetch_ready);
}

static GPtrArray *
rs_imap_backend_fetch_replies_finish (RsBackend     *backend,
                                      GAsyncResult  *result,
                                      char         **new_cursor,
                                      gboolean      *cursor_reset,
                                      GError       **error)
{
  FetchData *fd;

  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  fd = g_task_get_task_data (G_TASK (result));
  if (new_cursor != NULL)
    *new_cursor = rs_imap_cursor_format (&fd->now);
  if (cursor_reset != NULL)
    *cursor_reset = fd->reset;

  return g_ptr_array_ref (fd->results);
}

/* ----------------------------------------------------------------- wait */

static void wait_check (GTask *task);

static gboolean
wait_time_left (WaitData *wd,
                guint    *seconds)
{
  gint64 left = wd->deadline - g_get_monotonic_time ();

  if (left <= 0)
    return FALSE;

  *seconds = (guint)MAX (1, (left + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);

  return TRUE;
}

static void
wait_idle_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  gboolean new_mail = FALSE;
  GError *error = NULL;

  if (!rs_imap_client_idle_finish (RS_IMAP_CLIENT (object), result, &new_mail, &error))
    {
      backend_fail (task, error);
      return;
    }

  if (new_mail)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* The IDLE period ended: look (the backstop), then idle again. */
  wait_check (g_steal_pointer (&task));
}

typedef struct
{
  GSource *timeout;
  GSource *cancel;
} Sleep;

static void
wait_sleep_end (GTask *task)
{
  Sleep *sleep = g_object_steal_data (G_OBJECT (task), "sleep");

  g_source_destroy (sleep->timeout);
  g_source_unref (sleep->timeout);
  if (sleep->cancel != NULL)
    {
      g_source_destroy (sleep->cancel);
      g_source_unref (sleep->cancel);
    }
  g_free (sleep);
}

static gboolean
wait_poll_cb (gpointer user_data)
{
  GTask *task = user_data;

  wait_sleep_end (task);
  wait_check (task);

  return G_SOURCE_REMOVE;
}

static gboolean
wait_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  GTask *task = user_data;

  wait_sleep_end (task);
  g_task_return_error_if_cancelled (task);
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

/* Takes the task's reference. */
static void
wait_sleep (GTask *task,
            guint  seconds)
{
  Sleep *sleep = g_new0 (Sleep, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  sleep->timeout = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (sleep->timeout, wait_poll_cb, task, NULL);
  if (cancellable != NULL)
    {
      sleep->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (sleep->cancel, G_SOURCE_FUNC (wait_cancelled_cb), task, NULL);
    }
  g_object_set_data (G_OBJECT (task), "sleep", sleep);

  g_source_attach (sleep->timeout, g_main_context_get_thread_default ());
  if (sleep->cancel != NULL)
    g_source_attach (sleep->cancel, g_main_context_get_thread_default ());
}

static void
wait_examined_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapBackend *self = g_task_get_source_object (task);
  WaitData *wd = g_task_get_task_data (task);
  RsImapMailboxState now;
  GError *error = NULL;
  guint seconds;

  if (!rs_imap_client_examine_finish (RS_IMAP_CLIENT (object), result, &now, &error))
    {
      backend_fail (task, error);
      return;
    }

  /* Mail that came while no one was watching. */
  if (!wd->have_old || now.uidvalidity != wd->old.uidvalidity || now.uidnext > wd->old.uidnext)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (!wait_time_left (wd, &seconds))
    {
      g_task_return_boolean (task, FALSE);
      return;
    }

  if (self->use_idle && rs_imap_client_has_capability (self->client, "IDLE"))
    {
      rs_imap_client_idle_async (self->client, MIN (seconds, RS_IMAP_IDLE_MAX_SECONDS),
                                 g_task_get_cancellable (task), wait_idle_cb, g_object_ref (task));
      return;
    }

  wait_sleep (g_steal_pointer (&task), MIN (seconds, self->poll_interval));
}

static void
wait_ready (GTask *task)
{
  RsImapBackend *self = g_task_get_source_object (task);

  rs_imap_client_examine_async (self->client, MAILBOX, g_task_get_cancellable (task),
                                wait_examined_cb, task);
}

/* Takes the task's reference. */
static void
wait_check (GTask *task)
{
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  ensure_client (task, wait_ready);
}

static void
rs_imap_backend_wait_for_changes_async (RsBackend           *backend,
                                        const char          *cursor,
                                        guint                timeout_seconds,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task = g_task_new (backend, cancellable, callback, user_data);
  WaitData *wd = g_new0 (WaitData, 1);

  g_task_set_source_tag (task, rs_imap_backend_wait_for_changes_async);

  wd->have_old = cursor != NULL && rs_imap_cursor_parse (cursor, &wd->old);
  wd->deadline = g_get_monotonic_time () + (gint64)MAX (timeout_seconds, 1) * G_USEC_PER_SEC;
  g_task_set_task_data (task, wd, g_free);

  wait_check (task);
}

static gboolean
rs_imap_backend_wait_for_changes_finish (RsBackend     *backend,
                                         GAsyncResult  *result,
                                         gboolean      *changed,
                                         GError       **error)
{
  GError *local = NULL;
  gboolean value;

  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);

  value = g_task_propagate_boolean (G_TASK (result), &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }

  if (changed != NULL)
    *changed = value;

  return TRUE;
}

/* ---------------------------------------------------------------- close */

static void
close_logout_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapBackend *self = g_task_get_source_object (task);

  rs_imap_client_logout_finish (RS_IMAP_CLIENT (object), result, NULL);
  if (self->client == RS_IMAP_CLIENT (object))
    drop_client (self);
  g_task_return_boolean (task, TRUE);
}

static void
rs_imap_backend_close_async (RsBackend           *backend,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  RsImapBackend *self = RS_IMAP_BACKEND (backend);
  GTask *task = g_task_new (backend, cancellable, callback, user_data);

  g_task_set_source_tag (task, rs_imap_backend_close_async);

  if (self->client == NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  rs_imap_client_logout_async (self->client, cancellable, close_logout_cb, task);
}

static gboolean
rs_imap_backend_close_finish (RsBackend     *backend,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------ overrides */

static void
rs_imap_backend_iface_init (RsBackendInterface *iface)
{
  iface->check_async = rs_imap_backend_check_async;
  iface->check_finish = rs_imap_backend_check_finish;
  iface->send_async = rs_imap_backend_send_async;
  iface->send_finish = rs_imap_backend_send_finish;
  iface->fetch_replies_async = rs_imap_backend_fetch_replies_async;
  iface->fetch_replies_finish = rs_imap_backend_fetch_replies_finish;
  iface->wait_for_changes_async = rs_imap_backend_wait_for_changes_async;
  iface->wait_for_changes_finish = rs_imap_backend_wait_for_changes_finish;
  iface->close_async = rs_imap_backend_close_async;
  iface->close_finish = rs_imap_backend_close_finish;
}

static void
rs_imap_backend_dispose (GObject *object)
{
  RsImapBackend *self = (RsImapBackend *)object;

  drop_client (self);

  G_OBJECT_CLASS (rs_imap_backend_parent_class)->dispose (object);
}

static void
rs_imap_backend_finalize (GObject *object)
{
  RsImapBackend *self = (RsImapBackend *)object;

  g_clear_pointer (&self->imap, rs_server_settings_free);
  g_clear_pointer (&self->smtp, rs_server_settings_free);
  g_clear_pointer (&self->trust, rs_trust_free);
  g_clear_pointer (&self->imap_password, wipe_free);
  g_clear_pointer (&self->smtp_password, wipe_free);

  G_OBJECT_CLASS (rs_imap_backend_parent_class)->finalize (object);
}

static void
rs_imap_backend_class_init (RsImapBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_imap_backend_dispose;
  object_class->finalize = rs_imap_backend_finalize;
}

static void
rs_imap_backend_init (RsImapBackend *self)
{
  self->chunk_size = RS_IMAP_BACKEND_DEFAULT_CHUNK_SIZE;
  self->poll_interval = RS_IMAP_BACKEND_DEFAULT_POLL_SECONDS;
  self->timeout = RS_DEFAULT_TIMEOUT_SECONDS;
  self->use_idle = TRUE;
}

/* ----------------------------------------------------------- public API */

/**
 * rs_imap_backend_new:
 * @imap: the receiving server
 * @smtp: (nullable): the sending server, or %NULL when sending is not needed
 * @trust: (nullable): what the user trusts beyond the system's CAs
 * @imap_password: copied; wiped when the backend goes
 * @smtp_password: (nullable): copied; wiped when the backend goes
 *
 * Returns: (transfer full): a backend; nothing is connected yet
 */
RsImapBackend *
rs_imap_backend_new (const RsServerSettings *imap,
                     const RsServerSettings *smtp,
                     const RsTrust          *trust,
                     const char             *imap_password,
                     const char             *smtp_password)
{
  RsImapBackend *self;

  g_return_val_if_fail (imap != NULL, NULL);
  g_return_val_if_fail (imap_password != NULL, NULL);

  self = g_object_new (RS_TYPE_IMAP_BACKEND, NULL);
  self->imap = rs_server_settings_copy (imap);
  self->smtp = smtp != NULL ? rs_server_settings_copy (smtp) : NULL;
  self->trust = trust != NULL ? rs_trust_copy (trust) : NULL;
  self->imap_password = g_strdup (imap_password);
  self->smtp_password = g_strdup (smtp_password);

  return self;
}

/**
 * rs_imap_backend_set_chunk_size:
 * @chunk_size: the most UIDs per FETCH command, 1 to
 *   %RS_IMAP_MAX_UIDS_PER_COMMAND
 */
void
rs_imap_backend_set_chunk_size (RsImapBackend *self,
                                guint          chunk_size)
{
  g_return_if_fail (RS_IS_IMAP_BACKEND (self));
  g_return_if_fail (chunk_size > 0 && chunk_size <= RS_IMAP_MAX_UIDS_PER_COMMAND);

  self->chunk_size = chunk_size;
}

/**
 * rs_imap_backend_set_poll_interval:
 * @seconds: how often to look for new mail when IDLE is not offered
 */
void
rs_imap_backend_set_poll_interval (RsImapBackend *self,
                                   guint          seconds)
{
  g_return_if_fail (RS_IS_IMAP_BACKEND (self));
  g_return_if_fail (seconds > 0);

  self->poll_interval = seconds;
}

/**
 * rs_imap_backend_set_use_idle:
 *
 * Whether to wait with IDLE when the server offers it (the default), or
 * to poll.
 */
void
rs_imap_backend_set_use_idle (RsImapBackend *self,
                              gboolean       use_idle)
{
  g_return_if_fail (RS_IS_IMAP_BACKEND (self));

  self->use_idle = !!use_idle;
}

/**
 * rs_imap_backend_set_timeout:
 * @seconds: the longest wait for a server on any step
 */
void
rs_imap_backend_set_timeout (RsImapBackend *self,
                             guint          seconds)
{
  g_return_if_fail (RS_IS_IMAP_BACKEND (self));
  g_return_if_fail (seconds > 0);

  self->timeout = seconds;
  if (self->client != NULL)
    rs_imap_client_set_timeout (self->client, seconds);
}

/**
 * rs_imap_backend_get_last_fetch_stats:
 *
 * Returns: (transfer none): what the last successful fetch did
 */
const RsImapFetchStats *
rs_imap_backend_get_last_fetch_stats (RsImapBackend *self)
{
  g_return_val_if_fail (RS_IS_IMAP_BACKEND (self), NULL);

  return &self->stats;
}

/**
 * rs_imap_backend_get_client:
 *
 * Returns: (transfer none) (nullable): the IMAP connection in use
 */
RsImapClient *
rs_imap_backend_get_client (RsImapBackend *self)
{
  g_return_val_if_fail (RS_IS_IMAP_BACKEND (self), NULL);

  return self->client;
}

/**
 * rs_imap_cursor_format:
 *
 * Returns: (transfer full): "imap1:UIDVALIDITY:UIDNEXT:HIGHESTMODSEQ"
 */
char *
rs_imap_cursor_format (const RsImapMailboxState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  return g_strdup_printf ("imap1:%u:%u:%" G_GUINT64_FORMAT,
                          state->uidvalidity, state->uidnext, state->highestmodseq);
}

/**
 * rs_imap_cursor_parse:
 * @state: (out): UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ (exists is 0)
 *
 * Returns: whether @cursor is an IMAP cursor of this version
 */
gboolean
rs_imap_cursor_parse (const char         *cursor,
                      RsImapMailboxState *state)
{
  g_auto(GStrv) parts = NULL;
  guint64 values[3];

  g_return_val_if_fail (cursor != NULL, FALSE);
  g_return_val_if_fail (state != NULL, FALSE);

  parts = g_strsplit (cursor, ":", -1);
  if (g_strv_length (parts) != 4 || g_strcmp0 (parts[0], "imap1") != 0)
    return FALSE;

  for (guint i = 0; i < 3; i++)
    if (!g_ascii_string_to_unsigned (parts[i + 1], 10, 0, i < 2 ? G_MAXUINT32 : G_MAXUINT64,
                                     &values[i], NULL))
      return FALSE;

  if (values[0] == 0)
    return FALSE;

  memset (state, 0, sizeof *state);
  state->uidvalidity = (guint32)values[0];
  state->uidnext = (guint32)values[1];
  state->highestmodseq = values[2];

  return TRUE;
}
