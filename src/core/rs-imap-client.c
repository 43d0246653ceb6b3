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

  gboolean             selected;     /* a mailbox is open (EXAMINE) */
  guint32              exists;       /* its EXISTS, as last announced */
  gsize                max_header_size;
  guint                n_refused_items;
  guint                n_oversized;
};

typedef struct
{
  GCancellable *cancellable;   /* handed to the I/O */
  GCancellable *parent;
  gulong        parent_handler;
  guint         timeout_id;
  GSource      *source;
  gboolean      fired;
} Watchdog;

/* Untagged responses that arrive while a command runs go here as well
 * as to handle_untagged(). */
typedef void (*UntaggedFunc) (RsImapClient         *self,
                              const RsImapResponse *response,
                              gpointer              user_data);

typedef struct
{
  RsImapCommand *command;
  char          *tag;
  GPtrArray     *segments;
  guint          next_segment;
  UntaggedFunc   untagged;
  gpointer       untagged_data;
} CommandData;

typedef struct
{
  Watchdog *wd;
  guint     timeout;
  gboolean  quiet_timeout;   /* running out of time is an answer, not an error */
} ReadData;

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
  g_clear_pointer (&wd->source, g_source_unref);
  g_cancellable_cancel (wd->cancellable);

  return G_SOURCE_REMOVE;
}

/* Every read, write and handshake gets at most @seconds without progress. */
static Watchdog *
watchdog_start (GCancellable *parent,
                guint         seconds)
{
  Watchdog *wd = g_new0 (Watchdog, 1);
  GSource *source;

  wd->cancellable = g_cancellable_new ();
  if (parent != NULL)
    {
      wd->parent = g_object_ref (parent);
      wd->parent_handler = g_cancellable_connect (parent,
                                                  G_CALLBACK (watchdog_parent_cancelled_cb),
                                                  wd->cancellable, NULL);
    }
  /* On the caller's thread-default context: the background worker runs
   * its own GMainContext in a thread of its own. */
  /* Milliseconds: a seconds source may fire up to a second early. */
  source = g_timeout_source_new (seconds * 1000);
  g_source_set_callback (source, watchdog_fired_cb, wd, NULL);
  wd->timeout_id = g_source_attach (source, g_main_context_get_thread_default ());
  wd->source = source;

  return wd;
}

/* Returns whether the time ran out. */
static gboolean
watchdog_stop (Watchdog *wd)
{
  gboolean fired = wd->fired;

  if (wd->source != NULL)
    {
      g_source_destroy (wd->source);
      g_clear_pointer (&wd->source, g_source_unref);
    }
  wd->timeout_id = 0;
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

/* Stops @wd after a connect, handshake or write.  Returns %NULL when the
 * step worked in time, else its error for the user (a timeout when the
 * watchdog fired).  @error: (transfer full) (nullable): the step's own */
static GError *
io_step_error (RsImapClient *self,
               Watchdog     *wd,
               gboolean      ok,
               GError       *error)
{
  gboolean timed_out = watchdog_stop (wd);

  if (ok && !timed_out)
    return NULL;

  if (error == NULL)
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");

  return convert_io_error (self, error, timed_out);
}

static GError *
closed_error (RsImapClient *self)
{
  return client_error (self, RS_ERROR_NETWORK, _("The mail server closed the connection"));
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
  self->selected = FALSE;
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
  else if (rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 1), "EXISTS")
           && rs_imap_value_get_item (response->data, 0)->type == RS_IMAP_VALUE_NUMBER)
    self->exists = (guint32)MIN (rs_imap_value_get_item (response->data, 0)->number, G_MAXUINT32);
}

/* -------------------------------------------------------- read responses */

