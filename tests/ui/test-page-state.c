/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-page-state"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-page-state.h"

static void
test_connected_apps_empty (void)
{
  g_autoptr(RsConnectedAppsState) state = rs_connected_apps_state_new (0);

  g_assert_true (state->show_empty_state);
  g_assert_false (state->show_accounts_list);
  g_assert_nonnull (state->empty_icon_name);
  g_assert_cmpstr (state->empty_title, ==, "No Mailbox Connected");
  /* The privacy promise is where the user first meets the list. */
  g_assert_nonnull (strstr (state->empty_description, "never reads what they wrote"));
  g_assert_null (state->accounts_description);
}

static void
test_connected_apps_counts (void)
{
  static const struct {
    guint       n_accounts;
    const char *description;
  } cases[] = {
    { 1, "1 mailbox connected" },
    { 2, "2 mailboxes connected" },
    { 12, "12 mailboxes connected" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsConnectedAppsState) state = rs_connected_apps_state_new (cases[i].n_accounts);

      g_assert_true (state->show_accounts_list);
      g_assert_false (state->show_empty_state);
      g_assert_cmpstr (state->accounts_description, ==, cases[i].description);
    }
}

static void
test_avatar_text (void)
{
  static const struct {
    const char *real_name;
    const char *user_name;
    const char *expected;
  } cases[] = {
    { "Jane Doe", "jane", "Jane Doe" },
    { "  Jane Doe ", "jane", "Jane Doe" },
    { "Unknown", "jane", "jane" },   /* what GLib says when GECOS is empty */
    { "", "jane", "jane" },
    { NULL, "jane", "jane" },
    { NULL, NULL, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = rs_avatar_text (cases[i].real_name, cases[i].user_name);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_unavailable_messages (void)
{
  static const RsUnavailableFeature features[] = {
    RS_UNAVAILABLE_GMAIL_SIGN_IN,
  };

  for (guint i = 0; i < G_N_ELEMENTS (features); i++)
    {
      g_autofree char *heading = NULL;
      g_autofree char *body = NULL;

      rs_unavailable_message (features[i], &heading, &body);

      /* Nothing pretends to work: the user is told it is not there yet. */
      g_assert_nonnull (strstr (heading, "Not Available Yet"));
      g_assert_nonnull (strstr (body, "cannot"));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/page-state/connected-apps/empty", test_connected_apps_empty);
  g_test_add_func ("/page-state/connected-apps/counts", test_connected_apps_counts);
  g_test_add_func ("/page-state/avatar-text", test_avatar_text);
  g_test_add_func ("/page-state/unavailable-messages", test_unavailable_messages);

  return g_test_run ();
}
