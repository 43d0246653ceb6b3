/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-email-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-account-setup.h"
#include "rs-detector.h"
#include "rs-detect-view.h"
#include "rs-email-dialog.h"
#include "rs-email-form.h"
#include "rs-utils.h"
#include "rs-validate.h"
#include "rs-window.h"

/* "Sign in with Email": the address and password; settings detection,
 * started in the background as the address is typed (RsDetector), shown
 * source by source on the Finding page when the user is quicker than it;
 * the server settings, filled from the best candidate for review; a
 * connection test that shows each step, and — when it fails — what failed
 * and what to do, or the refused certificate.  The account is saved by
 * RsAccountSetup only after both services accepted the sign-in.
 *
 * What the pages say and which fields are wrong is decided in
 * rs-email-form.c and rs-detect-view.c; this file only copies it into the
 * widgets. */

/* How long the address must stay unchanged before detection starts. */
#define DETECT_DELAY_MS 500

typedef enum
{
  FIELD_ADDRESS,
  FIELD_PASSWORD,
  FIELD_IMAP_HOST,
  FIELD_IMAP_PORT,
  FIELD_IMAP_USERNAME,
  FIELD_SMTP_HOST,
  FIELD_SMTP_PORT,
  FIELD_SMTP_USERNAME,
  N_FIELDS
} Field;

typedef struct
{
  AdwActionRow *row;
  GtkSpinner   *spinner;
  GtkImage     *image;
} StepRow;

typedef struct
{
  StepRow  step;
  char    *source;
} SourceRow;

struct _RsEmailDialog
{
  AdwWindow             parent_instance;

  RsAccountStore       *store;
  RsAccountSetup       *setup;
  GCancellable         *cancellable;
  GtkFileChooserNative *file_chooser;

  /* What the user chose to trust, beyond the system's CAs. */
  RsTrust              *trust;
  /* What detection last put into the server fields. */
  RsServerSettings     *filled_imap;
  RsServerSettings     *filled_smtp;

  /* Settings detection: one detector per run, so that nothing an old
   * run says can reach the page. */
  RsDetector           *detector;
  GPtrArray            *detect_sources;  /* nullable: the built-in ones */
  GCancellable         *detect_cancellable;
  guint                 detect_timeout_id;
  char                 *detect_address;
  RsDetectResult       *detect_result;
  RsDetectPhase         detect_phase;
  gboolean              detect_consented;
  GPtrArray            *source_rows;  /* of SourceRow, in rank order */
  GtkSpinner           *address_spinner;
  char                 *notice_action;
  /* The certificate shown on the Certificate page. */
  char                 *refused_fingerprint;

  RsEmailFormState     *form_state;
  gboolean              touched[N_FIELDS];
  guint                 updating_port_security : 1;
  guint                 running : 1;
  guint                 rerun_after_ca_file : 1;

  StepRow               steps[4];

  /* Template widgets */
  GtkStack             *stack;
  GtkWidget            *next_button;
  GtkWidget            *connect_button;
  GtkWidget            *try_again_button;
  AdwEntryRow          *address_row;
  AdwEntryRow          *name_row;
  AdwEntryRow          *password_row;
  GtkLabel             *account_error_label;
  GtkWidget            *notice_box;
  GtkImage             *notice_icon;
  GtkLabel             *notice_title_label;
  GtkLabel             *notice_label;
  GtkButton            *notice_button;
  GtkWidget            *stop_finding_button;
  GtkLabel             *finding_intro_label;
  AdwPreferencesGroup  *finding_group;
  GtkLabel             *detect_summary_label;
  GtkBox               *detect_notes_box;
  GtkWidget            *use_anyway_button;
  AdwEntryRow          *imap_host_row;
  AdwEntryRow          *imap_port_row;
  AdwComboRow          *imap_security_row;
  AdwEntryRow          *imap_username_row;
  GtkLabel             *imap_error_label;
  AdwEntryRow          *smtp_host_row;
  AdwEntryRow          *smtp_port_row;
  AdwComboRow          *smtp_security_row;
  AdwEntryRow          *smtp_username_row;
  GtkLabel             *smtp_error_label;
  AdwExpanderRow       *advanced_row;
  AdwActionRow         *ca_file_row;
  GtkWidget            *ca_file_clear_button;
  AdwActionRow         *keyring_step_row;
  AdwActionRow         *imap_step_row;
  AdwActionRow         *smtp_step_row;
  AdwActionRow         *save_step_row;
  AdwStatusPage        *problem_page;
  GtkLabel             *problem_hint_label;
  GtkExpander          *server_words_expander;
  GtkLabel             *server_words_label;
  GtkLabel             *certificate_intro_label;
  GtkBox               *certificate_problems_box;
  GtkLabel             *certificate_subject_label;
  GtkLabel             *certificate_issuer_label;
  GtkLabel             *certificate_valid_from_label;
  GtkLabel             *certificate_valid_until_label;
  GtkLabel             *certificate_fingerprint_label;
};

G_DEFINE_FINAL_TYPE (RsEmailDialog, rs_email_dialog, ADW_TYPE_WINDOW)

static void rs_email_dialog_start_test (RsEmailDialog *self);

static GtkWidget *
field_widget (RsEmailDialog *self,
              Field          field)
{
  switch (field)
    {
    case FIELD_ADDRESS:       return GTK_WIDGET (self->address_row);
    case FIELD_PASSWORD:      return GTK_WIDGET (self->password_row);
    case FIELD_IMAP_HOST:     return GTK_WIDGET (self->imap_host_row);
    case FIELD_IMAP_PORT:     return GTK_WIDGET (self->imap_port_row);
    case FIELD_IMAP_USERNAME: return GTK_WIDGET (self->imap_username_row);
    case FIELD_SMTP_HOST:     return GTK_WIDGET (self->smtp_host_row);
    case FIELD_SMTP_PORT:     return GTK_WIDGET (self->smtp_port_row);
    case FIELD_SMTP_USERNAME: return GTK_WIDGET (self->smtp_username_row);
    case N_FIELDS:
    default:
      g_assert_not_reached ();
    }
}

static const char *
field_error (RsEmailFormState *state,
             Field             field)
{
  switch (field)
    {
    case FIELD_ADDRESS:       return state->address_error;
    case FIELD_PASSWORD:      return state->password_error;
    case FIELD_IMAP_HOST:     return state->imap_host_error;
    case FIELD_IMAP_PORT:     return state->imap_port_error;
    case FIELD_IMAP_USERNAME: return state->imap_username_error;
    case FIELD_SMTP_HOST:     return state->smtp_host_error;
    case FIELD_SMTP_PORT:     return state->smtp_port_error;
    case FIELD_SMTP_USERNAME: return state->smtp_username_error;
    case N_FIELDS:
    default:
      g_assert_not_reached ();
    }
}

