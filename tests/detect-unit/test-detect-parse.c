/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-detect-parse"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "rs-autoconfig.h"
#include "rs-detect-source.h"
#include "rs-providers.h"

#define ADDRESS "Jane.Doe@example.org"

static RsDetectCandidate *
parse_ok (const char *xml)
{
  g_autoptr(GError) error = NULL;
  RsDetectCandidate *candidate = rs_autoconfig_parse (xml, strlen (xml), ADDRESS, "autoconfig", &error);

  g_assert_no_error (error);
  g_assert_nonnull (candidate);
  g_assert_cmpstr (candidate->source, ==, "autoconfig");

  return candidate;
}

static void
assert_refused (const char *xml,
                gsize       length,
                int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RsDetectCandidate) candidate = rs_autoconfig_parse (xml, length, ADDRESS, "autoconfig", &error);

  g_assert_null (candidate);
  g_assert_error (error, G_IO_ERROR, code);
  g_assert_nonnull (error->message);
}

/* Shaped like what ISPs publish: POP3 first, several IMAP entries,
 * documentation, comments, odd whitespace. */
static const char realistic[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<clientConfig version=\"1.1\">\n"
  "  <emailProvider id=\"example.org\">\n"
  "    <domain>example.org</domain>\n"
  "    <domain>example.net</domain>\n"
  "    <displayName>Example Mail</displayName>\n"
  "    <displayShortName>Example</displayShortName>\n"
  "    <incomingServer type=\"pop3\">\n"
  "      <hostname>pop.example.org</hostname><port>995</port><socketType>SSL</socketType>\n"
  "      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>\n"
  "    </incomingServer>\n"
  "    <incomingServer type=\"imap\">\n"
  "      <hostname>imap.example.org</hostname>\n"
  "      <port>143</port>\n"
  "      <socketType>STARTTLS</socketType>\n"
  "      <username>%EMAILLOCALPART%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </incomingServer>\n"
  "    <incomingServer type=\"imap\">\n"
  "      <!-- the one we want -->\n"
  "      <hostname>  imap.%EMAILDOMAIN%  </hostname>\n"
  "      <port>993</port>\n"
  "      <socketType>SSL</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-encrypted</authentication>\n"
  "    </incomingServer>\n"
  "    <outgoingServer type=\"smtp\">\n"
  "      <hostname>smtp.example.org</hostname>\n"
  "      <port>587</port>\n"
  "      <socketType>STARTTLS</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </outgoingServer>\n"
  "    <documentation url=\"https://help.example.org/mail-clients\">\n"
  "      <descr lang=\"en\">Setting up a mail program</descr>\n"
  "    </documentation>\n"
  "  </emailProvider>\n"
  "</clientConfig>\n";

static void
test_realistic (void)
{
  g_autoptr(RsDetectCandidate) candidate = parse_ok (realistic);

  /* Implicit TLS is chosen over STARTTLS; port and security are kept. */
  g_assert_cmpstr (candidate->imap->host, ==, "imap.example.org");
  g_assert_cmpuint (candidate->imap->port, ==, 993);
  g_assert_cmpint (candidate->imap->security, ==, RS_SECURITY_TLS);
  g_assert_cmpstr (candidate->imap->username, ==, ADDRESS);
  g_assert_cmpstr (candidate->smtp->host, ==, "smtp.example.org");
  g_assert_cmpuint (candidate->smtp->port, ==, 587);
  g_assert_cmpint (candidate->smtp->security, ==, RS_SECURITY_STARTTLS);
  g_assert_cmpstr (candidate->auth, ==, "password");
  g_assert_cmpstr (candidate->provider_name, ==, "Example Mail");
  g_assert_cmpstr (candidate->instructions_url, ==, "https://help.example.org/mail-clients");
  g_assert_false (candidate->insecure);
  g_assert_cmpint (candidate->route, ==, RS_ROUTE_NONE);
}

static void
test_gmail_shape (void)
{
  const char *xml =
    "<clientConfig version=\"1.1\"><emailProvider id=\"googlemail.com\">"
    "<domain>gmail.com</domain><displayName>Google Mail</displayName>"
    "<incomingServer type=\"imap\"><hostname>imap.gmail.com</hostname><port>993</port>"
    "<socketType>SSL</socketType><username>%EMAILADDRESS%</username>"
    "<authentication>OAuth2</authentication><authentication>password-cleartext</authentication></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>smtp.gmail.com</hostname><port>465</port>"
    "<socketType>SSL</socketType><username>%EMAILADDRESS%</username>"
    "<authentication>OAuth2</authentication></outgoingServer>"
    "<enable visiturl=\"https://mail.google.com/mail/#settings/fwdandpop\">"
    "<instruction>Turn on IMAP in the web settings first.</instruction></enable>"
    "</emailProvider></clientConfig>";
  g_autoptr(RsDetectCandidate) candidate = parse_ok (xml);

  g_assert_cmpint (candidate->route, ==, RS_ROUTE_GOOGLE);
  g_assert_cmpstr (candidate->auth, ==, "oauth2");
  g_assert_cmpstr (candidate->instructions_url, ==, "https://mail.google.com/mail/#settings/fwdandpop");
  g_assert_cmpstr (candidate->note, ==, "Turn on IMAP in the web settings first.");
}

static void
test_placeholders (void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "%EMAILADDRESS%", ADDRESS },
    { "%EMAILLOCALPART%", "Jane.Doe" },
    { "%EMAILDOMAIN%", "example.org" },
    { "mail.%EMAILDOMAIN%", "mail.example.org" },
    { "%emailaddress%", ADDRESS },                   /* case */
    { "%EMAILADDRESS", ADDRESS },                    /* missing closing % */
    { "%EMAILLOCALPART@example.org", "Jane.Doe@example.org" },
    { "%EMAILLOCALPART%%EMAILDOMAIN", "Jane.Doeexample.org" },
    { "%REALNAME%", "" },
    { "%UNKNOWN%", "%UNKNOWN%" },
    { "100%", "100%" },
    { "%", "%" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = rs_autoconfig_expand (cases[i].in, ADDRESS);

      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

static void
test_sloppy_username (void)
{
  const char *xml =
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>993</port><socketType>SSL</socketType><username>%EMAILLOCALPART</username></incomingServer>"
    "</emailProvider></clientConfig>";
  g_autoptr(RsDetectCandidate) candidate = parse_ok (xml);

  g_assert_cmpstr (candidate->imap->username, ==, "Jane.Doe");
  /* No outgoing server named: only receiving is known. */
  g_assert_null (candidate->smtp);
}

static void
test_plain_is_insecure (void)
{
  const char *xml =
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>143</port><socketType>plain</socketType><username>%EMAILADDRESS%</username></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>smtp.example.org</hostname><port>25</port>"
    "<socketType>plain</socketType></outgoingServer></emailProvider></clientConfig>";
  g_autoptr(RsDetectCandidate) candidate = parse_ok (xml);

  /* Never used silently: flagged, and still never sent in the clear. */
  g_assert_true (candidate->insecure);
  g_assert_nonnull (candidate->insecure_reason);
  g_assert_cmpint (candidate->imap->security, ==, RS_SECURITY_STARTTLS);
  g_assert_cmpuint (candidate->imap->port, ==, 143);
  g_assert_cmpuint (candidate->smtp->port, ==, 25);
}

static void
test_no_imap (void)
{
  const char *pop3 =
    "<clientConfig><emailProvider><incomingServer type=\"pop3\"><hostname>pop.example.org</hostname>"
    "<port>995</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>";
  const char *exchange =
    "<clientConfig><emailProvider><incomingServer type=\"exchange\"><hostname>outlook.office365.com</hostname>"
    "<port>443</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>";
  const char *bad_server =
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>bad host/x</hostname>"
    "<port>993</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>99999</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>993</port><socketType>carrier-pigeon</socketType></incomingServer></emailProvider></clientConfig>";

  assert_refused (pop3, strlen (pop3), G_IO_ERROR_NOT_FOUND);
  assert_refused (exchange, strlen (exchange), G_IO_ERROR_NOT_FOUND);
  assert_refused (bad_server, strlen (bad_server), G_IO_ERROR_NOT_FOUND);
}

static void
test_exchange_noted (void)
{
  const char *xml =
    "<clientConfig><emailProvider>"
    "<incomingServer type=\"exchange\"><hostname>outlook.office365.com</hostname></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>outlook.office365.com</hostname><port>993</port>"
    "<socketType>SSL</socketType><authentication>OAuth2</authentication></incomingServer>"
    "</emailProvider></clientConfig>";
  g_autoptr(RsDetectCandidate) candidate = parse_ok (xml);

  g_assert_true (candidate->exchange_offered);
  g_assert_cmpint (candidate->route, ==, RS_ROUTE_MICROSOFT);
  g_assert_cmpstr (candidate->auth, ==, "oauth2");
}

static void
test_hostile (void)
{
  const char *laughs =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n]>\n"
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>&lol4;</hostname>"
    "</incomingServer></emailProvider></clientConfig>";
  const char *external =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE c [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>&xxe;</hostname>"
    "<port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>";
  const char *not_config = "<html><body>It works!</body></html>";
  const char *garbage = "\x89PNG\r\n\x1a\n\0\0\0";
  g_autoptr(GString) deep = g_string_new ("<clientConfig><emailProvider>");
  g_autoptr(GString) huge = g_string_new ("<clientConfig><emailProvider><displayName>");

  assert_refused (laughs, strlen (laughs), G_IO_ERROR_INVALID_DATA);
  assert_refused (external, strlen (external), G_IO_ERROR_INVALID_DATA);
  assert_refused (not_config, strlen (not_config), G_IO_ERROR_INVALID_DATA);
  assert_refused (garbage, 11, G_IO_ERROR_INVALID_DATA);
  assert_refused ("", 0, G_IO_ERROR_INVALID_DATA);

  /* Deep nesting: libxml2's own depth limit refuses it, without a crash. */
  for (guint i = 0; i < 5000; i++)
    g_string_append (deep, "<x>");
  for (guint i = 0; i < 5000; i++)
    g_string_append (deep, "</x>");
  g_string_append (deep, "</emailProvider></clientConfig>");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(RsDetectCandidate) candidate = rs_autoconfig_parse (deep->str, deep->len, ADDRESS, "autoconfig", &error);

    g_assert_null (candidate);
    g_assert_nonnull (error);
  }

  /* Over the size bound: refused before parsing. */
  while (huge->len <= RS_AUTOCONFIG_MAX_SIZE)
    g_string_append (huge, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (huge, "</displayName></emailProvider></clientConfig>");
  assert_refused (huge->str, huge->len, G_IO_ERROR_INVALID_DATA);
}

static void
test_fuzz (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240612);
  guint iterations = g_test_slow () ? 100000 : 10000;
  guint n_ok = 0, n_error = 0;
  static const char interesting[] = "<>/\"'=&%;![]-? \n\0SSLimap";

  for (guint i = 0; i < iterations; i++)
    {
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(RsDetectCandidate) candidate = NULL;
      g_autoptr(GError) error = NULL;
      guint mutations = g_rand_int_range (rand, 1, 8);

      g_byte_array_append (input, (const guint8 *) realistic, strlen (realistic));

      for (guint m = 0; m < mutations; m++)
        {
          guint pos = g_rand_int_range (rand, 0, input->len);
          guint8 byte = interesting[g_rand_int_range (rand, 0, sizeof interesting)];

          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:  /* replace */
              input->data[pos] = byte;
              break;
            case 1:  /* insert */
              g_byte_array_append (input, &byte, 1);
              memmove (input->data + pos + 1, input->data + pos, input->len - pos - 1);
              input->data[pos] = byte;
              break;
            case 2:  /* delete a run */
              {
                guint run = g_rand_int_range (rand, 1, 40);

                g_byte_array_remove_range (input, pos, MIN (input->len - pos, run));
              }
              break;
            default: /* truncate */
              g_byte_array_set_size (input, pos);
              break;
            }
          if (input->len == 0)
            break;
        }

      candidate = rs_autoconfig_parse ((const char *) input->data, input->len, ADDRESS, "autoconfig", &error);
      if (candidate != NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (candidate->imap);
          g_assert_true (g_utf8_validate (candidate->imap->host, -1, NULL));
          g_assert_cmpuint (candidate->imap->port, >, 0);
          n_ok++;
        }
      else
        {
          g_assert_nonnull (error);
          n_error++;
        }
    }

  g_test_message ("fuzz: %u parsed, %u refused", n_ok, n_error);
  /* The mutations must exercise both outcomes, or the loop proves nothing. */
  g_assert_cmpuint (n_ok, >, 0);
  g_assert_cmpuint (n_error, >, 0);
}

