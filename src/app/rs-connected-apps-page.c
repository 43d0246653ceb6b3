/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-connected-apps-page"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-account-row.h"
#include "rs-connected-apps-page.h"
#include "rs-page-state.h"

struct _RsConnectedAppsPage
{
  AdwPreferencesPage    parent_instance;

  RsAccountStore       *store;

  /* Template widgets */
  AdwPreferencesGroup  *accounts_group;
  GtkListBox           *accounts_list;
  GtkWidget            *empty_state;
  GtkImage             *empty_image;
  GtkLabel             *empty_title;
  GtkLabel             *empty_description;
};

G_DEFINE_FINAL_TYPE (RsConnectedAppsPage, rs_connected_apps_page, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_ACCOUNT_STORE,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
rs_connected_apps_page_update (RsConnectedAppsPage *self)
{
  g_autoptr(RsConnectedAppsState) state = NULL;
  guint n_accounts = 0;

  g_assert (RS_IS_CONNECTED_APPS_PAGE (self));

  if (self->store != NULL)
    n_accounts = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  state = rs_connected_apps_state_new (n_accounts);

  gtk_widget_set_visible (GTK_WIDGET (self->accounts_list), state->show_accounts_list);
  gtk_widget_set_visible (self->empty_state, state->show_empty_state);
  gtk_image_set_from_icon_name (self->empty_image, state->empty_icon_name);
  gtk_label_set_label (self->empty_title, state->empty_title);
  gtk_label_set_label (self->empty_description, state->empty_description);
  adw_preferences_group_set_description (self->accounts_group, state->accounts_description);
}

static GtkWidget *
create_account_row_cb (gpointer item,
                       gpointer user_data)
{
  RsConnectedAppsPage *self = user_data;

  g_assert (RS_IS_CONNECTED_APPS_PAGE (self));
  g_assert (RS_IS_ACCOUNT (item));

  return rs_account_row_new (RS_ACCOUNT (item), self->store);
}

static void
store_items_changed_cb (RsConnectedAppsPage *self,
                        guint                position,
                        guint                removed,
                        guint                added,
                        GListModel          *model)
{
  g_assert (RS_IS_CONNECTED_APPS_PAGE (self));

  rs_connected_apps_page_update (self);
}

static void
rs_connected_apps_page_dispose (GObject *object)
{
  RsConnectedAppsPage *self = (RsConnectedAppsPage *)object;

  if (self->accounts_list != NULL)
    gtk_list_box_bind_model (self->accounts_list, NULL, NULL, NULL, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_CONNECTED_APPS_PAGE);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (rs_connected_apps_page_parent_class)->dispose (object);
}

static void
rs_connected_apps_page_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  RsConnectedAppsPage *self = RS_CONNECTED_APPS_PAGE (object);

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
rs_connected_apps_page_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  RsConnectedAppsPage *self = RS_CONNECTED_APPS_PAGE (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STORE:
      rs_connected_apps_page_set_account_store (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_connected_apps_page_class_init (RsConnectedAppsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = rs_connected_apps_page_dispose;
  object_class->get_property = rs_connected_apps_page_get_property;
  object_class->set_property = rs_connected_apps_page_set_property;

  properties [PROP_ACCOUNT_STORE] =
    g_param_spec_object ("account-store", NULL, NULL,
                         RS_TYPE_ACCOUNT_STORE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/ui/rs-connected-apps-page.ui");
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, accounts_group);
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, empty_state);
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, empty_image);
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, empty_title);
  gtk_widget_class_bind_template_child (widget_class, RsConnectedAppsPage, empty_description);
}

static void
rs_connected_apps_page_init (RsConnectedAppsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  rs_connected_apps_page_update (self);
}

GtkWidget *
rs_connected_apps_page_new (void)
{
  return g_object_new (RS_TYPE_CONNECTED_APPS_PAGE, NULL);
}

/**
 * rs_connected_apps_page_get_account_store:
 *
 * Returns: (transfer none) (nullable): the accounts shown
 */
RsAccountStore *
rs_connected_apps_page_get_account_store (RsConnectedAppsPage *self)
{
  g_return_val_if_fail (RS_IS_CONNECTED_APPS_PAGE (self), NULL);

  return self->store;
}

void
rs_connected_apps_page_set_account_store (RsConnectedAppsPage *self,
                                          RsAccountStore      *store)
{
  g_return_if_fail (RS_IS_CONNECTED_APPS_PAGE (self));
  g_return_if_fail (store == NULL || RS_IS_ACCOUNT_STORE (store));

  if (self->store == store)
    return;

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, store_items_changed_cb, self);

  g_set_object (&self->store, store);

  if (store != NULL)
    {
      gtk_list_box_bind_model (self->accounts_list, G_LIST_MODEL (store),
                               create_account_row_cb, self, NULL);
      g_signal_connect_object (store, "items-changed",
                               G_CALLBACK (store_items_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }
  else
    {
      gtk_list_box_bind_model (self->accounts_list, NULL, NULL, NULL, NULL);
    }

  rs_connected_apps_page_update (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACCOUNT_STORE]);
}
