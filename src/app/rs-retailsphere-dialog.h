/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define RS_TYPE_RETAILSPHERE_DIALOG (rs_retailsphere_dialog_get_type ())
G_DECLARE_FINAL_TYPE (RsRetailsphereDialog, rs_retailsphere_dialog, RS, RETAILSPHERE_DIALOG, AdwWindow)

RsRetailsphereDialog *rs_retailsphere_dialog_new (GtkWindow *parent,
                                                  gboolean   signed_in);

G_END_DECLS
