/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "retailsphere-accounts"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsecret/secret.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rs-account-setup.h"
#include "rs-account-status.h"
#include "rs-account-store.h"
#include "rs-certificate.h"
#include "rs-detector.h"
#include "rs-error.h"
#include "rs-reply-store.h"
#include "rs-validate.h"
#include "rs-worker.h"

/* retailsphere-accounts: the command-line front for administrators and
 * scripts.  It drives the same core code as the dialog.
 *
 * Exit status: 0 success, 1 the operation failed, 2 bad usage or input. */

#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define MAX_PASSWORD_LENGTH 4096

/* Runs the main loop until one asynchronous call is over. */
typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
  gboolean      json;
} Waiter;

static void
waiter_clear (Waiter *waiter)
{
  g_clear_pointer (&waiter->loop, g_main_loop_unref);
  g_clear_object (&waiter->result);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Waiter, waiter_clear)

static const struct {
  const char *name;
  const char *summary;
} commands[] = {
  { "list",     N_("List connected accounts") },
  { "add-imap", N_("Connect an IMAP/SMTP account (tests both, saves only on success)") },
  { "check",    N_("Sign in to a connected account’s servers again") },
  { "remove",   N_("Remove an account, its settings and its password") },
  { "discover", N_("Find the mail settings for an address (tries every method at once)") },
  { "sync",     N_("Send queued mail, look for replies and report them (once, or until stopped)") },
  { "replies",  N_("List the replies found and what is reported about them") },
  { "send",     N_("Send a message file through an account and track its replies") },
};

static char *
usage_summary (void)
{
  GString *str = g_string_new (_("Commands:"));

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (str, "\n  %-10s %s", commands[i].name, _(commands[i].summary));

  g_string_append_printf (str, "\n\n%s", _("Run “retailsphere-accounts COMMAND --help” for a command’s options."));

  return g_string_free (str, FALSE);
}

/* @pretty: over several lines; otherwise one line per value */
static void
print_json_full (JsonNode *node,
                 gboolean  pretty)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, pretty);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
print_json (JsonNode *node)
{
  print_json_full (node, TRUE);
}

/* Prints what @builder built. */
static void
print_json_builder (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  print_json (root);
}

static const char *
service_label (RsService service)
{
  switch (service)
    {
    case RS_SERVICE_IMAP: return _("Receiving (IMAP)");
    case RS_SERVICE_SMTP: return _("Sending (SMTP)");
    case RS_SERVICE_NONE:
    default:              return NULL;
    }
}

static char *
format_date (GDateTime *date)
{
  return date ? g_date_time_format_iso8601 (date) : NULL;
}

/* Prints @error and returns the exit status it deserves. */
static int
report_error (const GError *error,
              gboolean      json)
{
  RsService service = rs_error_get_service (error);
  const char *server_text = rs_error_get_server_text (error);
  RsCertificateInfo *certificate = rs_error_get_certificate (error);
  const char *kind = error->domain == RS_ERROR ? rs_error_code_to_string (error->code) : "protocol";
  gboolean usage = error->domain == RS_ERROR && error->code == RS_ERROR_INPUT;

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, kind);
      json_builder_set_member_name (builder, "service");
      if (rs_service_to_string (service) != NULL)
        json_builder_add_string_value (builder, rs_service_to_string (service));
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
      json_builder_set_member_name (builder, "server_text");
      if (server_text != NULL)
        json_builder_add_string_value (builder, server_text);
      else
        json_builder_add_null_value (builder);
      if (rs_error_get_response_code (error) != NULL)
        {
          json_builder_set_member_name (builder, "response_code");
          json_builder_add_string_value (builder, rs_error_get_response_code (error));
        }
      if (certificate != NULL)
        {
          g_autofree char *not_before = format_date (certificate->not_before);
          g_autofree char *not_after = format_date (certificate->not_after);
          g_auto(GStrv) problems = rs_certificate_describe_problems (certificate->errors);

          json_builder_set_member_name (builder, "fingerprint");
          json_builder_add_string_value (builder, certificate->fingerprint);
          json_builder_set_member_name (builder, "certificate");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "subject");
          json_builder_add_string_value (builder, certificate->subject);
          json_builder_set_member_name (builder, "issuer");
          json_builder_add_string_value (builder, certificate->issuer);
          json_builder_set_member_name (builder, "not_before");
          json_builder_add_string_value (builder, not_before);
          json_builder_set_member_name (builder, "not_after");
          json_builder_add_string_value (builder, not_after);
          json_builder_set_member_name (builder, "problems");
          json_builder_begin_array (builder);
          for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
            json_builder_add_string_value (builder, problems[i]);
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);

      print_json_builder (builder);
    }
  else
    {
      if (service_label (service) != NULL)
        /* Translators: "Sending (SMTP) failed: The server refused …" */
        g_printerr (_("%s failed: %s\n"), service_label (service), error->message);
      else
        g_printerr ("%s\n", error->message);

      if (server_text != NULL)
        g_printerr (_("  The server said: %s\n"), server_text);

      if (certificate != NULL)
        {
          g_autofree char *not_before = format_date (certificate->not_before);
          g_autofree char *not_after = format_date (certificate->not_after);
          g_auto(GStrv) problems = rs_certificate_describe_problems (certificate->errors);

          for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
            g_printerr ("  • %s\n", problems[i]);
          g_printerr (_("  Subject:     %s\n"), certificate->subject ? certificate->subject : "");
          g_printerr (_("  Issuer:      %s\n"), certificate->issuer ? certificate->issuer : "");
          g_printerr (_("  Valid from:  %s\n"), not_before ? not_before : "");
          g_printerr (_("  Valid until: %s\n"), not_after ? not_after : "");
          g_printerr (_("  SHA-256:     %s\n"), certificate->fingerprint);
          g_printerr (_("If you know this certificate is the right one, add "
                        "--trust-fingerprint %s, or give your organisation’s CA with --ca-file.\n"),
                      certificate->fingerprint);
        }
    }

  return usage ? EXIT_USAGE : EXIT_FAILED;
}

