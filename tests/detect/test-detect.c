/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-detect"

/*
 * Settings detection end to end: the real `retailsphere-accounts discover
 * --json`, unchanged, inside the test bed's network namespace (see
 * detect-bed.h for the domains).  It finds the bed's servers the way it
 * finds any: through DNS, trusting them through the system's store.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include <string.h>

#include "detect-bed.h"

/* Bounds a user would notice, with room for a slow machine: the engine aims
 * at 3 s for a hanging better source and 8 s for the whole run. */
#define HANG_BOUND_US     (6 * G_USEC_PER_SEC)
#define TOTAL_BOUND_US    (10 * G_USEC_PER_SEC)
/* The best source answers at once: no waiting for the hanging rest (the
 * engine aims at its answer time + 100 ms; room for a loaded machine). */
#define DECIDED_BOUND_US  (G_USEC_PER_SEC * 3 / 2)
/* A command that runs longer than this is stopped: it hangs. */
#define WATCHDOG_MS       30000

static DetectBed *bed;
static char *bed_skip;
static GError *bed_error;

typedef struct
{
  int         status;
  gint64      elapsed_us;
  char       *output;
  JsonNode   *root;
  JsonObject *top;      /* borrowed from root */
  JsonArray  *candidates;
  JsonArray  *sources;
} Discovery;

static void
discovery_free (Discovery *discovery)
{
  g_free (discovery->output);
  g_clear_pointer (&discovery->root, json_node_unref);
  g_free (discovery);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Discovery, discovery_free)

static gboolean
need_bed (void)
{
  if (bed_skip != NULL)
    {
      g_test_skip (bed_skip);
      return FALSE;
    }
  g_assert_no_error (bed_error);
  g_assert_nonnull (bed);

  return TRUE;
}

typedef struct
{
  char    *output;
  char    *errors;
  GError  *error;
  gboolean done;
} Communication;

static void
communicated_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Communication *communication = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result,
                                        &communication->output, &communication->errors,
                                        &communication->error);
  communication->done = TRUE;
}

static gboolean
watchdog_cb (gpointer user_data)
{
  g_subprocess_force_exit (user_data);
  return G_SOURCE_REMOVE;
}

static Discovery *
discover (const char *address)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *errors = NULL;
  Discovery *discovery = g_new0 (Discovery, 1);
  Communication communication = { 0 };
  const char *cli = g_getenv ("RS_CLI");
  guint watchdog;
  gint64 start;

  g_assert_nonnull (cli);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawn (launcher, &error, cli, "discover", "--json", address, NULL);
  g_assert_no_error (error);
  watchdog = g_timeout_add (WATCHDOG_MS, watchdog_cb, process);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &communication);
  while (!communication.done)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_wait (process, NULL, NULL);
  discovery->elapsed_us = g_get_monotonic_time () - start;
  g_assert_no_error (communication.error);
  discovery->output = g_steal_pointer (&communication.output);
  errors = g_steal_pointer (&communication.errors);

  /* Killed by the watchdog: the command hung. */
  g_assert_true (g_subprocess_get_if_exited (process));
  g_source_remove (watchdog);
  discovery->status = g_subprocess_get_exit_status (process);

  g_test_message ("discover %s: exit %d after %.2f s\n%s%s", address, discovery->status,
                  discovery->elapsed_us / (double) G_USEC_PER_SEC, discovery->output, errors);

  json_parser_load_from_data (parser, discovery->output, -1, &error);
  g_assert_no_error (error);
  discovery->root = json_parser_steal_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (discovery->root));
  discovery->top = json_node_get_object (discovery->root);
  discovery->candidates = json_object_get_array_member (discovery->top, "candidates");
  discovery->sources = json_object_get_array_member (discovery->top, "sources");
  g_assert_nonnull (discovery->candidates);
  g_assert_nonnull (discovery->sources);

  /* Exit 0 exactly when something was found. */
  g_assert_cmpint (discovery->status, ==, json_array_get_length (discovery->candidates) > 0 ? 0 : 1);

  return discovery;
}

static JsonObject *
best (Discovery *discovery)
{
  g_assert_cmpuint (json_array_get_length (discovery->candidates), >, 0);
  return json_array_get_object_element (discovery->candidates, 0);
}

static const char *
outcome_of (Discovery  *discovery,
            const char *source)
{
  for (guint i = 0; i < json_array_get_length (discovery->sources); i++)
    {
      JsonObject *report = json_array_get_object_element (discovery->sources, i);

      if (g_strcmp0 (json_object_get_string_member (report, "source"), source) == 0)
        return json_object_get_string_member (report, "outcome");
    }

  g_assert_not_reached ();
}