static const char *
text_of (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static void
set_text (AdwEntryRow *row,
          const char  *text)
{
  if (g_strcmp0 (text_of (row), text) != 0)
    gtk_editable_set_text (GTK_EDITABLE (row), text);
}

static RsSecurity
security_of (AdwComboRow *row)
{
  return adw_combo_row_get_selected (row) == 1 ? RS_SECURITY_STARTTLS : RS_SECURITY_TLS;
}

static void
set_security (AdwComboRow *row,
              RsSecurity   security)
{
  guint position = security == RS_SECURITY_STARTTLS ? 1 : 0;

  if (adw_combo_row_get_selected (row) != position)
    adw_combo_row_set_selected (row, position);
}

/* Shows @error on @widget only once the user has had a chance to finish
 * typing: not while they type, but once they leave the field or press
 * the page's button. */
static void
show_field_error (GtkWidget  *widget,
                  const char *error)
{
  if (error != NULL)
    {
      gtk_widget_add_css_class (widget, "error");
      gtk_widget_set_tooltip_text (widget, error);
      gtk_accessible_update_state (GTK_ACCESSIBLE (widget),
                                   GTK_ACCESSIBLE_STATE_INVALID, GTK_ACCESSIBLE_INVALID_TRUE,
                                   -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, error,
                                      -1);
    }
  else
    {
      gtk_widget_remove_css_class (widget, "error");
      gtk_widget_set_tooltip_text (widget, NULL);
      gtk_accessible_reset_state (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_STATE_INVALID);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

static void
show_group_error (GtkLabel   *label,
                  const char *error)
{
  gtk_label_set_label (label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (label), error != NULL);
}

static void
rs_email_dialog_update (RsEmailDialog *self)
{
  const char *group_errors[3] = { NULL, NULL, NULL };
  RsEmailFormInput input;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  input.address = text_of (self->address_row);
  input.password = text_of (self->password_row);
  input.imap_host = text_of (self->imap_host_row);
  input.imap_port = text_of (self->imap_port_row);
  input.imap_username = text_of (self->imap_username_row);
  input.smtp_host = text_of (self->smtp_host_row);
  input.smtp_port = text_of (self->smtp_port_row);
  input.smtp_username = text_of (self->smtp_username_row);

  g_clear_pointer (&self->form_state, rs_email_form_state_free);
  self->form_state = rs_email_form_state_new (&input);

  for (Field field = 0; field < N_FIELDS; field++)
    {
      const char *error = self->touched[field] ? field_error (self->form_state, field) : NULL;
      guint group = field <= FIELD_PASSWORD ? 0 : field <= FIELD_IMAP_USERNAME ? 1 : 2;

      show_field_error (field_widget (self, field), error);

      if (group_errors[group] == NULL)
        group_errors[group] = error;
    }

  show_group_error (self->account_error_label, group_errors[0]);
  show_group_error (self->imap_error_label, group_errors[1]);
  show_group_error (self->smtp_error_label, group_errors[2]);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.next", self->form_state->can_continue);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.connect", self->form_state->can_connect);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.try-again",
                                 self->form_state->can_connect && !self->running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.trust",
                                 self->refused_fingerprint != NULL && !self->running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.clear-ca-file",
                                 self->trust != NULL && self->trust->ca_file != NULL);
  gtk_widget_set_visible (self->ca_file_clear_button,
                          self->trust != NULL && self->trust->ca_file != NULL);
}

static void
rs_email_dialog_show_page (RsEmailDialog *self,
                           const char    *name)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  gtk_stack_set_visible_child_name (self->stack, name);
}

static void
touch_fields (RsEmailDialog *self,
              Field          first,
              Field          last)
{
  for (Field field = first; field <= last; field++)
    self->touched[field] = TRUE;

  rs_email_dialog_update (self);
}

static void
focus_first_error (RsEmailDialog *self,
                   Field          first,
                   Field          last)
{
  for (Field field = first; field <= last; field++)
    {
      if (field_error (self->form_state, field) != NULL)
        {
          gtk_widget_grab_focus (field_widget (self, field));
          return;
        }
    }
}

/* Puts @new into one service's fields, but only into those the user has
 * not changed: a field still holding what detection put there before, or
 * nothing, takes the new value.  With @new %NULL, what detection put
 * there goes away: nothing found means nothing pretends to be found. */
static void
fill_service (RsEmailDialog           *self,
              RsService                service,
              AdwEntryRow             *host_row,
              AdwEntryRow             *port_row,
              AdwComboRow             *security_row,
              AdwEntryRow             *username_row,
              RsServerSettings       **last,
              const RsServerSettings  *new)
{
  const RsServerSettings *old = *last;
  g_autofree char *old_port = old ? g_strdup_printf ("%u", old->port) : NULL;
  g_autofree char *new_port = NULL;
  RsSecurity new_security = new != NULL ? new->security : RS_SECURITY_TLS;
  const char *port = text_of (port_row);

  g_assert (RS_IS_EMAIL_DIALOG (self));

  new_port = g_strdup_printf ("%u", new != NULL ? new->port : rs_default_port (service, new_security));

  if (*text_of (host_row) == '\0' ||
      (old != NULL && g_str_equal (text_of (host_row), old->host)))
    set_text (host_row, new != NULL ? new->host : "");

  if (*text_of (username_row) == '\0' ||
      (old != NULL && g_str_equal (text_of (username_row), old->username)))
    set_text (username_row, new != NULL ? new->username : "");

  /* Port and security go together. */
  if (*port == '\0' ||
      (old_port != NULL && g_str_equal (port, old_port) &&
       security_of (security_row) == old->security))
    {
      self->updating_port_security = TRUE;
      set_text (port_row, new_port);
      set_security (security_row, new_security);
      self->updating_port_security = FALSE;
    }

  g_clear_pointer (last, rs_server_settings_free);
  if (new != NULL)
    *last = rs_server_settings_copy (new);
}

