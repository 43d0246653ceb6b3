/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-imap-client"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-error.h"
#include "rs-imap-client.h"
#include "rs-imap-parser.h"
#include "rs-utils.h"

#define READ_CHUNK 4096

struct _RsImapClient
{
  GObject              parent_instance;

  RsServerSettings    *settings;
  RsTrust             *trust;
  guint                timeout;

  GSocketConnection   *connection;   /* the TCP connection */
  GIOStream           *stream;       /* connection, or TLS over it */
  RsImapParser        *parser;
  GByteArray          *pending;      /* read, not yet parsed: at most one chunk */
  guint8              *read_buffer;
  gboolean             busy;
  gboolean             encrypted;
  gboolean             authenticated;
  guint                next_tag;

  GStrv                capabilities;
  gboolean             capabilities_known;
  char                *greeting;
  char                *alert;
  char                *bye_text;

  GTlsProtocolVersion  tls_protocol;
  char                *tls_ciphersuite;
  RsCertificateInfo   *peer_certificate;
  RsTlsTrust           tls_trust;
};

typedef struct
{
  GCancellable *cancellable;   /* handed to the I/O */
  GCancellable *parent;
  gulong        parent_handler;
  guint         timeout_id;
  gboolean      fired;
} Watchdog;

typedef struct
{
  RsImapCommand *command;
  char          *tag;
  GPtrArray     *segments;
  guint          next_segment;
} CommandData;

typedef struct
{
  RsImapClient *client;
  char         *password;
} CheckData;

G_DEFINE_FINAL_TYPE (RsImapClient, rs_imap_client, G_TYPE_OBJECT)

static void read_response_step (GTask *task);

/* -------------------------------------------------------------- watchdog */

static void
watchdog_parent_cancelled_cb (GCancellable *parent,
                              gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean
watchdog_fired_cb (gpointer user_data)
{
  Watchdog *wd = user_data;

  wd->fired = TRUE;
  wd->timeout_id = 0;
  g_cancellable_cancel (wd->cancellable);

  return G_SOURCE_REMOVE;
}

/* Every read, write and handshake gets at most @seconds without progress. */
static Watchdog *
watchdog_start (GCancellable *parent,
                guint         seconds)
{
  Watchdog *wd = g_new0 (Watchdog, 1);

  wd->cancellable = g_cancellable_new ();
  if (parent != NULL)
    {
      wd->parent = g_object_ref (parent);
      wd->parent_handler = g_cancellable_connect (parent,
                                                  G_CALLBACK (watchdog_parent_cancelled_cb),
                                                  wd->cancellable, NULL);
    }
  wd->timeout_id = g_timeout_add (seconds * 1000, watchdog_fired_cb, wd);

  return wd;
}

/* Returns whether the time ran out. */
static gboolean
watchdog_stop (Watchdog *wd)
{
  gboolean fired = wd->fired;

  g_clear_handle_id (&wd->timeout_id, g_source_remove);
  if (wd->parent != NULL)
    {
      g_cancellable_disconnect (wd->parent, wd->parent_handler);
      g_clear_object (&wd->parent);
    }
  g_clear_object (&wd->cancellable);
  g_free (wd);

  return fired;
}

/* ---------------------------------------------------------------- errors */

static GError *
client_error (RsImapClient *self,
              RsErrorCode   code,
              const char   *message)
{
  GError *error = g_error_new_literal (RS_ERROR, code, message);

  rs_error_set_service (error, RS_SERVICE_IMAP);

  return error;
}

/* @io_error: (transfer full) */
static GError *
convert_io_error (RsImapClient *self,
                  GError       *io_error,
                  gboolean      timed_out)
{
  GError *error;

  if (timed_out)
    {
      g_autoptr(GError) timeout = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                               "No answer within %u s", self->timeout);

      g_clear_error (&io_error);
      return rs_error_new_from_io (timeout, RS_SERVICE_IMAP,
                                   self->settings->host, self->settings->port);
    }

  if (io_error->domain == RS_ERROR || g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return io_error;

  error = rs_error_new_from_io (io_error, RS_SERVICE_IMAP,
                                self->settings->host, self->settings->port);
  g_error_free (io_error);

  return error;
}

/* An error carrying what the server said: the tagged line's text, any
 * [ALERT] it sent along, and the response code. */
static GError *
response_error (RsImapClient         *self,
                RsErrorCode           code,
                const char           *message,
                const RsImapResponse *response)
{
  GError *error = client_error (self, code, message);
  const char *text = response->text != NULL ? response->text : "";

  if (self->alert != NULL && strstr (text, self->alert) == NULL)
    {
      g_autofree char *both = *text != '\0' ? g_strdup_printf ("%s\n%s", self->alert, text)
                                            : g_strdup (self->alert);

      rs_error_set_server_text (error, both);
    }
  else
    rs_error_set_server_text (error, text);

  rs_error_set_response_code (error, response->code);

  return error;
}

/* --------------------------------------------------------------- helpers */

static void
abort_connection (RsImapClient *self)
{
  /* Close the socket itself: a TLS close could wait on a peer that no
   * longer answers. */
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);

  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_byte_array_set_size (self->pending, 0);
  rs_imap_parser_reset (self->parser);
  self->authenticated = FALSE;
}

