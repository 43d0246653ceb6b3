/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-activity-window"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-activity-view.h"
#include "rs-activity-window.h"
#include "rs-reply-store.h"

/* The replies found for one account, with exactly the fields that are
 * (or will be) reported to Retailsphere, and when.  It reads the
 * worker's store on the main thread with its own connection, as
 * rs-worker.h allows, and is told to reload on RsWorker::replies-changed. */

struct _RsActivityWindow
{
  AdwWindow             parent_instance;

  RsAccount            *account;
  char                 *store_path;
  RsReplyStore         *reply_store;
  gboolean              signed_in;

  /* Template widgets */
  AdwWindowTitle       *window_title;
  GtkStack             *stack;
  AdwPreferencesGroup  *replies_group;
  GtkLabel             *promise_label;
  GtkLabel             *summary_label;
  GtkListBox           *replies_list;
  AdwStatusPage        *empty_page;
  GtkLabel             *empty_promise_label;
};

G_DEFINE_FINAL_TYPE (RsActivityWindow, rs_activity_window, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_STORE_PATH,
  PROP_SIGNED_IN,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static GtkWidget *
add_line (GtkBox     *box,
          const char *text,
          const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_box_append (box, label);

  return label;
}

static GtkWidget *
create_reply_row (const RsActivityItem *item)
{
  GtkWidget *row;
  GtkWidget *box;
  GtkWidget *status;
  GtkWidget *icon;
  GtkWidget *label;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);

  add_line (GTK_BOX (box), item->sender_name, "heading");
  if (item->sender_address != NULL)
    add_line (GTK_BOX (box), item->sender_address, "dim-label");
  add_line (GTK_BOX (box), item->when, NULL);
  add_line (GTK_BOX (box), item->subject, NULL);
  add_line (GTK_BOX (box), item->answers, NULL);

  /* The words say it; the icon and colour only repeat them. */
  status = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_top (status, 3);
  icon = gtk_image_new_from_icon_name (item->report_icon_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, item->report_status,
                                  -1);
  g_object_set (icon, "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  gtk_box_append (GTK_BOX (status), icon);
  label = add_line (GTK_BOX (status), item->report_status, NULL);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (status, item->reported ? "success" : "dim-label");
  gtk_box_append (GTK_BOX (box), status);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, item->sender_name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, item->accessible_description,
                                  -1);

  return row;
}

static void
rs_activity_window_clear (RsActivityWindow *self)
{
  GtkWidget *child;

  g_assert (RS_IS_ACTIVITY_WINDOW (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->replies_list))) != NULL)
    gtk_list_box_remove (self->replies_list, child);
}

static void
rs_activity_window_show_error (RsActivityWindow *self,
                               const GError     *error)
{
  g_assert (RS_IS_ACTIVITY_WINDOW (self));

  rs_activity_window_clear (self);
  adw_status_page_set_icon_name (self->empty_page, "dialog-warning-symbolic");
  adw_status_page_set_title (self->empty_page, _("Activity Could Not Be Read"));
  adw_status_page_set_description (self->empty_page, error->message);
  gtk_stack_set_visible_child_name (self->stack, "empty");
}

static gboolean
rs_activity_window_ensure_store (RsActivityWindow  *self,
                                 GError           **error)
{
  g_assert (RS_IS_ACTIVITY_WINDOW (self));

  if (self->reply_store == NULL)
    self->reply_store = rs_reply_store_open (self->store_path, error);

  return self->reply_store != NULL;
}

static void
rs_activity_window_update_title (RsActivityWindow *self)
{
  g_assert (RS_IS_ACTIVITY_WINDOW (self));

  if (self->account != NULL)
    adw_window_title_set_subtitle (self->window_title, rs_account_get_address (self->account));
}

static void
rs_activity_window_dispose (GObject *object)
{
  RsActivityWindow *self = (RsActivityWindow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_ACTIVITY_WINDOW);

  g_clear_object (&self->reply_store);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (rs_activity_window_parent_class)->dispose (object);
}

static void
rs_activity_window_finalize (GObject *object)
{
  RsActivityWindow *self = (RsActivityWindow *)object;

  g_free (self->store_path);

  G_OBJECT_CLASS (rs_activity_window_parent_class)->finalize (object);
}

static void
rs_activity_window_constructed (GObject *object)
{
  RsActivityWindow *self = (RsActivityWindow *)object;

  G_OBJECT_CLASS (rs_activity_window_parent_class)->constructed (object);

  rs_activity_window_update_title (self);
  rs_activity_window_reload (self);
}

