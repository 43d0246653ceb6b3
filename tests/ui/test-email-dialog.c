/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-email-dialog"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "rs-account-store.h"
#include "rs-application.h"
#include "rs-certificate.h"
#include "rs-detector.h"
#include "rs-email-dialog.h"
#include "rs-error.h"
#include "rs-window.h"
#include "scripted-source.h"
#include "ui-test-utils.h"

/* The real "Sign in with Email" dialog on the harness's Xvfb display, with
 * the harness's keyring.  What is asserted is what a user would notice:
 * which button can be pressed, what the fields hold, which page shows and
 * what it says.  Nothing here talks to a fake: the one connection test
 * goes to a port where nothing listens, through the real account setup,
 * and settings detection is the real one.  It needs no network: the
 * addresses used are either in the bundled provider table (found at
 * once) or in the reserved .invalid domain (where every source ends with
 * not found or failed, within the detector's bound).  Where a test needs
 * a source that takes its time, or answers with insecure settings, it
 * scripts the sources (tests/detect-unit/scripted-source.c) as the
 * detector's own tests do. */

/* The detector's whole bound, and some room. */
#define DETECT_WAIT_SECONDS (RS_DETECT_DEFAULT_TOTAL_SECONDS + 4)

static RsApplication *app;

typedef struct
{
  char           *dir;
  char           *path;
  RsAccountStore *store;
  RsWindow       *window;
  RsEmailDialog  *dialog;
} Fixture;

static gboolean
is_button_for_action (GtkWidget     *widget,
                      gconstpointer  data)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), data) == 0;
}

static gboolean
is_label_text (GtkWidget     *widget,
               gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), data) == 0;
}

static GtkWidget *
visible_page (Fixture *fixture)
{
  GtkStack *stack = GTK_STACK (find_widget (GTK_WIDGET (fixture->dialog), is_type,
                                            GSIZE_TO_POINTER (GTK_TYPE_STACK)));

  return gtk_stack_get_visible_child (stack);
}

/* Looks only at the page on screen, as the user does. */
static GtkWidget *
page_row (Fixture    *fixture,
          const char *title)
{
  GtkWidget *row = find_widget (visible_page (fixture), is_row_titled, title);

  g_assert_nonnull (row);

  return row;
}

static GtkWidget *
group_row (Fixture    *fixture,
           const char *group_title,
           const char *row_title)
{
  GtkWidget *group = find_widget (visible_page (fixture), is_group_titled, group_title);
  GtkWidget *row;

  g_assert_nonnull (group);
  row = find_widget (group, is_row_titled, row_title);
  g_assert_nonnull (row);

  return row;
}

static GtkWidget *
page_button (Fixture    *fixture,
             const char *action_name)
{
  GtkWidget *button = find_widget (visible_page (fixture), is_button_for_action, action_name);

  g_assert_nonnull (button);

  return button;
}

static void
type_into (GtkWidget  *row,
           const char *text)
{
  gtk_widget_grab_focus (row);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  settle (20);
}

/* Enter in a field, as the keyboard does it. */
static void
press_enter_in (GtkWidget *row)
{
  g_signal_emit_by_name (row, "entry-activated");
  settle (20);
}

static void
click (GtkWidget *button)
{
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  settle (50);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("rs-test-email-dialog-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "accounts.ini", NULL);
  fixture->store = rs_account_store_new (fixture->path);
  rs_account_store_load (fixture->store, &error);
  g_assert_no_error (error);
}

static void
present_dialog (Fixture *fixture,
                int      width)
{
  fixture->window = rs_window_new (app, fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 800, 700);
  gtk_window_present (GTK_WINDOW (fixture->window));

  fixture->dialog = rs_email_dialog_new (GTK_WINDOW (fixture->window), fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->dialog), (gpointer *)&fixture->dialog);
  gtk_window_set_default_size (GTK_WINDOW (fixture->dialog), width, 600);
  gtk_window_present (GTK_WINDOW (fixture->dialog));

  g_assert_true (wait_for (widget_is_mapped, fixture->dialog));
  settle (100);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  destroy_toplevels ();

  g_clear_object (&fixture->store);
  g_unlink (fixture->path);
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static gboolean
dialog_shows_servers (gpointer data)
{
  Fixture *fixture = data;

  return fixture->dialog != NULL &&
         g_strcmp0 (rs_email_dialog_get_page (fixture->dialog), "servers") == 0;
}

static const char *
row_text (Fixture    *fixture,
          const char *group,
          const char *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (group_row (fixture, group, row)));
}

/* Fills the first page validly and goes on to the server settings, which
 * detection fills from the provider table. */
static void
go_to_servers (Fixture *fixture)
{
  type_into (page_row (fixture, "Email address"), "ada@fastmail.com");
  type_into (page_row (fixture, "Password"), "correct horse");
  click (page_button (fixture, "email.next"));
  g_assert_true (wait_for (dialog_shows_servers, fixture));
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "imap.fastmail.com");
}

