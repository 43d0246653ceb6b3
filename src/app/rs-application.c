/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-application"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-activity-window.h"
#include "rs-application.h"
#include "rs-secret-store.h"
#include "rs-window.h"

struct _RsApplication
{
  AdwApplication  parent_instance;

  /* Created on first use, so that a remote instance never reads it. */
  RsAccountStore *store;
  GError         *load_error;

  /* Started by the first window or by --background; kept alive (held)
   * while at least one account is connected, window or not. */
  RsWorker       *worker;
  gboolean        held;
  gboolean        background_requested;

  gboolean        signed_in;
  GCancellable   *cancellable;
};

G_DEFINE_FINAL_TYPE (RsApplication, rs_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_SIGNED_IN,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static const GOptionEntry option_entries[] = {
  { "background", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Start without a window and keep watching the connected mailboxes"), NULL },
  { NULL }
};

static void
rs_application_quit_action (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  RsApplication *self = user_data;
  GList *windows;

  g_assert (RS_IS_APPLICATION (self));

  /* Close the windows first, so that each saves its size. */
  windows = gtk_application_get_windows (GTK_APPLICATION (self));
  while (windows != NULL)
    {
      GtkWindow *window = windows->data;

      windows = windows->next;
      gtk_window_destroy (window);
    }

  g_application_quit (G_APPLICATION (self));
}

static void
rs_application_about_action (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  static const char *developers[] = { "Retailsphere", NULL };
  RsApplication *self = user_data;
  GtkWindow *window;
  GtkWidget *about;

  g_assert (RS_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "modal", TRUE,
                        "application-icon", APP_ID,
                        "application-name", _("Retailsphere Settings"),
                        "developer-name", "Retailsphere",
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "website", PACKAGE_WEBSITE,
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "comments", _("Connect your mailbox so Retailsphere can send on your "
                                      "behalf and see who replied and when.\n\n"
                                      "Privacy: Retailsphere reads who replied and when — never "
                                      "what they wrote. Passwords stay in your system keyring."),
                        "translator-credits", _("translator-credits"),
                        NULL);

  gtk_window_present (GTK_WINDOW (about));
}

static guint
rs_application_count_accounts (RsApplication *self)
{
  g_assert (RS_IS_APPLICATION (self));

  return self->store != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->store)) : 0;
}

static void
background_response_cb (GDBusConnection *connection,
                        const char      *sender_name,
                        const char      *object_path,
                        const char      *interface_name,
                        const char      *signal_name,
                        GVariant        *parameters,
                        gpointer         user_data)
{
  guint *subscription = user_data;
  g_autoptr(GVariant) results = NULL;
  guint32 response = 2;
  gboolean background = FALSE;
  gboolean autostart = FALSE;

  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  g_variant_lookup (results, "background", "b", &background);
  g_variant_lookup (results, "autostart", "b", &autostart);

  /* The portal's own dialog told the user; the journal keeps the answer. */
  g_message ("Background portal: response %u, background %s, autostart %s",
             response, background ? "allowed" : "refused", autostart ? "on" : "off");

  g_dbus_connection_signal_unsubscribe (connection, *subscription);
}

static void
background_requested_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not ask to keep running in the background: %s", error->message);
}

/* Under Flatpak, asks the Background portal to let the worker run with no
 * window and to start it with the session: once, when the first account
 * is connected.  Outside Flatpak nothing is written to the user's
 * autostart folder: starting with the session is the user's choice to
 * make (through their desktop's startup settings), and no file appears
 * there without asking. */
static void
rs_application_request_background (RsApplication *self)
{
  static guint subscription;
  g_autofree char *token = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *handle = NULL;
  GDBusConnection *connection;
  GVariantBuilder options;
  const char *commandline[] = { "retailsphere-settings", "--background", NULL };

  g_assert (RS_IS_APPLICATION (self));

  if (self->background_requested || !g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return;

  connection = g_application_get_dbus_connection (G_APPLICATION (self));
  if (connection == NULL)
    return;

  self->background_requested = TRUE;

  /* Subscribe before asking, to the path the portal will answer on. */
  token = g_strdup_printf ("retailsphere%u", g_random_int_range (0, G_MAXINT32));
  sender = g_strdup (g_dbus_connection_get_unique_name (connection) + 1);
  g_strdelimit (sender, ".", '_');
  handle = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", sender, token);
  subscription = g_dbus_connection_signal_subscribe (connection,
                                                     "org.freedesktop.portal.Desktop",
                                                     "org.freedesktop.portal.Request",
                                                     "Response",
                                                     handle,
                                                     NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE,
                                                     background_response_cb,
                                                     &subscription, NULL);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "reason",
                         g_variant_new_string (_("Retailsphere watches your connected mailboxes "
                                                 "for replies while its window is closed.")));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&options, "{sv}", "commandline", g_variant_new_strv (commandline, -1));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  g_dbus_connection_call (connection,
                          "org.freedesktop.portal.Desktop",
                          "/org/freedesktop/portal/desktop",
                          "org.freedesktop.portal.Background",
                          "RequestBackground",
                          g_variant_new ("(sa{sv})", "", &options),
                          G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE,
                          -1,
                          self->cancellable,
                          background_requested_cb,
                          NULL);
}

