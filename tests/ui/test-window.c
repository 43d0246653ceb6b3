/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-window"

#include "config.h"

#include <libsecret/secret.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "rs-account-store.h"
#include "rs-application.h"
#include "rs-retailsphere-dialog.h"
#include "rs-secret-store.h"
#include "rs-window.h"
#include "ui-test-utils.h"

/* The real window, with the real widgets, on the harness's Xvfb display.
 * What is asserted is what a user would see or reach: labels, buttons,
 * the dialog's words, where the window goes when narrow. */

static RsApplication *app;

typedef struct
{
  char           *dir;
  char           *path;
  RsAccountStore *store;
  RsWindow       *window;
} Fixture;

static gboolean
is_navigation_sidebar (GtkWidget     *widget,
                       gconstpointer  data)
{
  return GTK_IS_LIST_BOX (widget) && gtk_widget_has_css_class (widget, "navigation-sidebar");
}

static gboolean
is_action_button (GtkWidget     *widget,
                  gconstpointer  data)
{
  return GTK_IS_ACTIONABLE (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), data) == 0;
}

static gboolean
widget_is_unmapped (gpointer data)
{
  return !gtk_widget_get_mapped (data);
}

static gboolean
leaflet_is_folded (gpointer data)
{
  return adw_leaflet_get_folded (data);
}

static GtkWindow *
find_toplevel_retailsphere_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) toplevel = g_list_model_get_item (toplevels, i);

      if (RS_IS_RETAILSPHERE_DIALOG (toplevel) && gtk_widget_get_visible (toplevel))
        return GTK_WINDOW (toplevel);
    }

  return NULL;
}

static RsAccount *
new_gmail_account (const char *address)
{
  RsAccount *account = rs_account_new (RS_ACCOUNT_KIND_GMAIL, address);

  rs_account_set_provider_name (account, "Gmail");

  return account;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("rs-test-window-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "accounts.ini", NULL);
  fixture->store = rs_account_store_new (fixture->path);
  rs_account_store_load (fixture->store, &error);
  g_assert_no_error (error);
}

static void
present_window (Fixture *fixture,
                int      width,
                int      height)
{
  fixture->window = rs_window_new (app, fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), width, height);
  gtk_window_present (GTK_WINDOW (fixture->window));

  g_assert_true (wait_for (widget_is_mapped, fixture->window));
  settle (100);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  destroy_toplevels ();

  g_clear_object (&fixture->store);
  g_unlink (fixture->path);
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
test_window_layout (Fixture       *fixture,
                    gconstpointer  data)
{
  GtkWidget *root;
  GtkWidget *sidebar;
  GtkWidget *nav_item;
  GtkWidget *group;
  AdwLeaflet *leaflet;

  if (!require_display ())
    return;

  present_window (fixture, 1024, 720);
  root = GTK_WIDGET (fixture->window);

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (root)), ==, "Retailsphere Settings");

  /* Wide: sidebar and page side by side. */
  leaflet = ADW_LEAFLET (find_widget (root, is_type, GSIZE_TO_POINTER (ADW_TYPE_LEAFLET)));
  g_assert_nonnull (leaflet);
  g_assert_false (adw_leaflet_get_folded (leaflet));

  sidebar = find_widget (root, is_navigation_sidebar, NULL);
  g_assert_nonnull (sidebar);
  g_assert_true (gtk_widget_get_mapped (sidebar));
  nav_item = find_widget (sidebar, is_label_containing, "Connected Apps");
  g_assert_nonnull (nav_item);
  g_assert_true (gtk_widget_get_mapped (nav_item));

  group = find_widget (root, is_group_titled, "Email Integrations");
  g_assert_nonnull (group);
  g_assert_true (gtk_widget_get_mapped (group));
  g_assert_nonnull (strstr (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (group)),
                            "never what they wrote"));

  g_assert_nonnull (find_widget (group, is_row_titled, "Gmail or Google Workspace"));
  g_assert_nonnull (find_widget (group, is_row_titled, "Outlook, Office 365, Exchange, IMAP and others"));

  for (guint i = 0; i < 2; i++)
    {
      const char *label = i == 0 ? "Sign in with Gmail" : "Sign in with Email";
      GtkWidget *button = find_widget (group, is_button_labelled, label);

      g_assert_nonnull (button);
      g_assert_true (gtk_widget_get_mapped (button));
      g_assert_true (gtk_widget_is_sensitive (button));
    }

  /* No back button when there is nothing to go back to. */
  g_assert_false (gtk_widget_get_mapped (find_widget (root, is_action_button, "win.show-settings")));
}