static void
assert_server (JsonObject *candidate,
               const char *protocol,
               const char *host,
               gint64      port,
               const char *security,
               const char *username)
{
  JsonObject *server;

  g_assert_true (json_object_has_member (candidate, protocol));
  server = json_object_get_object_member (candidate, protocol);
  g_assert_nonnull (server);
  g_assert_cmpstr (json_object_get_string_member (server, "host"), ==, host);
  g_assert_cmpint (json_object_get_int_member (server, "port"), ==, port);
  g_assert_cmpstr (json_object_get_string_member (server, "security"), ==, security);
  if (username != NULL)
    g_assert_cmpstr (json_object_get_string_member (server, "username"), ==, username);
}

static void
assert_usable (JsonObject *candidate,
               const char *source)
{
  g_assert_cmpstr (json_object_get_string_member (candidate, "source"), ==, source);
  g_assert_cmpstr (json_object_get_string_member (candidate, "auth"), ==, "password");
  g_assert_false (json_object_get_boolean_member (candidate, "insecure"));
  g_assert_false (json_object_get_boolean_member (candidate, "app_password_required"));
}

/* ---- Each source alone ---- */

static void
test_providers_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* The bundled table, with no network answer at all for yahoo.com in
   * here: an app password is required, and the user is told where to get
   * one before typing a password. */
  found = discover ("someone@yahoo.com");
  g_assert_cmpint (found->elapsed_us, <, DECIDED_BOUND_US);
  candidate = best (found);
  g_assert_cmpstr (json_object_get_string_member (candidate, "source"), ==, "providers");
  g_assert_cmpstr (json_object_get_string_member (candidate, "auth"), ==, "password");
  g_assert_true (json_object_get_boolean_member (candidate, "app_password_required"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (candidate, "instructions_url"), "https://"));
  assert_server (candidate, "imap", "imap.mail.yahoo.com", 993, "tls", "someone@yahoo.com");
}

static void
test_autoconfig_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  found = discover ("user@ac-only.test");
  candidate = best (found);
  assert_usable (candidate, "autoconfig");
  assert_server (candidate, "imap", "in.ac-only.test", 993, "tls", "user@ac-only.test");
  assert_server (candidate, "smtp", "out.ac-only.test", 465, "tls", "user@ac-only.test");
  g_assert_cmpstr (outcome_of (found, "autoconfig"), ==, "found");

  /* It asked with the address, as the format says. */
  g_assert_true (rs_test_netns_wait_web_log (bed->net,
                                             "autoconfig.ac-only.test 443 \"GET /mail/config-v1.1.xml"
                                             "?emailaddress=user%40ac-only.test", 3000));
}

static void
test_wellknown_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* STARTTLS on 143 and 587, and %EMAILLOCALPART%: kept as given. */
  found = discover ("user@wk-only.test");
  candidate = best (found);
  assert_usable (candidate, "autoconfig-wellknown");
  assert_server (candidate, "imap", "in.wk-only.test", 143, "starttls", "user");
  assert_server (candidate, "smtp", "out.wk-only.test", 587, "starttls", "user");
  g_assert_cmpstr (outcome_of (found, "autoconfig"), !=, "found");
}

static void
test_ispdb_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  found = discover ("user@ispdb-only.test");
  candidate = best (found);
  assert_usable (candidate, "ispdb");
  assert_server (candidate, "imap", "in.ispdb-only.test", 993, "tls", "user@ispdb-only.test");
  assert_server (candidate, "smtp", "out.ispdb-only.test", 465, "tls", "user@ispdb-only.test");
  g_assert_true (rs_test_netns_wait_web_log (bed->net,
                                             "autoconfig.thunderbird.net 443 \"GET /v1.1/ispdb-only.test", 3000));
}

static void
test_srv_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* IMAPS at priorities 10 and 20 (and plain IMAP at 0): the lowest
   * priority of implicit TLS.  Submissions has target ".", not offered:
   * submission with STARTTLS instead. */
  found = discover ("user@srv-only.test");
  candidate = best (found);
  assert_usable (candidate, "srv");
  assert_server (candidate, "imap", "imap-10.srv-only.test", 993, "tls", NULL);
  assert_server (candidate, "smtp", "submit.srv-only.test", 587, "starttls", NULL);
}