static void
test_account_page (Fixture       *fixture,
                   gconstpointer  data)
{
  GtkWidget *address;
  GtkWidget *next;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (fixture->dialog)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (fixture->dialog)) ==
                 GTK_WINDOW (fixture->window));

  /* The privacy promise is on the first page. */
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_containing,
                                 "never what they wrote"));
  g_assert_nonnull (page_row (fixture, "Your name (optional)"));

  address = page_row (fixture, "Email address");
  next = page_button (fixture, "email.next");
  g_assert_false (gtk_widget_is_sensitive (next));

  type_into (page_row (fixture, "Password"), "correct horse");
  type_into (address, "ada@");

  /* Not a valid address: Next cannot be pressed, but no shouting while
   * the user is still typing. */
  g_assert_false (gtk_widget_is_sensitive (next));
  g_assert_false (gtk_widget_has_css_class (address, "error"));

  /* Enter asks to go on: now the field says what is wrong. */
  press_enter_in (address);
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");
  g_assert_true (gtk_widget_has_css_class (address, "error"));
  g_assert_nonnull (gtk_widget_get_tooltip_text (address));
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_containing,
                                 "is not an email address"));

  type_into (address, "ada lovelace@example.com");
  g_assert_false (gtk_widget_is_sensitive (next));
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_text,
                                 "An email address cannot contain spaces"));

  type_into (address, "ada@fastmail.com");
  g_assert_true (gtk_widget_is_sensitive (next));
  g_assert_false (gtk_widget_has_css_class (address, "error"));

  /* Without a password there is nothing to sign in with. */
  type_into (page_row (fixture, "Password"), "");
  g_assert_false (gtk_widget_is_sensitive (next));
  type_into (page_row (fixture, "Password"), "correct horse");

  click (next);
  g_assert_true (wait_for (dialog_shows_servers, fixture));

  /* Filled from what detection found, and said where it came from. */
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_text, "Found by: Known providers"));
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "imap.fastmail.com");
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Port"), ==, "993");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (group_row (fixture, "Receiving (IMAP)", "Security"))),
                    ==, 0);
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Username"), ==, "ada@fastmail.com");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Server"), ==, "smtp.fastmail.com");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Port"), ==, "465");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (group_row (fixture, "Sending (SMTP)", "Security"))),
                    ==, 0);
  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));
}

static void
test_back_keeps_edits (Fixture       *fixture,
                       gconstpointer  data)
{
  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "mail.example.org");

  click (page_button (fixture, "email.back"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");
  type_into (page_row (fixture, "Email address"), "ada@yahoo.com");
  click (page_button (fixture, "email.next"));
  g_assert_true (wait_for (dialog_shows_servers, fixture));

  /* What the user typed stays; what detection filled follows the address. */
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "mail.example.org");
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Username"), ==, "ada@yahoo.com");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Server"), ==, "smtp.mail.yahoo.com");
}

static void
test_port_and_security (Fixture       *fixture,
                        gconstpointer  data)
{
  GtkWidget *imap_port;
  GtkWidget *imap_security;
  GtkWidget *smtp_port;
  GtkWidget *smtp_security;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  imap_port = group_row (fixture, "Receiving (IMAP)", "Port");
  imap_security = group_row (fixture, "Receiving (IMAP)", "Security");
  smtp_port = group_row (fixture, "Sending (SMTP)", "Port");
  smtp_security = group_row (fixture, "Sending (SMTP)", "Security");

  /* Typing a well-known port picks its security… */
  type_into (imap_port, "143");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (imap_security)), ==, 1);
  type_into (imap_port, "993");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (imap_security)), ==, 0);
  type_into (smtp_port, "587");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (smtp_security)), ==, 1);
  type_into (smtp_port, "465");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (smtp_security)), ==, 0);

  /* …choosing a security moves a default port along… */
  adw_combo_row_set_selected (ADW_COMBO_ROW (smtp_security), 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (smtp_port)), ==, "587");
  adw_combo_row_set_selected (ADW_COMBO_ROW (imap_security), 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (imap_port)), ==, "143");

  /* …but never the user's own port. */
  type_into (imap_port, "10143");
  adw_combo_row_set_selected (ADW_COMBO_ROW (imap_security), 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (imap_port)), ==, "10143");
  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));
}

static void
test_invalid_server_fields (Fixture       *fixture,
                            gconstpointer  data)
{
  static const struct {
    const char *group;
    const char *row;
    const char *text;
    const char *error;
  } cases[] = {
    { "Receiving (IMAP)", "Server", "imap.example .com", "The IMAP server cannot contain spaces" },
    { "Sending (SMTP)", "Server", "", "Enter the SMTP server" },
    { "Receiving (IMAP)", "Port", "99999", "The IMAP port must be a number from 1 to 65535" },
    { "Sending (SMTP)", "Port", "abc", "The SMTP port must be a number from 1 to 65535" },
    { "Receiving (IMAP)", "Username", "ada lovelace", "The IMAP username cannot contain spaces" },
  };

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GtkWidget *row = group_row (fixture, cases[i].group, cases[i].row);
      g_autofree char *saved = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));

      g_test_message ("%s %s: “%s”", cases[i].group, cases[i].row, cases[i].text);

      type_into (row, cases[i].text);
      g_assert_false (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));

      /* Enter explains, and nothing is sent. */
      press_enter_in (row);
      g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "servers");
      g_assert_true (gtk_widget_has_css_class (row, "error"));
      g_assert_nonnull (find_widget (visible_page (fixture), is_label_text, cases[i].error));

      type_into (row, saved);
      g_assert_false (gtk_widget_has_css_class (row, "error"));
      g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));
    }
}

