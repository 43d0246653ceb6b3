/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-activity-window"

#include "config.h"

#include <libsecret/secret.h>
#include <sys/wait.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "rs-account-store.h"
#include "rs-activity-window.h"
#include "rs-application.h"
#include "rs-net.h"
#include "rs-reply-store.h"
#include "rs-retailsphere-dialog.h"
#include "rs-secret-store.h"
#include "rs-window.h"
#include "rs-test-utils.h"
#include "ui-test-utils.h"

/* The Activity window, the Retailsphere sign-in and --background, with
 * the real widgets on the harness's Xvfb display, the real keyring and
 * the real binary on the harness's session bus. */

static RsApplication *app;

typedef struct
{
  char           *dir;
  char           *accounts_path;
  char           *store_path;
  RsAccountStore *store;
  RsAccount      *account;
  RsWindow       *window;
} Fixture;

/* Only what is on screen: the window keeps hidden pages. */
static gboolean
is_mapped_label_containing (GtkWidget     *widget,
                            gconstpointer  data)
{
  const char *text;

  if (!GTK_IS_LABEL (widget) || !gtk_widget_get_mapped (widget))
    return FALSE;

  text = gtk_label_get_text (GTK_LABEL (widget));

  return text != NULL && strstr (text, data) != NULL;
}

static gboolean
is_mapped_list_box (GtkWidget     *widget,
                    gconstpointer  data)
{
  return GTK_IS_LIST_BOX (widget) && gtk_widget_get_mapped (widget);
}

/* The labels of the visible page of @window's stack, in reading order. */
static GPtrArray *
list_texts (GtkWidget *list)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  GPtrArray *texts = g_ptr_array_new ();

  collect_widgets (list, is_type, GSIZE_TO_POINTER (GTK_TYPE_LABEL), labels);
  for (guint i = 0; i < labels->len; i++)
    if (gtk_widget_get_mapped (labels->pdata[i]))
      g_ptr_array_add (texts, (gpointer)gtk_label_get_text (labels->pdata[i]));

  return texts;
}

/* Its servers refuse at once: nothing here needs them to answer. */
static RsAccount *
new_imap_account (const char *address)
{
  g_autoptr(RsServerSettings) imap = rs_server_settings_new ("127.0.0.1", 1, RS_SECURITY_TLS, address);
  g_autoptr(RsServerSettings) smtp = rs_server_settings_new ("127.0.0.1", 1, RS_SECURITY_TLS, address);
  RsAccount *account = rs_account_new (RS_ACCOUNT_KIND_IMAP, address);

  rs_account_set_imap_settings (account, imap);
  rs_account_set_smtp_settings (account, smtp);

  return account;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsReplyStore) replies = NULL;

  fixture->dir = g_dir_make_tmp ("rs-test-activity-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->accounts_path = g_build_filename (fixture->dir, "accounts.ini", NULL);
  fixture->store_path = g_build_filename (fixture->dir, "worker.sqlite", NULL);

  fixture->store = rs_account_store_new (fixture->accounts_path);
  rs_account_store_load (fixture->store, &error);
  g_assert_no_error (error);

  fixture->account = new_imap_account ("ada@example.com");
  rs_account_store_add (fixture->store, fixture->account, &error);
  g_assert_no_error (error);

  /* An empty store exists, as the worker leaves it before any reply. */
  replies = rs_reply_store_open (fixture->store_path, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  destroy_toplevels ();

  g_clear_object (&fixture->account);
  g_clear_object (&fixture->store);
  rs_test_remove_tree (fixture->dir);
  g_free (fixture->accounts_path);
  g_free (fixture->store_path);
  g_free (fixture->dir);
}

/* Fills the store as the worker does: a sent message, then the replies a
 * sync pass found, then (for some) the report. */
static void
add_sent (Fixture    *fixture,
          const char *message_id,
          const char *subject)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  const char *recipients[] = { "customer@example.org", NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  store = rs_reply_store_open (fixture->store_path, &error);
  g_assert_no_error (error);
  rs_reply_store_record_intent (store, rs_account_get_id (fixture->account), message_id, subject, recipients, NULL, now, &error);
  g_assert_no_error (error);
  rs_reply_store_mark_sent (store, rs_account_get_id (fixture->account), message_id, now, &error);
  g_assert_no_error (error);
}

static void
add_reply (Fixture    *fixture,
           guint32     uid,
           const char *tracked,
           const char *message_id,
           const char *name,
           const char *address,
           const char *date,
           const char *subject)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (date, NULL);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify)rs_reply_free);
  RsMailboxCursor cursor = { 7, uid + 1, 0 };
  guint n_new = 0;

  store = rs_reply_store_open (fixture->store_path, &error);
  g_assert_no_error (error);

  g_ptr_array_add (batch, rs_reply_new (tracked, message_id, name, address, when, subject));
  rs_reply_store_commit_sync_batch (store, rs_account_get_id (fixture->account), "INBOX", &cursor, batch,
                                    g_get_real_time () / G_USEC_PER_SEC, &n_new, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_new, ==, 1);
}

