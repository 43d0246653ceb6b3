/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-detect-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detect-source.h"
#include "rs-detect-view.h"
#include "rs-providers.h"

/* What the "Sign in with Email" dialog shows about settings detection,
 * without a display: the words and icons of each source's line, the
 * notice shown before the password, where Next leads, and what the
 * Server settings page says.  Candidates come from the real bundled
 * provider table where a provider is involved. */

static RsDetectCandidate *
provider_candidate (const char *domain,
                    const char *address)
{
  const RsProvider *provider = rs_providers_lookup_domain (rs_providers_get_default (), domain);

  g_assert_nonnull (provider);

  return rs_provider_make_candidate (provider, RS_DETECT_SOURCE_PROVIDERS, address);
}

static RsDetectResult *
result_with (RsDetectCandidate *candidate)  /* (transfer full) (nullable) */
{
  RsDetectResult *result = rs_detect_result_new ();

  if (candidate != NULL)
    g_ptr_array_add (result->candidates, candidate);

  return result;
}

/* Pango markup is XML: what GMarkup refuses, a label would show raw. */
static void
assert_well_formed (const char *markup)
{
  static const GMarkupParser parser = { NULL, };
  g_autoptr(GMarkupParseContext) context = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  g_autofree char *document = g_strconcat ("<markup>", markup, "</markup>", NULL);
  g_autoptr(GError) error = NULL;

  g_markup_parse_context_parse (context, document, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
}

static void
test_source_titles (void)
{
  static const struct {
    const char *source;
    const char *title;
  } cases[] = {
    { RS_DETECT_SOURCE_PROVIDERS, "Known providers" },
    { RS_DETECT_SOURCE_AUTOCONFIG, "Your provider’s configuration" },
    { RS_DETECT_SOURCE_AUTOCONFIG_WELLKNOWN, "Configuration at a well-known address" },
    { RS_DETECT_SOURCE_ISPDB, "Thunderbird’s database" },
    { RS_DETECT_SOURCE_SRV, "DNS service records" },
    { RS_DETECT_SOURCE_MX, "Your mail server’s domain (MX)" },
    { RS_DETECT_SOURCE_GUESS, "Trying common server names" },
    /* A source added later still shows something. */
    { "exchange", "exchange" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (rs_detect_source_title (cases[i].source), ==, cases[i].title);

  /* Every built-in source has words, not its internal name. */
  {
    g_autoptr(GPtrArray) sources = rs_detect_source_new_builtins ();

    g_assert_cmpuint (sources->len, ==, 7);
    for (guint i = 0; i < sources->len; i++)
      {
        const char *name = rs_detect_source_get_name (g_ptr_array_index (sources, i));

        g_assert_cmpstr (rs_detect_source_title (name), !=, name);
      }
  }
}

static void
test_lines (void)
{
  static const struct {
    RsDetectOutcome  outcome;
    const char      *detail;
    const char      *subtitle;
    const char      *icon_name;
    const char      *css_class;
    gboolean         spinning;
  } cases[] = {
    { RS_DETECT_OUTCOME_CHECKING, NULL, "Checking…", NULL, NULL, TRUE },
    /* No stale detail while checking. */
    { RS_DETECT_OUTCOME_CHECKING, "old", "Checking…", NULL, NULL, TRUE },
    { RS_DETECT_OUTCOME_FOUND, "imap.fastmail.com and smtp.fastmail.com",
      "Found — imap.fastmail.com and smtp.fastmail.com", "object-select-symbolic", "success", FALSE },
    { RS_DETECT_OUTCOME_NOT_FOUND, "No SRV records for example.com",
      "Not found — No SRV records for example.com", "action-unavailable-symbolic", "dim-label", FALSE },
    { RS_DETECT_OUTCOME_NOT_FOUND, NULL, "Not found", "action-unavailable-symbolic", "dim-label", FALSE },
    { RS_DETECT_OUTCOME_NOT_FOUND, "", "Not found", "action-unavailable-symbolic", "dim-label", FALSE },
    { RS_DETECT_OUTCOME_FAILED, "No answer within 3.0 s",
      "Failed — No answer within 3.0 s", "dialog-warning-symbolic", "warning", FALSE },
    /* The detector names the winner by its stable name; users read its title. */
    { RS_DETECT_OUTCOME_CANCELLED, "Not needed: “providers” answered",
      "Not needed — Not needed: “Known providers” answered", "process-stop-symbolic", "dim-label", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsDetectLine) line = rs_detect_line_new (RS_DETECT_SOURCE_SRV, cases[i].outcome, cases[i].detail);

      g_test_message ("case %u", i);
      g_assert_cmpstr (line->title, ==, "DNS service records");
      g_assert_cmpstr (line->subtitle, ==, cases[i].subtitle);
      g_assert_cmpstr (line->icon_name, ==, cases[i].icon_name);
      g_assert_cmpstr (line->css_class, ==, cases[i].css_class);
      g_assert_cmpint (line->spinning, ==, cases[i].spinning);

      /* Never by colour (or icon) alone: a finished line always has both
       * an icon and a word. */
      if (!line->spinning)
        g_assert_nonnull (line->icon_name);
    }
}

static void
test_every_outcome_differs (void)
{
  g_autoptr(GHashTable) words = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) icons = g_hash_table_new (g_str_hash, g_str_equal);

  for (RsDetectOutcome outcome = RS_DETECT_OUTCOME_FOUND; outcome <= RS_DETECT_OUTCOME_CANCELLED; outcome++)
    {
      g_autoptr(RsDetectLine) line = rs_detect_line_new (RS_DETECT_SOURCE_MX, outcome, NULL);

      g_assert_true (g_hash_table_add (words, g_strdup (line->subtitle)));
      g_assert_true (g_hash_table_add (icons, (gpointer) line->icon_name));
    }
}

static void
test_notice_app_password (void)
{
  g_autoptr(RsDetectCandidate) candidate = provider_candidate ("fastmail.com", "someone@fastmail.com");
  g_autoptr(RsDetectNotice) notice = rs_detect_notice_new (candidate);

  g_assert_nonnull (notice);
  g_assert_cmpint (notice->kind, ==, RS_DETECT_NOTICE_APP_PASSWORD);
  g_assert_cmpstr (notice->text, ==,
                   "Fastmail needs an app password for this sign-in. Create one at "
                   "fastmail.help/hc/en-us/articles/360058752854, then paste it here.");
  /* A real link to the provider's page. */
  g_assert_cmpstr (notice->markup, ==,
                   "Fastmail needs an app password for this sign-in. Create one at "
                   "<a href=\"https://www.fastmail.help/hc/en-us/articles/360058752854\">"
                   "fastmail.help/hc/en-us/articles/360058752854</a>, then paste it here.");
  g_assert_cmpstr (notice->link_uri, ==, "https://www.fastmail.help/hc/en-us/articles/360058752854");
  assert_well_formed (notice->markup);
  g_assert_null (notice->button_action);
}

static void
test_notice_app_password_escapes (void)
{
  g_autoptr(RsDetectCandidate) candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_AUTOCONFIG);
  g_autoptr(RsDetectNotice) notice = NULL;

  /* A configuration file is written by strangers: its words are text,
   * never markup. */
  candidate->app_password_required = TRUE;
  candidate->provider_name = g_strdup ("Mail <b>&</b> Co");
  candidate->instructions_url = g_strdup ("https://example.com/a?b=1&c=\"2\"");
  notice = rs_detect_notice_new (candidate);

  g_assert_cmpint (notice->kind, ==, RS_DETECT_NOTICE_APP_PASSWORD);
  g_assert_nonnull (strstr (notice->markup, "Mail &lt;b&gt;&amp;&lt;/b&gt; Co needs"));
  g_assert_nonnull (strstr (notice->markup, "href=\"https://example.com/a?b=1&amp;c=&quot;2&quot;\""));
  assert_well_formed (notice->markup);
}

static void
test_notice_app_password_without_link (void)
{
  g_autoptr(RsDetectCandidate) candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_AUTOCONFIG);
  g_autoptr(RsDetectNotice) notice = NULL;

  candidate->app_password_required = TRUE;
  notice = rs_detect_notice_new (candidate);

  g_assert_cmpstr (notice->text, ==,
                   "Your provider needs an app password for this sign-in. Create one in your "
                   "account’s security settings, then paste it here.");
  g_assert_null (notice->link_uri);
}

