/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-secret-store"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-error.h"
#include "rs-secret-store.h"

#define KIND_PASSWORD "password"
#define KIND_API_TOKEN "api-token"

const SecretSchema *
rs_secret_schema_get (void)
{
  static const SecretSchema schema = {
    "com.retailsphere.Settings.Credentials", SECRET_SCHEMA_DONT_MATCH_NAME,
    {
      { "account-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "generation", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { NULL, 0 },
    }
  };

  return &schema;
}

static gboolean
in_flatpak (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

/* Libsecret's errors say "org.freedesktop.DBus.Error.ServiceUnknown …";
 * the user needs to hear what is missing and what to do. */
static GError *
keyring_error (const GError *cause,
               const char   *what)
{
  GError *error = g_error_new (RS_ERROR, RS_ERROR_KEYRING, "%s", what);

  if (cause != NULL)
    rs_error_set_server_text (error, cause->message);

  return error;
}

static GError *
unreachable_error (const GError *cause)
{
  return keyring_error (cause,
                        _("No keyring is available to keep your password safe. "
                          "Sign in to a desktop session with a keyring "
                          "(such as GNOME Keyring or KWallet) and try again. "
                          "Nothing was saved."));
}

static GError *
locked_error (const GError *cause)
{
  return keyring_error (cause,
                        _("Your keyring is locked, so your password cannot be saved. "
                          "Unlock it (it usually opens with your login password) and try again. "
                          "Nothing was saved."));
}

static void
unlock_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GList) unlocked = NULL;
  g_autoptr(GError) error = NULL;

  if (secret_service_unlock_finish (SECRET_SERVICE (object), result, &unlocked, &error) < 1)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, locked_error (error));
      return;
    }

  g_list_free_full (g_steal_pointer (&unlocked), g_object_unref);
  g_task_return_boolean (task, TRUE);
}

static void
collection_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  GList objects = { 0 };

  collection = secret_collection_for_alias_finish (result, &error);
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, unreachable_error (error));
      return;
    }

  /* No default collection yet: storing the first secret creates it (the
   * keyring asks the user for a password), which is fine. */
  if (collection == NULL || !secret_collection_get_locked (collection))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Locked: ask the keyring to unlock it, which shows its own prompt. */
  objects.data = collection;
  secret_service_unlock (secret_collection_get_service (collection), &objects,
                         g_task_get_cancellable (task), unlock_cb, g_object_ref (task));
}

static void
service_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretService) service = NULL;
  g_autoptr(GError) error = NULL;

  service = secret_service_get_finish (result, &error);
  if (service == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, unreachable_error (error));
      return;
    }

  secret_collection_for_alias (service, SECRET_COLLECTION_DEFAULT,
                               SECRET_COLLECTION_NONE,
                               g_task_get_cancellable (task),
                               collection_cb, g_object_ref (task));
}

/**
 * rs_secret_store_check_async:
 *
 * Makes sure a Secret Service answers and its default collection is
 * unlocked (asking it to unlock, which prompts the user), before anything
 * is sent to a mail server.  Fails with %RS_ERROR_KEYRING and a message
 * that says what to do.
 *
 * Inside Flatpak, libsecret keeps secrets in an encrypted file whose key
 * comes from the Secret portal; there is no collection to check.
 */
void
rs_secret_store_check_async (GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_check_async);

  if (in_flatpak ())
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* SECRET_SERVICE_OPEN_SESSION checks that the service is really there,
   * not just that the bus could name it. */
  secret_service_get (SECRET_SERVICE_OPEN_SESSION, cancellable,
                      service_cb, g_steal_pointer (&task));
}

gboolean
rs_secret_store_check_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
check_sync_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/**
 * rs_secret_store_check_sync:
 *
 * The same as rs_secret_store_check_async(), for the CLI.
 */
gboolean
rs_secret_store_check_sync (GCancellable  *cancellable,
                            GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GAsyncResult) result = NULL;

  g_main_context_push_thread_default (context);
  rs_secret_store_check_async (cancellable, check_sync_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return rs_secret_store_check_finish (result, error);
}