/* Marks every queued reply reported @minutes_ago. */
static void
report_all (Fixture *fixture,
            guint    minutes_ago)
{
  g_autoptr(RsReplyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) queued = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  store = rs_reply_store_open (fixture->store_path, &error);
  g_assert_no_error (error);
  queued = rs_reply_store_next_reports (store, 100, now + 3600, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < queued->len; i++)
    g_ptr_array_add (keys, ((RsReply *)queued->pdata[i])->idempotency_key);
  g_ptr_array_add (keys, NULL);

  rs_reply_store_mark_reported (store, (const char * const *)keys->pdata, now - minutes_ago * 60, &error);
  g_assert_no_error (error);
}

static void
fill_three_replies (Fixture *fixture)
{
  add_sent (fixture, "quote-17@shop.example.com", "Your quote for 40 chairs");
  add_sent (fixture, "invoice-3@shop.example.com", NULL);

  add_reply (fixture, 10, "quote-17@shop.example.com", "r1@example.de",
             "Jürgen Müller", "jm@example.de", "2023-03-01T09:30:00Z", "Re: Your quote for 40 chairs");
  add_reply (fixture, 11, "invoice-3@shop.example.com", "r2@example.org",
             NULL, "accounts@example.org", "2023-03-02T14:05:00Z", "Re: Invoice 3");
  report_all (fixture, 10);
  add_reply (fixture, 12, "quote-17@shop.example.com", "r3@example.fr",
             "Élodie Martin", "elodie@example.fr", "2023-03-03T08:00:00Z", NULL);
}

static RsActivityWindow *
present_activity (Fixture *fixture,
                  int      width)
{
  RsActivityWindow *window;

  /* The account's id as the worker writes it in the store. */
  g_assert_cmpstr (rs_account_get_id (fixture->account), !=, NULL);

  window = rs_activity_window_new (NULL, fixture->account, fixture->store_path);
  gtk_window_set_default_size (GTK_WINDOW (window), width, 720);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_for (widget_is_mapped, window));
  settle (100);

  return window;
}

static void
test_activity_replies (Fixture       *fixture,
                       gconstpointer  data)
{
  static const char *expected[] = {
    /* Newest first; each reply shows these fields and nothing else. */
    "Élodie Martin", "elodie@example.fr", "Replied on 3 March 2023 at 08:00", "No subject",
    "In reply to “Your quote for 40 chairs”", "Waiting to report",
    "accounts@example.org", "Replied on 2 March 2023 at 14:05", "Subject: Re: Invoice 3",
    "In reply to <invoice-3@shop.example.com>", "Reported 10 minutes ago",
    "Jürgen Müller", "jm@example.de", "Replied on 1 March 2023 at 09:30",
    "Subject: Re: Your quote for 40 chairs", "In reply to “Your quote for 40 chairs”",
    "Reported 10 minutes ago",
  };
  RsActivityWindow *window;
  GtkWidget *list;
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  if (!require_display ())
    return;

  fill_three_replies (fixture);
  window = present_activity (fixture, 480);

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Activity");
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (window)));
  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing,
                                 "Retailsphere sees who replied and when — never what they wrote. "
                                 "These are the only details that leave this computer."));
  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing,
                                 "3 replies found · 1 waiting to report"));

  list = find_widget (GTK_WIDGET (window), is_mapped_list_box, NULL);
  g_assert_nonnull (list);

  texts = list_texts (list);
  g_assert_cmpuint (texts->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < texts->len; i++)
    g_assert_cmpstr (texts->pdata[i], ==, expected[i]);

  /* Each row says all of it to a screen reader too. */
  collect_widgets (list, is_type, GSIZE_TO_POINTER (GTK_TYPE_LIST_BOX_ROW), rows);
  g_assert_cmpuint (rows->len, ==, 3);
  gtk_test_accessible_assert_property (rows->pdata[0], GTK_ACCESSIBLE_PROPERTY_LABEL, "Élodie Martin");

  /* Not signed in: it says where the waiting reply goes. */
  rs_activity_window_set_signed_in (window, FALSE);
  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing,
                                 "until then they are kept on this computer"));
  rs_activity_window_set_signed_in (window, TRUE);
  g_assert_null (find_widget (GTK_WIDGET (window), is_mapped_label_containing,
                              "until then they are kept on this computer"));

  /* The worker reports the last one: a reload shows it. */
  report_all (fixture, 0);
  rs_activity_window_reload (window);
  settle (50);
  g_clear_pointer (&texts, g_ptr_array_unref);
  texts = list_texts (list);
  g_assert_cmpstr (texts->pdata[5], ==, "Reported just now");
  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing, "3 replies found"));
  g_assert_null (find_widget (GTK_WIDGET (window), is_mapped_label_containing, "waiting to report"));

  /* Escape closes it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.close", NULL));
}

static void
test_activity_other_account (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(RsAccount) other = rs_account_new (RS_ACCOUNT_KIND_IMAP, "bob@example.com");
  RsActivityWindow *window;

  if (!require_display ())
    return;

  fill_three_replies (fixture);

  /* Another account's replies are not this one's. */
  window = rs_activity_window_new (NULL, other, fixture->store_path);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_for (widget_is_mapped, window));
  settle (100);

  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing, "No Replies Yet"));
  g_assert_null (find_widget (GTK_WIDGET (window), is_mapped_label_containing, "Jürgen"));
}

