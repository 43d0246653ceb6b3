/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

#include "rs-account.h"

G_BEGIN_DECLS

/* Secrets (passwords now, OAuth tokens and the Retailsphere API token
 * later) live only in the Secret Service, under this schema:
 *
 *   name:        com.retailsphere.Settings.Credentials
 *   account-id   string   RsAccount id, or "retailsphere" for the API token
 *   kind         string   "password", "oauth2", "api-token"
 *   generation   integer  RsAccount:credentials-generation when saved
 *
 * A lookup asks for the account's current generation, so bumping the
 * generation makes every older secret invisible: the user signs in again. */
const SecretSchema *rs_secret_schema_get              (void) G_GNUC_CONST;

void      rs_secret_store_check_async         (GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean  rs_secret_store_check_finish        (GAsyncResult         *result,
                                               GError              **error);
gboolean  rs_secret_store_check_sync          (GCancellable         *cancellable,
                                               GError              **error);

void      rs_secret_store_save_password_async (RsAccount            *account,
                                               const char           *password,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean  rs_secret_store_save_password_finish (GAsyncResult        *result,
                                               GError              **error);

void      rs_secret_store_lookup_password_async (RsAccount          *account,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
char     *rs_secret_store_lookup_password_finish (GAsyncResult      *result,
                                               GError              **error);

void      rs_secret_store_delete_async        (const char           *account_id,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean  rs_secret_store_delete_finish       (GAsyncResult         *result,
                                               GError              **error);

/* The Retailsphere API token: account-id "retailsphere", kind
 * "api-token", generation 0.  A lookup finds %NULL without an error when
 * the user has not signed in to Retailsphere; delete it with
 * rs_secret_store_delete_async ("retailsphere", …). */
#define RS_SECRET_RETAILSPHERE_ID "retailsphere"

void      rs_secret_store_save_api_token_async   (const char           *token,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean  rs_secret_store_save_api_token_finish  (GAsyncResult         *result,
                                                  GError              **error);
void      rs_secret_store_lookup_api_token_async (GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
char     *rs_secret_store_lookup_api_token_finish (GAsyncResult        *result,
                                                  GError              **error);

G_END_DECLS