static int
usage_error (GOptionContext *context,
             gboolean        json,
             const char     *message)
{
  g_autoptr(GError) error = g_error_new_literal (RS_ERROR, RS_ERROR_INPUT, message);

  if (!json)
    g_printerr ("retailsphere-accounts: ");
  report_error (error, json);
  if (!json && context != NULL)
    g_printerr (_("Run “retailsphere-accounts %s --help” for its options.\n"),
                g_option_context_get_summary (context) ? g_option_context_get_summary (context) : "");

  return EXIT_USAGE;
}

static gboolean
argv_wants_json (int    argc,
                 char **argv)
{
  for (int i = 0; i < argc; i++)
    if (g_strcmp0 (argv[i], "--json") == 0)
      return TRUE;

  return FALSE;
}

/* A command's options: its name as the summary (usage_error() repeats
 * it), what it does as the description. */
static GOptionContext *
command_context_new (const char         *name,
                     const char         *parameter,
                     const char         *description,
                     const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameter);

  g_option_context_set_summary (context, name);
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  return context;
}

/* A bad option is reported as JSON when --json was among the arguments,
 * whether or not parsing got that far. */
static gboolean
parse_options (GOptionContext  *context,
               int             *argc,
               char          ***argv,
               int             *status)
{
  g_autoptr(GError) error = NULL;
  gboolean json = argv_wants_json (*argc, *argv);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = usage_error (NULL, json, error->message);
      return FALSE;
    }

  return TRUE;
}

static int
unknown_account_error (GOptionContext *context,
                       gboolean        json,
                       const char     *id)
{
  g_autofree char *message =
    g_strdup_printf (_("No account has the ID “%s” (see “retailsphere-accounts list”)"), id);

  return usage_error (context, json, message);
}

static RsAccountStore *
open_store (gboolean   json,
            int       *status)
{
  g_autoptr(RsAccountStore) store = rs_account_store_new (NULL);
  g_autoptr(GError) error = NULL;

  if (!rs_account_store_load (store, &error))
    {
      *status = report_error (error, json);
      return NULL;
    }

  return g_steal_pointer (&store);
}

static void
waiter_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
  g_main_loop_quit (waiter->loop);
}

static void
waiter_init (Waiter   *waiter,
             gboolean  json)
{
  waiter->loop = g_main_loop_new (NULL, FALSE);
  waiter->json = json;
}

/* Returns: (transfer none): the result handed to waiter_done_cb() */
static GAsyncResult *
waiter_wait (Waiter *waiter)
{
  if (waiter->result == NULL)
    g_main_loop_run (waiter->loop);

  return waiter->result;
}