static void
test_activity_empty (Fixture       *fixture,
                     gconstpointer  data)
{
  RsActivityWindow *window;
  AdwStatusPage *status;

  if (!require_display ())
    return;

  window = present_activity (fixture, 360);

  status = ADW_STATUS_PAGE (find_widget (GTK_WIDGET (window), is_type,
                                         GSIZE_TO_POINTER (ADW_TYPE_STATUS_PAGE)));
  g_assert_nonnull (status);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (status)));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "No Replies Yet");
  g_assert_nonnull (find_widget (GTK_WIDGET (window), is_mapped_label_containing,
                                 "never what they wrote"));
  g_assert_null (find_widget (GTK_WIDGET (window), is_mapped_list_box, NULL));

  /* It fits a phone. */
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 360);
}

static void
test_activity_from_row_menu (Fixture       *fixture,
                             gconstpointer  data)
{
  GtkWidget *row;
  GtkWidget *menu_button;
  GMenuModel *model;
  RsActivityWindow *activity;
  int activity_position = -1;
  int remove_position = -1;
  int position = 0;

  if (!require_display ())
    return;

  fixture->window = rs_window_new (app, fixture->store);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1024, 720);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_true (wait_for (widget_is_mapped, fixture->window));

  row = find_widget (GTK_WIDGET (fixture->window), is_row_titled, "ada@example.com");
  g_assert_nonnull (row);

  /* "Activity…" comes before "Remove…". */
  menu_button = find_widget (row, is_type, GSIZE_TO_POINTER (GTK_TYPE_MENU_BUTTON));
  model = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (menu_button));
  for (int s = 0; s < g_menu_model_get_n_items (model); s++)
    {
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (model, s, G_MENU_LINK_SECTION);

      for (int i = 0; i < g_menu_model_get_n_items (section); i++, position++)
        {
          g_autofree char *label = NULL;

          g_assert_true (g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_LABEL, "s", &label));
          if (g_str_equal (label, "_Activity…"))
            activity_position = position;
          else if (g_str_equal (label, "_Remove…"))
            remove_position = position;
        }
    }
  g_assert_cmpint (activity_position, >=, 0);
  g_assert_cmpint (activity_position, <, remove_position);

  g_assert_true (gtk_widget_activate_action (row, "row.activity", NULL));
  g_assert_true (wait_for (has_toplevel, GSIZE_TO_POINTER (RS_TYPE_ACTIVITY_WINDOW)));
  activity = RS_ACTIVITY_WINDOW (find_toplevel (RS_TYPE_ACTIVITY_WINDOW));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (activity)) == GTK_WINDOW (fixture->window));
  g_assert_true (rs_activity_window_get_account (activity) == fixture->account);
}