static void
response_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  ReadData *rd = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean timed_out;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  timed_out = watchdog_stop (rd->wd);
  rd->wd = NULL;

  if (timed_out && rd->quiet_timeout && n <= 0)
    {
      /* The wait is over; whatever was read so far stays buffered. */
      g_clear_error (&error);
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  if (n < 0 || (timed_out && !rd->quiet_timeout))
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No answer in time");
      g_task_return_error (task, convert_io_error (self, error, timed_out));
      return;
    }

  if (n == 0)
    {
      error = closed_error (self);
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
  ReadData *rd = g_task_get_task_data (task);

  if (self->stream == NULL)
    {
      g_task_return_error (task, closed_error (self));
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

  rd->wd = watchdog_start (g_task_get_cancellable (task), rd->timeout);
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             self->read_buffer, READ_CHUNK,
                             G_PRIORITY_DEFAULT, rd->wd->cancellable,
                             response_read_cb, task);
}

/* Reads one response, allowing @timeout seconds without progress.  With
 * @quiet_timeout, running out of time returns %NULL without an error. */
static void
read_response_full_async (RsImapClient        *self,
                          guint                timeout,
                          gboolean             quiet_timeout,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  ReadData *rd = g_new0 (ReadData, 1);

  rd->timeout = MAX (timeout, 1);
  rd->quiet_timeout = quiet_timeout;
  g_task_set_source_tag (task, read_response_full_async);
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, rd, g_free);
  read_response_step (task);
}

