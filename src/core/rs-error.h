/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RS_ERROR (rs_error_quark ())

/* Each code is something a user or an administrator can act on.  The
 * GError message says what happened in plain words; RS_ERROR is an
 * extended error domain, so the failing service, the server's own words,
 * its response code and the offending certificate travel with it. */
typedef enum
{
  RS_ERROR_INPUT,            /* a field or argument is not valid */
  RS_ERROR_AUTHENTICATION,   /* the server refused the credentials */
  RS_ERROR_CERTIFICATE,      /* the server's certificate is not trusted */
  RS_ERROR_NETWORK,          /* the server could not be reached */
  RS_ERROR_TIMEOUT,          /* the server did not answer in time */
  RS_ERROR_TLS_UNAVAILABLE,  /* the server does not offer encryption */
  RS_ERROR_PROTOCOL,         /* the server said something we do not understand */
  RS_ERROR_KEYRING,          /* the Secret Service is missing or locked */
  RS_ERROR_STORAGE,          /* the settings file could not be read or written */
} RsErrorCode;

typedef enum
{
  RS_SERVICE_NONE,
  RS_SERVICE_IMAP,  /* receiving */
  RS_SERVICE_SMTP,  /* sending */
} RsService;

typedef struct _RsCertificateInfo RsCertificateInfo;

GQuark             rs_error_quark             (void);
const char        *rs_error_code_to_string    (RsErrorCode        code);
const char        *rs_service_to_string       (RsService          service);

RsService          rs_error_get_service       (const GError      *error);
void               rs_error_set_service       (GError            *error,
                                               RsService          service);
const char        *rs_error_get_server_text   (const GError      *error);
void               rs_error_set_server_text   (GError            *error,
                                               const char        *server_text);
const char        *rs_error_get_response_code (const GError      *error);
void               rs_error_set_response_code (GError            *error,
                                               const char        *response_code);
RsCertificateInfo *rs_error_get_certificate   (const GError      *error);
void               rs_error_set_certificate   (GError            *error,
                                               RsCertificateInfo *info);

GError            *rs_error_new_from_io       (const GError      *io_error,
                                               RsService          service,
                                               const char        *host,
                                               guint16            port);

G_END_DECLS
