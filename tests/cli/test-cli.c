/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cli-runner.h"

/* retailsphere-accounts as a script uses it: its output, its JSON and its
 * exit status.  Each test gets its own configuration folder. */

static void
setup (Run           *run,
       gconstpointer  data)
{
  run_init (run);
}

static void
teardown (Run           *run,
          gconstpointer  data)
{
  g_autofree char *file = g_build_filename (run->config_dir, "retailsphere-settings", "accounts.ini", NULL);
  g_autofree char *dir = g_path_get_dirname (file);

  g_remove (file);
  g_rmdir (dir);
  g_rmdir (run->config_dir);
  g_free (run->config_dir);
  run_clear (run);
}

static void
test_version (Run *run, gconstpointer data)
{
  run_cli (run, NULL, "--version", NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "retailsphere-accounts " PACKAGE_VERSION "\n");
}

static void
test_help (Run *run, gconstpointer data)
{
  run_cli (run, NULL, "--help", NULL);
  g_assert_cmpint (run->status, ==, 0);
  for (guint i = 0; i < 4; i++)
    g_assert_nonnull (strstr (run->out, (const char *[]) { "list", "add-imap", "check", "remove" }[i]));

  run_cli (run, NULL, "add-imap", "--help", NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "--password-stdin"));
  g_assert_null (strstr (run->out, "--password "));
}

static void
test_usage_errors (Run *run, gconstpointer data)
{
  run_cli (run, NULL, NULL);
  g_assert_cmpint (run->status, ==, 2);

  run_cli (run, NULL, "frobnicate", NULL);
  g_assert_cmpint (run->status, ==, 2);
  g_assert_nonnull (strstr (run->err, "frobnicate"));

  run_cli (run, NULL, "list", "--bogus", NULL);
  g_assert_cmpint (run->status, ==, 2);

  run_cli (run, NULL, "check", NULL);
  g_assert_cmpint (run->status, ==, 2);

  run_cli (run, NULL, "remove", "nosuchid", NULL);
  g_assert_cmpint (run->status, ==, 2);
  g_assert_nonnull (strstr (run->err, "nosuchid"));
}

static void
test_list_empty (Run *run, gconstpointer data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  run_cli (run, NULL, "list", NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "No accounts"));

  run_cli (run, NULL, "list", "--json", NULL);
  g_assert_cmpint (run->status, ==, 0);
  json_parser_load_from_data (parser, run->out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (json_parser_get_root (parser))), ==, 0);
}

static void
test_list_accounts (Run *run, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (run->config_dir, "retailsphere-settings", NULL);
  g_autofree char *file = g_build_filename (dir, "accounts.ini", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *account;
  JsonObject *imap;

  g_mkdir_with_parents (dir, 0700);
  g_assert_true (g_file_set_contents (file,
                                      "[a1b2c3d4]\nKind=imap\nAddress=ada@example.com\n"
                                      "ImapHost=imap.example.com\nImapPort=993\nImapSecurity=tls\nImapUsername=ada\n"
                                      "SmtpHost=smtp.example.com\nSmtpPort=587\nSmtpSecurity=starttls\nSmtpUsername=ada\n",
                                      -1, NULL));

  run_cli (run, NULL, "list", NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "a1b2c3d4"));
  g_assert_nonnull (strstr (run->out, "ada@example.com"));

  run_cli (run, NULL, "list", "--json", NULL);
  g_assert_cmpint (run->status, ==, 0);
  json_parser_load_from_data (parser, run->out, -1, &error);
  g_assert_no_error (error);
  account = json_array_get_object_element (json_node_get_array (json_parser_get_root (parser)), 0);
  g_assert_cmpstr (json_object_get_string_member (account, "id"), ==, "a1b2c3d4");
  g_assert_cmpstr (json_object_get_string_member (account, "kind"), ==, "imap");
  imap = json_object_get_object_member (account, "imap");
  g_assert_cmpint (json_object_get_int_member (imap, "port"), ==, 993);
  g_assert_cmpstr (json_object_get_string_member (imap, "security"), ==, "tls");
}

