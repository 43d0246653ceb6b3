/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-retailsphere-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-application.h"
#include "rs-retailsphere-dialog.h"
#include "rs-retailsphere-server.h"
#include "rs-secret-store.h"

/* Sign in to Retailsphere: the server address, kept in GSettings, and an
 * API token, kept only in the keyring.  The address is bound to the
 * setting in delayed mode, so that nothing is written before it has been
 * checked and the token saved. */

struct _RsRetailsphereDialog
{
  AdwWindow            parent_instance;

  GSettings           *settings;
  GCancellable        *cancellable;
  gboolean             signed_in;
  gboolean             busy;

  /* Template widgets */
  AdwEntryRow         *server_row;
  AdwPasswordEntryRow *token_row;
  GtkLabel            *error_label;
  GtkWidget           *sign_in_button;
};

G_DEFINE_FINAL_TYPE (RsRetailsphereDialog, rs_retailsphere_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SIGNED_IN,
  N_PROPS
};

enum {
  SIGNED_IN,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

static void
rs_retailsphere_dialog_show_error (RsRetailsphereDialog *self,
                                   GtkWidget            *row,
                                   const char           *message)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);

  gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->token_row), "error");
  gtk_accessible_reset_property (GTK_ACCESSIBLE (self->server_row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  gtk_accessible_reset_property (GTK_ACCESSIBLE (self->token_row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

  if (row != NULL)
    {
      gtk_widget_add_css_class (row, "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
      gtk_widget_grab_focus (row);
    }
}

static void
rs_retailsphere_dialog_set_busy (RsRetailsphereDialog *self,
                                 gboolean              busy)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  /* The rows stay as they are: the keyring answers at once, or asks to
   * be unlocked in its own window. */
  self->busy = busy;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "retailsphere.sign-in", !busy);
}

static void
rs_retailsphere_dialog_finish (RsRetailsphereDialog *self)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  if (self->settings != NULL)
    g_settings_apply (self->settings);

  g_signal_emit (self, signals [SIGNED_IN], 0);
  gtk_window_close (GTK_WINDOW (self));
}

static void
token_saved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RsRetailsphereDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!rs_secret_store_save_api_token_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      rs_retailsphere_dialog_set_busy (self, FALSE);
      rs_retailsphere_dialog_show_error (self, GTK_WIDGET (self->token_row), error->message);
      return;
    }

  rs_retailsphere_dialog_finish (self);
}

static void
rs_retailsphere_dialog_sign_in_action (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *parameter)
{
  RsRetailsphereDialog *self = RS_RETAILSPHERE_DIALOG (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *server = NULL;
  const char *token;

  if (self->busy)
    return;

  server = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));
  if (!rs_retailsphere_check_server (server, NULL, &error))
    {
      rs_retailsphere_dialog_show_error (self, GTK_WIDGET (self->server_row), error->message);
      return;
    }

  token = gtk_editable_get_text (GTK_EDITABLE (self->token_row));
  if (token[0] == '\0' && !self->signed_in)
    {
      rs_retailsphere_dialog_show_error (self, GTK_WIDGET (self->token_row),
                                         _("Paste your API token from your Retailsphere "
                                           "account settings."));
      return;
    }

  if (strpbrk (token, " \t\r\n") != NULL)
    {
      rs_retailsphere_dialog_show_error (self, GTK_WIDGET (self->token_row),
                                         _("An API token has no spaces or line breaks. "
                                           "Copy it again from your Retailsphere account settings."));
      return;
    }

  rs_retailsphere_dialog_show_error (self, NULL, NULL);

  /* The address as checked, without the spaces around it. */
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "retailsphere-server", server);

  /* Already signed in and no new token: only the address changes. */
  if (token[0] == '\0')
    {
      rs_retailsphere_dialog_finish (self);
      return;
    }

  rs_retailsphere_dialog_set_busy (self, TRUE);
  rs_secret_store_save_api_token_async (token, self->cancellable,
                                        token_saved_cb, g_object_ref (self));
}