/* The provider table --------------------------------------------------------- */

static void
test_providers_domain (void)
{
  RsProviders *providers = rs_providers_get_default ();
  static const struct {
    const char *domain;
    const char *id;
  } cases[] = {
    { "gmail.com", "gmail" }, { "GoogleMail.com", "gmail" }, { "hotmail.com", "outlook" },
    { "outlook.com", "outlook" }, { "yahoo.com", "yahoo" }, { "icloud.com", "icloud" },
    { "me.com", "icloud" }, { "fastmail.com", "fastmail" }, { "gmx.de", "gmx-net" },
    { "gmx.com", "gmx-com" }, { "aol.com", "aol" }, { "zoho.com", "zoho" },
    { "yandex.ru", "yandex" }, { "mailbox.org", "mailbox-org" }, { "proton.me", "proton-bridge" },
    { "gmail.com.", "gmail" }, { "example.org", NULL }, { "mail.gmail.com", NULL },
  };

  g_assert_cmpuint (rs_providers_get_n_items (providers), >=, 13);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const RsProvider *provider = rs_providers_lookup_domain (providers, cases[i].domain);

      g_assert_cmpstr (provider ? provider->id : NULL, ==, cases[i].id);
    }
}

static void
test_providers_mx (void)
{
  RsProviders *providers = rs_providers_get_default ();
  static const struct {
    const char *mx;
    const char *id;
  } cases[] = {
    { "aspmx.l.google.com", "google-workspace" },
    { "alt1.aspmx.l.google.com.", "google-workspace" },
    { "smtp.google.com", "google-workspace" },
    { "example-org.mail.protection.outlook.com", "microsoft365" },
    { "in1-smtp.messagingengine.com", "fastmail" },
    { "mail.protonmail.ch", "proton-bridge" },
    { "evilgoogle.com", NULL },
    { "google.com.attacker.example", NULL },
    { "mx.example.org", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const RsProvider *provider = rs_providers_lookup_mx (providers, cases[i].mx);

      g_assert_cmpstr (provider ? provider->id : NULL, ==, cases[i].id);
    }
}

static void
test_providers_candidates (void)
{
  RsProviders *providers = rs_providers_get_default ();
  g_autoptr(RsDetectCandidate) gmail =
    rs_provider_make_candidate (rs_providers_lookup_domain (providers, "gmail.com"), "providers", "a@gmail.com");
  g_autoptr(RsDetectCandidate) yahoo =
    rs_provider_make_candidate (rs_providers_lookup_domain (providers, "yahoo.com"), "providers", "a@yahoo.com");
  g_autoptr(RsDetectCandidate) icloud =
    rs_provider_make_candidate (rs_providers_lookup_domain (providers, "icloud.com"), "providers", "jane@icloud.com");
  g_autoptr(RsDetectCandidate) proton =
    rs_provider_make_candidate (rs_providers_lookup_domain (providers, "proton.me"), "providers", "a@proton.me");

  g_assert_cmpint (gmail->route, ==, RS_ROUTE_GOOGLE);
  g_assert_cmpstr (gmail->auth, ==, "oauth2");
  g_assert_true (yahoo->app_password_required);
  g_assert_true (g_str_has_prefix (yahoo->instructions_url, "https://"));
  g_assert_cmpstr (icloud->imap->username, ==, "jane");
  g_assert_cmpstr (icloud->smtp->username, ==, "jane@icloud.com");
  g_assert_cmpuint (icloud->smtp->port, ==, 587);
  g_assert_cmpint (icloud->smtp->security, ==, RS_SECURITY_STARTTLS);
  g_assert_cmpstr (proton->imap->host, ==, "127.0.0.1");
  g_assert_cmpuint (proton->imap->port, ==, 1143);
  g_assert_nonnull (proton->note);

  /* Every entry names a provider, an https instructions link and servers. */
  for (guint i = 0; i < rs_providers_get_n_items (providers); i++)
    {
      const RsProvider *provider = rs_providers_get_item (providers, i);

      g_assert_nonnull (provider->name);
      g_assert_true (g_str_has_prefix (provider->instructions_url, "https://"));
      g_assert_true (provider->domains[0] != NULL || provider->mx_suffixes[0] != NULL);
      if (provider->app_password_required)
        g_assert_cmpstr (provider->auth, ==, "password");
    }
}

static void
test_providers_bad_table (void)
{
  static const char * const bad[] = {
    "", "[]", "{\"providers\": 3}",
    "{\"providers\": [{\"id\": \"x\", \"name\": \"X\", \"auth\": \"magic\"}]}",
    "{\"providers\": [{\"id\": \"x\", \"name\": \"X\", \"imap\": {\"host\": \"h\", \"port\": 0, \"security\": \"tls\"},"
    " \"smtp\": {\"host\": \"h\", \"port\": 465, \"security\": \"tls\"}}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RsProviders) providers = rs_providers_new_from_data (bad[i], strlen (bad[i]), &error);

      g_assert_null (providers);
      g_assert_nonnull (error);
    }
}

/* SRV selection ------------------------------------------------------------- */

static GList *
targets (const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, " ", -1);
  GList *list = NULL;

  /* "host:port:priority:weight ..." */
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (parts[i], ":", 4);

      list = g_list_append (list, g_srv_target_new (f[0], atoi (f[1]), atoi (f[2]), atoi (f[3])));
    }

  return list;
}

