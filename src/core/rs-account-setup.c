/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-account-setup"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "rs-account-setup.h"
#include "rs-enums.h"
#include "rs-error.h"
#include "rs-imap-client.h"
#include "rs-secret-store.h"
#include "rs-smtp-client.h"
#include "rs-validate.h"

/* The one code path that adds, checks and removes IMAP/SMTP accounts, for
 * the dialog and the CLI alike:
 *
 *   validate → keyring reachable and unlocked → IMAP sign-in → SMTP
 *   sign-in → password into the keyring → settings into the store
 *
 * Nothing is saved unless every step passed; a failure at the last step
 * takes the password back out of the keyring. */
struct _RsAccountSetup
{
  GObject         parent_instance;
  RsAccountStore *store;
};

G_DEFINE_FINAL_TYPE (RsAccountSetup, rs_account_setup, G_TYPE_OBJECT)

enum {
  STEP,
  N_SIGNALS
};

static guint signals [N_SIGNALS];

typedef struct
{
  RsAccount *account;
  char      *password;
  GError    *deferred_error;
  gboolean   adding;  /* save the account once both services pass */
} Operation;

static void
operation_free (Operation *op)
{
  g_clear_object (&op->account);
  /* Wipes the password from memory as it frees it. */
  g_clear_pointer (&op->password, secret_password_free);
  g_clear_error (&op->deferred_error);
  g_free (op);
}

static void
emit_step (GTask       *task,
           RsSetupStep  step,
           RsStepState  state)
{
  RsAccountSetup *self = g_task_get_source_object (task);

  g_signal_emit (self, signals [STEP], 0, step, state);
}

static void
fail (GTask       *task,
      RsSetupStep  step,
      GError      *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    emit_step (task, step, RS_STEP_STATE_FAILED);

  g_task_return_error (task, error);
}

RsImapRequest *
rs_imap_request_new (void)
{
  return g_new0 (RsImapRequest, 1);
}

void
rs_imap_request_free (RsImapRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->address);
  g_free (request->display_name);
  g_free (request->provider_name);
  g_clear_pointer (&request->imap, rs_server_settings_free);
  g_clear_pointer (&request->smtp, rs_server_settings_free);
  g_clear_pointer (&request->trust, rs_trust_free);
  g_free (request);
}

static gboolean
validate_server (const RsServerSettings  *settings,
                 const char              *host_field,
                 const char              *username_field,
                 GError                 **error)
{
  return rs_validate_hostname (host_field, settings->host, error) &&
         rs_validate_username (username_field, settings->username, error);
}

/**
 * rs_imap_request_validate:
 *
 * Checks everything the user typed before anything is sent anywhere.
 */
gboolean
rs_imap_request_validate (const RsImapRequest  *request,
                          GError              **error)
{
  g_return_val_if_fail (request != NULL, FALSE);

  if (!rs_validate_address (request->address, error))
    return FALSE;

  if (request->imap == NULL || request->smtp == NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("Enter both the IMAP and the SMTP server"));
      return FALSE;
    }

  if (!validate_server (request->imap, _("IMAP server"), _("IMAP username"), error) ||
      !validate_server (request->smtp, _("SMTP server"), _("SMTP username"), error))
    return FALSE;

  if (request->imap->port == 0 || request->smtp->port == 0)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("The port must be a number from 1 to 65535"));
      return FALSE;
    }

  if (request->trust != NULL && request->trust->ca_file != NULL &&
      !g_file_test (request->trust->ca_file, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The CA file %s does not exist"), request->trust->ca_file);
      return FALSE;
    }

  return TRUE;
}

static gboolean
address_is_connected (RsAccountStore *store,
                      const char     *address)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RsAccount) account = g_list_model_get_item (G_LIST_MODEL (store), i);

      if (rs_account_get_kind (account) == RS_ACCOUNT_KIND_IMAP &&
          g_ascii_strcasecmp (rs_account_get_address (account), address) == 0)
        return TRUE;
    }

  return FALSE;
}

static void save_account (GTask *task);

/* Both services, IMAP then SMTP, with the password in hand; shared by
 * adding and checking. */

