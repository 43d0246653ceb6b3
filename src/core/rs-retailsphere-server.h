/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The Retailsphere sign-in: the server address the user gives, checked
 * before anything is saved, and the words the avatar menu shows. */

gboolean  rs_retailsphere_check_server   (const char  *url,
                                          char       **out_host,
                                          GError     **error);
char     *rs_retailsphere_signed_in_label (const char  *url);

G_END_DECLS