static void
test_google_by_mx (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* Nothing names the domain but its MX: Google Workspace. */
  found = discover ("user@google-mx.test");
  candidate = best (found);
  g_assert_cmpstr (json_object_get_string_member (candidate, "source"), ==, "mx");
  g_assert_cmpstr (json_object_get_string_member (candidate, "auth"), ==, "oauth2");
  g_assert_cmpstr (json_object_get_string_member (candidate, "route"), ==, "google");
  assert_server (candidate, "imap", "imap.gmail.com", 993, "tls", "user@google-mx.test");
  g_assert_cmpstr (outcome_of (found, "mx"), ==, "found");
}

static void
test_microsoft_by_mx (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* An MX at *.mail.protection.outlook.com: Microsoft 365, so Microsoft
   * sign-in rather than a password. */
  found = discover ("user@ms365-mx.test");
  candidate = best (found);
  g_assert_cmpstr (json_object_get_string_member (candidate, "source"), ==, "mx");
  g_assert_cmpstr (json_object_get_string_member (candidate, "route"), ==, "microsoft");
  g_assert_cmpstr (json_object_get_string_member (candidate, "auth"), ==, "oauth2");
}

static void
test_guess_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* Real Dovecot and Exim at imap.D and smtp.D: encrypted first. */
  found = discover ("user@guess-only.test");
  candidate = best (found);
  assert_usable (candidate, "guess");
  assert_server (candidate, "imap", "imap.guess-only.test", 993, "tls", NULL);
  assert_server (candidate, "smtp", "smtp.guess-only.test", 465, "tls", NULL);
}

/* ---- Together ---- */

static void
test_conflict_ranking (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* Autoconfig says A, SRV says B: autoconfig ranks higher. */
  found = discover ("user@conflict.test");
  candidate = best (found);
  assert_usable (candidate, "autoconfig");
  assert_server (candidate, "imap", "in-a.conflict.test", 993, "tls", NULL);
  assert_server (candidate, "smtp", "out-a.conflict.test", 465, "tls", NULL);
}

static void
test_hanging_better_source (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;
  const char *outcome;

  if (!need_bed ())
    return;

  /* Autoconfig and well-known hosts accept and never answer; SRV answers
   * at once.  The result comes within the probe bound, from SRV. */
  found = discover ("user@hang.test");
  g_assert_cmpint (found->elapsed_us, <, HANG_BOUND_US);
  candidate = best (found);
  assert_usable (candidate, "srv");
  assert_server (candidate, "imap", "in.hang.test", 993, "tls", NULL);
  assert_server (candidate, "smtp", "out.hang.test", 465, "tls", NULL);

  /* It timed out; it was not merely dropped. */
  outcome = outcome_of (found, "autoconfig");
  g_assert_cmpstr (outcome, ==, "failed");
}

static void
test_lower_sources_hang (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* Autoconfig answers at once; the well-known host, the SRV targets and
   * every guessed host accept and never answer.  Nothing waits for them. */
  found = discover ("user@fast.test");
  g_assert_cmpint (found->elapsed_us, <, DECIDED_BOUND_US);
  candidate = best (found);
  assert_usable (candidate, "autoconfig");
  assert_server (candidate, "imap", "in.fast.test", 993, "tls", NULL);
}

static void
test_dns_never_answers (void)
{
  g_autoptr(Discovery) found = NULL;

  if (!need_bed ())
    return;

  /* The domain's name server never answers (the C library would wait
   * 5 s twice per name): still over within the total bound, found nothing. */
  found = discover ("user@blackhole.test");
  g_assert_cmpint (found->status, ==, 1);
  g_assert_cmpuint (json_array_get_length (found->candidates), ==, 0);
  g_assert_cmpint (found->elapsed_us, <, TOTAL_BOUND_US);
  g_assert_cmpstr (outcome_of (found, "srv"), ==, "failed");
}

static void
test_hostile_file (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* The autoconfig file is a "billion laughs": that source fails (fast,
   * without expanding it); the well-known file still counts. */
  found = discover ("user@hostile.test");
  g_assert_cmpint (found->elapsed_us, <, HANG_BOUND_US);
  g_assert_cmpstr (outcome_of (found, "autoconfig"), ==, "failed");
  candidate = best (found);
  assert_usable (candidate, "autoconfig-wellknown");
  assert_server (candidate, "imap", "in.hostile.test", 993, "tls", NULL);

  g_assert_null (strstr (found->output, "lollollol"));
}

