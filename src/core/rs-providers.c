/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-providers"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "rs-core-resources.h"
#include "rs-providers.h"
#include "rs-utils.h"

#define PROVIDERS_RESOURCE "/com/retailsphere/Settings/core/providers.json"

struct _RsProviders
{
  GPtrArray *items;  /* of RsProvider */
};

static void
provider_free (RsProvider *provider)
{
  g_free (provider->id);
  g_free (provider->name);
  g_strfreev (provider->domains);
  g_strfreev (provider->mx_suffixes);
  g_free (provider->imap.host);
  g_free (provider->smtp.host);
  g_free (provider->auth);
  g_free (provider->instructions_url);
  g_free (provider->note);
  g_free (provider);
}

static char **
read_lowercase_strv (JsonObject *object,
                     const char *member)
{
  g_autoptr(GPtrArray) strv = g_ptr_array_new ();
  JsonArray *array;

  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, member)))
    {
      g_ptr_array_add (strv, NULL);
      return (char **) g_ptr_array_free (g_steal_pointer (&strv), FALSE);
    }

  array = json_object_get_array_member (object, member);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      const char *value = json_array_get_string_element (array, i);

      if (value != NULL)
        g_ptr_array_add (strv, g_ascii_strdown (value, -1));
    }
  g_ptr_array_add (strv, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&strv), FALSE);
}

static gboolean
read_server (JsonObject        *provider,
             const char        *member,
             RsProviderServer  *server,
             GError           **error)
{
  JsonObject *object;
  const char *security;
  gint64 port;

  if (!json_object_has_member (provider, member) ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (provider, member)))
    goto invalid;

  object = json_object_get_object_member (provider, member);
  server->host = g_strdup (json_object_get_string_member_with_default (object, "host", NULL));
  port = json_object_get_int_member_with_default (object, "port", 0);
  security = json_object_get_string_member_with_default (object, "security", "");
  server->username_is_localpart =
    g_strcmp0 (json_object_get_string_member_with_default (object, "username", "address"), "localpart") == 0;

  if (server->host == NULL || port <= 0 || port > G_MAXUINT16 ||
      !rs_security_from_string (security, &server->security))
    goto invalid;

  server->port = (guint16) port;
  return TRUE;

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "Provider table: “%s” is missing or invalid", member);
  return FALSE;
}

RsProviders *
rs_providers_new_from_data (const char  *data,
                            gsize        length,
                            GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(RsProviders) providers = g_new0 (RsProviders, 1);
  JsonNode *root;
  JsonArray *array;

  g_return_val_if_fail (data != NULL, NULL);

  providers->items = g_ptr_array_new_with_free_func ((GDestroyNotify) provider_free);

  if (!json_parser_load_from_data (parser, data, length, error))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "providers") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "providers")))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Provider table: no “providers” array");
      return NULL;
    }

  array = json_object_get_array_member (json_node_get_object (root), "providers");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      RsProvider *provider;
      const char *route;

      if (object == NULL)
        continue;

      provider = g_new0 (RsProvider, 1);
      g_ptr_array_add (providers->items, provider);

      provider->id = g_strdup (json_object_get_string_member_with_default (object, "id", NULL));
      provider->name = g_strdup (json_object_get_string_member_with_default (object, "name", NULL));
      provider->domains = read_lowercase_strv (object, "domains");
      provider->mx_suffixes = read_lowercase_strv (object, "mx_suffixes");
      provider->auth = g_strdup (json_object_get_string_member_with_default (object, "auth", "password"));
      provider->app_password_required =
        json_object_get_boolean_member_with_default (object, "app_password_required", FALSE);
      provider->instructions_url =
        g_strdup (json_object_get_string_member_with_default (object, "instructions_url", NULL));
      provider->note = g_strdup (json_object_get_string_member_with_default (object, "note", NULL));

      route = json_object_get_string_member_with_default (object, "route", "none");
      if (g_str_equal (route, "google"))
        provider->route = RS_ROUTE_GOOGLE;
      else if (g_str_equal (route, "microsoft"))
        provider->route = RS_ROUTE_MICROSOFT;
      else
        provider->route = RS_ROUTE_NONE;

      if (provider->id == NULL || provider->name == NULL ||
          (!g_str_equal (provider->auth, "password") && !g_str_equal (provider->auth, "oauth2")))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Provider table: entry %u needs an id, a name and auth “password” or “oauth2”", i);
          return NULL;
        }

      if (!read_server (object, "imap", &provider->imap, error) ||
          !read_server (object, "smtp", &provider->smtp, error))
        return NULL;
    }

  return g_steal_pointer (&providers);
}

/**
 * rs_providers_get_default:
 *
 * Returns: (transfer none): the bundled table, loaded once.
 */
