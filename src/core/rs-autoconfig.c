/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-autoconfig"

#include "config.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "rs-autoconfig.h"
#include "rs-providers.h"
#include "rs-utils.h"
#include "rs-validate.h"

/* clientConfig parsing: libxml2 without network access, without entity
 * substitution and without DTD loading.  A document that declares a DTD
 * at all is refused before parsing (clientConfig never needs one, and
 * that closes the door on entity expansion of every kind); text is read
 * only from text and CDATA nodes, never through entity references. */

#define MAX_TEXT_LENGTH 1024

typedef struct
{
  RsServerSettings *settings;
  gboolean          insecure;
  gboolean          oauth2;
  gboolean          password;
  int               score;   /* SSL 3, STARTTLS 2, plain 1 */
} Server;

static void
server_clear (Server *server)
{
  g_clear_pointer (&server->settings, rs_server_settings_free);
}

static gboolean
name_is (xmlNode    *node,
         const char *name)
{
  return node->type == XML_ELEMENT_NODE && g_str_equal ((const char *) node->name, name);
}

/* The element's own text, trimmed; entity references are not followed. */
static char *
node_text (xmlNode *node)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (xmlNode *child = node->children; child != NULL; child = child->next)
    if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
        child->content != NULL)
      {
        g_string_append (text, (const char *) child->content);
        if (text->len > MAX_TEXT_LENGTH)
          return NULL;
      }

  if (!g_utf8_validate (text->str, text->len, NULL))
    return NULL;

  return g_strstrip (g_string_free (g_steal_pointer (&text), FALSE));
}

static char *
node_attribute (xmlNode    *node,
                const char *name)
{
  xmlChar *value = xmlGetNoNsProp (node, (const xmlChar *) name);
  char *copy;

  if (value == NULL)
    return NULL;

  copy = g_utf8_validate ((const char *) value, -1, NULL) && strlen ((const char *) value) <= MAX_TEXT_LENGTH
    ? g_strstrip (g_strdup ((const char *) value)) : NULL;
  xmlFree (value);

  return copy;
}

static gboolean
is_web_url (const char *url)
{
  return url != NULL &&
         (g_str_has_prefix (url, "https://") || g_str_has_prefix (url, "http://")) &&
         g_uri_is_valid (url, G_URI_FLAGS_NONE, NULL);
}