static void
test_list_unreadable_file (Run *run, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (run->config_dir, "retailsphere-settings", NULL);
  g_autofree char *file = g_build_filename (dir, "accounts.ini", NULL);
  g_autoptr(JsonObject) error = NULL;

  g_mkdir_with_parents (dir, 0700);
  g_assert_true (g_file_set_contents (file, "garbage\n", -1, NULL));

  run_cli (run, NULL, "list", "--json", NULL);
  g_assert_cmpint (run->status, ==, 1);
  error = parse_error_json (run->out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "storage");
}

/* Bad input is refused, explained, before any password is read or any
 * server contacted; nothing is saved. */
static void
test_add_imap_input (Run *run, gconstpointer data)
{
  static const struct {
    const char *args[10];
    const char *in_message;
  } cases[] = {
    { { "--email", "not-an-address", "--imap-host", "imap.example.com", "--smtp-host", "smtp.example.com", "--password-stdin" }, "not-an-address" },
    { { "--email", "a@example.com", "--imap-host", "imap .example.com", "--smtp-host", "smtp.example.com", "--password-stdin" }, "IMAP server" },
    { { "--email", "a@example.com", "--imap-host", "imap.example.com", "--imap-port", "70000", "--password-stdin" }, "IMAP port" },
    { { "--email", "a@example.com", "--imap-host", "imap.example.com", "--smtp-host", "smtp.example.com", "--smtp-security", "ssl" }, "--password-stdin" },
    { { "--email", "a@example.com", "--imap-host", "imap.example.com", "--smtp-host", "smtp.example.com", "--smtp-security", "ssl", "--password-stdin" }, "ssl" },
    { { "--email", "a@example.com", "--imap-host", "imap.example.com", "--password-stdin" }, "--smtp-host" },
    { { "--email", "a@example.com", "--imap-host", "h.example.com", "--smtp-host", "s.example.com", "--trust-fingerprint", "xyz", "--password-stdin" }, "xyz" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) error = NULL;
      g_autofree char *file = g_build_filename (run->config_dir, "retailsphere-settings", "accounts.ini", NULL);
      const char * const *a = cases[i].args;

      run_cli (run, "secret\n", "add-imap", "--json",
               a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
      g_assert_cmpint (run->status, ==, 2);
      error = parse_error_json (run->out);
      g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "input");
      g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), cases[i].in_message));
      g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
      g_assert_null (strstr (run->out, "secret"));
      g_assert_null (strstr (run->err, "secret"));
    }
}

/* Without a keyring, sign-in stops before any server is contacted, says
 * so in plain words, and saves nothing. */
static void
test_add_imap_no_keyring (Run *run, gconstpointer data)
{
  g_autoptr(JsonObject) error = NULL;
  g_autofree char *file = g_build_filename (run->config_dir, "retailsphere-settings", "accounts.ini", NULL);

  run_cli (run, "secret\n", "add-imap", "--json",
           "--email", "ada@example.com",
           "--imap-host", "imap.example.com", "--smtp-host", "smtp.example.com",
           "--password-stdin", NULL);
  g_assert_cmpint (run->status, ==, 1);
  error = parse_error_json (run->out);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "keyring");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "keyring"));
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "Nothing was saved"));
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));

  run_cli (run, "secret\n", "add-imap",
           "--email", "ada@example.com",
           "--imap-host", "imap.example.com", "--smtp-host", "smtp.example.com",
           "--password-stdin", NULL);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "Checking the keyring… failed"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/cli/version", Run, NULL, setup, test_version, teardown);
  g_test_add ("/cli/help", Run, NULL, setup, test_help, teardown);
  g_test_add ("/cli/usage-errors", Run, NULL, setup, test_usage_errors, teardown);
  g_test_add ("/cli/list-empty", Run, NULL, setup, test_list_empty, teardown);
  g_test_add ("/cli/list-accounts", Run, NULL, setup, test_list_accounts, teardown);
  g_test_add ("/cli/list-unreadable-file", Run, NULL, setup, test_list_unreadable_file, teardown);
  g_test_add ("/cli/add-imap-input", Run, NULL, setup, test_add_imap_input, teardown);
  g_test_add ("/cli/add-imap-no-keyring", Run, NULL, setup, test_add_imap_no_keyring, teardown);

  return g_test_run ();
}
