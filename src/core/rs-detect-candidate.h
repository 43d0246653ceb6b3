/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-certificate.h"
#include "rs-net.h"

G_BEGIN_DECLS

/* What settings detection found, and what each source did. */

/* Where an address should be sent instead of (or besides) a password. */
typedef enum
{
  RS_ROUTE_NONE,       /* IMAP/SMTP with a password */
  RS_ROUTE_GOOGLE,     /* offer "Sign in with Gmail" */
  RS_ROUTE_MICROSOFT,  /* Microsoft sign-in / Exchange path */
} RsRoute;

typedef enum
{
  RS_DETECT_OUTCOME_CHECKING,   /* started, no answer yet */
  RS_DETECT_OUTCOME_FOUND,
  RS_DETECT_OUTCOME_NOT_FOUND,
  RS_DETECT_OUTCOME_FAILED,     /* an error or a timeout: see the detail */
  RS_DETECT_OUTCOME_CANCELLED,  /* not needed any more, or the run was cancelled */
} RsDetectOutcome;

#define RS_TYPE_ROUTE (rs_route_get_type ())
#define RS_TYPE_DETECT_OUTCOME (rs_detect_outcome_get_type ())
GType rs_route_get_type          (void) G_GNUC_CONST;
GType rs_detect_outcome_get_type (void) G_GNUC_CONST;

/* Stable source names: the CLI prints them and tests match them. */
#define RS_DETECT_SOURCE_PROVIDERS            "providers"
#define RS_DETECT_SOURCE_AUTOCONFIG           "autoconfig"
#define RS_DETECT_SOURCE_AUTOCONFIG_WELLKNOWN "autoconfig-wellknown"
#define RS_DETECT_SOURCE_ISPDB                "ispdb"
#define RS_DETECT_SOURCE_SRV                  "srv"
#define RS_DETECT_SOURCE_MX                   "mx"
#define RS_DETECT_SOURCE_GUESS                "guess"

typedef struct
{
  char              *source;                 /* one of RS_DETECT_SOURCE_* */
  RsServerSettings  *imap;                   /* nullable when only sending was found */
  RsServerSettings  *smtp;                   /* nullable when only receiving was found */
  char              *auth;                   /* "password" or "oauth2" */
  gboolean           app_password_required;
  char              *provider_name;          /* nullable */
  char              *instructions_url;       /* nullable: how to get an app password, enable IMAP, … */
  char              *note;                   /* nullable: e.g. "requires Proton Mail Bridge" */
  gboolean           insecure;               /* the user must agree before it is used */
  char              *insecure_reason;        /* nullable: why, in words */
  RsCertificateInfo *imap_certificate;       /* nullable: a certificate the probe refused */
  RsCertificateInfo *smtp_certificate;       /* nullable */
  gboolean           exchange_offered;       /* the configuration also names an Exchange server */
  RsRoute            route;
} RsDetectCandidate;

typedef struct
{
  char            *source;
  RsDetectOutcome  outcome;
  char            *detail;  /* nullable: what was found or why not, in words */
} RsDetectSourceReport;

typedef struct
{
  GPtrArray *candidates;  /* of RsDetectCandidate, best first */
  GPtrArray *sources;     /* of RsDetectSourceReport, in rank order */
} RsDetectResult;

RsDetectCandidate    *rs_detect_candidate_new     (const char              *source);
RsDetectCandidate    *rs_detect_candidate_copy    (const RsDetectCandidate *candidate);
void                  rs_detect_candidate_free    (RsDetectCandidate       *candidate);
void                  rs_detect_source_report_free (RsDetectSourceReport   *report);
RsDetectResult       *rs_detect_result_new        (void);
void                  rs_detect_result_free       (RsDetectResult          *result);
const RsDetectSourceReport *rs_detect_result_get_report (const RsDetectResult *result,
                                                         const char           *source);

const char *rs_route_to_string          (RsRoute          route);
const char *rs_detect_outcome_to_string (RsDetectOutcome  outcome);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectCandidate, rs_detect_candidate_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectResult, rs_detect_result_free)

G_END_DECLS
