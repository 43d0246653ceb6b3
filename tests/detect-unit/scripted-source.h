/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "rs-detect-source.h"

G_BEGIN_DECLS

/* A detection source that answers from a script, to drive RsDetector's
 * scheduler without a network.  It is not a fake server: it stands in
 * for "some source that answers X after T ms". */
typedef enum
{
  SCRIPT_FOUND,
  SCRIPT_FOUND_INSECURE,
  SCRIPT_NOT_FOUND,
  SCRIPT_FAIL,
  SCRIPT_HANG,  /* never answers until cancelled */
} ScriptAction;

#define TYPE_SCRIPTED_SOURCE (scripted_source_get_type ())
G_DECLARE_FINAL_TYPE (ScriptedSource, scripted_source, SCRIPTED, SOURCE, GObject)

ScriptedSource *scripted_source_new            (const char     *name,
                                                ScriptAction    action,
                                                guint           delay_ms);
gboolean        scripted_source_was_cancelled  (ScriptedSource *self);
gboolean        scripted_source_was_started    (ScriptedSource *self);

G_END_DECLS