static void
reset_state (RsImapClient *self)
{
  abort_connection (self);
  self->encrypted = FALSE;
  self->capabilities_known = FALSE;
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->alert, g_free);
  g_clear_pointer (&self->bye_text, g_free);
  g_clear_pointer (&self->tls_ciphersuite, g_free);
  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);
  self->tls_protocol = G_TLS_PROTOCOL_VERSION_UNKNOWN;
  self->tls_trust = RS_TLS_TRUST_SYSTEM;
}

static void
set_capabilities (RsImapClient      *self,
                  const RsImapValue *list,
                  guint              first)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = first; i < rs_imap_value_get_n_items (list); i++)
    {
      const RsImapValue *item = rs_imap_value_get_item (list, i);

      if (item->type == RS_IMAP_VALUE_ATOM)
        {
          g_autofree char *upper = g_ascii_strup (item->str, -1);

          g_strv_builder_add (builder, upper);
        }
    }

  g_strfreev (self->capabilities);
  self->capabilities = g_strv_builder_end (builder);
  self->capabilities_known = TRUE;
}

static void
add_alert (RsImapClient *self,
           const char   *text)
{
  if (text == NULL || *text == '\0')
    return;

  if (self->alert == NULL)
    self->alert = g_strdup (text);
  else if (strstr (self->alert, text) == NULL)
    {
      char *joined = g_strdup_printf ("%s\n%s", self->alert, text);

      g_free (self->alert);
      self->alert = joined;
    }
}

/* What every status response may carry, whatever command it answers. */
static void
handle_response_code (RsImapClient         *self,
                      const RsImapResponse *response)
{
  if (response->code == NULL)
    return;

  if (g_str_equal (response->code, "ALERT"))
    add_alert (self, response->text);
  else if (g_str_equal (response->code, "CAPABILITY") && response->code_args != NULL)
    set_capabilities (self, response->code_args, 0);
}

static void
handle_untagged (RsImapClient         *self,
                 const RsImapResponse *response)
{
  if (response->status != RS_IMAP_STATUS_NONE)
    {
      handle_response_code (self, response);
      if (response->status == RS_IMAP_STATUS_BYE)
        rs_set_str (&self->bye_text, response->text);
      return;
    }

  if (rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 0), "CAPABILITY"))
    set_capabilities (self, response->data, 1);
}

/* -------------------------------------------------------- read responses */

static void
response_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  Watchdog *wd = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean timed_out;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  timed_out = watchdog_stop (wd);
  g_task_set_task_data (task, NULL, NULL);

  if (n < 0 || timed_out)
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");
      g_task_return_error (task, convert_io_error (self, error, timed_out));
      return;
    }

  if (n == 0)
    {
      error = client_error (self, RS_ERROR_NETWORK, _("The mail server closed the connection"));
      rs_error_set_server_text (error, self->bye_text);
      g_task_return_error (task, error);
      return;
    }

  g_byte_array_append (self->pending, self->read_buffer, n);
  read_response_step (g_steal_pointer (&task));
}

