/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "rs-reply-store.h"

G_BEGIN_DECLS

/* For tests only: the connection, to inspect pragmas or install a
 * temporary trigger that makes a transaction fail half-way. */
sqlite3 *rs_reply_store_get_db (RsReplyStore *self);

G_END_DECLS
