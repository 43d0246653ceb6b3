/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RS_ERROR (rs_error_quark ())

/* Each code is something a user or an administrator can act on; the
 * GError message says what happened in plain words, and protocol layers
 * keep the server's own text next to it (see RsFailure in later issues). */
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

GQuark      rs_error_quark          (void);
const char *rs_error_code_to_string (RsErrorCode code);

G_END_DECLS
