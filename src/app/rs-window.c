/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-activity-window.h"
#include "rs-connected-apps-page.h"
#include "rs-email-dialog.h"
#include "rs-page-state.h"
#include "rs-retailsphere-dialog.h"
#include "rs-retailsphere-server.h"
#include "rs-secret-store.h"
#include "rs-window.h"

struct _RsWindow
{
  AdwApplicationWindow  parent_instance;

  RsAccountStore       *store;
  GSettings            *settings;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkListBox           *sidebar_list;
  GtkListBoxRow        *connected_apps_row;
  GtkWidget            *content;
  AdwWindowTitle       *page_title;
  GtkStack             *stack;
  GtkMenuButton        *account_menu_button;
  AdwAvatar            *avatar;
  RsConnectedAppsPage  *connected_apps_page;
  GMenu                *retailsphere_section;
};

G_DEFINE_FINAL_TYPE (RsWindow, rs_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_ACCOUNT_STORE,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
rs_window_restore_size (RsWindow *self)
{
  int width;
  int height;

  g_assert (RS_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");

  gtk_window_set_default_size (GTK_WINDOW (self), MAX (width, 360), MAX (height, 294));

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
rs_window_save_size (RsWindow *self)
{
  int width;
  int height;

  g_assert (RS_IS_WINDOW (self));

  if (self->settings == NULL)
    return;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);

  g_settings_delay (self->settings);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  if (width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_apply (self->settings);
}

static void
rs_window_update_title (RsWindow *self)
{
  GtkWidget *child;
  GtkStackPage *page;

  g_assert (RS_IS_WINDOW (self));

  child = gtk_stack_get_visible_child (self->stack);
  if (child == NULL)
    return;

  page = gtk_stack_get_page (self->stack, child);
  adw_window_title_set_title (self->page_title, gtk_stack_page_get_title (page));
}

static void
rs_window_present_unavailable (RsWindow             *self,
                               RsUnavailableFeature  feature)
{
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  g_assert (RS_IS_WINDOW (self));

  rs_unavailable_message (feature, &heading, &body);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");

  gtk_window_present (GTK_WINDOW (dialog));
}

static RsApplication *
rs_window_get_rs_application (RsWindow *self)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

  return RS_IS_APPLICATION (application) ? RS_APPLICATION (application) : NULL;
}

static gboolean
rs_window_get_signed_in (RsWindow *self)
{
  RsApplication *application = rs_window_get_rs_application (self);

  return application != NULL && rs_application_get_signed_in (application);
}

/* The avatar menu's first section: "Sign in to Retailsphere…", or who the
 * computer is signed in to and "Sign Out of Retailsphere". */
static void
rs_window_update_retailsphere_menu (RsWindow *self)
{
  g_assert (RS_IS_WINDOW (self));

  g_menu_remove_all (self->retailsphere_section);

  if (rs_window_get_signed_in (self))
    {
      g_autofree char *server = NULL;
      g_autofree char *label = NULL;

      if (self->settings != NULL)
        server = g_settings_get_string (self->settings, "retailsphere-server");
      label = rs_retailsphere_signed_in_label (server != NULL ? server : "");

      g_menu_append (self->retailsphere_section, label, "win.sign-in-retailsphere");
      g_menu_append (self->retailsphere_section, _("Sign _Out of Retailsphere"),
                     "win.sign-out-retailsphere");
    }
  else
    {
      g_menu_append (self->retailsphere_section, _("Sign in to Retailsphere…"),
                     "win.sign-in-retailsphere");
    }

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out-retailsphere",
                                 rs_window_get_signed_in (self));
}

static void
signed_in_changed_cb (RsWindow      *self,
                      GParamSpec    *pspec,
                      RsApplication *application)
{
  g_assert (RS_IS_WINDOW (self));

  rs_window_update_retailsphere_menu (self);
}

/* GtkWindow:application is set after construction. */
static void
application_changed_cb (RsWindow   *self,
                        GParamSpec *pspec,
                        gpointer    user_data)
{
  RsApplication *application = rs_window_get_rs_application (self);

  g_assert (RS_IS_WINDOW (self));

  if (application != NULL)
    g_signal_connect_object (application, "notify::signed-in",
                             G_CALLBACK (signed_in_changed_cb), self,
                             G_CONNECT_SWAPPED);

  rs_window_update_retailsphere_menu (self);
}

static void
retailsphere_signed_in_cb (RsWindow             *self,
                           RsRetailsphereDialog *dialog)
{
  RsApplication *application = rs_window_get_rs_application (self);

  g_assert (RS_IS_WINDOW (self));

  if (application != NULL)
    rs_application_set_signed_in (application, TRUE);

  /* The server address may have changed while signed in. */
  rs_window_update_retailsphere_menu (self);
  rs_window_add_toast (self, adw_toast_new (_("Signed in to Retailsphere")));
}

static void
api_token_deleted_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(RsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  RsApplication *application;

  g_assert (RS_IS_WINDOW (self));

  if (!rs_secret_store_delete_finish (result, &error))
    {
      g_debug ("%s", error->message);
      rs_window_add_toast (self, adw_toast_new (_("Could not sign out of Retailsphere: the "
                                                  "keyring did not remove the token")));
      return;
    }

  application = rs_window_get_rs_application (self);
  if (application != NULL)
    rs_application_set_signed_in (application, FALSE);

  rs_window_add_toast (self, adw_toast_new (_("Signed out of Retailsphere. Replies are kept "
                                              "and reported when you sign in again.")));
}

static void
rs_window_sign_out_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  RsWindow *self = RS_WINDOW (widget);

  rs_secret_store_delete_async (RS_SECRET_RETAILSPHERE_ID, NULL,
                                api_token_deleted_cb, g_object_ref (self));
}

