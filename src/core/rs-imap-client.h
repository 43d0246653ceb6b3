/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-certificate.h"
#include "rs-net.h"

G_BEGIN_DECLS

#define RS_IMAP_CLIENT_NAME "Retailsphere Settings"

/* The longest header section (of the allowlisted fields) kept per message. */
#define RS_IMAP_DEFAULT_MAX_HEADER_SIZE (64 * 1024)

/* Servers may log out an idle client after 30 minutes (RFC 2177): one
 * IDLE lasts at most this long before it is ended with DONE. */
#define RS_IMAP_IDLE_MAX_SECONDS (28 * 60)

/* What EXAMINE or STATUS tells about a mailbox. */
typedef struct
{
  guint32 uidvalidity;
  guint32 uidnext;
  guint32 exists;         /* EXISTS, or STATUS MESSAGES */
  guint64 highestmodseq;  /* 0: no CONDSTORE, or the mailbox has no mod-sequences */
} RsImapMailboxState;

/* Called once per message of a header fetch, as its answer arrives.
 * @headers holds the header fields exactly as the server sent them. */
typedef void (*RsImapHeadersFunc) (guint32   uid,
                                   GBytes   *headers,
                                   gpointer  user_data);

#define RS_TYPE_IMAP_CLIENT (rs_imap_client_get_type ())
G_DECLARE_FINAL_TYPE (RsImapClient, rs_imap_client, RS, IMAP_CLIENT, GObject)

RsImapClient        *rs_imap_client_new                     (const RsServerSettings  *settings,
                                                             const RsTrust           *trust);
void                 rs_imap_client_set_timeout             (RsImapClient            *self,
                                                             guint                    seconds);
guint                rs_imap_client_get_timeout             (RsImapClient            *self);

void                 rs_imap_client_connect_async           (RsImapClient            *self,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_connect_finish          (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             GError                 **error);
void                 rs_imap_client_authenticate_async      (RsImapClient            *self,
                                                             const char              *password,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_authenticate_finish     (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             GError                 **error);
void                 rs_imap_client_logout_async            (RsImapClient            *self,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_logout_finish           (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             GError                 **error);

/* After sign-in.  Each needs the connection free (one operation at a
 * time).  A broken, timed-out or cancelled exchange closes the connection
 * (its state is unknown); a NO or BAD leaves it open. */
void                 rs_imap_client_examine_async           (RsImapClient            *self,
                                                             const char              *mailbox,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_examine_finish          (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             RsImapMailboxState      *state,
                                                             GError                 **error);
void                 rs_imap_client_status_async            (RsImapClient            *self,
                                                             const char              *mailbox,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_status_finish           (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             RsImapMailboxState      *state,
                                                             GError                 **error);
void                 rs_imap_client_noop_async              (RsImapClient            *self,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_noop_finish             (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             GError                 **error);
void                 rs_imap_client_fetch_headers_async     (RsImapClient            *self,
                                                             const guint32           *uids,
                                                             guint                    n_uids,
                                                             const char * const      *fields,
                                                             RsImapHeadersFunc        func,
                                                             gpointer                 func_data,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_fetch_headers_finish    (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             GError                 **error);
void                 rs_imap_client_idle_async              (RsImapClient            *self,
                                                             guint                    seconds,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_client_idle_finish             (RsImapClient            *self,
                                                             GAsyncResult            *result,
                                                             gboolean                *new_mail,
                                                             GError                 **error);

void                 rs_imap_client_set_max_header_size     (RsImapClient            *self,
                                                             gsize                    max_size);
gsize                rs_imap_client_get_max_header_size     (RsImapClient            *self);
guint                rs_imap_client_get_n_refused_items     (RsImapClient            *self);
guint                rs_imap_client_get_n_oversized         (RsImapClient            *self);
gboolean             rs_imap_client_is_selected             (RsImapClient            *self);

const char * const  *rs_imap_client_get_capabilities        (RsImapClient            *self);
gboolean             rs_imap_client_has_capability          (RsImapClient            *self,
                                                             const char              *capability);
const char          *rs_imap_client_get_alert               (RsImapClient            *self);
const char          *rs_imap_client_get_greeting            (RsImapClient            *self);
gboolean             rs_imap_client_is_encrypted            (RsImapClient            *self);
gboolean             rs_imap_client_is_authenticated        (RsImapClient            *self);
GTlsProtocolVersion  rs_imap_client_get_tls_protocol_version (RsImapClient           *self);
const char          *rs_imap_client_get_tls_ciphersuite_name (RsImapClient           *self);
RsCertificateInfo   *rs_imap_client_get_peer_certificate    (RsImapClient            *self);
RsTlsTrust           rs_imap_client_get_tls_trust           (RsImapClient            *self);

/* The sign-in's connection test: connect, authenticate, log out. */
void                 rs_imap_check_async                    (const RsServerSettings  *settings,
                                                             const RsTrust           *trust,
                                                             const char              *password,
                                                             GCancellable            *cancellable,
                                                             GAsyncReadyCallback      callback,
                                                             gpointer                 user_data);
gboolean             rs_imap_check_finish                   (GAsyncResult            *result,
                                                             GError                 **error);
RsImapClient        *rs_imap_check_get_client               (GAsyncResult            *result);

G_END_DECLS
