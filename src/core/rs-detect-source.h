/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "rs-detect-candidate.h"
#include "rs-providers.h"

G_BEGIN_DECLS

/* One way of finding settings.  RsDetector runs a ranked list of them;
 * the built-in ones come from rs_detect_source_new_builtin(), and tests
 * or benchmarks can supply their own (scripted) sources to exercise the
 * scheduler without a network. */

typedef struct
{
  char         *address;
  char         *domain;          /* lowercase, no trailing dot */
  guint         probe_seconds;   /* bound for each request / probe */
  SoupSession  *session;
  GResolver    *resolver;
  RsProviders  *providers;
} RsDetectRequest;

#define RS_TYPE_DETECT_SOURCE (rs_detect_source_get_type ())
G_DECLARE_INTERFACE (RsDetectSource, rs_detect_source, RS, DETECT_SOURCE, GObject)

struct _RsDetectSourceInterface
{
  GTypeInterface parent_iface;

  const char *(*get_name)   (RsDetectSource         *self);
  void        (*run_async)  (RsDetectSource         *self,
                             const RsDetectRequest  *request,
                             GCancellable           *cancellable,
                             GAsyncReadyCallback     callback,
                             gpointer                user_data);
  /* An empty array means "not found"; an error means "failed" (and
   * G_IO_ERROR_CANCELLED "cancelled").  @detail (out, nullable) says what
   * was found or looked for, in words. */
  GPtrArray  *(*run_finish) (RsDetectSource         *self,
                             GAsyncResult           *result,
                             char                  **detail,
                             GError                **error);
};

const char      *rs_detect_source_get_name      (RsDetectSource         *self);
void             rs_detect_source_run_async     (RsDetectSource         *self,
                                                 const RsDetectRequest  *request,
                                                 GCancellable           *cancellable,
                                                 GAsyncReadyCallback     callback,
                                                 gpointer                user_data);
GPtrArray       *rs_detect_source_run_finish    (RsDetectSource         *self,
                                                 GAsyncResult           *result,
                                                 char                  **detail,
                                                 GError                **error);

/* @name is one of the RS_DETECT_SOURCE_* names. */
RsDetectSource  *rs_detect_source_new_builtin   (const char             *name);
GPtrArray       *rs_detect_source_new_builtins  (void);

/* RFC 2782 selection over SRV answers: the lowest priority first, then a
 * weighted random choice among equals (weight 0 is chosen only when
 * nothing else is left); a target of "." means "not offered".  @rand
 * (nullable) makes the choice reproducible.  Returns (transfer none) the
 * chosen target, or NULL when the service is not offered. */
GSrvTarget      *rs_detect_srv_select           (GList                  *targets,
                                                 GRand                  *rand);

RsDetectRequest *rs_detect_request_new          (const char             *address,
                                                 guint                   probe_seconds);
void             rs_detect_request_free         (RsDetectRequest        *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectRequest, rs_detect_request_free)

G_END_DECLS