static void
test_redirect (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* The well-known URL answers 301 to another HTTPS path: followed. */
  found = discover ("user@redirect.test");
  candidate = best (found);
  assert_usable (candidate, "autoconfig-wellknown");
  assert_server (candidate, "imap", "in.redirect.test", 993, "tls", NULL);
  assert_server (candidate, "smtp", "out.redirect.test", 465, "tls", NULL);
  g_assert_true (rs_test_netns_wait_web_log (bed->net,
                                             "redirect.test 443 \"GET /moved/config-v1.1.xml", 3000));
}

static void
test_redirect_to_http (void)
{
  g_autoptr(Discovery) found = NULL;

  if (!need_bed ())
    return;

  /* HTTPS redirected down to plain HTTP: whatever comes back is no longer
   * protected, so it is never offered as if it were. */
  found = discover ("user@downgrade.test");
  for (guint i = 0; i < json_array_get_length (found->candidates); i++)
    {
      JsonObject *candidate = json_array_get_object_element (found->candidates, i);
      JsonObject *imap = json_object_get_object_member (candidate, "imap");

      if (imap != NULL && g_strcmp0 (json_object_get_string_member (imap, "host"), "in.downgrade.test") == 0)
        g_assert_true (json_object_get_boolean_member (candidate, "insecure"));
    }
}

static void
test_http_only (void)
{
  g_autoptr(Discovery) found = NULL;
  JsonObject *candidate;

  if (!need_bed ())
    return;

  /* An answer over plain HTTP is offered, but never silently: marked
   * insecure, with a reason for the user. */
  found = discover ("user@http-only.test");
  candidate = best (found);
  g_assert_cmpstr (json_object_get_string_member (candidate, "source"), ==, "autoconfig");
  assert_server (candidate, "imap", "in.http-only.test", 993, "tls", NULL);
  g_assert_true (json_object_get_boolean_member (candidate, "insecure"));
  g_assert_nonnull (json_object_get_string_member (candidate, "insecure_reason"));
  g_assert_true (rs_test_netns_wait_web_log (bed->net,
                                             "autoconfig.http-only.test 80 \"GET /mail/config-v1.1.xml", 3000));
}

static void
test_nothing (void)
{
  g_autoptr(Discovery) found = NULL;

  if (!need_bed ())
    return;

  /* Nothing exists: exit 1 within the total bound, every source said. */
  found = discover ("user@nothing.test");
  g_assert_cmpint (found->status, ==, 1);
  g_assert_cmpuint (json_array_get_length (found->candidates), ==, 0);
  g_assert_cmpint (found->elapsed_us, <, TOTAL_BOUND_US);

  for (guint i = 0; i < json_array_get_length (found->sources); i++)
    {
      JsonObject *report = json_array_get_object_element (found->sources, i);

      g_assert_cmpstr (json_object_get_string_member (report, "outcome"), !=, "found");
    }
  g_assert_cmpstr (outcome_of (found, "srv"), ==, "not-found");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  bed = detect_bed_start (&bed_skip, &bed_error);

  g_test_add_func ("/detect/alone/providers", test_providers_only);
  g_test_add_func ("/detect/alone/autoconfig", test_autoconfig_only);
  g_test_add_func ("/detect/alone/wellknown", test_wellknown_only);
  g_test_add_func ("/detect/alone/ispdb", test_ispdb_only);
  g_test_add_func ("/detect/alone/srv", test_srv_only);
  g_test_add_func ("/detect/alone/google-mx", test_google_by_mx);
  g_test_add_func ("/detect/alone/microsoft-mx", test_microsoft_by_mx);
  g_test_add_func ("/detect/alone/guess", test_guess_only);
  g_test_add_func ("/detect/conflict-ranking", test_conflict_ranking);
  g_test_add_func ("/detect/hanging-better-source", test_hanging_better_source);
  g_test_add_func ("/detect/lower-sources-hang", test_lower_sources_hang);
  g_test_add_func ("/detect/dns-never-answers", test_dns_never_answers);
  g_test_add_func ("/detect/hostile-file", test_hostile_file);
  g_test_add_func ("/detect/redirect", test_redirect);
  g_test_add_func ("/detect/redirect-to-http", test_redirect_to_http);
  g_test_add_func ("/detect/http-only", test_http_only);
  g_test_add_func ("/detect/nothing", test_nothing);

  status = g_test_run ();

  g_clear_pointer (&bed, detect_bed_free);
  g_clear_error (&bed_error);
  g_free (bed_skip);

  return status;
}