char *
rs_autoconfig_expand (const char *text,
                      const char *address)
{
  static const char * const names[] = { "EMAILADDRESS", "EMAILLOCALPART", "EMAILDOMAIN", "REALNAME" };
  g_autoptr(GString) out = NULL;
  g_autofree char *localpart = NULL;
  const char *at;
  const char *domain;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);

  at = strrchr (address, '@');
  localpart = at ? g_strndup (address, at - address) : g_strdup (address);
  domain = at ? at + 1 : "";
  out = g_string_new (NULL);

  for (p = text; *p != '\0';)
    {
      gboolean replaced = FALSE;

      if (*p == '%')
        for (guint i = 0; i < G_N_ELEMENTS (names); i++)
          {
            gsize n = strlen (names[i]);

            if (g_ascii_strncasecmp (p + 1, names[i], n) != 0)
              continue;

            switch (i)
              {
              case 0: g_string_append (out, address); break;
              case 1: g_string_append (out, localpart); break;
              case 2: g_string_append (out, domain); break;
              default: break;  /* the real name is not a username: drop it */
              }

            p += 1 + n;
            if (*p == '%')  /* tolerated when missing */
              p++;
            replaced = TRUE;
            break;
          }

      if (!replaced)
        g_string_append_c (out, *p++);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static int
socket_score (const char *socket_type)
{
  if (socket_type == NULL)
    return 0;
  if (g_ascii_strcasecmp (socket_type, "SSL") == 0 || g_ascii_strcasecmp (socket_type, "TLS") == 0)
    return 3;
  if (g_ascii_strcasecmp (socket_type, "STARTTLS") == 0)
    return 2;
  if (g_ascii_strcasecmp (socket_type, "plain") == 0)
    return 1;
  return 0;
}

/* Reads one incomingServer/outgoingServer.  Returns FALSE when it is not
 * usable (no host, bad port, unknown socketType). */
static gboolean
read_server (xmlNode    *node,
             RsService   service,
             const char *address,
             Server     *server)
{
  g_autofree char *host = NULL;
  g_autofree char *username = NULL;
  g_autofree char *socket_type = NULL;
  guint64 port = 0;
  int score = 0;

  for (xmlNode *child = node->children; child != NULL; child = child->next)
    {
      g_autofree char *text = NULL;

      if (child->type != XML_ELEMENT_NODE || (text = node_text (child)) == NULL)
        continue;

      if (name_is (child, "hostname") && host == NULL)
        host = rs_autoconfig_expand (text, address);
      else if (name_is (child, "port") && port == 0)
        {
          if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &port, NULL))
            return FALSE;
        }
      else if (name_is (child, "socketType") && socket_type == NULL)
        socket_type = g_steal_pointer (&text);
      else if (name_is (child, "username") && username == NULL)
        username = rs_autoconfig_expand (text, address);
      else if (name_is (child, "authentication"))
        {
          if (g_ascii_strcasecmp (text, "OAuth2") == 0)
            server->oauth2 = TRUE;
          else if (g_ascii_strncasecmp (text, "password-", strlen ("password-")) == 0)
            server->password = TRUE;
        }
    }

  score = socket_score (socket_type);
  if (host == NULL || score == 0 || !rs_validate_hostname ("server", host, NULL))
    return FALSE;

  if (port == 0)
    port = service == RS_SERVICE_IMAP ? (score == 3 ? 993 : 143) : (score == 3 ? 465 : 587);

  if (username == NULL || *username == '\0')
    rs_set_str (&username, address);

  server->score = score;
  server->insecure = score == 1;
  /* Passwords never cross the network in the clear: "plain" is tried
   * with STARTTLS, and still flagged for the user to agree to. */
  server->settings = rs_server_settings_new (host, (guint16) port,
                                             score == 3 ? RS_SECURITY_TLS : RS_SECURITY_STARTTLS,
                                             username);

  return TRUE;
}

static RsRoute
route_for_host (const char *host)
{
  if (rs_host_has_suffix (host, "gmail.com") || rs_host_has_suffix (host, "googlemail.com") ||
      rs_host_has_suffix (host, "google.com"))
    return RS_ROUTE_GOOGLE;
  if (rs_host_has_suffix (host, "office365.com") || rs_host_has_suffix (host, "outlook.com"))
    return RS_ROUTE_MICROSOFT;

  return RS_ROUTE_NONE;
}

static gboolean
has_dtd (const char *data,
         gsize       length)
{
  return g_strstr_len (data, length, "<!DOCTYPE") != NULL ||
         g_strstr_len (data, length, "<!ENTITY") != NULL;
}

