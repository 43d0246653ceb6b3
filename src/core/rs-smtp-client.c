/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-smtp-client"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-smtp-client.h"

/*
 * An SMTP submission client (RFC 6409) on GIO streams.
 *
 * Encryption is never optional: port 465 style implicit TLS, or STARTTLS
 * (RFC 3207) which is then mandatory.  Replies are read into our own
 * bounded buffer rather than a GDataInputStream, so a line cannot grow
 * without limit; when STARTTLS is answered, that buffer must be empty —
 * bytes a server (or someone in between) sent ahead of the handshake are
 * refused, not carried into the encrypted session ("response injection").
 * After the handshake every byte is read from the TLS stream.
 *
 * One operation at a time.  A failure of the transport, or a reply we
 * cannot parse, closes the connection.
 */

struct _RsSmtpClient
{
  GObject              parent_instance;

  RsServerSettings    *settings;
  RsTrust             *trust;
  guint                timeout;

  GSocketConnection   *connection;
  GIOStream           *stream;          /* connection, or the TLS stream on it */
  GTlsConnection      *tls;
  GByteArray          *inbuf;
  gboolean             busy;
  gboolean             authenticated;

  char                *greeting;
  char               **capabilities;
  char                *auth_mechanism;
  GTlsProtocolVersion  tls_version;
  char                *tls_ciphersuite;
  RsCertificateInfo   *peer_certificate;
  RsTlsTrust           tls_trust;
};

typedef struct
{
  char   *command;   /* with CRLF; NULL to read a reply only */
  gsize   command_length;
  GBytes *payload;   /* raw bytes to write instead of a command */
  gboolean secret;
  guint8  chunk[RS_SMTP_MAX_LINE_LENGTH];
} ExchangeData;

typedef struct
{
  char     *password;
  gboolean  username_sent;   /* AUTH LOGIN */
  char     *from;
  char    **recipients;
  GBytes   *message;
  guint     next_recipient;
  GError   *error;      /* kept while RSET clears a refused transaction */
} OpData;

G_DEFINE_FINAL_TYPE (RsSmtpClient, rs_smtp_client, G_TYPE_OBJECT)

static void send_next_recipient (RsSmtpClient *self,
                                 GTask        *task);

static void
secure_free (char *str)
{
  if (str == NULL)
    return;

  explicit_bzero (str, strlen (str));
  g_free (str);
}

static void
exchange_data_free (ExchangeData *data)
{
  if (data->secret && data->command != NULL)
    explicit_bzero (data->command, data->command_length);
  g_free (data->command);
  g_clear_pointer (&data->payload, g_bytes_unref);
  g_free (data);
}

static void
op_data_free (OpData *data)
{
  secure_free (data->password);
  g_free (data->from);
  g_strfreev (data->recipients);
  g_clear_pointer (&data->message, g_bytes_unref);
  g_clear_error (&data->error);
  g_free (data);
}

/* Reply parsing (pure) */

static GError *
new_reply_error (const char *message,
                 const char *line,
                 gsize       line_length)
{
  g_autofree char *valid = NULL;
  GError *error;

  error = g_error_new_literal (RS_ERROR, RS_ERROR_PROTOCOL, message);
  valid = g_utf8_make_valid (line, MIN (line_length, 200));
  rs_error_set_server_text (error, valid);

  return error;
}

static char *
parse_enhanced_code (guint       code,
                     const char *text)
{
  const char *p = text;
  int digits;

  /* class "." subject "." detail, RFC 3463: 1–3 digits each part */
  if (*p != '0' + (char)(code / 100) || (*p != '2' && *p != '4' && *p != '5'))
    return NULL;
  p++;

  for (guint part = 0; part < 2; part++)
    {
      if (*p++ != '.')
        return NULL;
      for (digits = 0; g_ascii_isdigit (*p) && digits < 4; p++)
        digits++;
      if (digits < 1 || digits > 3)
        return NULL;
    }

  if (*p != '\0' && *p != ' ')
    return NULL;

  return g_strndup (text, p - text);
}

/**
 * rs_smtp_reply_parse:
 * @buffer: bytes read from the server
 * @length: how many
 * @consumed: (out): the bytes the reply took, when one is returned
 *
 * Parses one complete SMTP reply at the start of @buffer: lines
 * "250-text" until "250 text" (RFC 5321 §4.2.1), all with the same code.
 * Lines longer than %RS_SMTP_MAX_LINE_LENGTH or replies of more than
 * %RS_SMTP_MAX_REPLY_LINES lines are refused.
 *
 * Returns: (transfer full) (nullable): the reply; %NULL without @error
 *   when more bytes are needed; %NULL with an RS_ERROR_PROTOCOL @error
 *   when the bytes are not an SMTP reply
 */
