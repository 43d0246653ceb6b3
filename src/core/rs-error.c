/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-error"

#include "config.h"

#include "rs-error.h"

G_DEFINE_QUARK (rs-error-quark, rs_error)

/**
 * rs_error_code_to_string:
 *
 * Returns: the stable machine-readable name of @code, as printed by
 *   `retailsphere-accounts --json` in `error.kind`.
 */
const char *
rs_error_code_to_string (RsErrorCode code)
{
  switch (code)
    {
    case RS_ERROR_INPUT:           return "input";
    case RS_ERROR_AUTHENTICATION:  return "authentication";
    case RS_ERROR_CERTIFICATE:     return "certificate";
    case RS_ERROR_NETWORK:         return "network";
    case RS_ERROR_TIMEOUT:         return "timeout";
    case RS_ERROR_TLS_UNAVAILABLE: return "tls-unavailable";
    case RS_ERROR_PROTOCOL:        return "protocol";
    case RS_ERROR_KEYRING:         return "keyring";
    case RS_ERROR_STORAGE:         return "storage";
    default:                       return "unknown";
    }
}
