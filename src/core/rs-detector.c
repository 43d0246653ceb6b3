/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-detector"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detector.h"
#include "rs-utils.h"
#include "rs-validate.h"

/* RsDetector: settings detection from an address alone.
 *
 * Every source (RsDetectSource) starts at once; their order in the list
 * is their rank, most trusted first: the bundled provider table,
 * autoconfig on the domain, its .well-known twin, the ISPDB, DNS SRV, MX,
 * and guessing.  The rule that decides the run:
 *
 *  - The best-ranked source that found something wins, as soon as every
 *    better-ranked source has settled (found nothing, or failed) or has
 *    used up its probe bound.  The rest are cancelled then.
 *  - A lower-ranked answer that arrives early is held, not thrown away:
 *    it goes out the moment the better ones settle or expire, and it is
 *    kept in the result behind the winner.
 *  - An answer that needs the user's consent (it came over plain HTTP,
 *    names a server without encryption, or a certificate the probe
 *    refused) ranks below every answer that does not.
 *  - Nothing is waited for beyond the total bound; with nothing found,
 *    the run ends as soon as every source has settled.
 *
 * "source-changed" tells the UI how each source is doing, on the main
 * context the run was started from.  Cancelling the run ends it with
 * G_IO_ERROR_CANCELLED and no further signals. */

struct _RsDetector
{
  GObject      parent_instance;

  GPtrArray   *sources;      /* of RsDetectSource, in rank order */
  guint        probe_ms;
  guint        total_ms;
  SoupSession *session;
  guint        session_seconds;
};

typedef struct _Run Run;

typedef struct
{
  Run             *run;
  RsDetectSource  *source;
  guint            rank;
  RsDetectOutcome  outcome;
  GPtrArray       *candidates;
  char            *detail;
  gboolean         expired;
  gboolean         needs_consent;
  GCancellable    *cancellable;
} Slot;

struct _Run
{
  RsDetector      *self;
  GTask           *task;           /* not a reference: the task owns the run */
  GPtrArray       *slots;
  RsDetectRequest *request;
  GMainContext    *context;
  GSource         *probe_timer;
  GSource         *total_timer;
  GSource         *cancel_idle;
  GCancellable    *cancellable;    /* the caller's */
  gulong           cancelled_id;
  gboolean         done;
};

typedef struct
{
  GTask *task;
  guint  index;
} SlotCall;

G_DEFINE_FINAL_TYPE (RsDetector, rs_detector, G_TYPE_OBJECT)

enum {
  SOURCE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
slot_free (Slot *slot)
{
  g_clear_pointer (&slot->candidates, g_ptr_array_unref);
  g_clear_object (&slot->source);
  g_clear_object (&slot->cancellable);
  g_free (slot->detail);
  g_free (slot);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
run_free (Run *run)
{
  destroy_source (&run->probe_timer);
  destroy_source (&run->total_timer);
  destroy_source (&run->cancel_idle);
  if (run->cancellable != NULL && run->cancelled_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancelled_id);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->slots, g_ptr_array_unref);
  g_clear_pointer (&run->request, rs_detect_request_free);
  g_clear_pointer (&run->context, g_main_context_unref);
  g_clear_object (&run->self);
  g_free (run);
}

static void
emit_changed (Run  *run,
              Slot *slot)
{
  g_signal_emit (run->self, signals[SOURCE_CHANGED], 0,
                 rs_detect_source_get_name (slot->source), slot->outcome, slot->detail);
}

static guint
slot_key (Run  *run,
          Slot *slot)
{
  return slot->needs_consent ? run->slots->len + slot->rank : slot->rank;
}

static gboolean
candidate_needs_consent (const RsDetectCandidate *candidate)
{
  return candidate->insecure || candidate->imap_certificate != NULL || candidate->smtp_certificate != NULL;
}

static int
compare_slots (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  Run *run = user_data;
  Slot *sa = *(Slot **) a;
  Slot *sb = *(Slot **) b;

  return (int) slot_key (run, sa) - (int) slot_key (run, sb);
}

static void
run_stop (Run *run)
{
  run->done = TRUE;
  destroy_source (&run->probe_timer);
  destroy_source (&run->total_timer);
  destroy_source (&run->cancel_idle);
}

/* Ends the run with what is known now; @winner is NULL when the total
 * bound ran out or nothing was found. */
static void
run_complete (Run  *run,
              Slot *winner)
{
  g_autoptr(RsDetectResult) result = rs_detect_result_new ();
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_autoptr(GTask) task = g_object_ref (run->task);
  guint winner_key = winner ? slot_key (run, winner) : G_MAXUINT;

  run_stop (run);

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);