static void
test_notice_routes (void)
{
  static const struct {
    const char         *domain;
    RsDetectNoticeKind  kind;
    const char         *title;
    const char         *contains;
    const char         *button_action;
  } cases[] = {
    { "gmail.com", RS_DETECT_NOTICE_GOOGLE, "This is a Google address — sign in with Google instead",
      "never typed here", "win.sign-in-gmail" },
    { "outlook.com", RS_DETECT_NOTICE_MICROSOFT, "This is a Microsoft address",
      "Outlook.com signs in with Microsoft, or through Exchange. Neither is available in this "
      "version of Retailsphere yet.", NULL },
    { "icloud.com", RS_DETECT_NOTICE_APP_PASSWORD, "An app password is needed",
      "iCloud Mail needs an app password", NULL },
    { "proton.me", RS_DETECT_NOTICE_APP_PASSWORD, "An app password is needed",
      "use the password Bridge shows", NULL },
    { "gmx.net", RS_DETECT_NOTICE_NOTE, "GMX", "in GMX’s web settings first", NULL },
    { "mailbox.org", RS_DETECT_NOTICE_NONE, NULL, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *address = g_strconcat ("someone@", cases[i].domain, NULL);
      g_autoptr(RsDetectCandidate) candidate = provider_candidate (cases[i].domain, address);
      g_autoptr(RsDetectNotice) notice = rs_detect_notice_new (candidate);

      g_test_message ("%s", cases[i].domain);

      if (cases[i].kind == RS_DETECT_NOTICE_NONE)
        {
          g_assert_null (notice);
          continue;
        }

      g_assert_nonnull (notice);
      g_assert_cmpint (notice->kind, ==, cases[i].kind);
      g_assert_cmpstr (notice->title, ==, cases[i].title);
      g_assert_nonnull (strstr (notice->text, cases[i].contains));
      assert_well_formed (notice->markup);
      g_assert_cmpstr (notice->button_action, ==, cases[i].button_action);
      /* A button is offered only where it leads somewhere. */
      g_assert_true ((notice->button_label != NULL) == (notice->button_action != NULL));
    }

  g_assert_null (rs_detect_notice_new (NULL));
}

static void
test_notice_google_workspace_by_mx (void)
{
  const RsProvider *provider = rs_providers_lookup_mx (rs_providers_get_default (), "aspmx.l.google.com");
  g_autoptr(RsDetectCandidate) candidate = NULL;
  g_autoptr(RsDetectNotice) notice = NULL;

  g_assert_nonnull (provider);
  candidate = rs_provider_make_candidate (provider, RS_DETECT_SOURCE_MX, "ada@company.example");
  notice = rs_detect_notice_new (candidate);

  g_assert_cmpint (notice->kind, ==, RS_DETECT_NOTICE_GOOGLE);
  g_assert_cmpstr (notice->button_action, ==, "win.sign-in-gmail");
}

static void
test_next_page (void)
{
  g_assert_cmpstr (rs_detect_next_page (RS_DETECT_PHASE_RUNNING), ==, "finding");
  g_assert_cmpstr (rs_detect_next_page (RS_DETECT_PHASE_DONE), ==, "servers");
  g_assert_cmpstr (rs_detect_next_page (RS_DETECT_PHASE_IDLE), ==, "servers");
}

static void
test_servers_found (void)
{
  g_autoptr(RsDetectResult) result = result_with (provider_candidate ("fastmail.com", "someone@fastmail.com"));
  g_autoptr(RsDetectServers) servers = rs_detect_servers_new (result, "someone@fastmail.com", FALSE);

  g_assert_true (servers->fill);
  g_assert_false (servers->needs_consent);
  g_assert_null (servers->nothing_found);
  g_assert_null (servers->insecure_warning);
  g_assert_cmpstr (servers->found_by, ==, "Found by: Known providers");
  g_assert_cmpstr (servers->candidate->imap->host, ==, "imap.fastmail.com");
  g_assert_cmpuint (servers->candidate->imap->port, ==, 993);
  g_assert_cmpstr (servers->candidate->imap->username, ==, "someone@fastmail.com");
  g_assert_cmpuint (g_strv_length (servers->certificate_warnings), ==, 0);
}

static void
test_servers_nothing_found (void)
{
  g_autoptr(RsDetectResult) result = result_with (NULL);
  g_autoptr(RsDetectServers) servers = rs_detect_servers_new (result, "ada@nowhere.invalid", FALSE);
  g_autoptr(RsDetectServers) not_run = rs_detect_servers_new (NULL, "ada@nowhere.invalid", FALSE);

  /* Said plainly; nothing to fill, no guesses pretending to be found. */
  g_assert_false (servers->fill);
  g_assert_null (servers->candidate);
  g_assert_null (servers->found_by);
  g_assert_cmpstr (servers->nothing_found, ==,
                   "No settings were found for nowhere.invalid. Ask your provider for its IMAP "
                   "and SMTP servers and enter them here.");

  g_assert_false (not_run->fill);
  g_assert_nonnull (not_run->nothing_found);
}

static void
test_servers_insecure (void)
{
  RsDetectCandidate *candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_AUTOCONFIG);
  g_autoptr(RsDetectResult) result = NULL;
  g_autoptr(RsDetectServers) before = NULL;
  g_autoptr(RsDetectServers) after = NULL;

  candidate->imap = rs_server_settings_new ("imap.example.com", 143, RS_SECURITY_STARTTLS, "ada");
  candidate->smtp = rs_server_settings_new ("smtp.example.com", 587, RS_SECURITY_STARTTLS, "ada");
  candidate->insecure = TRUE;
  candidate->insecure_reason = g_strdup ("The configuration came over plain HTTP");
  result = result_with (candidate);

  /* Never used silently… */
  before = rs_detect_servers_new (result, "ada@example.com", FALSE);
  g_assert_true (before->needs_consent);
  g_assert_false (before->fill);
  g_assert_cmpstr (before->insecure_warning, ==,
                   "These settings may not be safe: The configuration came over plain HTTP. "
                   "Use them only if your provider confirms them.");
  g_assert_cmpstr (before->found_by, ==, "Found by: Your provider’s configuration");

  /* …but used once the user chose to, still with the warning. */
  after = rs_detect_servers_new (result, "ada@example.com", TRUE);
  g_assert_false (after->needs_consent);
  g_assert_true (after->fill);
  g_assert_nonnull (after->insecure_warning);
}

