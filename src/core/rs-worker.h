/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-account.h"
#include "rs-account-store.h"

G_BEGIN_DECLS

/*
 * RsWorker: sends mail on the user's behalf and watches every connected
 * account for replies, keeping (and reporting to Retailsphere) reply
 * metadata only.
 *
 * Threads.  Create and use the worker on one thread, usually the main
 * thread: call it the owner thread; its thread-default GMainContext at
 * rs_worker_new() time is the owner context.  All network I/O, the
 * reply store and the reporter live on the worker's own thread, with its
 * own GMainContext; nothing there blocks the owner.  Every signal, every
 * async callback and every rs_account_set_state() on the RsAccount
 * objects of @accounts happens on the owner context.
 *
 * Lifetime.  rs_worker_start() starts the thread (if it is not running)
 * and the continuous watch of every account in @accounts (accounts added
 * or removed later are followed through the list model; call
 * rs_worker_start() again to make it re-read changed settings).  Without
 * rs_worker_start(), rs_worker_sync_once_async() and
 * rs_worker_send_async() still work: they start the thread on demand and
 * do only what they were asked.  rs_worker_stop() cancels everything in
 * flight (pending async calls then finish with G_IO_ERROR_CANCELLED),
 * signs out and joins the thread; it may be called more than once, and
 * dispose calls it.
 *
 * Network.  The worker follows g_network_monitor_get_default(): when the
 * network goes away every watched account turns OFFLINE and its loop
 * pauses; when it is back they resume at once.
 *
 * Store.  The reply store (rs-reply-store.h) lives at @store_path; the
 * owner may open its own RsReplyStore on the same path to read replies
 * (for example for the Activity view) and re-read it on
 * RsWorker::replies-changed.
 *
 * Reporting.  When a Retailsphere server address (GSettings key
 * "retailsphere-server" of com.retailsphere.Settings) and an API token
 * (keyring, see rs_secret_store_lookup_api_token_async()) exist, replies
 * are reported and the outbox is sent.  Without them replies are kept
 * and queued, never lost.  Call rs_worker_reporting_changed() after the
 * user signs in to or out of Retailsphere.
 */

#define RS_TYPE_WORKER (rs_worker_get_type ())
G_DECLARE_FINAL_TYPE (RsWorker, rs_worker, RS, WORKER, GObject)

/* The account id used for Retailsphere's own state in
 * RsWorker::account-state-changed (reporting and the outbox). */
#define RS_WORKER_RETAILSPHERE_ID "retailsphere"

/* Signals (delivered on the owner context):
 *
 *   account-state-changed (RsWorker       *worker,
 *                          const char     *account_id,
 *                          RsAccountState  state,
 *                          const char     *detail,    (nullable)
 *                          gpointer        user_data)
 *       An account turned IDLE, SYNCING, OFFLINE or NEEDS_ATTENTION;
 *       @detail says why in a sentence for the user (always set for
 *       NEEDS_ATTENTION).  The same state is set on the RsAccount.
 *       @account_id RS_WORKER_RETAILSPHERE_ID is Retailsphere itself:
 *       NEEDS_ATTENTION "Sign in to Retailsphere again" when the token
 *       was refused (reporting pauses; the queue is kept), IDLE when
 *       reporting works, CONNECTED when there is no sign-in.
 *
 *   replies-changed (RsWorker *worker, gpointer user_data)
 *       The store has new replies, or replies were reported.
 */

RsWorker   *rs_worker_new                (RsAccountStore       *accounts,
                                          const char           *store_path);
const char *rs_worker_get_store_path     (RsWorker             *self);
gboolean    rs_worker_is_running         (RsWorker             *self);

void        rs_worker_start              (RsWorker             *self);
void        rs_worker_stop               (RsWorker             *self);
void        rs_worker_reporting_changed  (RsWorker             *self);

/* One pass for @account_id (or every account when %NULL): settle open
 * send intents, send the Retailsphere outbox, fetch new replies, report
 * the queue.  Fails (with the first account's RS_ERROR) when any account
 * could not be synced; reporting failures do not fail the pass (the
 * replies stay queued). */
void        rs_worker_sync_once_async    (RsWorker             *self,
                                          const char           *account_id,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean    rs_worker_sync_once_finish   (RsWorker             *self,
                                          GAsyncResult         *result,
                                          GError              **error);

/* Sends one RFC 5322 message through @account_id.  When @eml has no
 * Message-ID the worker gives it "<random@sender-domain>"; the intent is
 * recorded before submission, so no crash can send it twice.  Recipients
 * are To, Cc and Bcc (Bcc is removed from the submitted copy).  Returns
 * the Message-ID used, without angle brackets. */
void        rs_worker_send_async         (RsWorker             *self,
                                          const char           *account_id,
                                          GBytes               *eml,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
char       *rs_worker_send_finish        (RsWorker             *self,
                                          GAsyncResult         *result,
                                          GError              **error);

/* Tuning, for tests and benchmarks: seconds between polls / STATUS
 * backstops while watching (default RS_IMAP_BACKEND_DEFAULT_POLL_SECONDS)
 * and whether to use IDLE when offered (default %TRUE).  Call before
 * rs_worker_start(). */
void        rs_worker_set_poll_interval  (RsWorker             *self,
                                          guint                 seconds);
void        rs_worker_set_use_idle       (RsWorker             *self,
                                          gboolean              use_idle);

/* Limits the continuous watch to one account (%NULL: all), e.g. for
 * "retailsphere-accounts sync ID".  Explicit calls are not limited. */
void        rs_worker_set_watched_account (RsWorker            *self,
                                           const char          *account_id);

G_END_DECLS
