/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account-store.h"
#include "rs-worker.h"

G_BEGIN_DECLS

#define RS_TYPE_APPLICATION (rs_application_get_type ())
G_DECLARE_FINAL_TYPE (RsApplication, rs_application, RS, APPLICATION, AdwApplication)

RsApplication  *rs_application_new               (void);
RsAccountStore *rs_application_get_account_store (RsApplication *self);
RsWorker       *rs_application_get_worker        (RsApplication *self);
char           *rs_application_get_reply_store_path (RsApplication *self);
gboolean        rs_application_get_signed_in     (RsApplication *self);
void            rs_application_set_signed_in     (RsApplication *self,
                                                  gboolean       signed_in);
GSettings      *rs_application_create_settings   (const char    *consequence);

G_END_DECLS
