/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-account-status"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-account-status.h"

static const char *
state_label (RsAccount *account)
{
  switch (rs_account_get_state (account))
    {
    case RS_ACCOUNT_STATE_IDLE:            return _("Watching for replies");
    case RS_ACCOUNT_STATE_SYNCING:         return _("Checking for replies…");
    case RS_ACCOUNT_STATE_OFFLINE:         return _("Offline — will resume");
    case RS_ACCOUNT_STATE_NEEDS_ATTENTION: return _("Needs attention");
    case RS_ACCOUNT_STATE_CONNECTED:
    default:                               return _("Connected");
    }
}

/**
 * rs_format_time_ago:
 *
 * Returns: a short relative time: "just now", "5 min ago", "3 h ago", or a
 *   date for anything older than a day.
 */
char *
rs_format_time_ago (GDateTime *then,
                    GDateTime *now)
{
  GTimeSpan span;
  gint64 minutes;

  g_return_val_if_fail (then != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);

  span = g_date_time_difference (now, then);
  minutes = span / G_TIME_SPAN_MINUTE;

  if (minutes < 1)
    return g_strdup (_("just now"));

  if (minutes < 60)
    /* Translators: a short relative time, as in "last checked 5 min ago" */
    return g_strdup_printf (ngettext ("%d min ago", "%d min ago", (int)minutes), (int)minutes);

  if (minutes < 24 * 60)
    return g_strdup_printf (ngettext ("%d hour ago", "%d hours ago", (int)(minutes / 60)),
                            (int)(minutes / 60));

  /* Translators: a date, see strftime(3) */
  return g_date_time_format (then, _("on %-d %B %Y"));
}

/**
 * rs_account_status_new:
 * @now: the current time, given so that tests are repeatable
 *
 * Computes what the account's row shows.
 */
RsAccountStatus *
rs_account_status_new (RsAccount *account,
                       GDateTime *now)
{
  RsAccountStatus *status;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *detail;

  g_return_val_if_fail (RS_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (now != NULL, NULL);

  status = g_new0 (RsAccountStatus, 1);
  status->title = g_strdup (rs_account_get_address (account));
  /* Provider logos are trademarks we do not ship; a neutral mail icon
   * with the provider's name in the subtitle says the same. */
  status->icon_name = g_strdup ("mail-unread-symbolic");
  status->needs_attention = rs_account_get_state (account) == RS_ACCOUNT_STATE_NEEDS_ATTENTION;

  detail = rs_account_get_state_detail (account);

  g_string_append (subtitle, rs_account_get_provider_name (account));
  g_string_append (subtitle, " · ");

  /* When the account needs the user, say what to do rather than a label. */
  if (status->needs_attention && detail != NULL && *detail != '\0')
    g_string_append (subtitle, detail);
  else
    g_string_append (subtitle, state_label (account));

  if (rs_account_get_last_checked (account) != NULL &&
      (rs_account_get_state (account) == RS_ACCOUNT_STATE_IDLE ||
       rs_account_get_state (account) == RS_ACCOUNT_STATE_OFFLINE))
    {
      g_autofree char *ago = rs_format_time_ago (rs_account_get_last_checked (account), now);

      g_string_append (subtitle, " · ");
      /* Translators: %s is a relative time such as "5 min ago" */
      g_string_append_printf (subtitle, _("last checked %s"), ago);
    }

  status->subtitle = g_string_free (g_steal_pointer (&subtitle), FALSE);
  status->accessible_description = g_strdup (status->subtitle);

  return status;
}

void
rs_account_status_free (RsAccountStatus *status)
{
  if (status == NULL)
    return;

  g_free (status->title);
  g_free (status->subtitle);
  g_free (status->icon_name);
  g_free (status->accessible_description);
  g_free (status);
}