RsSmtpReply *
rs_smtp_reply_parse (const char  *buffer,
                     gsize        length,
                     gsize       *consumed,
                     GError     **error)
{
  g_autoptr(GStrvBuilder) lines = g_strv_builder_new ();
  g_autoptr(GString) text = g_string_new (NULL);
  RsSmtpReply *reply;
  gsize pos = 0;
  guint n_lines = 0;
  guint code = 0;

  g_return_val_if_fail (buffer != NULL || length == 0, NULL);
  g_return_val_if_fail (consumed != NULL, NULL);

  *consumed = 0;

  for (;;)
    {
      gsize available = length - pos;
      gsize window = MIN (available, (gsize)RS_SMTP_MAX_LINE_LENGTH);
      const char *line = buffer + pos;
      const char *newline = window > 0 ? memchr (line, '\n', window) : NULL;
      g_autofree char *valid = NULL;
      gsize line_length;
      guint line_code;
      char separator;

      if (newline == NULL)
        {
          if (available >= RS_SMTP_MAX_LINE_LENGTH)
            {
              g_propagate_error (error, new_reply_error (_("The server sent a line that is too long"),
                                                         line, available));
              return NULL;
            }
          return NULL;
        }

      line_length = newline - line;
      pos += line_length + 1;
      if (line_length > 0 && line[line_length - 1] == '\r')
        line_length--;

      if (line_length < 3 ||
          line[0] < '2' || line[0] > '5' ||
          !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]) ||
          (line_length > 3 && line[3] != ' ' && line[3] != '-') ||
          memchr (line, '\0', line_length) != NULL)
        {
          g_propagate_error (error, new_reply_error (_("The server sent something that is not an SMTP reply"),
                                                     line, line_length));
          return NULL;
        }

      line_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      if (n_lines > 0 && line_code != code)
        {
          g_propagate_error (error, new_reply_error (_("The server sent a reply whose lines disagree"),
                                                     line, line_length));
          return NULL;
        }
      code = line_code;
      separator = line_length > 3 ? line[3] : ' ';

      valid = g_utf8_make_valid (line, line_length);
      if (n_lines > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, valid);
      g_strv_builder_add (lines, valid[3] != '\0' ? valid + 4 : "");
      n_lines++;

      if (separator == ' ')
        break;

      if (n_lines >= RS_SMTP_MAX_REPLY_LINES)
        {
          g_propagate_error (error, new_reply_error (_("The server sent a reply that is too long"),
                                                     line, line_length));
          return NULL;
        }
    }

  reply = g_new0 (RsSmtpReply, 1);
  reply->code = code;
  reply->text = g_string_free (g_steal_pointer (&text), FALSE);
  reply->lines = g_strv_builder_end (lines);
  reply->enhanced_code = parse_enhanced_code (code, reply->lines[0]);
  *consumed = pos;

  return reply;
}

void
rs_smtp_reply_free (RsSmtpReply *reply)
{
  if (reply == NULL)
    return;

  g_free (reply->enhanced_code);
  g_free (reply->text);
  g_strfreev (reply->lines);
  g_free (reply);
}

/**
 * rs_smtp_dot_stuff:
 * @message: an RFC 5322 message, with "\r\n", "\n" or "\r" line ends
 *
 * Prepares @message for DATA (RFC 5321 §4.5.2): every line end becomes
 * CRLF, a line that starts with "." gets another, and the final
 * "CRLF.CRLF" is added.
 *
 * Returns: (transfer full): the bytes to send after "354"
 */
GBytes *
rs_smtp_dot_stuff (GBytes *message)
{
  g_autoptr(GByteArray) out = NULL;
  const guint8 *data;
  gsize length;
  gboolean line_start = TRUE;

  g_return_val_if_fail (message != NULL, NULL);

  data = g_bytes_get_data (message, &length);
  out = g_byte_array_sized_new (length + length / 64 + 5);

  for (gsize i = 0; i < length; i++)
    {
      guint8 c = data[i];

      if (c == '\r' || c == '\n')
        {
          if (c == '\r' && i + 1 < length && data[i + 1] == '\n')
            i++;
          g_byte_array_append (out, (const guint8 *)"\r\n", 2);
          line_start = TRUE;
          continue;
        }

      if (line_start && c == '.')
        g_byte_array_append (out, (const guint8 *)".", 1);

      g_byte_array_append (out, &c, 1);
      line_start = FALSE;
    }

  if (!line_start)
    g_byte_array_append (out, (const guint8 *)"\r\n", 2);
  g_byte_array_append (out, (const guint8 *)".\r\n", 3);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Errors */

static GError *
new_error (RsSmtpClient *self,
           RsErrorCode   code,
           RsSmtpReply  *reply,
           const char   *message)
{
  GError *error = g_error_new_literal (RS_ERROR, code, message);

  rs_error_set_service (error, RS_SERVICE_SMTP);

  if (reply != NULL)
    {
      g_autofree char *basic = g_strdup_printf ("%u", reply->code);

      rs_error_set_server_text (error, reply->text);
      rs_error_set_response_code (error, reply->enhanced_code ? reply->enhanced_code : basic);
    }

  return error;
}

static char *
where (RsSmtpClient *self)
{
  /* Translators: a server and its port, as in "mail.example.com, port 465" */
  return g_strdup_printf (_("%s, port %u"), self->settings->host, (guint)self->settings->port);
}

static gboolean
enhanced_is (RsSmtpReply *reply,
             const char  *code)
{
  return reply->enhanced_code != NULL && strcmp (reply->enhanced_code, code) == 0;
}

static GError *
new_unexpected_reply_error (RsSmtpClient *self,
                            RsSmtpReply  *reply)
{
  g_autofree char *place = where (self);
  g_autofree char *message = NULL;

  message = g_strdup_printf (_("The server gave an unexpected answer (%s)"), place);

  return new_error (self, RS_ERROR_PROTOCOL, reply, message);
}

static GError *
new_authentication_error (RsSmtpClient *self,
                          RsSmtpReply  *reply)
{
  const char *message;

  if (reply->code / 100 == 4)
    message = _("The server could not check the password right now. Try again later.");
  else if (enhanced_is (reply, "5.7.139") || enhanced_is (reply, "5.7.3") || enhanced_is (reply, "5.7.0"))
    message = _("The server refused to sign in with a password. An administrator setting may block sending with a password (SMTP AUTH) for this account.");
  else if (reply->code == 535 || enhanced_is (reply, "5.7.8"))
    message = _("The server did not accept the username or password");
  else
    message = _("The server refused to sign in");

  return new_error (self, RS_ERROR_AUTHENTICATION, reply, message);
}

static GError *
new_no_mechanism_error (RsSmtpClient *self,
                        char        **mechanisms)
{
  g_autofree char *place = where (self);
  g_autofree char *message = g_strdup_printf (_("The server does not offer sign-in with a password (%s)"), place);
  GError *error = new_error (self, RS_ERROR_AUTHENTICATION, NULL, message);

  /* What it offers instead, for the details. */
  if (mechanisms[0] != NULL)
    {
      g_autofree char *offered = g_strjoinv (" ", mechanisms);
      g_autofree char *text = g_strconcat ("AUTH ", offered, NULL);

      rs_error_set_server_text (error, text);
    }

  return error;
}

static GError *
new_send_error (RsSmtpClient *self,
                RsSmtpReply  *reply,
                const char   *recipient)
{
  g_autofree char *message = NULL;

  if (reply->code / 100 == 4)
    message = g_strdup (_("The server cannot take the message right now. Try again later."));
  else if (reply->enhanced_code != NULL && g_str_has_prefix (reply->enhanced_code, "5.7."))
    {
      message = g_strdup (_("The server does not let this account send the message"));
      return new_error (self, RS_ERROR_AUTHENTICATION, reply, message);
    }
  else if (recipient != NULL)
    message = g_strdup_printf (_("The server refused the recipient “%s”"), recipient);
  else
    message = g_strdup (_("The server refused the message"));

  return new_error (self, RS_ERROR_INPUT, reply, message);
}

/* Connection state */

static void
drop_connection (RsSmtpClient *self)
{
  if (self->connection != NULL)
    {
      g_debug ("Closing the connection to %s", self->settings->host);
      /* Closing the socket is immediate; a TLS close could wait on a
       * server that misbehaves. */
      g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
    }

  g_clear_object (&self->tls);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_byte_array_set_size (self->inbuf, 0);
  self->authenticated = FALSE;
}

static void
return_error (RsSmtpClient *self,
              GTask        *task,
              GError       *error,
              gboolean      drop)
{
  if (drop)
    drop_connection (self);
  self->busy = FALSE;
  g_task_return_error (task, error);
}

static void
return_success (RsSmtpClient *self,
                GTask        *task)
{
  self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
}

static gboolean
check_can_start (RsSmtpClient *self,
                 GTask        *task,
                 gboolean      need_connection)
{
  if (self->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "Another SMTP operation is in progress");
      return FALSE;
    }

  if (need_connection && self->stream == NULL)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("Not connected to the server (%s)"), place);

      g_task_return_error (task, new_error (self, RS_ERROR_NETWORK, NULL, message));
      return FALSE;
    }

  self->busy = TRUE;
  return TRUE;
}

