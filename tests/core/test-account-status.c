/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-account-status"

#include "config.h"

#include "rs-account-status.h"

static void
test_states (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 12, 4, 12, 0, 0);
  g_autoptr(GDateTime) then = g_date_time_add_minutes (now, -2);
  g_autoptr(RsAccount) account = rs_account_new (RS_ACCOUNT_KIND_IMAP, "ada@example.com");
  g_autoptr(RsAccountStatus) fresh = NULL;
  g_autoptr(RsAccountStatus) idle = NULL;
  g_autoptr(RsAccountStatus) attention = NULL;

  rs_account_set_provider_name (account, "Fastmail");

  fresh = rs_account_status_new (account, now);
  g_assert_cmpstr (fresh->title, ==, "ada@example.com");
  g_assert_cmpstr (fresh->subtitle, ==, "Fastmail · Connected");
  g_assert_false (fresh->needs_attention);

  rs_account_set_state (account, RS_ACCOUNT_STATE_IDLE, NULL);
  rs_account_set_last_checked (account, then);
  idle = rs_account_status_new (account, now);
  g_assert_cmpstr (idle->subtitle, ==, "Fastmail · Watching for replies · last checked 2 min ago");

  rs_account_set_state (account, RS_ACCOUNT_STATE_NEEDS_ATTENTION, "Sign in again to reconnect");
  attention = rs_account_status_new (account, now);
  g_assert_true (attention->needs_attention);
  g_assert_cmpstr (attention->subtitle, ==, "Fastmail · Sign in again to reconnect");
}

static void
test_time_ago (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 12, 4, 12, 0, 0);
  static const struct {
    int         minutes;
    const char *expected;
  } cases[] = {
    { 0, "just now" },
    { 1, "1 min ago" },
    { 59, "59 min ago" },
    { 60, "1 hour ago" },
    { 150, "2 hours ago" },
    { 3 * 24 * 60, "on 1 December 2026" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GDateTime) then = g_date_time_add_minutes (now, -cases[i].minutes);
      g_autofree char *text = rs_format_time_ago (then, now);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/account-status/states", test_states);
  g_test_add_func ("/account-status/time-ago", test_time_ago);

  return g_test_run ();
}