static void
read_response_async (RsImapClient        *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  read_response_full_async (self, self->timeout, FALSE, cancellable, callback, user_data);
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
      if (cd->untagged != NULL)
        cd->untagged (self, response, cd->untagged_data);
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
  gboolean ok;

  ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error);
  error = io_step_error (self, wd, ok, error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
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
      g_task_return_error (task, closed_error (self));
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
command_full_async (RsImapClient        *self,
                    RsImapCommand       *command,
                    UntaggedFunc         untagged,
                    gpointer             untagged_data,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task;
  CommandData *cd;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, command_full_async);
  g_task_set_check_cancellable (task, FALSE);

  cd = g_new0 (CommandData, 1);
  cd->command = command;
  cd->untagged = untagged;
  cd->untagged_data = untagged_data;
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

static void
command_async (RsImapClient        *self,
               RsImapCommand       *command,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  command_full_async (self, command, NULL, NULL, cancellable, callback, user_data);
}

static RsImapResponse *
command_finish (RsImapClient  *self,
                GAsyncResult  *result,
                GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------ operations */

static void
operation_succeed (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);

  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
}

/* A failure before the tagged answer: the connection's state is unknown,
 * so it is closed.  @error: (transfer full) */
static void
operation_abort (GTask  *task,
                 GError *error)
{
  RsImapClient *self = g_task_get_source_object (task);

  abort_connection (self);
  self->busy = FALSE;
  g_task_return_error (task, error);
}

/* --------------------------------------------------------------- connect */

static void connect_finish_setup (GTask *task);

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

static void read_greeting (GTask *task);

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

  tls = rs_net_tls_handshake_finish (result, &error);
  error = io_step_error (self, wd, tls != NULL, error);
  if (error != NULL)
    {
      operation_abort (task, error);
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
  connect_finish_setup (g_steal_pointer (&task));
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
      operation_abort (task, error);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK)
    {
      operation_abort (task, response_error (self, RS_ERROR_TLS_UNAVAILABLE,
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
      operation_abort (task, client_error (self, RS_ERROR_PROTOCOL,
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
      operation_abort (task, error);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK || !self->capabilities_known)
    {
      operation_abort (task, response_error (self, RS_ERROR_PROTOCOL,
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
      operation_succeed (task);
      g_object_unref (task);
      return;
    }

  g_assert (self->settings->security == RS_SECURITY_STARTTLS);

  if (!rs_imap_client_has_capability (self, "STARTTLS"))
    {
      operation_abort (task, client_error (self, RS_ERROR_TLS_UNAVAILABLE,
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
      operation_abort (task, error);
      return;
    }

  if (response->kind != RS_IMAP_RESPONSE_UNTAGGED
      || (response->status != RS_IMAP_STATUS_OK
          && response->status != RS_IMAP_STATUS_PREAUTH
          && response->status != RS_IMAP_STATUS_BYE))
    {
      operation_abort (task, response_error (self, RS_ERROR_PROTOCOL,
                                             _("The server did not greet like a mail server"),
                                             response));
      return;
    }

  handle_response_code (self, response);
  self->greeting = g_strdup (response->text ? response->text : "");

  if (response->status == RS_IMAP_STATUS_BYE)
    {
      operation_abort (task, response_error (self, RS_ERROR_NETWORK,
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
          operation_abort (task, response_error (self, RS_ERROR_PROTOCOL,
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

  connection = rs_net_connect_finish (result, &error);
  error = io_step_error (self, wd, connection != NULL, error);
  if (error != NULL)
    {
      operation_abort (task, error);
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

  operation_succeed (task);
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

  operation_succeed (task);
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
  operation_succeed (task);
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
      operation_abort (task, g_steal_pointer (&error));
      return;
    }

  if (response == NULL || self->stream == NULL)
    {
      abort_connection (self);
      operation_succeed (task);
      return;
    }

  stream = self->stream;
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                           logout_closed_cb, g_object_ref (task));
}

/* --------------------------------------------------------------- mailbox */

typedef struct
{
  RsImapMailboxState  state;
  gboolean            have_uidvalidity;
  gboolean            have_uidnext;
  char               *mailbox;
} MailboxData;

static void
mailbox_data_free (gpointer data)
{
  MailboxData *md = data;

  g_free (md->mailbox);
  g_free (md);
}

typedef struct
{
  guint32           *uids;
  guint              n_uids;
  RsImapHeadersFunc  func;
  gpointer           func_data;
} FetchData;

static void
fetch_data_free (gpointer data)
{
  FetchData *fd = data;

  g_free (fd->uids);
  g_free (fd);
}

typedef struct
{
  char     *tag;
  gint64    deadline;     /* monotonic µs: time to send DONE */
  gboolean  idling;       /* the server sent its "+" */
  gboolean  done_sent;
  gboolean  new_mail;
  GBytes   *line;         /* being written */
} IdleData;

static void
idle_data_free (gpointer data)
{
  IdleData *id = data;

  g_free (id->tag);
  g_clear_pointer (&id->line, g_bytes_unref);
  g_free (id);
}

/* Starts an operation on a signed-in connection, or fails @task. */
static gboolean
operation_begin (RsImapClient *self,
                 GTask        *task,
                 gboolean      need_selected)
{
  if (self->busy)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("The mail connection is busy")));
      return FALSE;
    }

  if (self->stream == NULL || !self->authenticated)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("The mail connection is not open")));
      return FALSE;
    }

  if (need_selected && !self->selected)
    {
      g_task_return_error (task, client_error (self, RS_ERROR_INPUT,
                                               _("No mailbox is open")));
      return FALSE;
    }

  self->busy = TRUE;

  return TRUE;
}

/* A NO or BAD: the connection stays usable. */
static void
operation_refused (GTask                *task,
                   const char           *message,
                   const RsImapResponse *response)
{
  RsImapClient *self = g_task_get_source_object (task);

  self->busy = FALSE;
  g_task_return_error (task, response_error (self, RS_ERROR_PROTOCOL, message, response));
}

/* Sends @command as the operation of @task (transfer full), with
 * @untagged_data already the task's data.  @command: (transfer full)
 * (nullable): %NULL when building it failed with @error (transfer full). */
static void
operation_run (RsImapClient        *self,
               GTask               *task,
               RsImapCommand       *command,
               GError              *error,
               gboolean             need_selected,
               UntaggedFunc         untagged,
               gpointer             untagged_data,
               GAsyncReadyCallback  callback)
{
  if (command == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (!operation_begin (self, task, need_selected))
    {
      rs_imap_command_free (command);
      g_object_unref (task);
      return;
    }

  command_full_async (self, command, untagged, untagged_data,
                      g_task_get_cancellable (task), callback, task);
}

/* The tagged OK of the operation's command, or %NULL once @task has been
 * answered: a broken exchange closes the connection, a NO or BAD
 * (@refused tells the user what) leaves it open. */
static RsImapResponse *
operation_command_finish (GTask        *task,
                          GAsyncResult *result,
                          const char   *refused)
{
  RsImapClient *self = g_task_get_source_object (task);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = command_finish (self, result, &error);
  if (response == NULL)
    {
      operation_abort (task, error);
      return NULL;
    }

  if (response->status != RS_IMAP_STATUS_OK)
    {
      operation_refused (task, refused, response);
      return NULL;
    }

  return g_steal_pointer (&response);
}

/* For a command whose tagged OK is all its answer. */
static void
operation_complete (GTask        *task,
                    GAsyncResult *result,
                    const char   *refused)
{
  g_autoptr(RsImapResponse) response = operation_command_finish (task, result, refused);

  if (response != NULL)
    operation_succeed (task);
}

static gboolean
value_get_uint32 (const RsImapValue *value,
                  guint32           *out)
{
  if (value == NULL || value->type != RS_IMAP_VALUE_NUMBER || value->number > G_MAXUINT32)
    return FALSE;

  *out = (guint32)value->number;

  return TRUE;
}

static void
examine_untagged (RsImapClient         *self,
                  const RsImapResponse *response,
                  gpointer              user_data)
{
  MailboxData *md = user_data;
  const RsImapValue *arg = rs_imap_value_get_item (response->code_args, 0);

  if (response->status == RS_IMAP_STATUS_NONE)
    {
      if (rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 1), "EXISTS"))
        value_get_uint32 (rs_imap_value_get_item (response->data, 0), &md->state.exists);
      return;
    }

  if (response->status != RS_IMAP_STATUS_OK || response->code == NULL)
    return;

  if (g_str_equal (response->code, "UIDVALIDITY"))
    md->have_uidvalidity = value_get_uint32 (arg, &md->state.uidvalidity);
  else if (g_str_equal (response->code, "UIDNEXT"))
    md->have_uidnext = value_get_uint32 (arg, &md->state.uidnext);
  else if (g_str_equal (response->code, "HIGHESTMODSEQ") && arg != NULL && arg->type == RS_IMAP_VALUE_NUMBER)
    md->state.highestmodseq = arg->number;
  else if (g_str_equal (response->code, "NOMODSEQ"))
    md->state.highestmodseq = 0;
}

static void
examine_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  MailboxData *md = g_task_get_task_data (task);
  g_autoptr(RsImapResponse) response = NULL;

  /* Whatever the answer, the previous mailbox, if any, is closed now
   * (RFC 3501 §6.3.1): only an OK opens the new one. */
  self->selected = FALSE;

  response = operation_command_finish (task, result, _("The mail server could not open the mailbox"));
  if (response == NULL)
    return;

  if (!md->have_uidvalidity || !md->have_uidnext || md->state.uidvalidity == 0)
    {
      operation_abort (task, response_error (self, RS_ERROR_PROTOCOL,
                                             _("The mail server did not say which messages are new (UIDVALIDITY, UIDNEXT)"),
                                             response));
      return;
    }

  self->selected = TRUE;
  self->exists = md->state.exists;
  operation_succeed (task);
}

static void
status_untagged (RsImapClient         *self,
                 const RsImapResponse *response,
                 gpointer              user_data)
{
  MailboxData *md = user_data;
  const RsImapValue *list;

  if (response->status != RS_IMAP_STATUS_NONE
      || !rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 0), "STATUS")
      || g_strcmp0 (rs_imap_value_get_text (rs_imap_value_get_item (response->data, 1)), md->mailbox) != 0)
    return;

  list = rs_imap_value_get_item (response->data, 2);
  for (guint i = 0; i + 1 < rs_imap_value_get_n_items (list); i += 2)
    {
      const RsImapValue *name = rs_imap_value_get_item (list, i);
      const RsImapValue *value = rs_imap_value_get_item (list, i + 1);

      if (rs_imap_value_is_atom (name, "UIDVALIDITY"))
        md->have_uidvalidity = value_get_uint32 (value, &md->state.uidvalidity);
      else if (rs_imap_value_is_atom (name, "UIDNEXT"))
        md->have_uidnext = value_get_uint32 (value, &md->state.uidnext);
      else if (rs_imap_value_is_atom (name, "MESSAGES"))
        value_get_uint32 (value, &md->state.exists);
      else if (rs_imap_value_is_atom (name, "HIGHESTMODSEQ") && value->type == RS_IMAP_VALUE_NUMBER)
        md->state.highestmodseq = value->number;
    }
}

static void
status_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  MailboxData *md = g_task_get_task_data (task);
  g_autoptr(RsImapResponse) response = NULL;

  response = operation_command_finish (task, result,
                                       _("The mail server could not tell the state of the mailbox"));
  if (response == NULL)
    return;

  if (!md->have_uidvalidity || !md->have_uidnext || md->state.uidvalidity == 0)
    {
      self->busy = FALSE;
      g_task_return_error (task, response_error (self, RS_ERROR_PROTOCOL,
                                                 _("The mail server did not say which messages are new (UIDVALIDITY, UIDNEXT)"),
                                                 response));
      return;
    }

  operation_succeed (task);
}

static void
noop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  operation_complete (task, result, _("The mail server refused a command"));
}