static void
test_srv_select (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GList *list;
  guint a = 0, b = 0;

  /* Lowest priority wins, whatever the order and weights. */
  list = targets ("backup.example.org:993:20:100 imap.example.org:993:10:0");
  g_assert_cmpstr (g_srv_target_get_hostname (rs_detect_srv_select (list, rand)), ==, "imap.example.org");
  g_list_free_full (list, (GDestroyNotify) g_srv_target_free);

  /* "." alone: not offered. */
  list = targets (".:0:0:0");
  g_assert_null (rs_detect_srv_select (list, rand));
  g_list_free_full (list, (GDestroyNotify) g_srv_target_free);

  /* "." among others is skipped. */
  list = targets (".:0:0:0 mail.example.org:1993:5:1");
  g_assert_cmpstr (g_srv_target_get_hostname (rs_detect_srv_select (list, rand)), ==, "mail.example.org");
  g_assert_cmpuint (g_srv_target_get_port (rs_detect_srv_select (list, rand)), ==, 1993);
  g_list_free_full (list, (GDestroyNotify) g_srv_target_free);

  g_assert_null (rs_detect_srv_select (NULL, rand));

  /* Equal priority: chosen in proportion to weight; weight 0 never while
   * others weigh something. */
  list = targets ("a.example.org:993:10:30 b.example.org:993:10:10 z.example.org:993:10:0 "
                  "low.example.org:993:20:1000");
  for (guint i = 0; i < 4000; i++)
    {
      const char *host = g_srv_target_get_hostname (rs_detect_srv_select (list, rand));

      if (g_str_equal (host, "a.example.org"))
        a++;
      else if (g_str_equal (host, "b.example.org"))
        b++;
      else
        g_assert_not_reached ();
    }
  g_test_message ("weights 30:10 chosen %u:%u", a, b);
  g_assert_cmpuint (a, >, 2 * b);
  g_assert_cmpuint (a, <, 4 * b);
  g_list_free_full (list, (GDestroyNotify) g_srv_target_free);

  /* All weights 0: the first of the lowest priority. */
  list = targets ("x.example.org:993:10:0 y.example.org:993:10:0");
  g_assert_cmpstr (g_srv_target_get_hostname (rs_detect_srv_select (list, rand)), ==, "x.example.org");
  g_list_free_full (list, (GDestroyNotify) g_srv_target_free);
}