/* One command and its reply */

static GError *
new_transport_error (RsSmtpClient *self,
                     const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  return rs_error_new_from_io (error, RS_SERVICE_SMTP,
                               self->settings->host, self->settings->port);
}

static void read_more (RsSmtpClient *self,
                       GTask        *task);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  ExchangeData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize n_read;

  n_read = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);

  if (n_read < 0)
    {
      drop_connection (self);
      g_task_return_error (task, new_transport_error (self, error));
      return;
    }

  if (n_read == 0)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("The server closed the connection (%s)"), place);
      GError *closed = new_error (self, RS_ERROR_NETWORK, NULL, message);

      if (self->inbuf->len > 0)
        {
          g_autofree char *partial = g_utf8_make_valid ((const char *)self->inbuf->data,
                                                        MIN (self->inbuf->len, 200));
          rs_error_set_server_text (closed, partial);
        }

      drop_connection (self);
      g_task_return_error (task, closed);
      return;
    }

  g_byte_array_append (self->inbuf, data->chunk, n_read);
  read_more (self, g_steal_pointer (&task));
}

static void
read_more (RsSmtpClient *self,
           GTask        *task)
{
  ExchangeData *data = g_task_get_task_data (task);
  g_autoptr(RsSmtpReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  gsize consumed = 0;

  g_assert (RS_IS_SMTP_CLIENT (self));

  reply = rs_smtp_reply_parse ((const char *)self->inbuf->data, self->inbuf->len,
                               &consumed, &error);

  if (error != NULL)
    {
      rs_error_set_service (error, RS_SERVICE_SMTP);
      drop_connection (self);
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  if (reply != NULL)
    {
      g_byte_array_remove_range (self->inbuf, 0, consumed);
      g_debug ("S: %s", data->secret && reply->code == 334 ? "334 …" : reply->text);
      g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify)rs_smtp_reply_free);
      g_object_unref (task);
      return;
    }

  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             data->chunk, sizeof data->chunk,
                             G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task),
                             read_cb, task);
}

static void
written_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      drop_connection (self);
      g_task_return_error (task, new_transport_error (self, error));
      return;
    }

  read_more (self, g_steal_pointer (&task));
}

/*
 * Writes @command (without CRLF), or @payload, and reads the complete
 * reply.  With neither, only reads a reply (the greeting).  @secret keeps
 * the command out of the debug log and wipes it from memory afterwards.
 */
static void
exchange_async (RsSmtpClient        *self,
                const char          *command,
                GBytes              *payload,
                gboolean             secret,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExchangeData *data;
  GOutputStream *output;

  g_assert (RS_IS_SMTP_CLIENT (self));
  g_assert (command == NULL || payload == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, exchange_async);

  data = g_new0 (ExchangeData, 1);
  data->secret = secret;
  g_task_set_task_data (task, data, (GDestroyNotify)exchange_data_free);

  if (self->stream == NULL)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("The server closed the connection (%s)"), place);

      g_task_return_error (task, new_error (self, RS_ERROR_NETWORK, NULL, message));
      return;
    }

  if (command == NULL && payload == NULL)
    {
      read_more (self, g_steal_pointer (&task));
      return;
    }

  output = g_io_stream_get_output_stream (self->stream);

  if (command != NULL)
    {
      if (secret)
        g_debug ("C: %s…", g_str_has_prefix (command, "AUTH ") ? "AUTH " : "");
      else
        g_debug ("C: %s", command);

      data->command = g_strconcat (command, "\r\n", NULL);
      data->command_length = strlen (data->command);
      g_output_stream_write_all_async (output, data->command, data->command_length,
                                       G_PRIORITY_DEFAULT, cancellable,
                                       written_cb, g_steal_pointer (&task));
    }
  else
    {
      gsize length;
      gconstpointer bytes;

      data->payload = g_bytes_ref (payload);
      bytes = g_bytes_get_data (data->payload, &length);
      g_debug ("C: (%" G_GSIZE_FORMAT " bytes of message)", length);
      g_output_stream_write_all_async (output, bytes, length,
                                       G_PRIORITY_DEFAULT, cancellable,
                                       written_cb, g_steal_pointer (&task));
    }
}

