/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-test-server.h"

G_BEGIN_DECLS

/*
 * A test bed with real DNS, for tests that run through rs-netns-run (see
 * there): inside the test's own network namespace, a dnsmasq on
 * 127.0.0.1:53 answers for the test's names (A, MX and SRV records; every
 * other name does not exist), lighttpd serves files over HTTPS and HTTP at
 * RS_TEST_NETNS_WEB_ADDRESS, one virtual host per name, with a certificate of
 * the test CA — which the namespace's system trust store holds, so programs
 * started inside trust it without being told.  Hanging hosts accept TCP
 * connections and never say a word; unanswered domains get no DNS answer.
 *
 *   g_autofree char *reason = NULL;
 *
 *   if (!rs_test_netns_available (&reason))
 *     { g_test_skip (reason); return; }
 *   bed = rs_test_netns_new ();
 *   rs_test_netns_add_host (bed, "imap.example.test", "127.0.0.20");
 *   rs_test_netns_add_web_file (bed, TRUE, "autoconfig.example.test",
 *                               "/mail/config-v1.1.xml", xml);
 *   rs_test_netns_start (bed, &error);
 *
 * Names are added before rs_test_netns_start(); the certificate covers every
 * name added.  Mail servers for the names: rs_test_dovecot_start() and
 * rs_test_exim_start() with address, standard_ports and the bed's
 * certificate (rs_test_netns_get_cert_file()).
 */

#define RS_TEST_NETNS_WEB_ADDRESS   "127.0.0.10"
#define RS_TEST_NETNS_HANG_ADDRESS  "127.0.0.66"

typedef struct _RsTestNetns RsTestNetns;

/* FALSE, with the reason, when the test does not run inside a namespace of
 * rs-netns-run, or dnsmasq, lighttpd or openssl are missing. */
gboolean      rs_test_netns_available      (char         **reason);

RsTestNetns  *rs_test_netns_new            (void);
void          rs_test_netns_free           (RsTestNetns   *bed);

/* An A record. */
void          rs_test_netns_add_host       (RsTestNetns   *bed,
                                            const char    *name,
                                            const char    *address);
/* An MX record for DOMAIN. */
void          rs_test_netns_add_mx         (RsTestNetns   *bed,
                                            const char    *domain,
                                            const char    *host,
                                            guint          preference);
/* An SRV record, NAME as in "_imaps._tcp.example.test"; TARGET NULL is ".",
 * "the service is not offered here" (RFC 2782). */
void          rs_test_netns_add_srv        (RsTestNetns   *bed,
                                            const char    *name,
                                            const char    *target,
                                            guint16        port,
                                            guint16        priority,
                                            guint16        weight);
/* A file at PATH (absolute, no query) of virtual host HOST, over HTTPS or
 * plain HTTP only.  HOST resolves to RS_TEST_NETNS_WEB_ADDRESS. */
void          rs_test_netns_add_web_file   (RsTestNetns   *bed,
                                            gboolean       https,
                                            const char    *host,
                                            const char    *path,
                                            const char    *contents);
/* A "301 Moved Permanently" from PATH (any query) to LOCATION. */
void          rs_test_netns_add_web_redirect (RsTestNetns *bed,
                                            gboolean       https,
                                            const char    *host,
                                            const char    *path,
                                            const char    *location);
/* HOST resolves to RS_TEST_NETNS_HANG_ADDRESS, where ports 80, 443, 143,
 * 993, 587 and 465 accept connections and never answer. */
void          rs_test_netns_add_hanging_host (RsTestNetns *bed,
                                            const char    *host);

/* Queries for DOMAIN and every name under it get no answer ever: dnsmasq
 * passes them to a server at RS_TEST_NETNS_HANG_ADDRESS:53 that never
 * replies. */
void          rs_test_netns_add_unanswered_domain (RsTestNetns *bed,
                                            const char    *domain);

/* Makes the CA and the certificate, trusts the CA in the namespace and
 * starts dnsmasq, lighttpd and the hanging listeners. */
gboolean      rs_test_netns_start          (RsTestNetns   *bed,
                                            GError       **error);

const char   *rs_test_netns_get_name       (RsTestNetns   *bed);
RsTestCa     *rs_test_netns_get_ca         (RsTestNetns   *bed);
/* The certificate for every name of the bed, and its key. */
const char   *rs_test_netns_get_cert_file  (RsTestNetns   *bed);
const char   *rs_test_netns_get_key_file   (RsTestNetns   *bed);
/* lighttpd's access log: one line per request,
 * "HOST PORT \"METHOD PATH PROTOCOL\" STATUS". */
char         *rs_test_netns_read_web_log   (RsTestNetns   *bed);
/* Waits until the log holds TEXT: a request is logged as its answer ends,
 * which may be just after the client saw it. */
gboolean      rs_test_netns_wait_web_log   (RsTestNetns   *bed,
                                            const char    *text,
                                            guint          timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTestNetns, rs_test_netns_free)

G_END_DECLS
