/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-detect-scheduler"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detector.h"
#include "scripted-source.h"

/* The ranking rule, driven by scripted sources: which answer wins, when
 * it comes out, and what happens to the others.  Timing windows are
 * generous at the top (a loaded machine is slow), strict at the bottom
 * (an answer must never come out before the rule allows). */

#define PROBE_MS 300
#define TOTAL_MS 900
#define SLACK_MS 250

typedef struct
{
  ScriptAction action;
  guint        delay_ms;
} Step;

typedef struct
{
  const char      *name;
  Step             steps[4];
  guint            n_steps;
  const char      *candidates;     /* source names, best first, "," separated; "" = none */
  guint            min_ms;
  guint            max_ms;
  RsDetectOutcome  outcomes[4];
} Case;

static const char * const names[] = { "a", "b", "c", "d" };

static const Case cases[] = {
  { "best-first-out-at-once", { { SCRIPT_FOUND, 20 }, { SCRIPT_HANG, 0 }, { SCRIPT_HANG, 0 } }, 3,
    "a", 20, 20 + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_CANCELLED, RS_DETECT_OUTCOME_CANCELLED } },
  { "lower-early-is-held-then-kept", { { SCRIPT_FOUND, 200 }, { SCRIPT_FOUND, 10 }, { SCRIPT_HANG, 0 } }, 3,
    "a,b", 200, 200 + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_CANCELLED } },
  { "lower-early-out-when-better-fails", { { SCRIPT_FAIL, 120 }, { SCRIPT_FOUND, 10 }, { SCRIPT_HANG, 0 } }, 3,
    "b", 120, 120 + 100,
    { RS_DETECT_OUTCOME_FAILED, RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_CANCELLED } },
  { "lower-early-out-when-better-finds-nothing", { { SCRIPT_NOT_FOUND, 80 }, { SCRIPT_NOT_FOUND, 150 }, { SCRIPT_FOUND, 10 } }, 3,
    "c", 150, 150 + 100,
    { RS_DETECT_OUTCOME_NOT_FOUND, RS_DETECT_OUTCOME_NOT_FOUND, RS_DETECT_OUTCOME_FOUND } },
  { "better-hangs-bounded-by-probe", { { SCRIPT_HANG, 0 }, { SCRIPT_FOUND, 10 }, { SCRIPT_HANG, 0 } }, 3,
    "b", PROBE_MS, PROBE_MS + 100,
    { RS_DETECT_OUTCOME_FAILED, RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_CANCELLED } },
  { "better-answers-late-but-in-bound", { { SCRIPT_FOUND, 250 }, { SCRIPT_FOUND, 10 } }, 2,
    "a,b", 250, 250 + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_FOUND } },
  { "nothing-settles-early", { { SCRIPT_NOT_FOUND, 10 }, { SCRIPT_FAIL, 40 }, { SCRIPT_NOT_FOUND, 60 } }, 3,
    "", 60, 60 + 100,
    { RS_DETECT_OUTCOME_NOT_FOUND, RS_DETECT_OUTCOME_FAILED, RS_DETECT_OUTCOME_NOT_FOUND } },
  { "nothing-and-a-hang-ends-at-total", { { SCRIPT_NOT_FOUND, 10 }, { SCRIPT_HANG, 0 } }, 2,
    "", TOTAL_MS, TOTAL_MS + 100,
    { RS_DETECT_OUTCOME_NOT_FOUND, RS_DETECT_OUTCOME_FAILED } },
  { "insecure-ranks-below-secure", { { SCRIPT_FOUND_INSECURE, 10 }, { SCRIPT_FOUND, 60 }, { SCRIPT_HANG, 0 } }, 3,
    "b,a", 60, 60 + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_CANCELLED } },
  { "insecure-only-waits-for-the-rest", { { SCRIPT_FOUND_INSECURE, 10 }, { SCRIPT_NOT_FOUND, 100 } }, 2,
    "a", 100, 100 + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_NOT_FOUND } },
  { "insecure-only-bounded-by-probe", { { SCRIPT_FOUND_INSECURE, 10 }, { SCRIPT_HANG, 0 } }, 2,
    "a", PROBE_MS, PROBE_MS + 100,
    { RS_DETECT_OUTCOME_FOUND, RS_DETECT_OUTCOME_FAILED } },
};

