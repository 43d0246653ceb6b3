/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Message-IDs are handled everywhere in this project WITHOUT their angle
 * brackets ("abc@example.com", as GMime returns them), and compared
 * byte for byte.  rs_message_id_normalize() turns "<abc@example.com>"
 * into that form. */

/* The header fields the worker fetches, in the order it asks for them.
 * The second set is the cheap first pass (threading only). */
#define RS_REPLY_HEADER_FIELDS \
  "MESSAGE-ID IN-REPLY-TO REFERENCES FROM TO CC DATE SUBJECT AUTO-SUBMITTED PRECEDENCE CONTENT-TYPE RETURN-PATH"
#define RS_REPLY_THREADING_FIELDS "IN-REPLY-TO REFERENCES"

typedef enum
{
  RS_AUTOMATIC_NONE = 0,
  RS_AUTOMATIC_AUTO_SUBMITTED,   /* Auto-Submitted other than "no" (RFC 3834) */
  RS_AUTOMATIC_PRECEDENCE,       /* Precedence: bulk, junk, list or auto_reply */
  RS_AUTOMATIC_REPORT,           /* Content-Type: multipart/report (bounces, DSNs) */
  RS_AUTOMATIC_NULL_RETURN_PATH, /* Return-Path: <> */
} RsAutomaticKind;

typedef struct
{
  char            *message_id;      /* never NULL: synthesized when absent */
  gboolean         message_id_synthesized;
  GPtrArray       *in_reply_to;     /* (element-type utf8): ids, in order */
  GPtrArray       *references;      /* (element-type utf8): ids, oldest first */
  char            *from_name;       /* (nullable): decoded UTF-8 display name */
  char            *from_address;    /* (nullable): addr-spec */
  GDateTime       *date;            /* (nullable): as the sender wrote it */
  char            *subject;         /* (nullable): decoded UTF-8 */
  gboolean         is_automatic;
  RsAutomaticKind  automatic_kind;
  char            *automatic_why;   /* (nullable): e.g. "Auto-Submitted: auto-replied" */
} RsReplyHeaders;

/* Tells whether @message_id (no brackets) is a tracked message. */
typedef gboolean (*RsTrackedLookupFunc) (const char *message_id,
                                         gpointer    user_data);

void            rs_gmime_ensure_init               (void);

char           *rs_message_id_normalize            (const char              *message_id);

RsReplyHeaders *rs_reply_headers_parse             (const char              *data,
                                                    gsize                    length,
                                                    GError                 **error);
void            rs_reply_headers_free              (RsReplyHeaders          *headers);

const char     *rs_reply_match                     (const RsReplyHeaders    *headers,
                                                    GHashTable              *tracked,
                                                    const char * const      *own_addresses);
const char     *rs_reply_match_with_func           (const RsReplyHeaders    *headers,
                                                    RsTrackedLookupFunc      lookup,
                                                    gpointer                 user_data,
                                                    const char * const      *own_addresses);

char           *rs_reply_match_threading_only      (const char              *in_reply_to_raw,
                                                    const char              *references_raw,
                                                    GHashTable              *tracked);
char           *rs_reply_match_threading_block     (const char              *data,
                                                    gsize                    length,
                                                    GHashTable              *tracked);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsReplyHeaders, rs_reply_headers_free)

G_END_DECLS
