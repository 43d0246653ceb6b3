/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ui-test-utils"

#include "config.h"

#include <glib/gi18n.h>

#include "ui-test-utils.h"

static gboolean have_display;

/* Initializes the test framework and, where a display opens, GTK and a
 * registered (non-unique) application; %NULL without a display. */
RsApplication *
ui_test_init (int    *argc,
              char ***argv)
{
  g_autoptr(GError) error = NULL;
  RsApplication *app;

  g_test_init (argc, argv, NULL);

  have_display = gtk_init_check ();
  if (!have_display)
    return NULL;

  app = rs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  return app;
}

gboolean
require_display (void)
{
  if (have_display)
    return TRUE;

  /* In the harness a display is promised: its absence is a failure. */
  if (g_getenv ("RS_TEST_SESSION") != NULL)
    g_test_fail_printf ("RS_TEST_SESSION is set but no display could be opened");
  else
    g_test_skip ("No display: run through tests/harness/rs-session-run (meson test)");

  return FALSE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;

  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until @condition holds, for @seconds at most. */
gboolean
wait_for_seconds (gboolean (*condition) (gpointer),
                  gpointer  data,
                  guint     seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (seconds * 1000, timeout_cb, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);

  return condition (data);
}

/* The same, for 5 s at most. */
gboolean
wait_for (gboolean (*condition) (gpointer),
          gpointer  data)
{
  return wait_for_seconds (condition, data, 5);
}

/* Lets pending layout and idle work run for @ms milliseconds. */
void
settle (guint ms)
{
  gboolean timed_out = FALSE;

  g_timeout_add (ms, timeout_cb, &timed_out);
  while (!timed_out)
    g_main_context_iteration (NULL, TRUE);
}

/* The first match in the tree below @root (itself included), depth first. */
GtkWidget *
find_widget (GtkWidget     *root,
             WidgetMatch    match,
             gconstpointer  data)
{
  if (match (root, data))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Every match, in the same order as find_widget() meets them. */
void
collect_widgets (GtkWidget     *root,
                 WidgetMatch    match,
                 gconstpointer  data,
                 GPtrArray     *found)
{
  if (match (root, data))
    g_ptr_array_add (found, root);

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_widgets (child, match, data, found);
}

/* @data is a GType, as GSIZE_TO_POINTER (GTK_TYPE_LABEL). */
gboolean
is_type (GtkWidget     *widget,
         gconstpointer  data)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (data));
}

gboolean
is_button_labelled (GtkWidget     *widget,
                    gconstpointer  data)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), data) == 0;
}

/* Any label holding @data, whether on screen or not. */
gboolean
is_label_containing (GtkWidget     *widget,
                     gconstpointer  data)
{
  const char *text;

  if (!GTK_IS_LABEL (widget))
    return FALSE;

  text = gtk_label_get_text (GTK_LABEL (widget));

  return text != NULL && strstr (text, data) != NULL;
}

gboolean
is_group_titled (GtkWidget     *widget,
                 gconstpointer  data)
{
  return ADW_IS_PREFERENCES_GROUP (widget) &&
         g_strcmp0 (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (widget)), data) == 0;
}

/* Any row: action, entry, password, combo or expander. */
gboolean
is_row_titled (GtkWidget     *widget,
               gconstpointer  data)
{
  return ADW_IS_PREFERENCES_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), data) == 0;
}

gboolean
widget_is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

/* The first toplevel of @type on screen, or %NULL. */
GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) toplevel = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (toplevel, type) && gtk_widget_get_mapped (toplevel))
        return GTK_WINDOW (toplevel);
    }

  return NULL;
}

/* @type is a GType, as GSIZE_TO_POINTER (RS_TYPE_ACTIVITY_WINDOW). */
gboolean
has_toplevel (gpointer type)
{
  return find_toplevel (GPOINTER_TO_SIZE (type)) != NULL;
}

gboolean
has_no_toplevel (gpointer type)
{
  return find_toplevel (GPOINTER_TO_SIZE (type)) == NULL;
}

/* Whether a message dialog is on screen; stores it in @data, an
 * AdwMessageDialog ** (or %NULL). */
gboolean
has_message_dialog (gpointer data)
{
  GtkWindow *dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  if (dialog != NULL && data != NULL)
    *(AdwMessageDialog **)data = ADW_MESSAGE_DIALOG (dialog);

  return dialog != NULL;
}

AdwMessageDialog *
wait_for_message_dialog (void)
{
  AdwMessageDialog *dialog = NULL;

  wait_for (has_message_dialog, &dialog);

  return dialog;
}

/* Clicks the dialog's button, as a user would: that answers and closes. */
void
click_response (AdwMessageDialog *dialog,
                const char       *label)
{
  GtkWidget *button = find_widget (GTK_WIDGET (dialog), is_button_labelled, label);

  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  settle (100);
}

/* Destroys every toplevel, dialogs and windows, and lets that settle. */
void
destroy_toplevels (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  while (g_list_model_get_n_items (toplevels) > 0)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, 0);

      gtk_window_destroy (toplevel);
    }

  settle (50);
}

/* Screenshots are not tests: they are taken only when asked for. */
gboolean
require_screenshot_dir (void)
{
  if (g_getenv ("RS_SCREENSHOT_DIR") != NULL)
    return TRUE;

  g_test_skip ("Set RS_SCREENSHOT_DIR to take screenshots");

  return FALSE;
}

/* Once @window has settled, takes its picture from the top left of the
 * Xvfb screen with import(1), as RS_SCREENSHOT_DIR/@file_name. */
void
save_screenshot (GtkWidget  *window,
                 const char *file_name)
{
  g_autofree char *file = NULL;
  g_autofree char *crop = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  settle (400);

  file = g_build_filename (g_getenv ("RS_SCREENSHOT_DIR"), file_name, NULL);
  crop = g_strdup_printf ("%dx%d+0+0", gtk_widget_get_width (window), gtk_widget_get_height (window));

  {
    const char *argv[] = { "import", "-window", "root", "-crop", crop, file, NULL };

    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                  NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }
}
