/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-detect-candidate.h"
#include "rs-detect-source.h"

G_BEGIN_DECLS

#define RS_DETECT_DEFAULT_PROBE_SECONDS 3
#define RS_DETECT_DEFAULT_TOTAL_SECONDS 8

#define RS_TYPE_DETECTOR (rs_detector_get_type ())
G_DECLARE_FINAL_TYPE (RsDetector, rs_detector, RS, DETECTOR, GObject)

RsDetector     *rs_detector_new               (void);
RsDetector     *rs_detector_new_with_sources  (GPtrArray            *sources);
void            rs_detector_set_timeouts      (RsDetector           *self,
                                               guint                 probe_seconds,
                                               guint                 total_seconds);
void            rs_detector_set_timeouts_ms   (RsDetector           *self,
                                               guint                 probe_ms,
                                               guint                 total_ms);
GPtrArray      *rs_detector_get_sources       (RsDetector           *self);

void            rs_detector_run_async         (RsDetector           *self,
                                               const char           *address,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
RsDetectResult *rs_detector_run_finish        (RsDetector           *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS
