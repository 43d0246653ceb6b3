/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-utils"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "rs-test-utils.h"

void
rs_test_result_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

GAsyncResult *
rs_test_wait_result (GAsyncResult **result)
{
  g_return_val_if_fail (result != NULL, NULL);

  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

void
rs_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_if_fail (path != NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) &&
      g_file_test (path, G_FILE_TEST_IS_DIR) &&
      (dir = g_dir_open (path, 0, NULL)) != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rs_test_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}