RsDetectCandidate *
rs_autoconfig_parse (const char  *data,
                     gsize        length,
                     const char  *address,
                     const char  *source,
                     GError     **error)
{
  g_autoptr(RsDetectCandidate) candidate = NULL;
  g_autofree char *visit_url = NULL;
  g_autofree char *visit_text = NULL;
  g_autofree char *documentation_url = NULL;
  g_autofree char *display_name = NULL;
  Server imap = { 0 }, smtp = { 0 };
  gboolean exchange = FALSE, pop3 = FALSE;
  xmlDoc *doc;
  xmlNode *root;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);

  if (length > RS_AUTOCONFIG_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The configuration file is too large (over %u KiB)"), RS_AUTOCONFIG_MAX_SIZE / 1024);
      return NULL;
    }

  if (length == 0 || length > G_MAXINT)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The configuration file is empty"));
      return NULL;
    }

  if (has_dtd (data, length))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The configuration file declares a DTD, which settings files never need: refused"));
      return NULL;
    }

  doc = xmlReadMemory (data, (int) length, "config-v1.1.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  if (doc == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The configuration file is not valid XML"));
      return NULL;
    }

  root = xmlDocGetRootElement (doc);
  if (root == NULL || !name_is (root, "clientConfig") || xmlGetIntSubset (doc) != NULL)
    {
      xmlFreeDoc (doc);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The file is not a mail configuration (clientConfig)"));
      return NULL;
    }

  for (xmlNode *provider = root->children; provider != NULL; provider = provider->next)
    {
      if (!name_is (provider, "emailProvider"))
        continue;

      for (xmlNode *node = provider->children; node != NULL; node = node->next)
        {
          g_autofree char *type = NULL;

          if (node->type != XML_ELEMENT_NODE)
            continue;

          if (name_is (node, "displayName") && display_name == NULL)
            display_name = node_text (node);
          else if (name_is (node, "incomingServer") || name_is (node, "outgoingServer"))
            {
              gboolean incoming = name_is (node, "incomingServer");
              Server *slot = incoming ? &imap : &smtp;
              Server found = { 0 };

              type = node_attribute (node, "type");
              if (incoming && g_strcmp0 (type, "exchange") == 0)
                exchange = TRUE;
              if (incoming && g_strcmp0 (type, "pop3") == 0)
                pop3 = TRUE;
              if (g_strcmp0 (type, incoming ? "imap" : "smtp") != 0)
                continue;

              /* Encrypted before plain; the first of equals wins. */
              if (read_server (node, incoming ? RS_SERVICE_IMAP : RS_SERVICE_SMTP, address, &found) &&
                  found.score > slot->score)
                {
                  server_clear (slot);
                  *slot = found;
                }
              else
                server_clear (&found);
            }
          else if (name_is (node, "documentation") && documentation_url == NULL)
            {
              g_autofree char *url = node_attribute (node, "url");

              if (is_web_url (url))
                documentation_url = g_steal_pointer (&url);
            }
          else if (name_is (node, "enable") && visit_url == NULL)
            {
              g_autofree char *url = node_attribute (node, "visiturl");

              if (is_web_url (url))
                {
                  visit_url = g_steal_pointer (&url);
                  for (xmlNode *child = node->children; child != NULL && visit_text == NULL; child = child->next)
                    if (name_is (child, "instruction"))
                      visit_text = node_text (child);
                }
            }
        }
    }

  xmlFreeDoc (doc);

  if (imap.settings == NULL)
    {
      server_clear (&smtp);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           exchange ? _("The configuration offers only Exchange, no IMAP server")
                           : pop3 ? _("The configuration offers only POP3, no IMAP server")
                           : _("The configuration names no IMAP server"));
      return NULL;
    }

  candidate = rs_detect_candidate_new (source);
  candidate->imap = g_steal_pointer (&imap.settings);
  candidate->smtp = g_steal_pointer (&smtp.settings);
  candidate->route = route_for_host (candidate->imap->host);
  candidate->exchange_offered = exchange;
  if (imap.oauth2 && (!imap.password || candidate->route != RS_ROUTE_NONE))
    rs_set_str (&candidate->auth, "oauth2");
  candidate->provider_name = display_name && *display_name ? g_steal_pointer (&display_name) : NULL;
  candidate->instructions_url = visit_url ? g_steal_pointer (&visit_url) : g_steal_pointer (&documentation_url);
  candidate->note = visit_text && *visit_text ? g_steal_pointer (&visit_text) : NULL;

  if (imap.insecure || smtp.insecure)
    {
      candidate->insecure = TRUE;
      candidate->insecure_reason = g_strdup (_("The provider’s settings say the server does not use encryption"));
    }

  return g_steal_pointer (&candidate);
}

/* The fetch ---------------------------------------------------------------- */

