/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account-store.h"
#include "rs-application.h"

G_BEGIN_DECLS

#define RS_TYPE_WINDOW (rs_window_get_type ())
G_DECLARE_FINAL_TYPE (RsWindow, rs_window, RS, WINDOW, AdwApplicationWindow)

RsWindow       *rs_window_new               (RsApplication  *application,
                                             RsAccountStore *store);
RsAccountStore *rs_window_get_account_store (RsWindow       *self);
void            rs_window_add_toast         (RsWindow       *self,
                                             AdwToast       *toast);
void            rs_window_show_settings     (RsWindow       *self);
void            rs_window_show_activity     (RsWindow       *self,
                                             RsAccount      *account);

G_END_DECLS