static void
smtp_checked_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_smtp_check_finish (result, &error))
    {
      fail (task, RS_SETUP_STEP_SMTP, error);
      return;
    }

  emit_step (task, RS_SETUP_STEP_SMTP, RS_STEP_STATE_DONE);

  if (op->adding)
    save_account (g_steal_pointer (&task));
  else
    g_task_return_boolean (task, TRUE);
}

static void
imap_checked_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_imap_check_finish (result, &error))
    {
      fail (task, RS_SETUP_STEP_IMAP, error);
      return;
    }

  emit_step (task, RS_SETUP_STEP_IMAP, RS_STEP_STATE_DONE);
  emit_step (task, RS_SETUP_STEP_SMTP, RS_STEP_STATE_RUNNING);

  rs_smtp_check_async (rs_account_get_smtp_settings (op->account),
                       rs_account_get_trust (op->account),
                       op->password,
                       g_task_get_cancellable (task),
                       smtp_checked_cb, g_object_ref (task));
}

static void
check_services (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  emit_step (task, RS_SETUP_STEP_KEYRING, RS_STEP_STATE_DONE);
  emit_step (task, RS_SETUP_STEP_IMAP, RS_STEP_STATE_RUNNING);

  rs_imap_check_async (rs_account_get_imap_settings (op->account),
                       rs_account_get_trust (op->account),
                       op->password,
                       g_task_get_cancellable (task),
                       imap_checked_cb, task);
}

/* Adding: after both services passed, the secret, then the settings. */

static void
add_undo_secret_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!rs_secret_store_delete_finish (result, &error))
    g_warning ("Could not take back the password of an account that was not saved: %s",
               error->message);

  fail (task, RS_SETUP_STEP_SAVE, g_steal_pointer (&op->deferred_error));
}

static void
add_secret_saved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsAccountSetup *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_secret_store_save_password_finish (result, &error))
    {
      fail (task, RS_SETUP_STEP_SAVE, error);
      return;
    }

  if (!rs_account_store_add (self->store, op->account, &op->deferred_error))
    {
      rs_secret_store_delete_async (rs_account_get_id (op->account),
                                    NULL, add_undo_secret_cb, g_steal_pointer (&task));
      return;
    }

  emit_step (task, RS_SETUP_STEP_SAVE, RS_STEP_STATE_DONE);
  g_task_return_pointer (task, g_object_ref (op->account), g_object_unref);
}

static void
save_account (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  emit_step (task, RS_SETUP_STEP_SAVE, RS_STEP_STATE_RUNNING);

  rs_secret_store_save_password_async (op->account, op->password,
                                       g_task_get_cancellable (task),
                                       add_secret_saved_cb, task);
}

static void
add_keyring_checked_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!rs_secret_store_check_finish (result, &error))
    {
      fail (task, RS_SETUP_STEP_KEYRING, error);
      return;
    }

  check_services (g_steal_pointer (&task));
}

static void
rs_account_setup_dispose (GObject *object)
{
  RsAccountSetup *self = (RsAccountSetup *)object;

  g_clear_object (&self->store);

  G_OBJECT_CLASS (rs_account_setup_parent_class)->dispose (object);
}

static void
rs_account_setup_class_init (RsAccountSetupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_account_setup_dispose;

  /**
   * RsAccountSetup::step:
   * @step: an #RsSetupStep
   * @state: an #RsStepState
   *
   * Progress, for the dialog's "Testing" page and the CLI's messages.
   */
  signals [STEP] =
    g_signal_new ("step",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, RS_TYPE_SETUP_STEP, RS_TYPE_STEP_STATE);
}

static void
rs_account_setup_init (RsAccountSetup *self)
{
}

RsAccountSetup *
rs_account_setup_new (RsAccountStore *store)
{
  RsAccountSetup *self;

  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (store), NULL);

  self = g_object_new (RS_TYPE_ACCOUNT_SETUP, NULL);
  self->store = g_object_ref (store);

  return self;
}

/**
 * rs_account_setup_add_async:
 * @password: the password; copied, and wiped when done
 *
 * Signs in to both services with @request and, only if both accept, saves
 * the account.  Failures are RS_ERROR with the failing service, the
 * server's words and, for certificates, the certificate attached.
 */
