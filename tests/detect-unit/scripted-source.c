/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "scripted-source"

#include "config.h"

#include <glib/gi18n.h>

#include "scripted-source.h"

struct _ScriptedSource
{
  GObject       parent_instance;
  char         *name;
  ScriptAction  action;
  guint         delay_ms;
  gboolean      started;
  gboolean      cancelled;
};

static void scripted_source_iface_init (RsDetectSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ScriptedSource, scripted_source, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RS_TYPE_DETECT_SOURCE, scripted_source_iface_init))

typedef struct
{
  GTask  *task;
  guint   timeout_id;
  gulong  cancelled_id;
} Pending;

static void
pending_finish (Pending *pending)
{
  GCancellable *cancellable = g_task_get_cancellable (pending->task);

  g_clear_handle_id (&pending->timeout_id, g_source_remove);
  if (cancellable != NULL && pending->cancelled_id != 0)
    g_signal_handler_disconnect (cancellable, pending->cancelled_id);
  g_clear_object (&pending->task);
  g_free (pending);
}

static gboolean
answer_cb (gpointer user_data)
{
  Pending *pending = user_data;
  ScriptedSource *self = g_task_get_source_object (pending->task);
  GTask *task = g_object_ref (pending->task);
  GPtrArray *candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_detect_candidate_free);

  pending->timeout_id = 0;

  switch (self->action)
    {
    case SCRIPT_FOUND:
    case SCRIPT_FOUND_INSECURE:
      {
        RsDetectCandidate *candidate = rs_detect_candidate_new (self->name);

        candidate->imap = rs_server_settings_new (self->name, 993, RS_SECURITY_TLS, "user@example.com");
        candidate->smtp = rs_server_settings_new (self->name, 465, RS_SECURITY_TLS, "user@example.com");
        candidate->insecure = self->action == SCRIPT_FOUND_INSECURE;
        g_ptr_array_add (candidates, candidate);
        g_task_return_pointer (task, candidates, (GDestroyNotify) g_ptr_array_unref);
      }
      break;
    case SCRIPT_NOT_FOUND:
      g_task_return_pointer (task, candidates, (GDestroyNotify) g_ptr_array_unref);
      break;
    case SCRIPT_FAIL:
      g_ptr_array_unref (candidates);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "scripted failure");
      break;
    case SCRIPT_HANG:
    default:
      g_assert_not_reached ();
    }

  pending_finish (pending);
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_idle_cb (gpointer user_data)
{
  Pending *pending = user_data;
  ScriptedSource *self = g_task_get_source_object (pending->task);

  self->cancelled = TRUE;
  g_task_return_new_error (pending->task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  pending_finish (pending);

  return G_SOURCE_REMOVE;
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  Pending *pending = user_data;

  g_clear_handle_id (&pending->timeout_id, g_source_remove);
  g_idle_add (cancelled_idle_cb, pending);
}

static const char *
scripted_source_get_name (RsDetectSource *source)
{
  return SCRIPTED_SOURCE (source)->name;
}

static void
scripted_source_run_async (RsDetectSource        *source,
                           const RsDetectRequest *request,
                           GCancellable          *cancellable,
                           GAsyncReadyCallback    callback,
                           gpointer               user_data)
{
  ScriptedSource *self = SCRIPTED_SOURCE (source);
  Pending *pending = g_new0 (Pending, 1);

  self->started = TRUE;
  pending->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_check_cancellable (pending->task, FALSE);

  if (self->action != SCRIPT_HANG)
    pending->timeout_id = g_timeout_add (self->delay_ms, answer_cb, pending);
  if (cancellable != NULL)
    pending->cancelled_id = g_signal_connect (cancellable, "cancelled", G_CALLBACK (cancelled_cb), pending);
}

static GPtrArray *
scripted_source_run_finish (RsDetectSource  *source,
                            GAsyncResult    *result,
                            char           **detail,
                            GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
scripted_source_iface_init (RsDetectSourceInterface *iface)
{
  iface->get_name = scripted_source_get_name;
  iface->run_async = scripted_source_run_async;
  iface->run_finish = scripted_source_run_finish;
}

static void
scripted_source_finalize (GObject *object)
{
  g_free (SCRIPTED_SOURCE (object)->name);

  G_OBJECT_CLASS (scripted_source_parent_class)->finalize (object);
}

static void
scripted_source_class_init (ScriptedSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = scripted_source_finalize;
}

static void
scripted_source_init (ScriptedSource *self)
{
}

ScriptedSource *
scripted_source_new (const char   *name,
                     ScriptAction  action,
                     guint         delay_ms)
{
  ScriptedSource *self = g_object_new (TYPE_SCRIPTED_SOURCE, NULL);

  self->name = g_strdup (name);
  self->action = action;
  self->delay_ms = delay_ms;

  return self;
}

gboolean
scripted_source_was_cancelled (ScriptedSource *self)
{
  return self->cancelled;
}

gboolean
scripted_source_was_started (ScriptedSource *self)
{
  return self->started;
}