static RsSmtpReply *
exchange_finish (RsSmtpClient  *self,
                 GAsyncResult  *result,
                 GError       **error)
{
  g_assert (RS_IS_SMTP_CLIENT (self));
  g_assert (g_task_is_valid (result, self));

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The reply, or %NULL once @task has failed: a broken exchange drops
 * the connection. */
static RsSmtpReply *
exchange_finish_or_fail (RsSmtpClient *self,
                         GAsyncResult *result,
                         GTask        *task)
{
  GError *error = NULL;
  RsSmtpReply *reply;

  reply = exchange_finish (self, result, &error);
  if (reply == NULL)
    return_error (self, task, error, TRUE);

  return reply;
}

/* Connect */

static char *
ehlo_command (RsSmtpClient *self)
{
  g_autoptr(GSocketAddress) local = NULL;

  /* An address literal rather than this computer's name: it tells the
   * server nothing it does not already see. */
  if (self->connection != NULL)
    local = g_socket_connection_get_local_address (self->connection, NULL);

  if (G_IS_INET_SOCKET_ADDRESS (local))
    {
      GInetAddress *address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
      g_autofree char *literal = g_inet_address_to_string (address);

      if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
        return g_strdup_printf ("EHLO [IPv6:%s]", literal);
      return g_strdup_printf ("EHLO [%s]", literal);
    }

  return g_strdup ("EHLO [127.0.0.1]");
}

static void
record_tls (RsSmtpClient *self,
            GIOStream    *tls)
{
  GTlsCertificate *peer;

  g_set_object (&self->tls, G_TLS_CONNECTION (tls));
  g_set_object (&self->stream, tls);

  self->tls_version = g_tls_connection_get_protocol_version (self->tls);
  g_free (self->tls_ciphersuite);
  self->tls_ciphersuite = g_tls_connection_get_ciphersuite_name (self->tls);
  self->tls_trust = rs_net_tls_get_trust (tls);

  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);
  peer = g_tls_connection_get_peer_certificate (self->tls);
  if (peer != NULL)
    self->peer_certificate = rs_certificate_info_new (peer,
                                                      g_tls_connection_get_peer_certificate_errors (self->tls));
}

static void ehlo_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

/* Takes a reference on @task for @callback. */
static void
start_handshake (RsSmtpClient        *self,
                 GTask               *task,
                 GAsyncReadyCallback  callback)
{
  rs_net_tls_handshake_async (G_IO_STREAM (self->connection),
                              self->settings->host,
                              self->settings->port,
                              self->trust,
                              RS_SERVICE_SMTP,
                              g_task_get_cancellable (task),
                              callback,
                              g_object_ref (task));
}

static void
send_ehlo (RsSmtpClient *self,
           GTask        *task)
{
  g_autofree char *command = ehlo_command (self);

  exchange_async (self, command, NULL, FALSE, g_task_get_cancellable (task), ehlo_cb, task);
}

static void
starttls_handshake_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  g_autoptr(GIOStream) tls = NULL;
  GError *error = NULL;

  tls = rs_net_tls_handshake_finish (result, &error);
  if (tls == NULL)
    {
      return_error (self, task, error, TRUE);
      return;
    }

  record_tls (self, tls);

  /* What the server said in the clear means nothing now (RFC 3207 §4.2). */
  g_clear_pointer (&self->capabilities, g_strfreev);
  send_ehlo (self, g_steal_pointer (&task));
}

static void
starttls_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;
  GError *error = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 220)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("The server refused to start an encrypted connection (%s)"), place);

      return_error (self, task, new_error (self, RS_ERROR_TLS_UNAVAILABLE, reply, message), TRUE);
      return;
    }

  if (self->inbuf->len > 0)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = NULL;
      g_autofree char *injected = NULL;

      message = g_strdup_printf (_("The server sent data before the connection was encrypted; it may have been tampered with (%s)"),
                                 place);
      error = new_error (self, RS_ERROR_PROTOCOL, reply, message);
      injected = g_utf8_make_valid ((const char *)self->inbuf->data, MIN (self->inbuf->len, 200));
      rs_error_set_server_text (error, g_strchomp (injected));
      return_error (self, task, error, TRUE);
      return;
    }

  start_handshake (self, task, starttls_handshake_cb);
}

static void
ehlo_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 250)
    {
      return_error (self, task, new_unexpected_reply_error (self, reply), TRUE);
      return;
    }

  g_clear_pointer (&self->capabilities, g_strfreev);
  self->capabilities = g_strdupv (reply->lines + 1);

  if (self->tls == NULL)
    {
      g_assert (self->settings->security == RS_SECURITY_STARTTLS);

      if (!rs_smtp_client_has_capability (self, "STARTTLS"))
        {
          g_autofree char *place = where (self);
          g_autofree char *message = NULL;

          message = g_strdup_printf (_("The server does not offer an encrypted connection (%s)"), place);
          return_error (self, task, new_error (self, RS_ERROR_TLS_UNAVAILABLE, reply, message), TRUE);
          return;
        }

      exchange_async (self, "STARTTLS", NULL, FALSE, g_task_get_cancellable (task),
                      starttls_cb, g_object_ref (task));
      return;
    }

  return_success (self, task);
}

