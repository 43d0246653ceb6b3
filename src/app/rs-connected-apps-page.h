/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account-store.h"

G_BEGIN_DECLS

#define RS_TYPE_CONNECTED_APPS_PAGE (rs_connected_apps_page_get_type ())
G_DECLARE_FINAL_TYPE (RsConnectedAppsPage, rs_connected_apps_page, RS, CONNECTED_APPS_PAGE, AdwPreferencesPage)

GtkWidget      *rs_connected_apps_page_new               (void);
RsAccountStore *rs_connected_apps_page_get_account_store (RsConnectedAppsPage *self);
void            rs_connected_apps_page_set_account_store (RsConnectedAppsPage *self,
                                                          RsAccountStore      *store);

G_END_DECLS
