/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-detect"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-autoconfig.h"
#include "rs-detect-source.h"
#include "rs-imap-client.h"
#include "rs-smtp-client.h"
#include "rs-utils.h"

/* The built-in sources.  Each is one short async job that ends in a list
 * of candidates (possibly empty) or an error; ranking, bounds and
 * cancelling the rest are RsDetector's business, not theirs.  Each
 * network step is bounded by request->probe_seconds. */

G_DEFINE_INTERFACE (RsDetectSource, rs_detect_source, G_TYPE_OBJECT)

static void
rs_detect_source_default_init (RsDetectSourceInterface *iface)
{
}

const char *
rs_detect_source_get_name (RsDetectSource *self)
{
  g_return_val_if_fail (RS_IS_DETECT_SOURCE (self), NULL);

  return RS_DETECT_SOURCE_GET_IFACE (self)->get_name (self);
}

void
rs_detect_source_run_async (RsDetectSource        *self,
                            const RsDetectRequest *request,
                            GCancellable          *cancellable,
                            GAsyncReadyCallback    callback,
                            gpointer               user_data)
{
  g_return_if_fail (RS_IS_DETECT_SOURCE (self));
  g_return_if_fail (request != NULL);

  RS_DETECT_SOURCE_GET_IFACE (self)->run_async (self, request, cancellable, callback, user_data);
}

GPtrArray *
rs_detect_source_run_finish (RsDetectSource  *self,
                             GAsyncResult    *result,
                             char           **detail,
                             GError         **error)
{
  g_return_val_if_fail (RS_IS_DETECT_SOURCE (self), NULL);

  if (detail != NULL)
    *detail = NULL;

  return RS_DETECT_SOURCE_GET_IFACE (self)->run_finish (self, result, detail, error);
}

RsDetectRequest *
rs_detect_request_new (const char *address,
                       guint       probe_seconds)
{
  RsDetectRequest *request;
  const char *at;
  gsize len;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (strrchr (address, '@') != NULL, NULL);

  at = strrchr (address, '@');
  request = g_new0 (RsDetectRequest, 1);
  request->address = g_strdup (address);
  request->domain = g_ascii_strdown (at + 1, -1);
  len = strlen (request->domain);
  if (len > 0 && request->domain[len - 1] == '.')
    request->domain[len - 1] = '\0';
  request->probe_seconds = MAX (probe_seconds, 1);

  return request;
}

void
rs_detect_request_free (RsDetectRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->address);
  g_free (request->domain);
  g_clear_object (&request->session);
  g_clear_object (&request->resolver);
  g_free (request);
}

/* SRV ------------------------------------------------------------------- */

static gboolean
srv_target_offered (GSrvTarget *target)
{
  const char *host = g_srv_target_get_hostname (target);

  return host != NULL && *host != '\0' && !g_str_equal (host, ".") && g_srv_target_get_port (target) != 0;
}

GSrvTarget *
rs_detect_srv_select (GList *targets,
                      GRand *rand)
{
  g_autoptr(GPtrArray) best = g_ptr_array_new ();
  guint best_priority = G_MAXUINT;
  guint total_weight = 0;
  guint32 pick;

  for (GList *l = targets; l != NULL; l = l->next)
    {
      GSrvTarget *target = l->data;

      if (!srv_target_offered (target))
        continue;

      if (g_srv_target_get_priority (target) < best_priority)
        {
          best_priority = g_srv_target_get_priority (target);
          g_ptr_array_set_size (best, 0);
          total_weight = 0;
        }
      if (g_srv_target_get_priority (target) == best_priority)
        {
          g_ptr_array_add (best, target);
          total_weight += g_srv_target_get_weight (target);
        }
    }

  if (best->len == 0)
    return NULL;

  /* Weight 0 only when nothing weighs more (RFC 2782). */
  if (total_weight == 0)
    return g_ptr_array_index (best, 0);

  pick = rand != NULL ? g_rand_int_range (rand, 0, total_weight) : g_random_int_range (0, total_weight);
  for (guint i = 0; i < best->len; i++)
    {
      GSrvTarget *target = g_ptr_array_index (best, i);
      guint weight = g_srv_target_get_weight (target);

      if (pick < weight)
        return target;
      pick -= weight;
    }

  g_assert_not_reached ();
}