static void
test_window_empty_state (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(RsAccount) account = new_gmail_account ("jane.doe@example.com");
  g_autoptr(RsAccountStore) reread = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *root;
  GtkWidget *empty;
  GtkWidget *row;

  if (!require_display ())
    return;

  present_window (fixture, 1024, 720);
  root = GTK_WIDGET (fixture->window);

  g_assert_nonnull (find_widget (root, is_group_titled, "Connected accounts"));

  empty = find_widget (root, is_label_containing, "never reads what they wrote");
  g_assert_nonnull (empty);
  g_assert_true (gtk_widget_get_mapped (empty));
  g_assert_null (find_widget (root, is_row_titled, "jane.doe@example.com"));

  rs_account_store_add (fixture->store, account, &error);
  g_assert_no_error (error);

  /* The account is in the file… */
  reread = rs_account_store_new (fixture->path);
  rs_account_store_load (reread, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reread)), ==, 1);

  /* …and on screen, in place of the empty state. */
  g_assert_true (wait_for (widget_is_unmapped, empty));
  row = find_widget (root, is_row_titled, "jane.doe@example.com");
  g_assert_nonnull (row);
  g_assert_true (wait_for (widget_is_mapped, row));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Gmail"));
}

static void
test_window_follows_other_process (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autoptr(RsAccountStore) cli_store = NULL;
  g_autoptr(GError) error = NULL;
  const char *addresses[] = { "first@example.com", "second@example.org" };
  const char *providers[] = { "Gmail", "Example Mail" };
  GtkWidget *root;

  if (!require_display ())
    return;

  rs_account_store_watch (fixture->store);
  present_window (fixture, 1024, 720);
  root = GTK_WIDGET (fixture->window);

  /* Another store on the same file stands for the CLI. */
  cli_store = rs_account_store_new (fixture->path);
  rs_account_store_load (cli_store, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr(RsAccount) account = rs_account_new (RS_ACCOUNT_KIND_GMAIL, addresses[i]);

      rs_account_set_provider_name (account, providers[i]);
      rs_account_store_add (cli_store, account, &error);
      g_assert_no_error (error);
    }

  /* One row per account, each with its address and provider. */
  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      GtkWidget *row = NULL;

      for (guint tries = 0; row == NULL && tries < 50; tries++)
        {
          settle (100);
          row = find_widget (root, is_row_titled, addresses[i]);
        }

      g_assert_nonnull (row);
      g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), providers[i]));
    }
}

static void
test_window_remove_account (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(RsAccount) account = new_gmail_account ("leaving@example.com");
  g_autoptr(RsAccountStore) reread = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *row;

  if (!require_display ())
    return;

  rs_account_store_add (fixture->store, account, &error);
  g_assert_no_error (error);
  /* Its password, as sign-in would have saved it. */
  g_assert_true (secret_password_store_sync (rs_secret_schema_get (), SECRET_COLLECTION_DEFAULT,
                                             "test", "hunter2", NULL, &error,
                                             "account-id", rs_account_get_id (account),
                                             "kind", "password",
                                             "generation", 1,
                                             NULL));
  g_assert_no_error (error);
  present_window (fixture, 1024, 720);

  row = find_widget (GTK_WIDGET (fixture->window), is_row_titled, "leaving@example.com");
  g_assert_nonnull (row);

  /* Remove… asks first, and Cancel keeps the account. */
  g_assert_true (gtk_widget_activate_action (row, "row.remove", NULL));
  dialog = wait_for_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_heading (dialog), "leaving@example.com"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "remove"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  click_response (dialog, "_Cancel");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 1);

  g_assert_true (gtk_widget_activate_action (row, "row.remove", NULL));
  dialog = wait_for_message_dialog ();
  g_assert_nonnull (dialog);
  click_response (dialog, "_Remove");

  /* Secrets are deleted first (asynchronously), then the settings. */
  for (guint i = 0; i < 100 && g_list_model_get_n_items (G_LIST_MODEL (fixture->store)) > 0; i++)
    settle (50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 0);
  g_assert_null (secret_password_lookup_sync (rs_secret_schema_get (), NULL, &error,
                                              "account-id", rs_account_get_id (account),
                                              NULL));
  g_assert_no_error (error);
  g_assert_null (find_widget (GTK_WIDGET (fixture->window), is_row_titled, "leaving@example.com"));
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->window), is_label_containing,
                                 "never reads what they wrote"));

  reread = rs_account_store_new (fixture->path);
  rs_account_store_load (reread, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reread)), ==, 0);
}