/* Takes the task's reference. */
static void
read_response_step (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);
  Watchdog *wd;

  if (self->stream == NULL)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_NETWORK,
                                               _("The mail server closed the connection")));
      g_object_unref (task);
      return;
    }

  if (self->pending->len > 0)
    {
      RsImapResponse *response = NULL;
      GError *error = NULL;
      gsize consumed = 0;
      gboolean ok;

      ok = rs_imap_parser_feed (self->parser, self->pending->data, self->pending->len,
                                &consumed, &response, &error);
      g_byte_array_remove_range (self->pending, 0, consumed);

      if (!ok)
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }

      if (response != NULL)
        {
          g_task_return_pointer (task, response, (GDestroyNotify)rs_imap_response_free);
          g_object_unref (task);
          return;
        }
    }

  wd = watchdog_start (g_task_get_cancellable (task), self->timeout);
  g_task_set_task_data (task, wd, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             self->read_buffer, READ_CHUNK,
                             G_PRIORITY_DEFAULT, wd->cancellable,
                             response_read_cb, task);
}

static void
read_response_async (RsImapClient        *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, read_response_async);
  g_task_set_check_cancellable (task, FALSE);
  read_response_step (task);
}

static RsImapResponse *
read_response_finish (RsImapClient  *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------- commands */

static void
command_data_free (gpointer data)
{
  CommandData *cd = data;

  g_clear_pointer (&cd->command, rs_imap_command_free);
  g_free (cd->tag);
  g_clear_pointer (&cd->segments, g_ptr_array_unref);
  g_free (cd);
}

static void command_write_next (GTask *task);

static void
command_response_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  CommandData *cd = g_task_get_task_data (task);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = read_response_finish (self, result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  switch (response->kind)
    {
    case RS_IMAP_RESPONSE_TAGGED:
      if (g_strcmp0 (response->tag, cd->tag) != 0)
        {
          error = response_error (self, RS_ERROR_PROTOCOL,
                                  _("The mail server answered a command that was never sent"),
                                  response);
          g_task_return_error (task, error);
          return;
        }
      handle_response_code (self, response);
      g_debug ("S: %s %s", cd->tag,
               response->status == RS_IMAP_STATUS_OK ? "OK" :
               response->status == RS_IMAP_STATUS_NO ? "NO" : "BAD");
      g_task_return_pointer (task, g_steal_pointer (&response), (GDestroyNotify)rs_imap_response_free);
      return;

    case RS_IMAP_RESPONSE_CONTINUATION:
      if (cd->next_segment >= cd->segments->len)
        {
          error = response_error (self, RS_ERROR_PROTOCOL,
                                  _("The mail server asked for more than the command holds"),
                                  response);
          g_task_return_error (task, error);
          return;
        }
      command_write_next (g_steal_pointer (&task));
      return;

    case RS_IMAP_RESPONSE_UNTAGGED:
    default:
      handle_untagged (self, response);
      read_response_async (self, g_task_get_cancellable (task),
                           command_response_cb, g_object_ref (task));
      return;
    }
}

static void
command_written_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  CommandData *cd = g_task_get_task_data (task);
  Watchdog *wd = g_object_steal_data (G_OBJECT (task), "watchdog");
  GError *error = NULL;
  GBytes *sent;
  gboolean timed_out;
  gboolean ok;

  ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error);
  timed_out = watchdog_stop (wd);

  if (!ok || timed_out)
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");
      g_task_return_error (task, convert_io_error (self, error, timed_out));
      return;
    }

  /* Drop what was sent: secrets are wiped as their bytes go. */
  sent = g_ptr_array_index (cd->segments, cd->next_segment - 1);
  g_ptr_array_index (cd->segments, cd->next_segment - 1) = g_bytes_new (NULL, 0);
  g_bytes_unref (sent);

  read_response_async (self, g_task_get_cancellable (task),
                       command_response_cb, g_object_ref (task));
}

/* Takes the task's reference. */
static void
command_write_next (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);
  CommandData *cd = g_task_get_task_data (task);
  GBytes *segment = g_ptr_array_index (cd->segments, cd->next_segment);
  Watchdog *wd;
  gsize len;
  gconstpointer data = g_bytes_get_data (segment, &len);

  if (self->stream == NULL)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_NETWORK,
                                               _("The mail server closed the connection")));
      g_object_unref (task);
      return;
    }

  cd->next_segment++;

  wd = watchdog_start (g_task_get_cancellable (task), self->timeout);
  g_object_set_data (G_OBJECT (task), "watchdog", wd);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream),
                                   data, len, G_PRIORITY_DEFAULT, wd->cancellable,
                                   command_written_cb, task);
}

/* Sends @command (transfer full) and reads until its tagged answer,
 * handling untagged responses and continuations on the way. */