static void
test_servers_certificate (void)
{
  RsDetectCandidate *candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_GUESS);
  g_autoptr(RsDetectResult) result = NULL;
  g_autoptr(RsDetectServers) servers = NULL;

  candidate->imap = rs_server_settings_new ("mail.example.com", 993, RS_SECURITY_TLS, "ada@example.com");
  candidate->smtp = rs_server_settings_new ("mail.example.com", 465, RS_SECURITY_TLS, "ada@example.com");
  candidate->imap_certificate = g_new0 (RsCertificateInfo, 1);
  candidate->imap_certificate->fingerprint = g_strdup ("00");
  result = result_with (candidate);

  servers = rs_detect_servers_new (result, "ada@example.com", FALSE);

  /* The Certificate page decides later, at the connection test. */
  g_assert_true (servers->fill);
  g_assert_cmpuint (g_strv_length (servers->certificate_warnings), ==, 1);
  g_assert_cmpstr (servers->certificate_warnings[0], ==,
                   "The receiving (IMAP) server mail.example.com presented a certificate this "
                   "computer does not trust. When you connect, you will see it and can decide.");
  g_assert_cmpstr (servers->found_by, ==, "Found by: Trying common server names");
}

static void
test_servers_note (void)
{
  g_autoptr(RsDetectResult) result = result_with (provider_candidate ("gmx.net", "someone@gmx.net"));
  g_autoptr(RsDetectServers) servers = rs_detect_servers_new (result, "someone@gmx.net", FALSE);

  g_assert_nonnull (servers->note);
  g_assert_nonnull (strstr (servers->note, "GMX"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/detect-view/source-titles", test_source_titles);
  g_test_add_func ("/detect-view/lines", test_lines);
  g_test_add_func ("/detect-view/every-outcome-differs", test_every_outcome_differs);
  g_test_add_func ("/detect-view/notice/app-password", test_notice_app_password);
  g_test_add_func ("/detect-view/notice/app-password-escapes", test_notice_app_password_escapes);
  g_test_add_func ("/detect-view/notice/app-password-without-link", test_notice_app_password_without_link);
  g_test_add_func ("/detect-view/notice/routes", test_notice_routes);
  g_test_add_func ("/detect-view/notice/google-workspace-by-mx", test_notice_google_workspace_by_mx);
  g_test_add_func ("/detect-view/next-page", test_next_page);
  g_test_add_func ("/detect-view/servers/found", test_servers_found);
  g_test_add_func ("/detect-view/servers/nothing-found", test_servers_nothing_found);
  g_test_add_func ("/detect-view/servers/insecure", test_servers_insecure);
  g_test_add_func ("/detect-view/servers/certificate", test_servers_certificate);
  g_test_add_func ("/detect-view/servers/note", test_servers_note);

  return g_test_run ();
}
