/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account.h"

G_BEGIN_DECLS

#define RS_TYPE_ACTIVITY_WINDOW (rs_activity_window_get_type ())
G_DECLARE_FINAL_TYPE (RsActivityWindow, rs_activity_window, RS, ACTIVITY_WINDOW, AdwWindow)

RsActivityWindow *rs_activity_window_new           (GtkWindow        *parent,
                                                    RsAccount        *account,
                                                    const char       *store_path);
RsAccount        *rs_activity_window_get_account   (RsActivityWindow *self);
void              rs_activity_window_set_signed_in (RsActivityWindow *self,
                                                    gboolean          signed_in);
void              rs_activity_window_reload        (RsActivityWindow *self);

G_END_DECLS