static void
test_window_remove_failure_toast (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(RsAccount) account = new_gmail_account ("stuck@example.com");
  g_autoptr(GError) error = NULL;
  g_autofree char *backup = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *row;
  GtkWidget *toast_label;

  if (!require_display ())
    return;

  rs_account_store_add (fixture->store, account, &error);
  g_assert_no_error (error);
  present_window (fixture, 1024, 720);

  /* Make the file unwritable even for root: its folder becomes a file. */
  backup = g_strconcat (fixture->dir, ".moved", NULL);
  g_assert_cmpint (g_rename (fixture->dir, backup), ==, 0);
  g_assert_true (g_file_set_contents (fixture->dir, "", 0, NULL));

  row = find_widget (GTK_WIDGET (fixture->window), is_row_titled, "stuck@example.com");
  g_assert_nonnull (row);
  g_assert_true (gtk_widget_activate_action (row, "row.remove", NULL));
  dialog = wait_for_message_dialog ();
  g_assert_nonnull (dialog);

  click_response (dialog, "_Remove");
  settle (200);

  /* The account stays, and the user is told. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 1);
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->window), is_row_titled, "stuck@example.com"));
  toast_label = find_widget (GTK_WIDGET (fixture->window), is_label_containing,
                             "Could not remove stuck@example.com");
  g_assert_nonnull (toast_label);
  g_assert_true (gtk_widget_get_mapped (toast_label));

  g_assert_cmpint (g_unlink (fixture->dir), ==, 0);
  g_assert_cmpint (g_rename (backup, fixture->dir), ==, 0);
}

static void
test_window_sign_in_not_available (Fixture       *fixture,
                                   gconstpointer  data)
{
  static const char *buttons[] = { "Sign in with Gmail" };  /* Email has its dialog */

  if (!require_display ())
    return;

  present_window (fixture, 1024, 720);

  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    {
      GtkWidget *button = find_widget (GTK_WIDGET (fixture->window), is_button_labelled, buttons[i]);
      AdwMessageDialog *dialog;
      g_autofree char *text = NULL;

      g_assert_nonnull (button);
      g_signal_emit_by_name (button, "clicked");

      dialog = wait_for_message_dialog ();
      g_assert_nonnull (dialog);
      g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == GTK_WINDOW (fixture->window));

      text = g_utf8_strdown (adw_message_dialog_get_heading (dialog), -1);
      g_assert_nonnull (strstr (text, "not available"));
      g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "No account was added"));
      g_assert_true (adw_message_dialog_has_response (dialog, "close"));

      click_response (dialog, "_Close");
      g_assert_false (has_message_dialog (&dialog));
    }

  /* Nothing was added behind the user's back. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 0);
}

static void
test_window_account_menu (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) menu_buttons = g_ptr_array_new ();
  GtkMenuButton *avatar_button = NULL;
  GMenuModel *model;
  AdwMessageDialog *dialog;
  gboolean has_sign_in = FALSE;
  gboolean has_settings = FALSE;
  gboolean has_about = FALSE;
  gboolean has_shortcuts = FALSE;

  if (!require_display ())
    return;

  present_window (fixture, 1024, 720);

  collect_widgets (GTK_WIDGET (fixture->window), is_type,
                   GSIZE_TO_POINTER (GTK_TYPE_MENU_BUTTON), menu_buttons);
  for (guint i = 0; i < menu_buttons->len; i++)
    if (find_widget (menu_buttons->pdata[i], is_type, GSIZE_TO_POINTER (ADW_TYPE_AVATAR)))
      avatar_button = menu_buttons->pdata[i];

  g_assert_nonnull (avatar_button);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (avatar_button)));
  gtk_test_accessible_assert_property (avatar_button, GTK_ACCESSIBLE_PROPERTY_LABEL, "Account menu");

  model = gtk_menu_button_get_menu_model (avatar_button);
  g_assert_nonnull (model);

  for (int s = 0; s < g_menu_model_get_n_items (model); s++)
    {
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (model, s, G_MENU_LINK_SECTION);

      g_assert_nonnull (section);

      for (int i = 0; i < g_menu_model_get_n_items (section); i++)
        {
          g_autofree char *action = NULL;

          g_assert_true (g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_ACTION, "s", &action));
          has_sign_in |= g_str_equal (action, "win.sign-in-retailsphere");
          has_settings |= g_str_equal (action, "win.show-settings");
          has_shortcuts |= g_str_equal (action, "win.show-help-overlay");
          has_about |= g_str_equal (action, "app.about");
        }
    }

  g_assert_true (has_sign_in && has_settings && has_shortcuts && has_about);

  /* Every item leads somewhere real. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->window), "show-help-overlay"));

  /* Ctrl+Q quits, Ctrl+W closes, Ctrl+? shows the shortcuts. */
  {
    static const struct {
      const char *action;
      const char *accel;
    } accels[] = {
      { "app.quit", "<Control>q" },
      { "window.close", "<Control>w" },
      { "win.show-help-overlay", "<Control>question" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
      {
        g_auto(GStrv) set = gtk_application_get_accels_for_action (GTK_APPLICATION (app), accels[i].action);
        guint key;
        GdkModifierType mods;
        gboolean found = FALSE;

        g_assert_true (gtk_accelerator_parse (accels[i].accel, &key, &mods));
        for (guint j = 0; set[j] != NULL; j++)
          {
            guint set_key;
            GdkModifierType set_mods;

            if (gtk_accelerator_parse (set[j], &set_key, &set_mods))
              found |= set_key == key && set_mods == mods;
          }

        if (!found)
          g_error ("%s has no %s accelerator", accels[i].action, accels[i].accel);
      }
  }

  /* Sign in to Retailsphere has its own dialog (tests/ui/test-activity-window.c). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.sign-in-retailsphere", NULL));
  settle (100);
  g_assert_false (has_message_dialog (&dialog));
  g_assert_nonnull (find_toplevel_retailsphere_dialog ());
  g_assert_true (gtk_window_get_transient_for (find_toplevel_retailsphere_dialog ()) ==
                 GTK_WINDOW (fixture->window));
}

static void
test_window_narrow (Fixture       *fixture,
                    gconstpointer  data)
{
  AdwLeaflet *leaflet;
  GtkWidget *sidebar;
  GtkWidget *back;
  GtkWidget *gmail;

  if (!require_display ())
    return;

  present_window (fixture, 360, 640);

  leaflet = ADW_LEAFLET (find_widget (GTK_WIDGET (fixture->window), is_type,
                                      GSIZE_TO_POINTER (ADW_TYPE_LEAFLET)));
  g_assert_nonnull (leaflet);
  g_assert_true (wait_for (leaflet_is_folded, leaflet));

  /* Folded, the window opens on the page, with a way back. */
  gmail = find_widget (GTK_WIDGET (fixture->window), is_button_labelled, "Sign in with Gmail");
  g_assert_true (wait_for (widget_is_mapped, gmail));
  g_assert_cmpint (gtk_widget_get_width (gmail), <=, 360);
  back = find_widget (GTK_WIDGET (fixture->window), is_action_button, "win.show-settings");
  g_assert_nonnull (back);
  g_assert_true (gtk_widget_get_mapped (back));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.show-settings", NULL));

  sidebar = find_widget (GTK_WIDGET (fixture->window), is_navigation_sidebar, NULL);
  g_assert_true (gtk_widget_is_ancestor (sidebar, adw_leaflet_get_visible_child (leaflet)));
  g_assert_true (wait_for (widget_is_unmapped, gmail));
  g_assert_true (gtk_widget_get_mapped (sidebar));

  /* And the sidebar leads back to the page. */
  g_signal_emit_by_name (sidebar, "row-activated",
                         gtk_list_box_get_row_at_index (GTK_LIST_BOX (sidebar), 0));
  g_assert_true (wait_for (widget_is_mapped, gmail));
}

static void
test_window_size_kept (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GSettings) settings = NULL;
  int width;
  int height;

  if (!require_display ())
    return;

  settings = g_settings_new (BASE_APP_ID);
  g_settings_set_int (settings, "window-width", 700);
  g_settings_set_int (settings, "window-height", 500);

  /* The window opens at the size it was closed at… */
  fixture->window = rs_window_new (app, fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_get_default_size (GTK_WINDOW (fixture->window), &width, &height);
  g_assert_cmpint (width, ==, 700);
  g_assert_cmpint (height, ==, 500);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_true (wait_for (widget_is_mapped, fixture->window));

  /* …and closing it keeps the new size. */
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 800, 600);
  settle (100);
  gtk_window_close (GTK_WINDOW (fixture->window));
  settle (100);

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 800);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 600);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