/* The built-in source type ------------------------------------------------ */

typedef enum
{
  KIND_PROVIDERS,
  KIND_AUTOCONFIG,
  KIND_AUTOCONFIG_WELLKNOWN,
  KIND_ISPDB,
  KIND_SRV,
  KIND_MX,
  KIND_GUESS,
  N_KINDS
} Kind;

static const char * const kind_names[N_KINDS] = {
  RS_DETECT_SOURCE_PROVIDERS,
  RS_DETECT_SOURCE_AUTOCONFIG,
  RS_DETECT_SOURCE_AUTOCONFIG_WELLKNOWN,
  RS_DETECT_SOURCE_ISPDB,
  RS_DETECT_SOURCE_SRV,
  RS_DETECT_SOURCE_MX,
  RS_DETECT_SOURCE_GUESS,
};

#define RS_TYPE_BUILTIN_SOURCE (rs_builtin_source_get_type ())
G_DECLARE_FINAL_TYPE (RsBuiltinSource, rs_builtin_source, RS, BUILTIN_SOURCE, GObject)

struct _RsBuiltinSource
{
  GObject parent_instance;
  Kind    kind;
};

static void rs_builtin_source_iface_init (RsDetectSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RsBuiltinSource, rs_builtin_source, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RS_TYPE_DETECT_SOURCE, rs_builtin_source_iface_init))

/* What every job keeps: the request, the detail, the answer. */
typedef struct
{
  char            *address;
  char            *domain;
  guint            probe_seconds;
  SoupSession     *session;
  GResolver       *resolver;
  RsProviders     *providers;
  char            *detail;
  guint            pending;
  /* autoconfig */
  GError          *first_error;
  /* srv */
  GList           *srv[4];
  GError          *srv_error;
  /* mx */
  char            *mx_host;
  char            *mx_base;
  RsDetectCandidate *mx_autoconfig;
  RsDetectCandidate *mx_ispdb;
  /* guess */
  GPtrArray       *probes;
  gboolean         finished;
} Job;

static void
job_free (Job *job)
{
  g_free (job->address);
  g_free (job->domain);
  g_clear_object (&job->session);
  g_clear_object (&job->resolver);
  g_free (job->detail);
  g_clear_error (&job->first_error);
  for (guint i = 0; i < G_N_ELEMENTS (job->srv); i++)
    g_list_free_full (job->srv[i], (GDestroyNotify) g_srv_target_free);
  g_clear_error (&job->srv_error);
  g_free (job->mx_host);
  g_free (job->mx_base);
  g_clear_pointer (&job->mx_autoconfig, rs_detect_candidate_free);
  g_clear_pointer (&job->mx_ispdb, rs_detect_candidate_free);
  g_clear_pointer (&job->probes, g_ptr_array_unref);
  g_free (job);
}

static GPtrArray *
candidates_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) rs_detect_candidate_free);
}

static void
job_return (GTask             *task,
            RsDetectCandidate *candidate,  /* transfer full, nullable */
            const char        *detail)
{
  Job *job = g_task_get_task_data (task);
  GPtrArray *candidates = candidates_new ();

  if (candidate != NULL)
    g_ptr_array_add (candidates, candidate);
  rs_set_str (&job->detail, detail);
  g_task_return_pointer (task, candidates, (GDestroyNotify) g_ptr_array_unref);
}

static char *
describe_candidate (const RsDetectCandidate *candidate)
{
  g_autoptr(GString) str = g_string_new (NULL);

  if (candidate->provider_name != NULL)
    g_string_append_printf (str, "%s: ", candidate->provider_name);
  if (candidate->imap != NULL)
    g_string_append_printf (str, "IMAP %s:%u %s", candidate->imap->host, candidate->imap->port,
                            rs_security_to_string (candidate->imap->security));
  if (candidate->smtp != NULL)
    g_string_append_printf (str, "%sSMTP %s:%u %s", candidate->imap ? ", " : "", candidate->smtp->host,
                            candidate->smtp->port, rs_security_to_string (candidate->smtp->security));
  if (candidate->insecure)
    g_string_append_printf (str, " (%s)", _("not secure"));

  return g_string_free (g_steal_pointer (&str), FALSE);
}