static int
compare_uid (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *)a;
  guint32 y = *(const guint32 *)b;

  return x < y ? -1 : x > y;
}

static void
fetch_untagged (RsImapClient         *self,
                const RsImapResponse *response,
                gpointer              user_data)
{
  FetchData *fd = user_data;
  g_autoptr(GBytes) headers = NULL;
  gboolean oversized;
  guint n_refused;
  guint32 uid;

  if (!rs_imap_fetch_get_headers (response, self->max_header_size,
                                  &uid, &headers, &n_refused, &oversized))
    return;

  if (n_refused > 0)
    {
      /* Never asked for; dropped with the response, never handed on. */
      self->n_refused_items += n_refused;
      g_debug ("Dropped %u body item(s) the server sent for UID %u", n_refused, uid);
    }

  if (oversized)
    {
      self->n_oversized++;
      g_debug ("Skipped the header section of UID %u: larger than %" G_GSIZE_FORMAT " bytes",
               uid, self->max_header_size);
      return;
    }

  /* Only what was asked for: an unsolicited FETCH (a flag change) or a
   * UID outside the set is not an answer. */
  if (headers == NULL
      || bsearch (&uid, fd->uids, fd->n_uids, sizeof (guint32), compare_uid) == NULL)
    return;

  fd->func (uid, headers, fd->func_data);
}

