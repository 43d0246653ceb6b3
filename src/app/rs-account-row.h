/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account-store.h"

G_BEGIN_DECLS

#define RS_TYPE_ACCOUNT_ROW (rs_account_row_get_type ())
G_DECLARE_FINAL_TYPE (RsAccountRow, rs_account_row, RS, ACCOUNT_ROW, AdwActionRow)

GtkWidget *rs_account_row_new         (RsAccount      *account,
                                       RsAccountStore *store);
RsAccount *rs_account_row_get_account (RsAccountRow   *self);

G_END_DECLS