static char *
lookup_token (void)
{
  g_autoptr(GError) error = NULL;
  char *token;

  token = secret_password_lookup_sync (rs_secret_schema_get (), NULL, &error,
                                       "account-id", "retailsphere",
                                       "kind", "api-token",
                                       NULL);
  g_assert_no_error (error);

  return token;
}

static gboolean
app_signed_in (gpointer data)
{
  return rs_application_get_signed_in (app) == GPOINTER_TO_INT (data);
}

static void
type_into (GtkWidget  *row,
           const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  settle (20);
}

static GSettings *
new_settings (void)
{
  return g_settings_new (BASE_APP_ID);
}

static GMenuModel *
avatar_menu (Fixture *fixture)
{
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();

  collect_widgets (GTK_WIDGET (fixture->window), is_type,
                   GSIZE_TO_POINTER (GTK_TYPE_MENU_BUTTON), buttons);
  for (guint i = 0; i < buttons->len; i++)
    if (find_widget (buttons->pdata[i], is_type, GSIZE_TO_POINTER (ADW_TYPE_AVATAR)))
      return gtk_menu_button_get_menu_model (buttons->pdata[i]);

  return NULL;
}

/* The labels of the avatar menu's first section. */
static char *
retailsphere_menu_labels (Fixture *fixture)
{
  g_autoptr(GMenuModel) section = g_menu_model_get_item_link (avatar_menu (fixture), 0,
                                                              G_MENU_LINK_SECTION);
  g_autoptr(GString) labels = g_string_new (NULL);

  for (int i = 0; i < g_menu_model_get_n_items (section); i++)
    {
      g_autofree char *label = NULL;

      g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
      g_string_append_printf (labels, "%s%s", i > 0 ? "|" : "", label);
    }

  return g_string_free (g_steal_pointer (&labels), FALSE);
}

static void
test_retailsphere_sign_in (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autofree char *server = NULL;
  g_autofree char *token = NULL;
  g_autofree char *labels = NULL;
  GtkWindow *dialog;
  GtkWidget *server_row;
  GtkWidget *token_row;
  GtkWidget *error_label;

  if (!require_display ())
    return;

  g_settings_reset (settings, "retailsphere-server");
  g_assert_true (wait_for (app_signed_in, GINT_TO_POINTER (FALSE)));

  fixture->window = rs_window_new (app, fixture->store);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_true (wait_for (widget_is_mapped, fixture->window));

  labels = retailsphere_menu_labels (fixture);
  g_assert_cmpstr (labels, ==, "Sign in to Retailsphere…");
  g_clear_pointer (&labels, g_free);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.sign-in-retailsphere", NULL));
  g_assert_true (wait_for (has_toplevel, GSIZE_TO_POINTER (RS_TYPE_RETAILSPHERE_DIALOG)));
  dialog = find_toplevel (RS_TYPE_RETAILSPHERE_DIALOG);
  g_assert_true (gtk_window_get_transient_for (dialog) == GTK_WINDOW (fixture->window));

  /* It says that nothing is lost before signing in. */
  g_assert_nonnull (find_widget (GTK_WIDGET (dialog), is_mapped_label_containing,
                                 "Replies found before you sign in are kept and reported afterwards"));

  server_row = find_widget (GTK_WIDGET (dialog), is_row_titled, "Server address");
  token_row = find_widget (GTK_WIDGET (dialog), is_row_titled, "API token");
  g_assert_nonnull (server_row);
  g_assert_nonnull (token_row);
  g_assert_true (ADW_IS_PASSWORD_ENTRY_ROW (token_row));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (server_row)), ==, "https://app.retailsphere.com");

  /* Plain http to another computer: refused, in words, on the spot. */
  type_into (server_row, "http://retailsphere.example.com");
  type_into (token_row, "rs_live_0123456789");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "retailsphere.sign-in", NULL));
  settle (200);
  error_label = find_widget (GTK_WIDGET (dialog), is_mapped_label_containing, "must start with https://");
  g_assert_nonnull (error_label);
  g_assert_true (gtk_widget_has_css_class (server_row, "error"));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (dialog)));

  /* Nothing was saved. */
  server = g_settings_get_string (settings, "retailsphere-server");
  g_assert_cmpstr (server, ==, "https://app.retailsphere.com");
  g_clear_pointer (&server, g_free);
  token = lookup_token ();
  g_assert_null (token);

  /* Typing clears the error. */
  type_into (server_row, " https://reports.example.com/ ");
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_false (gtk_widget_has_css_class (server_row, "error"));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "retailsphere.sign-in", NULL));
  g_assert_true (wait_for (has_no_toplevel, GSIZE_TO_POINTER (RS_TYPE_RETAILSPHERE_DIALOG)));

  /* The address in the settings, the token in the keyring only. */
  server = g_settings_get_string (settings, "retailsphere-server");
  g_assert_cmpstr (server, ==, "https://reports.example.com/");
  token = lookup_token ();
  g_assert_cmpstr (token, ==, "rs_live_0123456789");
  g_clear_pointer (&token, g_free);

  g_assert_true (wait_for (app_signed_in, GINT_TO_POINTER (TRUE)));
  labels = retailsphere_menu_labels (fixture);
  g_assert_cmpstr (labels, ==, "Signed in to Retailsphere (reports.example.com)|Sign _Out of Retailsphere");
  g_clear_pointer (&labels, g_free);

  /* Sign out deletes the token. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.sign-out-retailsphere", NULL));
  g_assert_true (wait_for (app_signed_in, GINT_TO_POINTER (FALSE)));
  token = lookup_token ();
  g_assert_null (token);
  labels = retailsphere_menu_labels (fixture);
  g_assert_cmpstr (labels, ==, "Sign in to Retailsphere…");

  g_settings_reset (settings, "retailsphere-server");
}

static void
test_retailsphere_cancel (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autofree char *server = NULL;
  g_autofree char *token = NULL;
  GtkWindow *dialog;

  if (!require_display ())
    return;

  g_settings_reset (settings, "retailsphere-server");

  dialog = GTK_WINDOW (rs_retailsphere_dialog_new (NULL, FALSE));
  gtk_window_present (dialog);
  g_assert_true (wait_for (widget_is_mapped, dialog));

  type_into (find_widget (GTK_WIDGET (dialog), is_row_titled, "Server address"), "https://elsewhere.example.com");
  type_into (find_widget (GTK_WIDGET (dialog), is_row_titled, "API token"), "not-saved");

  /* Escape: nothing typed is kept. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "window.close", NULL));
  g_assert_true (wait_for (has_no_toplevel, GSIZE_TO_POINTER (RS_TYPE_RETAILSPHERE_DIALOG)));
  settle (50);

  server = g_settings_get_string (settings, "retailsphere-server");
  g_assert_cmpstr (server, ==, "https://app.retailsphere.com");
  token = lookup_token ();
  g_assert_null (token);
}

/* --background: the real binary, on the session bus. */