      if (slot->outcome == RS_DETECT_OUTCOME_CHECKING)
        {
          g_cancellable_cancel (slot->cancellable);

          if (winner == NULL)
            {
              slot->outcome = RS_DETECT_OUTCOME_FAILED;
              g_free (slot->detail);
              slot->detail = g_strdup_printf (_("No answer within %.1f s"), run->self->total_ms / 1000.);
            }
          else if (slot->rank < winner_key)
            {
              slot->outcome = RS_DETECT_OUTCOME_FAILED;
              g_free (slot->detail);
              slot->detail = g_strdup_printf (_("No answer within %.1f s"), run->self->probe_ms / 1000.);
            }
          else
            {
              slot->outcome = RS_DETECT_OUTCOME_CANCELLED;
              g_free (slot->detail);
              slot->detail = g_strdup_printf (_("Not needed: “%s” answered"),
                                              rs_detect_source_get_name (winner->source));
            }

          emit_changed (run, slot);
        }

      if (slot->outcome == RS_DETECT_OUTCOME_FOUND)
        g_ptr_array_add (found, slot);
    }

  /* Best first; equals keep their rank order. */
  g_ptr_array_sort_with_data (found, compare_slots, run);
  for (guint i = 0; i < found->len; i++)
    {
      Slot *slot = g_ptr_array_index (found, i);

      for (guint j = 0; j < slot->candidates->len; j++)
        g_ptr_array_add (result->candidates, rs_detect_candidate_copy (g_ptr_array_index (slot->candidates, j)));
    }

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);
      RsDetectSourceReport *report = g_new0 (RsDetectSourceReport, 1);

      report->source = g_strdup (rs_detect_source_get_name (slot->source));
      report->outcome = slot->outcome;
      report->detail = g_strdup (slot->detail);
      g_ptr_array_add (result->sources, report);
    }

  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) rs_detect_result_free);
}

/* The ranking rule (see the top of this file). */
static void
run_decide (Run *run)
{
  Slot *best = NULL;
  gboolean any_pending = FALSE;

  if (run->done)
    return;

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);

      if (slot->outcome == RS_DETECT_OUTCOME_CHECKING)
        any_pending = TRUE;
      else if (slot->outcome == RS_DETECT_OUTCOME_FOUND &&
               (best == NULL || slot_key (run, slot) < slot_key (run, best)))
        best = slot;
    }

  if (best == NULL)
    {
      if (!any_pending)
        run_complete (run, NULL);
      return;
    }

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);

      /* A better source may still answer within its bound: hold. */
      if (slot->outcome == RS_DETECT_OUTCOME_CHECKING && slot->rank < slot_key (run, best) && !slot->expired)
        return;
    }

  run_complete (run, best);
}

static void
slot_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SlotCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  Run *run = g_task_get_task_data (task);
  Slot *slot = g_ptr_array_index (run->slots, call->index);
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *detail = NULL;

  g_free (call);

  candidates = rs_detect_source_run_finish (RS_DETECT_SOURCE (object), result, &detail, &error);

  if (run->done || slot->outcome != RS_DETECT_OUTCOME_CHECKING)
    return;

  if (candidates == NULL)
    {
      slot->outcome = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                      ? RS_DETECT_OUTCOME_CANCELLED : RS_DETECT_OUTCOME_FAILED;
      slot->detail = g_strdup (error ? error->message : _("The source failed without saying why"));
    }
  else if (candidates->len == 0)
    {
      slot->outcome = RS_DETECT_OUTCOME_NOT_FOUND;
      slot->detail = g_steal_pointer (&detail);
    }
  else
    {
      slot->outcome = RS_DETECT_OUTCOME_FOUND;
      slot->detail = g_steal_pointer (&detail);
      slot->needs_consent = TRUE;
      for (guint i = 0; i < candidates->len; i++)
        if (!candidate_needs_consent (g_ptr_array_index (candidates, i)))
          slot->needs_consent = FALSE;
      slot->candidates = g_steal_pointer (&candidates);
    }

  emit_changed (run, slot);
  run_decide (run);
}

