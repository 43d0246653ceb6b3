/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cli-runner"

#include "config.h"

#include <signal.h>

#include "cli-runner.h"

void
run_init (Run *run)
{
  g_autoptr(GError) error = NULL;

  /* The CLI may refuse its arguments before reading the password we
   * pipe in; that must not kill the test. */
  signal (SIGPIPE, SIG_IGN);

  run->config_dir = g_dir_make_tmp ("rs-cli-XXXXXX", &error);
  g_assert_no_error (error);
}

void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

void
run_cli (Run        *run,
         const char *stdin_text,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("RS_CLI");
  const char *arg;
  va_list ap;

  g_assert_nonnull (cli);
  run_clear (run);

  g_ptr_array_add (args, (char *)cli);
  va_start (ap, stdin_text);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *)arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", run->config_dir, TRUE);
  /* Unless asked, no keyring may be reached: such commands must fail
   * before they would need one. */
  if (!run->session_bus)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                  "unix:path=/nonexistent/rs-test-bus", TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)args->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  run->status = g_subprocess_get_exit_status (process);

  g_test_message ("stdout: %s\nstderr: %s\nstatus: %d", run->out, run->err, run->status);
}

JsonObject *
parse_json_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

JsonObject *
parse_error_json (const char *text)
{
  g_autoptr(JsonObject) root = parse_json_object (text);

  g_assert_true (json_object_has_member (root, "error"));

  return json_object_ref (json_object_get_object_member (root, "error"));
}

