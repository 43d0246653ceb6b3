/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-account"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-account.h"
#include "rs-enums.h"
#include "rs-error.h"
#include "rs-net.h"
#include "rs-utils.h"

struct _RsAccount
{
  GObject         parent_instance;

  char           *id;
  RsAccountKind   kind;
  char           *address;
  char           *display_name;
  char           *provider_name;
  RsAccountState  state;
  char           *state_detail;
  GDateTime      *last_checked;
  guint           credentials_generation;

  RsServerSettings *imap;
  RsServerSettings *smtp;
  RsTrust          *trust;
};

G_DEFINE_FINAL_TYPE (RsAccount, rs_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_KIND,
  PROP_ADDRESS,
  PROP_DISPLAY_NAME,
  PROP_PROVIDER_NAME,
  PROP_STATE,
  PROP_STATE_DETAIL,
  PROP_LAST_CHECKED,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static const struct {
  RsAccountKind kind;
  const char   *name;
} kind_names[] = {
  { RS_ACCOUNT_KIND_IMAP,      "imap" },
  { RS_ACCOUNT_KIND_GMAIL,     "gmail" },
  { RS_ACCOUNT_KIND_MICROSOFT, "microsoft" },
  { RS_ACCOUNT_KIND_EXCHANGE,  "exchange" },
};

static char *
generate_id (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  /* Short enough to type in the CLI, long enough never to collide in one
   * user's list. */
  return g_strndup (uuid, 8);
}

static gboolean
id_is_valid (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;

  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;

  return TRUE;
}

static RsServerSettings *
read_server_settings (GKeyFile    *key_file,
                      const char  *group,
                      const char  *prefix,
                      GError     **error)
{
  g_autofree char *host_key = g_strconcat (prefix, "Host", NULL);
  g_autofree char *port_key = g_strconcat (prefix, "Port", NULL);
  g_autofree char *security_key = g_strconcat (prefix, "Security", NULL);
  g_autofree char *username_key = g_strconcat (prefix, "Username", NULL);
  g_autofree char *host = NULL;
  g_autofree char *security_str = NULL;
  g_autofree char *username = NULL;
  RsSecurity security;
  gint64 port;

  host = g_key_file_get_string (key_file, group, host_key, NULL);
  if (host == NULL)
    return NULL;

  port = g_key_file_get_int64 (key_file, group, port_key, NULL);
  security_str = g_key_file_get_string (key_file, group, security_key, NULL);
  username = g_key_file_get_string (key_file, group, username_key, NULL);

  if (*host == '\0' || port <= 0 || port > 65535 ||
      !rs_security_from_string (security_str, &security) ||
      username == NULL || *username == '\0')
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Account %s has incomplete %s settings"), group, prefix);
      return NULL;
    }

  return rs_server_settings_new (host, (guint16)port, security, username);
}

static void
write_server_settings (GKeyFile               *key_file,
                       const char             *group,
                       const char             *prefix,
                       const RsServerSettings *settings)
{
  g_autofree char *host_key = g_strconcat (prefix, "Host", NULL);
  g_autofree char *port_key = g_strconcat (prefix, "Port", NULL);
  g_autofree char *security_key = g_strconcat (prefix, "Security", NULL);
  g_autofree char *username_key = g_strconcat (prefix, "Username", NULL);

  if (settings == NULL)
    return;

  g_key_file_set_string (key_file, group, host_key, settings->host);
  g_key_file_set_int64 (key_file, group, port_key, settings->port);
  g_key_file_set_string (key_file, group, security_key, rs_security_to_string (settings->security));
  g_key_file_set_string (key_file, group, username_key, settings->username);
}

static void
rs_account_finalize (GObject *object)
{
  RsAccount *self = (RsAccount *)object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->provider_name, g_free);
  g_clear_pointer (&self->state_detail, g_free);
  g_clear_pointer (&self->last_checked, g_date_time_unref);
  g_clear_pointer (&self->imap, rs_server_settings_free);
  g_clear_pointer (&self->smtp, rs_server_settings_free);
  g_clear_pointer (&self->trust, rs_trust_free);

  G_OBJECT_CLASS (rs_account_parent_class)->finalize (object);
}