static void
setup_step_cb (RsAccountSetup *setup,
               RsSetupStep     step,
               RsStepState     state,
               gpointer        user_data)
{
  Waiter *waiter = user_data;
  const char *what;

  if (waiter->json)
    return;

  switch (step)
    {
    case RS_SETUP_STEP_KEYRING: what = _("Checking the keyring"); break;
    case RS_SETUP_STEP_IMAP:    what = _("Signing in to receive (IMAP)"); break;
    case RS_SETUP_STEP_SMTP:    what = _("Signing in to send (SMTP)"); break;
    case RS_SETUP_STEP_SAVE:    what = _("Saving the account"); break;
    default:                    g_assert_not_reached ();
    }

  switch (state)
    {
    case RS_STEP_STATE_RUNNING:
      g_printerr ("%s… ", what);
      break;

    case RS_STEP_STATE_DONE:
      g_printerr ("%s\n", _("done"));
      break;

    case RS_STEP_STATE_FAILED:
      g_printerr ("%s\n", _("failed"));
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
add_server_json (JsonBuilder            *builder,
                 const char             *name,
                 const RsServerSettings *settings)
{
  json_builder_set_member_name (builder, name);
  if (settings == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "host");
  json_builder_add_string_value (builder, settings->host);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, settings->port);
  json_builder_set_member_name (builder, "security");
  json_builder_add_string_value (builder, rs_security_to_string (settings->security));
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, settings->username);
  json_builder_end_object (builder);
}

static int
command_list (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  gboolean json = FALSE;
  int status = 0;
  guint n;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("list", NULL, _(commands[0].summary), entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc > 1)
    return usage_error (context, json, _("“list” takes no arguments"));

  if (!(store = open_store (json, &status)))
    return status;

  n = g_list_model_get_n_items (G_LIST_MODEL (store));

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_array (builder);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(RsAccount) account = g_list_model_get_item (G_LIST_MODEL (store), i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, rs_account_get_id (account));
          json_builder_set_member_name (builder, "kind");
          json_builder_add_string_value (builder, rs_account_kind_to_string (rs_account_get_kind (account)));
          json_builder_set_member_name (builder, "address");
          json_builder_add_string_value (builder, rs_account_get_address (account));
          json_builder_set_member_name (builder, "provider");
          json_builder_add_string_value (builder, rs_account_get_provider_name (account));
          json_builder_set_member_name (builder, "state");
          json_builder_add_string_value (builder, rs_account_state_to_string (rs_account_get_state (account)));
          add_server_json (builder, "imap", rs_account_get_imap_settings (account));
          add_server_json (builder, "smtp", rs_account_get_smtp_settings (account));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      print_json_builder (builder);
      return 0;
    }

  if (n == 0)
    {
      g_print ("%s\n", _("No accounts are connected. Connect one with “retailsphere-accounts add-imap” "
                         "or in Retailsphere Settings."));
      return 0;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RsAccount) account = g_list_model_get_item (G_LIST_MODEL (store), i);
      g_autoptr(RsAccountStatus) row = rs_account_status_new (account, now);

      g_print ("%-10s %-32s %s\n", rs_account_get_id (account), row->title, row->subtitle);
    }

  return 0;
}

static gboolean
read_password (char    **password,
               GError  **error)
{
  g_autofree char *buffer = g_malloc0 (MAX_PASSWORD_LENGTH + 2);
  gsize length;

  if (isatty (STDIN_FILENO))
    g_printerr ("%s", _("Password (then Enter): "));

  if (fgets (buffer, MAX_PASSWORD_LENGTH + 2, stdin) == NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("No password was given on standard input"));
      return FALSE;
    }

  length = strlen (buffer);
  if (length > MAX_PASSWORD_LENGTH)
    {
      secret_password_wipe (buffer);
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("The password on standard input is too long"));
      return FALSE;
    }

  /* Only the line ending goes; spaces inside or around a password are its own. */
  if (length > 0 && buffer[length - 1] == '\n')
    buffer[--length] = '\0';
  if (length > 0 && buffer[length - 1] == '\r')
    buffer[--length] = '\0';

  if (length == 0)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("The password on standard input is empty"));
      return FALSE;
    }

  *password = g_steal_pointer (&buffer);

  return TRUE;
}

