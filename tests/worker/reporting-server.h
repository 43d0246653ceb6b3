/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A local Retailsphere server for tests: a fake, allowed because
 * Retailsphere's real server cannot be had here.  It follows
 * docs/REPORTING-API.md and nothing more: bearer token, whole batches,
 * each idempotency key stored once (200 with accepted/duplicates), 401
 * for a wrong token, and the outbox.  It listens on 127.0.0.1 and runs
 * on the thread-default main context of its creator. */
typedef struct
{
  SoupServer *server;
  char       *url;
  char       *token;
  GHashTable *stored;        /* idempotency key → event JSON text */
  GHashTable *per_message;   /* reply Message-ID → times stored under a new key */
  guint       n_posts;       /* POST /reply-events requests */
  guint       n_events;      /* events received, duplicates included */
  GPtrArray  *outbox;        /* OutboxItem, served while not marked sent */
  GPtrArray  *marked_sent;   /* "ID MESSAGE-ID" */
} ReportingServer;

ReportingServer *reporting_server_new          (const char      *token);
void             reporting_server_free         (ReportingServer *server);
void             reporting_server_add_outbox   (ReportingServer *server,
                                                const char      *id,
                                                const char      *account_address,
                                                const char      *raw);
guint            reporting_server_count_marked (ReportingServer *server,
                                                const char      *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReportingServer, reporting_server_free)

G_END_DECLS