static void
greeting_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 220)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("The server is not accepting connections (%s)"), place);

      return_error (self, task, new_error (self, RS_ERROR_PROTOCOL, reply, message), TRUE);
      return;
    }

  g_free (self->greeting);
  self->greeting = g_strdup (reply->text);

  send_ehlo (self, g_steal_pointer (&task));
}

static void
implicit_tls_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  g_autoptr(GIOStream) tls = NULL;
  GError *error = NULL;

  tls = rs_net_tls_handshake_finish (result, &error);
  if (tls == NULL)
    {
      return_error (self, task, error, TRUE);
      return;
    }

  record_tls (self, tls);
  exchange_async (self, NULL, NULL, FALSE, g_task_get_cancellable (task),
                  greeting_cb, g_object_ref (task));
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  g_autoptr(GSocketConnection) connection = NULL;
  GError *error = NULL;

  connection = rs_net_connect_finish (result, &error);
  if (connection == NULL)
    {
      return_error (self, task, error, TRUE);
      return;
    }

  g_set_object (&self->connection, connection);
  g_set_object (&self->stream, G_IO_STREAM (connection));

  if (self->settings->security == RS_SECURITY_TLS)
    {
      start_handshake (self, task, implicit_tls_cb);
      return;
    }

  exchange_async (self, NULL, NULL, FALSE, g_task_get_cancellable (task),
                  greeting_cb, g_object_ref (task));
}

/* Authenticate */

static void
auth_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 235)
    {
      g_clear_pointer (&self->auth_mechanism, g_free);
      return_error (self, task, new_authentication_error (self, reply), FALSE);
      return;
    }

  self->authenticated = TRUE;
  return_success (self, task);
}

static char *
base64_of (const char *text)
{
  return g_base64_encode ((const guchar *)text, strlen (text));
}

/* AUTH LOGIN: each 334 asks for the next of the username and the
 * password. */
static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  OpData *data = g_task_get_task_data (task);
  g_autoptr(RsSmtpReply) reply = NULL;
  char *encoded;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 334)
    {
      return_error (self, task, new_authentication_error (self, reply), FALSE);
      return;
    }

  if (!data->username_sent)
    {
      data->username_sent = TRUE;
      encoded = base64_of (self->settings->username);
      exchange_async (self, encoded, NULL, TRUE, g_task_get_cancellable (task),
                      login_cb, g_object_ref (task));
    }
  else
    {
      encoded = base64_of (data->password);
      exchange_async (self, encoded, NULL, TRUE, g_task_get_cancellable (task),
                      auth_done_cb, g_object_ref (task));
    }
  secure_free (encoded);
}

/* Send */

static void
rset_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;
  OpData *data = g_task_get_task_data (task);
  GError *error = NULL;

  /* The refusal is what matters; RSET only keeps the session usable. */
  reply = exchange_finish (self, result, &error);
  if (error != NULL)
    g_debug ("RSET failed: %s", error->message);
  g_clear_error (&error);

  return_error (self, task, g_steal_pointer (&data->error), FALSE);
}

static void
fail_transaction (RsSmtpClient *self,
                  GTask        *task,
                  GError       *error)
{
  OpData *data = g_task_get_task_data (task);

  data->error = error;
  exchange_async (self, "RSET", NULL, FALSE, g_task_get_cancellable (task), rset_cb, task);
}

static void
message_sent_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 250)
    {
      return_error (self, task, new_send_error (self, reply, NULL), FALSE);
      return;
    }

  return_success (self, task);
}

static void
data_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  OpData *data = g_task_get_task_data (task);
  g_autoptr(RsSmtpReply) reply = NULL;
  g_autoptr(GBytes) stuffed = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 354)
    {
      fail_transaction (self, g_steal_pointer (&task), new_send_error (self, reply, NULL));
      return;
    }

  stuffed = rs_smtp_dot_stuff (data->message);
  exchange_async (self, NULL, stuffed, FALSE, g_task_get_cancellable (task),
                  message_sent_cb, g_object_ref (task));
}

static void
recipient_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  OpData *data = g_task_get_task_data (task);
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 250 && reply->code != 251)
    {
      const char *recipient = data->recipients[data->next_recipient - 1];

      fail_transaction (self, g_steal_pointer (&task), new_send_error (self, reply, recipient));
      return;
    }

  send_next_recipient (self, g_steal_pointer (&task));
}

static void
send_next_recipient (RsSmtpClient *self,
                     GTask        *task)
{
  OpData *data = g_task_get_task_data (task);
  const char *recipient = data->recipients[data->next_recipient];
  g_autofree char *command = NULL;

  if (recipient == NULL)
    {
      exchange_async (self, "DATA", NULL, FALSE, g_task_get_cancellable (task), data_cb, task);
      return;
    }

  data->next_recipient++;
  command = g_strdup_printf ("RCPT TO:<%s>", recipient);
  exchange_async (self, command, NULL, FALSE, g_task_get_cancellable (task), recipient_cb, task);
}

static void
mail_from_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 250)
    {
      fail_transaction (self, g_steal_pointer (&task), new_send_error (self, reply, NULL));
      return;
    }

  send_next_recipient (self, g_steal_pointer (&task));
}

static gboolean
is_valid_path (const char *address)
{
  if (address == NULL || *address == '\0' || strlen (address) > 320)
    return FALSE;

  for (const char *p = address; *p != '\0'; p++)
    {
      if ((guchar)*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ' ')
        return FALSE;
    }

  return g_utf8_validate (address, -1, NULL);
}

static gboolean
is_ascii (const char *str)
{
  for (const char *p = str; *p != '\0'; p++)
    {
      if ((guchar)*p >= 0x80)
        return FALSE;
    }

  return TRUE;
}

/* Quit */

