/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-net"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-certificate.h"
#include "rs-error.h"
#include "rs-net.h"

typedef struct
{
  char      *host;
  guint16    port;
  RsService  service;
} ConnectData;

typedef struct
{
  char                 *host;
  guint16               port;
  RsService             service;
  GTlsDatabase         *ca_database;
  char                **pins;
  GTlsConnection       *tls;
  gulong                accept_handler;
  RsTlsTrust            trusted_by;
  GTlsCertificate      *refused_certificate;
  GTlsCertificateFlags  refused_errors;
} HandshakeData;

static GQuark
tls_trust_quark (void)
{
  return g_quark_from_static_string ("rs-net-tls-trust");
}

static void
connect_data_free (ConnectData *data)
{
  g_free (data->host);
  g_free (data);
}

static void
handshake_data_free (HandshakeData *data)
{
  if (data->tls != NULL)
    g_clear_signal_handler (&data->accept_handler, data->tls);
  g_clear_object (&data->tls);
  g_clear_object (&data->ca_database);
  g_clear_object (&data->refused_certificate);
  g_strfreev (data->pins);
  g_free (data->host);
  g_free (data);
}

/* Server settings and trust */

RsServerSettings *
rs_server_settings_new (const char *host,
                        guint16     port,
                        RsSecurity  security,
                        const char *username)
{
  RsServerSettings *settings = g_new0 (RsServerSettings, 1);

  settings->host = g_strdup (host);
  settings->port = port;
  settings->security = security;
  settings->username = g_strdup (username);

  return settings;
}

RsServerSettings *
rs_server_settings_copy (const RsServerSettings *settings)
{
  g_return_val_if_fail (settings != NULL, NULL);

  return rs_server_settings_new (settings->host, settings->port,
                                 settings->security, settings->username);
}

void
rs_server_settings_free (RsServerSettings *settings)
{
  if (settings == NULL)
    return;

  g_free (settings->host);
  g_free (settings->username);
  g_free (settings);
}

/**
 * rs_trust_new:
 * @ca_file: (nullable): a PEM file of CA certificates
 * @pinned_fingerprints: (nullable): SHA-256 fingerprints
 *
 * Returns: (transfer full): a new #RsTrust
 */
RsTrust *
rs_trust_new (const char         *ca_file,
              const char * const *pinned_fingerprints)
{
  RsTrust *trust = g_new0 (RsTrust, 1);

  trust->ca_file = g_strdup (ca_file);
  trust->pinned_fingerprints = g_strdupv ((char **)pinned_fingerprints);

  return trust;
}

RsTrust *
rs_trust_copy (const RsTrust *trust)
{
  g_return_val_if_fail (trust != NULL, NULL);

  return rs_trust_new (trust->ca_file, (const char * const *)trust->pinned_fingerprints);
}

void
rs_trust_free (RsTrust *trust)
{
  if (trust == NULL)
    return;

  g_free (trust->ca_file);
  g_strfreev (trust->pinned_fingerprints);
  g_free (trust);
}

/* Connecting */

static GError *
new_connect_error (const GError *io_error,
                   ConnectData  *data)
{
  GError *error;

  if (g_error_matches (io_error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    {
      error = g_error_new (RS_ERROR, RS_ERROR_NETWORK,
                           _("Could not find the server “%s”"), data->host);
      rs_error_set_service (error, data->service);
      rs_error_set_server_text (error, io_error->message);
      return error;
    }

  return rs_error_new_from_io (io_error, data->service, data->host, data->port);
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GSocketClient *client = G_SOCKET_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  ConnectData *data = g_task_get_task_data (task);

  connection = g_socket_client_connect_finish (client, result, &error);

  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, new_connect_error (error, data));
      return;
    }

  g_debug ("Connected to %s port %u", data->host, (guint)data->port);
  g_task_return_pointer (task, g_steal_pointer (&connection), g_object_unref);
}

/**
 * rs_net_connect_async:
 * @host: a host name or IP address literal
 * @timeout_seconds: how long to wait for the connection and, later, for
 *   every read and write; 0 waits for ever
 * @service: named in the error if the connection fails
 *
 * Opens a TCP connection.  Cancellation fails with %G_IO_ERROR_CANCELLED,
 * which callers treat as silent; every other failure is an RS_ERROR.
 */
