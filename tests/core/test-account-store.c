/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-account-store"

#include "config.h"

#include <glib/gstdio.h>

#include "rs-account-store.h"
#include "rs-error.h"
#include "rs-net.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("rs-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "sub", "accounts.ini", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (f->dir, "sub", NULL);

  g_unlink (f->path);
  g_rmdir (sub);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static RsAccount *
make_imap_account (const char *address)
{
  g_autoptr(RsServerSettings) imap = rs_server_settings_new ("imap.example.com", 993, RS_SECURITY_TLS, address);
  g_autoptr(RsServerSettings) smtp = rs_server_settings_new ("smtp.example.com", 587, RS_SECURITY_STARTTLS, address);
  RsAccount *account = rs_account_new (RS_ACCOUNT_KIND_IMAP, address);

  rs_account_set_imap_settings (account, imap);
  rs_account_set_smtp_settings (account, smtp);

  return account;
}

static void
test_missing_file_is_empty (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(RsAccountStore) store = rs_account_store_new (f->path);
  g_autoptr(GError) error = NULL;

  g_assert_true (rs_account_store_load (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RsAccountStore) store = rs_account_store_new (f->path);
  g_autoptr(RsAccountStore) again = rs_account_store_new (f->path);
  g_autoptr(RsAccount) account = make_imap_account ("ada@example.com");
  g_autoptr(RsAccount) loaded = NULL;
  g_autoptr(GError) error = NULL;
  RsTrust trust = { .ca_file = (char *)"/etc/corp-ca.pem", .pinned_fingerprints = (char *[]) { (char *)"ab12", NULL } };
  const RsServerSettings *smtp;
  GStatBuf st;

  rs_account_set_provider_name (account, "Example Mail");
  rs_account_set_trust (account, &trust);

  g_assert_true (rs_account_store_load (store, &error));
  g_assert_true (rs_account_store_add (store, account, &error));
  g_assert_no_error (error);

  /* Only the user may read it; the folder is created as needed. */
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_true (rs_account_store_load (again, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (again)), ==, 1);
  loaded = g_list_model_get_item (G_LIST_MODEL (again), 0);
  g_assert_cmpstr (rs_account_get_id (loaded), ==, rs_account_get_id (account));
  g_assert_cmpstr (rs_account_get_address (loaded), ==, "ada@example.com");
  g_assert_cmpstr (rs_account_get_provider_name (loaded), ==, "Example Mail");
  smtp = rs_account_get_smtp_settings (loaded);
  g_assert_nonnull (smtp);
  g_assert_cmpstr (smtp->host, ==, "smtp.example.com");
  g_assert_cmpuint (smtp->port, ==, 587);
  g_assert_cmpint (smtp->security, ==, RS_SECURITY_STARTTLS);
  g_assert_cmpstr (rs_account_get_trust (loaded)->ca_file, ==, "/etc/corp-ca.pem");
  g_assert_cmpstr (rs_account_get_trust (loaded)->pinned_fingerprints[0], ==, "ab12");
}

static void
test_duplicate_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(RsAccountStore) store = rs_account_store_new (f->path);
  g_autoptr(RsAccount) first = make_imap_account ("ada@example.com");
  g_autoptr(RsAccount) second = make_imap_account ("ADA@example.com");
  g_autoptr(GError) error = NULL;

  g_assert_true (rs_account_store_add (store, first, &error));
  g_assert_false (rs_account_store_add (store, second, &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RsAccountStore) store = rs_account_store_new (f->path);
  g_autoptr(RsAccountStore) again = rs_account_store_new (f->path);
  g_autoptr(RsAccount) a = make_imap_account ("a@example.com");
  g_autoptr(RsAccount) b = make_imap_account ("b@example.com");
  g_autoptr(GError) error = NULL;

  g_assert_true (rs_account_store_add (store, a, &error));
  g_assert_true (rs_account_store_add (store, b, &error));
  g_assert_true (rs_account_store_remove (store, rs_account_get_id (a), &error));
  g_assert_no_error (error);

  g_assert_false (rs_account_store_remove (store, "nonexistent", &error));
  g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);

  g_assert_true (rs_account_store_load (again, NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (again)), ==, 1);
  g_assert_nonnull (rs_account_store_lookup (again, rs_account_get_id (b)));
  g_assert_null (rs_account_store_lookup (again, rs_account_get_id (a)));
}

/* A file we cannot read is reported and never overwritten. */
static void
test_corrupt_file_kept (Fixture       *f,
                        gconstpointer  data)
{
  static const char *cases[] = {
    "this is not a key file\n",
    "[abc]\nKind=carrier-pigeon\nAddress=a@example.com\n",
    "[abc]\nKind=imap\n",
    "[abc]\nKind=imap\nAddress=a@example.com\nImapHost=h\nImapPort=99999\nImapSecurity=tls\nImapUsername=u\n",
    "[abc]\nKind=imap\nAddress=a@example.com\nImapHost=h\nImapPort=993\nImapSecurity=none\nImapUsername=u\n",
    "[../../etc]\nKind=imap\nAddress=a@example.com\n",
  };
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_mkdir_with_parents (dir, 0700);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsAccountStore) store = rs_account_store_new (f->path);
      g_autoptr(RsAccount) account = make_imap_account ("new@example.com");
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;

      g_assert_true (g_file_set_contents (f->path, cases[i], -1, NULL));

      g_assert_false (rs_account_store_load (store, &error));
      g_assert_error (error, RS_ERROR, RS_ERROR_STORAGE);
      g_assert_nonnull (strstr (error->message, f->path));
      g_clear_error (&error);

      g_assert_false (rs_account_store_add (store, account, &error));
      g_assert_error (error, RS_ERROR, RS_ERROR_STORAGE);

      g_assert_true (g_file_get_contents (f->path, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, cases[i]);
    }
}

/* The CLI writes; the application, watching, sees the change. */
static void
test_watch_sees_other_writer (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(RsAccountStore) watcher = rs_account_store_new (f->path);
  g_autoptr(RsAccountStore) writer = rs_account_store_new (f->path);
  g_autoptr(RsAccount) account = make_imap_account ("w@example.com");
  gint64 deadline;

  g_assert_true (rs_account_store_load (watcher, NULL));
  rs_account_store_watch (watcher);

  g_assert_true (rs_account_store_add (writer, account, NULL));

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_list_model_get_n_items (G_LIST_MODEL (watcher)) == 0 &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (watcher)), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/account-store/missing-file-is-empty", Fixture, NULL, fixture_set_up, test_missing_file_is_empty, fixture_tear_down);
  g_test_add ("/account-store/round-trip", Fixture, NULL, fixture_set_up, test_round_trip, fixture_tear_down);
  g_test_add ("/account-store/duplicate-refused", Fixture, NULL, fixture_set_up, test_duplicate_refused, fixture_tear_down);
  g_test_add ("/account-store/remove", Fixture, NULL, fixture_set_up, test_remove, fixture_tear_down);
  g_test_add ("/account-store/corrupt-file-kept", Fixture, NULL, fixture_set_up, test_corrupt_file_kept, fixture_tear_down);
  g_test_add ("/account-store/watch-sees-other-writer", Fixture, NULL, fixture_set_up, test_watch_sees_other_writer, fixture_tear_down);

  return g_test_run ();
}