static void
rs_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  RsAccount *self = RS_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;

    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_PROVIDER_NAME:
      g_value_set_string (value, rs_account_get_provider_name (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_STATE_DETAIL:
      g_value_set_string (value, self->state_detail);
      break;

    case PROP_LAST_CHECKED:
      g_value_set_boxed (value, self->last_checked);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  RsAccount *self = RS_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_DISPLAY_NAME:
      rs_account_set_display_name (self, g_value_get_string (value));
      break;

    case PROP_PROVIDER_NAME:
      rs_account_set_provider_name (self, g_value_get_string (value));
      break;

    case PROP_LAST_CHECKED:
      rs_account_set_last_checked (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rs_account_class_init (RsAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rs_account_finalize;
  object_class->get_property = rs_account_get_property;
  object_class->set_property = rs_account_set_property;

  properties [PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  properties [PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL,
                       RS_TYPE_ACCOUNT_KIND,
                       RS_ACCOUNT_KIND_IMAP,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  properties [PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  properties [PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties [PROP_PROVIDER_NAME] =
    g_param_spec_string ("provider-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties [PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       RS_TYPE_ACCOUNT_STATE,
                       RS_ACCOUNT_STATE_CONNECTED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties [PROP_STATE_DETAIL] =
    g_param_spec_string ("state-detail", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties [PROP_LAST_CHECKED] =
    g_param_spec_boxed ("last-checked", NULL, NULL,
                        G_TYPE_DATE_TIME,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rs_account_init (RsAccount *self)
{
  self->state = RS_ACCOUNT_STATE_CONNECTED;
  self->credentials_generation = 1;
}

/**
 * rs_account_new:
 * @kind: how the account signs in
 * @address: the mailbox address, already validated by the caller
 *
 * Creates a new account with a fresh identifier.
 */
RsAccount *
rs_account_new (RsAccountKind  kind,
                const char    *address)
{
  RsAccount *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (RS_TYPE_ACCOUNT, NULL);
  self->id = generate_id ();
  self->kind = kind;
  self->address = g_strdup (address);

  return self;
}

const char *
rs_account_get_id (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->id;
}

RsAccountKind
rs_account_get_kind (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), RS_ACCOUNT_KIND_IMAP);

  return self->kind;
}

const char *
rs_account_get_address (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->address;
}

const char *
rs_account_get_display_name (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->display_name;
}

void
rs_account_set_display_name (RsAccount  *self,
                             const char *display_name)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  if (rs_set_str (&self->display_name, display_name))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_DISPLAY_NAME]);
}

/**
 * rs_account_get_provider_name:
 *
 * Returns: the provider's name as the user knows it ("Fastmail",
 *   "Gmail"), or a generic name for the account's kind.
 */
const char *
rs_account_get_provider_name (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  if (self->provider_name != NULL)
    return self->provider_name;

  switch (self->kind)
    {
    case RS_ACCOUNT_KIND_GMAIL:     return _("Google");
    case RS_ACCOUNT_KIND_MICROSOFT: return _("Microsoft");
    case RS_ACCOUNT_KIND_EXCHANGE:  return _("Exchange");
    case RS_ACCOUNT_KIND_IMAP:
    default:                        return _("IMAP and SMTP");
    }
}

void
rs_account_set_provider_name (RsAccount  *self,
                              const char *provider_name)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  if (rs_set_str (&self->provider_name, provider_name))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PROVIDER_NAME]);
}

RsAccountState
rs_account_get_state (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), RS_ACCOUNT_STATE_CONNECTED);

  return self->state;
}

const char *
rs_account_get_state_detail (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->state_detail;
}

/**
 * rs_account_set_state:
 * @detail: (nullable): why, in words for the user; required in practice
 *   for %RS_ACCOUNT_STATE_NEEDS_ATTENTION
 */
void
rs_account_set_state (RsAccount      *self,
                      RsAccountState  state,
                      const char     *detail)
{
  gboolean state_changed;

  g_return_if_fail (RS_IS_ACCOUNT (self));

  g_object_freeze_notify (G_OBJECT (self));

  state_changed = self->state != state;
  self->state = state;
  if (state_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);

  if (rs_set_str (&self->state_detail, detail))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE_DETAIL]);

  g_object_thaw_notify (G_OBJECT (self));
}