static gboolean
probe_timer_cb (gpointer user_data)
{
  Run *run = user_data;

  g_clear_pointer (&run->probe_timer, g_source_unref);

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);

      if (slot->outcome == RS_DETECT_OUTCOME_CHECKING)
        slot->expired = TRUE;
    }

  run_decide (run);

  return G_SOURCE_REMOVE;
}

static gboolean
total_timer_cb (gpointer user_data)
{
  Run *run = user_data;
  Slot *best = NULL;

  g_clear_pointer (&run->total_timer, g_source_unref);

  for (guint i = 0; i < run->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);

      if (slot->outcome == RS_DETECT_OUTCOME_FOUND &&
          (best == NULL || slot_key (run, slot) < slot_key (run, best)))
        best = slot;
    }

  run_complete (run, best);

  return G_SOURCE_REMOVE;
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(GTask) task = g_object_ref (run->task);

  g_clear_pointer (&run->cancel_idle, g_source_unref);
  if (run->done)
    return G_SOURCE_REMOVE;

  run_stop (run);
  for (guint i = 0; i < run->slots->len; i++)
    g_cancellable_cancel (((Slot *) g_ptr_array_index (run->slots, i))->cancellable);

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Detection was cancelled"));

  return G_SOURCE_REMOVE;
}

/* May run in any thread: the work happens on the run's own context. */
static void
run_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  Run *run = user_data;
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, cancel_idle_cb, run, NULL);
  g_source_attach (idle, run->context);
  /* Replaced only from here, once. */
  if (run->cancel_idle == NULL)
    run->cancel_idle = idle;
  else
    {
      g_source_destroy (idle);
      g_source_unref (idle);
    }
}

static GSource *
attach_timer (Run         *run,
              guint        ms,
              GSourceFunc  func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, run, NULL);
  g_source_attach (source, run->context);

  return source;
}

static SoupSession *
get_session (RsDetector *self,
             guint       seconds)
{
  if (self->session == NULL || self->session_seconds != seconds)
    {
      g_clear_object (&self->session);
      self->session = soup_session_new_with_options ("timeout", seconds,
                                                     "idle-timeout", seconds,
                                                     "max-conns-per-host", 4,
                                                     NULL);
      self->session_seconds = seconds;
    }

  return self->session;
}

static void
rs_detector_dispose (GObject *object)
{
  RsDetector *self = (RsDetector *)object;

  g_clear_object (&self->session);

  G_OBJECT_CLASS (rs_detector_parent_class)->dispose (object);
}

static void
rs_detector_finalize (GObject *object)
{
  RsDetector *self = (RsDetector *)object;

  g_clear_pointer (&self->sources, g_ptr_array_unref);

  G_OBJECT_CLASS (rs_detector_parent_class)->finalize (object);
}

static void
rs_detector_class_init (RsDetectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_detector_dispose;
  object_class->finalize = rs_detector_finalize;

  /**
   * RsDetector::source-changed:
   * @source: the source's name ("providers", "autoconfig", …)
   * @outcome: an #RsDetectOutcome, RS_DETECT_OUTCOME_CHECKING at the start
   * @detail: (nullable): what it found or why it did not
   */
  signals[SOURCE_CHANGED] =
    g_signal_new ("source-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  RS_TYPE_DETECT_OUTCOME,
                  G_TYPE_STRING);
}

static void
rs_detector_init (RsDetector *self)
{
  self->probe_ms = RS_DETECT_DEFAULT_PROBE_SECONDS * 1000;
  self->total_ms = RS_DETECT_DEFAULT_TOTAL_SECONDS * 1000;
}

/**
 * rs_detector_new:
 *
 * A detector with every built-in source, in rank order.
 */
RsDetector *
rs_detector_new (void)
{
  g_autoptr(GPtrArray) sources = rs_detect_source_new_builtins ();

  return rs_detector_new_with_sources (sources);
}

/**
 * rs_detector_new_with_sources:
 * @sources: (element-type RsDetectSource): best-ranked first
 *
 * A detector over @sources (for tests and benchmarks, which script them).
 */