static void
command_async (RsImapClient        *self,
               RsImapCommand       *command,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task;
  CommandData *cd;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, command_async);
  g_task_set_check_cancellable (task, FALSE);

  cd = g_new0 (CommandData, 1);
  cd->command = command;
  cd->tag = g_strdup_printf ("R%u", ++self->next_tag);
  cd->segments = rs_imap_command_encode (command, cd->tag,
                                         rs_imap_client_has_capability (self, "LITERAL+"));
  g_task_set_task_data (task, cd, command_data_free);

  /* Never the command line itself: it may hold a password. */
  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) == FALSE)
    {
      g_autofree char *described = rs_imap_command_describe (command, cd->tag);

      g_debug ("C: %s", described);
    }

  command_write_next (task);
}

static RsImapResponse *
command_finish (RsImapClient  *self,
                GAsyncResult  *result,
                GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --------------------------------------------------------------- connect */

static void connect_finish_setup (GTask *task);

static void
connect_fail (GTask  *task,
              GError *error)
{
  RsImapClient *self = g_task_get_source_object (task);

  abort_connection (self);
  self->busy = FALSE;
  g_task_return_error (task, error);
}

static void
connect_succeed (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);

  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
}

static void
record_tls_details (RsImapClient *self)
{
  GTlsConnection *tls = G_TLS_CONNECTION (self->stream);
  GTlsCertificate *certificate;

  self->encrypted = TRUE;
  self->tls_protocol = g_tls_connection_get_protocol_version (tls);
  g_free (self->tls_ciphersuite);
  self->tls_ciphersuite = g_tls_connection_get_ciphersuite_name (tls);
  self->tls_trust = rs_net_tls_get_trust (self->stream);

  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);
  certificate = g_tls_connection_get_peer_certificate (tls);
  if (certificate != NULL)
    self->peer_certificate = rs_certificate_info_new (certificate,
                                                      g_tls_connection_get_peer_certificate_errors (tls));
}

static void
capability_after_tls_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      connect_fail (task, error);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK || !self->capabilities_known)
    {
      connect_fail (task, response_error (self, RS_ERROR_PROTOCOL,
                                          _("The mail server did not list what it supports"),
                                          response));
      return;
    }

  connect_succeed (task);
}

static void
read_greeting (GTask *task);

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  Watchdog *wd = g_object_steal_data (G_OBJECT (task), "watchdog");
  g_autoptr(GIOStream) tls = NULL;
  GError *error = NULL;
  gboolean timed_out;

  tls = rs_net_tls_handshake_finish (result, &error);
  timed_out = watchdog_stop (wd);

  if (tls == NULL || timed_out)
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");
      connect_fail (task, convert_io_error (self, error, timed_out));
      return;
    }

  g_set_object (&self->stream, tls);
  record_tls_details (self);

  if (self->greeting == NULL)
    {
      read_greeting (g_steal_pointer (&task));
      return;
    }

  /* After STARTTLS: forget everything learned in the clear and ask again
   * (RFC 3501 §6.2.1, RFC 8314). */
  self->capabilities_known = FALSE;
  g_clear_pointer (&self->capabilities, g_strfreev);
  command_async (self, rs_imap_command_capability (), g_task_get_cancellable (task),
                 capability_after_tls_cb, g_object_ref (task));
}

static void
start_handshake (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);
  Watchdog *wd;

  wd = watchdog_start (g_task_get_cancellable (task), self->timeout);
  g_object_set_data (G_OBJECT (task), "watchdog", wd);
  rs_net_tls_handshake_async (G_IO_STREAM (self->connection),
                              self->settings->host, self->settings->port,
                              self->trust, RS_SERVICE_IMAP,
                              wd->cancellable, handshake_cb, task);
}

static void
starttls_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;
  GSocket *socket;

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      connect_fail (task, error);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK)
    {
      connect_fail (task, response_error (self, RS_ERROR_TLS_UNAVAILABLE,
                                          _("The mail server refused to start encryption"),
                                          response));
      return;
    }

  /* A server waits for our TLS hello: anything already sent after its
   * OK was injected by someone in the path (the STARTTLS response
   * injection attack).  Refuse rather than discard and go on. */
  socket = g_socket_connection_get_socket (self->connection);
  if (self->pending->len > 0
      || rs_imap_parser_get_buffered_size (self->parser) > 0
      || (g_socket_condition_check (socket, G_IO_IN) & G_IO_IN) != 0)
    {
      connect_fail (task, client_error (self, RS_ERROR_PROTOCOL,
                                        _("The mail server sent data before encryption started")));
      return;
    }

  g_byte_array_set_size (self->pending, 0);
  rs_imap_parser_reset (self->parser);
  start_handshake (g_steal_pointer (&task));
}

