/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "rs-reply-store.h"

G_BEGIN_DECLS

/* What the Activity window shows, computed from plain values so that it
 * can be tested without a display.  Each reply shows exactly the fields
 * that are (or will be) reported, and nothing else: there is nothing
 * else to show. */

typedef struct
{
  char     *sender_name;        /* the name, or the address when there is none */
  char     *sender_address;     /* (nullable): when sender_name is a name */
  char     *when;               /* "Replied today at 09:30" */
  char     *subject;            /* "Subject: Re: Your quote" */
  char     *answers;            /* "In reply to “Your quote”" or "In reply to <id>" */
  char     *report_status;      /* "Reported today at 10:05" / "Waiting to report" */
  char     *report_icon_name;
  gboolean  reported;
  char     *accessible_description;
} RsActivityItem;

typedef struct
{
  gboolean  show_list;
  gboolean  show_empty_state;
  char     *promise;            /* the header line: what leaves this computer */
  char     *summary;            /* (nullable): "3 replies · 1 waiting to report" */
  char     *empty_icon_name;
  char     *empty_title;
  char     *empty_description;
} RsActivityState;

char            *rs_format_when             (GDateTime            *when,
                                             GDateTime            *now);

RsActivityItem  *rs_activity_item_new       (const RsReply        *reply,
                                             const char           *tracked_subject,
                                             GDateTime            *now);
void             rs_activity_item_free      (RsActivityItem       *item);

RsActivityState *rs_activity_state_new      (guint                 n_replies,
                                             guint                 n_waiting,
                                             gboolean              signed_in);
void             rs_activity_state_free     (RsActivityState      *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsActivityItem, rs_activity_item_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsActivityState, rs_activity_state_free)

G_END_DECLS