RsProviders *
rs_providers_get_default (void)
{
  static RsProviders *providers;

  if (g_once_init_enter (&providers))
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      RsProviders *loaded = NULL;
      gsize size = 0;
      const char *data;

      bytes = g_resource_lookup_data (rs_core_get_resource (), PROVIDERS_RESOURCE,
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes != NULL)
        {
          data = g_bytes_get_data (bytes, &size);
          loaded = rs_providers_new_from_data (data, size, &error);
        }

      /* The table is part of the program: a broken one is a build bug. */
      if (loaded == NULL)
        g_error ("The bundled provider table cannot be read: %s", error->message);

      g_once_init_leave (&providers, loaded);
    }

  return providers;
}

void
rs_providers_free (RsProviders *providers)
{
  if (providers == NULL)
    return;

  g_clear_pointer (&providers->items, g_ptr_array_unref);
  g_free (providers);
}

guint
rs_providers_get_n_items (RsProviders *providers)
{
  g_return_val_if_fail (providers != NULL, 0);

  return providers->items->len;
}

const RsProvider *
rs_providers_get_item (RsProviders *providers,
                       guint        index)
{
  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (index < providers->items->len, NULL);

  return g_ptr_array_index (providers->items, index);
}

/* TRUE when @host is @suffix or ends in ".@suffix" (case-insensitive, a
 * trailing dot ignored): "aspmx.l.google.com" has the suffix "google.com",
 * "evilgoogle.com" does not. */
gboolean
rs_host_has_suffix (const char *host,
                    const char *suffix)
{
  g_autofree char *h = NULL;
  g_autofree char *s = NULL;
  gsize hl, sl;

  if (host == NULL || suffix == NULL || *suffix == '\0')
    return FALSE;

  h = g_ascii_strdown (host, -1);
  s = g_ascii_strdown (suffix, -1);
  hl = strlen (h);
  sl = strlen (s);
  if (hl > 0 && h[hl - 1] == '.')
    h[--hl] = '\0';
  if (sl > 0 && s[sl - 1] == '.')
    s[--sl] = '\0';

  if (sl == 0 || hl < sl)
    return FALSE;
  if (hl == sl)
    return g_str_equal (h, s);

  return h[hl - sl - 1] == '.' && g_str_equal (h + hl - sl, s);
}

const RsProvider *
rs_providers_lookup_domain (RsProviders *providers,
                            const char  *domain)
{
  g_autofree char *lower = NULL;
  gsize len;

  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  lower = g_ascii_strdown (domain, -1);
  len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[len - 1] = '\0';

  for (guint i = 0; i < providers->items->len; i++)
    {
      const RsProvider *provider = g_ptr_array_index (providers->items, i);

      if (g_strv_contains ((const char * const *) provider->domains, lower))
        return provider;
    }

  return NULL;
}

const RsProvider *
rs_providers_lookup_mx (RsProviders *providers,
                        const char  *mx_host)
{
  const RsProvider *best = NULL;
  gsize best_len = 0;

  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (mx_host != NULL, NULL);

  /* The longest matching suffix wins: "mail.protection.outlook.com"
   * (Microsoft 365) is more specific than "outlook.com". */
  for (guint i = 0; i < providers->items->len; i++)
    {
      const RsProvider *provider = g_ptr_array_index (providers->items, i);

      for (guint j = 0; provider->mx_suffixes[j] != NULL; j++)
        if (rs_host_has_suffix (mx_host, provider->mx_suffixes[j]) &&
            strlen (provider->mx_suffixes[j]) > best_len)
          {
            best = provider;
            best_len = strlen (provider->mx_suffixes[j]);
          }
    }

  return best;
}

static RsServerSettings *
make_server (const RsProviderServer *server,
             const char             *address)
{
  g_autofree char *username = NULL;
  const char *at = strrchr (address, '@');

  if (server->username_is_localpart && at != NULL)
    username = g_strndup (address, at - address);
  else
    username = g_strdup (address);

  return rs_server_settings_new (server->host, server->port, server->security, username);
}

RsDetectCandidate *
rs_provider_make_candidate (const RsProvider *provider,
                            const char       *source,
                            const char       *address)
{
  RsDetectCandidate *candidate;

  g_return_val_if_fail (provider != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);

  candidate = rs_detect_candidate_new (source);
  candidate->imap = make_server (&provider->imap, address);
  candidate->smtp = make_server (&provider->smtp, address);
  rs_set_str (&candidate->auth, provider->auth);
  candidate->app_password_required = provider->app_password_required;
  candidate->provider_name = g_strdup (provider->name);
  candidate->instructions_url = g_strdup (provider->instructions_url);
  candidate->note = g_strdup (provider->note);
  candidate->route = provider->route;

  return candidate;
}