static void
fetch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  operation_complete (task, result, _("The mail server refused to list the messages"));
}

/* ------------------------------------------------------------------- idle */

static void idle_read (GTask *task);

static void
idle_finish_with (GTask    *task,
                  GError   *error)
{
  if (error != NULL)
    operation_abort (task, error);
  else
    {
      RsImapClient *self = g_task_get_source_object (task);
      IdleData *id = g_task_get_task_data (task);

      self->busy = FALSE;
      g_task_return_boolean (task, id->new_mail);
    }
}

static void
idle_written_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = g_task_get_source_object (task);
  IdleData *id = g_task_get_task_data (task);
  Watchdog *wd = g_object_steal_data (G_OBJECT (task), "watchdog");
  GError *error = NULL;
  gboolean ok;

  ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error);
  error = io_step_error (self, wd, ok, error);
  g_clear_pointer (&id->line, g_bytes_unref);
  if (error != NULL)
    {
      idle_finish_with (task, error);
      return;
    }

  idle_read (g_steal_pointer (&task));
}

/* Takes the task's reference. */
static void
idle_write (GTask  *task,
            GBytes *line)
{
  RsImapClient *self = g_task_get_source_object (task);
  IdleData *id = g_task_get_task_data (task);
  Watchdog *wd;
  gconstpointer data;
  gsize len;

  if (self->stream == NULL)
    {
      g_bytes_unref (line);
      idle_finish_with (task, closed_error (self));
      g_object_unref (task);
      return;
    }

  id->line = line;
  data = g_bytes_get_data (line, &len);
  wd = watchdog_start (g_task_get_cancellable (task), self->timeout);
  g_object_set_data (G_OBJECT (task), "watchdog", wd);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream),
                                   data, len, G_PRIORITY_DEFAULT, wd->cancellable,
                                   idle_written_cb, task);
}

