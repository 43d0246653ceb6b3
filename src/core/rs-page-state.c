/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-page-state"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-page-state.h"

/**
 * rs_connected_apps_state_new:
 * @n_accounts: how many accounts the store holds
 *
 * Computes what the Connected Apps page shows around its list of
 * accounts: either the list, or a placeholder that says what connecting
 * does and what Retailsphere never reads.
 */
RsConnectedAppsState *
rs_connected_apps_state_new (guint n_accounts)
{
  RsConnectedAppsState *state = g_new0 (RsConnectedAppsState, 1);

  state->show_accounts_list = n_accounts > 0;
  state->show_empty_state = n_accounts == 0;
  state->empty_icon_name = g_strdup ("mail-replied-symbolic");
  state->empty_title = g_strdup (_("No Mailbox Connected"));
  state->empty_description =
    g_strdup (_("Connect a mailbox above so Retailsphere can send on your behalf and "
                "see who replied and when. It never reads what they wrote."));

  if (n_accounts > 0)
    state->accounts_description =
      g_strdup_printf (ngettext ("%u mailbox connected", "%u mailboxes connected", n_accounts),
                       n_accounts);

  return state;
}

void
rs_connected_apps_state_free (RsConnectedAppsState *state)
{
  if (state == NULL)
    return;

  g_free (state->empty_icon_name);
  g_free (state->empty_title);
  g_free (state->empty_description);
  g_free (state->accounts_description);
  g_free (state);
}

/**
 * rs_avatar_text:
 * @real_name: (nullable): as g_get_real_name() returns it
 * @user_name: (nullable): as g_get_user_name() returns it
 *
 * The text an avatar takes its initials from: the user's real name, or
 * their login name when the system knows no real name (GLib then says
 * "Unknown").
 *
 * Returns: (transfer full): never %NULL
 */
char *
rs_avatar_text (const char *real_name,
                const char *user_name)
{
  g_autofree char *real = g_strstrip (g_strdup (real_name != NULL ? real_name : ""));
  g_autofree char *user = g_strstrip (g_strdup (user_name != NULL ? user_name : ""));

  if (*real != '\0' && !g_str_equal (real, "Unknown"))
    return g_steal_pointer (&real);

  return g_steal_pointer (&user);
}

/**
 * rs_unavailable_message:
 * @heading: (out) (transfer full):
 * @body: (out) (transfer full):
 *
 * What to say, truthfully, when the user asks for something this version
 * cannot do yet.
 */
void
rs_unavailable_message (RsUnavailableFeature   feature,
                        char                 **heading,
                        char                 **body)
{
  g_return_if_fail (heading != NULL);
  g_return_if_fail (body != NULL);

  switch (feature)
    {
    case RS_UNAVAILABLE_GMAIL_SIGN_IN:
    default:
      *heading = g_strdup (_("Gmail Sign-In Is Not Available Yet"));
      *body = g_strdup (_("This version of Retailsphere Settings cannot connect a Gmail "
                          "or Google Workspace mailbox. No account was added."));
      break;
    }
}