void
rs_net_connect_async (const char          *host,
                      guint16              port,
                      guint                timeout_seconds,
                      RsService            service,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  ConnectData *data;

  g_return_if_fail (host != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_net_connect_async);

  data = g_new0 (ConnectData, 1);
  data->host = g_strdup (host);
  data->port = port;
  data->service = service;
  g_task_set_task_data (task, data, (GDestroyNotify)connect_data_free);

  if (*host == '\0' || port == 0)
    {
      GError *error = g_error_new (RS_ERROR, RS_ERROR_INPUT,
                                   _("A server name and port are needed"));
      rs_error_set_service (error, service);
      g_task_return_error (task, error);
      return;
    }

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, timeout_seconds);

  /* g_network_address_new() rather than connect_to_host(), which would
   * read a port out of an IPv6 literal. */
  address = g_network_address_new (host, port);
  g_socket_client_connect_async (client, address, cancellable,
                                 connected_cb, g_steal_pointer (&task));
}

/**
 * rs_net_connect_finish:
 *
 * Returns: (transfer full): the connection, or %NULL with @error set
 */
GSocketConnection *
rs_net_connect_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_net_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* TLS */

static GTlsDatabase *
load_ca_database (const char  *ca_file,
                  RsService    service,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GTlsDatabase *database;
  GList *certificates;

  certificates = g_tls_certificate_list_new_from_file (ca_file, &local_error);

  if (local_error == NULL && certificates == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The CA file “%s” contains no certificates"), ca_file);
      rs_error_set_service (*error, service);
      return NULL;
    }

  g_list_free_full (certificates, g_object_unref);

  if (local_error == NULL)
    database = g_tls_file_database_new (ca_file, &local_error);
  else
    database = NULL;

  if (database == NULL)
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("The CA file “%s” could not be read: %s"),
                   ca_file, local_error->message);
      rs_error_set_service (*error, service);
      return NULL;
    }

  return database;
}

static gboolean
verify_with_ca_file (HandshakeData        *data,
                     GTlsCertificate      *peer_certificate,
                     GTlsCertificateFlags *errors)
{
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GTlsCertificateFlags flags;

  identity = g_network_address_new (data->host, data->port);
  flags = g_tls_database_verify_chain (data->ca_database,
                                       peer_certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       identity,
                                       NULL,
                                       G_TLS_DATABASE_VERIFY_NONE,
                                       NULL,
                                       &error);

  if (error != NULL)
    {
      g_debug ("Could not verify against the CA file: %s", error->message);
      return FALSE;
    }

  if (flags == 0)
    return TRUE;

  /* It chains to the user's CA but is wrong in another way (expired, for
   * another name): that is the problem worth telling. */
  if ((flags & G_TLS_CERTIFICATE_UNKNOWN_CA) == 0)
    *errors &= ~G_TLS_CERTIFICATE_UNKNOWN_CA;
  *errors |= flags;

  return FALSE;
}

/* GLib emits this only when the system database did not validate the
 * certificate, on the main context that started the handshake. */
static gboolean
accept_certificate_cb (GTlsConnection       *connection,
                       GTlsCertificate      *peer_certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  HandshakeData *data = user_data;
  g_autofree char *fingerprint = NULL;

  g_assert (G_IS_TLS_CONNECTION (connection));
  g_assert (G_IS_TLS_CERTIFICATE (peer_certificate));

  if (data->ca_database != NULL &&
      verify_with_ca_file (data, peer_certificate, &errors))
    {
      g_debug ("Certificate of %s accepted: it chains to the CA file", data->host);
      data->trusted_by = RS_TLS_TRUST_CA_FILE;
      return TRUE;
    }

  fingerprint = rs_certificate_fingerprint (peer_certificate);
  if (fingerprint != NULL && data->pins != NULL &&
      g_strv_contains ((const char * const *)data->pins, fingerprint))
    {
      g_debug ("Certificate of %s accepted: its fingerprint is pinned", data->host);
      data->trusted_by = RS_TLS_TRUST_PINNED;
      return TRUE;
    }

  g_set_object (&data->refused_certificate, peer_certificate);
  data->refused_errors = errors;

  return FALSE;
}