/* Fills port and security from what was given, keeping them consistent. */
static gboolean
resolve_server (RsService           service,
                const char         *field_prefix,
                const char         *host,
                const char         *port_text,
                const char         *security_text,
                const char         *username,
                const char         *address,
                RsServerSettings  **out,
                GError            **error)
{
  g_autofree char *port_field = g_strdup_printf (_("%s port"), field_prefix);
  RsSecurity security = RS_SECURITY_TLS;
  guint16 port = 0;

  if (host == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT, _("--%s-host is required"),
                   service == RS_SERVICE_IMAP ? "imap" : "smtp");
      return FALSE;
    }

  if (security_text != NULL && !rs_security_from_string (security_text, &security))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The %s security must be “tls” or “starttls”, not “%s”"),
                   field_prefix, security_text);
      return FALSE;
    }

  if (port_text != NULL && !rs_parse_port (port_field, port_text, &port, error))
    return FALSE;

  if (port == 0)
    port = rs_default_port (service, security);
  else if (security_text == NULL)
    security = rs_security_for_port (service, port);

  *out = rs_server_settings_new (host, port, security, username ? username : address);

  return TRUE;
}

static int
command_add_imap (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(RsAccountSetup) setup = NULL;
  g_autoptr(RsImapRequest) request = rs_imap_request_new ();
  g_autoptr(RsAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *email = NULL, *display_name = NULL;
  g_autofree char *imap_host = NULL, *imap_port = NULL, *imap_security = NULL, *imap_username = NULL;
  g_autofree char *smtp_host = NULL, *smtp_port = NULL, *smtp_security = NULL, *smtp_username = NULL;
  g_autofree char *ca_file = NULL;
  g_auto(GStrv) fingerprints = NULL;
  char *password = NULL;
  gboolean password_stdin = FALSE;
  gboolean json = FALSE;
  g_auto(Waiter) waiter = { 0 };
  int status = 0;
  const GOptionEntry entries[] = {
    { "email", 0, 0, G_OPTION_ARG_STRING, &email, N_("The account’s email address"), N_("ADDRESS") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &display_name, N_("Your name, as recipients see it"), N_("NAME") },
    { "imap-host", 0, 0, G_OPTION_ARG_STRING, &imap_host, N_("IMAP server"), N_("HOST") },
    { "imap-port", 0, 0, G_OPTION_ARG_STRING, &imap_port, N_("IMAP port (default 993, or 143 with starttls)"), N_("PORT") },
    { "imap-security", 0, 0, G_OPTION_ARG_STRING, &imap_security, N_("IMAP security: tls or starttls"), "tls|starttls" },
    { "imap-username", 0, 0, G_OPTION_ARG_STRING, &imap_username, N_("IMAP username (default: the address)"), N_("USER") },
    { "smtp-host", 0, 0, G_OPTION_ARG_STRING, &smtp_host, N_("SMTP server"), N_("HOST") },
    { "smtp-port", 0, 0, G_OPTION_ARG_STRING, &smtp_port, N_("SMTP port (default 465, or 587 with starttls)"), N_("PORT") },
    { "smtp-security", 0, 0, G_OPTION_ARG_STRING, &smtp_security, N_("SMTP security: tls or starttls"), "tls|starttls" },
    { "smtp-username", 0, 0, G_OPTION_ARG_STRING, &smtp_username, N_("SMTP username (default: the address)"), N_("USER") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file, N_("Also trust the CAs in this PEM file"), N_("PEM") },
    { "trust-fingerprint", 0, 0, G_OPTION_ARG_STRING_ARRAY, &fingerprints, N_("Trust the certificate with this SHA-256 fingerprint"), N_("SHA256") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, N_("Read the password from standard input"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("add-imap", NULL, _(commands[1].summary), entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc > 1)
    return usage_error (context, json, _("“add-imap” takes no arguments besides its options"));
  if (email == NULL)
    return usage_error (context, json, _("--email is required"));
  if (!password_stdin)
    return usage_error (context, json,
                        _("--password-stdin is required: a password on the command line "
                          "would be visible to other users of this computer"));

  request->address = g_strdup (email);
  request->display_name = g_strdup (display_name);

  if (!resolve_server (RS_SERVICE_IMAP, "IMAP", imap_host, imap_port, imap_security, imap_username,
                       email, &request->imap, &error) ||
      !resolve_server (RS_SERVICE_SMTP, "SMTP", smtp_host, smtp_port, smtp_security, smtp_username,
                       email, &request->smtp, &error))
    return report_error (error, json);

  if (ca_file != NULL || fingerprints != NULL)
    {
      request->trust = g_new0 (RsTrust, 1);

      if (ca_file != NULL)
        request->trust->ca_file = g_canonicalize_filename (ca_file, NULL);

      if (fingerprints != NULL)
        {
          request->trust->pinned_fingerprints = g_new0 (char *, g_strv_length (fingerprints) + 1);
          for (guint i = 0; fingerprints[i] != NULL; i++)
            if (!rs_fingerprint_normalize (fingerprints[i], &request->trust->pinned_fingerprints[i]))
              {
                g_autofree char *message =
                  g_strdup_printf (_("“%s” is not a SHA-256 fingerprint: it should be 64 hexadecimal digits"),
                                   fingerprints[i]);
                return usage_error (context, json, message);
              }
        }
    }

  /* Everything typed is checked before the password is even read. */
  if (!rs_imap_request_validate (request, &error))
    return report_error (error, json);

  if (!(store = open_store (json, &status)))
    return status;

  if (!read_password (&password, &error))
    return report_error (error, json);

  waiter_init (&waiter, json);
  setup = rs_account_setup_new (store);
  g_signal_connect (setup, "step", G_CALLBACK (setup_step_cb), &waiter);
  rs_account_setup_add_async (setup, request, password, NULL, waiter_done_cb, &waiter);
  secret_password_free (password);

  account = rs_account_setup_add_finish (setup, waiter_wait (&waiter), &error);

  if (account == NULL)
    return report_error (error, json);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, rs_account_get_id (account));
      json_builder_end_object (builder);
      print_json_builder (builder);
    }
  else
    g_print ("%s\n", rs_account_get_id (account));

  return 0;
}

static int
command_check_or_remove (int       argc,
                         char    **argv,
                         gboolean  remove)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(RsAccountSetup) setup = NULL;
  g_autoptr(GError) error = NULL;
  const char *name = remove ? "remove" : "check";
  RsAccount *account;
  gboolean json = FALSE;
  gboolean ok;
  g_auto(Waiter) waiter = { 0 };
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new (name, _("ID"), _(commands[remove ? 3 : 2].summary), entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc != 2)
    return usage_error (context, json, _("Give exactly one account ID (see “retailsphere-accounts list”)"));

  if (!(store = open_store (json, &status)))
    return status;

  account = rs_account_store_lookup (store, argv[1]);
  if (account == NULL)
    return unknown_account_error (context, json, argv[1]);

  waiter_init (&waiter, json);
  setup = rs_account_setup_new (store);

  if (remove)
    {
      rs_account_setup_remove_async (setup, argv[1], NULL, waiter_done_cb, &waiter);
      ok = rs_account_setup_remove_finish (setup, waiter_wait (&waiter), &error);
    }
  else
    {
      g_signal_connect (setup, "step", G_CALLBACK (setup_step_cb), &waiter);
      rs_account_setup_check_async (setup, account, NULL, waiter_done_cb, &waiter);
      ok = rs_account_setup_check_finish (setup, waiter_wait (&waiter), &error);
    }

  if (!ok)
    return report_error (error, json);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, argv[1]);
      json_builder_set_member_name (builder, remove ? "removed" : "ok");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_end_object (builder);
      print_json_builder (builder);
    }
  else if (remove)
    g_print (_("Removed %s\n"), argv[1]);
  else
    g_print (_("%s works: receiving and sending both signed in\n"), argv[1]);

  return 0;
}

