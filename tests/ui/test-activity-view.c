/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-activity-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-activity-view.h"
#include "rs-error.h"
#include "rs-retailsphere-server.h"

/* The Activity window's and the Retailsphere sign-in's decisions, without
 * a display.  TZ=UTC in the test environment. */

static GDateTime *
at (const char *iso8601)
{
  GDateTime *time = g_date_time_new_from_iso8601 (iso8601, NULL);

  g_assert_nonnull (time);

  return time;
}

static void
test_format_when (void)
{
  static const struct {
    const char *when;
    const char *expected;
  } cases[] = {
    { "2024-03-06T12:00:00Z", "just now" },
    { "2024-03-06T11:59:30Z", "just now" },
    { "2024-03-06T12:03:00Z", "just now" },              /* a sender's fast clock */
    { "2024-03-06T11:59:00Z", "1 minute ago" },
    { "2024-03-06T11:15:00Z", "45 minutes ago" },
    { "2024-03-06T09:30:00Z", "today at 09:30" },
    { "2024-03-06T10:30:00+01:00", "today at 09:30" },   /* shown in the user's zone */
    { "2024-03-05T23:59:00Z", "yesterday at 23:59" },
    { "2024-03-04T08:00:00Z", "on Monday at 08:00" },
    { "2024-02-29T08:00:00Z", "on Thursday at 08:00" },
    { "2024-02-28T08:00:00Z", "on 28 February at 08:00" },   /* a week ago */
    { "2023-12-31T08:00:00Z", "on 31 December 2023 at 08:00" },
    { "2024-03-08T08:00:00Z", "on 8 March at 08:00" },   /* far in the future */
  };
  g_autoptr(GDateTime) now = at ("2024-03-06T12:00:00Z");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GDateTime) when = at (cases[i].when);
      g_autofree char *text = rs_format_when (when, now);

      g_test_message ("%s", cases[i].when);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static RsReply *
make_reply (const char *name,
            const char *subject,
            gint64      reported_at)
{
  g_autoptr(GDateTime) date = at ("2024-03-06T10:30:00+01:00");
  RsReply *reply = rs_reply_new ("sent-1@shop.example.com", "reply-1@example.de",
                                 name, "jm@example.de", date, subject);

  reply->account = g_strdup ("acct-1");
  reply->reported_at = reported_at;

  return reply;
}

static void
test_item_reported (void)
{
  g_autoptr(GDateTime) now = at ("2024-03-06T12:00:00Z");
  g_autoptr(GDateTime) reported = at ("2024-03-06T11:50:00Z");
  g_autoptr(RsReply) reply = make_reply ("Jürgen Müller", "Re: Bögen", g_date_time_to_unix (reported));
  g_autoptr(RsActivityItem) item = rs_activity_item_new (reply, "Your quote", now);

  g_assert_cmpstr (item->sender_name, ==, "Jürgen Müller");
  g_assert_cmpstr (item->sender_address, ==, "jm@example.de");
  g_assert_cmpstr (item->when, ==, "Replied today at 09:30");
  g_assert_cmpstr (item->subject, ==, "Subject: Re: Bögen");
  g_assert_cmpstr (item->answers, ==, "In reply to “Your quote”");
  g_assert_true (item->reported);
  g_assert_cmpstr (item->report_status, ==, "Reported 10 minutes ago");
  g_assert_cmpstr (item->report_icon_name, ==, "emblem-ok-symbolic");

  /* A screen reader hears every field, in reading order. */
  g_assert_cmpstr (item->accessible_description, ==,
                   "jm@example.de. Replied today at 09:30. Subject: Re: Bögen. "
                   "In reply to “Your quote”. Reported 10 minutes ago");
}

