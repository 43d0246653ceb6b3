/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-account-store.h"

G_BEGIN_DECLS

#define RS_TYPE_EMAIL_DIALOG (rs_email_dialog_get_type ())
G_DECLARE_FINAL_TYPE (RsEmailDialog, rs_email_dialog, RS, EMAIL_DIALOG, AdwWindow)

RsEmailDialog *rs_email_dialog_new        (GtkWindow      *parent,
                                           RsAccountStore *store);
const char    *rs_email_dialog_get_page   (RsEmailDialog  *self);
void           rs_email_dialog_show_error (RsEmailDialog  *self,
                                           const GError   *error);

void           rs_email_dialog_set_detect_sources (RsEmailDialog *self,
                                                   GPtrArray     *sources);

G_END_DECLS