static void
capability_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      connect_fail (task, error);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK || !self->capabilities_known)
    {
      connect_fail (task, response_error (self, RS_ERROR_PROTOCOL,
                                          _("The mail server did not list what it supports"),
                                          response));
      return;
    }

  connect_finish_setup (g_steal_pointer (&task));
}

/* Once the capabilities are known: STARTTLS if chosen, else done. */
static void
connect_finish_setup (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);

  if (!self->capabilities_known)
    {
      command_async (self, rs_imap_command_capability (), g_task_get_cancellable (task),
                     capability_cb, task);
      return;
    }

  if (self->encrypted)
    {
      connect_succeed (task);
      g_object_unref (task);
      return;
    }

  g_assert (self->settings->security == RS_SECURITY_STARTTLS);

  if (!rs_imap_client_has_capability (self, "STARTTLS"))
    {
      connect_fail (task, client_error (self, RS_ERROR_TLS_UNAVAILABLE,
                                        _("The mail server does not offer encryption (STARTTLS)")));
      g_object_unref (task);
      return;
    }

  command_async (self, rs_imap_command_starttls (), g_task_get_cancellable (task),
                 starttls_cb, task);
}

static void
greeting_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = read_response_finish (self, result, &error);
  if (response == NULL)
    {
      connect_fail (task, error);
      return;
    }

  if (response->kind != RS_IMAP_RESPONSE_UNTAGGED
      || (response->status != RS_IMAP_STATUS_OK
          && response->status != RS_IMAP_STATUS_PREAUTH
          && response->status != RS_IMAP_STATUS_BYE))
    {
      connect_fail (task, response_error (self, RS_ERROR_PROTOCOL,
                                          _("The server did not greet like a mail server"),
                                          response));
      return;
    }

  handle_response_code (self, response);
  self->greeting = g_strdup (response->text ? response->text : "");

  if (response->status == RS_IMAP_STATUS_BYE)
    {
      connect_fail (task, response_error (self, RS_ERROR_NETWORK,
                                          _("The mail server refused the connection"),
                                          response));
      return;
    }

  if (response->status == RS_IMAP_STATUS_PREAUTH)
    {
      /* Signed in without credentials on a connection anyone could have
       * tampered with: a classic way to keep a client off TLS. */
      if (!self->encrypted)
        {
          connect_fail (task, response_error (self, RS_ERROR_PROTOCOL,
                                              _("The mail server tried to skip sign-in on an unencrypted connection"),
                                              response));
          return;
        }
      self->authenticated = TRUE;
    }

  connect_finish_setup (g_steal_pointer (&task));
}

/* Takes the task's reference. */
static void
read_greeting (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);

  read_response_async (self, g_task_get_cancellable (task), greeting_cb, task);
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  Watchdog *wd = g_object_steal_data (G_OBJECT (task), "watchdog");
  g_autoptr(GSocketConnection) connection = NULL;
  GError *error = NULL;
  gboolean timed_out;

  connection = rs_net_connect_finish (result, &error);
  timed_out = watchdog_stop (wd);

  if (connection == NULL || timed_out)
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");
      connect_fail (task, convert_io_error (self, error, timed_out));
      return;
    }

  self->connection = g_steal_pointer (&connection);
  self->stream = g_object_ref (G_IO_STREAM (self->connection));

  /* The watchdogs here time every step; the socket's own timeout stays
   * only as a backstop, a second later, so that a stalled handshake is
   * reported as a timeout and not as a broken TLS session. */
  g_socket_set_timeout (g_socket_connection_get_socket (self->connection), self->timeout + 1);

  if (self->settings->security == RS_SECURITY_TLS)
    start_handshake (g_steal_pointer (&task));
  else
    read_greeting (g_steal_pointer (&task));
}

/* ---------------------------------------------------------- authenticate */

static void
authenticate_fail (GTask  *task,
                   GError *error)
{
  RsImapClient *self = g_task_get_source_object (task);

  /* The connection stays open: the caller may try again or log out. */
  self->busy = FALSE;
  g_task_return_error (task, error);
}

static void
id_cb (GObject      *object,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  /* A server may refuse ID; only a broken connection matters. */
  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      authenticate_fail (task, error);
      return;
    }

  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
}