static void
add_detect_note (RsEmailDialog *self,
                 const char    *icon_name,
                 const char    *css_class,
                 const char    *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *image = gtk_image_new_from_icon_name (icon_name);
  GtkWidget *label = gtk_label_new (text);

  /* The sentence says it all; the icon only draws the eye. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (image),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                  -1);
  gtk_widget_set_valign (image, GTK_ALIGN_START);
  if (css_class != NULL)
    gtk_widget_add_css_class (image, css_class);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), image);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (self->detect_notes_box, box);
}

/* The Server settings page, from what detection found. */
static void
rs_email_dialog_show_servers (RsEmailDialog *self)
{
  g_autoptr(RsDetectServers) view = NULL;
  const RsDetectCandidate *candidate;
  GtkWidget *scrolled;
  GtkWidget *child;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  view = rs_detect_servers_new (self->detect_result, text_of (self->address_row),
                                self->detect_consented);
  candidate = view->fill ? view->candidate : NULL;

  fill_service (self, RS_SERVICE_IMAP,
                self->imap_host_row, self->imap_port_row, self->imap_security_row, self->imap_username_row,
                &self->filled_imap, candidate != NULL ? candidate->imap : NULL);
  fill_service (self, RS_SERVICE_SMTP,
                self->smtp_host_row, self->smtp_port_row, self->smtp_security_row, self->smtp_username_row,
                &self->filled_smtp, candidate != NULL ? candidate->smtp : NULL);

  gtk_label_set_label (self->detect_summary_label,
                       view->found_by != NULL ? view->found_by : view->nothing_found);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->detect_notes_box))))
    gtk_box_remove (self->detect_notes_box, child);

  if (view->insecure_warning != NULL)
    add_detect_note (self, "dialog-warning-symbolic", "warning", view->insecure_warning);
  for (guint i = 0; view->certificate_warnings[i] != NULL; i++)
    add_detect_note (self, "dialog-warning-symbolic", "warning", view->certificate_warnings[i]);
  if (view->note != NULL)
    add_detect_note (self, "dialog-information-symbolic", NULL, view->note);

  gtk_widget_set_visible (GTK_WIDGET (self->detect_notes_box),
                          gtk_widget_get_first_child (GTK_WIDGET (self->detect_notes_box)) != NULL);
  gtk_widget_set_visible (self->use_anyway_button, view->needs_consent);

  rs_email_dialog_update (self);
  rs_email_dialog_show_page (self, "servers");

  /* What was found, or not, is read first: from the top. */
  scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self->detect_summary_label), GTK_TYPE_SCROLLED_WINDOW);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled)), 0);
}

/* The notice on the first page: before the password is typed. */
static void
rs_email_dialog_update_notice (RsEmailDialog *self)
{
  g_autoptr(RsDetectNotice) notice = NULL;
  const RsDetectCandidate *best = NULL;
  const char *icon_name;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (self->detect_result != NULL && self->detect_result->candidates->len > 0)
    best = g_ptr_array_index (self->detect_result->candidates, 0);

  notice = rs_detect_notice_new (best);

  gtk_widget_set_visible (self->notice_box, notice != NULL);
  g_clear_pointer (&self->notice_action, g_free);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.other-sign-in", FALSE);

  if (notice == NULL)
    return;

  icon_name = notice->kind == RS_DETECT_NOTICE_APP_PASSWORD ? "dialog-password-symbolic"
                                                            : "dialog-information-symbolic";
  gtk_image_set_from_icon_name (self->notice_icon, icon_name);
  gtk_label_set_label (self->notice_title_label, notice->title);
  gtk_label_set_markup (self->notice_label, notice->markup);

  gtk_widget_set_visible (GTK_WIDGET (self->notice_button), notice->button_action != NULL);
  if (notice->button_label != NULL)
    gtk_button_set_label (self->notice_button, notice->button_label);

  self->notice_action = g_steal_pointer (&notice->button_action);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "email.other-sign-in", self->notice_action != NULL);
}

static void
set_source_row (SourceRow       *row,
                RsDetectOutcome  outcome,
                const char      *detail)
{
  g_autoptr(RsDetectLine) line = rs_detect_line_new (row->source, outcome, detail);
  const char *classes[] = { "success", "warning", "error", "dim-label" };

  adw_action_row_set_subtitle (row->step.row, line->subtitle);

  gtk_spinner_set_spinning (row->step.spinner, line->spinning);
  gtk_widget_set_visible (GTK_WIDGET (row->step.spinner), line->spinning);

  gtk_widget_set_visible (GTK_WIDGET (row->step.image), line->icon_name != NULL);
  if (line->icon_name != NULL)
    gtk_image_set_from_icon_name (row->step.image, line->icon_name);

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (row->step.image), classes[i]);
  if (line->css_class != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (row->step.image), line->css_class);
}

static SourceRow *
find_source_row (RsEmailDialog *self,
                 const char    *source)
{
  for (guint i = 0; i < self->source_rows->len; i++)
    {
      SourceRow *row = g_ptr_array_index (self->source_rows, i);

      if (g_str_equal (row->source, source))
        return row;
    }

  return NULL;
}

static void
source_row_free (SourceRow *row)
{
  g_free (row->source);
  g_free (row);
}

static void
rs_email_dialog_add_source_row (RsEmailDialog *self,
                                const char    *source)
{
  SourceRow *row = g_new0 (SourceRow, 1);

  row->source = g_strdup (source);
  row->step.row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->step.row), rs_detect_source_title (source));
  /* The detail can be long: a server's words, a list of names. */
  adw_action_row_set_subtitle_lines (row->step.row, 4);
  row->step.spinner = GTK_SPINNER (gtk_spinner_new ());
  row->step.image = GTK_IMAGE (gtk_image_new ());
  gtk_widget_set_valign (GTK_WIDGET (row->step.spinner), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (row->step.image), GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->step.spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Checking"),
                                  -1);
  /* The row's subtitle says the state in words. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->step.image),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                  -1);
  adw_action_row_add_suffix (row->step.row, GTK_WIDGET (row->step.spinner));
  adw_action_row_add_suffix (row->step.row, GTK_WIDGET (row->step.image));
  adw_preferences_group_add (self->finding_group, GTK_WIDGET (row->step.row));

  set_source_row (row, RS_DETECT_OUTCOME_CHECKING, NULL);
  g_ptr_array_add (self->source_rows, row);
}

static RsDetectPhase
detect_phase_for (RsEmailDialog *self,
                  const char    *address)
{
  if (g_strcmp0 (address, self->detect_address) != 0)
    return RS_DETECT_PHASE_IDLE;

  return self->detect_phase;
}

static void
rs_email_dialog_update_detecting (RsEmailDialog *self)
{
  gboolean running = self->detect_phase == RS_DETECT_PHASE_RUNNING;

  gtk_spinner_set_spinning (self->address_spinner, running);
  gtk_widget_set_visible (GTK_WIDGET (self->address_spinner), running);
}

/* Forgets the run and its result, and stops it if it is still going. */
static void
rs_email_dialog_stop_detection (RsEmailDialog *self)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  g_clear_handle_id (&self->detect_timeout_id, g_source_remove);

  if (self->detect_cancellable != NULL)
    g_cancellable_cancel (self->detect_cancellable);
  g_clear_object (&self->detect_cancellable);

  if (self->detector != NULL)
    g_signal_handlers_disconnect_by_data (self->detector, self);
  g_clear_object (&self->detector);

  g_clear_pointer (&self->detect_address, g_free);
  g_clear_pointer (&self->detect_result, rs_detect_result_free);
  self->detect_phase = RS_DETECT_PHASE_IDLE;
  self->detect_consented = FALSE;

  rs_email_dialog_update_notice (self);
  rs_email_dialog_update_detecting (self);
}

