/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-detect-view"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detect-view.h"
#include "rs-validate.h"

static const struct {
  const char *source;
  const char *title;
} source_titles[] = {
  { RS_DETECT_SOURCE_PROVIDERS, N_("Known providers") },
  { RS_DETECT_SOURCE_AUTOCONFIG, N_("Your provider’s configuration") },
  { RS_DETECT_SOURCE_AUTOCONFIG_WELLKNOWN, N_("Configuration at a well-known address") },
  { RS_DETECT_SOURCE_ISPDB, N_("Thunderbird’s database") },
  { RS_DETECT_SOURCE_SRV, N_("DNS service records") },
  { RS_DETECT_SOURCE_MX, N_("Your mail server’s domain (MX)") },
  { RS_DETECT_SOURCE_GUESS, N_("Trying common server names") },
};

/**
 * rs_detect_source_title:
 * @source: one of the RS_DETECT_SOURCE_* names
 *
 * Returns: (transfer none): the source in words; an unknown name is
 *   returned as it is
 */
const char *
rs_detect_source_title (const char *source)
{
  g_return_val_if_fail (source != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (source_titles); i++)
    if (g_str_equal (source_titles[i].source, source))
      return _(source_titles[i].title);

  return source;
}

/* The detector names sources by their stable names ("Not needed:
 * “providers” answered"); a user reads the titles. */
static char *
humanize_detail (const char *detail)
{
  g_autofree char *text = g_strdup (detail);

  for (guint i = 0; i < G_N_ELEMENTS (source_titles); i++)
    {
      g_autofree char *quoted = g_strdup_printf ("“%s”", source_titles[i].source);
      g_autofree char *titled = g_strdup_printf ("“%s”", _(source_titles[i].title));
      g_auto(GStrv) parts = g_strsplit (text, quoted, -1);

      g_free (text);
      text = g_strjoinv (titled, parts);
    }

  return g_steal_pointer (&text);
}

/**
 * rs_detect_line_new:
 * @source: one of the RS_DETECT_SOURCE_* names
 * @outcome: what the source did so far
 * @detail: (nullable): what it found, or why not, in words
 *
 * The state is always said in a word, not only by the icon and its
 * colour; the detail follows it for those who want to know what was
 * tried.
 *
 * Returns: (transfer full): the source's line on the Finding page
 */
RsDetectLine *
rs_detect_line_new (const char      *source,
                    RsDetectOutcome  outcome,
                    const char      *detail)
{
  RsDetectLine *line;
  const char *word;
  g_autofree char *human = NULL;

  g_return_val_if_fail (source != NULL, NULL);

  line = g_new0 (RsDetectLine, 1);
  line->title = g_strdup (rs_detect_source_title (source));

  switch (outcome)
    {
    case RS_DETECT_OUTCOME_CHECKING:
      word = _("Checking…");
      line->spinning = TRUE;
      /* Nothing to explain yet. */
      detail = NULL;
      break;

    case RS_DETECT_OUTCOME_FOUND:
      word = _("Found");
      line->icon_name = "object-select-symbolic";
      line->css_class = "success";
      break;

    case RS_DETECT_OUTCOME_NOT_FOUND:
      word = _("Not found");
      line->icon_name = "action-unavailable-symbolic";
      line->css_class = "dim-label";
      break;

    case RS_DETECT_OUTCOME_FAILED:
      word = _("Failed");
      line->icon_name = "dialog-warning-symbolic";
      line->css_class = "warning";
      break;

    case RS_DETECT_OUTCOME_CANCELLED:
    default:
      word = _("Not needed");
      line->icon_name = "process-stop-symbolic";
      line->css_class = "dim-label";
      break;
    }

  if (detail != NULL && *detail != '\0')
    {
      human = humanize_detail (detail);
      /* Translators: a detection source's state, then what it found or
       * why it did not, e.g. "Not found — no SRV records for example.com" */
      line->subtitle = g_strdup_printf (_("%s — %s"), word, human);
    }
  else
    line->subtitle = g_strdup (word);

  return line;
}

void
rs_detect_line_free (RsDetectLine *line)
{
  if (line == NULL)
    return;

  g_free (line->title);
  g_free (line->subtitle);
  g_free (line);
}

/* The link's words: the address without its scheme, so that the user
 * sees where it leads. */
static char *
link_words (const char *uri)
{
  const char *start = strstr (uri, "://");

  start = start != NULL ? start + 3 : uri;
  if (g_str_has_prefix (start, "www."))
    start += 4;

  return g_strdup (start);
}