/* The worker keeps the application running while it has an account to
 * watch; with none, the application ends with its last window. */
static void
rs_application_update_hold (RsApplication *self)
{
  gboolean hold;

  g_assert (RS_IS_APPLICATION (self));

  hold = self->worker != NULL && rs_application_count_accounts (self) > 0;

  if (hold)
    rs_application_request_background (self);

  if (hold == self->held)
    return;

  self->held = hold;

  if (hold)
    g_application_hold (G_APPLICATION (self));
  else
    g_application_release (G_APPLICATION (self));
}

static void
store_items_changed_cb (RsApplication *self,
                        guint          position,
                        guint          removed,
                        guint          added,
                        GListModel    *model)
{
  g_assert (RS_IS_APPLICATION (self));

  rs_application_update_hold (self);
}

static void
worker_account_state_changed_cb (RsApplication  *self,
                                 const char     *account_id,
                                 RsAccountState  state,
                                 const char     *detail,
                                 RsWorker       *worker)
{
  GtkWindow *window;

  g_assert (RS_IS_APPLICATION (self));

  /* Mail accounts: the worker sets the state on the shared store's
   * RsAccount itself, and the rows follow it.  Only Retailsphere's own
   * state, which has no row, needs telling here. */
  if (g_strcmp0 (account_id, RS_WORKER_RETAILSPHERE_ID) != 0 ||
      state != RS_ACCOUNT_STATE_NEEDS_ATTENTION || detail == NULL)
    return;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (RS_IS_WINDOW (window))
    rs_window_add_toast (RS_WINDOW (window), adw_toast_new (detail));
}

static void
worker_replies_changed_cb (RsApplication *self,
                           RsWorker      *worker)
{
  g_assert (RS_IS_APPLICATION (self));

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      if (RS_IS_ACTIVITY_WINDOW (l->data))
        rs_activity_window_reload (l->data);
    }
}

static void
rs_application_ensure_store (RsApplication *self);

