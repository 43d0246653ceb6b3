/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "rs-detect-candidate.h"

G_BEGIN_DECLS

/* What the "Sign in with Email" dialog shows about settings detection,
 * decided from plain values so that it can be tested without a display:
 * the line of each source on the "Finding your settings" page, the notice
 * on the first page (an app password, or another way to sign in), which
 * page Next leads to, and what the Server settings page says about what
 * was found.  The dialog only copies these fields into its widgets. */

/* One source's line on the Finding page. */
typedef struct
{
  char       *title;      /* the source in words: "Known providers" */
  char       *subtitle;   /* the state in a word, then the detail */
  const char *icon_name;  /* nullable: none while checking (a spinner shows) */
  const char *css_class;  /* nullable: "success", "error" or "dim-label" */
  gboolean    spinning;
} RsDetectLine;

const char   *rs_detect_source_title      (const char              *source);
RsDetectLine *rs_detect_line_new          (const char              *source,
                                           RsDetectOutcome          outcome,
                                           const char              *detail);
void          rs_detect_line_free         (RsDetectLine            *line);

typedef enum
{
  RS_DETECT_NOTICE_NONE,
  RS_DETECT_NOTICE_APP_PASSWORD,  /* before the password is typed */
  RS_DETECT_NOTICE_GOOGLE,        /* sign in with Google instead */
  RS_DETECT_NOTICE_MICROSOFT,     /* Microsoft sign-in / Exchange: not yet */
  RS_DETECT_NOTICE_NOTE,          /* the provider's advice, e.g. turn IMAP on first */
} RsDetectNoticeKind;

/* The notice on the first page. */
typedef struct
{
  RsDetectNoticeKind  kind;
  char               *title;
  char               *markup;        /* Pango markup, with a link when there is one */
  char               *text;          /* the same in plain text */
  char               *link_uri;      /* nullable */
  char               *button_label;  /* nullable: a real way out */
  char               *button_action; /* nullable: the action it activates */
} RsDetectNotice;

RsDetectNotice *rs_detect_notice_new      (const RsDetectCandidate *best);
void            rs_detect_notice_free     (RsDetectNotice          *notice);

typedef enum
{
  RS_DETECT_PHASE_IDLE,     /* no detection for this address (not valid, or not started) */
  RS_DETECT_PHASE_RUNNING,
  RS_DETECT_PHASE_DONE,
} RsDetectPhase;

/* "finding" or "servers": where Next leads. */
const char     *rs_detect_next_page       (RsDetectPhase            phase);

/* What the Server settings page says about what detection found. */
typedef struct
{
  const RsDetectCandidate *candidate;     /* (transfer none) nullable: nothing found */
  char     *found_by;          /* nullable: "Found by: Known providers" */
  char     *nothing_found;     /* nullable: said plainly, with a hint */
  char     *note;              /* nullable: the provider's own note */
  char     *insecure_warning;  /* nullable: then fill only on consent */
  gboolean  needs_consent;
  char    **certificate_warnings; /* one line per refused certificate; never NULL */
  gboolean  fill;              /* put the candidate into the fields now */
} RsDetectServers;

RsDetectServers *rs_detect_servers_new    (const RsDetectResult    *result,
                                           const char              *address,
                                           gboolean                 consented);
void             rs_detect_servers_free   (RsDetectServers         *servers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectLine, rs_detect_line_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectNotice, rs_detect_notice_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsDetectServers, rs_detect_servers_free)

G_END_DECLS
