/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-certificate.h"
#include "rs-error.h"
#include "rs-net.h"

G_BEGIN_DECLS

/* Bounds on what a server may send us in one reply. */
#define RS_SMTP_MAX_LINE_LENGTH  4096   /* bytes, CRLF included */
#define RS_SMTP_MAX_REPLY_LINES  128

/* One complete SMTP reply (RFC 5321 §4.2), possibly of several lines. */
typedef struct
{
  guint   code;           /* 220, 250, 535, … */
  char   *enhanced_code;  /* RFC 3463 "5.7.8" when the server gave one, else NULL */
  char   *text;           /* the reply exactly as sent, lines joined by "\n", CRLF
                           * dropped, made valid UTF-8: the server's own words */
  char  **lines;          /* the text of each line after "250-" / "250 " */
} RsSmtpReply;

RsSmtpReply  *rs_smtp_reply_parse  (const char   *buffer,
                                    gsize         length,
                                    gsize        *consumed,
                                    GError      **error);
void          rs_smtp_reply_free   (RsSmtpReply  *reply);

GBytes       *rs_smtp_dot_stuff    (GBytes       *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsSmtpReply, rs_smtp_reply_free)

#define RS_TYPE_SMTP_CLIENT (rs_smtp_client_get_type ())
G_DECLARE_FINAL_TYPE (RsSmtpClient, rs_smtp_client, RS, SMTP_CLIENT, GObject)

RsSmtpClient        *rs_smtp_client_new                      (const RsServerSettings  *settings,
                                                              const RsTrust           *trust);
guint                rs_smtp_client_get_timeout              (RsSmtpClient            *self);
void                 rs_smtp_client_set_timeout              (RsSmtpClient            *self,
                                                              guint                    timeout_seconds);

void                 rs_smtp_client_connect_async            (RsSmtpClient            *self,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
gboolean             rs_smtp_client_connect_finish           (RsSmtpClient            *self,
                                                              GAsyncResult            *result,
                                                              GError                 **error);
void                 rs_smtp_client_authenticate_async       (RsSmtpClient            *self,
                                                              const char              *password,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
gboolean             rs_smtp_client_authenticate_finish      (RsSmtpClient            *self,
                                                              GAsyncResult            *result,
                                                              GError                 **error);
void                 rs_smtp_client_send_async               (RsSmtpClient            *self,
                                                              const char              *from,
                                                              const char * const      *recipients,
                                                              GBytes                  *message,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
gboolean             rs_smtp_client_send_finish              (RsSmtpClient            *self,
                                                              GAsyncResult            *result,
                                                              GError                 **error);
void                 rs_smtp_client_quit_async               (RsSmtpClient            *self,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
gboolean             rs_smtp_client_quit_finish              (RsSmtpClient            *self,
                                                              GAsyncResult            *result,
                                                              GError                 **error);

gboolean             rs_smtp_client_is_connected             (RsSmtpClient            *self);
gboolean             rs_smtp_client_is_authenticated         (RsSmtpClient            *self);
const char          *rs_smtp_client_get_greeting             (RsSmtpClient            *self);
const char * const  *rs_smtp_client_get_capabilities         (RsSmtpClient            *self);
gboolean             rs_smtp_client_has_capability           (RsSmtpClient            *self,
                                                              const char              *keyword);
char               **rs_smtp_client_dup_auth_mechanisms      (RsSmtpClient            *self);
const char          *rs_smtp_client_get_auth_mechanism       (RsSmtpClient            *self);
GTlsProtocolVersion  rs_smtp_client_get_tls_protocol_version (RsSmtpClient            *self);
const char          *rs_smtp_client_get_tls_ciphersuite_name (RsSmtpClient            *self);
RsCertificateInfo   *rs_smtp_client_get_peer_certificate     (RsSmtpClient            *self);
RsTlsTrust           rs_smtp_client_get_tls_trust            (RsSmtpClient            *self);

/* The sign-in's connection test: connect, authenticate, quit. */
void                 rs_smtp_check_async                     (const RsServerSettings  *settings,
                                                              const RsTrust           *trust,
                                                              const char              *password,
                                                              GCancellable            *cancellable,
                                                              GAsyncReadyCallback      callback,
                                                              gpointer                 user_data);
gboolean             rs_smtp_check_finish                    (GAsyncResult            *result,
                                                              GError                 **error);

G_END_DECLS