static void
detector_source_changed_cb (RsEmailDialog   *self,
                            const char      *source,
                            RsDetectOutcome  outcome,
                            const char      *detail,
                            RsDetector      *detector)
{
  SourceRow *row;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (detector != self->detector)
    return;

  row = find_source_row (self, source);
  if (row == NULL)
    {
      rs_email_dialog_add_source_row (self, source);
      row = g_ptr_array_index (self->source_rows, self->source_rows->len - 1);
    }

  set_source_row (row, outcome, detail);
}

static void
detector_run_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RsDetector *detector = RS_DETECTOR (object);
  g_autoptr(RsEmailDialog) self = user_data;
  g_autoptr(RsDetectResult) detected = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  detected = rs_detector_run_finish (detector, result, &error);

  /* Replaced by a newer run, or the dialog closed: nothing to say. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || detector != self->detector)
    return;

  if (error != NULL)
    g_debug ("Detection for %s failed: %s", self->detect_address, error->message);

  /* An error (the address is not one after all) reads as nothing found. */
  self->detect_result = detected != NULL ? g_steal_pointer (&detected) : rs_detect_result_new ();
  self->detect_phase = RS_DETECT_PHASE_DONE;

  rs_email_dialog_update_notice (self);
  rs_email_dialog_update_detecting (self);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "finding") == 0)
    rs_email_dialog_show_servers (self);
}

static void
rs_email_dialog_start_detection (RsEmailDialog *self,
                                 const char    *address)
{
  g_autofree char *domain = NULL;
  g_autofree char *intro = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  rs_email_dialog_stop_detection (self);

  if (self->detect_sources != NULL)
    self->detector = rs_detector_new_with_sources (self->detect_sources);
  else
    self->detector = rs_detector_new ();
  g_signal_connect_object (self->detector, "source-changed",
                           G_CALLBACK (detector_source_changed_cb), self,
                           G_CONNECT_SWAPPED);
  self->detect_cancellable = g_cancellable_new ();
  self->detect_address = g_strdup (address);
  self->detect_phase = RS_DETECT_PHASE_RUNNING;

  domain = g_strdup (strrchr (address, '@') + 1);
  /* Translators: %s is a domain such as example.com */
  intro = g_strdup_printf (_("Looking in several places at once for the settings of %s."), domain);
  gtk_label_set_label (self->finding_intro_label, intro);

  for (guint i = 0; i < self->source_rows->len; i++)
    set_source_row (g_ptr_array_index (self->source_rows, i), RS_DETECT_OUTCOME_CHECKING, NULL);

  rs_email_dialog_update_detecting (self);

  rs_detector_run_async (self->detector, address, self->detect_cancellable,
                         detector_run_cb, g_object_ref (self));
}

static gboolean
detect_timeout_cb (gpointer user_data)
{
  RsEmailDialog *self = user_data;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  self->detect_timeout_id = 0;
  rs_email_dialog_start_detection (self, text_of (self->address_row));

  return G_SOURCE_REMOVE;
}

/* Typing is debounced: detection starts once the address has stayed the
 * same, and valid, for a moment; a changed address stops the run for the
 * old one. */
static void
rs_email_dialog_address_changed (RsEmailDialog *self)
{
  const char *address = text_of (self->address_row);

  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (self->detect_address != NULL && g_str_equal (address, self->detect_address))
    {
      g_clear_handle_id (&self->detect_timeout_id, g_source_remove);
      return;
    }

  if (self->detect_address != NULL)
    rs_email_dialog_stop_detection (self);

  g_clear_handle_id (&self->detect_timeout_id, g_source_remove);

  if (rs_validate_address (address, NULL))
    self->detect_timeout_id = g_timeout_add (DETECT_DELAY_MS, detect_timeout_cb, self);
}

static RsImapRequest *
rs_email_dialog_build_request (RsEmailDialog *self)
{
  g_autoptr(RsImapRequest) request = rs_imap_request_new ();
  const char *display_name = text_of (self->name_row);
  g_autofree char *stripped = g_strstrip (g_strdup (display_name));
  guint16 imap_port = 0;
  guint16 smtp_port = 0;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  /* Checked by rs_email_form_state_new() before Connect is enabled; a
   * port left at zero is refused by the setup itself. */
  rs_parse_port ("", text_of (self->imap_port_row), &imap_port, NULL);
  rs_parse_port ("", text_of (self->smtp_port_row), &smtp_port, NULL);

  request->address = g_strdup (text_of (self->address_row));
  request->display_name = *stripped != '\0' ? g_steal_pointer (&stripped) : NULL;
  request->imap = rs_server_settings_new (text_of (self->imap_host_row), imap_port,
                                          security_of (self->imap_security_row),
                                          text_of (self->imap_username_row));
  request->smtp = rs_server_settings_new (text_of (self->smtp_host_row), smtp_port,
                                          security_of (self->smtp_security_row),
                                          text_of (self->smtp_username_row));
  if (self->trust != NULL)
    request->trust = rs_trust_copy (self->trust);

  return g_steal_pointer (&request);
}