static void
set_app_password (RsDetectNotice          *notice,
                  const RsDetectCandidate *best)
{
  const char *provider = best->provider_name != NULL ? best->provider_name : _("Your provider");

  notice->kind = RS_DETECT_NOTICE_APP_PASSWORD;
  notice->title = g_strdup (_("An app password is needed"));

  if (best->instructions_url != NULL)
    {
      g_autofree char *words = link_words (best->instructions_url);
      g_autofree char *escaped_provider = g_markup_escape_text (provider, -1);
      g_autofree char *escaped_uri = g_markup_escape_text (best->instructions_url, -1);
      g_autofree char *escaped_words = g_markup_escape_text (words, -1);
      g_autofree char *link = g_strdup_printf ("<a href=\"%s\">%s</a>", escaped_uri, escaped_words);

      /* Translators: the first %s is a provider such as "iCloud Mail",
       * the second where to create an app password (a web address) */
      notice->text = g_strdup_printf (_("%s needs an app password for this sign-in. "
                                        "Create one at %s, then paste it here."),
                                      provider, words);
      notice->markup = g_strdup_printf (_("%s needs an app password for this sign-in. "
                                          "Create one at %s, then paste it here."),
                                        escaped_provider, link);
      notice->link_uri = g_strdup (best->instructions_url);
    }
  else
    {
      /* Translators: %s is a provider such as "iCloud Mail" */
      notice->text = g_strdup_printf (_("%s needs an app password for this sign-in. Create one "
                                        "in your account’s security settings, then paste it here."),
                                      provider);
      notice->markup = g_markup_escape_text (notice->text, -1);
    }

  /* Proton Mail Bridge: the password is the one Bridge shows. */
  if (best->note != NULL && *best->note != '\0')
    {
      g_autofree char *escaped_note = g_markup_escape_text (best->note, -1);
      char *text = g_strdup_printf ("%s %s", notice->text, best->note);
      char *markup = g_strdup_printf ("%s %s", notice->markup, escaped_note);

      g_free (notice->text);
      notice->text = text;
      g_free (notice->markup);
      notice->markup = markup;
    }
}

static void
set_note (RsDetectNotice          *notice,
          const RsDetectCandidate *best)
{
  notice->kind = RS_DETECT_NOTICE_NOTE;
  notice->title = g_strdup (best->provider_name != NULL ? best->provider_name : _("Before you sign in"));
  notice->text = g_strdup (best->note);
  notice->markup = g_markup_escape_text (notice->text, -1);

  if (best->instructions_url != NULL)
    {
      g_autofree char *escaped_uri = g_markup_escape_text (best->instructions_url, -1);
      g_autofree char *escaped_words = g_markup_escape_text (_("How to do this"), -1);
      char *markup = g_strdup_printf ("%s <a href=\"%s\">%s</a>", notice->markup, escaped_uri, escaped_words);

      g_free (notice->markup);
      notice->markup = markup;
      notice->link_uri = g_strdup (best->instructions_url);
    }
}

static void
set_google (RsDetectNotice          *notice,
            const RsDetectCandidate *best)
{
  notice->kind = RS_DETECT_NOTICE_GOOGLE;
  notice->title = g_strdup (_("This is a Google address — sign in with Google instead"));
  notice->text = g_strdup (_("Google accounts sign in on Google’s own page, where you can "
                             "see what Retailsphere asks for. Your password is never typed here."));
  notice->markup = g_markup_escape_text (notice->text, -1);
  notice->button_label = g_strdup (_("Sign in with _Google"));
  notice->button_action = g_strdup ("win.sign-in-gmail");
}

static void
set_microsoft (RsDetectNotice          *notice,
               const RsDetectCandidate *best)
{
  const char *provider = best->provider_name != NULL ? best->provider_name : "Microsoft";
  g_autofree char *first = NULL;

  notice->kind = RS_DETECT_NOTICE_MICROSOFT;
  notice->title = g_strdup (_("This is a Microsoft address"));
  /* Translators: %s is "Outlook.com" or "Microsoft 365" */
  first = g_strdup_printf (_("%s signs in with Microsoft, or through Exchange. Neither is "
                             "available in this version of Retailsphere yet."),
                           provider);

  if (best->note != NULL && *best->note != '\0')
    notice->text = g_strdup_printf ("%s %s", first, best->note);
  else
    notice->text = g_steal_pointer (&first);

  notice->markup = g_markup_escape_text (notice->text, -1);
}

/**
 * rs_detect_notice_new:
 * @best: (nullable): the best candidate detection found so far
 *
 * Which notice the first page shows before the password is typed: the
 * way to sign in with Google, the honest word that Microsoft sign-in is
 * not here yet, that an app password is needed and where to make one, or
 * what the provider asks to be done first.
 *
 * Returns: (transfer full) (nullable): the notice, or %NULL for none
 */
RsDetectNotice *
rs_detect_notice_new (const RsDetectCandidate *best)
{
  RsDetectNotice *notice;

  if (best == NULL)
    return NULL;

  notice = g_new0 (RsDetectNotice, 1);

  switch (best->route)
    {
    case RS_ROUTE_GOOGLE:
      set_google (notice, best);
      break;

    case RS_ROUTE_MICROSOFT:
      set_microsoft (notice, best);
      break;

    case RS_ROUTE_NONE:
    default:
      if (best->app_password_required)
        set_app_password (notice, best);
      else if (best->note != NULL && *best->note != '\0')
        set_note (notice, best);
      else
        g_clear_pointer (&notice, g_free);
      break;
    }

  return notice;
}