/* Not found: the server said so (404), or the name does not exist. */
static gboolean
error_means_not_found (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
         g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
}

/* Returns the error a source reports, or (with @detail) a not-found. */
static void
job_return_error (GTask  *task,
                  GError *error)
{
  if (error_means_not_found (error))
    {
      job_return (task, NULL, error->message);
      g_error_free (error);
    }
  else
    g_task_return_error (task, error);
}

/* providers -------------------------------------------------------------- */

static void
run_providers (GTask *task)
{
  Job *job = g_task_get_task_data (task);
  const RsProvider *provider = rs_providers_lookup_domain (job->providers, job->domain);
  g_autofree char *detail = NULL;
  RsDetectCandidate *candidate;

  if (provider == NULL)
    {
      detail = g_strdup_printf (_("%s is not in the bundled provider list"), job->domain);
      job_return (task, NULL, detail);
      return;
    }

  candidate = rs_provider_make_candidate (provider, RS_DETECT_SOURCE_PROVIDERS, job->address);
  detail = describe_candidate (candidate);
  job_return (task, candidate, detail);
}

/* autoconfig, autoconfig-wellknown, ispdb ---------------------------------- */

static char *
autoconfig_url (const char *scheme,
                const char *domain,
                const char *address)
{
  g_autofree char *escaped = g_uri_escape_string (address, NULL, FALSE);

  return g_strdup_printf ("%s://autoconfig.%s/mail/config-v1.1.xml?emailaddress=%s", scheme, domain, escaped);
}

static RsDetectCandidate *
parse_answer (GBytes      *bytes,
              const char  *address,
              const char  *source,
              gboolean     insecure,
              GError     **error)
{
  RsDetectCandidate *candidate;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  candidate = rs_autoconfig_parse (data, size, address, source, error);
  if (candidate != NULL && insecure)
    {
      candidate->insecure = TRUE;
      rs_set_str (&candidate->insecure_reason,
                  _("These settings came over unencrypted HTTP and could have been changed on the way"));
    }

  return candidate;
}

static void
fetched_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Job *job = g_task_get_task_data (task);
  RsBuiltinSource *self = g_task_get_source_object (task);
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  gboolean insecure = FALSE;
  RsDetectCandidate *candidate = NULL;

  bytes = rs_autoconfig_fetch_finish (result, &insecure, &error);
  if (bytes != NULL)
    candidate = parse_answer (bytes, job->address, kind_names[self->kind], insecure, &error);

  if (candidate != NULL)
    {
      g_autofree char *detail = describe_candidate (candidate);

      job_return (task, candidate, detail);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Autoconfig on the domain: plain HTTP is the last fallback, and what
   * it brings back is marked insecure. */
  if (self->kind == KIND_AUTOCONFIG && job->first_error == NULL)
    {
      g_autofree char *url = autoconfig_url ("http", job->domain, job->address);
      GCancellable *cancellable = g_task_get_cancellable (task);

      job->first_error = error;
      rs_autoconfig_fetch_async (job->session, url, job->probe_seconds,
                                 cancellable, fetched_cb, g_steal_pointer (&task));
      return;
    }

  /* Report the HTTPS failure: that is the one that matters. */
  if (job->first_error != NULL)
    {
      g_error_free (error);
      error = g_steal_pointer (&job->first_error);
    }

  /* The ISPDB's own name not resolving means no network, not "no entry". */
  if (self->kind == KIND_ISPDB && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      g_task_return_error (task, error);
      return;
    }

  job_return_error (task, error);
}