static void
closed_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RsSmtpClient *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (object), result, &error))
    g_debug ("Closing the connection to %s: %s", self->settings->host, error->message);

  drop_connection (self);
  return_success (self, task);
}

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  RsSmtpClient *self = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(RsSmtpReply) reply = NULL;
  g_autoptr(GIOStream) stream = NULL;

  reply = exchange_finish_or_fail (self, result, task);
  if (reply == NULL)
    return;

  if (reply->code != 221)
    g_debug ("QUIT answered with %u", reply->code);

  /* Closing the TLS stream sends close_notify, then closes the socket. */
  stream = g_object_ref (self->stream);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                           closed_cb, g_object_ref (task));
}

/* Check */

static void
check_quit_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  RsSmtpClient *client = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* Signed in is what the check wanted to know; a rough goodbye changes
   * nothing, unless the caller gave up. */
  if (!rs_smtp_client_quit_finish (client, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_debug ("QUIT failed: %s", error->message);
    }

  g_task_return_boolean (task, TRUE);
}

static void
check_authenticated_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  RsSmtpClient *client = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!rs_smtp_client_authenticate_finish (client, result, &error))
    {
      /* Leave politely; the error stays the one that matters. */
      rs_smtp_client_quit_async (client, NULL, NULL, NULL);
      g_task_return_error (task, error);
      return;
    }

  rs_smtp_client_quit_async (client, g_task_get_cancellable (task),
                             check_quit_cb, g_object_ref (task));
}

static void
check_connected_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  RsSmtpClient *client = RS_SMTP_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  OpData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!rs_smtp_client_connect_finish (client, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  rs_smtp_client_authenticate_async (client, data->password, g_task_get_cancellable (task),
                                     check_authenticated_cb, g_object_ref (task));
}

/* GObject */

static void
rs_smtp_client_dispose (GObject *object)
{
  RsSmtpClient *self = (RsSmtpClient *)object;

  drop_connection (self);

  G_OBJECT_CLASS (rs_smtp_client_parent_class)->dispose (object);
}

static void
rs_smtp_client_finalize (GObject *object)
{
  RsSmtpClient *self = (RsSmtpClient *)object;

  g_clear_pointer (&self->settings, rs_server_settings_free);
  g_clear_pointer (&self->trust, rs_trust_free);
  g_clear_pointer (&self->inbuf, g_byte_array_unref);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->auth_mechanism, g_free);
  g_clear_pointer (&self->tls_ciphersuite, g_free);
  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);

  G_OBJECT_CLASS (rs_smtp_client_parent_class)->finalize (object);
}

static void
rs_smtp_client_class_init (RsSmtpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rs_smtp_client_dispose;
  object_class->finalize = rs_smtp_client_finalize;
}

static void
rs_smtp_client_init (RsSmtpClient *self)
{
  self->timeout = RS_DEFAULT_TIMEOUT_SECONDS;
  self->inbuf = g_byte_array_new ();
  self->tls_version = G_TLS_PROTOCOL_VERSION_UNKNOWN;
}

/* Public API */

/**
 * rs_smtp_client_new:
 * @settings: where to send: host, port, security and username
 * @trust: (nullable): a CA file and pinned certificates, beyond the
 *   system's authorities
 *
 * Returns: (transfer full): a client, not yet connected
 */
RsSmtpClient *
rs_smtp_client_new (const RsServerSettings *settings,
                    const RsTrust          *trust)
{
  RsSmtpClient *self;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (settings->host != NULL, NULL);

  self = g_object_new (RS_TYPE_SMTP_CLIENT, NULL);
  self->settings = rs_server_settings_copy (settings);
  self->trust = trust ? rs_trust_copy (trust) : NULL;

  return self;
}

guint
rs_smtp_client_get_timeout (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), 0);

  return self->timeout;
}

/**
 * rs_smtp_client_set_timeout:
 * @timeout_seconds: how long to wait for the connection and for each
 *   read or write; 0 waits for ever
 *
 * Takes effect at the next connect.
 */
void
rs_smtp_client_set_timeout (RsSmtpClient *self,
                            guint         timeout_seconds)
{
  g_return_if_fail (RS_IS_SMTP_CLIENT (self));

  self->timeout = timeout_seconds;
}

/**
 * rs_smtp_client_connect_async:
 *
 * Connects, encrypts (implicit TLS, or STARTTLS which is then required)
 * and greets the server with EHLO.  Failures are RS_ERROR with the
 * service %RS_SERVICE_SMTP, the server's words and its status code;
 * cancellation is %G_IO_ERROR_CANCELLED.
 */
void
rs_smtp_client_connect_async (RsSmtpClient        *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RS_IS_SMTP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_smtp_client_connect_async);

  if (!check_can_start (self, task, FALSE))
    return;

  drop_connection (self);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->auth_mechanism, g_free);
  g_clear_pointer (&self->tls_ciphersuite, g_free);
  g_clear_pointer (&self->peer_certificate, rs_certificate_info_free);
  self->tls_version = G_TLS_PROTOCOL_VERSION_UNKNOWN;
  self->tls_trust = RS_TLS_TRUST_SYSTEM;

  rs_net_connect_async (self->settings->host,
                        self->settings->port,
                        self->timeout,
                        RS_SERVICE_SMTP,
                        cancellable,
                        connected_cb,
                        g_steal_pointer (&task));
}