void
rs_account_setup_add_async (RsAccountSetup      *self,
                            const RsImapRequest *request,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Operation *op;

  g_return_if_fail (RS_IS_ACCOUNT_SETUP (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_account_setup_add_async);

  if (!rs_imap_request_validate (request, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (password == NULL || *password == '\0')
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_INPUT, "%s", _("Enter your password"));
      return;
    }

  if (address_is_connected (self->store, request->address))
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_INPUT,
                               _("%s is already connected"), request->address);
      return;
    }

  op = g_new0 (Operation, 1);
  op->adding = TRUE;
  op->password = g_strdup (password);
  op->account = rs_account_new (RS_ACCOUNT_KIND_IMAP, request->address);
  rs_account_set_display_name (op->account, request->display_name);
  rs_account_set_provider_name (op->account, request->provider_name);
  rs_account_set_imap_settings (op->account, request->imap);
  rs_account_set_smtp_settings (op->account, request->smtp);
  rs_account_set_trust (op->account, request->trust);
  g_task_set_task_data (task, op, (GDestroyNotify)operation_free);

  emit_step (task, RS_SETUP_STEP_KEYRING, RS_STEP_STATE_RUNNING);
  rs_secret_store_check_async (cancellable, add_keyring_checked_cb, g_steal_pointer (&task));
}

/**
 * rs_account_setup_add_finish:
 *
 * Returns: (transfer full): the saved account
 */
RsAccount *
rs_account_setup_add_finish (RsAccountSetup  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (RS_IS_ACCOUNT_SETUP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Checking a saved account: password from the keyring, then both
 * services. */

static void
check_password_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  op->password = rs_secret_store_lookup_password_finish (result, &error);
  if (op->password == NULL)
    {
      fail (task, RS_SETUP_STEP_KEYRING, error);
      return;
    }

  check_services (g_steal_pointer (&task));
}

/**
 * rs_account_setup_check_async:
 *
 * Signs in to both services of a saved account with its stored password.
 */
void
rs_account_setup_check_async (RsAccountSetup      *self,
                              RsAccount           *account,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Operation *op;

  g_return_if_fail (RS_IS_ACCOUNT_SETUP (self));
  g_return_if_fail (RS_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_account_setup_check_async);

  if (rs_account_get_kind (account) != RS_ACCOUNT_KIND_IMAP)
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_INPUT,
                               _("Checking %s accounts is not available in this version"),
                               rs_account_get_provider_name (account));
      return;
    }

  op = g_new0 (Operation, 1);
  op->account = g_object_ref (account);
  g_task_set_task_data (task, op, (GDestroyNotify)operation_free);

  emit_step (task, RS_SETUP_STEP_KEYRING, RS_STEP_STATE_RUNNING);
  rs_secret_store_lookup_password_async (account, cancellable,
                                         check_password_cb, g_steal_pointer (&task));
}

gboolean
rs_account_setup_check_finish (RsAccountSetup  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (RS_IS_ACCOUNT_SETUP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Removing: secrets first, so that a keyring failure leaves the account
 * visible (and removable again) rather than orphaning a password. */

static void
remove_secrets_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsAccountSetup *self = g_task_get_source_object (task);
  const char *account_id = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_secret_store_delete_finish (result, &error) ||
      !rs_account_store_remove (self->store, account_id, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
rs_account_setup_remove_async (RsAccountSetup      *self,
                               const char          *account_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RS_IS_ACCOUNT_SETUP (self));
  g_return_if_fail (account_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_account_setup_remove_async);
  g_task_set_task_data (task, g_strdup (account_id), g_free);

  if (rs_account_store_lookup (self->store, account_id) == NULL)
    {
      g_task_return_new_error (task, RS_ERROR, RS_ERROR_INPUT,
                               _("No account has the identifier “%s”"), account_id);
      return;
    }

  rs_secret_store_delete_async (account_id, cancellable,
                                remove_secrets_cb, g_steal_pointer (&task));
}

gboolean
rs_account_setup_remove_finish (RsAccountSetup  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (RS_IS_ACCOUNT_SETUP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
