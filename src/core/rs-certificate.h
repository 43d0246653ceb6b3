/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-error.h"

G_BEGIN_DECLS

/* What we show a user about a certificate we refused, and what we pin
 * when they choose to trust it. */
struct _RsCertificateInfo
{
  char                 *fingerprint;   /* SHA-256 of the DER, lowercase hex, no colons */
  char                 *subject;
  char                 *issuer;
  GDateTime            *not_before;
  GDateTime            *not_after;
  GTlsCertificateFlags  errors;        /* why it was refused; 0 if it was not */
};

#define RS_TYPE_CERTIFICATE_INFO (rs_certificate_info_get_type ())

GType              rs_certificate_info_get_type      (void) G_GNUC_CONST;
RsCertificateInfo *rs_certificate_info_new           (GTlsCertificate      *certificate,
                                                      GTlsCertificateFlags  errors);
RsCertificateInfo *rs_certificate_info_copy          (const RsCertificateInfo *info);
void               rs_certificate_info_free          (RsCertificateInfo    *info);
char              *rs_certificate_fingerprint        (GTlsCertificate      *certificate);
char             **rs_certificate_describe_problems  (GTlsCertificateFlags  errors);
gboolean           rs_fingerprint_normalize          (const char           *input,
                                                      char                **normalized);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsCertificateInfo, rs_certificate_info_free)

G_END_DECLS