static void
run_fetch (GTask *task)
{
  RsBuiltinSource *self = g_task_get_source_object (task);
  Job *job = g_task_get_task_data (task);
  g_autofree char *url = NULL;

  switch (self->kind)
    {
    case KIND_AUTOCONFIG:
      url = autoconfig_url ("https", job->domain, job->address);
      break;
    case KIND_AUTOCONFIG_WELLKNOWN:
      url = g_strdup_printf ("https://%s/.well-known/autoconfig/mail/config-v1.1.xml", job->domain);
      break;
    case KIND_ISPDB:
      url = g_strdup_printf ("https://autoconfig.thunderbird.net/v1.1/%s", job->domain);
      break;
    default:
      g_assert_not_reached ();
    }

  rs_autoconfig_fetch_async (job->session, url, job->probe_seconds,
                             g_task_get_cancellable (task), fetched_cb, g_object_ref (task));
}

/* srv -------------------------------------------------------------------- */

static const struct {
  const char *service;
  RsService   kind;
  RsSecurity  security;
} srv_services[4] = {
  { "imaps",       RS_SERVICE_IMAP, RS_SECURITY_TLS },
  { "imap",        RS_SERVICE_IMAP, RS_SECURITY_STARTTLS },
  { "submissions", RS_SERVICE_SMTP, RS_SECURITY_TLS },
  { "submission",  RS_SERVICE_SMTP, RS_SECURITY_STARTTLS },
};

static RsServerSettings *
srv_settings (Job  *job,
              guint first)
{
  /* Implicit TLS is preferred when both are offered (RFC 8314 §5.1). */
  for (guint i = first; i < first + 2; i++)
    {
      GSrvTarget *target = rs_detect_srv_select (job->srv[i], NULL);
      g_autofree char *host = NULL;
      gsize len;

      if (target == NULL)
        continue;

      host = g_strdup (g_srv_target_get_hostname (target));
      len = strlen (host);
      if (len > 0 && host[len - 1] == '.')
        host[len - 1] = '\0';

      return rs_server_settings_new (host, g_srv_target_get_port (target), srv_services[i].security,
                                     job->address);
    }

  return NULL;
}

static void
srv_finish (GTask *task)
{
  Job *job = g_task_get_task_data (task);
  g_autoptr(RsDetectCandidate) candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_SRV);
  g_autofree char *detail = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  candidate->imap = srv_settings (job, 0);
  candidate->smtp = srv_settings (job, 2);

  if (candidate->imap == NULL && candidate->smtp == NULL)
    {
      if (job->srv_error != NULL)
        {
          g_task_return_error (task, g_steal_pointer (&job->srv_error));
          return;
        }
      detail = g_strdup_printf (_("No IMAP or submission SRV records for %s"), job->domain);
      job_return (task, NULL, detail);
      return;
    }

  if (candidate->imap == NULL)
    {
      detail = g_strdup_printf (_("SRV records name only a sending server, no IMAP server, for %s"), job->domain);
      job_return (task, NULL, detail);
      return;
    }

  detail = describe_candidate (candidate);
  job_return (task, g_steal_pointer (&candidate), detail);
}

typedef struct
{
  GTask *task;
  guint  index;
} SrvLookup;

static void
srv_looked_up_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SrvLookup *lookup = user_data;
  g_autoptr(GTask) task = lookup->task;
  Job *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *targets;

  targets = g_resolver_lookup_service_finish (G_RESOLVER (object), result, &error);
  job->srv[lookup->index] = targets;
  g_free (lookup);

  if (error != NULL && !error_means_not_found (error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && job->srv_error == NULL)
    job->srv_error = g_steal_pointer (&error);

  if (--job->pending == 0)
    srv_finish (task);
}

static void
run_srv (GTask *task)
{
  Job *job = g_task_get_task_data (task);

  job->pending = G_N_ELEMENTS (srv_services);
  for (guint i = 0; i < G_N_ELEMENTS (srv_services); i++)
    {
      SrvLookup *lookup = g_new0 (SrvLookup, 1);

      lookup->task = g_object_ref (task);
      lookup->index = i;
      g_resolver_lookup_service_async (job->resolver, srv_services[i].service, "tcp", job->domain,
                                       g_task_get_cancellable (task), srv_looked_up_cb, lookup);
    }
}

/* mx --------------------------------------------------------------------- */

