/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Real mail servers for tests.
 *
 * Each server runs in the foreground as a child of the test process, on
 * free loopback ports (127.0.0.1), inside its own temporary folder.  It is
 * stopped by rs_test_server_stop() / rs_test_server_free(), and — because
 * the child asks the kernel for SIGTERM when its parent dies — also when the
 * test aborts.  Start servers from the test's main thread.
 *
 *   g_autoptr(RsTestServer) imap = NULL;
 *   g_autoptr(GError) error = NULL;
 *
 *   if (!rs_test_dovecot_available (&reason))
 *     { g_test_skip (reason); return; }
 *   imap = rs_test_dovecot_start (NULL, &error);
 *   g_assert_no_error (error);
 *   port = rs_test_server_get_port (imap, "imaps");
 */

typedef enum
{
  RS_TEST_CERT_VALID,          /* signed by the test CA, for localhost and 127.0.0.1 */
  RS_TEST_CERT_EXPIRED,        /* signed by the test CA, expired in 2021 */
  RS_TEST_CERT_NOT_YET_VALID,  /* signed by the test CA, valid from 2090 */
  RS_TEST_CERT_WRONG_HOST,     /* signed by the test CA, for wrong.example.test only */
  RS_TEST_CERT_SELF_SIGNED,    /* for localhost and 127.0.0.1, signed by nobody */
} RsTestCert;

/* A test certificate authority and one server certificate of each kind,
 * made with the openssl command in a folder (NULL: a temporary folder that
 * is removed with the last reference).  All files are PEM.  Servers make
 * their own unless given one, so tests can share one CA between servers. */
typedef struct _RsTestCa RsTestCa;

RsTestCa     *rs_test_ca_new            (const char  *folder,
                                         GError     **error);
RsTestCa     *rs_test_ca_ref            (RsTestCa    *ca);
void          rs_test_ca_unref          (RsTestCa    *ca);
const char   *rs_test_ca_get_ca_file    (RsTestCa    *ca);
const char   *rs_test_ca_get_cert_file  (RsTestCa    *ca,
                                         RsTestCert   cert);
const char   *rs_test_ca_get_key_file   (RsTestCa    *ca,
                                         RsTestCert   cert);
GTlsDatabase *rs_test_ca_new_database   (RsTestCa    *ca,
                                         GError     **error);
/* Issues a certificate for a list of host names (or IP addresses), the
 * first also its common name, valid 2024–2099.  NAME names its files in the
 * CA's folder. */
gboolean      rs_test_ca_issue          (RsTestCa            *ca,
                                         const char          *name,
                                         const char * const  *hosts,
                                         char               **cert_file,
                                         char               **key_file,
                                         GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTestCa, rs_test_ca_unref)

typedef struct _RsTestServer RsTestServer;

typedef struct
{
  RsTestCert    certificate;  /* the certificate the server presents */
  gboolean      no_starttls;  /* the "imap" port offers no STARTTLS (a second
                               * Dovecot with ssl = no serves it) */
  const char   *user;         /* NULL: "test@example.test" */
  const char   *password;     /* NULL: a random one; no ':' or newline */
  RsTestCa     *ca;           /* NULL: a new CA in the server's folder */
  /* For a test network namespace (see rs-netns-run): */
  const char   *address;      /* NULL: 127.0.0.1; or another loopback address */
  gboolean      standard_ports; /* 143 and 993 instead of free ports */
  const char   *cert_file;    /* with key_file: presented instead of certificate */
  const char   *key_file;
} RsTestDovecotOptions;

typedef struct
{
  RsTestCert    certificate;  /* the certificate the server presents */
  gboolean      no_starttls;  /* the "submission" port offers no STARTTLS */
  const char   *user;         /* NULL: deliver_to's user, or "test@example.test" */
  const char   *password;     /* NULL: deliver_to's password, or a random one */
  RsTestCa     *ca;           /* NULL: deliver_to's CA, or a new one */
  RsTestServer *deliver_to;   /* a Dovecot server: mail for its user goes to
                               * its INBOX (its maildir); everything else to
                               * Exim's own maildir */
  /* For a test network namespace (see rs-netns-run): */
  const char   *address;      /* NULL: 127.0.0.1; or another loopback address */
  gboolean      standard_ports; /* 587 and 465 instead of free ports */
  const char   *cert_file;    /* with key_file: presented instead of certificate */
  const char   *key_file;
} RsTestEximOptions;