static GError *
new_certificate_error (HandshakeData *data)
{
  g_auto(GStrv) problems = rs_certificate_describe_problems (data->refused_errors);
  const char *problem;
  GError *error;

  problem = problems[0] ? problems[0] : _("The certificate is not trusted");

  /* Translators: the first %s is a sentence about a certificate, then
   * the server and its port */
  error = g_error_new (RS_ERROR, RS_ERROR_CERTIFICATE, _("%s (%s, port %u)"),
                       problem, data->host, (guint)data->port);
  rs_error_set_service (error, data->service);
  rs_error_set_certificate (error,
                            rs_certificate_info_new (data->refused_certificate,
                                                     data->refused_errors));

  return error;
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTlsConnection *tls = G_TLS_CONNECTION (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  HandshakeData *data = g_task_get_task_data (task);

  g_clear_signal_handler (&data->accept_handler, tls);

  if (!g_tls_connection_handshake_finish (tls, result, &error))
    {
      if (data->refused_certificate != NULL)
        g_task_return_error (task, new_certificate_error (data));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, rs_error_new_from_io (error, data->service,
                                                         data->host, data->port));
      return;
    }

  g_object_set_qdata (G_OBJECT (tls), tls_trust_quark (), GUINT_TO_POINTER (data->trusted_by));
  g_debug ("TLS with %s established", data->host);

  g_task_return_pointer (task, g_object_ref (tls), g_object_unref);
}

/**
 * rs_net_tls_handshake_async:
 * @base: a connected stream
 * @host: the name the certificate must carry
 * @trust: (nullable): a CA file and pinned certificates the user trusts,
 *   besides the system's authorities
 *
 * Wraps @base in TLS and performs the handshake.  Checks are never
 * relaxed: a certificate is accepted when the system validates it, when
 * it validates against @trust's CA file, or when its SHA-256 fingerprint
 * is pinned in @trust.  Time-outs come from @base's socket.
 */
void
rs_net_tls_handshake_async (GIOStream           *base,
                            const char          *host,
                            guint16              port,
                            const RsTrust       *trust,
                            RsService            service,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;
  HandshakeData *data;

  g_return_if_fail (G_IS_IO_STREAM (base));
  g_return_if_fail (host != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_net_tls_handshake_async);

  data = g_new0 (HandshakeData, 1);
  data->host = g_strdup (host);
  data->port = port;
  data->service = service;
  data->trusted_by = RS_TLS_TRUST_SYSTEM;
  g_task_set_task_data (task, data, (GDestroyNotify)handshake_data_free);

  if (trust != NULL && trust->ca_file != NULL && trust->ca_file[0] != '\0')
    {
      data->ca_database = load_ca_database (trust->ca_file, service, &error);
      if (data->ca_database == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  if (trust != NULL && trust->pinned_fingerprints != NULL)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      for (guint i = 0; trust->pinned_fingerprints[i] != NULL; i++)
        {
          g_autofree char *pin = NULL;

          if (rs_fingerprint_normalize (trust->pinned_fingerprints[i], &pin))
            g_strv_builder_add (builder, pin);
          else
            g_message ("Ignoring a pinned fingerprint that is not SHA-256");
        }

      data->pins = g_strv_builder_end (builder);
    }

  identity = g_network_address_new (host, port);
  tls = g_tls_client_connection_new (base, identity, &error);
  if (tls == NULL)
    {
      g_task_return_error (task, rs_error_new_from_io (error, service, host, port));
      return;
    }

  data->tls = G_TLS_CONNECTION (g_object_ref (tls));
  data->accept_handler = g_signal_connect (tls, "accept-certificate",
                                           G_CALLBACK (accept_certificate_cb), data);

  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
                                    G_PRIORITY_DEFAULT,
                                    cancellable,
                                    handshake_cb,
                                    g_steal_pointer (&task));
}

/**
 * rs_net_tls_handshake_finish:
 *
 * Returns: (transfer full): the #GTlsClientConnection, or %NULL with
 *   @error set
 */
GIOStream *
rs_net_tls_handshake_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_net_tls_handshake_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * rs_net_tls_get_trust:
 * @tls: a connection returned by rs_net_tls_handshake_finish()
 *
 * Returns: why the server's certificate was trusted
 */
RsTlsTrust
rs_net_tls_get_trust (GIOStream *tls)
{
  g_return_val_if_fail (G_IS_TLS_CONNECTION (tls), RS_TLS_TRUST_SYSTEM);

  return GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (tls), tls_trust_quark ()));
}
