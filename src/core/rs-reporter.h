/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-reply-store.h"

G_BEGIN_DECLS

/* The client side of docs/REPORTING-API.md.  A reporter holds a
 * SoupSession: create and use it on one thread (the worker's), whose
 * thread-default main context runs its callbacks. */

#define RS_TYPE_REPORTER (rs_reporter_get_type ())
G_DECLARE_FINAL_TYPE (RsReporter, rs_reporter, RS, REPORTER, GObject)

#define RS_REPORTER_MAX_BATCH        100    /* events per request */
#define RS_BACKOFF_BASE_SECONDS      5
#define RS_BACKOFF_CAP_SECONDS       (30 * 60)
#define RS_RETRY_AFTER_CAP_SECONDS   (24 * 60 * 60)

typedef enum
{
  RS_REPORT_OK,           /* every event accepted (or already known) */
  RS_REPORT_RETRY,        /* some are pending: try them again later */
  RS_REPORT_AUTH_FAILED,  /* 401/403: the token is missing or revoked */
  RS_REPORT_REJECTED,     /* none pending, but the server refused some for good */
} RsReportStatus;

typedef struct
{
  RsReportStatus  status;
  GStrv           accepted;     /* keys stored now or before: mark these reported */
  GStrv           duplicates;   /* the subset of @accepted the server already had */
  GStrv           rejected;     /* keys refused on their own (400/409/413/422) */
  GStrv           pending;      /* keys not decided: reschedule with backoff */
  gint64          retry_after;  /* seconds the server asked to wait, -1 if none */
  guint           http_status;  /* the last response's status, 0 if none */
  GError         *error;        /* (nullable): what went wrong, RS_ERROR_* */
} RsReportResult;

typedef struct
{
  char   *id;
  char   *account;
  GBytes *raw;        /* the RFC 5322 message, decoded from base64 */
} RsOutboxItem;

void            rs_report_result_free                (RsReportResult       *result);
void            rs_outbox_item_free                  (RsOutboxItem         *item);

guint           rs_backoff_delay                     (guint                 attempt,
                                                      gint64                retry_after,
                                                      double                random);
gint64          rs_parse_retry_after                 (const char           *value,
                                                      GDateTime            *now);

RsReporter     *rs_reporter_new                      (const char           *server_url,
                                                      const char           *token,
                                                      GError              **error);
const char     *rs_reporter_get_server_url           (RsReporter           *self);
void            rs_reporter_set_account_address      (RsReporter           *self,
                                                      const char           *account,
                                                      const char           *address);
JsonNode       *rs_reporter_build_events             (RsReporter           *self,
                                                      GPtrArray            *replies,
                                                      guint                 first,
                                                      guint                 n);

void            rs_reporter_send_batch_async         (RsReporter           *self,
                                                      GPtrArray            *replies,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
RsReportResult *rs_reporter_send_batch_finish        (RsReporter           *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

void            rs_reporter_fetch_outbox_async       (RsReporter           *self,
                                                      const char           *account,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
GPtrArray      *rs_reporter_fetch_outbox_finish      (RsReporter           *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
void            rs_reporter_mark_outbox_sent_async   (RsReporter           *self,
                                                      const char           *outbox_id,
                                                      const char           *message_id,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean        rs_reporter_mark_outbox_sent_finish  (RsReporter           *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsReportResult, rs_report_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsOutboxItem, rs_outbox_item_free)

G_END_DECLS
