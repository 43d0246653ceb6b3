/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rs-account.h"

G_BEGIN_DECLS

/* What an account's row shows, computed from the account alone so that it
 * can be tested without a display. */
typedef struct
{
  char       *title;            /* the address */
  char       *subtitle;         /* provider · state · when */
  char       *icon_name;        /* the provider's symbolic icon */
  char       *accessible_description;
  gboolean    needs_attention;  /* show the warning emblem and the Troubleshoot item */
} RsAccountStatus;

RsAccountStatus *rs_account_status_new   (RsAccount       *account,
                                          GDateTime       *now);
void             rs_account_status_free  (RsAccountStatus *status);
char            *rs_format_time_ago      (GDateTime       *then,
                                          GDateTime       *now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsAccountStatus, rs_account_status_free)

G_END_DECLS
