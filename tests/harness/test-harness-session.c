/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-harness-session"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <libsecret/secret.h>

/* Runs under rs-session-run: a private display, bus and keyring. */

static const SecretSchema test_schema = {
  "com.retailsphere.Settings.HarnessTest", SECRET_SCHEMA_NONE,
  {
    { "case", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  }
};

static gboolean
skip_outside_session (void)
{
  if (g_strcmp0 (g_getenv ("RS_TEST_SESSION"), "1") == 0)
    return FALSE;

  g_test_skip ("needs the private session of tests/harness/rs-session-run");
  return TRUE;
}

static void
test_private_folders (void)
{
  const char *runtime_dir;

  if (skip_outside_session ())
    return;

  /* Never the real user's home or runtime folder. */
  runtime_dir = g_get_user_runtime_dir ();
  g_assert_true (g_str_has_prefix (g_get_home_dir (), g_get_tmp_dir ()));
  g_assert_true (g_str_has_prefix (runtime_dir, g_get_tmp_dir ()));
  g_assert_true (g_str_has_prefix (g_get_user_config_dir (), g_get_tmp_dir ()));
  g_assert_true (g_str_has_prefix (g_get_user_data_dir (), g_get_tmp_dir ()));
  g_assert_true (g_file_test (runtime_dir, G_FILE_TEST_IS_DIR));
}

static void
test_secret_service (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *found = NULL;
  gboolean stored;

  if (skip_outside_session ())
    return;

  stored = secret_password_store_sync (&test_schema, SECRET_COLLECTION_DEFAULT,
                                       "Harness test", "not-a-real-secret",
                                       NULL, &error,
                                       "case", "store-and-lookup",
                                       NULL);
  g_assert_no_error (error);
  g_assert_true (stored);

  found = secret_password_lookup_sync (&test_schema, NULL, &error,
                                       "case", "store-and-lookup",
                                       NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, "not-a-real-secret");
  g_clear_pointer (&found, g_free);

  g_assert_true (secret_password_clear_sync (&test_schema, NULL, &error,
                                             "case", "store-and-lookup",
                                             NULL));
  g_assert_no_error (error);

  found = secret_password_lookup_sync (&test_schema, NULL, &error,
                                       "case", "store-and-lookup",
                                       NULL);
  g_assert_no_error (error);
  g_assert_null (found);
}

static void
test_display (void)
{
  if (skip_outside_session ())
    return;

  g_assert_nonnull (g_getenv ("DISPLAY"));
  g_assert_true (gtk_init_check ());
  g_assert_nonnull (gdk_display_get_default ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/harness/session/private-folders", test_private_folders);
  g_test_add_func ("/harness/session/secret-service", test_secret_service);
  g_test_add_func ("/harness/session/display", test_display);

  return g_test_run ();
}