GDateTime *
rs_account_get_last_checked (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->last_checked;
}

void
rs_account_set_last_checked (RsAccount *self,
                             GDateTime *last_checked)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  if (self->last_checked == last_checked ||
      (self->last_checked != NULL && last_checked != NULL &&
       g_date_time_equal (self->last_checked, last_checked)))
    return;

  g_clear_pointer (&self->last_checked, g_date_time_unref);
  if (last_checked != NULL)
    self->last_checked = g_date_time_ref (last_checked);

  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LAST_CHECKED]);
}

guint
rs_account_get_credentials_generation (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), 0);

  return self->credentials_generation;
}

/**
 * rs_account_new_from_key_file:
 * @group: the group name, which is the account's id
 *
 * Reads one account.  Fails with %RS_ERROR_STORAGE, naming the account and
 * the key, when the group is incomplete or holds a value we do not know.
 */
RsAccount *
rs_account_new_from_key_file (GKeyFile    *key_file,
                              const char  *group,
                              GError     **error)
{
  g_autoptr(RsAccount) self = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 last_checked;

  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);

  if (!id_is_valid (group))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("“%s” is not a valid account identifier"), group);
      return NULL;
    }

  self = g_object_new (RS_TYPE_ACCOUNT, NULL);
  self->id = g_strdup (group);

  kind = g_key_file_get_string (key_file, group, "Kind", NULL);
  if (kind == NULL || !rs_account_kind_from_string (kind, &self->kind))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Account %s has no known kind (“%s”)"),
                   group, kind ? kind : "");
      return NULL;
    }

  address = g_key_file_get_string (key_file, group, "Address", NULL);
  if (address == NULL || *address == '\0')
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Account %s has no address"), group);
      return NULL;
    }
  self->address = g_steal_pointer (&address);

  self->display_name = g_key_file_get_string (key_file, group, "DisplayName", NULL);
  self->provider_name = g_key_file_get_string (key_file, group, "ProviderName", NULL);

  if (g_key_file_has_key (key_file, group, "CredentialsGeneration", NULL))
    {
      guint64 generation = g_key_file_get_uint64 (key_file, group, "CredentialsGeneration", &local_error);

      if (local_error != NULL || generation == 0 || generation > G_MAXUINT)
        {
          g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                       _("Account %s has an invalid credentials generation"), group);
          return NULL;
        }
      self->credentials_generation = (guint)generation;
    }

  self->imap = read_server_settings (key_file, group, "Imap", &local_error);
  if (local_error == NULL)
    self->smtp = read_server_settings (key_file, group, "Smtp", &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (self->kind == RS_ACCOUNT_KIND_IMAP && (self->imap == NULL || self->smtp == NULL))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_STORAGE,
                   _("Account %s has no IMAP or SMTP settings"), group);
      return NULL;
    }

  {
    g_autofree char *ca_file = g_key_file_get_string (key_file, group, "CaFile", NULL);
    g_auto(GStrv) pins = g_key_file_get_string_list (key_file, group, "TrustedFingerprints", NULL, NULL);

    if (ca_file != NULL || pins != NULL)
      {
        self->trust = g_new0 (RsTrust, 1);
        self->trust->ca_file = g_steal_pointer (&ca_file);
        self->trust->pinned_fingerprints = g_steal_pointer (&pins);
      }
  }

  last_checked = g_key_file_get_int64 (key_file, group, "LastChecked", NULL);
  if (last_checked > 0)
    self->last_checked = g_date_time_new_from_unix_utc (last_checked);

  return g_steal_pointer (&self);
}