typedef struct
{
  SoupSession  *session;
  SoupMessage  *message;
  GCancellable *cancellable;   /* ours: cancelled by the caller's or the timer */
  GUri         *uri;
  GByteArray   *buffer;
  guint         redirects;
  GSource      *timeout;       /* on the caller's thread-default context */
  gulong        cancelled_id;
  GCancellable *caller_cancellable;
  gboolean      insecure;
  gboolean      timed_out;
  guint         timeout_seconds;
} Fetch;

static void send_next (GTask *task);

static void
fetch_free (Fetch *fetch)
{
  if (fetch->timeout != NULL)
    {
      g_source_destroy (fetch->timeout);
      g_clear_pointer (&fetch->timeout, g_source_unref);
    }
  if (fetch->caller_cancellable != NULL)
    g_cancellable_disconnect (fetch->caller_cancellable, fetch->cancelled_id);
  g_clear_object (&fetch->caller_cancellable);
  g_clear_object (&fetch->session);
  g_clear_object (&fetch->message);
  g_clear_object (&fetch->cancellable);
  g_clear_pointer (&fetch->uri, g_uri_unref);
  g_clear_pointer (&fetch->buffer, g_byte_array_unref);
  g_free (fetch);
}

static gboolean
fetch_timeout_cb (gpointer user_data)
{
  Fetch *fetch = user_data;

  fetch->timed_out = TRUE;
  g_cancellable_cancel (fetch->cancellable);

  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  GCancellable *ours = user_data;

  g_cancellable_cancel (ours);
}

static void
fetch_fail (GTask  *task,
            GError *error)
{
  Fetch *fetch = g_task_get_task_data (task);
  g_autofree char *where = g_uri_to_string_partial (fetch->uri, G_URI_HIDE_QUERY);

  if (fetch->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("%s did not answer within %u s"), where, fetch->timeout_seconds);
      return;
    }

  if (error->domain == G_IO_ERROR && error->code != G_IO_ERROR_CANCELLED &&
      error->code != G_IO_ERROR_NOT_FOUND)
    g_prefix_error (&error, "%s: ", where);

  g_task_return_error (task, error);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  gsize n_read = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n_read, &error))
    {
      fetch_fail (task, error);
      return;
    }

  g_byte_array_set_size (fetch->buffer, n_read);
  if (n_read > RS_AUTOCONFIG_MAX_SIZE)
    {
      fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                     _("The answer is larger than %u KiB: refused"),
                                     RS_AUTOCONFIG_MAX_SIZE / 1024));
      return;
    }

  g_input_stream_close (G_INPUT_STREAM (object), NULL, NULL);
  g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&fetch->buffer)),
                         (GDestroyNotify) g_bytes_unref);
}