static gboolean
dialog_shows_problem (gpointer data)
{
  Fixture *fixture = data;

  return fixture->dialog != NULL &&
         g_strcmp0 (rs_email_dialog_get_page (fixture->dialog), "problem") == 0;
}

static int
free_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  /* Closed when @socket goes: nothing listens there afterwards. */
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
test_connection_refused (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *port = NULL;
  GtkWidget *page;
  AdwStatusPage *status;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  port = g_strdup_printf ("%d", free_port ());
  type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "127.0.0.1");
  type_into (group_row (fixture, "Receiving (IMAP)", "Port"), port);

  /* A refused connection is quick: the Testing page may be gone before
   * it can be looked at, but its rows stay to tell. */
  click (page_button (fixture, "email.connect"));
  g_assert_true (wait_for_seconds (dialog_shows_problem, fixture, 30));

  /* The steps say, in words, how far it got. */
  page = gtk_widget_get_prev_sibling (visible_page (fixture));
  g_assert_nonnull (page);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_widget (page, is_row_titled, "Checking the keyring"))),
                   ==, "Done");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_widget (page, is_row_titled, "Signing in to receive (IMAP)"))),
                   ==, "Failed");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_widget (page, is_row_titled, "Signing in to send (SMTP)"))),
                   ==, "Waiting");

  /* The part that failed is named, and what to do is said. */
  status = ADW_STATUS_PAGE (find_widget (visible_page (fixture), is_type,
                                         GSIZE_TO_POINTER (ADW_TYPE_STATUS_PAGE)));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "Receiving (IMAP) failed");
  g_assert_nonnull (adw_status_page_get_description (status));
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_containing,
                                 "Check the server name and port"));

  /* Nothing was saved. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->store)), ==, 0);
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));

  /* Edit Settings goes back with the values kept. */
  click (page_button (fixture, "email.edit"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "servers");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (group_row (fixture, "Receiving (IMAP)", "Port"))),
                   ==, port);
}

static void
test_problem_page (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GtkWidget *expander;
  AdwStatusPage *status;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  error = g_error_new_literal (RS_ERROR, RS_ERROR_AUTHENTICATION,
                               "The server refused the username or password.");
  rs_error_set_service (error, RS_SERVICE_SMTP);
  rs_error_set_server_text (error, "5.7.8 Username and Password not accepted.");
  rs_error_set_response_code (error, "535");
  rs_email_dialog_show_error (fixture->dialog, error);
  settle (50);

  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "problem");
  status = ADW_STATUS_PAGE (find_widget (visible_page (fixture), is_type,
                                         GSIZE_TO_POINTER (ADW_TYPE_STATUS_PAGE)));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "Sending (SMTP) failed");
  g_assert_cmpstr (adw_status_page_get_description (status), ==,
                   "The server refused the username or password.");
  g_assert_nonnull (find_widget (visible_page (fixture), is_label_containing, "app password"));

  /* The server's own words, one click away. */
  expander = find_widget (visible_page (fixture), is_type, GSIZE_TO_POINTER (GTK_TYPE_EXPANDER));
  g_assert_nonnull (expander);
  g_assert_true (gtk_widget_get_visible (expander));
  g_assert_cmpstr (gtk_expander_get_label (GTK_EXPANDER (expander)), ==, "What the server said");
  g_assert_false (gtk_expander_get_expanded (GTK_EXPANDER (expander)));
  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
  settle (50);
  g_assert_nonnull (find_widget (expander, is_label_text,
                                 "5.7.8 Username and Password not accepted.\n\nResponse code: 535"));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (gtk_expander_get_child (GTK_EXPANDER (expander)))));

  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.try-again")));
  click (page_button (fixture, "email.edit"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "servers");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Server"), ==, "smtp.fastmail.com");
}

static void
test_keyring_problem (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AdwStatusPage *status;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);

  error = g_error_new_literal (RS_ERROR, RS_ERROR_KEYRING, "The keyring is locked.");
  rs_email_dialog_show_error (fixture->dialog, error);
  settle (50);

  status = ADW_STATUS_PAGE (find_widget (visible_page (fixture), is_type,
                                         GSIZE_TO_POINTER (ADW_TYPE_STATUS_PAGE)));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "The keyring is not available");

  /* No server spoke: no empty expander. */
  g_assert_false (gtk_widget_get_visible (find_widget (visible_page (fixture), is_type,
                                                       GSIZE_TO_POINTER (GTK_TYPE_EXPANDER))));
}

