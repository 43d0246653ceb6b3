/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-backend"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-backend.h"

G_DEFINE_BOXED_TYPE (RsFetchedHeaders, rs_fetched_headers,
                     rs_fetched_headers_copy, rs_fetched_headers_free)

G_DEFINE_INTERFACE (RsBackend, rs_backend, G_TYPE_OBJECT)

static void
rs_backend_default_init (RsBackendInterface *iface)
{
}

/* ------------------------------------------------------ fetched headers */

/**
 * rs_fetched_headers_new:
 * @raw_headers: the header fields as received
 *
 * Returns: (transfer full): a new record
 */
RsFetchedHeaders *
rs_fetched_headers_new (guint64  uid,
                        GBytes  *raw_headers)
{
  RsFetchedHeaders *headers;

  g_return_val_if_fail (raw_headers != NULL, NULL);

  headers = g_new0 (RsFetchedHeaders, 1);
  headers->uid = uid;
  headers->raw_headers = g_bytes_ref (raw_headers);

  return headers;
}

RsFetchedHeaders *
rs_fetched_headers_copy (const RsFetchedHeaders *headers)
{
  g_return_val_if_fail (headers != NULL, NULL);

  return rs_fetched_headers_new (headers->uid, headers->raw_headers);
}

void
rs_fetched_headers_free (RsFetchedHeaders *headers)
{
  if (headers == NULL)
    return;

  g_clear_pointer (&headers->raw_headers, g_bytes_unref);
  g_free (headers);
}

/* ------------------------------------------------------------- helpers */

/**
 * rs_backend_header_get:
 * @headers: a header block ("Name: value" lines, CRLF or LF, folded
 *   lines starting with a space or tab); it ends at the first empty line
 * @name: the field name, any case
 *
 * Returns: (transfer full) (nullable): the first field's value with its
 *   line breaks removed and surrounding white space trimmed, or %NULL
 */
char *
rs_backend_header_get (const char *headers,
                       gsize       len,
                       const char *name)
{
  gsize name_len;
  const char *p = headers;
  const char *end = headers + len;

  g_return_val_if_fail (headers != NULL || len == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name_len = strlen (name);

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line_end = eol != NULL ? eol : end;
      gsize line_len = line_end - p;

      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;

      if (line_len == 0)
        break;   /* the end of the header */

      if (line_len > name_len && p[name_len] == ':'
          && g_ascii_strncasecmp (p, name, name_len) == 0)
        {
          g_autoptr(GString) value = g_string_new_len (p + name_len + 1, line_len - name_len - 1);

          /* Continuation lines. */
          p = eol != NULL ? eol + 1 : end;
          while (p < end && (*p == ' ' || *p == '\t'))
            {
              eol = memchr (p, '\n', end - p);
              line_end = eol != NULL ? eol : end;
              line_len = line_end - p;
              if (line_len > 0 && p[line_len - 1] == '\r')
                line_len--;
              g_string_append_len (value, p, line_len);
              p = eol != NULL ? eol + 1 : end;
            }

          return g_strstrip (g_string_free (g_steal_pointer (&value), FALSE));
        }

      p = eol != NULL ? eol + 1 : end;
    }

  return NULL;
}

/* ----------------------------------------------------------- interface */

void
rs_backend_check_async (RsBackend           *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (RS_IS_BACKEND (self));

  RS_BACKEND_GET_IFACE (self)->check_async (self, cancellable, callback, user_data);
}

gboolean
rs_backend_check_finish (RsBackend     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (RS_IS_BACKEND (self), FALSE);

  return RS_BACKEND_GET_IFACE (self)->check_finish (self, result, error);
}

/**
 * rs_backend_send_async:
 * @message: the whole RFC 5322 message, with its Message-ID
 * @from: the envelope sender
 * @recipients: the envelope recipients
 */
void
rs_backend_send_async (RsBackend           *self,
                       GBytes              *message,
                       const char          *from,
                       const char * const  *recipients,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_return_if_fail (RS_IS_BACKEND (self));
  g_return_if_fail (message != NULL);
  g_return_if_fail (from != NULL);
  g_return_if_fail (recipients != NULL && recipients[0] != NULL);

  RS_BACKEND_GET_IFACE (self)->send_async (self, message, from, recipients,
                                           cancellable, callback, user_data);
}

/**
 * rs_backend_send_finish:
 *
 * Returns: (transfer full) (nullable): the Message-ID the message went
 *   out with, without angle brackets
 */
char *
rs_backend_send_finish (RsBackend     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (RS_IS_BACKEND (self), NULL);

  return RS_BACKEND_GET_IFACE (self)->send_finish (self, result, error);
}

/**
 * rs_backend_fetch_replies_async:
 * @cursor: (nullable): the cursor a previous fetch returned, or %NULL
 * @filter: (scope notified): decides which new messages are candidates
 * @filter_data_destroy: (nullable): frees @filter_data when done
 */
void
rs_backend_fetch_replies_async (RsBackend           *self,
                                const char          *cursor,
                                RsCandidateFilter    filter,
                                gpointer             filter_data,
                                GDestroyNotify       filter_data_destroy,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (RS_IS_BACKEND (self));
  g_return_if_fail (filter != NULL);

  RS_BACKEND_GET_IFACE (self)->fetch_replies_async (self, cursor, filter, filter_data,
                                                    filter_data_destroy, cancellable,
                                                    callback, user_data);
}

/**
 * rs_backend_fetch_replies_finish:
 * @new_cursor: (out) (transfer full) (optional): where the next fetch starts
 * @cursor_reset: (out) (optional): the old cursor was no longer valid and
 *   the scan started over
 *
 * Returns: (transfer container) (element-type RsFetchedHeaders) (nullable):
 *   the candidates, oldest first; %NULL with @error set on failure
 */
GPtrArray *
rs_backend_fetch_replies_finish (RsBackend     *self,
                                 GAsyncResult  *result,
                                 char         **new_cursor,
                                 gboolean      *cursor_reset,
                                 GError       **error)
{
  g_return_val_if_fail (RS_IS_BACKEND (self), NULL);

  return RS_BACKEND_GET_IFACE (self)->fetch_replies_finish (self, result, new_cursor,
                                                            cursor_reset, error);
}

void
rs_backend_wait_for_changes_async (RsBackend           *self,
                                   const char          *cursor,
                                   guint                timeout_seconds,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (RS_IS_BACKEND (self));

  RS_BACKEND_GET_IFACE (self)->wait_for_changes_async (self, cursor, timeout_seconds,
                                                       cancellable, callback, user_data);
}

/**
 * rs_backend_wait_for_changes_finish:
 * @changed: (out) (optional): new mail may exist; %FALSE after a timeout
 */
gboolean
rs_backend_wait_for_changes_finish (RsBackend     *self,
                                    GAsyncResult  *result,
                                    gboolean      *changed,
                                    GError       **error)
{
  g_return_val_if_fail (RS_IS_BACKEND (self), FALSE);

  return RS_BACKEND_GET_IFACE (self)->wait_for_changes_finish (self, result, changed, error);
}

void
rs_backend_close_async (RsBackend           *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (RS_IS_BACKEND (self));

  RS_BACKEND_GET_IFACE (self)->close_async (self, cancellable, callback, user_data);
}

gboolean
rs_backend_close_finish (RsBackend     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (RS_IS_BACKEND (self), FALSE);

  return RS_BACKEND_GET_IFACE (self)->close_finish (self, result, error);
}