static char *
password_label (RsAccount *account)
{
  /* Translators: the label of the keyring item; %s is an email address */
  return g_strdup_printf (_("Retailsphere: password for %s"), rs_account_get_address (account));
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
        g_task_return_error (task, locked_error (error));
      else
        g_task_return_error (task, keyring_error (error, _("Your password could not be saved in the keyring.")));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* Saves @secret under @account_id, @kind and @generation, replacing the
 * one saved under the same three.  @task: (transfer full) */
static void
store_secret (GTask      *task,
              const char *account_id,
              const char *kind,
              int         generation,
              const char *label,
              const char *secret)
{
  secret_password_store (rs_secret_schema_get (), SECRET_COLLECTION_DEFAULT,
                         label, secret, g_task_get_cancellable (task), store_cb, task,
                         "account-id", account_id,
                         "kind", kind,
                         "generation", generation,
                         NULL);
}

/**
 * rs_secret_store_save_password_async:
 *
 * Saves @password for @account under its current credentials generation,
 * replacing an older one for the same generation.
 */
void
rs_secret_store_save_password_async (RsAccount           *account,
                                     const char          *password,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;
  g_autofree char *label = NULL;

  g_return_if_fail (RS_IS_ACCOUNT (account));
  g_return_if_fail (password != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_save_password_async);

  label = password_label (account);
  store_secret (task, rs_account_get_id (account), KIND_PASSWORD,
                (int)rs_account_get_credentials_generation (account), label, password);
}

gboolean
rs_secret_store_save_password_finish (GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  gboolean required = GPOINTER_TO_INT (g_task_get_task_data (task));
  g_autoptr(GError) error = NULL;
  char *secret;

  secret = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
        g_task_return_error (task, locked_error (error));
      else
        g_task_return_error (task, unreachable_error (error));
      return;
    }

  if (secret == NULL && required)
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_AUTHENTICATION,
                               "%s", _("The password for this account is no longer in the keyring. "
                                       "Sign in again to reconnect."));
      return;
    }

  g_task_return_pointer (task, secret, (GDestroyNotify)secret_password_free);
}

/* Looks up the secret saved under @account_id, @kind and @generation.
 * When @required, finding none is %RS_ERROR_AUTHENTICATION; otherwise it
 * is %NULL without an error.  @task: (transfer full) */
static void
lookup_secret (GTask      *task,
               const char *account_id,
               const char *kind,
               int         generation,
               gboolean    required)
{
  g_task_set_task_data (task, GINT_TO_POINTER (required), NULL);
  secret_password_lookup (rs_secret_schema_get (), g_task_get_cancellable (task),
                          lookup_cb, task,
                          "account-id", account_id,
                          "kind", kind,
                          "generation", generation,
                          NULL);
}

void
rs_secret_store_lookup_password_async (RsAccount           *account,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (RS_IS_ACCOUNT (account));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_lookup_password_async);

  lookup_secret (task, rs_account_get_id (account), KIND_PASSWORD,
                 (int)rs_account_get_credentials_generation (account), TRUE);
}

/**
 * rs_secret_store_lookup_password_finish:
 *
 * Returns: (transfer full): the password, to be freed with
 *   secret_password_free() (which wipes it), or %NULL with
 *   %RS_ERROR_AUTHENTICATION when none is stored for this generation
 */
char *
rs_secret_store_lookup_password_finish (GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* FALSE without an error means there was nothing to delete. */
  if (!secret_password_clear_finish (result, &error) && error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, keyring_error (error, _("The account’s password could not be removed from the keyring.")));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/**
 * rs_secret_store_delete_async:
 *
 * Deletes every secret of the account, whatever its kind or generation.
 */
void
rs_secret_store_delete_async (const char          *account_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (account_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_delete_async);

  secret_password_clear (rs_secret_schema_get (), cancellable,
                         clear_cb, g_steal_pointer (&task),
                         "account-id", account_id,
                         NULL);
}

gboolean
rs_secret_store_delete_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_secret_store_save_api_token_async:
 *
 * Saves the Retailsphere API token, replacing the previous one.
 */
void
rs_secret_store_save_api_token_async (const char          *token,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (token != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_save_api_token_async);

  store_secret (task, RS_SECRET_RETAILSPHERE_ID, KIND_API_TOKEN, 0,
                _("Retailsphere: sign-in token"), token);
}

gboolean
rs_secret_store_save_api_token_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
rs_secret_store_lookup_api_token_async (GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_secret_store_lookup_api_token_async);

  /* No token is not an error: the user has not signed in. */
  lookup_secret (task, RS_SECRET_RETAILSPHERE_ID, KIND_API_TOKEN, 0, FALSE);
}

/**
 * rs_secret_store_lookup_api_token_finish:
 *
 * Returns: (transfer full) (nullable): the token, to be freed with
 *   secret_password_free(), or %NULL (without an error) when the user
 *   has not signed in to Retailsphere
 */
char *
rs_secret_store_lookup_api_token_finish (GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