static GError *
new_certificate_error (void)
{
  GError *error = g_error_new_literal (RS_ERROR, RS_ERROR_CERTIFICATE,
                                       "The certificate of imap.example.com is not trusted.");
  RsCertificateInfo *info = g_new0 (RsCertificateInfo, 1);

  info->fingerprint = g_strdup ("3f4e2a1b00c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3");
  info->subject = g_strdup ("CN=imap.example.com");
  info->issuer = g_strdup ("CN=Example Corporate Root CA,O=Example Ltd,C=GB");
  info->not_before = g_date_time_new_utc (2024, 3, 1, 0, 0, 0);
  info->not_after = g_date_time_new_utc (2026, 3, 1, 23, 59, 59);
  info->errors = G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_BAD_IDENTITY;

  rs_error_set_service (error, RS_SERVICE_IMAP);
  rs_error_set_certificate (error, info);

  return error;
}

static void
test_certificate_page (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = new_certificate_error ();
  GtkWidget *page;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);
  type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "imap.example.com");

  rs_email_dialog_show_error (fixture->dialog, error);
  settle (50);

  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "certificate");
  page = visible_page (fixture);

  /* One sentence per problem, then what the certificate is. */
  g_assert_nonnull (find_widget (page, is_label_text,
                                 "The certificate is not signed by an authority this computer trusts"));
  g_assert_nonnull (find_widget (page, is_label_text,
                                 "The certificate was issued for a different server name"));
  g_assert_nonnull (find_widget (page, is_label_containing, "imap.example.com presented a certificate"));
  g_assert_nonnull (find_widget (page, is_label_text, "CN=imap.example.com"));
  g_assert_nonnull (find_widget (page, is_label_text, "CN=Example Corporate Root CA,O=Example Ltd,C=GB"));
  g_assert_nonnull (find_widget (page, is_label_text, "1 March 2024, 00:00 UTC"));
  g_assert_nonnull (find_widget (page, is_label_text, "1 March 2026, 23:59 UTC"));
  g_assert_nonnull (find_widget (page, is_label_text,
                                 "3F 4E 2A 1B 00 C9 D8 E7 F6 A5 B4 C3 D2 E1 F0 A9 "
                                 "B8 C7 D6 E5 F4 A3 B2 C1 D0 E9 F8 A7 B6 C5 D4 E3"));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (find_widget (page, is_label_containing, "3F 4E"))));

  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.trust")));
  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.use-ca-file")));
  g_assert_nonnull (page_button (fixture, "window.close"));
}

static void
test_opened_from_window (Fixture       *fixture,
                         gconstpointer  data)
{
  GtkWidget *button;

  if (!require_display ())
    return;

  fixture->window = rs_window_new (app, fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_true (wait_for (widget_is_mapped, fixture->window));

  button = find_widget (GTK_WIDGET (fixture->window), is_button_labelled, "Sign in with Email");
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");

  g_assert_true (wait_for (has_toplevel, GSIZE_TO_POINTER (RS_TYPE_EMAIL_DIALOG)));
  fixture->dialog = RS_EMAIL_DIALOG (find_toplevel (RS_TYPE_EMAIL_DIALOG));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (fixture->dialog)) ==
                 GTK_WINDOW (fixture->window));
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (fixture->dialog)));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");
}

static void
test_escape_closes (Fixture       *fixture,
                    gconstpointer  data)
{
  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  gtk_widget_activate_action (GTK_WIDGET (fixture->dialog), "window.close", NULL);
  settle (50);

  g_assert_null (fixture->dialog);
  g_assert_nonnull (fixture->window);
}

static gboolean
notice_shown (gpointer data)
{
  Fixture *fixture = data;
  GtkWidget *label = find_widget (visible_page (fixture), is_label_containing, "needs an app password");

  if (label == NULL)
    label = find_widget (visible_page (fixture), is_label_containing, "This is a");

  return label != NULL && gtk_widget_is_visible (label);
}

static GtkWidget *
visible_label_containing (Fixture    *fixture,
                          const char *text)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  collect_widgets (visible_page (fixture), is_label_containing, text, found);

  for (guint i = 0; i < found->len; i++)
    if (gtk_widget_is_visible (g_ptr_array_index (found, i)))
      return g_ptr_array_index (found, i);

  return NULL;
}

