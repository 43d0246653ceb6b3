/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-certificate.h"
#include "rs-net.h"

G_BEGIN_DECLS

#define RS_IMAP_CLIENT_NAME "Retailsphere Settings"

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
