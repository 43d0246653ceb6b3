/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-detect"

#include "config.h"

#include <glib/gi18n.h>

#include "detect-bed.h"

/* An entity that grows to gigabytes when expanded; a parser that expands
 * entities must not get it. */
static const char billion_laughs[] =
  "<?xml version=\"1.0\"?>\n"
  "<!DOCTYPE clientConfig [\n"
  "  <!ENTITY lol \"lol\">\n"
  "  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
  "  <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
  "  <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
  "  <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
  "  <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
  "  <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
  "  <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
  "  <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
  "  <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
  "]>\n"
  "<clientConfig version=\"1.1\">\n"
  "  <emailProvider id=\"hostile.test\">\n"
  "    <domain>hostile.test</domain>\n"
  "    <displayName>&lol9;</displayName>\n"
  "    <incomingServer type=\"imap\">\n"
  "      <hostname>&lol9;.hostile.test</hostname>\n"
  "      <port>993</port>\n"
  "      <socketType>SSL</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </incomingServer>\n"
  "    <outgoingServer type=\"smtp\">\n"
  "      <hostname>&lol9;.hostile.test</hostname>\n"
  "      <port>465</port>\n"
  "      <socketType>SSL</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </outgoingServer>\n"
  "  </emailProvider>\n"
  "</clientConfig>\n";

char *
detect_config_xml (const char *domain,
                   const char *imap_host,
                   guint16     imap_port,
                   const char *imap_socket,
                   const char *smtp_host,
                   guint16     smtp_port,
                   const char *smtp_socket,
                   const char *username)
{
  return g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<clientConfig version=\"1.1\">\n"
    "  <emailProvider id=\"%s\">\n"
    "    <domain>%s</domain>\n"
    "    <displayName>Test mail of %s</displayName>\n"
    "    <displayShortName>%s</displayShortName>\n"
    "    <incomingServer type=\"imap\">\n"
    "      <hostname>%s</hostname>\n"
    "      <port>%u</port>\n"
    "      <socketType>%s</socketType>\n"
    "      <username>%s</username>\n"
    "      <authentication>password-cleartext</authentication>\n"
    "    </incomingServer>\n"
    "    <outgoingServer type=\"smtp\">\n"
    "      <hostname>%s</hostname>\n"
    "      <port>%u</port>\n"
    "      <socketType>%s</socketType>\n"
    "      <username>%s</username>\n"
    "      <authentication>password-cleartext</authentication>\n"
    "    </outgoingServer>\n"
    "  </emailProvider>\n"
    "</clientConfig>\n",
    domain, domain, domain, domain,
    imap_host, imap_port, imap_socket, username,
    smtp_host, smtp_port, smtp_socket, username);
}

static void
add_mail_hosts (RsTestNetns        *net,
                const char * const *hosts)
{
  for (guint i = 0; hosts[i] != NULL; i++)
    rs_test_netns_add_host (net, hosts[i], DETECT_MAIL_ADDRESS);
}

static void
add_config (RsTestNetns *net,
            gboolean     https,
            const char  *web_host,
            const char  *path,
            const char  *domain,
            const char  *username)
{
  g_autofree char *imap = g_strdup_printf ("in.%s", domain);
  g_autofree char *smtp = g_strdup_printf ("out.%s", domain);
  g_autofree char *xml = detect_config_xml (domain, imap, 993, "SSL", smtp, 465, "SSL",
                                            username ? username : "%EMAILADDRESS%");

  rs_test_netns_add_web_file (net, https, web_host, path, xml);
  add_mail_hosts (net, (const char * const[]) { imap, smtp, NULL });
}

#define AUTOCONFIG_PATH  "/mail/config-v1.1.xml"
#define WELL_KNOWN_PATH  "/.well-known/autoconfig/mail/config-v1.1.xml"

