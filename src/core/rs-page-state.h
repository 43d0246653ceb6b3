/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the main window shows, computed from plain values so that it can be
 * tested without a display.  The widgets only copy these fields. */

typedef struct
{
  gboolean  show_accounts_list;   /* the boxed list of account rows */
  gboolean  show_empty_state;     /* the placeholder in its place */
  char     *empty_icon_name;
  char     *empty_title;
  char     *empty_description;
  char     *accounts_description; /* under "Connected accounts"; nullable */
} RsConnectedAppsState;

typedef enum
{
  RS_UNAVAILABLE_GMAIL_SIGN_IN,
} RsUnavailableFeature;

RsConnectedAppsState *rs_connected_apps_state_new  (guint                  n_accounts);
void                  rs_connected_apps_state_free (RsConnectedAppsState  *state);

char                 *rs_avatar_text               (const char            *real_name,
                                                    const char            *user_name);

void                  rs_unavailable_message       (RsUnavailableFeature   feature,
                                                    char                 **heading,
                                                    char                 **body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsConnectedAppsState, rs_connected_apps_state_free)

G_END_DECLS