static void
discover_changed_cb (RsDetector      *detector,
                     const char      *source,
                     RsDetectOutcome  outcome,
                     const char      *detail,
                     gpointer         user_data)
{
  Waiter *waiter = user_data;
  const char *what;

  if (waiter->json || outcome == RS_DETECT_OUTCOME_CHECKING)
    return;

  switch (outcome)
    {
    case RS_DETECT_OUTCOME_FOUND:     what = _("found"); break;
    case RS_DETECT_OUTCOME_NOT_FOUND: what = _("not found"); break;
    case RS_DETECT_OUTCOME_FAILED:    what = _("failed"); break;
    case RS_DETECT_OUTCOME_CANCELLED: what = _("cancelled"); break;
    case RS_DETECT_OUTCOME_CHECKING:
    default:                          g_assert_not_reached ();
    }

  g_print ("%-21s %-10s %s\n", source, what, detail ? detail : "");
}

static int
command_discover (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsDetector) detector = NULL;
  g_autoptr(RsDetectResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  g_auto(Waiter) waiter = { 0 };
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("discover", _("EMAIL"), _(commands[4].summary), entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc != 2)
    return usage_error (context, json, _("Give exactly one email address"));

  if (!rs_validate_address (argv[1], &error))
    return report_error (error, json);

  waiter_init (&waiter, json);
  detector = rs_detector_new ();
  g_signal_connect (detector, "source-changed", G_CALLBACK (discover_changed_cb), &waiter);
  rs_detector_run_async (detector, argv[1], NULL, waiter_done_cb, &waiter);
  result = rs_detector_run_finish (detector, waiter_wait (&waiter), &error);

  if (result == NULL)
    return report_error (error, json);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "candidates");
      json_builder_begin_array (builder);
      for (guint i = 0; i < result->candidates->len; i++)
        {
          RsDetectCandidate *candidate = g_ptr_array_index (result->candidates, i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "source");
          json_builder_add_string_value (builder, candidate->source);
          add_server_json (builder, "imap", candidate->imap);
          add_server_json (builder, "smtp", candidate->smtp);
          json_builder_set_member_name (builder, "auth");
          json_builder_add_string_value (builder, candidate->auth);
          json_builder_set_member_name (builder, "app_password_required");
          json_builder_add_boolean_value (builder, candidate->app_password_required);
          json_builder_set_member_name (builder, "provider");
          json_builder_add_string_value (builder, candidate->provider_name);
          json_builder_set_member_name (builder, "instructions_url");
          json_builder_add_string_value (builder, candidate->instructions_url);
          json_builder_set_member_name (builder, "note");
          json_builder_add_string_value (builder, candidate->note);
          json_builder_set_member_name (builder, "route");
          json_builder_add_string_value (builder, rs_route_to_string (candidate->route));
          json_builder_set_member_name (builder, "insecure");
          json_builder_add_boolean_value (builder, candidate->insecure);
          json_builder_set_member_name (builder, "insecure_reason");
          json_builder_add_string_value (builder, candidate->insecure_reason);
          json_builder_set_member_name (builder, "certificate_untrusted");
          json_builder_add_boolean_value (builder, candidate->imap_certificate != NULL ||
                                                   candidate->smtp_certificate != NULL);
          json_builder_set_member_name (builder, "exchange_offered");
          json_builder_add_boolean_value (builder, candidate->exchange_offered);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      json_builder_set_member_name (builder, "sources");
      json_builder_begin_array (builder);
      for (guint i = 0; i < result->sources->len; i++)
        {
          RsDetectSourceReport *report = g_ptr_array_index (result->sources, i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "source");
          json_builder_add_string_value (builder, report->source);
          json_builder_set_member_name (builder, "outcome");
          json_builder_add_string_value (builder, rs_detect_outcome_to_string (report->outcome));
          json_builder_set_member_name (builder, "detail");
          json_builder_add_string_value (builder, report->detail);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      print_json_builder (builder);
    }
  else if (result->candidates->len == 0)
    g_print ("\n%s\n", _("No settings were found. Enter the servers yourself, or ask your provider for them."));
  else
    {
      g_print ("\n%s\n", _("Candidates, best first:"));
      for (guint i = 0; i < result->candidates->len; i++)
        {
          RsDetectCandidate *candidate = g_ptr_array_index (result->candidates, i);

          g_print ("%u. [%s]%s%s\n", i + 1, candidate->source,
                   candidate->provider_name ? " " : "", candidate->provider_name ? candidate->provider_name : "");
          if (candidate->imap != NULL)
            g_print ("   IMAP  %s:%u %s  user %s\n", candidate->imap->host, candidate->imap->port,
                     rs_security_to_string (candidate->imap->security), candidate->imap->username);
          if (candidate->smtp != NULL)
            g_print ("   SMTP  %s:%u %s  user %s\n", candidate->smtp->host, candidate->smtp->port,
                     rs_security_to_string (candidate->smtp->security), candidate->smtp->username);
          if (candidate->route == RS_ROUTE_GOOGLE)
            g_print ("   %s\n", _("Sign in with Google (Sign in with Gmail), not with a password."));
          else if (candidate->route == RS_ROUTE_MICROSOFT)
            g_print ("   %s\n", _("Sign in with Microsoft; that path is not available yet."));
          if (candidate->app_password_required)
            g_print ("   %s\n", _("Needs an app password, not your usual password."));
          if (candidate->instructions_url != NULL)
            g_print ("   %s %s\n", _("Instructions:"), candidate->instructions_url);
          if (candidate->note != NULL)
            g_print ("   %s\n", candidate->note);
          if (candidate->insecure)
            g_print ("   %s %s\n", _("Not secure:"), candidate->insecure_reason ? candidate->insecure_reason : "");
          if (candidate->imap_certificate != NULL || candidate->smtp_certificate != NULL)
            g_print ("   %s\n", _("The server’s certificate is not trusted: check it before you connect."));
        }
    }

  return result->candidates->len > 0 ? 0 : EXIT_FAILED;
}

