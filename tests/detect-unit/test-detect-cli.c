/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-detect-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

/* `retailsphere-accounts discover` refusing what is not an address,
 * before any network is touched.  ($RS_CLI is the built binary.) */

static void
run_discover (const char  *address,
              gboolean     json,
              char       **out,
              char       **err,
              int         *status)
{
  const char *cli = g_getenv ("RS_CLI");
  g_autoptr(GError) error = NULL;
  const char *argv[] = { cli, "discover", address, json ? "--json" : NULL, NULL };
  int wait_status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  *status = WEXITSTATUS (wait_status);
}

static void
test_invalid_address_json (void)
{
  static const char * const bad[] = { "not-an-address", "two@@example.org", "@example.org", "a b@example.org" };

  if (g_getenv ("RS_CLI") == NULL)
    {
      g_test_skip ("RS_CLI is not set: run through meson test");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *object;
      int status;

      run_discover (bad[i], TRUE, &out, &err, &status);
      g_assert_cmpint (status, ==, 2);

      json_parser_load_from_data (parser, out, -1, &error);
      g_assert_no_error (error);
      object = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "error");
      g_assert_nonnull (object);
      g_assert_cmpstr (json_object_get_string_member (object, "kind"), ==, "input");
      g_assert_nonnull (json_object_get_string_member (object, "message"));
    }
}

static void
test_invalid_address_human (void)
{
  g_autofree char *out = NULL, *err = NULL;
  int status;

  if (g_getenv ("RS_CLI") == NULL)
    {
      g_test_skip ("RS_CLI is not set: run through meson test");
      return;
    }

  run_discover ("nobody", FALSE, &out, &err, &status);
  g_assert_cmpint (status, ==, 2);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "nobody"));
}

static void
test_known_provider_json (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *first, *imap;
  JsonArray *sources;
  int status;

  if (g_getenv ("RS_CLI") == NULL)
    {
      g_test_skip ("RS_CLI is not set: run through meson test");
      return;
    }

  /* The bundled table answers first, so the others are cancelled and no
   * network answer is waited for. */
  run_discover ("someone@yahoo.com", TRUE, &out, &err, &status);
  g_assert_cmpint (status, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);

  root = json_node_get_object (json_parser_get_root (parser));
  first = json_array_get_object_element (json_object_get_array_member (root, "candidates"), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "source"), ==, "providers");
  g_assert_cmpstr (json_object_get_string_member (first, "auth"), ==, "password");
  g_assert_true (json_object_get_boolean_member (first, "app_password_required"));
  imap = json_object_get_object_member (first, "imap");
  g_assert_cmpstr (json_object_get_string_member (imap, "host"), ==, "imap.mail.yahoo.com");
  g_assert_cmpint (json_object_get_int_member (imap, "port"), ==, 993);
  g_assert_cmpstr (json_object_get_string_member (imap, "security"), ==, "tls");
  g_assert_cmpstr (json_object_get_string_member (imap, "username"), ==, "someone@yahoo.com");

  sources = json_object_get_array_member (root, "sources");
  g_assert_cmpuint (json_array_get_length (sources), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (sources, 0), "outcome"), ==, "found");
  for (guint i = 1; i < 7; i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (sources, i), "outcome"), ==,
                     "cancelled");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/detect/cli/invalid-address-json", test_invalid_address_json);
  g_test_add_func ("/detect/cli/invalid-address-human", test_invalid_address_human);
  g_test_add_func ("/detect/cli/known-provider-json", test_known_provider_json);

  return g_test_run ();
}
