/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "rs-detect-candidate.h"

G_BEGIN_DECLS

/* Thunderbird's clientConfig v1.1 ("autoconfig"): the parser, and a
 * bounded HTTP fetch for it. */

#define RS_AUTOCONFIG_MAX_SIZE      (256 * 1024)  /* bytes; larger answers are refused */
#define RS_AUTOCONFIG_MAX_REDIRECTS 5

/* Parses a clientConfig document for @address.  Returns a candidate with
 * source @source, or NULL with G_IO_ERROR_NOT_FOUND when the file offers
 * no IMAP server (POP3 or Exchange only), or G_IO_ERROR_INVALID_DATA when
 * it is not a usable clientConfig (malformed, too large, has a DTD). */
RsDetectCandidate *rs_autoconfig_parse          (const char           *data,
                                                 gsize                 length,
                                                 const char           *address,
                                                 const char           *source,
                                                 GError              **error);

/* Replaces %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN% and %REALNAME%
 * (case-insensitive, a missing closing % tolerated). */
char              *rs_autoconfig_expand         (const char           *text,
                                                 const char           *address);

/* GETs @url (http or https only) with @timeout_seconds for the whole
 * request, following at most RS_AUTOCONFIG_MAX_REDIRECTS redirects to
 * http/https URLs and reading at most RS_AUTOCONFIG_MAX_SIZE bytes.  A 404
 * or 410 fails with G_IO_ERROR_NOT_FOUND.  @insecure (nullable) is set
 * when any hop was plain HTTP. */
void               rs_autoconfig_fetch_async    (SoupSession          *session,
                                                 const char           *url,
                                                 guint                 timeout_seconds,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
GBytes            *rs_autoconfig_fetch_finish   (GAsyncResult         *result,
                                                 gboolean             *insecure,
                                                 GError              **error);

G_END_DECLS
