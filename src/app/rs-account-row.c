/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-account-row"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-account-row.h"
#include "rs-account-setup.h"
#include "rs-account-status.h"
#include "rs-window.h"

struct _RsAccountRow
{
  AdwActionRow    parent_instance;

  RsAccount      *account;
  RsAccountStore *store;

  /* Keeps "last checked 5 min ago" true while the window stays open. */
  guint           refresh_id;

  /* Template widgets */
  GtkImage       *icon;
  GtkImage       *attention_icon;
  GtkMenuButton  *menu_button;
};

G_DEFINE_FINAL_TYPE (RsAccountRow, rs_account_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_ACCOUNT_STORE,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
rs_account_row_update (RsAccountRow *self)
{
  g_autoptr(RsAccountStatus) status = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *menu_label = NULL;

  g_assert (RS_IS_ACCOUNT_ROW (self));

  if (self->account == NULL)
    return;

  now = g_date_time_new_now_utc ();
  status = rs_account_status_new (self->account, now);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), status->title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), status->subtitle);
  gtk_image_set_from_icon_name (self->icon, status->icon_name);
  gtk_widget_set_visible (GTK_WIDGET (self->attention_icon), status->needs_attention);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  status->accessible_description,
                                  -1);

  /* Translators: %s is an email address */
  menu_label = g_strdup_printf (_("Account actions for %s"), status->title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, menu_label,
                                  -1);
}

static void
remove_finished_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(RsAccountRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  GtkWidget *window;

  g_assert (RS_IS_ACCOUNT_ROW (self));

  if (rs_account_setup_remove_finish (RS_ACCOUNT_SETUP (object), result, &error))
    return;

  /* The toast says it to the user; the details go to the journal. */
  g_debug ("%s", error->message);

  window = gtk_widget_get_ancestor (GTK_WIDGET (self), RS_TYPE_WINDOW);
  if (window == NULL)
    return;

  /* Translators: %s is an email address */
  title = g_strdup_printf (_("Could not remove %s"), rs_account_get_address (self->account));
  rs_window_add_toast (RS_WINDOW (window), adw_toast_new (title));
}

static void
rs_account_row_remove_confirmed (RsAccountRow *self)
{
  g_autoptr(RsAccountSetup) setup = NULL;

  g_assert (RS_IS_ACCOUNT_ROW (self));

  if (self->store == NULL || self->account == NULL)
    return;

  /* Secrets first, then settings: a keyring failure leaves the account
   * visible, to be removed again, rather than orphaning its password. */
  setup = rs_account_setup_new (self->store);
  rs_account_setup_remove_async (setup, rs_account_get_id (self->account), NULL,
                                 remove_finished_cb, g_object_ref (self));
}

static void
remove_dialog_response_cb (AdwMessageDialog *dialog,
                           const char       *response,
                           gpointer          user_data)
{
  g_autoptr(RsAccountRow) self = user_data;

  g_assert (RS_IS_ACCOUNT_ROW (self));

  if (g_strcmp0 (response, "remove") == 0)
    rs_account_row_remove_confirmed (self);
}

static gboolean
refresh_cb (gpointer user_data)
{
  RsAccountRow *self = user_data;

  g_assert (RS_IS_ACCOUNT_ROW (self));

  rs_account_row_update (self);

  return G_SOURCE_CONTINUE;
}

static void
account_notify_cb (RsAccountRow *self,
                   GParamSpec   *pspec,
                   RsAccount    *account)
{
  g_assert (RS_IS_ACCOUNT_ROW (self));

  rs_account_row_update (self);
}

static void
rs_account_row_activity_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *parameter)
{
  RsAccountRow *self = RS_ACCOUNT_ROW (widget);
  GtkWidget *window = gtk_widget_get_ancestor (widget, RS_TYPE_WINDOW);

  if (window != NULL)
    rs_window_show_activity (RS_WINDOW (window), self->account);
}

static void
rs_account_row_remove_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  RsAccountRow *self = RS_ACCOUNT_ROW (widget);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: %s is an email address */
  heading = g_strdup_printf (_("Remove %s?"), rs_account_get_address (self->account));

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                   _("Retailsphere will stop sending from this mailbox and "
                                     "watching it for replies. The mail in it is not touched."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  g_signal_connect (dialog, "response",
                    G_CALLBACK (remove_dialog_response_cb),
                    g_object_ref (self));

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
rs_account_row_constructed (GObject *object)
{
  RsAccountRow *self = (RsAccountRow *)object;

  G_OBJECT_CLASS (rs_account_row_parent_class)->constructed (object);

  g_signal_connect_object (self->account, "notify",
                           G_CALLBACK (account_notify_cb), self,
                           G_CONNECT_SWAPPED);
  rs_account_row_update (self);

  self->refresh_id = g_timeout_add_seconds (60, refresh_cb, self);
}

static void
rs_account_row_dispose (GObject *object)
{
  RsAccountRow *self = (RsAccountRow *)object;

  g_clear_handle_id (&self->refresh_id, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_ACCOUNT_ROW);

  g_clear_object (&self->account);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (rs_account_row_parent_class)->dispose (object);
}

static void
rs_account_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  RsAccountRow *self = RS_ACCOUNT_ROW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;

    case PROP_ACCOUNT_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_account_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  RsAccountRow *self = RS_ACCOUNT_ROW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;

    case PROP_ACCOUNT_STORE:
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_account_row_class_init (RsAccountRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = rs_account_row_constructed;
  object_class->dispose = rs_account_row_dispose;
  object_class->get_property = rs_account_row_get_property;
  object_class->set_property = rs_account_row_set_property;

  properties [PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         RS_TYPE_ACCOUNT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties [PROP_ACCOUNT_STORE] =
    g_param_spec_object ("account-store", NULL, NULL,
                         RS_TYPE_ACCOUNT_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/ui/rs-account-row.ui");
  gtk_widget_class_bind_template_child (widget_class, RsAccountRow, icon);
  gtk_widget_class_bind_template_child (widget_class, RsAccountRow, attention_icon);
  gtk_widget_class_bind_template_child (widget_class, RsAccountRow, menu_button);

  gtk_widget_class_install_action (widget_class, "row.activity", NULL,
                                   rs_account_row_activity_action);
  gtk_widget_class_install_action (widget_class, "row.remove", NULL,
                                   rs_account_row_remove_action);
}

static void
rs_account_row_init (RsAccountRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * rs_account_row_new:
 * @store: (nullable): the store to remove the account from
 */
GtkWidget *
rs_account_row_new (RsAccount      *account,
                    RsAccountStore *store)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (store == NULL || RS_IS_ACCOUNT_STORE (store), NULL);

  return g_object_new (RS_TYPE_ACCOUNT_ROW,
                       "account", account,
                       "account-store", store,
                       NULL);
}

/**
 * rs_account_row_get_account:
 *
 * Returns: (transfer none): the account the row shows
 */
RsAccount *
rs_account_row_get_account (RsAccountRow *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT_ROW (self), NULL);

  return self->account;
}