static void
set_step (RsEmailDialog *self,
          RsSetupStep    step,
          int            state)   /* an RsStepState, or -1: waiting */
{
  StepRow *row;
  const char *subtitle;
  const char *icon_name = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));
  g_assert (step < G_N_ELEMENTS (self->steps));

  row = &self->steps[step];

  switch (state)
    {
    case RS_STEP_STATE_RUNNING:
      subtitle = _("In progress…");
      break;

    case RS_STEP_STATE_DONE:
      subtitle = _("Done");
      icon_name = "object-select-symbolic";
      break;

    case RS_STEP_STATE_FAILED:
      subtitle = _("Failed");
      icon_name = "dialog-error-symbolic";
      break;

    default:
      subtitle = _("Waiting");
      break;
    }

  /* The words say it, not only the icon. */
  adw_action_row_set_subtitle (row->row, subtitle);

  gtk_spinner_set_spinning (row->spinner, state == RS_STEP_STATE_RUNNING);
  gtk_widget_set_visible (GTK_WIDGET (row->spinner), state == RS_STEP_STATE_RUNNING);

  gtk_widget_set_visible (GTK_WIDGET (row->image), icon_name != NULL);
  if (icon_name != NULL)
    gtk_image_set_from_icon_name (row->image, icon_name);

  if (state == RS_STEP_STATE_FAILED)
    gtk_widget_add_css_class (GTK_WIDGET (row->image), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row->image), "error");

  if (state == RS_STEP_STATE_DONE)
    gtk_widget_add_css_class (GTK_WIDGET (row->image), "success");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row->image), "success");
}

static const char *
host_for_service (RsEmailDialog *self,
                  RsService      service)
{
  if (service == RS_SERVICE_SMTP)
    return text_of (self->smtp_host_row);

  return text_of (self->imap_host_row);
}

static void
rs_email_dialog_show_certificate (RsEmailDialog     *self,
                                  const GError      *error,
                                  RsCertificateInfo *info)
{
  g_autoptr(RsCertificateText) text = NULL;
  RsService service = rs_error_get_service (error);
  GtkWidget *child;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  text = rs_certificate_text_new (info, service, host_for_service (self, service));

  gtk_label_set_label (self->certificate_intro_label, text->intro);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->certificate_problems_box))))
    gtk_box_remove (self->certificate_problems_box, child);

  for (guint i = 0; text->problems[i] != NULL; i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *image = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
      GtkWidget *label = gtk_label_new (text->problems[i]);

      gtk_accessible_update_property (GTK_ACCESSIBLE (image),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Problem"),
                                      -1);
      gtk_widget_set_valign (image, GTK_ALIGN_START);
      gtk_widget_add_css_class (image, "warning");
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_box_append (GTK_BOX (box), image);
      gtk_box_append (GTK_BOX (box), label);
      gtk_box_append (self->certificate_problems_box, box);
    }

  gtk_label_set_label (self->certificate_subject_label, text->subject);
  gtk_label_set_label (self->certificate_issuer_label, text->issuer);
  gtk_label_set_label (self->certificate_valid_from_label, text->valid_from);
  gtk_label_set_label (self->certificate_valid_until_label, text->valid_until);
  gtk_label_set_label (self->certificate_fingerprint_label, text->fingerprint);

  rs_set_str (&self->refused_fingerprint, info->fingerprint);

  rs_email_dialog_show_page (self, "certificate");
}

static void
rs_email_dialog_show_problem (RsEmailDialog  *self,
                              RsEmailProblem *problem)
{
  g_autofree char *description = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  /* The status page reads markup; what we show is plain text. */
  description = g_markup_escape_text (problem->message, -1);

  adw_status_page_set_title (self->problem_page, problem->heading);
  adw_status_page_set_description (self->problem_page, description);

  gtk_label_set_label (self->problem_hint_label, problem->hint != NULL ? problem->hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_hint_label), problem->hint != NULL);

  gtk_label_set_label (self->server_words_label,
                       problem->server_words != NULL ? problem->server_words : "");
  gtk_expander_set_expanded (self->server_words_expander, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->server_words_expander), problem->server_words != NULL);

  rs_email_dialog_show_page (self, "problem");
}

static void
setup_step_cb (RsEmailDialog  *self,
               RsSetupStep     step,
               RsStepState     state,
               RsAccountSetup *setup)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (step < G_N_ELEMENTS (self->steps))
    set_step (self, step, state);
}

static void
setup_add_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RsAccountSetup *setup = RS_ACCOUNT_SETUP (object);
  g_autoptr(RsEmailDialog) self = user_data;
  g_autoptr(RsAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  GtkWindow *parent;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  account = rs_account_setup_add_finish (setup, result, &error);

  /* Cancelled by the user, or the dialog closed: nothing to say. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->running = FALSE;

  if (account == NULL)
    {
      rs_email_dialog_show_error (self, error);
      return;
    }

  /* Translators: %s is an email address */
  message = g_strdup_printf (_("%s is connected"), rs_account_get_address (account));

  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (RS_IS_WINDOW (parent))
    rs_window_add_toast (RS_WINDOW (parent), adw_toast_new (message));

  gtk_window_destroy (GTK_WINDOW (self));
}

static void
rs_email_dialog_start_test (RsEmailDialog *self)
{
  g_autoptr(RsImapRequest) request = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  touch_fields (self, FIELD_ADDRESS, FIELD_SMTP_USERNAME);

  if (!self->form_state->can_connect)
    {
      if (!self->form_state->can_continue)
        {
          rs_email_dialog_show_page (self, "account");
          focus_first_error (self, FIELD_ADDRESS, FIELD_PASSWORD);
        }
      else
        {
          rs_email_dialog_show_page (self, "servers");
          focus_first_error (self, FIELD_IMAP_HOST, FIELD_SMTP_USERNAME);
        }
      return;
    }

  request = rs_email_dialog_build_request (self);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_clear_pointer (&self->refused_fingerprint, g_free);

  for (guint i = 0; i < G_N_ELEMENTS (self->steps); i++)
    set_step (self, i, -1);

  self->running = TRUE;
  rs_email_dialog_update (self);
  rs_email_dialog_show_page (self, "testing");

  rs_account_setup_add_async (self->setup, request, text_of (self->password_row),
                              self->cancellable, setup_add_cb, g_object_ref (self));
}

static void
rs_email_dialog_set_ca_file (RsEmailDialog *self,
                             const char    *path)
{
  g_autofree char *basename = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  rs_trust_set_ca_file (&self->trust, path);

  if (path != NULL)
    {
      basename = g_path_get_basename (path);
      adw_action_row_set_subtitle (self->ca_file_row, basename);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->ca_file_row), path);
      adw_expander_row_set_expanded (self->advanced_row, TRUE);
    }
  else
    {
      adw_action_row_set_subtitle (self->ca_file_row,
                                   _("None: the system’s certificate authorities"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->ca_file_row), NULL);
    }

  rs_email_dialog_update (self);
}

static void
file_chooser_response_cb (RsEmailDialog        *self,
                          int                   response,
                          GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  gboolean rerun;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  rerun = self->rerun_after_ca_file;
  self->rerun_after_ca_file = FALSE;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file != NULL ? g_file_get_path (file) : NULL;
    }

  g_clear_object (&self->file_chooser);

  if (path == NULL)
    return;

  rs_email_dialog_set_ca_file (self, path);

  if (rerun)
    rs_email_dialog_start_test (self);
}

