/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-account-store.h"
#include "rs-net.h"

G_BEGIN_DECLS

/* What the user typed (or detection found) for an IMAP/SMTP account. */
typedef struct
{
  char             *address;
  char             *display_name;   /* nullable */
  char             *provider_name;  /* nullable */
  RsServerSettings *imap;
  RsServerSettings *smtp;
  RsTrust          *trust;          /* nullable */
} RsImapRequest;

typedef enum
{
  RS_SETUP_STEP_KEYRING,  /* checking that secrets can be kept */
  RS_SETUP_STEP_IMAP,     /* signing in to receive */
  RS_SETUP_STEP_SMTP,     /* signing in to send */
  RS_SETUP_STEP_SAVE,     /* saving the account */
} RsSetupStep;

typedef enum
{
  RS_STEP_STATE_RUNNING,
  RS_STEP_STATE_DONE,
  RS_STEP_STATE_FAILED,
} RsStepState;

RsImapRequest *rs_imap_request_new      (void);
void           rs_imap_request_free     (RsImapRequest        *request);
gboolean       rs_imap_request_validate (const RsImapRequest  *request,
                                         GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsImapRequest, rs_imap_request_free)

#define RS_TYPE_ACCOUNT_SETUP (rs_account_setup_get_type ())
G_DECLARE_FINAL_TYPE (RsAccountSetup, rs_account_setup, RS, ACCOUNT_SETUP, GObject)

RsAccountSetup *rs_account_setup_new          (RsAccountStore       *store);
void            rs_account_setup_add_async    (RsAccountSetup       *self,
                                               const RsImapRequest  *request,
                                               const char           *password,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
RsAccount      *rs_account_setup_add_finish   (RsAccountSetup       *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void            rs_account_setup_check_async  (RsAccountSetup       *self,
                                               RsAccount            *account,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean        rs_account_setup_check_finish (RsAccountSetup       *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void            rs_account_setup_remove_async (RsAccountSetup       *self,
                                               const char           *account_id,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean        rs_account_setup_remove_finish (RsAccountSetup      *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS
