/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-account.h"

G_BEGIN_DECLS

#define RS_TYPE_ACCOUNT_STORE (rs_account_store_get_type ())
G_DECLARE_FINAL_TYPE (RsAccountStore, rs_account_store, RS, ACCOUNT_STORE, GObject)

RsAccountStore *rs_account_store_new            (const char      *path);
char           *rs_account_store_default_path   (void);
const char     *rs_account_store_get_path       (RsAccountStore  *self);
gboolean        rs_account_store_load           (RsAccountStore  *self,
                                                 GError         **error);
gboolean        rs_account_store_add            (RsAccountStore  *self,
                                                 RsAccount       *account,
                                                 GError         **error);
gboolean        rs_account_store_remove         (RsAccountStore  *self,
                                                 const char      *id,
                                                 GError         **error);
RsAccount      *rs_account_store_lookup         (RsAccountStore  *self,
                                                 const char      *id);
void            rs_account_store_watch          (RsAccountStore  *self);

G_END_DECLS
