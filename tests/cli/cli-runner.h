/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Runs retailsphere-accounts ($RS_CLI) as a script would, with its own
 * configuration folder, and keeps what it printed and its exit status. */
typedef struct
{
  char     *config_dir;
  char     *out;
  char     *err;
  int       status;
  gboolean  session_bus;  /* let it reach the session's keyring */
} Run;

void        run_init         (Run        *run);
void        run_clear        (Run        *run);
void        run_cli          (Run        *run,
                              const char *stdin_text,
                              ...) G_GNUC_NULL_TERMINATED;
JsonObject *parse_json_object (const char *text);
JsonObject *parse_error_json  (const char *text);

G_END_DECLS