typedef struct
{
  GMainLoop      *loop;
  GAsyncResult   *result;
  GHashTable     *last_outcome;  /* name → outcome */
  guint           n_checking;
  guint           n_settled;
  GThread        *thread;
} Waiter;

static void
changed_cb (RsDetector      *detector,
            const char      *source,
            RsDetectOutcome  outcome,
            const char      *detail,
            gpointer         user_data)
{
  Waiter *waiter = user_data;

  /* Signals come on the caller's main context. */
  g_assert_true (g_thread_self () == waiter->thread);

  if (outcome == RS_DETECT_OUTCOME_CHECKING)
    waiter->n_checking++;
  else
    {
      /* One final outcome per source, never two. */
      g_assert_false (g_hash_table_contains (waiter->last_outcome, source));
      waiter->n_settled++;
    }

  if (outcome != RS_DETECT_OUTCOME_CHECKING)
    g_hash_table_insert (waiter->last_outcome, g_strdup (source), GINT_TO_POINTER (outcome));
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
  g_main_loop_quit (waiter->loop);
}

/* Lets cancelled sources report back before the checks. */
static void
drain (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RsDetector) detector = NULL;
  g_autoptr(RsDetectResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) order = g_string_new (NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Waiter waiter = { loop, NULL, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), 0, 0, g_thread_self () };
  gint64 start, elapsed_ms;

  for (guint i = 0; i < c->n_steps; i++)
    g_ptr_array_add (sources, scripted_source_new (names[i], c->steps[i].action, c->steps[i].delay_ms));

  detector = rs_detector_new_with_sources (sources);
  rs_detector_set_timeouts_ms (detector, PROBE_MS, TOTAL_MS);
  g_signal_connect (detector, "source-changed", G_CALLBACK (changed_cb), &waiter);

  start = g_get_monotonic_time ();
  rs_detector_run_async (detector, "user@example.com", NULL, done_cb, &waiter);
  g_main_loop_run (loop);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  result = rs_detector_run_finish (detector, waiter.result, &error);
  g_assert_no_error (error);
  g_clear_object (&waiter.result);

  g_test_message ("%s: out after %" G_GINT64_FORMAT " ms (allowed %u to %u)", c->name, elapsed_ms,
                  c->min_ms, c->max_ms + SLACK_MS);
  g_assert_cmpint (elapsed_ms, >=, c->min_ms);
  g_assert_cmpint (elapsed_ms, <=, c->max_ms + SLACK_MS);

  for (guint i = 0; i < result->candidates->len; i++)
    {
      RsDetectCandidate *candidate = g_ptr_array_index (result->candidates, i);

      g_string_append_printf (order, "%s%s", i ? "," : "", candidate->source);
      /* Port and security travel with the answer. */
      g_assert_cmpuint (candidate->imap->port, ==, 993);
      g_assert_cmpint (candidate->imap->security, ==, RS_SECURITY_TLS);
    }
  g_assert_cmpstr (order->str, ==, c->candidates);

  g_assert_cmpuint (result->sources->len, ==, c->n_steps);
  g_assert_cmpuint (waiter.n_checking, ==, c->n_steps);
  g_assert_cmpuint (waiter.n_settled, ==, c->n_steps);

  drain (50);

  for (guint i = 0; i < c->n_steps; i++)
    {
      RsDetectSourceReport *report = g_ptr_array_index (result->sources, i);
      ScriptedSource *source = g_ptr_array_index (sources, i);

      g_assert_cmpstr (report->source, ==, names[i]);
      g_assert_cmpstr (rs_detect_outcome_to_string (report->outcome), ==,
                       rs_detect_outcome_to_string (c->outcomes[i]));
      g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (waiter.last_outcome, names[i])), ==, c->outcomes[i]);
      g_assert_true (scripted_source_was_started (source));

      /* Every source still running when the run ended was told to stop. */
      if (c->steps[i].action == SCRIPT_HANG)
        g_assert_true (scripted_source_was_cancelled (source));
      if (report->outcome == RS_DETECT_OUTCOME_CANCELLED || report->outcome == RS_DETECT_OUTCOME_FAILED)
        g_assert_nonnull (report->detail);
    }

  g_hash_table_unref (waiter.last_outcome);
}

