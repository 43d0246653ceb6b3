/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "rs-account.h"
#include "rs-certificate.h"
#include "rs-error.h"
#include "rs-net.h"

G_BEGIN_DECLS

/* The decisions of the "Sign in with Email" dialog, made from plain values
 * so that they can be tested without a display.  The dialog only copies
 * these fields into its widgets. */

/* What the user has typed, as the widgets hold it (borrowed strings). */
typedef struct
{
  const char *address;
  const char *password;
  const char *imap_host;
  const char *imap_port;
  const char *imap_username;
  const char *smtp_host;
  const char *smtp_port;
  const char *smtp_username;
} RsEmailFormInput;

/* Which fields are wrong, in words, and what may be pressed.  Each error
 * is %NULL when its field is valid. */
typedef struct
{
  char     *address_error;
  char     *password_error;
  char     *imap_host_error;
  char     *imap_port_error;
  char     *imap_username_error;
  char     *smtp_host_error;
  char     *smtp_port_error;
  char     *smtp_username_error;
  gboolean  can_continue;  /* "Next" on the first page */
  gboolean  can_connect;   /* "Connect" on the server page */
} RsEmailFormState;

RsEmailFormState *rs_email_form_state_new        (const RsEmailFormInput *input);
void              rs_email_form_state_free       (RsEmailFormState       *state);

/* Port and security kept consistent.  Each returns %TRUE when the other
 * field should change, and what to put there. */
gboolean          rs_email_security_for_typed_port (RsService           service,
                                                    const char         *port_text,
                                                    RsSecurity         *security);
gboolean          rs_email_port_for_security     (RsService              service,
                                                  const char             *port_text,
                                                  RsSecurity              security,
                                                  guint16                *port);

/* What the Problem page says about an error from the connection test. */
typedef struct
{
  char     *heading;           /* names the part that failed */
  char     *message;           /* what happened, in plain words */
  char     *hint;              /* what to do; nullable */
  char     *server_words;      /* the server's text and response code; nullable */
  gboolean  show_certificate;  /* the Certificate page is the better answer */
} RsEmailProblem;

RsEmailProblem   *rs_email_problem_new           (const GError           *error);
void              rs_email_problem_free          (RsEmailProblem         *problem);

/* What the Certificate page says about a refused certificate. */
typedef struct
{
  char  *intro;        /* which server, in a sentence */
  char **problems;     /* one sentence per problem */
  char  *subject;
  char  *issuer;
  char  *valid_from;
  char  *valid_until;
  char  *fingerprint;  /* SHA-256, upper case, in pairs */
} RsCertificateText;

RsCertificateText *rs_certificate_text_new       (const RsCertificateInfo *info,
                                                  RsService               service,
                                                  const char             *host);
void               rs_certificate_text_free      (RsCertificateText      *text);
char              *rs_format_fingerprint         (const char             *fingerprint);

/* Trust chosen on the Certificate page, added to what was chosen before. */
void               rs_trust_add_pinned           (RsTrust               **trust,
                                                  const char             *fingerprint);
void               rs_trust_set_ca_file          (RsTrust               **trust,
                                                  const char             *ca_file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsEmailFormState, rs_email_form_state_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsEmailProblem, rs_email_problem_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCertificateText, rs_certificate_text_free)

G_END_DECLS