gboolean
rs_smtp_client_connect_finish (RsSmtpClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_smtp_client_connect_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_smtp_client_authenticate_async:
 * @password: the password; it is sent only over TLS, and wiped from
 *   memory when the operation ends
 *
 * Signs in with AUTH PLAIN, or AUTH LOGIN when PLAIN is not offered.
 * A refusal is RS_ERROR_AUTHENTICATION with the server's words and its
 * enhanced status code ("5.7.8" wrong credentials; "5.7.139", "5.7.3",
 * "5.7.0" sign-in blocked by policy; "4.x.x" temporary).
 */
void
rs_smtp_client_authenticate_async (RsSmtpClient        *self,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_auto(GStrv) mechanisms = NULL;
  OpData *data;

  g_return_if_fail (RS_IS_SMTP_CLIENT (self));
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_smtp_client_authenticate_async);

  if (!check_can_start (self, task, TRUE))
    return;

  data = g_new0 (OpData, 1);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify)op_data_free);

  if (self->tls == NULL)
    {
      g_autofree char *place = where (self);
      g_autofree char *message = g_strdup_printf (_("The connection is not encrypted; the password was not sent (%s)"), place);

      return_error (self, task, new_error (self, RS_ERROR_TLS_UNAVAILABLE, NULL, message), FALSE);
      return;
    }

  if (self->settings->username == NULL || self->settings->username[0] == '\0')
    {
      return_error (self, task,
                    new_error (self, RS_ERROR_INPUT, NULL, _("A username is needed to sign in")), FALSE);
      return;
    }

  mechanisms = rs_smtp_client_dup_auth_mechanisms (self);

  if (g_strv_contains ((const char * const *)mechanisms, "PLAIN"))
    {
      g_autoptr(GString) plain = g_string_new (NULL);
      char *encoded;
      char *command;

      /* authzid NUL authcid NUL password (RFC 4616), sent as the initial
       * response (RFC 4954 §4). */
      g_string_append_c (plain, '\0');
      g_string_append (plain, self->settings->username);
      g_string_append_c (plain, '\0');
      g_string_append (plain, password);
      encoded = g_base64_encode ((const guchar *)plain->str, plain->len);
      explicit_bzero (plain->str, plain->len);
      command = g_strconcat ("AUTH PLAIN ", encoded, NULL);
      secure_free (encoded);

      g_free (self->auth_mechanism);
      self->auth_mechanism = g_strdup ("PLAIN");
      exchange_async (self, command, NULL, TRUE, cancellable, auth_done_cb, g_steal_pointer (&task));
      secure_free (command);
      return;
    }

  if (g_strv_contains ((const char * const *)mechanisms, "LOGIN"))
    {
      g_free (self->auth_mechanism);
      self->auth_mechanism = g_strdup ("LOGIN");
      exchange_async (self, "AUTH LOGIN", NULL, TRUE, cancellable, login_cb, g_steal_pointer (&task));
      return;
    }

  return_error (self, task, new_no_mechanism_error (self, mechanisms), FALSE);
}

gboolean
rs_smtp_client_authenticate_finish (RsSmtpClient  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_smtp_client_authenticate_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_smtp_client_send_async:
 * @from: the envelope sender, a bare address
 * @recipients: the envelope recipients, bare addresses
 * @message: the RFC 5322 message; line ends are made CRLF and lines
 *   starting with "." are stuffed here
 *
 * Sends one message with MAIL FROM, RCPT TO and DATA.  A refused sender,
 * recipient or message is RS_ERROR_INPUT (RS_ERROR_AUTHENTICATION for a
 * 5.7.x policy refusal) with the server's words; the transaction is then
 * reset, so the client stays usable.
 */
void
rs_smtp_client_send_async (RsSmtpClient        *self,
                           const char          *from,
                           const char * const  *recipients,
                           GBytes              *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GString) command = NULL;
  gboolean needs_utf8;
  gboolean eight_bit = FALSE;
  OpData *data;
  gsize length;
  const guint8 *bytes;

  g_return_if_fail (RS_IS_SMTP_CLIENT (self));
  g_return_if_fail (from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_smtp_client_send_async);

  if (!check_can_start (self, task, TRUE))
    return;

  data = g_new0 (OpData, 1);
  data->from = g_strdup (from);
  data->recipients = g_strdupv ((char **)recipients);
  data->message = g_bytes_ref (message);
  g_task_set_task_data (task, data, (GDestroyNotify)op_data_free);

  needs_utf8 = !is_ascii (from);

  if (!is_valid_path (from))
    {
      g_autofree char *text = g_strdup_printf (_("“%s” is not an address the message can be sent from"), from);

      return_error (self, task, new_error (self, RS_ERROR_INPUT, NULL, text), FALSE);
      return;
    }

  if (recipients[0] == NULL)
    {
      return_error (self, task,
                    new_error (self, RS_ERROR_INPUT, NULL, _("The message has no recipients")), FALSE);
      return;
    }

  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!is_valid_path (recipients[i]))
        {
          g_autofree char *text = g_strdup_printf (_("“%s” is not an address a message can be sent to"), recipients[i]);

          return_error (self, task, new_error (self, RS_ERROR_INPUT, NULL, text), FALSE);
          return;
        }
      needs_utf8 |= !is_ascii (recipients[i]);
    }

  if (needs_utf8 && !rs_smtp_client_has_capability (self, "SMTPUTF8"))
    {
      return_error (self, task,
                    new_error (self, RS_ERROR_INPUT, NULL,
                               _("The server cannot send to addresses with letters outside English")), FALSE);
      return;
    }

  bytes = g_bytes_get_data (message, &length);
  for (gsize i = 0; i < length && !eight_bit; i++)
    eight_bit = bytes[i] >= 0x80;

  command = g_string_new (NULL);
  g_string_printf (command, "MAIL FROM:<%s>", from);
  if (eight_bit && rs_smtp_client_has_capability (self, "8BITMIME"))
    g_string_append (command, " BODY=8BITMIME");
  if (needs_utf8)
    g_string_append (command, " SMTPUTF8");

  exchange_async (self, command->str, NULL, FALSE, cancellable, mail_from_cb, g_steal_pointer (&task));
}

