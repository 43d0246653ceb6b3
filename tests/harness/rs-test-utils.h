/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Waiting for an asynchronous call in a test: the callback keeps a
 * reference to the result in the slot its user data points to, and the
 * wait runs the default main context until it is there.
 *
 *   g_autoptr(GAsyncResult) result = NULL;
 *
 *   rs_foo_async (foo, NULL, rs_test_result_cb, &result);
 *   ok = rs_foo_finish (foo, rs_test_wait_result (&result), &error);
 */
void          rs_test_result_cb   (GObject       *object,
                                   GAsyncResult  *result,
                                   gpointer       user_data);
GAsyncResult *rs_test_wait_result (GAsyncResult **result);

/* Removes a file, or a folder with everything in it; never follows a
 * symbolic link. */
void          rs_test_remove_tree (const char    *path);

G_END_DECLS