static void
rs_application_start_worker (RsApplication *self)
{
  g_assert (RS_IS_APPLICATION (self));

  rs_application_ensure_store (self);

  if (self->worker == NULL)
    {
      self->worker = rs_worker_new (self->store, NULL);
      g_signal_connect_object (self->worker, "account-state-changed",
                               G_CALLBACK (worker_account_state_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->worker, "replies-changed",
                               G_CALLBACK (worker_replies_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "items-changed",
                               G_CALLBACK (store_items_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }

  rs_worker_start (self->worker);
  rs_application_update_hold (self);
}

static void
api_token_looked_up_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(RsApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;

  token = rs_secret_store_lookup_api_token_finish (result, &error);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("%s", error->message);
      return;
    }

  rs_application_set_signed_in (self, token != NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", rs_application_quit_action },
  { "about", rs_application_about_action },
};

static void
rs_application_ensure_store (RsApplication *self)
{
  g_assert (RS_IS_APPLICATION (self));

  if (self->store != NULL)
    return;

  self->store = rs_account_store_new (NULL);

  /* A file that cannot be read is left as it is and said so; the store
   * then refuses to overwrite it. */
  if (!rs_account_store_load (self->store, &self->load_error))
    g_warning ("%s", self->load_error->message);

  /* The CLI may change the accounts while the window is open. */
  rs_account_store_watch (self->store);
}

static void
rs_application_activate (GApplication *app)
{
  RsApplication *self = (RsApplication *)app;
  GtkWindow *window;

  g_assert (RS_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      rs_application_start_worker (self);
      window = GTK_WINDOW (rs_window_new (self, self->store));

      if (self->load_error != NULL)
        {
          AdwToast *toast = adw_toast_new (self->load_error->message);

          /* Stays until dismissed: it explains why the list may be empty. */
          adw_toast_set_timeout (toast, 0);
          rs_window_add_toast (RS_WINDOW (window), toast);
        }
    }

  gtk_window_present (window);
}

static int
rs_application_command_line (GApplication            *app,
                             GApplicationCommandLine *command_line)
{
  RsApplication *self = (RsApplication *)app;
  GVariantDict *options;

  g_assert (RS_IS_APPLICATION (self));

  options = g_application_command_line_get_options_dict (command_line);

  /* With no account the worker has nothing to watch, and the
   * application ends at once. */
  if (g_variant_dict_contains (options, "background"))
    rs_application_start_worker (self);
  else
    g_application_activate (app);

  return EXIT_SUCCESS;
}

static void
rs_application_shutdown (GApplication *app)
{
  RsApplication *self = (RsApplication *)app;

  g_cancellable_cancel (self->cancellable);

  if (self->worker != NULL)
    rs_worker_stop (self->worker);

  if (self->held)
    {
      self->held = FALSE;
      g_application_release (app);
    }

  G_APPLICATION_CLASS (rs_application_parent_class)->shutdown (app);
}

static void
rs_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Primary>q", NULL };
  static const char *close_accels[] = { "<Primary>w", NULL };
  RsApplication *self = (RsApplication *)app;

  g_assert (RS_IS_APPLICATION (self));

  G_APPLICATION_CLASS (rs_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);

  rs_secret_store_lookup_api_token_async (self->cancellable, api_token_looked_up_cb,
                                          g_object_ref (self));
}

static void
rs_application_dispose (GObject *object)
{
  RsApplication *self = (RsApplication *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->worker);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (rs_application_parent_class)->dispose (object);
}

static void
rs_application_finalize (GObject *object)
{
  RsApplication *self = (RsApplication *)object;

  g_clear_error (&self->load_error);

  G_OBJECT_CLASS (rs_application_parent_class)->finalize (object);
}

static void
rs_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  RsApplication *self = RS_APPLICATION (object);

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
rs_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  RsApplication *self = RS_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_SIGNED_IN:
      rs_application_set_signed_in (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_application_class_init (RsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = rs_application_dispose;
  object_class->finalize = rs_application_finalize;
  object_class->get_property = rs_application_get_property;
  object_class->set_property = rs_application_set_property;

  app_class->activate = rs_application_activate;
  app_class->command_line = rs_application_command_line;
  app_class->startup = rs_application_startup;
  app_class->shutdown = rs_application_shutdown;

  /**
   * RsApplication:signed-in:
   *
   * Whether an API token for Retailsphere is in the keyring.
   */
  properties [PROP_SIGNED_IN] =
    g_param_spec_boolean ("signed-in", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rs_application_init (RsApplication *self)
{
  self->cancellable = g_cancellable_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

RsApplication *
rs_application_new (void)
{
  /* The resource base path stays the same in the Devel build, so that
   * GtkApplication finds gtk/help-overlay.ui and the icons. */
  return g_object_new (RS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "resource-base-path", RESOURCE_PATH,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE,
                       NULL);
}

/**
 * rs_application_get_account_store:
 *
 * Returns: (transfer none): the user's accounts, loaded and watched
 */
RsAccountStore *
rs_application_get_account_store (RsApplication *self)
{
  g_return_val_if_fail (RS_IS_APPLICATION (self), NULL);

  rs_application_ensure_store (self);

  return self->store;
}

/**
 * rs_application_get_worker:
 *
 * Returns: (transfer none) (nullable): the worker, once a window or
 *   --background started it
 */
RsWorker *
rs_application_get_worker (RsApplication *self)
{
  g_return_val_if_fail (RS_IS_APPLICATION (self), NULL);

  return self->worker;
}

/**
 * rs_application_get_reply_store_path:
 *
 * Returns: (transfer full) (nullable): the worker's reply store, or %NULL
 *   for the default file
 */
char *
rs_application_get_reply_store_path (RsApplication *self)
{
  g_return_val_if_fail (RS_IS_APPLICATION (self), NULL);

  if (self->worker != NULL)
    return g_strdup (rs_worker_get_store_path (self->worker));

  return NULL;
}

gboolean
rs_application_get_signed_in (RsApplication *self)
{
  g_return_val_if_fail (RS_IS_APPLICATION (self), FALSE);

  return self->signed_in;
}

/**
 * rs_application_set_signed_in:
 *
 * Records that the user signed in to (or out of) Retailsphere, or changed
 * the token or server, and tells the worker to start (or stop) reporting.
 */
void
rs_application_set_signed_in (RsApplication *self,
                              gboolean       signed_in)
{
  g_return_if_fail (RS_IS_APPLICATION (self));

  /* A new token or server address matters even when still signed in. */
  if (self->worker != NULL)
    rs_worker_reporting_changed (self->worker);

  signed_in = !!signed_in;
  if (self->signed_in == signed_in)
    return;

  self->signed_in = signed_in;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      if (RS_IS_ACTIVITY_WINDOW (l->data))
        rs_activity_window_set_signed_in (l->data, signed_in);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_SIGNED_IN]);
}

/**
 * rs_application_create_settings:
 * @consequence: what goes missing without the schema, for the warning
 *
 * The application's settings, where the schema is installed.
 *
 * Returns: (transfer full) (nullable): the settings, or %NULL (with a
 *   warning) without the schema
 */
GSettings *
rs_application_create_settings (const char *consequence)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  g_return_val_if_fail (consequence != NULL, NULL);

  /* The schema keeps the base id, so that a development build shares the
   * user's settings. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, BASE_APP_ID, TRUE);

  if (schema == NULL)
    {
      g_warning ("The settings schema %s is not installed; %s", BASE_APP_ID, consequence);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}