/* The worker's commands: sync, replies, send */

typedef struct
{
  GMainLoop  *loop;
  const char *only;
  gboolean    json;
  int         status;
  gboolean    stopping;
} SyncRun;

static void
sync_state_changed_cb (RsWorker       *worker,
                       const char     *account_id,
                       RsAccountState  state,
                       const char     *detail,
                       gpointer        user_data)
{
  SyncRun *run = user_data;

  if (run->only != NULL && !g_str_equal (account_id, run->only) &&
      !g_str_equal (account_id, RS_WORKER_RETAILSPHERE_ID))
    return;

  if (run->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "account");
      json_builder_add_string_value (builder, account_id);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, rs_account_state_to_string (state));
      json_builder_set_member_name (builder, "detail");
      if (detail != NULL)
        json_builder_add_string_value (builder, detail);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json_full (root, FALSE);
    }
  else if (detail != NULL)
    g_print ("%s: %s — %s\n", account_id, rs_account_state_to_string (state), detail);
  else
    g_print ("%s: %s\n", account_id, rs_account_state_to_string (state));
}

static gboolean
sync_signal_cb (gpointer user_data)
{
  SyncRun *run = user_data;

  run->stopping = TRUE;
  g_main_loop_quit (run->loop);

  return G_SOURCE_CONTINUE;
}

