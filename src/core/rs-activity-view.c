/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-activity-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-activity-view.h"

/**
 * rs_format_when:
 * @when: the moment to describe
 * @now: the current time
 *
 * Says when something happened, in the user's time zone, the way a
 * sentence goes on after a verb: "just now", "5 minutes ago", "today at
 * 09:30", "yesterday at 09:30", "on Monday at 09:30", "on 1 March at
 * 09:30", "on 1 March 2023 at 09:30".
 *
 * Returns: (transfer full): the words
 */
char *
rs_format_when (GDateTime *when,
                GDateTime *now)
{
  g_autoptr(GDateTime) local_when = NULL;
  g_autoptr(GDateTime) local_now = NULL;
  g_autoptr(GDateTime) when_day = NULL;
  g_autoptr(GDateTime) today = NULL;
  GTimeSpan age;
  GTimeSpan days;
  const char *format;

  g_return_val_if_fail (when != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);

  local_when = g_date_time_to_local (when);
  local_now = g_date_time_to_local (now);
  age = g_date_time_difference (local_now, local_when);

  /* A sender's clock a little ahead of ours is still "just now". */
  if (age < G_TIME_SPAN_MINUTE && age > -5 * G_TIME_SPAN_MINUTE)
    return g_strdup (_("just now"));

  if (age > 0 && age < G_TIME_SPAN_HOUR)
    {
      int minutes = (int)(age / G_TIME_SPAN_MINUTE);

      return g_strdup_printf (ngettext ("%d minute ago", "%d minutes ago", minutes), minutes);
    }

  when_day = g_date_time_new_local (g_date_time_get_year (local_when),
                                    g_date_time_get_month (local_when),
                                    g_date_time_get_day_of_month (local_when),
                                    0, 0, 0);
  today = g_date_time_new_local (g_date_time_get_year (local_now),
                                 g_date_time_get_month (local_now),
                                 g_date_time_get_day_of_month (local_now),
                                 0, 0, 0);
  days = g_date_time_difference (today, when_day) / G_TIME_SPAN_DAY;

  /* Translators: these are g_date_time_format() formats: keep the %
   * codes, change the words and their order. */
  if (days == 0)
    format = _("today at %H:%M");
  else if (days == 1)
    format = _("yesterday at %H:%M");
  else if (days > 1 && days < 7)
    format = _("on %A at %H:%M");
  else if (g_date_time_get_year (local_when) == g_date_time_get_year (local_now))
    format = _("on %-d %B at %H:%M");
  else
    format = _("on %-d %B %Y at %H:%M");

  return g_date_time_format (local_when, format);
}

/**
 * rs_activity_item_new:
 * @reply: a reply as the reply store lists it
 * @tracked_subject: (nullable): the subject of the sent message it answers,
 *   when that message is known
 * @now: the current time
 *
 * Computes the lines one reply shows: who, when, the subject, which sent
 * message it answers, and whether it was reported yet.
 */
