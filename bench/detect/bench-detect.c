/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-detect"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detector.h"
#include "scripted-source.h"

/* Detection time against the fastest-source floor, in one run.
 *
 * Each scenario runs RsDetector (the real scheduler) over scripted
 * sources: the winning source answers after T ms; the floor is T itself,
 * measured as what a lone source answering at T takes through the same
 * scheduler.  The ratio is detection time / floor.  The last scenario
 * uses the real built-in sources for a bundled-table address, against the
 * table alone. */

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

static double
run_once (RsDetector *detector,
          const char *address,
          guint      *n_candidates)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(RsDetectResult) result = NULL;
  Waiter waiter = { loop, NULL };
  gint64 start = g_get_monotonic_time ();
  double ms;

  rs_detector_run_async (detector, address, NULL, done_cb, &waiter);
  g_main_loop_run (loop);
  ms = (g_get_monotonic_time () - start) / 1000.0;

  result = rs_detector_run_finish (detector, waiter.result, NULL);
  g_clear_object (&waiter.result);
  *n_candidates = result ? result->candidates->len : 0;

  /* Let cancelled sources wind down before the next run. */
  for (gint64 end = g_get_monotonic_time () + 20000; g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, FALSE);

  return ms;
}

static double
scripted (const ScriptAction *actions,
          const guint        *delays,
          guint               n,
          guint              *n_candidates)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(RsDetector) detector = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i);

      g_ptr_array_add (sources, scripted_source_new (name, actions[i], delays[i]));
    }

  detector = rs_detector_new_with_sources (sources);
  return run_once (detector, "user@example.com", n_candidates);
}

static void
report (const char *scenario,
        double      floor_ms,
        double      ms,
        double      target_ms,
        guint       n_candidates)
{
  g_print ("%-44s floor %8.1f ms  detection %8.1f ms  ratio %5.2f  over floor %+7.1f ms  target <= %.0f ms  %s  (%u candidates)\n",
           scenario, floor_ms, ms, ms / floor_ms, ms - floor_ms, target_ms,
           ms <= target_ms ? "met" : "MISSED", n_candidates);
}

int
main (int   argc,
      char *argv[])
{
  static const guint answer_times[] = { 50, 200, 800 };
  guint n;

  g_print ("Settings detection bench (probe bound %u s, total bound %u s)\n\n",
           RS_DETECT_DEFAULT_PROBE_SECONDS, RS_DETECT_DEFAULT_TOTAL_SECONDS);

  /* 1. The best-ranked source answers at T; six lower-ranked ones hang. */
  for (guint i = 0; i < G_N_ELEMENTS (answer_times); i++)
    {
      guint t = answer_times[i];
      ScriptAction lone[1] = { SCRIPT_FOUND };
      guint lone_delay[1] = { t };
      ScriptAction actions[7] = { SCRIPT_FOUND, SCRIPT_HANG, SCRIPT_HANG, SCRIPT_HANG, SCRIPT_HANG, SCRIPT_HANG, SCRIPT_HANG };
      guint delays[7] = { t, 0, 0, 0, 0, 0, 0 };
      g_autofree char *name = g_strdup_printf ("best answers at %u ms, 6 lower hang", t);
      double floor_ms = scripted (lone, lone_delay, 1, &n);
      double ms = scripted (actions, delays, 7, &n);

      report (name, floor_ms, ms, floor_ms + 100, n);
    }

  /* 2. A lower-ranked source answers at T, but it is held behind the
   *    best-ranked one, which answers later. */
  {
    ScriptAction lone[1] = { SCRIPT_FOUND };
    guint lone_delay[1] = { 600 };
    ScriptAction actions[4] = { SCRIPT_FOUND, SCRIPT_FOUND, SCRIPT_HANG, SCRIPT_HANG };
    guint delays[4] = { 600, 30, 0, 0 };
    double floor_ms = scripted (lone, lone_delay, 1, &n);
    double ms = scripted (actions, delays, 4, &n);

    report ("lower answers at 30 ms, best at 600 ms", floor_ms, ms, floor_ms + 100, n);
  }

  /* 3. The best-ranked source hangs; the next answers at 50 ms.  The
   *    hang may delay the result by the probe bound, no more. */
  {
    ScriptAction lone[1] = { SCRIPT_FOUND };
    guint lone_delay[1] = { 50 };
    ScriptAction actions[4] = { SCRIPT_HANG, SCRIPT_FOUND, SCRIPT_HANG, SCRIPT_HANG };
    guint delays[4] = { 0, 50, 0, 0 };
    double floor_ms = scripted (lone, lone_delay, 1, &n);
    double ms = scripted (actions, delays, 4, &n);

    report ("best hangs, next answers at 50 ms", floor_ms, ms,
            RS_DETECT_DEFAULT_PROBE_SECONDS * 1000 + 100, n);
  }

  /* 4. Nothing exists: quick "not found"s and one source that hangs. */
  {
    ScriptAction lone[1] = { SCRIPT_NOT_FOUND };
    guint lone_delay[1] = { 50 };
    ScriptAction actions[4] = { SCRIPT_NOT_FOUND, SCRIPT_FAIL, SCRIPT_NOT_FOUND, SCRIPT_HANG };
    guint delays[4] = { 50, 100, 150, 0 };
    double floor_ms = scripted (lone, lone_delay, 1, &n);
    double ms = scripted (actions, delays, 4, &n);

    report ("nothing exists, one source hangs", floor_ms, ms,
            RS_DETECT_DEFAULT_TOTAL_SECONDS * 1000 + 100, n);
  }

  /* 5. The real built-in sources for an address in the bundled table:
   *    every network source starts and is cancelled. */
  {
    g_autoptr(GPtrArray) only_table = g_ptr_array_new_with_free_func (g_object_unref);
    g_autoptr(RsDetector) table = NULL;
    g_autoptr(RsDetector) all = rs_detector_new ();
    double floor_ms, ms;

    g_ptr_array_add (only_table, rs_detect_source_new_builtin (RS_DETECT_SOURCE_PROVIDERS));
    table = rs_detector_new_with_sources (only_table);
    floor_ms = run_once (table, "someone@fastmail.com", &n);
    ms = run_once (all, "someone@fastmail.com", &n);

    report ("built-in sources, address in the table", floor_ms, ms, floor_ms + 100, n);
  }

  return 0;
}