static void
sync_once_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SyncRun *run = user_data;
  g_autoptr(GError) error = NULL;

  if (!rs_worker_sync_once_finish (RS_WORKER (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    run->status = report_error (error, run->json);

  g_main_loop_quit (run->loop);
}

static int
command_sync (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(RsWorker) worker = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  gboolean json = FALSE;
  gboolean once = FALSE;
  SyncRun run = { 0 };
  int status = 0;
  guint sigint_id, sigterm_id;
  const GOptionEntry entries[] = {
    { "once", 0, 0, G_OPTION_ARG_NONE, &once, N_("Make one pass, then exit (0: success, 1: a failure)"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print state changes and errors as JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("sync", _("[ID]"),
                                 _("Sends queued messages, looks for replies and reports them. "
                                 "Without --once it keeps watching until interrupted "
                                 "(Ctrl+C), printing each account’s state as it changes."),
                                 entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc > 2)
    return usage_error (context, json, _("Give at most one account ID (see “retailsphere-accounts list”)"));

  if (!(store = open_store (json, &status)))
    return status;

  if (argc == 2 && rs_account_store_lookup (store, argv[1]) == NULL)
    return unknown_account_error (context, json, argv[1]);

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.only = argc == 2 ? argv[1] : NULL;
  run.json = json;

  worker = rs_worker_new (store, NULL);
  g_signal_connect (worker, "account-state-changed", G_CALLBACK (sync_state_changed_cb), &run);
  sigint_id = g_unix_signal_add (SIGINT, sync_signal_cb, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, sync_signal_cb, &run);

  if (once)
    {
      rs_worker_sync_once_async (worker, run.only, NULL, sync_once_done_cb, &run);
      g_main_loop_run (loop);
      if (run.stopping)
        run.status = EXIT_FAILED;
    }
  else
    {
      rs_worker_set_watched_account (worker, run.only);
      rs_worker_start (worker);
      g_main_loop_run (loop);
    }

  rs_worker_stop (worker);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  return run.status;
}

static int
command_replies (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsReplyStore) replies_store = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = rs_reply_store_default_path ();
  gboolean json = FALSE;
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("replies", _("[ID]"),
                                 _("Lists the replies found to messages sent through Retailsphere: "
                                 "exactly the fields that are (or will be) reported, never a body.\n\n"
                                 "With --json: an array of objects with “account” (the account ID, "
                                 "as in “retailsphere-accounts list”), “tracked_message_id”, "
                                 "“message_id”, “from” ({“name”, “address”}), “date”, “subject”, "
                                 "“reported” (true or false) and “reported_at”."),
                                 entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc > 2)
    return usage_error (context, json, _("Give at most one account ID (see “retailsphere-accounts list”)"));

  /* No store yet: nothing was found yet. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    replies = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_reply_free);
  else if ((replies_store = rs_reply_store_open (path, &error)) == NULL ||
           (replies = rs_reply_store_list_replies (replies_store, argc == 2 ? argv[1] : NULL, &error)) == NULL)
    return report_error (error, json);

  if (json)
    {
      g_autoptr(JsonNode) root = rs_replies_to_json (replies);

      print_json (root);
      return 0;
    }

  if (replies->len == 0)
    {
      g_print ("%s\n", _("No replies found yet."));
      return 0;
    }

  for (guint i = 0; i < replies->len; i++)
    {
      RsReply *reply = g_ptr_array_index (replies, i);
      g_autofree char *date = rs_reply_format_date (reply);

      g_print ("%s  %s  %s%s%s%s  “%s”  %s\n",
               reply->account,
               date ? date : "-",
               reply->from_name ? reply->from_name : "",
               reply->from_name ? " <" : "",
               reply->from_address,
               reply->from_name ? ">" : "",
               reply->subject ? reply->subject : "",
               reply->reported_at > 0 ? _("reported") : _("not reported yet"));
    }

  return 0;
}

static int
command_send (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(RsAccountStore) store = NULL;
  g_autoptr(RsWorker) worker = NULL;
  g_autoptr(GBytes) eml = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  gboolean json = FALSE;
  g_auto(Waiter) waiter = { 0 };
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  context = command_context_new ("send", _("ID FILE.eml"),
                                 _("Sends an RFC 5322 message through the account and watches for its replies. "
                                 "Recipients are its To, Cc and Bcc. A message without a Message-ID gets one; "
                                 "the Message-ID used is printed. A message is never sent twice."),
                                 entries);
  if (!parse_options (context, &argc, &argv, &status))
    return status;

  if (argc != 3)
    return usage_error (context, json, _("Give an account ID and a message file"));

  if (!(store = open_store (json, &status)))
    return status;

  if (rs_account_store_lookup (store, argv[1]) == NULL)
    return unknown_account_error (context, json, argv[1]);

  if (!g_file_get_contents (argv[2], &contents, &length, &error))
    {
      g_autoptr(GError) input = g_error_new_literal (RS_ERROR, RS_ERROR_INPUT, error->message);
      return report_error (input, json);
    }
  eml = g_bytes_new_take (g_steal_pointer (&contents), length);

  waiter_init (&waiter, json);
  worker = rs_worker_new (store, NULL);
  rs_worker_send_async (worker, argv[1], eml, NULL, waiter_done_cb, &waiter);
  message_id = rs_worker_send_finish (worker, waiter_wait (&waiter), &error);
  rs_worker_stop (worker);

  if (message_id == NULL)
    return report_error (error, json);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "message_id");
      json_builder_add_string_value (builder, message_id);
      json_builder_end_object (builder);
      print_json_builder (builder);
    }
  else
    g_print ("%s\n", message_id);

  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *summary = NULL;
  const char *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname ("retailsphere-accounts");

  command = argc > 1 ? argv[1] : NULL;

  if (g_strcmp0 (command, "--version") == 0 || g_strcmp0 (command, "-V") == 0)
    {
      g_print ("retailsphere-accounts %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (command == NULL || g_strcmp0 (command, "--help") == 0 || g_strcmp0 (command, "-h") == 0 ||
      g_strcmp0 (command, "help") == 0)
    {
      summary = usage_summary ();
      g_print ("%s\n  retailsphere-accounts COMMAND [OPTIONS…]\n  retailsphere-accounts --version\n\n%s\n",
               _("Usage:"), summary);
      return command == NULL ? EXIT_USAGE : 0;
    }

  /* Each command parses its own options; argv[0] becomes the command. */
  if (g_str_equal (command, "list"))
    return command_list (argc - 1, argv + 1);
  if (g_str_equal (command, "add-imap"))
    return command_add_imap (argc - 1, argv + 1);
  if (g_str_equal (command, "check"))
    return command_check_or_remove (argc - 1, argv + 1, FALSE);
  if (g_str_equal (command, "remove"))
    return command_check_or_remove (argc - 1, argv + 1, TRUE);
  if (g_str_equal (command, "discover"))
    return command_discover (argc - 1, argv + 1);
  if (g_str_equal (command, "sync"))
    return command_sync (argc - 1, argv + 1);
  if (g_str_equal (command, "replies"))
    return command_replies (argc - 1, argv + 1);
  if (g_str_equal (command, "send"))
    return command_send (argc - 1, argv + 1);

  summary = usage_summary ();
  g_printerr (_("retailsphere-accounts: unknown command “%s”\n\n%s\n"), command, summary);

  return EXIT_USAGE;
}