static void
mx_settle (GTask *task)
{
  Job *job = g_task_get_task_data (task);
  RsDetectCandidate *candidate;
  g_autofree char *detail = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  /* The hoster's own autoconfig beats the ISPDB's copy. */
  candidate = job->mx_autoconfig ? g_steal_pointer (&job->mx_autoconfig) : g_steal_pointer (&job->mx_ispdb);
  if (candidate == NULL)
    {
      detail = g_strdup_printf (_("Mail for %s goes to %s; no settings are published for %s"),
                                job->domain, job->mx_host, job->mx_base);
      job_return (task, NULL, detail);
      return;
    }

  rs_set_str (&candidate->source, RS_DETECT_SOURCE_MX);
  {
    g_autofree char *what = describe_candidate (candidate);

    detail = g_strdup_printf (_("Mail for %s goes to %s: %s"), job->domain, job->mx_host, what);
  }
  job_return (task, candidate, detail);
}

typedef struct
{
  GTask    *task;
  gboolean  is_autoconfig;
} MxFetch;

static void
mx_fetched_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MxFetch *fetch = user_data;
  g_autoptr(GTask) task = fetch->task;
  Job *job = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  gboolean insecure = FALSE;
  gboolean is_autoconfig = fetch->is_autoconfig;

  g_free (fetch);

  bytes = rs_autoconfig_fetch_finish (result, &insecure, NULL);
  if (bytes != NULL)
    {
      RsDetectCandidate *candidate = parse_answer (bytes, job->address, RS_DETECT_SOURCE_MX, insecure, NULL);

      if (is_autoconfig)
        job->mx_autoconfig = candidate;
      else
        job->mx_ispdb = candidate;
    }

  if (--job->pending == 0)
    mx_settle (task);
}

static void
mx_fetch (GTask      *task,
          const char *url,
          gboolean    is_autoconfig)
{
  Job *job = g_task_get_task_data (task);
  MxFetch *fetch = g_new0 (MxFetch, 1);

  fetch->task = g_object_ref (task);
  fetch->is_autoconfig = is_autoconfig;
  job->pending++;
  rs_autoconfig_fetch_async (job->session, url, job->probe_seconds, g_task_get_cancellable (task),
                             mx_fetched_cb, fetch);
}

static void
mx_looked_up_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Job *job = g_task_get_task_data (task);
  const RsProvider *provider;
  GError *error = NULL;
  GList *records;
  guint16 best = G_MAXUINT16;

  records = g_resolver_lookup_records_finish (G_RESOLVER (object), result, &error);
  if (records == NULL)
    {
      if (error == NULL)
        error = g_error_new (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, _("%s has no MX records"), job->domain);
      job_return_error (task, error);
      return;
    }

  for (GList *l = records; l != NULL; l = l->next)
    {
      guint16 preference;
      const char *host;

      g_variant_get (l->data, "(q&s)", &preference, &host);
      if (preference < best || job->mx_host == NULL)
        {
          best = preference;
          rs_set_str (&job->mx_host, host);
        }
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);

  if (job->mx_host != NULL)
    {
      gsize len = strlen (job->mx_host);

      if (len > 0 && job->mx_host[len - 1] == '.')
        job->mx_host[len - 1] = '\0';
    }

  /* RFC 7505: a null MX says the domain takes no mail at all. */
  if (job->mx_host == NULL || *job->mx_host == '\0')
    {
      g_autofree char *detail = g_strdup_printf (_("%s says it accepts no mail (null MX)"), job->domain);

      job_return (task, NULL, detail);
      return;
    }

  provider = rs_providers_lookup_mx (job->providers, job->mx_host);
  if (provider != NULL)
    {
      RsDetectCandidate *candidate = rs_provider_make_candidate (provider, RS_DETECT_SOURCE_MX, job->address);
      g_autofree char *what = describe_candidate (candidate);
      g_autofree char *detail = g_strdup_printf (_("Mail for %s goes to %s: %s"), job->domain, job->mx_host, what);

      job_return (task, candidate, detail);
      return;
    }

  {
    const char *base = soup_tld_get_base_domain (job->mx_host, NULL);

    job->mx_base = g_strdup (base ? base : job->mx_host);
  }

  if (g_ascii_strcasecmp (job->mx_base, job->domain) == 0)
    {
      g_autofree char *detail = g_strdup_printf (_("%s receives its own mail (at %s)"), job->domain, job->mx_host);

      job_return (task, NULL, detail);
      return;
    }

  {
    g_autofree char *autoconfig = autoconfig_url ("https", job->mx_base, job->address);
    g_autofree char *ispdb = g_strdup_printf ("https://autoconfig.thunderbird.net/v1.1/%s", job->mx_base);

    mx_fetch (task, autoconfig, TRUE);
    mx_fetch (task, ispdb, FALSE);
  }
}