static void
after_login (GTask *task);

static void
capability_after_login_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      authenticate_fail (task, error);
      return;
    }

  /* Without a list the client still works: keep the earlier one. */
  self->capabilities_known = TRUE;
  after_login (g_steal_pointer (&task));
}

/* Takes the task's reference. */
static void
after_login (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);

  if (!self->capabilities_known)
    {
      command_async (self, rs_imap_command_capability (), g_task_get_cancellable (task),
                     capability_after_login_cb, task);
      return;
    }

  if (rs_imap_client_has_capability (self, "ID"))
    {
      command_async (self, rs_imap_command_id (RS_IMAP_CLIENT_NAME, PACKAGE_VERSION),
                     g_task_get_cancellable (task), id_cb, task);
      return;
    }

  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
authenticated_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;
  gboolean had_capabilities;

  had_capabilities = self->capabilities_known;
  self->capabilities_known = FALSE;   /* a [CAPABILITY] code in the OK sets it again */

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      self->capabilities_known = had_capabilities;
      authenticate_fail (task, error);
      return;
    }

  if (response->status == RS_IMAP_STATUS_OK)
    {
      self->authenticated = TRUE;
      after_login (g_steal_pointer (&task));
      return;
    }

  self->capabilities_known = had_capabilities;

  if (response->status == RS_IMAP_STATUS_BAD)
    error = response_error (self, RS_ERROR_PROTOCOL,
                            _("The mail server refused the sign-in command as invalid"),
                            response);
  else if (g_strcmp0 (response->code, "UNAVAILABLE") == 0)
    error = response_error (self, RS_ERROR_NETWORK,
                            _("The mail server cannot sign you in right now; try again later"),
                            response);
  else
    error = response_error (self, RS_ERROR_AUTHENTICATION,
                            _("The mail server did not accept the user name or password"),
                            response);

  authenticate_fail (task, error);
}

/* ----------------------------------------------------------------- logout */

static void
logout_closed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);

  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
  abort_connection (self);
  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  g_autoptr(RsImapResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  GIOStream *stream;

  /* The server may close before its tagged OK: that is a logout too. */
  response = command_finish (self, result, &error);
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      abort_connection (self);
      self->busy = FALSE;
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (response == NULL || self->stream == NULL)
    {
      abort_connection (self);
      self->busy = FALSE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  stream = self->stream;
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                           logout_closed_cb, g_object_ref (task));
}

/* ------------------------------------------------------------------ check */

static void
check_data_free (gpointer data)
{
  CheckData *cd = data;

  g_clear_object (&cd->client);
  if (cd->password != NULL)
    {
      explicit_bzero (cd->password, strlen (cd->password));
      g_free (cd->password);
    }
  g_free (cd);
}

static void
check_logged_out_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  /* The sign-in worked; a failed goodbye changes nothing. */
  rs_imap_client_logout_finish (RS_IMAP_CLIENT (object), result, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
check_authenticated_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *client = RS_IMAP_CLIENT (object);
  GError *error = NULL;

  if (!rs_imap_client_authenticate_finish (client, result, &error))
    {
      abort_connection (client);
      g_task_return_error (task, error);
      return;
    }

  rs_imap_client_logout_async (client, g_task_get_cancellable (task),
                               check_logged_out_cb, g_object_ref (task));
}

static void
check_connected_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *client = RS_IMAP_CLIENT (object);
  CheckData *cd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_imap_client_connect_finish (client, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  rs_imap_client_authenticate_async (client, cd->password, g_task_get_cancellable (task),
                                     check_authenticated_cb, g_object_ref (task));
  explicit_bzero (cd->password, strlen (cd->password));
  g_clear_pointer (&cd->password, g_free);
}

/* ------------------------------------------------------------- overrides */

static void
rs_imap_client_dispose (GObject *object)
{
  RsImapClient *self = (RsImapClient *)object;

  abort_connection (self);

  G_OBJECT_CLASS (rs_imap_client_parent_class)->dispose (object);
}

static void
rs_imap_client_finalize (GObject *object)
{
  RsImapClient *self = (RsImapClient *)object;

  g_clear_pointer (&self->settings, rs_server_settings_free);
  g_clear_pointer (&self->trust, rs_trust_free);
  g_clear_pointer (&self->parser, rs_imap_parser_free);
  g_clear_pointer (&self->pending, g_byte_array_unref);
  g_clear_pointer (&self->read_buffer, g_free);
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->alert, g_free);
  g_clear_pointer (&self->bye_text, g_free);
  g_clear_pointer (&self->tls_ciphersuite, g_free);
  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);

  G_OBJECT_CLASS (rs_imap_client_parent_class)->finalize (object);
}

