/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rs-reply-match.h"

G_BEGIN_DECLS

/* The worker's own state: tracked (sent) messages, the replies found,
 * the queue of replies to report to Retailsphere, and the per-mailbox
 * IMAP cursors.  One SQLite file in WAL mode; every call is synchronous
 * and the object belongs to the thread that opened it (open one per
 * thread).  Times are Unix seconds (UTC) unless said otherwise;
 * Message-IDs carry no angle brackets. */

#define RS_TYPE_REPLY_STORE (rs_reply_store_get_type ())
G_DECLARE_FINAL_TYPE (RsReplyStore, rs_reply_store, RS, REPLY_STORE, GObject)

#define RS_REPLY_STORE_SCHEMA_VERSION 1

typedef enum
{
  RS_TRACKED_INTENT,   /* recorded, submission started, outcome unknown yet */
  RS_TRACKED_SENT,     /* the SMTP server accepted it */
  RS_TRACKED_FAILED,   /* the SMTP server refused it: it was not sent */
  RS_TRACKED_UNKNOWN,  /* an intent found after a crash and not proven sent */
} RsTrackedState;

typedef struct
{
  gint64          id;
  char           *account;
  char           *message_id;
  char           *subject;       /* (nullable) */
  char           *recipients;    /* (nullable): comma-separated addr-specs */
  RsTrackedState  state;
  gint64          created;
  gint64          sent_at;       /* 0 when not sent */
  char           *outbox_id;     /* (nullable) */
} RsTracked;

typedef struct
{
  guint32 uidvalidity;
  guint32 uidnext;
  guint64 highestmodseq;         /* 0 without CONDSTORE */
} RsMailboxCursor;

/* One reply, as stored, as queued and as reported. */
typedef struct
{
  gint64     id;                  /* rowid; 0 before it is stored */
  char      *account;
  char      *tracked_message_id;
  char      *message_id;
  char      *from_name;           /* (nullable) */
  char      *from_address;
  GDateTime *date;                /* (nullable): with the sender's offset */
  char      *subject;             /* (nullable) */
  gint64     found_at;
  /* Filled from the report queue by the read calls: */
  char      *idempotency_key;     /* (nullable) */
  guint      attempts;
  gint64     next_attempt_at;
  gint64     reported_at;         /* 0 = not reported yet */
} RsReply;

RsReply        *rs_reply_new                     (const char            *tracked_message_id,
                                                  const char            *message_id,
                                                  const char            *from_name,
                                                  const char            *from_address,
                                                  GDateTime             *date,
                                                  const char            *subject);
RsReply        *rs_reply_new_from_headers        (const char            *tracked_message_id,
                                                  const RsReplyHeaders  *headers);
void            rs_reply_free                    (RsReply               *reply);
char           *rs_reply_format_date             (const RsReply         *reply);
JsonNode       *rs_reply_to_json                 (const RsReply         *reply);
JsonNode       *rs_replies_to_json               (GPtrArray             *replies);

void            rs_tracked_free                  (RsTracked             *tracked);
const char     *rs_tracked_state_to_string       (RsTrackedState         state);

char           *rs_reply_store_default_path      (void);
RsReplyStore   *rs_reply_store_open              (const char            *path,
                                                  GError               **error);
const char     *rs_reply_store_get_path          (RsReplyStore          *self);

/* Sending: record the intent BEFORE submitting. */
gboolean        rs_reply_store_record_intent     (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *message_id,
                                                  const char            *subject,
                                                  const char * const    *recipients,
                                                  const char            *outbox_id,
                                                  gint64                 now,
                                                  GError               **error);
gboolean        rs_reply_store_mark_sent         (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *message_id,
                                                  gint64                 now,
                                                  GError               **error);
gboolean        rs_reply_store_mark_failed       (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *message_id,
                                                  GError               **error);
gboolean        rs_reply_store_mark_unknown      (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *message_id,
                                                  GError               **error);
GPtrArray      *rs_reply_store_list_intents      (RsReplyStore          *self,
                                                  const char            *account,
                                                  GError               **error);
RsTracked      *rs_reply_store_lookup_tracked    (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *message_id,
                                                  GError               **error);
RsTracked      *rs_reply_store_lookup_outbox     (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *outbox_id,
                                                  GError               **error);
GHashTable     *rs_reply_store_tracked_ids       (RsReplyStore          *self,
                                                  const char            *account,
                                                  GError               **error);

/* Cursors and the one transaction a sync pass ends with. */
gboolean        rs_reply_store_get_cursor        (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *mailbox,
                                                  RsMailboxCursor       *out_cursor,
                                                  GError               **error);
gboolean        rs_reply_store_set_cursor        (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *mailbox,
                                                  const RsMailboxCursor *cursor,
                                                  GError               **error);
gboolean        rs_reply_store_reset_cursor      (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *mailbox,
                                                  guint32                uidvalidity,
                                                  GError               **error);
gboolean        rs_reply_store_commit_sync_batch (RsReplyStore          *self,
                                                  const char            *account,
                                                  const char            *mailbox,
                                                  const RsMailboxCursor *new_cursor,
                                                  GPtrArray             *replies,
                                                  gint64                 now,
                                                  guint                 *out_n_new,
                                                  GError               **error);

/* The report queue. */
GPtrArray      *rs_reply_store_next_reports      (RsReplyStore          *self,
                                                  guint                  limit,
                                                  gint64                 now,
                                                  GError               **error);
gboolean        rs_reply_store_next_report_due   (RsReplyStore          *self,
                                                  gint64                *out_when,
                                                  GError               **error);
gboolean        rs_reply_store_mark_reported     (RsReplyStore          *self,
                                                  const char * const    *keys,
                                                  gint64                 now,
                                                  GError               **error);
gboolean        rs_reply_store_reschedule        (RsReplyStore          *self,
                                                  const char            *key,
                                                  gint64                 next_attempt_at,
                                                  GError               **error);
GPtrArray      *rs_reply_store_list_replies      (RsReplyStore          *self,
                                                  const char            *account,
                                                  GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsReply, rs_reply_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTracked, rs_tracked_free)

G_END_DECLS