static void
leaflet_folded_changed_cb (RsWindow   *self,
                           GParamSpec *pspec,
                           AdwLeaflet *leaflet)
{
  g_assert (RS_IS_WINDOW (self));

  /* Unfolded, the sidebar shows which page is open. */
  if (!adw_leaflet_get_folded (self->leaflet))
    gtk_list_box_select_row (self->sidebar_list, self->connected_apps_row);
}

static void
sidebar_row_activated_cb (RsWindow      *self,
                          GtkListBoxRow *row,
                          GtkListBox    *list)
{
  g_assert (RS_IS_WINDOW (self));

  gtk_stack_set_visible_child_name (self->stack, gtk_widget_get_name (GTK_WIDGET (row)));
  rs_window_update_title (self);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
rs_window_show_settings_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *parameter)
{
  rs_window_show_settings (RS_WINDOW (widget));
}

static void
rs_window_sign_in_email_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *parameter)
{
  RsWindow *self = RS_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (rs_email_dialog_new (GTK_WINDOW (self), self->store)));
}

static void
rs_window_sign_in_retailsphere_action (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *parameter)
{
  RsWindow *self = RS_WINDOW (widget);
  RsRetailsphereDialog *dialog;

  dialog = rs_retailsphere_dialog_new (GTK_WINDOW (self), rs_window_get_signed_in (self));
  g_signal_connect_object (dialog, "signed-in",
                           G_CALLBACK (retailsphere_signed_in_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Google sign-in (OAuth) arrives in a later version; until then it says
 * so plainly rather than pretending to work. */
static void
rs_window_sign_in_gmail_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *parameter)
{
  rs_window_present_unavailable (RS_WINDOW (widget), RS_UNAVAILABLE_GMAIL_SIGN_IN);
}

static gboolean
rs_window_close_request (GtkWindow *window)
{
  rs_window_save_size (RS_WINDOW (window));

  return GTK_WINDOW_CLASS (rs_window_parent_class)->close_request (window);
}

static void
rs_window_constructed (GObject *object)
{
  RsWindow *self = (RsWindow *)object;

  G_OBJECT_CLASS (rs_window_parent_class)->constructed (object);

  if (self->store == NULL)
    {
      g_autoptr(GError) error = NULL;

      self->store = rs_account_store_new (NULL);
      if (!rs_account_store_load (self->store, &error))
        rs_window_add_toast (self, adw_toast_new (error->message));
    }

  rs_connected_apps_page_set_account_store (self->connected_apps_page, self->store);

  rs_window_update_retailsphere_menu (self);
}

static void
rs_window_dispose (GObject *object)
{
  RsWindow *self = (RsWindow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_WINDOW);

  g_clear_object (&self->store);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (rs_window_parent_class)->dispose (object);
}

static void
rs_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  RsWindow *self = RS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  RsWindow *self = RS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STORE:
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_window_class_init (RsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = rs_window_constructed;
  object_class->dispose = rs_window_dispose;
  object_class->get_property = rs_window_get_property;
  object_class->set_property = rs_window_set_property;

  window_class->close_request = rs_window_close_request;

  /**
   * RsWindow:account-store:
   *
   * The accounts the window shows; a store of the default file when unset.
   */
  properties [PROP_ACCOUNT_STORE] =
    g_param_spec_object ("account-store", NULL, NULL,
                         RS_TYPE_ACCOUNT_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (RS_TYPE_CONNECTED_APPS_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/ui/rs-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, connected_apps_row);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, content);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, page_title);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, account_menu_button);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, avatar);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, connected_apps_page);
  gtk_widget_class_bind_template_child (widget_class, RsWindow, retailsphere_section);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_folded_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.show-settings", NULL,
                                   rs_window_show_settings_action);
  gtk_widget_class_install_action (widget_class, "win.sign-in-retailsphere", NULL,
                                   rs_window_sign_in_retailsphere_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out-retailsphere", NULL,
                                   rs_window_sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.sign-in-gmail", NULL,
                                   rs_window_sign_in_gmail_action);
  gtk_widget_class_install_action (widget_class, "win.sign-in-email", NULL,
                                   rs_window_sign_in_email_action);
}