RsActivityItem *
rs_activity_item_new (const RsReply *reply,
                      const char    *tracked_subject,
                      GDateTime     *now)
{
  RsActivityItem *item;
  g_autofree char *when = NULL;

  g_return_val_if_fail (reply != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);

  item = g_new0 (RsActivityItem, 1);

  if (reply->from_name != NULL && reply->from_name[0] != '\0')
    {
      item->sender_name = g_strdup (reply->from_name);
      item->sender_address = g_strdup (reply->from_address);
    }
  else
    {
      item->sender_name = g_strdup (reply->from_address);
    }

  if (reply->date != NULL)
    {
      when = rs_format_when (reply->date, now);
      /* Translators: %s is a time such as "today at 09:30" or "5 minutes ago" */
      item->when = g_strdup_printf (_("Replied %s"), when);
      g_clear_pointer (&when, g_free);
    }
  else
    {
      item->when = g_strdup (_("The reply gives no date"));
    }

  if (reply->subject != NULL && reply->subject[0] != '\0')
    /* Translators: %s is the subject of a reply */
    item->subject = g_strdup_printf (_("Subject: %s"), reply->subject);
  else
    item->subject = g_strdup (_("No subject"));

  if (tracked_subject != NULL && tracked_subject[0] != '\0')
    /* Translators: %s is the subject of the message Retailsphere sent */
    item->answers = g_strdup_printf (_("In reply to “%s”"), tracked_subject);
  else
    /* Translators: %s is the Message-ID of the message Retailsphere sent */
    item->answers = g_strdup_printf (_("In reply to <%s>"), reply->tracked_message_id);

  item->reported = reply->reported_at > 0;
  if (item->reported)
    {
      g_autoptr(GDateTime) reported_at = g_date_time_new_from_unix_utc (reply->reported_at);

      when = rs_format_when (reported_at, now);
      /* Translators: %s is a time such as "today at 10:05" or "5 minutes ago" */
      item->report_status = g_strdup_printf (_("Reported %s"), when);
      item->report_icon_name = g_strdup ("emblem-ok-symbolic");
    }
  else
    {
      item->report_status = g_strdup (_("Waiting to report"));
      item->report_icon_name = g_strdup ("document-send-symbolic");
    }

  item->accessible_description = g_strjoin (". ",
                                            item->sender_address ? item->sender_address : item->sender_name,
                                            item->when,
                                            item->subject,
                                            item->answers,
                                            item->report_status,
                                            NULL);

  return item;
}

void
rs_activity_item_free (RsActivityItem *item)
{
  if (item == NULL)
    return;

  g_free (item->sender_name);
  g_free (item->sender_address);
  g_free (item->when);
  g_free (item->subject);
  g_free (item->answers);
  g_free (item->report_status);
  g_free (item->report_icon_name);
  g_free (item->accessible_description);
  g_free (item);
}

/**
 * rs_activity_state_new:
 * @n_replies: how many replies the account has
 * @n_waiting: how many of them are not reported yet
 * @signed_in: whether this computer is signed in to Retailsphere
 *
 * Computes what the Activity window shows around its list: the promise,
 * a summary, or the empty state in place of the list.
 */
RsActivityState *
rs_activity_state_new (guint    n_replies,
                       guint    n_waiting,
                       gboolean signed_in)
{
  RsActivityState *state = g_new0 (RsActivityState, 1);

  g_return_val_if_fail (n_waiting <= n_replies, state);

  state->show_list = n_replies > 0;
  state->show_empty_state = n_replies == 0;
  state->promise = g_strdup (_("Retailsphere sees who replied and when — never what they wrote. "
                               "These are the only details that leave this computer."));
  state->empty_icon_name = g_strdup ("mail-replied-symbolic");
  state->empty_title = g_strdup (_("No Replies Yet"));
  state->empty_description =
    g_strdup (_("When someone answers a message Retailsphere sent from this mailbox, the "
                "reply appears here with exactly the details that are reported."));

  if (n_replies > 0)
    {
      GString *summary = g_string_new (NULL);

      g_string_append_printf (summary,
                              ngettext ("%u reply found", "%u replies found", n_replies),
                              n_replies);
      if (n_waiting > 0)
        {
          /* Translators: separates parts of a summary line */
          g_string_append (summary, _(" · "));
          g_string_append_printf (summary,
                                  ngettext ("%u waiting to report", "%u waiting to report", n_waiting),
                                  n_waiting);

          if (!signed_in)
            {
              g_string_append (summary, "\n");
              g_string_append (summary, _("Sign in to Retailsphere from the main menu to report "
                                          "them; until then they are kept on this computer."));
            }
        }

      state->summary = g_string_free (summary, FALSE);
    }

  return state;
}

void
rs_activity_state_free (RsActivityState *state)
{
  if (state == NULL)
    return;

  g_free (state->promise);
  g_free (state->summary);
  g_free (state->empty_icon_name);
  g_free (state->empty_title);
  g_free (state->empty_description);
  g_free (state);
}