RsDetector *
rs_detector_new_with_sources (GPtrArray *sources)
{
  RsDetector *self;

  g_return_val_if_fail (sources != NULL, NULL);

  self = g_object_new (RS_TYPE_DETECTOR, NULL);
  self->sources = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < sources->len; i++)
    {
      g_return_val_if_fail (RS_IS_DETECT_SOURCE (g_ptr_array_index (sources, i)), self);
      g_ptr_array_add (self->sources, g_object_ref (g_ptr_array_index (sources, i)));
    }

  return self;
}

/**
 * rs_detector_get_sources:
 *
 * Returns: (transfer none) (element-type RsDetectSource): in rank order
 */
GPtrArray *
rs_detector_get_sources (RsDetector *self)
{
  g_return_val_if_fail (RS_IS_DETECTOR (self), NULL);

  return self->sources;
}

/**
 * rs_detector_set_timeouts:
 * @probe_seconds: the bound on each request or probe, and on how long a
 *   better-ranked source may hold back an answer (default 3)
 * @total_seconds: the bound on the whole run (default 8)
 */
void
rs_detector_set_timeouts (RsDetector *self,
                          guint       probe_seconds,
                          guint       total_seconds)
{
  g_return_if_fail (RS_IS_DETECTOR (self));
  g_return_if_fail (probe_seconds > 0 && total_seconds > 0);

  rs_detector_set_timeouts_ms (self, probe_seconds * 1000, total_seconds * 1000);
}

/* The same in milliseconds, for tests and benchmarks. */
void
rs_detector_set_timeouts_ms (RsDetector *self,
                             guint       probe_ms,
                             guint       total_ms)
{
  g_return_if_fail (RS_IS_DETECTOR (self));
  g_return_if_fail (probe_ms > 0 && total_ms > 0);

  self->probe_ms = probe_ms;
  self->total_ms = total_ms;
}

void
rs_detector_run_async (RsDetector          *self,
                       const char          *address,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  Run *run;
  guint probe_seconds;

  g_return_if_fail (RS_IS_DETECTOR (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_detector_run_async);
  g_task_set_check_cancellable (task, FALSE);

  if (!rs_validate_address (address, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  probe_seconds = MAX (1, (self->probe_ms + 999) / 1000);

  run = g_new0 (Run, 1);
  run->self = g_object_ref (self);
  run->task = task;
  run->context = g_main_context_ref_thread_default ();
  run->request = rs_detect_request_new (address, probe_seconds);
  run->request->session = g_object_ref (get_session (self, probe_seconds));
  run->request->resolver = g_resolver_get_default ();
  run->request->providers = rs_providers_get_default ();
  run->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_free);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  for (guint i = 0; i < self->sources->len; i++)
    {
      Slot *slot = g_new0 (Slot, 1);

      slot->run = run;
      slot->source = g_object_ref (g_ptr_array_index (self->sources, i));
      slot->rank = i;
      slot->outcome = RS_DETECT_OUTCOME_CHECKING;
      slot->cancellable = g_cancellable_new ();
      g_ptr_array_add (run->slots, slot);
    }

  run->probe_timer = attach_timer (run, self->probe_ms, probe_timer_cb);
  run->total_timer = attach_timer (run, self->total_ms, total_timer_cb);

  if (cancellable != NULL)
    {
      run->cancellable = g_object_ref (cancellable);
      run->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (run_cancelled_cb), run, NULL);
    }

  for (guint i = 0; i < run->slots->len; i++)
    emit_changed (run, g_ptr_array_index (run->slots, i));

  for (guint i = 0; i < run->slots->len && !run->done; i++)
    {
      Slot *slot = g_ptr_array_index (run->slots, i);
      SlotCall *call = g_new0 (SlotCall, 1);

      call->task = g_object_ref (task);
      call->index = i;
      rs_detect_source_run_async (slot->source, run->request, slot->cancellable, slot_done_cb, call);
    }

  /* No sources at all: nothing to wait for. */
  if (run->slots->len == 0)
    run_decide (run);
}

/**
 * rs_detector_run_finish:
 *
 * Returns: (transfer full): the ranked candidates (possibly none) and
 *   what each source did; NULL with RS_ERROR_INPUT for an address that is
 *   not one, or G_IO_ERROR_CANCELLED.
 */
RsDetectResult *
rs_detector_run_finish (RsDetector    *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (RS_IS_DETECTOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