static void
run_mx (GTask *task)
{
  Job *job = g_task_get_task_data (task);

  g_resolver_lookup_records_async (job->resolver, job->domain, G_RESOLVER_RECORD_MX,
                                   g_task_get_cancellable (task), mx_looked_up_cb, g_object_ref (task));
}

/* guess ------------------------------------------------------------------ */

#define N_GUESS_HOSTS 3

typedef enum
{
  PROBE_PENDING = -1,
  PROBE_FAILED = 0,
  PROBE_NO_TLS = 1,       /* a mail server, but no encryption */
  PROBE_CERTIFICATE = 2,  /* a mail server whose certificate we refused */
  PROBE_OK = 3,
} ProbeScore;

typedef struct
{
  GTask             *task;
  RsService          service;
  guint              index;   /* preference: implicit TLS first, then host order */
  RsServerSettings  *settings;
  ProbeScore         score;
  RsCertificateInfo *certificate;
} Probe;

static void
probe_free (Probe *probe)
{
  g_clear_pointer (&probe->settings, rs_server_settings_free);
  g_clear_pointer (&probe->certificate, rs_certificate_info_free);
  g_free (probe);
}

/* The best settled probe for @service, or NULL; *decided tells whether a
 * better one could still come. */
static Probe *
guess_best (Job       *job,
            RsService  service,
            gboolean  *decided)
{
  Probe *best = NULL;
  gboolean pending_before_ok = FALSE;
  gboolean any_pending = FALSE;
  guint first_ok = G_MAXUINT;

  for (guint i = 0; i < job->probes->len; i++)
    {
      Probe *probe = g_ptr_array_index (job->probes, i);

      if (probe->service != service)
        continue;
      if (probe->score == PROBE_OK && probe->index < first_ok)
        first_ok = probe->index;
    }

  for (guint i = 0; i < job->probes->len; i++)
    {
      Probe *probe = g_ptr_array_index (job->probes, i);

      if (probe->service != service)
        continue;

      if (probe->score == PROBE_PENDING)
        {
          any_pending = TRUE;
          if (probe->index < first_ok)
            pending_before_ok = TRUE;
          continue;
        }

      if (probe->score > PROBE_FAILED &&
          (best == NULL || probe->score > best->score ||
           (probe->score == best->score && probe->index < best->index)))
        best = probe;
    }

  *decided = first_ok != G_MAXUINT ? !pending_before_ok : !any_pending;

  return best;
}

static void
apply_probe (RsDetectCandidate  *candidate,
             Probe              *probe)
{
  RsServerSettings **slot = probe->service == RS_SERVICE_IMAP ? &candidate->imap : &candidate->smtp;

  *slot = rs_server_settings_copy (probe->settings);

  if (probe->score == PROBE_CERTIFICATE)
    {
      if (probe->service == RS_SERVICE_IMAP)
        candidate->imap_certificate = rs_certificate_info_copy (probe->certificate);
      else
        candidate->smtp_certificate = rs_certificate_info_copy (probe->certificate);
    }
  else if (probe->score == PROBE_NO_TLS)
    {
      g_autofree char *reason = g_strdup_printf (_("%s does not offer encryption"), probe->settings->host);

      candidate->insecure = TRUE;
      if (candidate->insecure_reason == NULL)
        candidate->insecure_reason = g_steal_pointer (&reason);
    }
}