static void
idle_send_done (GTask *task)
{
  IdleData *id = g_task_get_task_data (task);

  g_debug ("C: DONE");
  id->done_sent = TRUE;
  idle_write (task, g_bytes_new_static ("DONE\r\n", 6));
}

static void
idle_response_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsImapClient *self = RS_IMAP_CLIENT (object);
  IdleData *id = g_task_get_task_data (task);
  g_autoptr(RsImapResponse) response = NULL;
  GError *error = NULL;

  response = read_response_finish (self, result, &error);
  if (error != NULL)
    {
      idle_finish_with (task, error);
      return;
    }

  if (response == NULL)
    {
      /* The IDLE period ran out. */
      idle_send_done (g_steal_pointer (&task));
      return;
    }

  switch (response->kind)
    {
    case RS_IMAP_RESPONSE_CONTINUATION:
      if (id->idling || id->done_sent)
        {
          idle_finish_with (task, response_error (self, RS_ERROR_PROTOCOL,
                                                  _("The mail server asked for more than the command holds"),
                                                  response));
          return;
        }
      id->idling = TRUE;
      break;

    case RS_IMAP_RESPONSE_TAGGED:
      if (g_strcmp0 (response->tag, id->tag) != 0)
        {
          idle_finish_with (task, response_error (self, RS_ERROR_PROTOCOL,
                                                  _("The mail server answered a command that was never sent"),
                                                  response));
          return;
        }
      handle_response_code (self, response);
      if (response->status != RS_IMAP_STATUS_OK)
        {
          id->idling = FALSE;
          operation_refused (task, _("The mail server refused to wait for new mail"), response);
          return;
        }
      idle_finish_with (task, NULL);
      return;

    case RS_IMAP_RESPONSE_UNTAGGED:
    default:
      handle_untagged (self, response);
      if (response->status == RS_IMAP_STATUS_NONE
          && rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 1), "EXISTS"))
        id->new_mail = TRUE;
      break;
    }

  if (id->idling && id->new_mail && !id->done_sent)
    {
      idle_send_done (g_steal_pointer (&task));
      return;
    }

  idle_read (g_steal_pointer (&task));
}

/* Takes the task's reference. */
static void
idle_read (GTask *task)
{
  RsImapClient *self = g_task_get_source_object (task);
  IdleData *id = g_task_get_task_data (task);

  if (id->idling && !id->done_sent)
    {
      gint64 left = id->deadline - g_get_monotonic_time ();

      if (left <= 0)
        {
          idle_send_done (task);
          return;
        }

      read_response_full_async (self, (guint)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC), TRUE,
                                g_task_get_cancellable (task), idle_response_cb, task);
      return;
    }

  read_response_async (self, g_task_get_cancellable (task), idle_response_cb, task);
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
  self->max_header_size = RS_IMAP_DEFAULT_MAX_HEADER_SIZE;
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
 * rs_imap_client_examine_async:
 * @mailbox: the mailbox, e.g. "INBOX"
 *
 * Opens @mailbox read-only (EXAMINE; with CONDSTORE when offered, to
 * learn HIGHESTMODSEQ).  Nothing this client does can change a flag.
 */