static void
rs_imap_client_class_init (RsImapClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_imap_client_dispose;
  object_class->finalize = rs_imap_client_finalize;
}

static void
rs_imap_client_init (RsImapClient *self)
{
  RsImapLimits limits;

  /* Before sign-in nothing legitimate comes near these bounds. */
  rs_imap_limits_init_default (&limits);
  self->parser = rs_imap_parser_new (&limits);
  self->pending = g_byte_array_sized_new (READ_CHUNK);
  self->read_buffer = g_malloc (READ_CHUNK);
  self->timeout = RS_DEFAULT_TIMEOUT_SECONDS;
  self->tls_protocol = G_TLS_PROTOCOL_VERSION_UNKNOWN;
}

/* ------------------------------------------------------------- public API */

/**
 * rs_imap_client_new:
 * @settings: the server, its port, the security chosen and the user name
 * @trust: (nullable): what the user trusts beyond the system's CAs
 *
 * Returns: (transfer full): a client, not yet connected
 */
RsImapClient *
rs_imap_client_new (const RsServerSettings *settings,
                    const RsTrust          *trust)
{
  RsImapClient *self;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (settings->host != NULL, NULL);

  self = g_object_new (RS_TYPE_IMAP_CLIENT, NULL);
  self->settings = rs_server_settings_copy (settings);
  self->trust = trust != NULL ? rs_trust_copy (trust) : NULL;

  return self;
}

/**
 * rs_imap_client_set_timeout:
 * @seconds: the longest wait for the server on any step (connect,
 *   handshake, each read and write); at least 1
 */
void
rs_imap_client_set_timeout (RsImapClient *self,
                            guint         seconds)
{
  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (seconds > 0);

  self->timeout = seconds;
}

guint
rs_imap_client_get_timeout (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), 0);

  return self->timeout;
}

/**
 * rs_imap_client_connect_async:
 *
 * Connects, encrypts (implicit TLS, or mandatory STARTTLS when the
 * settings say so), reads the greeting and learns the capabilities.
 */
void
rs_imap_client_connect_async (RsImapClient        *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Watchdog *wd;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_connect_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->busy || self->stream != NULL)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("The mail connection is already open")));
      return;
    }

  reset_state (self);
  self->busy = TRUE;

  /* One second more than rs-net's own bound, so that its error wins. */
  wd = watchdog_start (cancellable, self->timeout + 1);
  g_object_set_data (G_OBJECT (task), "watchdog", wd);
  rs_net_connect_async (self->settings->host, self->settings->port, self->timeout,
                        RS_SERVICE_IMAP, wd->cancellable,
                        connected_cb, g_steal_pointer (&task));
}

gboolean
rs_imap_client_connect_finish (RsImapClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_client_authenticate_async:
 * @password: the password; it is encoded at once and never kept or logged
 *
 * Signs in with AUTHENTICATE PLAIN (SASL-IR when offered), or LOGIN when
 * PLAIN is not offered and LOGINDISABLED is absent; then sends ID when
 * the server supports it.
 */
void
rs_imap_client_authenticate_async (RsImapClient        *self,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  RsImapCommand *command;
  const char *username;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_authenticate_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->busy || self->stream == NULL)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("The mail connection is not open")));
      return;
    }

  if (self->authenticated)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Never send a password in the clear, whatever the caller did. */
  if (!self->encrypted)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_TLS_UNAVAILABLE,
                                               _("The mail connection is not encrypted")));
      return;
    }

  username = self->settings->username != NULL ? self->settings->username : "";

  if (rs_imap_client_has_capability (self, "AUTH=PLAIN"))
    command = rs_imap_command_authenticate_plain (username, password,
                                                  rs_imap_client_has_capability (self, "SASL-IR"));
  else if (!rs_imap_client_has_capability (self, "LOGINDISABLED"))
    command = rs_imap_command_login (username, password);
  else
    {
      g_task_return_error (task, client_error (self, RS_ERROR_AUTHENTICATION,
                                               _("The mail server does not accept signing in with a password")));
      return;
    }

  self->busy = TRUE;
  command_async (self, command, cancellable, authenticated_cb, g_steal_pointer (&task));
}

