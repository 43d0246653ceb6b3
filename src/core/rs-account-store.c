/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-account-store"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "rs-account-store.h"
#include "rs-error.h"

/* The accounts' settings (never their secrets) in one key file under the
 * user's configuration folder, one group per account, written atomically
 * so a crash leaves either the old file or the new one.  The application
 * and the CLI share it; the application watches it for changes. */
struct _RsAccountStore
{
  GObject       parent_instance;

  char         *path;
  GPtrArray    *accounts;
  GFileMonitor *monitor;

  /* Set when the file exists but could not be read: we then refuse to
   * write, so that nothing the user had is overwritten. */
  guint         unreadable : 1;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RsAccountStore, rs_account_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static gboolean
find_account (RsAccountStore *self,
              const char     *id,
              guint          *position)
{
  g_assert (RS_IS_ACCOUNT_STORE (self));

  for (guint i = 0; i < self->accounts->len; i++)
    {
      RsAccount *account = g_ptr_array_index (self->accounts, i);

      if (g_str_equal (rs_account_get_id (account), id))
        {
          if (position != NULL)
            *position = i;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
read_accounts (RsAccountStore  *self,
               GPtrArray      **out_accounts,
               GError         **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;

  g_assert (RS_IS_ACCOUNT_STORE (self));

  if (!g_key_file_load_from_file (key_file, self->path, G_KEY_FILE_KEEP_COMMENTS, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          *out_accounts = g_steal_pointer (&accounts);
          return TRUE;
        }

      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Could not read the accounts file %s: %s"),
                   self->path, local_error->message);
      return FALSE;
    }

  groups = g_key_file_get_groups (key_file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      RsAccount *account = rs_account_new_from_key_file (key_file, groups[i], &local_error);

      if (account == NULL)
        {
          g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                       _("Could not read the accounts file %s: %s"),
                       self->path, local_error->message);
          return FALSE;
        }

      g_ptr_array_add (accounts, account);
    }

  *out_accounts = g_steal_pointer (&accounts);

  return TRUE;
}

static gboolean
write_accounts (RsAccountStore  *self,
                GPtrArray       *accounts,
                GError         **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  gsize length;

  g_assert (RS_IS_ACCOUNT_STORE (self));

  if (self->unreadable)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("The accounts file %s could not be read, so it was left as it is. "
                     "Move it aside to start over."),
                   self->path);
      return FALSE;
    }

  for (guint i = 0; i < accounts->len; i++)
    {
      RsAccount *account = g_ptr_array_index (accounts, i);

      rs_account_save_to_key_file (account, key_file, rs_account_get_id (account));
    }

  data = g_key_file_to_data (key_file, &length, NULL);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Could not create the folder %s: %s"),
                   dir, g_strerror (errsv));
      return FALSE;
    }

  if (!g_file_set_contents_full (self->path, data, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local_error))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Could not save the accounts file %s: %s"),
                   self->path, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* Replace our list by @accounts, keeping the objects of accounts that
 * stay (the UI holds them and their runtime state). */
static void
merge_accounts (RsAccountStore *self,
                GPtrArray      *accounts)
{
  g_autoptr(GPtrArray) old = NULL;
  guint old_len;

  g_assert (RS_IS_ACCOUNT_STORE (self));

  for (guint i = 0; i < accounts->len; i++)
    {
      RsAccount *account = g_ptr_array_index (accounts, i);
      guint position;

      if (find_account (self, rs_account_get_id (account), &position))
        {
          g_ptr_array_index (accounts, i) = g_object_ref (g_ptr_array_index (self->accounts, position));
          g_object_unref (account);
        }
    }

  old = g_steal_pointer (&self->accounts);
  old_len = old->len;
  self->accounts = g_ptr_array_ref (accounts);

  if (old_len > 0 || accounts->len > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len, accounts->len);
}

static void
file_changed_cb (GFileMonitor      *monitor,
                 GFile             *file,
                 GFile             *other_file,
                 GFileMonitorEvent  event,
                 gpointer           user_data)
{
  RsAccountStore *self = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (RS_IS_ACCOUNT_STORE (self));

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT &&
      event != G_FILE_MONITOR_EVENT_CREATED &&
      event != G_FILE_MONITOR_EVENT_DELETED &&
      event != G_FILE_MONITOR_EVENT_MOVED_IN &&
      event != G_FILE_MONITOR_EVENT_RENAMED)
    return;

  if (!rs_account_store_load (self, &error))
    g_warning ("%s", error->message);
}

static GType
rs_account_store_get_item_type (GListModel *model)
{
  return RS_TYPE_ACCOUNT;
}

static guint
rs_account_store_get_n_items (GListModel *model)
{
  return RS_ACCOUNT_STORE (model)->accounts->len;
}

static gpointer
rs_account_store_get_item (GListModel *model,
                           guint       position)
{
  RsAccountStore *self = RS_ACCOUNT_STORE (model);

  if (position >= self->accounts->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->accounts, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = rs_account_store_get_item_type;
  iface->get_n_items = rs_account_store_get_n_items;
  iface->get_item = rs_account_store_get_item;
}

static void
rs_account_store_dispose (GObject *object)
{
  RsAccountStore *self = (RsAccountStore *)object;

  if (self->monitor != NULL)
    {
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }

  G_OBJECT_CLASS (rs_account_store_parent_class)->dispose (object);
}

static void
rs_account_store_finalize (GObject *object)
{
  RsAccountStore *self = (RsAccountStore *)object;

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->accounts, g_ptr_array_unref);

  G_OBJECT_CLASS (rs_account_store_parent_class)->finalize (object);
}

