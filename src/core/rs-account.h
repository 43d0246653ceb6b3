/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How the account signs in and which backend serves it. */
typedef enum
{
  RS_ACCOUNT_KIND_IMAP,       /* IMAP + SMTP with a password */
  RS_ACCOUNT_KIND_GMAIL,      /* Gmail API with OAuth (later) */
  RS_ACCOUNT_KIND_MICROSOFT,  /* Microsoft Graph with OAuth (later) */
  RS_ACCOUNT_KIND_EXCHANGE,   /* Exchange Web Services (later) */
} RsAccountKind;

/* What the worker last knew about the account. */
typedef enum
{
  RS_ACCOUNT_STATE_CONNECTED,        /* saved, not yet watched by the worker */
  RS_ACCOUNT_STATE_IDLE,             /* watching for replies */
  RS_ACCOUNT_STATE_SYNCING,          /* checking right now */
  RS_ACCOUNT_STATE_OFFLINE,          /* no network; resumes by itself */
  RS_ACCOUNT_STATE_NEEDS_ATTENTION,  /* the user must do something: see state-detail */
} RsAccountState;

typedef enum
{
  RS_SECURITY_TLS,       /* implicit TLS from the first byte (993, 465) */
  RS_SECURITY_STARTTLS,  /* cleartext greeting, then mandatory STARTTLS (143, 587) */
} RsSecurity;

typedef struct _RsServerSettings RsServerSettings;  /* see rs-net.h */
typedef struct _RsTrust          RsTrust;           /* see rs-net.h */

#define RS_TYPE_ACCOUNT (rs_account_get_type ())
G_DECLARE_FINAL_TYPE (RsAccount, rs_account, RS, ACCOUNT, GObject)

RsAccount     *rs_account_new                 (RsAccountKind   kind,
                                               const char     *address);
const char    *rs_account_get_id              (RsAccount      *self);
RsAccountKind  rs_account_get_kind            (RsAccount      *self);
const char    *rs_account_get_address         (RsAccount      *self);
const char    *rs_account_get_display_name    (RsAccount      *self);
void           rs_account_set_display_name    (RsAccount      *self,
                                               const char     *display_name);
const char    *rs_account_get_provider_name   (RsAccount      *self);
void           rs_account_set_provider_name   (RsAccount      *self,
                                               const char     *provider_name);
RsAccountState rs_account_get_state           (RsAccount      *self);
const char    *rs_account_get_state_detail    (RsAccount      *self);
void           rs_account_set_state           (RsAccount      *self,
                                               RsAccountState  state,
                                               const char     *detail);
GDateTime     *rs_account_get_last_checked    (RsAccount      *self);
void           rs_account_set_last_checked    (RsAccount      *self,
                                               GDateTime      *last_checked);
guint          rs_account_get_credentials_generation (RsAccount *self);
void           rs_account_bump_credentials_generation (RsAccount *self);

/* IMAP/SMTP accounts: where to receive and send, and what to trust. */
const RsServerSettings *rs_account_get_imap_settings (RsAccount              *self);
void                    rs_account_set_imap_settings (RsAccount              *self,
                                                      const RsServerSettings *settings);
const RsServerSettings *rs_account_get_smtp_settings (RsAccount              *self);
void                    rs_account_set_smtp_settings (RsAccount              *self,
                                                      const RsServerSettings *settings);
const RsTrust          *rs_account_get_trust         (RsAccount              *self);
void                    rs_account_set_trust         (RsAccount              *self,
                                                      const RsTrust          *trust);

/* Serialisation to and from one group of a GKeyFile.  Only settings are
 * written here, never a secret: those live in the Secret Service. */
RsAccount     *rs_account_new_from_key_file   (GKeyFile       *key_file,
                                               const char     *group,
                                               GError        **error);
void           rs_account_save_to_key_file    (RsAccount      *self,
                                               GKeyFile       *key_file,
                                               const char     *group);

const char    *rs_account_kind_to_string      (RsAccountKind   kind);
gboolean       rs_account_kind_from_string    (const char     *str,
                                               RsAccountKind  *kind);
const char    *rs_account_state_to_string     (RsAccountState  state);
const char    *rs_security_to_string          (RsSecurity      security);
gboolean       rs_security_from_string        (const char     *str,
                                               RsSecurity     *security);

G_END_DECLS