gboolean
rs_imap_client_authenticate_finish (RsImapClient  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_client_logout_async:
 *
 * Says goodbye and closes the connection.  Succeeds when there is no
 * connection, or when the server hangs up first.
 */
void
rs_imap_client_logout_async (RsImapClient        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_logout_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->busy)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("The mail connection is busy")));
      return;
    }

  if (self->stream == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  self->busy = TRUE;
  command_async (self, rs_imap_command_logout (), cancellable, logout_cb, g_steal_pointer (&task));
}

gboolean
rs_imap_client_logout_finish (RsImapClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_client_get_capabilities:
 *
 * Returns: (transfer none) (nullable): the capabilities, upper case, as
 *   last announced (after TLS and after sign-in they are asked again)
 */
const char * const *
rs_imap_client_get_capabilities (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), NULL);

  return (const char * const *)self->capabilities;
}

gboolean
rs_imap_client_has_capability (RsImapClient *self,
                               const char   *capability)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  if (self->capabilities == NULL)
    return FALSE;

  for (guint i = 0; self->capabilities[i] != NULL; i++)
    if (g_ascii_strcasecmp (self->capabilities[i], capability) == 0)
      return TRUE;

  return FALSE;
}

/**
 * rs_imap_client_get_alert:
 *
 * Returns: (nullable): the text of every [ALERT] the server sent on this
 *   connection, one per line; RFC 3501 says it must be shown to the user,
 *   and it is kept even when the sign-in succeeds
 */
const char *
rs_imap_client_get_alert (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), NULL);

  return self->alert;
}

/**
 * rs_imap_client_get_greeting:
 *
 * Returns: (nullable): the text of the server's greeting
 */
const char *
rs_imap_client_get_greeting (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), NULL);

  return self->greeting;
}

gboolean
rs_imap_client_is_encrypted (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);

  return self->encrypted;
}

gboolean
rs_imap_client_is_authenticated (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);

  return self->authenticated;
}

GTlsProtocolVersion
rs_imap_client_get_tls_protocol_version (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), G_TLS_PROTOCOL_VERSION_UNKNOWN);

  return self->tls_protocol;
}

/**
 * rs_imap_client_get_tls_ciphersuite_name:
 *
 * Returns: (nullable): the cipher suite, e.g. "TLS_AES_256_GCM_SHA384"
 */
const char *
rs_imap_client_get_tls_ciphersuite_name (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), NULL);

  return self->tls_ciphersuite;
}

/**
 * rs_imap_client_get_peer_certificate:
 *
 * Returns: (transfer none) (nullable): the server's certificate, once
 *   encrypted
 */
RsCertificateInfo *
rs_imap_client_get_peer_certificate (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), NULL);

  return self->peer_certificate;
}

/**
 * rs_imap_client_get_tls_trust:
 *
 * Returns: why the server's certificate was trusted
 */
RsTlsTrust
rs_imap_client_get_tls_trust (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), RS_TLS_TRUST_SYSTEM);

  return self->tls_trust;
}

/**
 * rs_imap_check_async:
 * @password: the password to try; copied, wiped after use
 *
 * The sign-in's connection test: connect, authenticate, log out.
 */
void
rs_imap_check_async (const RsServerSettings *settings,
                     const RsTrust          *trust,
                     const char             *password,
                     GCancellable           *cancellable,
                     GAsyncReadyCallback     callback,
                     gpointer                user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckData *cd;

  g_return_if_fail (settings != NULL);
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_check_async);
  g_task_set_check_cancellable (task, FALSE);

  cd = g_new0 (CheckData, 1);
  cd->client = rs_imap_client_new (settings, trust);
  cd->password = g_strdup (password);
  g_task_set_task_data (task, cd, check_data_free);

  rs_imap_client_connect_async (cd->client, cancellable,
                                check_connected_cb, g_steal_pointer (&task));
}

gboolean
rs_imap_check_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_check_get_client:
 * @result: the result given to rs_imap_check_async()'s callback
 *
 * For the alert, the capabilities and the TLS details of the test, after
 * success or failure.
 *
 * Returns: (transfer none): the client the check used
 */
RsImapClient *
rs_imap_check_get_client (GAsyncResult *result)
{
  CheckData *cd;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  cd = g_task_get_task_data (G_TASK (result));

  return cd->client;
}