void
rs_account_save_to_key_file (RsAccount  *self,
                             GKeyFile   *key_file,
                             const char *group)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));
  g_return_if_fail (key_file != NULL);
  g_return_if_fail (group != NULL);

  g_key_file_set_string (key_file, group, "Kind", rs_account_kind_to_string (self->kind));
  g_key_file_set_string (key_file, group, "Address", self->address);
  if (self->display_name != NULL)
    g_key_file_set_string (key_file, group, "DisplayName", self->display_name);
  if (self->provider_name != NULL)
    g_key_file_set_string (key_file, group, "ProviderName", self->provider_name);
  g_key_file_set_uint64 (key_file, group, "CredentialsGeneration", self->credentials_generation);
  if (self->last_checked != NULL)
    g_key_file_set_int64 (key_file, group, "LastChecked", g_date_time_to_unix (self->last_checked));

  write_server_settings (key_file, group, "Imap", self->imap);
  write_server_settings (key_file, group, "Smtp", self->smtp);

  if (self->trust != NULL && self->trust->ca_file != NULL)
    g_key_file_set_string (key_file, group, "CaFile", self->trust->ca_file);
  if (self->trust != NULL && self->trust->pinned_fingerprints != NULL &&
      self->trust->pinned_fingerprints[0] != NULL)
    g_key_file_set_string_list (key_file, group, "TrustedFingerprints",
                                (const char * const *)self->trust->pinned_fingerprints,
                                g_strv_length (self->trust->pinned_fingerprints));
}

const RsServerSettings *
rs_account_get_imap_settings (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->imap;
}

void
rs_account_set_imap_settings (RsAccount              *self,
                              const RsServerSettings *settings)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  g_clear_pointer (&self->imap, rs_server_settings_free);
  if (settings != NULL)
    self->imap = rs_server_settings_copy (settings);
}

const RsServerSettings *
rs_account_get_smtp_settings (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->smtp;
}

void
rs_account_set_smtp_settings (RsAccount              *self,
                              const RsServerSettings *settings)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  g_clear_pointer (&self->smtp, rs_server_settings_free);
  if (settings != NULL)
    self->smtp = rs_server_settings_copy (settings);
}

/**
 * rs_account_get_trust:
 *
 * Returns: (nullable): the CA file and pinned certificates the user chose
 */
const RsTrust *
rs_account_get_trust (RsAccount *self)
{
  g_return_val_if_fail (RS_IS_ACCOUNT (self), NULL);

  return self->trust;
}

void
rs_account_set_trust (RsAccount     *self,
                      const RsTrust *trust)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  g_clear_pointer (&self->trust, rs_trust_free);
  if (trust != NULL)
    self->trust = rs_trust_copy (trust);
}

/**
 * rs_account_bump_credentials_generation:
 *
 * Invalidates the stored secret: the secret store only hands out secrets
 * saved under the account's current generation, so the user must sign in
 * again.
 */
void
rs_account_bump_credentials_generation (RsAccount *self)
{
  g_return_if_fail (RS_IS_ACCOUNT (self));

  self->credentials_generation++;
}

const char *
rs_account_kind_to_string (RsAccountKind kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (kind_names[i].kind == kind)
      return kind_names[i].name;

  g_return_val_if_reached (NULL);
}

gboolean
rs_account_kind_from_string (const char    *str,
                             RsAccountKind *kind)
{
  g_return_val_if_fail (kind != NULL, FALSE);

  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (kind_names); i++)
    {
      if (g_str_equal (kind_names[i].name, str))
        {
          *kind = kind_names[i].kind;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
rs_account_state_to_string (RsAccountState state)
{
  switch (state)
    {
    case RS_ACCOUNT_STATE_CONNECTED:       return "connected";
    case RS_ACCOUNT_STATE_IDLE:            return "idle";
    case RS_ACCOUNT_STATE_SYNCING:         return "syncing";
    case RS_ACCOUNT_STATE_OFFLINE:         return "offline";
    case RS_ACCOUNT_STATE_NEEDS_ATTENTION: return "needs-attention";
    default:                               g_return_val_if_reached (NULL);
    }
}

const char *
rs_security_to_string (RsSecurity security)
{
  return security == RS_SECURITY_STARTTLS ? "starttls" : "tls";
}

gboolean
rs_security_from_string (const char *str,
                         RsSecurity *security)
{
  g_return_val_if_fail (security != NULL, FALSE);

  if (g_strcmp0 (str, "tls") == 0)
    *security = RS_SECURITY_TLS;
  else if (g_strcmp0 (str, "starttls") == 0)
    *security = RS_SECURITY_STARTTLS;
  else
    return FALSE;

  return TRUE;
}