void
rs_imap_client_examine_async (RsImapClient        *self,
                              const char          *mailbox,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  RsImapCommand *command;
  MailboxData *md;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_examine_async);
  g_task_set_check_cancellable (task, FALSE);

  md = g_new0 (MailboxData, 1);
  md->mailbox = g_strdup (mailbox);
  g_task_set_task_data (task, md, mailbox_data_free);

  command = rs_imap_command_examine (mailbox, rs_imap_client_has_capability (self, "CONDSTORE"), &error);
  operation_run (self, g_steal_pointer (&task), command, error, FALSE,
                 examine_untagged, md, examine_cb);
}

/**
 * rs_imap_client_examine_finish:
 * @state: (out) (optional): UIDVALIDITY, UIDNEXT, EXISTS and
 *   HIGHESTMODSEQ (0 without CONDSTORE)
 */
gboolean
rs_imap_client_examine_finish (RsImapClient        *self,
                               GAsyncResult        *result,
                               RsImapMailboxState  *state,
                               GError             **error)
{
  MailboxData *md;

  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  md = g_task_get_task_data (G_TASK (result));
  if (state != NULL)
    *state = md->state;

  return TRUE;
}

/**
 * rs_imap_client_status_async:
 *
 * STATUS @mailbox (UIDNEXT UIDVALIDITY MESSAGES, and HIGHESTMODSEQ with
 * CONDSTORE): whether anything arrived, without opening it.
 */
void
rs_imap_client_status_async (RsImapClient        *self,
                             const char          *mailbox,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  RsImapCommand *command;
  MailboxData *md;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_status_async);
  g_task_set_check_cancellable (task, FALSE);

  md = g_new0 (MailboxData, 1);
  md->mailbox = g_strdup (mailbox);
  g_task_set_task_data (task, md, mailbox_data_free);

  command = rs_imap_command_status (mailbox, rs_imap_client_has_capability (self, "CONDSTORE"), &error);
  operation_run (self, g_steal_pointer (&task), command, error, FALSE,
                 status_untagged, md, status_cb);
}

/**
 * rs_imap_client_status_finish:
 * @state: (out) (optional): UIDVALIDITY, UIDNEXT, MESSAGES (as exists)
 *   and HIGHESTMODSEQ (0 without CONDSTORE)
 */
gboolean
rs_imap_client_status_finish (RsImapClient        *self,
                              GAsyncResult        *result,
                              RsImapMailboxState  *state,
                              GError             **error)
{
  return rs_imap_client_examine_finish (self, result, state, error);
}

void
rs_imap_client_noop_async (RsImapClient        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_noop_async);
  g_task_set_check_cancellable (task, FALSE);

  operation_run (self, g_steal_pointer (&task), rs_imap_command_noop (), NULL, FALSE,
                 NULL, NULL, noop_cb);
}