static void
guess_check (GTask *task)
{
  Job *job = g_task_get_task_data (task);
  g_autoptr(RsDetectCandidate) candidate = NULL;
  g_autofree char *detail = NULL;
  gboolean imap_decided, smtp_decided;
  Probe *imap, *smtp;

  if (job->finished)
    return;

  imap = guess_best (job, RS_SERVICE_IMAP, &imap_decided);
  smtp = guess_best (job, RS_SERVICE_SMTP, &smtp_decided);

  if (!imap_decided || !smtp_decided)
    return;

  job->finished = TRUE;
  g_cancellable_cancel (g_object_get_data (G_OBJECT (task), "rs-probe-cancellable"));

  if (g_task_return_error_if_cancelled (task))
    return;

  if (imap == NULL)
    {
      detail = g_strdup_printf (_("No IMAP server answered at imap.%s, mail.%s or %s"),
                                job->domain, job->domain, job->domain);
      job_return (task, NULL, detail);
      return;
    }

  candidate = rs_detect_candidate_new (RS_DETECT_SOURCE_GUESS);
  apply_probe (candidate, imap);
  if (smtp != NULL)
    apply_probe (candidate, smtp);

  detail = describe_candidate (candidate);
  if (candidate->imap_certificate != NULL || candidate->smtp_certificate != NULL)
    {
      g_autofree char *with = g_strdup_printf ("%s (%s)", detail, _("the certificate is not trusted"));

      g_free (detail);
      detail = g_steal_pointer (&with);
    }
  job_return (task, g_steal_pointer (&candidate), detail);
}

static void
probe_settle (Probe        *probe,
              const GError *error)
{
  if (error == NULL)
    probe->score = PROBE_OK;
  else if (g_error_matches (error, RS_ERROR, RS_ERROR_CERTIFICATE))
    {
      /* The server exists; the user decides about its certificate. */
      probe->score = PROBE_CERTIFICATE;
      if (rs_error_get_certificate (error) != NULL)
        probe->certificate = rs_certificate_info_copy (rs_error_get_certificate (error));
      else
        probe->score = PROBE_FAILED;
    }
  else if (g_error_matches (error, RS_ERROR, RS_ERROR_TLS_UNAVAILABLE))
    probe->score = PROBE_NO_TLS;
  else
    probe->score = PROBE_FAILED;
}

static void
imap_probed_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&probe->task);
  g_autoptr(GError) error = NULL;

  rs_imap_client_connect_finish (RS_IMAP_CLIENT (object), result, &error);
  probe_settle (probe, error);
  g_object_unref (object);
  guess_check (task);
}

static void
smtp_probed_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&probe->task);
  g_autoptr(GError) error = NULL;

  rs_smtp_client_connect_finish (RS_SMTP_CLIENT (object), result, &error);
  probe_settle (probe, error);
  g_object_unref (object);
  guess_check (task);
}

static void
run_guess (GTask *task)
{
  Job *job = g_task_get_task_data (task);
  g_autoptr(GCancellable) probes_cancellable = g_cancellable_new ();
  const char *prefixes[N_GUESS_HOSTS] = { NULL, "mail.", "" };
  static const guint16 imap_ports[2] = { 993, 143 };
  static const guint16 smtp_ports[2] = { 465, 587 };

  job->probes = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_free);

  /* Probes stop when the run is cancelled, or when the guess is decided. */
  if (g_task_get_cancellable (task) != NULL)
    g_signal_connect_object (g_task_get_cancellable (task), "cancelled",
                             G_CALLBACK (g_cancellable_cancel), probes_cancellable, G_CONNECT_SWAPPED);
  g_object_set_data_full (G_OBJECT (task), "rs-probe-cancellable",
                          g_object_ref (probes_cancellable), g_object_unref);

  for (guint s = 0; s < 2; s++)
    for (guint sec = 0; sec < 2; sec++)
      for (guint h = 0; h < N_GUESS_HOSTS; h++)
        {
          RsService service = s == 0 ? RS_SERVICE_IMAP : RS_SERVICE_SMTP;
          g_autofree char *host = NULL;
          Probe *probe = g_new0 (Probe, 1);

          prefixes[0] = service == RS_SERVICE_IMAP ? "imap." : "smtp.";
          host = g_strconcat (prefixes[h], job->domain, NULL);

          probe->task = g_object_ref (task);
          probe->service = service;
          probe->index = sec * N_GUESS_HOSTS + h;
          probe->score = PROBE_PENDING;
          probe->settings = rs_server_settings_new (host,
                                                    service == RS_SERVICE_IMAP ? imap_ports[sec] : smtp_ports[sec],
                                                    sec == 0 ? RS_SECURITY_TLS : RS_SECURITY_STARTTLS,
                                                    job->address);
          g_ptr_array_add (job->probes, probe);

          if (service == RS_SERVICE_IMAP)
            {
              RsImapClient *client = rs_imap_client_new (probe->settings, NULL);

              rs_imap_client_set_timeout (client, job->probe_seconds);
              rs_imap_client_connect_async (client, probes_cancellable, imap_probed_cb, probe);
            }
          else
            {
              RsSmtpClient *client = rs_smtp_client_new (probe->settings, NULL);

              rs_smtp_client_set_timeout (client, job->probe_seconds);
              rs_smtp_client_connect_async (client, probes_cancellable, smtp_probed_cb, probe);
            }
        }
}