static gboolean
name_has_owner (GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", APP_ID), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);

  return has_owner;
}

/* Waits up to @ms for the child to exit; its wait status, or -1. */
static int
wait_exit (GPid  pid,
           guint ms)
{
  for (guint i = 0; i < ms / 20; i++)
    {
      int status;

      if (waitpid (pid, &status, WNOHANG) == pid)
        return status;
      g_usleep (20 * 1000);
    }

  return -1;
}

static GPid
spawn_background (void)
{
  const char *exe = g_getenv ("RS_APP_EXE");
  const char *argv[] = { exe, "--background", NULL };
  g_autoptr(GError) error = NULL;
  GPid pid = 0;

  g_spawn_async (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                 NULL, NULL, &pid, &error);
  g_assert_no_error (error);

  return pid;
}

static gboolean
require_app_exe (void)
{
  if (g_getenv ("RS_APP_EXE") == NULL)
    {
      g_test_skip ("RS_APP_EXE is not set: run through meson test");
      return FALSE;
    }

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      if (g_getenv ("RS_TEST_SESSION") != NULL)
        g_test_fail_printf ("RS_TEST_SESSION is set but there is no session bus");
      else
        g_test_skip ("No session bus: run through tests/harness/rs-session-run (meson test)");
      return FALSE;
    }

  return TRUE;
}

static void
test_background_no_account (void)
{
  g_autofree char *path = rs_account_store_default_path ();
  GPid pid;
  int status;

  if (!require_app_exe ())
    return;

  g_unlink (path);

  /* Nothing to watch: it ends at once. */
  pid = spawn_background ();
  status = wait_exit (pid, 10000);
  g_assert_cmpint (status, !=, -1);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_spawn_close_pid (pid);
}