static void
rs_account_store_class_init (RsAccountStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_account_store_dispose;
  object_class->finalize = rs_account_store_finalize;
}

static void
rs_account_store_init (RsAccountStore *self)
{
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * rs_account_store_default_path:
 *
 * Returns: (transfer full): `$XDG_CONFIG_HOME/retailsphere-settings/accounts.ini`
 */
char *
rs_account_store_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "retailsphere-settings", "accounts.ini", NULL);
}

/**
 * rs_account_store_new:
 * @path: (nullable): the accounts file, or %NULL for the default
 *
 * Creates a store; call rs_account_store_load() to read it.
 */
RsAccountStore *
rs_account_store_new (const char *path)
{
  RsAccountStore *self = g_object_new (RS_TYPE_ACCOUNT_STORE, NULL);

  self->path = path != NULL ? g_strdup (path) : rs_account_store_default_path ();

  return self;
}

const char *
rs_account_store_get_path (RsAccountStore *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (self), NULL);

  return self->path;
}

/**
 * rs_account_store_load:
 *
 * (Re)reads the accounts file.  A missing file is an empty list.  A file
 * that cannot be read is reported and left untouched: until a later load
 * succeeds, the store refuses to write.
 */
gboolean
rs_account_store_load (RsAccountStore  *self,
                       GError         **error)
{
  g_autoptr(GPtrArray) accounts = NULL;

  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (self), FALSE);

  if (!read_accounts (self, &accounts, error))
    {
      self->unreadable = TRUE;
      return FALSE;
    }

  self->unreadable = FALSE;
  merge_accounts (self, accounts);

  return TRUE;
}

/**
 * rs_account_store_add:
 *
 * Adds @account and saves.  On failure nothing changes, in memory or on
 * disk.  An address already connected with the same kind is refused with
 * %RS_ERROR_INPUT.
 */
gboolean
rs_account_store_add (RsAccountStore  *self,
                      RsAccount       *account,
                      GError         **error)
{
  g_autoptr(GPtrArray) accounts = NULL;

  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (RS_IS_ACCOUNT (account), FALSE);

  for (guint i = 0; i < self->accounts->len; i++)
    {
      RsAccount *other = g_ptr_array_index (self->accounts, i);

      if (rs_account_get_kind (other) == rs_account_get_kind (account) &&
          g_ascii_strcasecmp (rs_account_get_address (other), rs_account_get_address (account)) == 0)
        {
          g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                       _("%s is already connected"),
                       rs_account_get_address (account));
          return FALSE;
        }
    }

  accounts = g_ptr_array_copy (self->accounts, (GCopyFunc)(void (*)(void))g_object_ref, NULL);
  g_ptr_array_set_free_func (accounts, g_object_unref);
  g_ptr_array_add (accounts, g_object_ref (account));

  if (!write_accounts (self, accounts, error))
    return FALSE;

  g_ptr_array_add (self->accounts, g_object_ref (account));
  g_list_model_items_changed (G_LIST_MODEL (self), self->accounts->len - 1, 0, 1);

  return TRUE;
}

/**
 * rs_account_store_remove:
 *
 * Removes the account's settings.  Its secrets are the caller's to
 * delete (first, so that a failure leaves the account visible).
 */
gboolean
rs_account_store_remove (RsAccountStore  *self,
                         const char      *id,
                         GError         **error)
{
  g_autoptr(GPtrArray) accounts = NULL;
  guint position;

  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (!find_account (self, id, &position))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("No account has the identifier “%s”"), id);
      return FALSE;
    }

  accounts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->accounts->len; i++)
    if (i != position)
      g_ptr_array_add (accounts, g_object_ref (g_ptr_array_index (self->accounts, i)));

  if (!write_accounts (self, accounts, error))
    return FALSE;

  g_ptr_array_remove_index (self->accounts, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);

  return TRUE;
}

/**
 * rs_account_store_lookup:
 *
 * Returns: (transfer none) (nullable): the account with @id
 */
RsAccount *
rs_account_store_lookup (RsAccountStore *self,
                         const char     *id)
{
  guint position;

  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!find_account (self, id, &position))
    return NULL;

  return g_ptr_array_index (self->accounts, position);
}

/**
 * rs_account_store_watch:
 *
 * Reloads the list whenever another process (the CLI, say) changes the
 * file.
 */
void
rs_account_store_watch (RsAccountStore *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  g_return_if_fail (RS_IS_ACCOUNT_STORE (self));

  if (self->monitor != NULL)
    return;

  /* inotify watches the folder, which must exist for that. */
  dir = g_path_get_dirname (self->path);
  g_mkdir_with_parents (dir, 0700);

  file = g_file_new_for_path (self->path);
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor == NULL)
    {
      g_warning ("Cannot watch %s: %s", self->path, error->message);
      return;
    }

  g_signal_connect_object (self->monitor, "changed",
                           G_CALLBACK (file_changed_cb), self, 0);
}