static gboolean
is_any_button (GtkWidget     *widget,
               gconstpointer  data)
{
  return GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget);
}

static void
test_window_accessible_labels (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(RsAccount) account = new_gmail_account ("labelled@example.com");
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  guint checked = 0;

  if (!require_display ())
    return;

  rs_account_store_add (fixture->store, account, &error);
  g_assert_no_error (error);
  present_window (fixture, 1024, 720);

  collect_widgets (GTK_WIDGET (fixture->window), is_any_button, NULL, buttons);

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = buttons->pdata[i];
      GtkWidget *menu_button = gtk_widget_get_ancestor (button, GTK_TYPE_MENU_BUTTON);
      const char *text = NULL;

      /* A menu button's inner toggle speaks through the menu button. */
      if (menu_button != NULL && menu_button != button)
        button = menu_button;

      if (GTK_IS_BUTTON (button))
        text = gtk_button_get_label (GTK_BUTTON (button));
      else if (GTK_IS_MENU_BUTTON (button))
        text = gtk_menu_button_get_label (GTK_MENU_BUTTON (button));

      if (text == NULL || *text == '\0')
        {
          g_autofree char *empty = NULL;

          if (!gtk_test_accessible_has_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL))
            g_error ("%s (%s) has neither a label nor an accessible label",
                     G_OBJECT_TYPE_NAME (button), gtk_widget_get_css_name (button));

          empty = gtk_test_accessible_check_property (GTK_ACCESSIBLE (button),
                                                      GTK_ACCESSIBLE_PROPERTY_LABEL, "");
          g_assert_nonnull (empty);  /* i.e. the label is not "" */
        }

      checked++;
    }

  /* The sign-in buttons, back, avatar and account menus, window controls. */
  g_assert_cmpuint (checked, >=, 6);

  /* The account's menu names the account. */
  {
    GtkWidget *row = find_widget (GTK_WIDGET (fixture->window), is_row_titled, "labelled@example.com");
    GtkWidget *menu = find_widget (row, is_type, GSIZE_TO_POINTER (GTK_TYPE_MENU_BUTTON));

    g_assert_nonnull (menu);
    gtk_test_accessible_assert_property (menu, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                         "Account actions for labelled@example.com");
  }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = ui_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/ui/window/layout", test_window_layout);
  ADD ("/ui/window/empty-state", test_window_empty_state);
  ADD ("/ui/window/follows-other-process", test_window_follows_other_process);
  ADD ("/ui/window/remove-account", test_window_remove_account);
  ADD ("/ui/window/remove-failure-toast", test_window_remove_failure_toast);
  ADD ("/ui/window/sign-in-not-available", test_window_sign_in_not_available);
  ADD ("/ui/window/account-menu", test_window_account_menu);
  ADD ("/ui/window/narrow", test_window_narrow);
  ADD ("/ui/window/accessible-labels", test_window_accessible_labels);
  ADD ("/ui/window/size-kept", test_window_size_kept);

#undef ADD

  ret = g_test_run ();

  g_clear_object (&app);

  return ret;
}