void
rs_detect_notice_free (RsDetectNotice *notice)
{
  if (notice == NULL)
    return;

  g_free (notice->title);
  g_free (notice->markup);
  g_free (notice->text);
  g_free (notice->link_uri);
  g_free (notice->button_label);
  g_free (notice->button_action);
  g_free (notice);
}

/**
 * rs_detect_next_page:
 *
 * While detection runs, Next shows it working; otherwise it goes
 * straight to the server settings (filled, or empty when nothing was
 * found or detection could not start).
 *
 * Returns: "finding" or "servers"
 */
const char *
rs_detect_next_page (RsDetectPhase phase)
{
  return phase == RS_DETECT_PHASE_RUNNING ? "finding" : "servers";
}

static char *
certificate_warning (RsService               service,
                     const RsServerSettings *settings)
{
  const char *host = settings != NULL ? settings->host : "";

  if (service == RS_SERVICE_SMTP)
    /* Translators: %s is a server name such as smtp.example.com */
    return g_strdup_printf (_("The sending (SMTP) server %s presented a certificate this "
                              "computer does not trust. When you connect, you will see it "
                              "and can decide."), host);

  /* Translators: %s is a server name such as imap.example.com */
  return g_strdup_printf (_("The receiving (IMAP) server %s presented a certificate this "
                            "computer does not trust. When you connect, you will see it "
                            "and can decide."), host);
}

/**
 * rs_detect_servers_new:
 * @result: (nullable): what detection found; %NULL when it could not run
 * @address: the address it ran for
 * @consented: the user chose to use insecure settings anyway
 *
 * Found settings fill the form for review, with the source that found
 * them.  Settings that came over plain HTTP or name a server without
 * encryption are never used silently: they fill the form only once the
 * user agreed.  When nothing was found the form stays empty — no guesses
 * pretending to be found.
 *
 * Returns: (transfer full): what the Server settings page says
 */
RsDetectServers *
rs_detect_servers_new (const RsDetectResult *result,
                       const char           *address,
                       gboolean              consented)
{
  RsDetectServers *servers;
  const RsDetectCandidate *best = NULL;
  g_autoptr(GStrvBuilder) certificates = g_strv_builder_new ();

  servers = g_new0 (RsDetectServers, 1);

  if (result != NULL && result->candidates->len > 0)
    best = g_ptr_array_index (result->candidates, 0);

  if (best == NULL)
    {
      const char *at = address != NULL ? strrchr (address, '@') : NULL;

      if (at != NULL && at[1] != '\0')
        /* Translators: %s is a domain such as example.com */
        servers->nothing_found = g_strdup_printf (_("No settings were found for %s. Ask your "
                                                    "provider for its IMAP and SMTP servers "
                                                    "and enter them here."), at + 1);
      else
        servers->nothing_found = g_strdup (_("No settings were found. Ask your provider for "
                                             "its IMAP and SMTP servers and enter them here."));

      servers->certificate_warnings = g_strv_builder_end (certificates);
      return servers;
    }

  servers->candidate = best;
  /* Translators: %s is where the settings came from, such as "Known providers" */
  servers->found_by = g_strdup_printf (_("Found by: %s"), rs_detect_source_title (best->source));

  if (best->note != NULL && *best->note != '\0')
    servers->note = g_strdup (best->note);

  if (best->insecure)
    {
      const char *reason = best->insecure_reason != NULL
                           ? best->insecure_reason
                           : _("They came without encryption, or name a server without it");

      /* Translators: %s says why, such as "The provider’s settings say
       * the server does not use encryption" */
      servers->insecure_warning = g_strdup_printf (_("These settings may not be safe: %s. Use them "
                                                     "only if your provider confirms them."),
                                                   reason);
      servers->needs_consent = !consented;
    }

  if (best->imap_certificate != NULL)
    {
      g_autofree char *line = certificate_warning (RS_SERVICE_IMAP, best->imap);

      g_strv_builder_add (certificates, line);
    }

  if (best->smtp_certificate != NULL)
    {
      g_autofree char *line = certificate_warning (RS_SERVICE_SMTP, best->smtp);

      g_strv_builder_add (certificates, line);
    }

  servers->certificate_warnings = g_strv_builder_end (certificates);
  servers->fill = !servers->needs_consent;

  return servers;
}

void
rs_detect_servers_free (RsDetectServers *servers)
{
  if (servers == NULL)
    return;

  g_free (servers->found_by);
  g_free (servers->nothing_found);
  g_free (servers->note);
  g_free (servers->insecure_warning);
  g_strfreev (servers->certificate_warnings);
  g_free (servers);
}