static void
rs_activity_window_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  RsActivityWindow *self = RS_ACTIVITY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;

    case PROP_STORE_PATH:
      g_value_set_string (value, self->store_path);
      break;

    case PROP_SIGNED_IN:
      g_value_set_boolean (value, self->signed_in);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_activity_window_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  RsActivityWindow *self = RS_ACTIVITY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;

    case PROP_STORE_PATH:
      self->store_path = g_value_dup_string (value);
      break;

    case PROP_SIGNED_IN:
      rs_activity_window_set_signed_in (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_activity_window_class_init (RsActivityWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = rs_activity_window_constructed;
  object_class->dispose = rs_activity_window_dispose;
  object_class->finalize = rs_activity_window_finalize;
  object_class->get_property = rs_activity_window_get_property;
  object_class->set_property = rs_activity_window_set_property;

  properties [PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         RS_TYPE_ACCOUNT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * RsActivityWindow:store-path:
   *
   * The worker's reply store; the default file when %NULL.
   */
  properties [PROP_STORE_PATH] =
    g_param_spec_string ("store-path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * RsActivityWindow:signed-in:
   *
   * Whether this computer is signed in to Retailsphere: without it, the
   * window says where the waiting replies go.
   */
  properties [PROP_SIGNED_IN] =
    g_param_spec_boolean ("signed-in", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/ui/rs-activity-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, replies_group);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, promise_label);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, summary_label);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, replies_list);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, RsActivityWindow, empty_promise_label);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
rs_activity_window_init (RsActivityWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * rs_activity_window_new:
 * @parent: (nullable): the window it belongs to
 * @account: the account whose replies it shows
 * @store_path: (nullable): the worker's reply store, or %NULL for the default
 */
RsActivityWindow *
rs_activity_window_new (GtkWindow  *parent,
                        RsAccount  *account,
                        const char *store_path)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (RS_IS_ACCOUNT (account), NULL);

  return g_object_new (RS_TYPE_ACTIVITY_WINDOW,
                       "transient-for", parent,
                       "account", account,
                       "store-path", store_path,
                       NULL);
}

/**
 * rs_activity_window_get_account:
 *
 * Returns: (transfer none): the account whose replies are shown
 */
RsAccount *
rs_activity_window_get_account (RsActivityWindow *self)
{
  g_return_val_if_fail (RS_IS_ACTIVITY_WINDOW (self), NULL);

  return self->account;
}

void
rs_activity_window_set_signed_in (RsActivityWindow *self,
                                  gboolean          signed_in)
{
  g_return_if_fail (RS_IS_ACTIVITY_WINDOW (self));

  signed_in = !!signed_in;
  if (self->signed_in == signed_in)
    return;

  self->signed_in = signed_in;

  /* Before construction there is nothing to reload yet. */
  if (self->account != NULL)
    rs_activity_window_reload (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_SIGNED_IN]);
}

/**
 * rs_activity_window_reload:
 *
 * Reads the account's replies from the store again: call it on
 * RsWorker::replies-changed.
 */
void
rs_activity_window_reload (RsActivityWindow *self)
{
  g_autoptr(RsActivityState) state = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GHashTable) subjects = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GError) error = NULL;
  guint n_waiting = 0;

  g_return_if_fail (RS_IS_ACTIVITY_WINDOW (self));

  if (!rs_activity_window_ensure_store (self, &error) ||
      !(replies = rs_reply_store_list_replies (self->reply_store,
                                               rs_account_get_id (self->account),
                                               &error)))
    {
      g_debug ("%s", error->message);
      rs_activity_window_show_error (self, error);
      return;
    }

  rs_activity_window_clear (self);

  now = g_date_time_new_now_utc ();
  subjects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* Newest first. */
  for (guint i = replies->len; i > 0; i--)
    {
      const RsReply *reply = g_ptr_array_index (replies, i - 1);
      g_autoptr(RsActivityItem) item = NULL;
      const char *tracked_subject;

      if (!g_hash_table_contains (subjects, reply->tracked_message_id))
        {
          g_autoptr(RsTracked) tracked = NULL;
          g_autoptr(GError) lookup_error = NULL;

          tracked = rs_reply_store_lookup_tracked (self->reply_store, reply->account,
                                                   reply->tracked_message_id, &lookup_error);
          if (lookup_error != NULL)
            g_debug ("%s", lookup_error->message);

          g_hash_table_insert (subjects, g_strdup (reply->tracked_message_id),
                               tracked != NULL ? g_strdup (tracked->subject) : NULL);
        }

      tracked_subject = g_hash_table_lookup (subjects, reply->tracked_message_id);
      item = rs_activity_item_new (reply, tracked_subject, now);
      if (!item->reported)
        n_waiting++;

      gtk_list_box_append (self->replies_list, create_reply_row (item));
    }

  state = rs_activity_state_new (replies->len, n_waiting, self->signed_in);

  gtk_label_set_label (self->promise_label, state->promise);
  gtk_label_set_label (self->summary_label, state->summary);
  gtk_widget_set_visible (GTK_WIDGET (self->summary_label), state->summary != NULL);

  adw_status_page_set_icon_name (self->empty_page, state->empty_icon_name);
  adw_status_page_set_title (self->empty_page, state->empty_title);
  adw_status_page_set_description (self->empty_page, state->empty_description);
  gtk_label_set_label (self->empty_promise_label, state->promise);

  gtk_stack_set_visible_child_name (self->stack, state->show_list ? "list" : "empty");
}
