/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-application"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-application.h"
#include "rs-window.h"

struct _RsApplication
{
  AdwApplication  parent_instance;

  /* Created on first use, so that a remote instance never reads it. */
  RsAccountStore *store;
  GError         *load_error;
};

G_DEFINE_FINAL_TYPE (RsApplication, rs_application, ADW_TYPE_APPLICATION)

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
      rs_application_ensure_store (self);
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
}

static void
rs_application_dispose (GObject *object)
{
  RsApplication *self = (RsApplication *)object;

  g_clear_object (&self->store);

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
rs_application_class_init (RsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = rs_application_dispose;
  object_class->finalize = rs_application_finalize;

  app_class->activate = rs_application_activate;
  app_class->startup = rs_application_startup;
}

static void
rs_application_init (RsApplication *self)
{
}

RsApplication *
rs_application_new (void)
{
  /* The resource base path stays the same in the Devel build, so that
   * GtkApplication finds gtk/help-overlay.ui and the icons. */
  return g_object_new (RS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "resource-base-path", RESOURCE_PATH,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
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