static void
sent_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GInputStream) stream = NULL;
  GError *error = NULL;
  guint status;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (stream == NULL)
    {
      fetch_fail (task, error);
      return;
    }

  status = soup_message_get_status (fetch->message);

  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      const char *location = soup_message_headers_get_one (soup_message_get_response_headers (fetch->message),
                                                           "Location");
      g_autoptr(GUri) next = NULL;

      g_input_stream_close (stream, NULL, NULL);

      if (location == NULL ||
          (next = g_uri_parse_relative (fetch->uri, location, SOUP_HTTP_URI_FLAGS, NULL)) == NULL ||
          (g_strcmp0 (g_uri_get_scheme (next), "https") != 0 && g_strcmp0 (g_uri_get_scheme (next), "http") != 0))
        {
          fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                         _("Redirected to an address that is not http or https")));
          return;
        }

      if (++fetch->redirects > RS_AUTOCONFIG_MAX_REDIRECTS)
        {
          fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS,
                                         _("More than %u redirects"), RS_AUTOCONFIG_MAX_REDIRECTS));
          return;
        }

      g_clear_pointer (&fetch->uri, g_uri_unref);
      fetch->uri = g_steal_pointer (&next);
      send_next (g_steal_pointer (&task));
      return;
    }

  if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE)
    {
      g_autofree char *where = g_uri_to_string_partial (fetch->uri, G_URI_HIDE_QUERY);

      g_input_stream_close (stream, NULL, NULL);
      fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                     _("No settings at %s (HTTP %u)"), where, status));
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_input_stream_close (stream, NULL, NULL);
      fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, _("The server answered HTTP %u %s"),
                                     status, soup_message_get_reason_phrase (fetch->message)
                                     ? soup_message_get_reason_phrase (fetch->message) : ""));
      return;
    }

  if (soup_message_headers_get_content_length (soup_message_get_response_headers (fetch->message)) >
      RS_AUTOCONFIG_MAX_SIZE)
    {
      g_input_stream_close (stream, NULL, NULL);
      fetch_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                     _("The answer is larger than %u KiB: refused"),
                                     RS_AUTOCONFIG_MAX_SIZE / 1024));
      return;
    }

  /* One byte more than allowed tells "too large" from "exactly full". */
  fetch->buffer = g_byte_array_sized_new (RS_AUTOCONFIG_MAX_SIZE + 1);
  g_byte_array_set_size (fetch->buffer, RS_AUTOCONFIG_MAX_SIZE + 1);
  g_input_stream_read_all_async (stream, fetch->buffer->data, RS_AUTOCONFIG_MAX_SIZE + 1,
                                 G_PRIORITY_DEFAULT, fetch->cancellable,
                                 read_cb, g_steal_pointer (&task));
}

static void
send_next (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  if (g_str_equal (g_uri_get_scheme (fetch->uri), "http"))
    fetch->insecure = TRUE;

  g_clear_object (&fetch->message);
  fetch->message = soup_message_new_from_uri (SOUP_METHOD_GET, fetch->uri);
  soup_message_add_flags (fetch->message, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_headers_replace (soup_message_get_request_headers (fetch->message),
                                "Accept", "application/xml, text/xml;q=0.9, */*;q=0.1");

  soup_session_send_async (fetch->session, fetch->message, G_PRIORITY_DEFAULT,
                           fetch->cancellable, sent_cb, task);
}

void
rs_autoconfig_fetch_async (SoupSession         *session,
                           const char          *url,
                           guint                timeout_seconds,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  Fetch *fetch;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (url != NULL);
  g_return_if_fail (timeout_seconds > 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_autoconfig_fetch_async);

  fetch = g_new0 (Fetch, 1);
  fetch->session = g_object_ref (session);
  fetch->cancellable = g_cancellable_new ();
  fetch->timeout_seconds = timeout_seconds;
  g_task_set_task_data (task, fetch, (GDestroyNotify) fetch_free);

  fetch->uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &error);
  if (fetch->uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (fetch->uri), "https") != 0 &&
       g_strcmp0 (g_uri_get_scheme (fetch->uri), "http") != 0))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Not an http or https URL: %s", url);
      return;
    }

  if (cancellable != NULL)
    {
      fetch->caller_cancellable = g_object_ref (cancellable);
      fetch->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                   fetch->cancellable, NULL);
    }
  /* Milliseconds, not g_timeout_add_seconds(): that one may fire up to a
   * second early, and only on the global default context. */
  fetch->timeout = g_timeout_source_new (timeout_seconds * 1000);
  g_source_set_callback (fetch->timeout, fetch_timeout_cb, fetch, NULL);
  g_source_attach (fetch->timeout, g_main_context_get_thread_default ());

  send_next (g_steal_pointer (&task));
}

GBytes *
rs_autoconfig_fetch_finish (GAsyncResult  *result,
                            gboolean      *insecure,
                            GError       **error)
{
  Fetch *fetch;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  fetch = g_task_get_task_data (G_TASK (result));
  if (insecure != NULL)
    *insecure = fetch->insecure;

  return g_task_propagate_pointer (G_TASK (result), error);
}