static void
test_app_password_notice (Fixture       *fixture,
                          gconstpointer  data)
{
  GtkWidget *label;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  /* Typing is debounced: nothing is looked up while the address changes. */
  type_into (page_row (fixture, "Email address"), "someone@fastmail.com");
  g_assert_null (visible_label_containing (fixture, "needs an app password"));

  /* The provider table answers at once; the notice is there before the
   * password is typed. */
  g_assert_true (wait_for_seconds (notice_shown, fixture, 3));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (page_row (fixture, "Password"))), ==, "");

  label = visible_label_containing (fixture, "needs an app password");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==,
                   "Fastmail needs an app password for this sign-in. Create one at "
                   "fastmail.help/hc/en-us/articles/360058752854, then paste it here.");
  /* A real link to the provider's instructions. */
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (label)),
                            "<a href=\"https://www.fastmail.help/hc/en-us/articles/360058752854\">"));
  g_assert_true (gtk_label_get_use_markup (GTK_LABEL (label)));
  g_assert_null (visible_label_containing (fixture, "sign in with Google"));

  /* A changed address drops what was found for the old one. */
  type_into (page_row (fixture, "Email address"), "someone@nowhere.invalid");
  g_assert_null (visible_label_containing (fixture, "needs an app password"));
}

static void
test_google_route (Fixture       *fixture,
                   gconstpointer  data)
{
  GtkWidget *button;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  type_into (page_row (fixture, "Email address"), "someone@gmail.com");
  g_assert_true (wait_for_seconds (notice_shown, fixture, 3));

  g_assert_nonnull (visible_label_containing (fixture,
                                              "This is a Google address — sign in with Google instead"));
  button = page_button (fixture, "email.other-sign-in");
  g_assert_true (gtk_widget_is_visible (button));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "Sign in with _Google");

  /* It leads to the main window's Gmail sign-in, and this dialog makes
   * way for it (which, until that arrives, says so honestly). */
  click (button);
  g_assert_null (fixture->dialog);
  g_assert_nonnull (fixture->window);
  g_assert_true (wait_for_seconds (has_message_dialog, NULL, 3));
}

static void
test_microsoft_route (Fixture       *fixture,
                      gconstpointer  data)
{
  GtkWidget *button;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  type_into (page_row (fixture, "Email address"), "someone@outlook.com");
  g_assert_true (wait_for_seconds (notice_shown, fixture, 3));

  g_assert_nonnull (visible_label_containing (fixture, "This is a Microsoft address"));
  g_assert_nonnull (visible_label_containing (fixture,
                                              "Outlook.com signs in with Microsoft, or through "
                                              "Exchange. Neither is available in this version"));

  /* No button pretending to lead somewhere. */
  button = page_button (fixture, "email.other-sign-in");
  g_assert_false (gtk_widget_is_visible (button));
  g_assert_false (gtk_widget_is_sensitive (button));
}

static const char * const source_titles[] = {
  "Known providers",
  "Your provider’s configuration",
  "Configuration at a well-known address",
  "Thunderbird’s database",
  "DNS service records",
  "Your mail server’s domain (MX)",
  "Trying common server names",
};

static void
test_nothing_found (Fixture       *fixture,
                    gconstpointer  data)
{
  GtkWidget *finding;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);

  /* Next before detection even started.  Without a network every
   * source may have failed before the Finding page could be looked at:
   * its lines stay to tell. */
  type_into (page_row (fixture, "Email address"), "ada@nowhere.invalid");
  type_into (page_row (fixture, "Password"), "correct horse");
  click (page_button (fixture, "email.next"));
  finding = gtk_stack_get_child_by_name (GTK_STACK (gtk_widget_get_parent (visible_page (fixture))), "finding");
  g_assert_nonnull (finding);

  for (guint i = 0; i < G_N_ELEMENTS (source_titles); i++)
    g_assert_nonnull (find_widget (finding, is_row_titled, source_titles[i]));

  /* Within the bound it moves on by itself, and says plainly that
   * nothing was found: no guesses pretending to be found. */
  g_assert_true (wait_for_seconds (dialog_shows_servers, fixture, DETECT_WAIT_SECONDS));
  g_assert_nonnull (visible_label_containing (fixture,
                                              "No settings were found for nowhere.invalid. Ask your "
                                              "provider for its IMAP and SMTP servers"));
  g_assert_null (visible_label_containing (fixture, "Found by"));
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Server"), ==, "");
  g_assert_false (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));

  /* Every source said how it ended, in a word and with an icon. */
  for (guint i = 0; i < G_N_ELEMENTS (source_titles); i++)
    {
      AdwActionRow *row = ADW_ACTION_ROW (find_widget (finding, is_row_titled, source_titles[i]));
      const char *subtitle = adw_action_row_get_subtitle (row);
      g_autoptr(GPtrArray) images = g_ptr_array_new ();
      gboolean icon_shown = FALSE;

      g_test_message ("%s: %s", source_titles[i], subtitle);
      g_assert_true (g_str_has_prefix (subtitle, "Not found") ||
                     g_str_has_prefix (subtitle, "Failed") ||
                     g_str_has_prefix (subtitle, "Not needed"));

      /* (The row's own prefix icon is hidden: look for the state's.) */
      collect_widgets (GTK_WIDGET (row), is_type, GSIZE_TO_POINTER (GTK_TYPE_IMAGE), images);
      for (guint j = 0; j < images->len; j++)
        if (gtk_widget_get_visible (g_ptr_array_index (images, j)) &&
            gtk_image_get_icon_name (g_ptr_array_index (images, j)) != NULL)
          icon_shown = TRUE;
      g_assert_true (icon_shown);
    }
}