static void
server_changed_cb (RsRetailsphereDialog *self,
                   GtkEditable          *editable)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  if (gtk_widget_has_css_class (GTK_WIDGET (self->server_row), "error"))
    rs_retailsphere_dialog_show_error (self, NULL, NULL);
}

static void
token_changed_cb (RsRetailsphereDialog *self,
                  GtkEditable          *editable)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  if (gtk_widget_has_css_class (GTK_WIDGET (self->token_row), "error"))
    rs_retailsphere_dialog_show_error (self, NULL, NULL);
}

static void
entry_activated_cb (RsRetailsphereDialog *self,
                    AdwEntryRow          *row)
{
  g_assert (RS_IS_RETAILSPHERE_DIALOG (self));

  gtk_widget_activate_action (GTK_WIDGET (self), "retailsphere.sign-in", NULL);
}

static void
rs_retailsphere_dialog_constructed (GObject *object)
{
  RsRetailsphereDialog *self = (RsRetailsphereDialog *)object;

  G_OBJECT_CLASS (rs_retailsphere_dialog_parent_class)->constructed (object);

  if (self->signed_in)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Retailsphere Sign-In"));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->token_row),
                                     _("New API token (optional)"));
      gtk_button_set_label (GTK_BUTTON (self->sign_in_button), _("_Save"));
    }
}

static void
rs_retailsphere_dialog_dispose (GObject *object)
{
  RsRetailsphereDialog *self = (RsRetailsphereDialog *)object;

  g_cancellable_cancel (self->cancellable);

  /* Closed without signing in: the address stays as it was. */
  if (self->settings != NULL)
    g_settings_revert (self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_RETAILSPHERE_DIALOG);

  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (rs_retailsphere_dialog_parent_class)->dispose (object);
}

static void
rs_retailsphere_dialog_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  RsRetailsphereDialog *self = RS_RETAILSPHERE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_SIGNED_IN:
      g_value_set_boolean (value, self->signed_in);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_retailsphere_dialog_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  RsRetailsphereDialog *self = RS_RETAILSPHERE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_SIGNED_IN:
      self->signed_in = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_retailsphere_dialog_class_init (RsRetailsphereDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = rs_retailsphere_dialog_constructed;
  object_class->dispose = rs_retailsphere_dialog_dispose;
  object_class->get_property = rs_retailsphere_dialog_get_property;
  object_class->set_property = rs_retailsphere_dialog_set_property;

  /**
   * RsRetailsphereDialog:signed-in:
   *
   * Whether a token is saved already: then a new one is optional.
   */
  properties [PROP_SIGNED_IN] =
    g_param_spec_boolean ("signed-in", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RsRetailsphereDialog::signed-in:
   *
   * The token is in the keyring and the address in the settings.
   */
  signals [SIGNED_IN] =
    g_signal_new ("signed-in",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/ui/rs-retailsphere-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, RsRetailsphereDialog, server_row);
  gtk_widget_class_bind_template_child (widget_class, RsRetailsphereDialog, token_row);
  gtk_widget_class_bind_template_child (widget_class, RsRetailsphereDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, RsRetailsphereDialog, sign_in_button);
  gtk_widget_class_bind_template_callback (widget_class, server_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, token_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);

  gtk_widget_class_install_action (widget_class, "retailsphere.sign-in", NULL,
                                   rs_retailsphere_dialog_sign_in_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
rs_retailsphere_dialog_init (RsRetailsphereDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->settings = rs_application_create_settings ("the server address cannot be saved");

  if (self->settings != NULL)
    {
      g_settings_delay (self->settings);
      g_settings_bind (self->settings, "retailsphere-server",
                       self->server_row, "text",
                       G_SETTINGS_BIND_DEFAULT);
    }
}

/**
 * rs_retailsphere_dialog_new:
 * @parent: (nullable): the window it belongs to
 * @signed_in: whether a token is saved already
 */
RsRetailsphereDialog *
rs_retailsphere_dialog_new (GtkWindow *parent,
                            gboolean   signed_in)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);

  return g_object_new (RS_TYPE_RETAILSPHERE_DIALOG,
                       "transient-for", parent,
                       "signed-in", signed_in,
                       NULL);
}
