/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-error"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-certificate.h"
#include "rs-error.h"

typedef struct
{
  RsService          service;
  char              *server_text;
  char              *response_code;
  RsCertificateInfo *certificate;
} RsErrorPrivate;

static void
rs_error_private_init (RsErrorPrivate *priv)
{
  priv->service = RS_SERVICE_NONE;
}

static void
rs_error_private_copy (const RsErrorPrivate *src,
                       RsErrorPrivate       *dest)
{
  dest->service = src->service;
  dest->server_text = g_strdup (src->server_text);
  dest->response_code = g_strdup (src->response_code);
  dest->certificate = src->certificate ? rs_certificate_info_copy (src->certificate) : NULL;
}

static void
rs_error_private_clear (RsErrorPrivate *priv)
{
  g_clear_pointer (&priv->server_text, g_free);
  g_clear_pointer (&priv->response_code, g_free);
  g_clear_pointer (&priv->certificate, rs_certificate_info_free);
}

G_DEFINE_EXTENDED_ERROR (RsError, rs_error)

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

/**
 * rs_service_to_string:
 *
 * Returns: (nullable): "imap", "smtp", or %NULL for no service
 */
const char *
rs_service_to_string (RsService service)
{
  switch (service)
    {
    case RS_SERVICE_IMAP: return "imap";
    case RS_SERVICE_SMTP: return "smtp";
    case RS_SERVICE_NONE:
    default:              return NULL;
    }
}

static RsErrorPrivate *
get_private (const GError *error)
{
  if (error == NULL || error->domain != RS_ERROR)
    return NULL;

  return rs_error_get_private (error);
}

RsService
rs_error_get_service (const GError *error)
{
  RsErrorPrivate *priv = get_private (error);

  return priv ? priv->service : RS_SERVICE_NONE;
}

void
rs_error_set_service (GError    *error,
                      RsService  service)
{
  RsErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);

  priv->service = service;
}

/**
 * rs_error_get_server_text:
 *
 * Returns: (nullable): the server's own words, exactly as it sent them
 */
const char *
rs_error_get_server_text (const GError *error)
{
  RsErrorPrivate *priv = get_private (error);

  return priv ? priv->server_text : NULL;
}

void
rs_error_set_server_text (GError     *error,
                          const char *server_text)
{
  RsErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);

  g_free (priv->server_text);
  priv->server_text = g_strdup (server_text);
}

/**
 * rs_error_get_response_code:
 *
 * Returns: (nullable): an IMAP response code ("AUTHENTICATIONFAILED") or
 *   an SMTP enhanced status code ("5.7.8")
 */
const char *
rs_error_get_response_code (const GError *error)
{
  RsErrorPrivate *priv = get_private (error);

  return priv ? priv->response_code : NULL;
}

void
rs_error_set_response_code (GError     *error,
                            const char *response_code)
{
  RsErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);

  g_free (priv->response_code);
  priv->response_code = g_strdup (response_code);
}

/**
 * rs_error_get_certificate:
 *
 * Returns: (transfer none) (nullable): the refused certificate
 */
RsCertificateInfo *
rs_error_get_certificate (const GError *error)
{
  RsErrorPrivate *priv = get_private (error);

  return priv ? priv->certificate : NULL;
}

/**
 * rs_error_set_certificate:
 * @info: (transfer full) (nullable):
 */
void
rs_error_set_certificate (GError            *error,
                          RsCertificateInfo *info)
{
  RsErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);

  g_clear_pointer (&priv->certificate, rs_certificate_info_free);
  priv->certificate = info;
}

static RsErrorCode
classify_io_error (const GError *io_error)
{
  if (io_error->domain == RS_ERROR)
    return io_error->code;

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return RS_ERROR_TIMEOUT;

  if (io_error->domain == G_TLS_ERROR)
    {
      if (io_error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return RS_ERROR_CERTIFICATE;
      if (io_error->code == G_TLS_ERROR_NOT_TLS)
        return RS_ERROR_TLS_UNAVAILABLE;
      return RS_ERROR_PROTOCOL;
    }

  /* Refused, unreachable, name not found, connection reset: the server
   * could not be reached, or went away. */
  return RS_ERROR_NETWORK;
}

/**
 * rs_error_new_from_io:
 * @io_error: an error from GIO, GResolver or GTls
 * @host: (nullable): the server, named in the message
 *
 * Classifies a transport failure for the user.  The original message is
 * kept as the server text (it is the closest thing to the server's own
 * words a transport failure has).
 *
 * Returns: (transfer full): an RS_ERROR
 */
GError *
rs_error_new_from_io (const GError *io_error,
                      RsService     service,
                      const char   *host,
                      guint16       port)
{
  RsErrorCode code;
  GError *error;
  g_autofree char *where = NULL;

  g_return_val_if_fail (io_error != NULL, NULL);

  code = classify_io_error (io_error);
  /* Translators: a server and its port, as in "mail.example.com, port 993" */
  where = g_strdup_printf (_("%s, port %u"), host ? host : "?", (guint)port);

  switch (code)
    {
    case RS_ERROR_TIMEOUT:
      error = g_error_new (RS_ERROR, code, _("The server did not answer in time (%s)"), where);
      break;

    case RS_ERROR_CERTIFICATE:
      error = g_error_new (RS_ERROR, code, _("The server’s certificate is not trusted (%s)"), where);
      break;

    case RS_ERROR_TLS_UNAVAILABLE:
      error = g_error_new (RS_ERROR, code, _("The server does not offer an encrypted connection (%s)"), where);
      break;

    case RS_ERROR_PROTOCOL:
      error = g_error_new (RS_ERROR, code, _("The encrypted connection failed (%s)"), where);
      break;

    case RS_ERROR_NETWORK:
    default:
      error = g_error_new (RS_ERROR, RS_ERROR_NETWORK, _("Could not reach the server (%s)"), where);
      break;
    }

  rs_error_set_service (error, service);
  rs_error_set_server_text (error, io_error->message);

  return error;
}