static void
rs_email_dialog_choose_ca_file (RsEmailDialog *self,
                                gboolean       rerun)
{
  GtkFileFilter *filter;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (self->file_chooser != NULL)
    return;

  self->rerun_after_ca_file = rerun;
  self->file_chooser = gtk_file_chooser_native_new (_("Choose a CA File"),
                                                    GTK_WINDOW (self),
                                                    GTK_FILE_CHOOSER_ACTION_OPEN,
                                                    _("_Choose"),
                                                    _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->file_chooser), TRUE);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Certificates (PEM)"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_filter_add_pattern (filter, "*.cer");
  gtk_file_filter_add_mime_type (filter, "application/x-x509-ca-cert");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->file_chooser), filter);
  g_object_unref (filter);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("All Files"));
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->file_chooser), filter);
  g_object_unref (filter);

  g_signal_connect_object (self->file_chooser, "response",
                           G_CALLBACK (file_chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->file_chooser));
}

/* Actions */

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);
  const char *address;
  RsDetectPhase phase;

  touch_fields (self, FIELD_ADDRESS, FIELD_PASSWORD);

  if (!self->form_state->can_continue)
    {
      focus_first_error (self, FIELD_ADDRESS, FIELD_PASSWORD);
      return;
    }

  address = text_of (self->address_row);
  phase = detect_phase_for (self, address);

  /* Not started yet (Next was quicker than the delay), or stopped. */
  if (phase == RS_DETECT_PHASE_IDLE)
    {
      rs_email_dialog_start_detection (self, address);
      phase = self->detect_phase;
    }

  if (g_str_equal (rs_detect_next_page (phase), "finding"))
    rs_email_dialog_show_page (self, "finding");
  else
    rs_email_dialog_show_servers (self);
}

static void
stop_finding_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);

  /* Back to the address; Next looks again. */
  rs_email_dialog_stop_detection (self);
  rs_email_dialog_show_page (self, "account");
}

static void
use_anyway_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);

  /* The user read the warning and chose these settings. */
  self->detect_consented = TRUE;
  rs_email_dialog_show_servers (self);
}

static void
other_sign_in_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);
  g_autofree char *action = g_strdup (self->notice_action);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (action == NULL)
    return;

  /* That way of signing in belongs to the main window: this dialog
   * makes way for it. */
  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), action, NULL);

  gtk_window_destroy (GTK_WINDOW (self));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  rs_email_dialog_show_page (RS_EMAIL_DIALOG (widget), "account");
}

static void
connect_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  rs_email_dialog_start_test (RS_EMAIL_DIALOG (widget));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);

  /* Stops the test where it is; nothing was saved.  The settings stay, to
   * be changed or tried again. */
  g_cancellable_cancel (self->cancellable);
  self->running = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (self->steps); i++)
    gtk_spinner_set_spinning (self->steps[i].spinner, FALSE);

  rs_email_dialog_update (self);
  rs_email_dialog_show_page (self, "servers");
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  rs_email_dialog_show_page (RS_EMAIL_DIALOG (widget), "servers");
}

static void
trust_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (widget);

  if (self->refused_fingerprint == NULL)
    return;

  /* Pinned by its SHA-256 fingerprint and kept with the account: this one
   * certificate is accepted, every other is still checked. */
  rs_trust_add_pinned (&self->trust, self->refused_fingerprint);
  rs_email_dialog_start_test (self);
}

static void
use_ca_file_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  rs_email_dialog_choose_ca_file (RS_EMAIL_DIALOG (widget), TRUE);
}

static void
choose_ca_file_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  rs_email_dialog_choose_ca_file (RS_EMAIL_DIALOG (widget), FALSE);
}

static void
clear_ca_file_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  rs_email_dialog_set_ca_file (RS_EMAIL_DIALOG (widget), NULL);
}

/* Signal callbacks */

static void
account_field_changed_cb (RsEmailDialog *self,
                          GtkEditable   *editable)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  if (editable == GTK_EDITABLE (self->address_row))
    rs_email_dialog_address_changed (self);

  rs_email_dialog_update (self);
}

static gboolean
notice_link_activated_cb (RsEmailDialog *self,
                          const char    *uri,
                          GtkLabel      *label)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  gtk_show_uri (GTK_WINDOW (self), uri, GDK_CURRENT_TIME);

  return TRUE;
}

static void
server_field_changed_cb (RsEmailDialog *self,
                         GtkEditable   *editable)
{
  g_assert (RS_IS_EMAIL_DIALOG (self));

  rs_email_dialog_update (self);
}

static void
port_changed (RsEmailDialog *self,
              RsService      service,
              AdwEntryRow   *port_row,
              AdwComboRow   *security_row)
{
  RsSecurity security;

  if (!self->updating_port_security &&
      rs_email_security_for_typed_port (service, text_of (port_row), &security))
    {
      self->updating_port_security = TRUE;
      set_security (security_row, security);
      self->updating_port_security = FALSE;
    }

  rs_email_dialog_update (self);
}

static void
security_changed (RsEmailDialog *self,
                  RsService      service,
                  AdwEntryRow   *port_row,
                  AdwComboRow   *security_row)
{
  guint16 port;

  if (self->updating_port_security)
    return;

  if (rs_email_port_for_security (service, text_of (port_row), security_of (security_row), &port))
    {
      g_autofree char *text = g_strdup_printf ("%u", port);

      self->updating_port_security = TRUE;
      set_text (port_row, text);
      self->updating_port_security = FALSE;
    }

  rs_email_dialog_update (self);
}

static void
imap_port_changed_cb (RsEmailDialog *self,
                      GtkEditable   *editable)
{
  port_changed (self, RS_SERVICE_IMAP, self->imap_port_row, self->imap_security_row);
}

static void
smtp_port_changed_cb (RsEmailDialog *self,
                      GtkEditable   *editable)
{
  port_changed (self, RS_SERVICE_SMTP, self->smtp_port_row, self->smtp_security_row);
}

static void
imap_security_changed_cb (RsEmailDialog *self,
                          GParamSpec    *pspec,
                          AdwComboRow   *row)
{
  security_changed (self, RS_SERVICE_IMAP, self->imap_port_row, self->imap_security_row);
}

static void
smtp_security_changed_cb (RsEmailDialog *self,
                          GParamSpec    *pspec,
                          AdwComboRow   *row)
{
  security_changed (self, RS_SERVICE_SMTP, self->smtp_port_row, self->smtp_security_row);
}