static void
test_host_suffix (void)
{
  g_assert_true (rs_host_has_suffix ("aspmx.l.google.com", "google.com"));
  g_assert_true (rs_host_has_suffix ("Google.COM.", "google.com"));
  g_assert_false (rs_host_has_suffix ("evilgoogle.com", "google.com"));
  g_assert_false (rs_host_has_suffix ("com", "google.com"));
  g_assert_false (rs_host_has_suffix ("google.com", ""));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/detect/autoconfig/realistic", test_realistic);
  g_test_add_func ("/detect/autoconfig/gmail-shape", test_gmail_shape);
  g_test_add_func ("/detect/autoconfig/placeholders", test_placeholders);
  g_test_add_func ("/detect/autoconfig/sloppy-username", test_sloppy_username);
  g_test_add_func ("/detect/autoconfig/plain-is-insecure", test_plain_is_insecure);
  g_test_add_func ("/detect/autoconfig/no-imap", test_no_imap);
  g_test_add_func ("/detect/autoconfig/exchange-noted", test_exchange_noted);
  g_test_add_func ("/detect/autoconfig/hostile", test_hostile);
  g_test_add_func ("/detect/autoconfig/fuzz", test_fuzz);
  g_test_add_func ("/detect/providers/by-domain", test_providers_domain);
  g_test_add_func ("/detect/providers/by-mx", test_providers_mx);
  g_test_add_func ("/detect/providers/candidates", test_providers_candidates);
  g_test_add_func ("/detect/providers/bad-table", test_providers_bad_table);
  g_test_add_func ("/detect/srv/select", test_srv_select);
  g_test_add_func ("/detect/host-suffix", test_host_suffix);

  return g_test_run ();
}
