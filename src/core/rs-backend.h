/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * RsBackend: what the background worker needs from a mail account,
 * whatever its kind.  IMAP/SMTP is the first implementation
 * (rs-imap-backend.h); the Gmail API, Microsoft Graph and Exchange
 * backends implement the same interface, so the worker never changes.
 *
 * All operations are async and cancellable, run on the caller's
 * thread-default GMainContext, and one runs at a time per backend.
 * Errors are RS_ERROR (network, timeout, authentication, protocol, …).
 *
 * check:   signs in to every service of the account (and keeps any
 *          connection for later use).
 * send:    submits one RFC 5322 message to @recipients with @from as the
 *          envelope sender.  The message must carry its Message-ID; the
 *          finish returns the Message-ID actually used (a backend whose
 *          server rewrites it reads the new one back).
 * fetch_replies:
 *          reports the header fields of messages that arrived since
 *          @cursor (an opaque string the backend made, or %NULL for the
 *          first scan).  Bodies are never fetched.  For each new message
 *          the backend first learns only its threading headers and calls
 *          @filter (Message-ID, In-Reply-To, References: raw values with
 *          folding removed, %NULL when absent); only for messages it
 *          accepts are the full allowlisted fields fetched and returned.
 *          On success: the candidates (RsFetchedHeaders, oldest first),
 *          the new cursor, and whether the old cursor was invalid
 *          (IMAP: UIDVALIDITY changed; the scan then starts over, and the
 *          store must de-duplicate by Message-ID).  On failure nothing is
 *          returned: the cursor stays where it was.
 * wait_for_changes:
 *          returns when new mail may exist after @cursor (IMAP: IDLE when
 *          offered, re-issued before 29 minutes, else polling) or when
 *          @timeout_seconds pass (*@changed is then %FALSE).  A spurious
 *          wake-up is allowed; a missed one is not.
 * close:   signs out politely and drops connections.
 */

/* The header fields of one candidate reply. */
typedef struct
{
  guint64  uid;          /* the message's number in the backend (IMAP: its UID) */
  GBytes  *raw_headers;  /* the allowlisted header fields, exactly as received */
} RsFetchedHeaders;

#define RS_TYPE_FETCHED_HEADERS (rs_fetched_headers_get_type ())

GType             rs_fetched_headers_get_type (void) G_GNUC_CONST;
RsFetchedHeaders *rs_fetched_headers_new      (guint64                 uid,
                                               GBytes                 *raw_headers);
RsFetchedHeaders *rs_fetched_headers_copy     (const RsFetchedHeaders *headers);
void              rs_fetched_headers_free     (RsFetchedHeaders       *headers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsFetchedHeaders, rs_fetched_headers_free)

/* Called on the backend's context for each new message: %TRUE when it
 * might answer a tracked message.  Any argument may be %NULL. */
typedef gboolean (*RsCandidateFilter) (const char *message_id,
                                       const char *in_reply_to,
                                       const char *references,
                                       gpointer    user_data);

#define RS_TYPE_BACKEND (rs_backend_get_type ())
G_DECLARE_INTERFACE (RsBackend, rs_backend, RS, BACKEND, GObject)

struct _RsBackendInterface
{
  GTypeInterface parent_iface;

  void        (*check_async)             (RsBackend            *self,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
  gboolean    (*check_finish)            (RsBackend            *self,
                                          GAsyncResult         *result,
                                          GError              **error);
  void        (*send_async)              (RsBackend            *self,
                                          GBytes               *message,
                                          const char           *from,
                                          const char * const   *recipients,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
  char       *(*send_finish)             (RsBackend            *self,
                                          GAsyncResult         *result,
                                          GError              **error);
  void        (*fetch_replies_async)     (RsBackend            *self,
                                          const char           *cursor,
                                          RsCandidateFilter     filter,
                                          gpointer              filter_data,
                                          GDestroyNotify        filter_data_destroy,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
  GPtrArray  *(*fetch_replies_finish)    (RsBackend            *self,
                                          GAsyncResult         *result,
                                          char                **new_cursor,
                                          gboolean             *cursor_reset,
                                          GError              **error);
  void        (*wait_for_changes_async)  (RsBackend            *self,
                                          const char           *cursor,
                                          guint                 timeout_seconds,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
  gboolean    (*wait_for_changes_finish) (RsBackend            *self,
                                          GAsyncResult         *result,
                                          gboolean             *changed,
                                          GError              **error);
  void        (*close_async)             (RsBackend            *self,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
  gboolean    (*close_finish)            (RsBackend            *self,
                                          GAsyncResult         *result,
                                          GError              **error);
};

void        rs_backend_check_async             (RsBackend            *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean    rs_backend_check_finish            (RsBackend            *self,
                                                GAsyncResult         *result,
                                                GError              **error);
void        rs_backend_send_async              (RsBackend            *self,
                                                GBytes               *message,
                                                const char           *from,
                                                const char * const   *recipients,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
char       *rs_backend_send_finish             (RsBackend            *self,
                                                GAsyncResult         *result,
                                                GError              **error);
void        rs_backend_fetch_replies_async     (RsBackend            *self,
                                                const char           *cursor,
                                                RsCandidateFilter     filter,
                                                gpointer              filter_data,
                                                GDestroyNotify        filter_data_destroy,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
GPtrArray  *rs_backend_fetch_replies_finish    (RsBackend            *self,
                                                GAsyncResult         *result,
                                                char                **new_cursor,
                                                gboolean             *cursor_reset,
                                                GError              **error);
void        rs_backend_wait_for_changes_async  (RsBackend            *self,
                                                const char           *cursor,
                                                guint                 timeout_seconds,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean    rs_backend_wait_for_changes_finish (RsBackend            *self,
                                                GAsyncResult         *result,
                                                gboolean             *changed,
                                                GError              **error);
void        rs_backend_close_async             (RsBackend            *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean    rs_backend_close_finish            (RsBackend            *self,
                                                GAsyncResult         *result,
                                                GError              **error);

/* Helpers for backends: the unfolded value of the first @name field in a
 * header block (up to the first empty line), or %NULL. */
char       *rs_backend_header_get              (const char           *headers,
                                                gsize                 len,
                                                const char           *name);

G_END_DECLS