static void
test_caller_cancels (void)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RsDetector) detector = NULL;
  g_autoptr(RsDetectResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Waiter waiter = { loop, NULL, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), 0, 0, g_thread_self () };
  gint64 start, elapsed_ms;

  g_ptr_array_add (sources, scripted_source_new ("a", SCRIPT_HANG, 0));
  g_ptr_array_add (sources, scripted_source_new ("b", SCRIPT_FOUND, 10));
  g_ptr_array_add (sources, scripted_source_new ("c", SCRIPT_HANG, 0));
  detector = rs_detector_new_with_sources (sources);
  rs_detector_set_timeouts_ms (detector, PROBE_MS, TOTAL_MS);
  g_signal_connect (detector, "source-changed", G_CALLBACK (changed_cb), &waiter);

  start = g_get_monotonic_time ();
  rs_detector_run_async (detector, "user@example.com", cancellable, done_cb, &waiter);
  g_timeout_add_once (50, (GSourceOnceFunc) g_cancellable_cancel, cancellable);
  g_main_loop_run (loop);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  result = rs_detector_run_finish (detector, waiter.result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (result);
  g_assert_cmpint (elapsed_ms, <, 50 + SLACK_MS);
  g_clear_object (&waiter.result);

  drain (50);
  g_assert_true (scripted_source_was_cancelled (g_ptr_array_index (sources, 0)));
  g_assert_true (scripted_source_was_cancelled (g_ptr_array_index (sources, 2)));
  /* b answered, but a cancelled run reports nothing more after "found". */
  g_assert_cmpuint (waiter.n_settled, ==, 1);

  g_hash_table_unref (waiter.last_outcome);
}

static void
test_invalid_address (void)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RsDetector) detector = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Waiter waiter = { loop, NULL, NULL, 0, 0, g_thread_self () };
  ScriptedSource *source = scripted_source_new ("a", SCRIPT_FOUND, 0);

  g_ptr_array_add (sources, source);
  detector = rs_detector_new_with_sources (sources);
  rs_detector_run_async (detector, "not an address", NULL, done_cb, &waiter);
  g_main_loop_run (loop);

  g_assert_null (rs_detector_run_finish (detector, waiter.result, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
  g_assert_false (scripted_source_was_started (source));
  g_clear_object (&waiter.result);
}

static void
test_builtin_names (void)
{
  static const char * const expected[] = { "providers", "autoconfig", "autoconfig-wellknown",
                                           "ispdb", "srv", "mx", "guess" };
  g_autoptr(RsDetector) detector = rs_detector_new ();
  GPtrArray *sources = rs_detector_get_sources (detector);

  g_assert_cmpuint (sources->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < sources->len; i++)
    g_assert_cmpstr (rs_detect_source_get_name (g_ptr_array_index (sources, i)), ==, expected[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/detect/scheduler/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/detect/scheduler/caller-cancels", test_caller_cancels);
  g_test_add_func ("/detect/scheduler/invalid-address", test_invalid_address);
  g_test_add_func ("/detect/scheduler/builtin-sources-in-rank-order", test_builtin_names);

  return g_test_run ();
}