static void
script_detection (Fixture *fixture,
                  ...)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  va_list args;
  const char *name;

  va_start (args, fixture);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      ScriptAction action = va_arg (args, ScriptAction);
      guint delay_ms = va_arg (args, guint);

      g_ptr_array_add (sources, scripted_source_new (name, action, delay_ms));
    }
  va_end (args);

  rs_email_dialog_set_detect_sources (fixture->dialog, sources);
}

static void
test_finding_page (Fixture       *fixture,
                   gconstpointer  data)
{
  AdwActionRow *row;
  GtkWidget *spinner;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  /* The provider table has no answer; DNS service records take their
   * time (longer than this test). */
  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "srv", SCRIPT_HANG, 0u,
                    NULL);

  type_into (page_row (fixture, "Email address"), "ada@example.com");
  type_into (page_row (fixture, "Password"), "correct horse");
  click (page_button (fixture, "email.next"));
  settle (200);
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "finding");
  g_assert_nonnull (visible_label_containing (fixture, "for the settings of example.com"));

  /* Each source says, in words, where it is; a spinner while checking. */
  row = ADW_ACTION_ROW (page_row (fixture, "Known providers"));
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (row), "Not found"));
  row = ADW_ACTION_ROW (page_row (fixture, "DNS service records"));
  g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, "Checking…");
  spinner = find_widget (GTK_WIDGET (row), is_type, GSIZE_TO_POINTER (GTK_TYPE_SPINNER));
  g_assert_true (gtk_widget_get_visible (spinner));
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));

  /* Cancel goes back to the address, with what was typed kept… */
  click (page_button (fixture, "email.stop-finding"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (page_row (fixture, "Email address"))),
                   ==, "ada@example.com");

  /* …and nothing from the stopped run moves the dialog on. */
  settle (500);
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "account");

  /* Next looks again. */
  click (page_button (fixture, "email.next"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "finding");
}

static void
test_finding_moves_on (Fixture       *fixture,
                       gconstpointer  data)
{
  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "autoconfig", SCRIPT_FOUND, 700u,
                    "guess", SCRIPT_HANG, 0u,
                    NULL);

  type_into (page_row (fixture, "Email address"), "ada@example.com");
  type_into (page_row (fixture, "Password"), "correct horse");
  click (page_button (fixture, "email.next"));
  g_assert_cmpstr (rs_email_dialog_get_page (fixture->dialog), ==, "finding");

  /* Once found, the Server settings page follows by itself. */
  g_assert_true (wait_for_seconds (dialog_shows_servers, fixture, 3));
  g_assert_nonnull (visible_label_containing (fixture, "Found by: Your provider’s configuration"));
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "autoconfig");
  g_assert_cmpstr (row_text (fixture, "Sending (SMTP)", "Port"), ==, "465");
  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));
}

static void
test_insecure_needs_consent (Fixture       *fixture,
                             gconstpointer  data)
{
  GtkWidget *button;

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "autoconfig", SCRIPT_FOUND_INSECURE, 0u,
                    NULL);

  type_into (page_row (fixture, "Email address"), "ada@example.com");
  type_into (page_row (fixture, "Password"), "correct horse");
  click (page_button (fixture, "email.next"));
  g_assert_true (wait_for_seconds (dialog_shows_servers, fixture, 3));

  /* Shown with a warning, and not used until the user says so. */
  g_assert_nonnull (visible_label_containing (fixture, "These settings may not be safe"));
  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "");
  g_assert_false (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));

  button = page_button (fixture, "email.use-anyway");
  g_assert_true (gtk_widget_is_visible (button));
  click (button);

  g_assert_cmpstr (row_text (fixture, "Receiving (IMAP)", "Server"), ==, "autoconfig");
  g_assert_true (gtk_widget_is_sensitive (page_button (fixture, "email.connect")));
  g_assert_false (gtk_widget_is_visible (button));
  /* The warning stays, for the record. */
  g_assert_nonnull (visible_label_containing (fixture, "These settings may not be safe"));
}

static gboolean
is_interactive (GtkWidget     *widget,
                gconstpointer  data)
{
  return GTK_IS_BUTTON (widget) || ADW_IS_PREFERENCES_ROW (widget) || GTK_IS_EXPANDER (widget);
}

