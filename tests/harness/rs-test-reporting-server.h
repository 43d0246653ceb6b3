/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A local Retailsphere server for tests: a fake, allowed because
 * Retailsphere's real API cannot be had here.  It follows
 * docs/REPORTING-API.md and nothing more: bearer token (401 for a wrong
 * one), atomic batches of exactly the documented fields (400 for a
 * malformed event), each idempotency key stored once (200 with
 * accepted/duplicates), 413 above a batch size, 429 with Retry-After,
 * and the outbox.  It listens on 127.0.0.1 only and runs on the
 * thread-default main context of its creator.
 *
 * Tests set the public fields below to make it refuse. */
typedef struct
{
  SoupServer *server;
  char       *url;               /* "http://127.0.0.1:PORT", no slash at the end */
  char       *token;

  /* What it answers; tests may change these. */
  guint       max_events;        /* 413 above this many events (default 1000) */
  guint       busy_left;         /* 429 to this many batches */
  char       *busy_retry_after;  /* Retry-After of the 429 (default "7") */
  char       *bad_key;           /* 400 for a batch that holds this key */

  /* What it saw. */
  guint       n_requests;        /* requests of any kind, refused ones too */
  guint       n_posts;           /* authorized POST /reply-events requests */
  guint       n_events;          /* events of well-formed batches, duplicates included */
  GHashTable *stored;            /* idempotency key → event JSON text */
  GHashTable *per_message;       /* reply Message-ID → times stored under a new key */
  GPtrArray  *outbox;            /* served while not marked sent */
  GPtrArray  *marked_sent;       /* "ID MESSAGE-ID", ID unescaped */
} RsTestReportingServer;

RsTestReportingServer *rs_test_reporting_server_new          (const char            *token);
void                   rs_test_reporting_server_free         (RsTestReportingServer *server);
void                   rs_test_reporting_server_add_outbox   (RsTestReportingServer *server,
                                                              const char            *id,
                                                              const char            *account_address,
                                                              const char            *raw);
guint                  rs_test_reporting_server_count_marked (RsTestReportingServer *server,
                                                              const char            *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsTestReportingServer, rs_test_reporting_server_free)

G_END_DECLS