/* Enter in any field does what the page's main button does — also when
 * the button is not enabled yet, so that the user learns why. */
static void
entry_activated_cb (RsEmailDialog *self,
                    AdwEntryRow   *row)
{
  const char *page;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  page = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (page, "account") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "email.next-or-explain", NULL);
  else if (g_strcmp0 (page, "servers") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "email.connect-or-explain", NULL);
}

static void
field_focus_left_cb (GtkEventControllerFocus *controller,
                     gpointer                 user_data)
{
  RsEmailDialog *self = user_data;
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));

  g_assert (RS_IS_EMAIL_DIALOG (self));

  for (Field field = 0; field < N_FIELDS; field++)
    {
      if (field_widget (self, field) != widget)
        continue;

      /* Leaving an empty field is not a mistake yet. */
      if (*text_of (ADW_ENTRY_ROW (widget)) != '\0' && !self->touched[field])
        {
          self->touched[field] = TRUE;
          rs_email_dialog_update (self);
        }
    }
}

static void
stack_visible_child_changed_cb (RsEmailDialog *self,
                                GParamSpec    *pspec,
                                GtkStack      *stack)
{
  const char *page;
  GtkWidget *focus = NULL;
  GtkWidget *default_widget = NULL;

  g_assert (RS_IS_EMAIL_DIALOG (self));

  page = gtk_stack_get_visible_child_name (stack);

  if (g_strcmp0 (page, "account") == 0)
    {
      default_widget = self->next_button;
      focus = GTK_WIDGET (self->address_row);
    }
  else if (g_strcmp0 (page, "finding") == 0)
    {
      focus = self->stop_finding_button;
    }
  else if (g_strcmp0 (page, "servers") == 0)
    {
      default_widget = self->connect_button;
      /* Insecure settings: the choice comes first. */
      if (gtk_widget_get_visible (self->use_anyway_button))
        focus = self->use_anyway_button;
      else
        focus = GTK_WIDGET (self->imap_host_row);
    }
  else if (g_strcmp0 (page, "problem") == 0)
    {
      default_widget = self->try_again_button;
      focus = self->try_again_button;
    }

  gtk_window_set_default_widget (GTK_WINDOW (self), default_widget);

  if (focus != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (focus);
}

static void
next_or_explain_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  next_action (widget, action_name, parameter);
}

static void
connect_or_explain_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  rs_email_dialog_start_test (RS_EMAIL_DIALOG (widget));
}

/* Overrides */

static gboolean
rs_email_dialog_close_request (GtkWindow *window)
{
  RsEmailDialog *self = RS_EMAIL_DIALOG (window);

  /* Closing stops the test: nothing is saved. */
  g_cancellable_cancel (self->cancellable);
  rs_email_dialog_stop_detection (self);

  return GTK_WINDOW_CLASS (rs_email_dialog_parent_class)->close_request (window);
}

static void
rs_email_dialog_dispose (GObject *object)
{
  RsEmailDialog *self = (RsEmailDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->detect_timeout_id, g_source_remove);
  if (self->detect_cancellable != NULL)
    g_cancellable_cancel (self->detect_cancellable);
  if (self->detector != NULL)
    g_signal_handlers_disconnect_by_data (self->detector, self);

  if (self->setup != NULL)
    g_signal_handlers_disconnect_by_data (self->setup, self);

  if (self->file_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->file_chooser));
  g_clear_object (&self->file_chooser);

  gtk_widget_dispose_template (GTK_WIDGET (self), RS_TYPE_EMAIL_DIALOG);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->detect_cancellable);
  g_clear_object (&self->detector);
  g_clear_object (&self->setup);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (rs_email_dialog_parent_class)->dispose (object);
}

static void
rs_email_dialog_finalize (GObject *object)
{
  RsEmailDialog *self = (RsEmailDialog *)object;

  g_clear_pointer (&self->trust, rs_trust_free);
  g_clear_pointer (&self->filled_imap, rs_server_settings_free);
  g_clear_pointer (&self->filled_smtp, rs_server_settings_free);
  g_clear_pointer (&self->detect_result, rs_detect_result_free);
  g_clear_pointer (&self->source_rows, g_ptr_array_unref);
  g_clear_pointer (&self->detect_sources, g_ptr_array_unref);
  g_clear_pointer (&self->form_state, rs_email_form_state_free);
  g_free (self->detect_address);
  g_free (self->notice_action);
  g_free (self->refused_fingerprint);

  G_OBJECT_CLASS (rs_email_dialog_parent_class)->finalize (object);
}

/* libadwaita 1.2's password row gives its "show text" button a tooltip
 * but no accessible name; a screen reader would announce only "button". */
static void
label_password_toggle (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *icon_name = GTK_IS_BUTTON (child) ? gtk_button_get_icon_name (GTK_BUTTON (child)) : NULL;

      if (icon_name != NULL && g_str_has_prefix (icon_name, "view-"))
        gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                        GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show or hide the password"),
                                        -1);
      else
        label_password_toggle (child);
    }
}