static void
add_domains (RsTestNetns *net)
{
  g_autofree char *xml = NULL;

  /* Autoconfig only. */
  add_config (net, TRUE, "autoconfig.ac-only.test", AUTOCONFIG_PATH, "ac-only.test", NULL);

  /* Well-known only; STARTTLS ports and the local part as user name, so
   * that port, security and placeholders are seen to be kept. */
  xml = detect_config_xml ("wk-only.test",
                           "in.wk-only.test", 143, "STARTTLS",
                           "out.wk-only.test", 587, "STARTTLS",
                           "%EMAILLOCALPART%");
  rs_test_netns_add_web_file (net, TRUE, "wk-only.test", WELL_KNOWN_PATH, xml);
  g_clear_pointer (&xml, g_free);
  add_mail_hosts (net, (const char * const[]) { "in.wk-only.test", "out.wk-only.test", NULL });

  /* The ISPDB only. */
  add_config (net, TRUE, "autoconfig.thunderbird.net", "/v1.1/ispdb-only.test",
              "ispdb-only.test", NULL);

  /* SRV only: two priorities for IMAPS, plain IMAP at a better priority
   * (implicit TLS still wins), submissions not offered ("."). */
  rs_test_netns_add_srv (net, "_imaps._tcp.srv-only.test", "imap-20.srv-only.test", 993, 20, 0);
  rs_test_netns_add_srv (net, "_imaps._tcp.srv-only.test", "imap-10.srv-only.test", 993, 10, 0);
  rs_test_netns_add_srv (net, "_imap._tcp.srv-only.test", "plain.srv-only.test", 143, 0, 0);
  rs_test_netns_add_srv (net, "_submissions._tcp.srv-only.test", NULL, 0, 0, 0);
  rs_test_netns_add_srv (net, "_submission._tcp.srv-only.test", "submit.srv-only.test", 587, 0, 0);
  add_mail_hosts (net, (const char * const[]) {
                    "imap-20.srv-only.test", "imap-10.srv-only.test",
                    "plain.srv-only.test", "submit.srv-only.test", NULL });

  /* Hosted by Google, known by its MX only. */
  rs_test_netns_add_mx (net, "google-mx.test", "aspmx.l.google.com", 1);
  rs_test_netns_add_mx (net, "google-mx.test", "alt1.aspmx.l.google.com", 5);
  rs_test_netns_add_host (net, "aspmx.l.google.com", DETECT_NOWHERE);
  rs_test_netns_add_host (net, "alt1.aspmx.l.google.com", DETECT_NOWHERE);

  /* Guessing only: real servers at imap.D and smtp.D. */
  add_mail_hosts (net, (const char * const[]) { "imap.guess-only.test", "smtp.guess-only.test", NULL });

  /* Conflicting sources: autoconfig says A, SRV says B. */
  xml = detect_config_xml ("conflict.test",
                           "in-a.conflict.test", 993, "SSL",
                           "out-a.conflict.test", 465, "SSL",
                           "%EMAILADDRESS%");
  rs_test_netns_add_web_file (net, TRUE, "autoconfig.conflict.test", AUTOCONFIG_PATH, xml);
  g_clear_pointer (&xml, g_free);
  rs_test_netns_add_srv (net, "_imaps._tcp.conflict.test", "in-b.conflict.test", 993, 0, 0);
  rs_test_netns_add_srv (net, "_submissions._tcp.conflict.test", "out-b.conflict.test", 465, 0, 0);
  add_mail_hosts (net, (const char * const[]) {
                    "in-a.conflict.test", "out-a.conflict.test",
                    "in-b.conflict.test", "out-b.conflict.test", NULL });

  /* A better source that hangs: autoconfig and well-known hosts accept
   * and never answer; SRV has the answer. */
  rs_test_netns_add_hanging_host (net, "autoconfig.hang.test");
  rs_test_netns_add_hanging_host (net, "hang.test");
  rs_test_netns_add_srv (net, "_imaps._tcp.hang.test", "in.hang.test", 993, 0, 0);
  rs_test_netns_add_srv (net, "_submissions._tcp.hang.test", "out.hang.test", 465, 0, 0);
  add_mail_hosts (net, (const char * const[]) { "in.hang.test", "out.hang.test", NULL });

  /* A hostile autoconfig file; the well-known file is fine. */
  rs_test_netns_add_web_file (net, TRUE, "autoconfig.hostile.test", AUTOCONFIG_PATH, billion_laughs);
  add_config (net, TRUE, "hostile.test", WELL_KNOWN_PATH, "hostile.test", NULL);

  /* A redirect from the well-known path to another HTTPS path. */
  rs_test_netns_add_web_redirect (net, TRUE, "redirect.test", WELL_KNOWN_PATH,
                                  "https://redirect.test/moved/config-v1.1.xml");
  add_config (net, TRUE, "redirect.test", "/moved/config-v1.1.xml", "redirect.test", NULL);

  /* An answer over plain HTTP only. */
  add_config (net, FALSE, "autoconfig.http-only.test", AUTOCONFIG_PATH, "http-only.test", NULL);

  /* nothing.test: no record at all. */

  /* No answer at all from the name server. */
  rs_test_netns_add_unanswered_domain (net, "blackhole.test");

  /* The best source answers at once while every lower one hangs. */
  add_config (net, TRUE, "autoconfig.fast.test", AUTOCONFIG_PATH, "fast.test", NULL);
  rs_test_netns_add_hanging_host (net, "fast.test");
  rs_test_netns_add_hanging_host (net, "imap.fast.test");
  rs_test_netns_add_hanging_host (net, "mail.fast.test");
  rs_test_netns_add_hanging_host (net, "smtp.fast.test");
  rs_test_netns_add_hanging_host (net, "srv-in.fast.test");
  rs_test_netns_add_hanging_host (net, "srv-out.fast.test");
  rs_test_netns_add_srv (net, "_imaps._tcp.fast.test", "srv-in.fast.test", 993, 0, 0);
  rs_test_netns_add_srv (net, "_submissions._tcp.fast.test", "srv-out.fast.test", 465, 0, 0);

  /* A redirect from HTTPS down to plain HTTP. */
  rs_test_netns_add_web_redirect (net, TRUE, "downgrade.test", WELL_KNOWN_PATH,
                                  "http://downgrade.test/moved/config-v1.1.xml");
  add_config (net, FALSE, "downgrade.test", "/moved/config-v1.1.xml", "downgrade.test", NULL);

  /* Hosted by Microsoft 365, known by its MX only. */
  rs_test_netns_add_mx (net, "ms365-mx.test", "ms365-mx-test.mail.protection.outlook.com", 0);
  rs_test_netns_add_host (net, "ms365-mx-test.mail.protection.outlook.com", DETECT_NOWHERE);
}