gboolean
rs_imap_client_noop_finish (RsImapClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_client_fetch_headers_async:
 * @uids: (array length=n_uids): UIDs in ascending order
 * @n_uids: 1 to %RS_IMAP_MAX_UIDS_PER_COMMAND: one command, so the caller
 *   chooses the chunks
 * @fields: allowlisted header fields (rs_imap_header_fields_allowed())
 * @func: (scope call): called for each message as its answer arrives,
 *   only for UIDs of @uids, only with header fields
 *
 * `UID FETCH set (UID BODY.PEEK[HEADER.FIELDS (…)])` in the open mailbox.
 * UIDs that no longer exist are simply not reported.  Whatever the server
 * sends besides (a body part it was never asked for, a header section
 * longer than the maximum) is dropped and counted.  On failure @func may
 * have been called for some messages: the caller must treat the whole
 * chunk as failed.
 */
void
rs_imap_client_fetch_headers_async (RsImapClient        *self,
                                    const guint32       *uids,
                                    guint                n_uids,
                                    const char * const  *fields,
                                    RsImapHeadersFunc    func,
                                    gpointer             func_data,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  RsImapCommand *command;
  FetchData *fd = NULL;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (uids != NULL || n_uids == 0);
  g_return_if_fail (fields != NULL);
  g_return_if_fail (func != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_fetch_headers_async);
  g_task_set_check_cancellable (task, FALSE);

  /* The command checks @n_uids before anything is copied. */
  command = rs_imap_command_uid_fetch_header_set (uids, n_uids, fields, &error);
  if (command != NULL)
    {
      fd = g_new0 (FetchData, 1);
      fd->uids = g_memdup2 (uids, n_uids * sizeof (guint32));
      fd->n_uids = n_uids;
      fd->func = func;
      fd->func_data = func_data;
      g_task_set_task_data (task, fd, fetch_data_free);
    }

  operation_run (self, g_steal_pointer (&task), command, error, TRUE,
                 fetch_untagged, fd, fetch_cb);
}

gboolean
rs_imap_client_fetch_headers_finish (RsImapClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_imap_client_idle_async:
 * @seconds: the longest wait, capped at %RS_IMAP_IDLE_MAX_SECONDS
 *
 * IDLE (RFC 2177) in the open mailbox until the server announces a
 * message (EXISTS) or @seconds pass; then DONE, and the tagged answer.
 * Cancelling closes the connection.
 */
void
rs_imap_client_idle_async (RsImapClient        *self,
                           guint                seconds,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(RsImapCommand) command = NULL;
  g_autoptr(GPtrArray) segments = NULL;
  IdleData *id;

  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_imap_client_idle_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->stream != NULL && !rs_imap_client_has_capability (self, "IDLE"))
    {
      g_task_return_error (task, client_error (self, RS_ERROR_PROTOCOL,
                                               _("The mail server cannot announce new mail (IDLE)")));
      return;
    }

  if (!operation_begin (self, task, TRUE))
    return;

  seconds = CLAMP (seconds, 1, RS_IMAP_IDLE_MAX_SECONDS);

  command = rs_imap_command_idle ();
  id = g_new0 (IdleData, 1);
  id->tag = g_strdup_printf ("R%u", ++self->next_tag);
  id->deadline = g_get_monotonic_time () + (gint64)seconds * G_USEC_PER_SEC;
  g_task_set_task_data (task, id, idle_data_free);

  segments = rs_imap_command_encode (command, id->tag, FALSE);
  g_debug ("C: %s IDLE", id->tag);
  idle_write (g_steal_pointer (&task), g_bytes_ref (g_ptr_array_index (segments, 0)));
}

/**
 * rs_imap_client_idle_finish:
 * @new_mail: (out) (optional): the server announced a message; %FALSE
 *   when the time ran out
 */
gboolean
rs_imap_client_idle_finish (RsImapClient  *self,
                            GAsyncResult  *result,
                            gboolean      *new_mail,
                            GError       **error)
{
  GError *local = NULL;
  gboolean woke;

  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  woke = g_task_propagate_boolean (G_TASK (result), &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }

  if (new_mail != NULL)
    *new_mail = woke;

  return TRUE;
}

/**
 * rs_imap_client_set_max_header_size:
 * @max_size: the longest header section kept per message; longer ones are
 *   skipped and counted (rs_imap_client_get_n_oversized())
 */
void
rs_imap_client_set_max_header_size (RsImapClient *self,
                                    gsize         max_size)
{
  g_return_if_fail (RS_IS_IMAP_CLIENT (self));
  g_return_if_fail (max_size > 0);

  self->max_header_size = max_size;
}

gsize
rs_imap_client_get_max_header_size (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), 0);

  return self->max_header_size;
}

/**
 * rs_imap_client_get_n_refused_items:
 *
 * Returns: how many body items (BODY[…], RFC822…, BODYSTRUCTURE, BINARY)
 *   servers sent this client unasked, all dropped
 */
guint
rs_imap_client_get_n_refused_items (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), 0);

  return self->n_refused_items;
}

/**
 * rs_imap_client_get_n_oversized:
 *
 * Returns: how many header sections were skipped as too long
 */
guint
rs_imap_client_get_n_oversized (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), 0);

  return self->n_oversized;
}

gboolean
rs_imap_client_is_selected (RsImapClient *self)
{
  g_return_val_if_fail (RS_IS_IMAP_CLIENT (self), FALSE);

  return self->selected;
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