static void
assert_labelled (GtkWidget *widget)
{
  if (ADW_IS_PREFERENCES_ROW (widget))
    {
      const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget));

      if (title == NULL || *title == '\0')
        g_error ("A %s has no title", G_OBJECT_TYPE_NAME (widget));
      return;
    }

  if (GTK_IS_EXPANDER (widget))
    {
      g_assert_nonnull (gtk_expander_get_label (GTK_EXPANDER (widget)));
      return;
    }

  if (gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    return;

  /* Widgets inside other widgets (a combo row's popover, an expander row's
   * arrow) are labelled by their owner; one never shown (an entry row's
   * apply button) cannot be reached. */
  if (gtk_widget_get_ancestor (widget, ADW_TYPE_COMBO_ROW) != NULL ||
      gtk_widget_get_ancestor (widget, GTK_TYPE_EXPANDER) != NULL ||
      !gtk_widget_get_visible (widget) ||
      !gtk_widget_get_can_focus (widget))
    return;

  if (!gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL))
    {
      GtkWidget *row = gtk_widget_get_ancestor (widget, ADW_TYPE_PREFERENCES_ROW);

      g_error ("A %s (action %s, in row “%s”, visible %d) has neither a label nor an accessible label",
               G_OBJECT_TYPE_NAME (widget),
               gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)),
               row ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)) : "none",
               gtk_widget_get_visible (widget));
    }
}

static void
test_accessible_labels (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = new_certificate_error ();
  g_autoptr(GPtrArray) widgets = g_ptr_array_new ();

  if (!require_display ())
    return;

  present_dialog (fixture, 480);
  go_to_servers (fixture);
  rs_email_dialog_show_error (fixture->dialog, error);
  settle (50);

  /* Every page, not only the visible one. */
  collect_widgets (GTK_WIDGET (fixture->dialog), is_interactive, NULL, widgets);
  g_assert_cmpuint (widgets->len, >, 20);

  for (guint i = 0; i < widgets->len; i++)
    assert_labelled (g_ptr_array_index (widgets, i));
}

/* Not a test: with RS_SCREENSHOT_DIR set, takes a picture of each page at
 * the width given, with import(1) from the Xvfb screen. */
static void
take_screenshot (Fixture    *fixture,
                 const char *name,
                 int         width)
{
  g_autofree char *file_name = g_strdup_printf ("email-dialog-%s-%d.png", name, width);

  save_screenshot (GTK_WIDGET (fixture->dialog), file_name);
}

static void
scroll_to_end (Fixture *fixture)
{
  GtkWidget *scrolled = find_widget (visible_page (fixture), is_type,
                                     GSIZE_TO_POINTER (GTK_TYPE_SCROLLED_WINDOW));
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

  settle (300);
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
}