static void
test_background_keeps_running (void)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(RsAccount) account = NULL;
  g_autoptr(GVariant) introspection = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = rs_account_store_default_path ();
  const char *xml;
  GPid pid;
  int status;

  if (!require_app_exe ())
    return;

  /* One connected account in the user's (the session's) own store. */
  store = rs_account_store_new (NULL);
  rs_account_store_load (store, &error);
  g_assert_no_error (error);
  account = new_imap_account ("background@example.com");
  rs_account_store_add (store, account, &error);
  g_assert_no_error (error);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);

  pid = spawn_background ();

  for (guint i = 0; i < 250 && !name_has_owner (bus); i++)
    g_usleep (20 * 1000);
  g_assert_true (name_has_owner (bus));

  /* Alive two seconds later, with no window. */
  g_assert_cmpint (wait_exit (pid, 2000), ==, -1);
  g_assert_true (name_has_owner (bus));

  introspection = g_dbus_connection_call_sync (bus, APP_ID, "/com/retailsphere/Settings",
                                               "org.freedesktop.DBus.Introspectable", "Introspect",
                                               NULL, G_VARIANT_TYPE ("(s)"),
                                               G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (introspection, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "org.gtk.Actions"));
  g_assert_null (strstr (xml, "<node name=\"window\""));

  /* app.quit over D-Bus ends it, cleanly. */
  reply = g_dbus_connection_call_sync (bus, APP_ID, "/com/retailsphere/Settings",
                                       "org.gtk.Actions", "Activate",
                                       g_variant_new ("(sava{sv})", "quit", NULL, NULL),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);

  status = wait_exit (pid, 10000);
  if (status == -1)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      g_error ("retailsphere-settings --background did not quit through app.quit");
    }
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_spawn_close_pid (pid);

  rs_account_store_remove (store, rs_account_get_id (account), &error);
  g_assert_no_error (error);
  g_unlink (path);
}

/* Not a test: with RS_SCREENSHOT_DIR set, pictures of the Activity window
 * with a few replies, taken with import(1) from the Xvfb screen. */
static void
test_screenshots (Fixture       *fixture,
                  gconstpointer  data)
{
  int width = GPOINTER_TO_INT (data);
  g_autofree char *file_name = g_strdup_printf ("activity-%d.png", width);
  RsActivityWindow *window;

  if (!require_screenshot_dir () || !require_display ())
    return;

  fill_three_replies (fixture);
  window = present_activity (fixture, width);
  save_screenshot (GTK_WIDGET (window), file_name);
}

static void
test_sign_in_screenshot (Fixture       *fixture,
                         gconstpointer  data)
{
  GtkWindow *dialog;

  if (!require_screenshot_dir () || !require_display ())
    return;

  dialog = GTK_WINDOW (rs_retailsphere_dialog_new (NULL, FALSE));
  gtk_window_set_default_size (dialog, 360, 560);
  gtk_window_present (dialog);
  g_assert_true (wait_for (widget_is_mapped, dialog));

  type_into (find_widget (GTK_WIDGET (dialog), is_row_titled, "Server address"), "http://retailsphere.example.com");
  type_into (find_widget (GTK_WIDGET (dialog), is_row_titled, "API token"), "rs_live_0123456789");
  gtk_widget_activate_action (GTK_WIDGET (dialog), "retailsphere.sign-in", NULL);
  save_screenshot (GTK_WIDGET (dialog), "retailsphere-sign-in-360.png");
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = ui_test_init (&argc, &argv);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  ADD ("/ui/activity/replies", test_activity_replies, NULL);
  ADD ("/ui/activity/other-account", test_activity_other_account, NULL);
  ADD ("/ui/activity/empty", test_activity_empty, NULL);
  ADD ("/ui/activity/from-row-menu", test_activity_from_row_menu, NULL);
  ADD ("/ui/retailsphere/sign-in", test_retailsphere_sign_in, NULL);
  ADD ("/ui/retailsphere/cancel", test_retailsphere_cancel, NULL);
  ADD ("/ui/activity/screenshot-480", test_screenshots, GINT_TO_POINTER (480));
  ADD ("/ui/activity/screenshot-360", test_screenshots, GINT_TO_POINTER (360));
  ADD ("/ui/retailsphere/screenshot-360", test_sign_in_screenshot, NULL);

#undef ADD

  g_test_add_func ("/ui/background/no-account", test_background_no_account);
  g_test_add_func ("/ui/background/keeps-running", test_background_keeps_running);

  ret = g_test_run ();

  g_clear_object (&app);

  return ret;
}