static void
test_item_waiting (void)
{
  g_autoptr(GDateTime) now = at ("2024-03-08T12:00:00Z");
  g_autoptr(RsReply) reply = make_reply (NULL, NULL, 0);
  g_autoptr(RsActivityItem) item = NULL;

  /* No name, no subject, a sent message not known (any more). */
  item = rs_activity_item_new (reply, NULL, now);

  g_assert_cmpstr (item->sender_name, ==, "jm@example.de");
  g_assert_null (item->sender_address);
  g_assert_cmpstr (item->when, ==, "Replied on Wednesday at 09:30");
  g_assert_cmpstr (item->subject, ==, "No subject");
  g_assert_cmpstr (item->answers, ==, "In reply to <sent-1@shop.example.com>");
  g_assert_false (item->reported);
  g_assert_cmpstr (item->report_status, ==, "Waiting to report");

  g_clear_pointer (&item, rs_activity_item_free);

  /* An empty name or tracked subject counts as none. */
  g_free (reply->from_name);
  reply->from_name = g_strdup ("");
  g_clear_pointer (&reply->date, g_date_time_unref);
  item = rs_activity_item_new (reply, "", now);
  g_assert_cmpstr (item->sender_name, ==, "jm@example.de");
  g_assert_cmpstr (item->when, ==, "The reply gives no date");
  g_assert_cmpstr (item->answers, ==, "In reply to <sent-1@shop.example.com>");
}

static void
test_state (void)
{
  static const struct {
    guint       n_replies;
    guint       n_waiting;
    gboolean    signed_in;
    const char *summary;
  } cases[] = {
    { 0, 0, FALSE, NULL },
    { 1, 0, TRUE, "1 reply found" },
    { 3, 0, FALSE, "3 replies found" },
    { 3, 1, TRUE, "3 replies found · 1 waiting to report" },
    { 3, 2, FALSE, "3 replies found · 2 waiting to report\n"
                   "Sign in to Retailsphere from the main menu to report them; "
                   "until then they are kept on this computer." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsActivityState) state =
        rs_activity_state_new (cases[i].n_replies, cases[i].n_waiting, cases[i].signed_in);

      g_assert_cmpstr (state->summary, ==, cases[i].summary);
      g_assert_true (state->show_list == (cases[i].n_replies > 0));
      g_assert_true (state->show_empty_state == (cases[i].n_replies == 0));
      /* The promise is there whether or not there is a list. */
      g_assert_cmpstr (state->promise, ==,
                       "Retailsphere sees who replied and when — never what they wrote. "
                       "These are the only details that leave this computer.");
      g_assert_cmpstr (state->empty_title, ==, "No Replies Yet");
      g_assert_nonnull (state->empty_icon_name);
    }
}

static void
test_check_server (void)
{
  static const struct {
    const char *url;
    const char *host;       /* NULL: refused */
    const char *message;    /* a part of the reason */
  } cases[] = {
    { "https://app.retailsphere.com", "app.retailsphere.com", NULL },
    { "  https://app.retailsphere.com/  ", "app.retailsphere.com", NULL },
    { "https://retailsphere.example.com:8443/api", "retailsphere.example.com", NULL },
    { "http://127.0.0.1:8080", "127.0.0.1", NULL },
    { "http://localhost:8080/", "localhost", NULL },
    { "http://[::1]:8080/", "::1", NULL },
    { "http://app.retailsphere.com", NULL, "must start with https://" },
    { "http://10.0.0.1", NULL, "must start with https://" },
    { "ftp://app.retailsphere.com", NULL, "not a web address" },
    { "app.retailsphere.com", NULL, "not a web address" },
    { "https://", NULL, "not a web address" },
    { "", NULL, "Enter the address" },
    { "https://app.retailsphere.com/?token=x", NULL, "without" },
    { "https://user@app.retailsphere.com/", NULL, "without" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      gboolean ok;

      g_test_message ("%s", cases[i].url);
      ok = rs_retailsphere_check_server (cases[i].url, &host, &error);

      if (cases[i].host != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpstr (host, ==, cases[i].host);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
          g_assert_nonnull (strstr (error->message, cases[i].message));
          g_assert_null (host);
        }
    }
}

static void
test_signed_in_label (void)
{
  g_autofree char *label = rs_retailsphere_signed_in_label ("https://app.retailsphere.com/");
  g_autofree char *bare = rs_retailsphere_signed_in_label ("not a url");

  g_assert_cmpstr (label, ==, "Signed in to Retailsphere (app.retailsphere.com)");
  g_assert_cmpstr (bare, ==, "Signed in to Retailsphere");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/activity-view/format-when", test_format_when);
  g_test_add_func ("/activity-view/item-reported", test_item_reported);
  g_test_add_func ("/activity-view/item-waiting", test_item_waiting);
  g_test_add_func ("/activity-view/state", test_state);
  g_test_add_func ("/retailsphere-server/check", test_check_server);
  g_test_add_func ("/retailsphere-server/signed-in-label", test_signed_in_label);

  return g_test_run ();
}