static void
rs_window_init (RsWindow *self)
{
  g_autofree char *avatar_text = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  avatar_text = rs_avatar_text (g_get_real_name (), g_get_user_name ());
  adw_avatar_set_text (self->avatar, avatar_text);

  self->settings = rs_application_create_settings ("the window size will not be kept");
  rs_window_restore_size (self);

  g_signal_connect (self, "notify::application", G_CALLBACK (application_changed_cb), NULL);

  gtk_list_box_select_row (self->sidebar_list, self->connected_apps_row);
  rs_window_update_title (self);

  /* The Settings view is where the window opens. */
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

/**
 * rs_window_new:
 * @application: the application
 * @store: (nullable): the accounts to show, or %NULL for the user's
 *
 * Returns: (transfer none): a new window, owned by @application
 */
RsWindow *
rs_window_new (RsApplication  *application,
               RsAccountStore *store)
{
  g_return_val_if_fail (RS_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (store == NULL || RS_IS_ACCOUNT_STORE (store), NULL);

  return g_object_new (RS_TYPE_WINDOW,
                       "application", application,
                       "account-store", store,
                       NULL);
}

/**
 * rs_window_get_account_store:
 *
 * Returns: (transfer none): the accounts the window shows
 */
RsAccountStore *
rs_window_get_account_store (RsWindow *self)
{
  g_return_val_if_fail (RS_IS_WINDOW (self), NULL);

  return self->store;
}

/**
 * rs_window_add_toast:
 * @toast: (transfer full): the toast
 *
 * Shows an error that needs no decision, or a confirmation.
 */
void
rs_window_add_toast (RsWindow *self,
                     AdwToast *toast)
{
  g_return_if_fail (RS_IS_WINDOW (self));
  g_return_if_fail (ADW_IS_TOAST (toast));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/**
 * rs_window_show_settings:
 *
 * Shows the Settings navigation: when the window is narrow, goes back to
 * the sidebar; otherwise moves the keyboard focus to it.
 */
void
rs_window_show_settings (RsWindow *self)
{
  GtkListBoxRow *row;

  g_return_if_fail (RS_IS_WINDOW (self));

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child (self->leaflet, self->sidebar);

  row = gtk_list_box_get_selected_row (self->sidebar_list);
  if (row == NULL)
    row = self->connected_apps_row;

  gtk_widget_grab_focus (GTK_WIDGET (row));
}

/**
 * rs_window_show_activity:
 * @account: the account whose replies to show
 *
 * Opens the Activity window of @account: the replies found, and exactly
 * what is reported of each.
 */
void
rs_window_show_activity (RsWindow  *self,
                         RsAccount *account)
{
  RsApplication *application;
  RsActivityWindow *activity;
  g_autofree char *store_path = NULL;

  g_return_if_fail (RS_IS_WINDOW (self));
  g_return_if_fail (RS_IS_ACCOUNT (account));

  application = rs_window_get_rs_application (self);
  if (application != NULL)
    store_path = rs_application_get_reply_store_path (application);

  activity = rs_activity_window_new (GTK_WINDOW (self), account, store_path);
  rs_activity_window_set_signed_in (activity, rs_window_get_signed_in (self));

  /* The application reloads it when the worker finds or reports replies. */
  if (application != NULL)
    gtk_window_set_application (GTK_WINDOW (activity), GTK_APPLICATION (application));

  gtk_window_present (GTK_WINDOW (activity));
}