DetectBed *
detect_bed_start (char   **reason,
                  GError **error)
{
  g_autoptr(DetectBed) bed = g_new0 (DetectBed, 1);
  RsTestDovecotOptions dovecot = { 0 };
  RsTestEximOptions exim = { 0 };

  if (!rs_test_netns_available (reason) ||
      !rs_test_dovecot_available (reason) ||
      !rs_test_exim_available (reason))
    return NULL;

  bed->net = rs_test_netns_new ();
  add_domains (bed->net);
  if (!rs_test_netns_start (bed->net, error))
    return NULL;

  dovecot.ca = rs_test_netns_get_ca (bed->net);
  dovecot.address = DETECT_MAIL_ADDRESS;
  dovecot.standard_ports = TRUE;
  dovecot.cert_file = rs_test_netns_get_cert_file (bed->net);
  dovecot.key_file = rs_test_netns_get_key_file (bed->net);
  bed->dovecot = rs_test_dovecot_start (&dovecot, error);
  if (bed->dovecot == NULL)
    return NULL;

  exim.deliver_to = bed->dovecot;
  exim.address = DETECT_MAIL_ADDRESS;
  exim.standard_ports = TRUE;
  exim.cert_file = rs_test_netns_get_cert_file (bed->net);
  exim.key_file = rs_test_netns_get_key_file (bed->net);
  bed->exim = rs_test_exim_start (&exim, error);
  if (bed->exim == NULL)
    return NULL;

  return g_steal_pointer (&bed);
}

void
detect_bed_free (DetectBed *bed)
{
  if (bed == NULL)
    return;

  g_clear_pointer (&bed->exim, rs_test_server_free);
  g_clear_pointer (&bed->dovecot, rs_test_server_free);
  g_clear_pointer (&bed->net, rs_test_netns_free);
  g_free (bed);
}