gboolean
rs_smtp_client_send_finish (RsSmtpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_smtp_client_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * rs_smtp_client_quit_async:
 *
 * Says QUIT and closes the connection.  Succeeds at once when not
 * connected.
 */
void
rs_smtp_client_quit_async (RsSmtpClient        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RS_IS_SMTP_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_smtp_client_quit_async);

  if (self->stream == NULL && !self->busy)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (!check_can_start (self, task, FALSE))
    return;

  exchange_async (self, "QUIT", NULL, FALSE, cancellable, quit_cb, g_steal_pointer (&task));
}

gboolean
rs_smtp_client_quit_finish (RsSmtpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_smtp_client_quit_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
rs_smtp_client_is_connected (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);

  return self->stream != NULL;
}

gboolean
rs_smtp_client_is_authenticated (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);

  return self->authenticated;
}

/**
 * rs_smtp_client_get_greeting:
 *
 * Returns: (nullable): the server's 220 greeting, as sent
 */
const char *
rs_smtp_client_get_greeting (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  return self->greeting;
}

/**
 * rs_smtp_client_get_capabilities:
 *
 * Returns: (nullable) (transfer none): the extensions of the last EHLO
 *   reply, one a line ("AUTH PLAIN LOGIN", "SIZE 52428800", …); after
 *   STARTTLS, only those the server announced over TLS
 */
const char * const *
rs_smtp_client_get_capabilities (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  return (const char * const *)self->capabilities;
}

/**
 * rs_smtp_client_has_capability:
 * @keyword: an EHLO keyword such as "STARTTLS", any case
 */
gboolean
rs_smtp_client_has_capability (RsSmtpClient *self,
                               const char   *keyword)
{
  gsize length;

  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (keyword != NULL, FALSE);

  if (self->capabilities == NULL)
    return FALSE;

  length = strlen (keyword);

  for (guint i = 0; self->capabilities[i] != NULL; i++)
    {
      const char *line = self->capabilities[i];

      if (g_ascii_strncasecmp (line, keyword, length) == 0 &&
          (line[length] == '\0' || line[length] == ' ' || line[length] == '='))
        return TRUE;
    }

  return FALSE;
}

/**
 * rs_smtp_client_dup_auth_mechanisms:
 *
 * Returns: (transfer full): the SASL mechanisms of "AUTH" (and the old
 *   "AUTH=" form), upper case; empty when none is offered
 */
char **
rs_smtp_client_dup_auth_mechanisms (RsSmtpClient *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  for (guint i = 0; self->capabilities != NULL && self->capabilities[i] != NULL; i++)
    {
      const char *line = self->capabilities[i];
      g_auto(GStrv) words = NULL;

      if (g_ascii_strncasecmp (line, "AUTH", 4) != 0 || (line[4] != ' ' && line[4] != '='))
        continue;

      words = g_strsplit (line + 5, " ", -1);
      for (guint j = 0; words[j] != NULL; j++)
        {
          char *mechanism = g_ascii_strup (words[j], -1);

          if (*mechanism == '\0' ||
              g_ptr_array_find_with_equal_func (seen, mechanism, g_str_equal, NULL))
            {
              g_free (mechanism);
              continue;
            }

          g_strv_builder_add (builder, mechanism);
          g_ptr_array_add (seen, mechanism);
        }
    }

  return g_strv_builder_end (builder);
}

/**
 * rs_smtp_client_get_auth_mechanism:
 *
 * Returns: (nullable): "PLAIN" or "LOGIN" once signed in
 */
const char *
rs_smtp_client_get_auth_mechanism (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  return self->authenticated ? self->auth_mechanism : NULL;
}

/**
 * rs_smtp_client_get_tls_protocol_version:
 *
 * Returns: the TLS version negotiated at the last connect
 */
GTlsProtocolVersion
rs_smtp_client_get_tls_protocol_version (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), G_TLS_PROTOCOL_VERSION_UNKNOWN);

  return self->tls_version;
}

/**
 * rs_smtp_client_get_tls_ciphersuite_name:
 *
 * Returns: (nullable): the cipher suite negotiated at the last connect,
 *   as the TLS library names it
 */
const char *
rs_smtp_client_get_tls_ciphersuite_name (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  return self->tls_ciphersuite;
}

/**
 * rs_smtp_client_get_peer_certificate:
 *
 * Returns: (transfer none) (nullable): the server's certificate from the
 *   last connect; its errors are those it was accepted despite (by CA
 *   file or pin), 0 when the system trusted it
 */
RsCertificateInfo *
rs_smtp_client_get_peer_certificate (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), NULL);

  return self->peer_certificate;
}

/**
 * rs_smtp_client_get_tls_trust:
 *
 * Returns: why the server's certificate was trusted at the last connect
 */
RsTlsTrust
rs_smtp_client_get_tls_trust (RsSmtpClient *self)
{
  g_return_val_if_fail (RS_IS_SMTP_CLIENT (self), RS_TLS_TRUST_SYSTEM);

  return self->tls_trust;
}

/**
 * rs_smtp_check_async:
 * @settings: the SMTP server
 * @trust: (nullable): what the user chose to trust
 * @password: the password
 *
 * Connects, signs in and says goodbye: the sign-in's test of the
 * sending side.  Fails like rs_smtp_client_connect_async() and
 * rs_smtp_client_authenticate_async().
 */
void
rs_smtp_check_async (const RsServerSettings *settings,
                     const RsTrust          *trust,
                     const char             *password,
                     GCancellable           *cancellable,
                     GAsyncReadyCallback     callback,
                     gpointer                user_data)
{
  g_autoptr(RsSmtpClient) client = NULL;
  g_autoptr(GTask) task = NULL;
  OpData *data;

  g_return_if_fail (settings != NULL);
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  client = rs_smtp_client_new (settings, trust);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_smtp_check_async);

  data = g_new0 (OpData, 1);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify)op_data_free);

  rs_smtp_client_connect_async (client, cancellable, check_connected_cb, g_steal_pointer (&task));
}

gboolean
rs_smtp_check_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rs_smtp_check_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
