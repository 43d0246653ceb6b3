/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-retailsphere-server"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gio.h>

#include "rs-error.h"
#include "rs-retailsphere-server.h"

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  /* GUri gives an IPv6 literal without its brackets. */
  address = g_inet_address_new_from_string (host);

  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * rs_retailsphere_check_server:
 * @url: the address as the user typed it
 * @out_host: (out) (optional): the server's host name, for the menu
 * @error: the reason, in words for the user
 *
 * A Retailsphere server address is an https:// web address with a host
 * and nothing after the path.  Plain http:// is accepted only for this
 * computer (loopback), where a test server runs: a token sent to any
 * other server must be encrypted on the way.
 */
gboolean
rs_retailsphere_check_server (const char  *url,
                              char       **out_host,
                              GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *trimmed = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (url != NULL, FALSE);

  trimmed = g_strstrip (g_strdup (url));

  if (trimmed[0] == '\0')
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("Enter the address of your Retailsphere server."));
      return FALSE;
    }

  uri = g_uri_parse (trimmed, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (uri == NULL || host == NULL || host[0] == '\0' ||
      (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0))
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("This is not a web address. It looks like "
                             "https://app.retailsphere.com"));
      return FALSE;
    }

  if (g_strcmp0 (scheme, "https") != 0 && !is_loopback_host (host))
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("The address must start with https://, so that your sign-in "
                             "and the reply details are encrypted on the way."));
      return FALSE;
    }

  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("Enter only the server’s address, without a name, “?” or “#” "
                             "part. It looks like https://app.retailsphere.com"));
      return FALSE;
    }

  if (out_host != NULL)
    *out_host = g_strdup (host);

  return TRUE;
}

/**
 * rs_retailsphere_signed_in_label:
 * @url: the saved server address
 *
 * Returns: (transfer full): "Signed in to Retailsphere (app.retailsphere.com)"
 */
char *
rs_retailsphere_signed_in_label (const char *url)
{
  g_autoptr(GUri) uri = NULL;
  const char *host = NULL;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri != NULL)
    host = g_uri_get_host (uri);

  if (host == NULL || host[0] == '\0')
    return g_strdup (_("Signed in to Retailsphere"));

  /* Translators: %s is a server's host name, such as app.retailsphere.com */
  return g_strdup_printf (_("Signed in to Retailsphere (%s)"), host);
}
