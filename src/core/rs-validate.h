/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "rs-account.h"
#include "rs-error.h"

G_BEGIN_DECLS

/* Checks for what a user types, shared by the dialog and the CLI.  Each
 * fails with RS_ERROR_INPUT and a sentence that names the field and says
 * what is wrong with it. */
gboolean rs_validate_address     (const char  *address,
                                  GError     **error);
gboolean rs_validate_hostname    (const char  *field,
                                  const char  *hostname,
                                  GError     **error);
gboolean rs_validate_username    (const char  *field,
                                  const char  *username,
                                  GError     **error);
gboolean rs_parse_port           (const char  *field,
                                  const char  *text,
                                  guint16     *port,
                                  GError     **error);


/* Ports and security kept consistent, as RFC 8314 pairs them:
 * IMAP 993 ↔ TLS, 143 ↔ STARTTLS; SMTP 465 ↔ TLS, 587 ↔ STARTTLS. */
guint16    rs_default_port        (RsService   service,
                                   RsSecurity  security);
RsSecurity rs_security_for_port   (RsService   service,
                                   guint16     port);

G_END_DECLS
