/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "rs-application.h"

G_BEGIN_DECLS

/* What the tests of the real widgets share: a display (or a reason to
 * skip), a main loop to wait in, and searches of the widget tree and the
 * toplevels, as a user would look for what is on screen. */

typedef gboolean (*WidgetMatch) (GtkWidget     *widget,
                                 gconstpointer  data);

RsApplication    *ui_test_init            (int             *argc,
                                           char          ***argv);
gboolean          require_display         (void);

gboolean          wait_for                (gboolean       (*condition) (gpointer),
                                           gpointer         data);
gboolean          wait_for_seconds        (gboolean       (*condition) (gpointer),
                                           gpointer         data,
                                           guint            seconds);
void              settle                  (guint            ms);

GtkWidget        *find_widget             (GtkWidget       *root,
                                           WidgetMatch      match,
                                           gconstpointer    data);
void              collect_widgets         (GtkWidget       *root,
                                           WidgetMatch      match,
                                           gconstpointer    data,
                                           GPtrArray       *found);

gboolean          is_type                 (GtkWidget       *widget,
                                           gconstpointer    data);
gboolean          is_button_labelled      (GtkWidget       *widget,
                                           gconstpointer    data);
gboolean          is_label_containing     (GtkWidget       *widget,
                                           gconstpointer    data);
gboolean          is_group_titled         (GtkWidget       *widget,
                                           gconstpointer    data);
gboolean          is_row_titled           (GtkWidget       *widget,
                                           gconstpointer    data);
gboolean          widget_is_mapped        (gpointer         data);

GtkWindow        *find_toplevel           (GType            type);
gboolean          has_toplevel            (gpointer         type);
gboolean          has_no_toplevel         (gpointer         type);
gboolean          has_message_dialog      (gpointer         data);
AdwMessageDialog *wait_for_message_dialog (void);
void              click_response          (AdwMessageDialog *dialog,
                                           const char       *label);
void              destroy_toplevels       (void);

gboolean          require_screenshot_dir  (void);
void              save_screenshot         (GtkWidget        *window,
                                           const char       *file_name);

G_END_DECLS
