/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rs-test-netns.h"
#include "rs-test-server.h"

G_BEGIN_DECLS

/*
 * The test domains of the detection tests, all in one network namespace
 * (tests/harness/rs-netns-run).  Every address ends in @DOMAIN; the web
 * server is RS_TEST_NETNS_WEB_ADDRESS, Dovecot (143, 993) and Exim (587,
 * 465) listen at DETECT_MAIL_ADDRESS with a certificate for every name.
 *
 *  ac-only.test      autoconfig.D: in.D 993 SSL, out.D 465 SSL, %EMAILADDRESS%
 *  wk-only.test      D/.well-known: in.D 143 STARTTLS, out.D 587 STARTTLS,
 *                    %EMAILLOCALPART%
 *  ispdb-only.test   the ISPDB (autoconfig.thunderbird.net): in.D 993, out.D 465
 *  srv-only.test     _imaps: imap-20.D (priority 20), imap-10.D (10);
 *                    _imap: plain.D 143 (0); _submissions: "."; _submission:
 *                    submit.D 587
 *  google-mx.test    MX aspmx.l.google.com (1), alt1.aspmx.l.google.com (5)
 *  guess-only.test   imap.D and smtp.D, real servers, nothing else
 *  conflict.test     autoconfig says in-a.D / out-a.D, SRV says in-b.D / out-b.D
 *  hang.test         autoconfig.D and D accept and never answer; SRV in.D 993,
 *                    out.D 465
 *  hostile.test      autoconfig.D serves a "billion laughs" file; the
 *                    well-known file (in.D 993, out.D 465) is fine
 *  redirect.test     D/.well-known answers 301 to https://D/moved/config-v1.1.xml
 *                    (in.D 993, out.D 465)
 *  http-only.test    autoconfig.D over plain HTTP only (in.D 993, out.D 465)
 *  nothing.test      no name at all
 *  blackhole.test    its name server never answers
 *  fast.test         autoconfig.D answers; imap.D, smtp.D, mail.D, D and the
 *                    SRV targets accept and never answer
 *  downgrade.test    D/.well-known answers 301 to plain
 *                    http://D/moved/config-v1.1.xml (in.D 993, out.D 465)
 *  ms365-mx.test     MX ms365-mx-test.mail.protection.outlook.com
 */

#define DETECT_MAIL_ADDRESS  "127.0.0.20"
#define DETECT_NOWHERE       "127.0.0.77"   /* nothing listens here */

typedef struct
{
  RsTestNetns  *net;
  RsTestServer *dovecot;
  RsTestServer *exim;
} DetectBed;

/* NULL with REASON when the bed cannot run here (a skip); NULL with ERROR
 * when it should have and failed. */
DetectBed *detect_bed_start (char    **reason,
                             GError  **error);
void       detect_bed_free  (DetectBed *bed);

char      *detect_config_xml (const char *domain,
                              const char *imap_host,
                              guint16     imap_port,
                              const char *imap_socket,
                              const char *smtp_host,
                              guint16     smtp_port,
                              const char *smtp_socket,
                              const char *username);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DetectBed, detect_bed_free)

G_END_DECLS