gboolean      rs_test_dovecot_available    (char                       **reason);
gboolean      rs_test_exim_available       (char                       **reason);
/* For a test that talks to Dovecot and Exim with the keyring of the
 * private session of tests/harness/rs-session-run: TRUE when it can run;
 * else it skips the test (g_test_skip, with the reason) and is FALSE. */
gboolean      rs_test_require_session_mail_servers (void);

/* IMAP: ports "imaps" (implicit TLS) and "imap" (STARTTLS, or plain with
 * no_starttls).  Log: every login and logout, with
 * "in=… out=… hdr_count=… hdr_bytes=… body_count=… body_bytes=…", and
 * mail_log events.  A failed login is answered after 0.5 s; the next login
 * from 127.0.0.1 then waits some seconds more (Dovecot's auth penalty). */
RsTestServer *rs_test_dovecot_start        (const RsTestDovecotOptions  *opts,
                                            GError                     **error);
/* SMTP: ports "smtps" (implicit TLS) and "submission" (STARTTLS).  AUTH
 * PLAIN and LOGIN, offered only over TLS.  Only authenticated senders may
 * send. */
RsTestServer *rs_test_exim_start           (const RsTestEximOptions     *opts,
                                            GError                     **error);

/* Stores a message (RFC 5322 text, "\n" or "\r\n" line ends) in a mailbox
 * of a Dovecot server, with doveadm save. */
gboolean      rs_test_dovecot_append       (RsTestServer               *server,
                                            const char                 *mailbox,
                                            const char                 *message,
                                            GError                    **error);
/* Runs doveadm with the configuration of a Dovecot server and ARGS (a
 * NULL-terminated list).  OUTPUT, when not NULL, gets its standard output;
 * an error carries its standard error. */
gboolean      rs_test_dovecot_doveadm      (RsTestServer               *server,
                                            const char * const         *args,
                                            char                      **output,
                                            GError                    **error);
/* Waits (a little) until at least MIN_SESSIONS IMAP sessions have logged
 * out of a Dovecot server, and fails the test unless every session in its
 * log fetched no body at all. */
void          rs_test_dovecot_assert_no_bodies (RsTestServer *server,
                                                guint         min_sessions);

const char   *rs_test_server_get_host      (RsTestServer *server);
guint16       rs_test_server_get_port      (RsTestServer *server,
                                            const char   *name);
const char   *rs_test_server_get_folder    (RsTestServer *server);
const char   *rs_test_server_get_log_path  (RsTestServer *server);
char         *rs_test_server_read_log      (RsTestServer *server);
const char   *rs_test_server_get_maildir   (RsTestServer *server);
const char   *rs_test_server_get_user      (RsTestServer *server);
const char   *rs_test_server_get_password  (RsTestServer *server);
RsTestCa     *rs_test_server_get_ca        (RsTestServer *server);
const char   *rs_test_server_get_ca_file   (RsTestServer *server);
const char   *rs_test_server_get_cert_file (RsTestServer *server);
GPid          rs_test_server_get_pid       (RsTestServer *server);
gboolean      rs_test_server_is_running    (RsTestServer *server);
void          rs_test_server_stop          (RsTestServer *server);
void          rs_test_server_free          (RsTestServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTestServer, rs_test_server_free)

/* Helpers for tests about servers that went away. */
gboolean      rs_test_port_is_listening    (guint16       port);
gboolean      rs_test_address_is_listening (const char   *address,
                                            guint16       port);
gboolean      rs_test_pid_is_gone          (GPid          pid);

G_END_DECLS