/* The interface ------------------------------------------------------------ */

static const char *
rs_builtin_source_get_name (RsDetectSource *source)
{
  return kind_names[RS_BUILTIN_SOURCE (source)->kind];
}

static void
rs_builtin_source_run_async (RsDetectSource        *source,
                             const RsDetectRequest *request,
                             GCancellable          *cancellable,
                             GAsyncReadyCallback    callback,
                             gpointer               user_data)
{
  RsBuiltinSource *self = RS_BUILTIN_SOURCE (source);
  g_autoptr(GTask) task = NULL;
  Job *job;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, rs_builtin_source_run_async);
  g_task_set_check_cancellable (task, FALSE);

  job = g_new0 (Job, 1);
  job->address = g_strdup (request->address);
  job->domain = g_strdup (request->domain);
  job->probe_seconds = request->probe_seconds;
  job->session = request->session ? g_object_ref (request->session) : NULL;
  job->resolver = request->resolver ? g_object_ref (request->resolver) : g_resolver_get_default ();
  job->providers = request->providers ? request->providers : rs_providers_get_default ();
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);

  if (job->session == NULL)
    job->session = soup_session_new_with_options ("timeout", job->probe_seconds,
                                                  "idle-timeout", job->probe_seconds,
                                                  NULL);

  switch (self->kind)
    {
    case KIND_PROVIDERS:
      run_providers (task);
      break;
    case KIND_AUTOCONFIG:
    case KIND_AUTOCONFIG_WELLKNOWN:
    case KIND_ISPDB:
      run_fetch (task);
      break;
    case KIND_SRV:
      run_srv (task);
      break;
    case KIND_MX:
      run_mx (task);
      break;
    case KIND_GUESS:
      run_guess (task);
      break;
    case N_KINDS:
    default:
      g_assert_not_reached ();
    }
}

static GPtrArray *
rs_builtin_source_run_finish (RsDetectSource  *source,
                              GAsyncResult    *result,
                              char           **detail,
                              GError         **error)
{
  Job *job = g_task_get_task_data (G_TASK (result));

  if (detail != NULL)
    *detail = g_strdup (job->detail);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
rs_builtin_source_iface_init (RsDetectSourceInterface *iface)
{
  iface->get_name = rs_builtin_source_get_name;
  iface->run_async = rs_builtin_source_run_async;
  iface->run_finish = rs_builtin_source_run_finish;
}

static void
rs_builtin_source_class_init (RsBuiltinSourceClass *klass)
{
}

static void
rs_builtin_source_init (RsBuiltinSource *self)
{
}

RsDetectSource *
rs_detect_source_new_builtin (const char *name)
{
  RsBuiltinSource *self;

  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < N_KINDS; i++)
    if (g_str_equal (name, kind_names[i]))
      {
        self = g_object_new (RS_TYPE_BUILTIN_SOURCE, NULL);
        self->kind = i;
        return RS_DETECT_SOURCE (self);
      }

  g_return_val_if_reached (NULL);
}

/* All of them, best-trusted first. */
GPtrArray *
rs_detect_source_new_builtins (void)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < N_KINDS; i++)
    g_ptr_array_add (sources, rs_detect_source_new_builtin (kind_names[i]));

  return sources;
}
