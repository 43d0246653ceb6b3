/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-secret-store"

#include "config.h"

#include <libsecret/secret.h>

#include "rs-error.h"
#include "rs-secret-store.h"
#include "rs-test-utils.h"

/* Against the real gnome-keyring of the harness session (rs-session-run). */

static gboolean
require_session (void)
{
  if (g_getenv ("RS_TEST_SESSION") == NULL)
    {
      g_test_skip ("needs the private keyring session of tests/harness/rs-session-run");
      return FALSE;
    }

  return TRUE;
}

static char *
lookup (RsAccount  *account,
        GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  rs_secret_store_lookup_password_async (account, NULL, rs_test_result_cb, &result);
  return rs_secret_store_lookup_password_finish (rs_test_wait_result (&result), error);
}

static void
test_check (void)
{
  g_autoptr(GError) error = NULL;

  if (!require_session ())
    return;

  g_assert_true (rs_secret_store_check_sync (NULL, &error));
  g_assert_no_error (error);
}

static void
test_save_lookup_delete (void)
{
  g_autoptr(RsAccount) account = rs_account_new (RS_ACCOUNT_KIND_IMAP, "ada@example.com");
  g_autoptr(RsAccount) other = rs_account_new (RS_ACCOUNT_KIND_IMAP, "bob@example.com");
  g_autoptr(GAsyncResult) saved = NULL;
  g_autoptr(GAsyncResult) saved_other = NULL;
  g_autoptr(GAsyncResult) deleted = NULL;
  g_autoptr(GError) error = NULL;
  char *password;

  if (!require_session ())
    return;

  rs_secret_store_save_password_async (account, "pa ss\"wörd", NULL, rs_test_result_cb, &saved);
  g_assert_true (rs_secret_store_save_password_finish (rs_test_wait_result (&saved), &error));
  g_assert_no_error (error);
  rs_secret_store_save_password_async (other, "other", NULL, rs_test_result_cb, &saved_other);
  g_assert_true (rs_secret_store_save_password_finish (rs_test_wait_result (&saved_other), &error));

  password = lookup (account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pa ss\"wörd");
  secret_password_free (password);

  /* A new generation hides the old secret: the user must sign in again. */
  rs_account_bump_credentials_generation (account);
  password = lookup (account, &error);
  g_assert_null (password);
  g_assert_error (error, RS_ERROR, RS_ERROR_AUTHENTICATION);
  g_clear_error (&error);

  rs_secret_store_delete_async (rs_account_get_id (account), NULL, rs_test_result_cb, &deleted);
  g_assert_true (rs_secret_store_delete_finish (rs_test_wait_result (&deleted), &error));
  g_assert_no_error (error);

  /* Every generation of this account is gone; the other account's stays. */
  {
    g_autoptr(GHashTable) attributes = secret_attributes_build (rs_secret_schema_get (),
                                                                "account-id", rs_account_get_id (account),
                                                                NULL);
    GList *items = secret_password_searchv_sync (rs_secret_schema_get (), attributes,
                                                 SECRET_SEARCH_ALL, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (items);
  }

  password = lookup (other, &error);
  g_assert_cmpstr (password, ==, "other");
  secret_password_free (password);
}

static void
test_unreachable (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (rs_secret_store_check_sync (NULL, &error));
      g_assert_error (error, RS_ERROR, RS_ERROR_KEYRING);
      /* Plain words first; the library's own words kept aside. */
      g_assert_nonnull (strstr (error->message, "keyring"));
      g_assert_null (strstr (error->message, "org.freedesktop"));
      g_assert_nonnull (rs_error_get_server_text (error));
      return;
    }

  {
    g_autofree char *address = g_strdup_printf ("unix:path=%s/no-such-bus", g_get_tmp_dir ());

    g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
    g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secret-store/check", test_check);
  g_test_add_func ("/secret-store/save-lookup-delete", test_save_lookup_delete);
  g_test_add_func ("/secret-store/unreachable", test_unreachable);

  return g_test_run ();
}