static void
rs_email_dialog_class_init (RsEmailDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = rs_email_dialog_dispose;
  object_class->finalize = rs_email_dialog_finalize;

  window_class->close_request = rs_email_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/ui/rs-email-dialog.ui");

  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, next_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, connect_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, try_again_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, account_error_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, notice_box);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, notice_icon);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, notice_title_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, notice_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, notice_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, stop_finding_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, finding_intro_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, finding_group);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, detect_summary_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, detect_notes_box);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, use_anyway_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_host_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_port_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_security_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_username_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_error_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_host_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_port_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_security_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_username_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_error_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, advanced_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, ca_file_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, ca_file_clear_button);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, keyring_step_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, imap_step_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, smtp_step_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, save_step_row);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, problem_page);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, problem_hint_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, server_words_expander);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, server_words_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_intro_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_problems_box);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_subject_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_issuer_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_valid_from_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_valid_until_label);
  gtk_widget_class_bind_template_child (widget_class, RsEmailDialog, certificate_fingerprint_label);

  gtk_widget_class_bind_template_callback (widget_class, account_field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, server_field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, imap_port_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, smtp_port_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, imap_security_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, smtp_security_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, stack_visible_child_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, notice_link_activated_cb);

  gtk_widget_class_install_action (widget_class, "email.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "email.next-or-explain", NULL, next_or_explain_action);
  gtk_widget_class_install_action (widget_class, "email.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "email.connect", NULL, connect_action);
  gtk_widget_class_install_action (widget_class, "email.connect-or-explain", NULL, connect_or_explain_action);
  gtk_widget_class_install_action (widget_class, "email.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "email.try-again", NULL, connect_action);
  gtk_widget_class_install_action (widget_class, "email.edit", NULL, edit_action);
  gtk_widget_class_install_action (widget_class, "email.trust", NULL, trust_action);
  gtk_widget_class_install_action (widget_class, "email.use-ca-file", NULL, use_ca_file_action);
  gtk_widget_class_install_action (widget_class, "email.choose-ca-file", NULL, choose_ca_file_action);
  gtk_widget_class_install_action (widget_class, "email.clear-ca-file", NULL, clear_ca_file_action);
  gtk_widget_class_install_action (widget_class, "email.stop-finding", NULL, stop_finding_action);
  gtk_widget_class_install_action (widget_class, "email.use-anyway", NULL, use_anyway_action);
  gtk_widget_class_install_action (widget_class, "email.other-sign-in", NULL, other_sign_in_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
rs_email_dialog_init (RsEmailDialog *self)
{
  AdwActionRow *step_rows[4];
  Field focus_fields[] = {
    FIELD_ADDRESS, FIELD_IMAP_HOST, FIELD_IMAP_PORT, FIELD_IMAP_USERNAME,
    FIELD_SMTP_HOST, FIELD_SMTP_PORT, FIELD_SMTP_USERNAME,
  };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  /* One line per source, in rank order, before the first run. */
  self->source_rows = g_ptr_array_new_with_free_func ((GDestroyNotify) source_row_free);
  {
    g_autoptr(GPtrArray) sources = rs_detect_source_new_builtins ();

    for (guint i = 0; i < sources->len; i++)
      rs_email_dialog_add_source_row (self, rs_detect_source_get_name (g_ptr_array_index (sources, i)));
  }

  /* Detection at work, where the address is typed. */
  self->address_spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->address_spinner), GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->address_spinner), _("Finding your settings…"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->address_spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Finding your settings"),
                                  -1);
  gtk_widget_set_visible (GTK_WIDGET (self->address_spinner), FALSE);
  adw_entry_row_add_suffix (ADW_ENTRY_ROW (self->address_row), GTK_WIDGET (self->address_spinner));

  step_rows[RS_SETUP_STEP_KEYRING] = self->keyring_step_row;
  step_rows[RS_SETUP_STEP_IMAP] = self->imap_step_row;
  step_rows[RS_SETUP_STEP_SMTP] = self->smtp_step_row;
  step_rows[RS_SETUP_STEP_SAVE] = self->save_step_row;

  for (guint i = 0; i < G_N_ELEMENTS (self->steps); i++)
    {
      StepRow *step = &self->steps[i];

      step->row = step_rows[i];
      step->spinner = GTK_SPINNER (gtk_spinner_new ());
      step->image = GTK_IMAGE (gtk_image_new ());
      gtk_widget_set_valign (GTK_WIDGET (step->spinner), GTK_ALIGN_CENTER);
      gtk_widget_set_valign (GTK_WIDGET (step->image), GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (step->spinner),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("In progress"),
                                      -1);
      /* The row's subtitle says the state in words. */
      gtk_accessible_update_property (GTK_ACCESSIBLE (step->image),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                      -1);
      adw_action_row_add_suffix (step->row, GTK_WIDGET (step->spinner));
      adw_action_row_add_suffix (step->row, GTK_WIDGET (step->image));
      set_step (self, i, -1);
    }

  for (guint i = 0; i < G_N_ELEMENTS (focus_fields); i++)
    {
      GtkEventController *controller = gtk_event_controller_focus_new ();

      g_signal_connect_object (controller, "leave",
                               G_CALLBACK (field_focus_left_cb), self, 0);
      gtk_widget_add_controller (field_widget (self, focus_fields[i]), controller);
    }

  gtk_widget_add_css_class (GTK_WIDGET (self->problem_page), "compact");
  label_password_toggle (GTK_WIDGET (self->password_row));

  stack_visible_child_changed_cb (self, NULL, self->stack);
  rs_email_dialog_update_notice (self);
  rs_email_dialog_update (self);
}

/**
 * rs_email_dialog_new:
 * @parent: (nullable): the main window, where the result is announced
 * @store: where the account is saved
 *
 * Returns: (transfer none): a new dialog, not yet shown; like every
 *   window, it is owned by GTK until it is destroyed
 */
RsEmailDialog *
rs_email_dialog_new (GtkWindow      *parent,
                     RsAccountStore *store)
{
  RsEmailDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (RS_IS_ACCOUNT_STORE (store), NULL);

  self = g_object_new (RS_TYPE_EMAIL_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->store = g_object_ref (store);
  self->setup = rs_account_setup_new (store);
  g_signal_connect_object (self->setup, "step",
                           G_CALLBACK (setup_step_cb), self,
                           G_CONNECT_SWAPPED);

  return self;
}

/**
 * rs_email_dialog_get_page:
 *
 * Returns: the page shown: "account", "finding", "servers", "testing",
 *   "problem" or "certificate"
 */
const char *
rs_email_dialog_get_page (RsEmailDialog *self)
{
  g_return_val_if_fail (RS_IS_EMAIL_DIALOG (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

/**
 * rs_email_dialog_show_error:
 * @error: why the connection test failed
 *
 * Shows the Problem page for @error, or the Certificate page when a
 * refused certificate came with it.
 */
void
rs_email_dialog_show_error (RsEmailDialog *self,
                            const GError  *error)
{
  g_autoptr(RsEmailProblem) problem = NULL;

  g_return_if_fail (RS_IS_EMAIL_DIALOG (self));
  g_return_if_fail (error != NULL);

  problem = rs_email_problem_new (error);

  if (problem->show_certificate)
    rs_email_dialog_show_certificate (self, error, rs_error_get_certificate (error));
  else
    rs_email_dialog_show_problem (self, problem);

  rs_email_dialog_update (self);
}

/**
 * rs_email_dialog_set_detect_sources:
 * @sources: (element-type RsDetectSource): best-ranked first
 *
 * Detects settings with @sources instead of the built-in ones, as
 * rs_detector_new_with_sources() does: for tests that script what each
 * source answers, and when.  Takes effect from the next run.
 */
void
rs_email_dialog_set_detect_sources (RsEmailDialog *self,
                                    GPtrArray     *sources)
{
  g_return_if_fail (RS_IS_EMAIL_DIALOG (self));
  g_return_if_fail (sources != NULL);

  g_clear_pointer (&self->detect_sources, g_ptr_array_unref);
  self->detect_sources = g_ptr_array_ref (sources);
}
