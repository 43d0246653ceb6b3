/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "rs-detect-candidate.h"

G_BEGIN_DECLS

/* The bundled provider table (data/providers.json, compiled into the core
 * library as a GResource).  Written from each provider's public setup
 * documentation. */

typedef struct
{
  char       *host;
  guint16     port;
  RsSecurity  security;
  gboolean    username_is_localpart;  /* else the whole address */
} RsProviderServer;

typedef struct
{
  char             *id;
  char             *name;
  char            **domains;       /* the address domains it serves */
  char            **mx_suffixes;   /* MX hosts that identify a hosted domain */
  RsProviderServer  imap;
  RsProviderServer  smtp;
  char             *auth;          /* "password" or "oauth2" */
  gboolean          app_password_required;
  char             *instructions_url;
  char             *note;
  RsRoute           route;
} RsProvider;

typedef struct _RsProviders RsProviders;

RsProviders       *rs_providers_new_from_data  (const char        *data,
                                                gsize              length,
                                                GError           **error);
RsProviders       *rs_providers_get_default    (void);
void               rs_providers_free           (RsProviders       *providers);
guint              rs_providers_get_n_items    (RsProviders       *providers);
const RsProvider  *rs_providers_get_item       (RsProviders       *providers,
                                                guint              index);
const RsProvider  *rs_providers_lookup_domain  (RsProviders       *providers,
                                                const char        *domain);
const RsProvider  *rs_providers_lookup_mx      (RsProviders       *providers,
                                                const char        *mx_host);

RsDetectCandidate *rs_provider_make_candidate  (const RsProvider  *provider,
                                                const char        *source,
                                                const char        *address);

gboolean           rs_host_has_suffix          (const char        *host,
                                                const char        *suffix);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsProviders, rs_providers_free)

G_END_DECLS
