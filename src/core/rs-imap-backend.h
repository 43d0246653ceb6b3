/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-backend.h"
#include "rs-imap-client.h"
#include "rs-net.h"

G_BEGIN_DECLS

/*
 * RsBackend over IMAP (reply watching, INBOX) and SMTP submission
 * (sending).  One IMAP connection is kept between calls and opened again
 * after any failure.
 *
 * Cursor: "imap1:UIDVALIDITY:UIDNEXT:HIGHESTMODSEQ".  A fetch reads only
 * UIDs from the cursor's UIDNEXT up to the mailbox's UIDNEXT - 1, in
 * chunks of at most chunk-size UIDs per command, in two phases:
 * Message-ID, In-Reply-To, References for every new UID; then the full
 * allowlisted set for the UIDs the filter accepts.  A changed UIDVALIDITY
 * sets cursor_reset and rescans from UID 1.
 */

#define RS_IMAP_BACKEND_DEFAULT_CHUNK_SIZE     1000
#define RS_IMAP_BACKEND_DEFAULT_POLL_SECONDS   60

/* What the last fetch did: for tests, benchmarks and the Activity view. */
typedef struct
{
  guint    n_new;                 /* UIDs that answered phase 1 */
  guint    n_candidates;          /* accepted by the filter */
  guint    n_phase1_commands;
  guint    n_phase2_commands;
  guint    max_uids_per_command;
  guint64  phase1_bytes;          /* header bytes received */
  guint64  phase2_bytes;
  gboolean cursor_reset;
} RsImapFetchStats;

#define RS_TYPE_IMAP_BACKEND (rs_imap_backend_get_type ())
G_DECLARE_FINAL_TYPE (RsImapBackend, rs_imap_backend, RS, IMAP_BACKEND, GObject)

RsImapBackend          *rs_imap_backend_new                  (const RsServerSettings *imap,
                                                              const RsServerSettings *smtp,
                                                              const RsTrust          *trust,
                                                              const char             *imap_password,
                                                              const char             *smtp_password);
void                    rs_imap_backend_set_chunk_size       (RsImapBackend          *self,
                                                              guint                   chunk_size);
void                    rs_imap_backend_set_poll_interval    (RsImapBackend          *self,
                                                              guint                   seconds);
void                    rs_imap_backend_set_use_idle         (RsImapBackend          *self,
                                                              gboolean                use_idle);
void                    rs_imap_backend_set_timeout          (RsImapBackend          *self,
                                                              guint                   seconds);
const RsImapFetchStats *rs_imap_backend_get_last_fetch_stats (RsImapBackend          *self);
RsImapClient           *rs_imap_backend_get_client           (RsImapBackend          *self);

char                   *rs_imap_cursor_format                (const RsImapMailboxState *state);
gboolean                rs_imap_cursor_parse                 (const char             *cursor,
                                                              RsImapMailboxState     *state);

G_END_DECLS