static void
test_screenshots (Fixture       *fixture,
                  gconstpointer  data)
{
  int width = GPOINTER_TO_INT (data);
  g_autoptr(GError) auth_error = NULL;
  g_autoptr(GError) cert_error = new_certificate_error ();

  if (!require_screenshot_dir () || !require_display ())
    return;

  /* The main window would cover the dialog on a screen without a window
   * manager: show the dialog alone. */
  fixture->dialog = rs_email_dialog_new (NULL, fixture->store);
  g_object_add_weak_pointer (G_OBJECT (fixture->dialog), (gpointer *)&fixture->dialog);
  gtk_window_set_default_size (GTK_WINDOW (fixture->dialog), width, 640);
  gtk_window_present (GTK_WINDOW (fixture->dialog));
  settle (300);

  type_into (page_row (fixture, "Email address"), "ada@example");
  type_into (page_row (fixture, "Password"), "correct horse");
  press_enter_in (page_row (fixture, "Email address"));
  take_screenshot (fixture, "account-invalid", width);

  type_into (page_row (fixture, "Email address"), "ada@gmail.com");
  wait_for_seconds (notice_shown, fixture, 3);
  take_screenshot (fixture, "account-google", width);
  type_into (page_row (fixture, "Email address"), "ada@outlook.com");
  wait_for_seconds (notice_shown, fixture, 3);
  take_screenshot (fixture, "account-microsoft", width);

  type_into (page_row (fixture, "Email address"), "ada@fastmail.com");
  type_into (page_row (fixture, "Your name (optional)"), "Ada Lovelace");
  wait_for_seconds (notice_shown, fixture, 3);
  take_screenshot (fixture, "account", width);

  click (page_button (fixture, "email.next"));
  wait_for (dialog_shows_servers, fixture);
  take_screenshot (fixture, "servers", width);
  type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "imap.example .com");
  type_into (group_row (fixture, "Receiving (IMAP)", "Port"), "143");
  press_enter_in (group_row (fixture, "Receiving (IMAP)", "Server"));
  take_screenshot (fixture, "servers-invalid", width);
  type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "imap.example.com");
  take_screenshot (fixture, "servers-starttls", width);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (page_row (fixture, "Advanced")), TRUE);
  scroll_to_end (fixture);
  take_screenshot (fixture, "servers-end", width);

  /* A server that accepts the connection and then says nothing keeps the
   * test on its IMAP step. */
  {
    g_autoptr(GSocketListener) silent = g_socket_listener_new ();
    g_autoptr(GError) error = NULL;
    g_autofree char *port = NULL;
    guint16 silent_port;

    silent_port = g_socket_listener_add_any_inet_port (silent, NULL, &error);
    g_assert_no_error (error);
    port = g_strdup_printf ("%u", silent_port);

    type_into (group_row (fixture, "Receiving (IMAP)", "Server"), "localhost");
    type_into (group_row (fixture, "Receiving (IMAP)", "Port"), port);
    click (page_button (fixture, "email.connect"));
    settle (1000);
    take_screenshot (fixture, "testing", width);
    click (page_button (fixture, "email.cancel"));
  }

  auth_error = g_error_new_literal (RS_ERROR, RS_ERROR_AUTHENTICATION,
                                    "The server refused the username or password.");
  rs_error_set_service (auth_error, RS_SERVICE_IMAP);
  rs_error_set_server_text (auth_error, "[AUTHENTICATIONFAILED] Authentication failed.");
  rs_error_set_response_code (auth_error, "AUTHENTICATIONFAILED");
  rs_email_dialog_show_error (fixture->dialog, auth_error);
  gtk_expander_set_expanded (GTK_EXPANDER (find_widget (visible_page (fixture), is_type,
                                                        GSIZE_TO_POINTER (GTK_TYPE_EXPANDER))), TRUE);
  take_screenshot (fixture, "problem", width);

  rs_email_dialog_show_error (fixture->dialog, cert_error);
  take_screenshot (fixture, "certificate", width);
  scroll_to_end (fixture);
  take_screenshot (fixture, "certificate-end", width);

  /* Sources that take their time, then settings that came insecurely. */
  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "autoconfig", SCRIPT_FAIL, 0u,
                    "autoconfig-wellknown", SCRIPT_NOT_FOUND, 0u,
                    "ispdb", SCRIPT_HANG, 0u,
                    "srv", SCRIPT_NOT_FOUND, 0u,
                    "mx", SCRIPT_HANG, 0u,
                    "guess", SCRIPT_HANG, 0u,
                    NULL);
  gtk_widget_activate_action (GTK_WIDGET (fixture->dialog), "email.edit", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fixture->dialog), "email.back", NULL);
  type_into (page_row (fixture, "Email address"), "ada@example.com");
  click (page_button (fixture, "email.next"));
  take_screenshot (fixture, "finding", width);
  click (page_button (fixture, "email.stop-finding"));

  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "autoconfig", SCRIPT_FOUND_INSECURE, 0u,
                    NULL);
  click (page_button (fixture, "email.next"));
  wait_for_seconds (dialog_shows_servers, fixture, 3);
  take_screenshot (fixture, "servers-insecure", width);

  gtk_widget_activate_action (GTK_WIDGET (fixture->dialog), "email.back", NULL);
  type_into (page_row (fixture, "Email address"), "ada@nowhere.invalid");
  script_detection (fixture,
                    "providers", SCRIPT_NOT_FOUND, 0u,
                    "autoconfig", SCRIPT_NOT_FOUND, 0u,
                    NULL);
  click (page_button (fixture, "email.next"));
  wait_for_seconds (dialog_shows_servers, fixture, 3);
  take_screenshot (fixture, "servers-nothing-found", width);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = ui_test_init (&argc, &argv);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  ADD ("/ui/email-dialog/opened-from-window", test_opened_from_window, NULL);
  ADD ("/ui/email-dialog/account-page", test_account_page, NULL);
  ADD ("/ui/email-dialog/back-keeps-edits", test_back_keeps_edits, NULL);
  ADD ("/ui/email-dialog/port-and-security", test_port_and_security, NULL);
  ADD ("/ui/email-dialog/invalid-server-fields", test_invalid_server_fields, NULL);
  ADD ("/ui/email-dialog/connection-refused", test_connection_refused, NULL);
  ADD ("/ui/email-dialog/problem-page", test_problem_page, NULL);
  ADD ("/ui/email-dialog/keyring-problem", test_keyring_problem, NULL);
  ADD ("/ui/email-dialog/certificate-page", test_certificate_page, NULL);
  ADD ("/ui/email-dialog/escape-closes", test_escape_closes, NULL);
  ADD ("/ui/email-dialog/app-password-notice", test_app_password_notice, NULL);
  ADD ("/ui/email-dialog/google-route", test_google_route, NULL);
  ADD ("/ui/email-dialog/microsoft-route", test_microsoft_route, NULL);
  ADD ("/ui/email-dialog/nothing-found", test_nothing_found, NULL);
  ADD ("/ui/email-dialog/finding-page", test_finding_page, NULL);
  ADD ("/ui/email-dialog/finding-moves-on", test_finding_moves_on, NULL);
  ADD ("/ui/email-dialog/insecure-needs-consent", test_insecure_needs_consent, NULL);
  ADD ("/ui/email-dialog/accessible-labels", test_accessible_labels, NULL);
  ADD ("/ui/email-dialog/screenshots/480", test_screenshots, GINT_TO_POINTER (480));
  ADD ("/ui/email-dialog/screenshots/360", test_screenshots, GINT_TO_POINTER (360));

#undef ADD

  ret = g_test_run ();

  g_clear_object (&app);

  return ret;
}
