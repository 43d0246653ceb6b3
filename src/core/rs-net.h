/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-account.h"
#include "rs-error.h"

G_BEGIN_DECLS

/* Where and how to reach one service.  (The typedef is in rs-account.h.) */
struct _RsServerSettings
{
  char       *host;
  guint16     port;
  RsSecurity  security;
  char       *username;
};

/* What, beyond the system's CAs, the user has chosen to trust for an
 * account.  Certificate checks are never turned off: a certificate is
 * accepted when the system trusts it, when it chains to @ca_file, or when
 * its SHA-256 fingerprint is one of @pinned_fingerprints. */
struct _RsTrust
{
  char  *ca_file;               /* nullable: a PEM file of CA certificates */
  char **pinned_fingerprints;   /* nullable: lowercase hex SHA-256, no colons */
};

#define RS_DEFAULT_TIMEOUT_SECONDS 20

RsServerSettings *rs_server_settings_new   (const char             *host,
                                            guint16                 port,
                                            RsSecurity              security,
                                            const char             *username);
RsServerSettings *rs_server_settings_copy  (const RsServerSettings *settings);
void              rs_server_settings_free  (RsServerSettings       *settings);
RsTrust          *rs_trust_copy            (const RsTrust          *trust);
void              rs_trust_free            (RsTrust                *trust);

/* Opens a TCP connection with a timeout (@timeout_seconds applies to the
 * connect and, through g_socket_set_timeout(), to every later read and
 * write).  Failures come back as RS_ERROR (network / timeout) with @service
 * attached. */
void              rs_net_connect_async     (const char             *host,
                                            guint16                 port,
                                            guint                   timeout_seconds,
                                            RsService               service,
                                            GCancellable           *cancellable,
                                            GAsyncReadyCallback     callback,
                                            gpointer                user_data);
GSocketConnection *rs_net_connect_finish   (GAsyncResult           *result,
                                            GError                **error);

/* Wraps @base in client-side TLS for @host and performs the handshake,
 * verifying per @trust.  A refused certificate fails with
 * RS_ERROR_CERTIFICATE carrying an RsCertificateInfo (fingerprint,
 * subject, issuer, dates, problems).  Returns the GTlsClientConnection. */
void              rs_net_tls_handshake_async  (GIOStream           *base,
                                               const char          *host,
                                               guint16              port,
                                               const RsTrust       *trust,
                                               RsService            service,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GIOStream        *rs_net_tls_handshake_finish (GAsyncResult        *result,
                                               GError             **error);

/* Why a TLS connection made by rs_net_tls_handshake_async() was trusted,
 * for the Security view. */
typedef enum
{
  RS_TLS_TRUST_SYSTEM,   /* the system's certificate authorities vouch for it */
  RS_TLS_TRUST_CA_FILE,  /* it chains to the account's CA file */
  RS_TLS_TRUST_PINNED,   /* the user chose to trust this very certificate */
} RsTlsTrust;

RsTrust          *rs_trust_new                (const char          *ca_file,
                                               const char * const  *pinned_fingerprints);
RsTlsTrust        rs_net_tls_get_trust        (GIOStream           *tls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsServerSettings, rs_server_settings_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTrust, rs_trust_free)

G_END_DECLS
