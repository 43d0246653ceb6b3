/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-detect"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-detect-candidate.h"

G_DEFINE_ENUM_TYPE (RsRoute, rs_route,
  G_DEFINE_ENUM_VALUE (RS_ROUTE_NONE, "none"),
  G_DEFINE_ENUM_VALUE (RS_ROUTE_GOOGLE, "google"),
  G_DEFINE_ENUM_VALUE (RS_ROUTE_MICROSOFT, "microsoft"))

G_DEFINE_ENUM_TYPE (RsDetectOutcome, rs_detect_outcome,
  G_DEFINE_ENUM_VALUE (RS_DETECT_OUTCOME_CHECKING, "checking"),
  G_DEFINE_ENUM_VALUE (RS_DETECT_OUTCOME_FOUND, "found"),
  G_DEFINE_ENUM_VALUE (RS_DETECT_OUTCOME_NOT_FOUND, "not-found"),
  G_DEFINE_ENUM_VALUE (RS_DETECT_OUTCOME_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (RS_DETECT_OUTCOME_CANCELLED, "cancelled"))

RsDetectCandidate *
rs_detect_candidate_new (const char *source)
{
  RsDetectCandidate *candidate = g_new0 (RsDetectCandidate, 1);

  candidate->source = g_strdup (source);
  candidate->auth = g_strdup ("password");

  return candidate;
}

RsDetectCandidate *
rs_detect_candidate_copy (const RsDetectCandidate *candidate)
{
  RsDetectCandidate *copy;

  g_return_val_if_fail (candidate != NULL, NULL);

  copy = g_new0 (RsDetectCandidate, 1);
  copy->source = g_strdup (candidate->source);
  copy->imap = candidate->imap ? rs_server_settings_copy (candidate->imap) : NULL;
  copy->smtp = candidate->smtp ? rs_server_settings_copy (candidate->smtp) : NULL;
  copy->auth = g_strdup (candidate->auth);
  copy->app_password_required = candidate->app_password_required;
  copy->provider_name = g_strdup (candidate->provider_name);
  copy->instructions_url = g_strdup (candidate->instructions_url);
  copy->note = g_strdup (candidate->note);
  copy->insecure = candidate->insecure;
  copy->insecure_reason = g_strdup (candidate->insecure_reason);
  copy->imap_certificate = candidate->imap_certificate ? rs_certificate_info_copy (candidate->imap_certificate) : NULL;
  copy->smtp_certificate = candidate->smtp_certificate ? rs_certificate_info_copy (candidate->smtp_certificate) : NULL;
  copy->exchange_offered = candidate->exchange_offered;
  copy->route = candidate->route;

  return copy;
}

void
rs_detect_candidate_free (RsDetectCandidate *candidate)
{
  if (candidate == NULL)
    return;

  g_free (candidate->source);
  g_clear_pointer (&candidate->imap, rs_server_settings_free);
  g_clear_pointer (&candidate->smtp, rs_server_settings_free);
  g_free (candidate->auth);
  g_free (candidate->provider_name);
  g_free (candidate->instructions_url);
  g_free (candidate->note);
  g_free (candidate->insecure_reason);
  g_clear_pointer (&candidate->imap_certificate, rs_certificate_info_free);
  g_clear_pointer (&candidate->smtp_certificate, rs_certificate_info_free);
  g_free (candidate);
}

void
rs_detect_source_report_free (RsDetectSourceReport *report)
{
  if (report == NULL)
    return;

  g_free (report->source);
  g_free (report->detail);
  g_free (report);
}

RsDetectResult *
rs_detect_result_new (void)
{
  RsDetectResult *result = g_new0 (RsDetectResult, 1);

  result->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_detect_candidate_free);
  result->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) rs_detect_source_report_free);

  return result;
}

void
rs_detect_result_free (RsDetectResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->candidates, g_ptr_array_unref);
  g_clear_pointer (&result->sources, g_ptr_array_unref);
  g_free (result);
}

const RsDetectSourceReport *
rs_detect_result_get_report (const RsDetectResult *result,
                             const char           *source)
{
  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);

  for (guint i = 0; i < result->sources->len; i++)
    {
      const RsDetectSourceReport *report = g_ptr_array_index (result->sources, i);

      if (g_str_equal (report->source, source))
        return report;
    }

  return NULL;
}

const char *
rs_route_to_string (RsRoute route)
{
  switch (route)
    {
    case RS_ROUTE_NONE:      return "none";
    case RS_ROUTE_GOOGLE:    return "google";
    case RS_ROUTE_MICROSOFT: return "microsoft";
    default:                 g_return_val_if_reached (NULL);
    }
}

const char *
rs_detect_outcome_to_string (RsDetectOutcome outcome)
{
  switch (outcome)
    {
    case RS_DETECT_OUTCOME_CHECKING:  return "checking";
    case RS_DETECT_OUTCOME_FOUND:     return "found";
    case RS_DETECT_OUTCOME_NOT_FOUND: return "not-found";
    case RS_DETECT_OUTCOME_FAILED:    return "failed";
    case RS_DETECT_OUTCOME_CANCELLED: return "cancelled";
    default:                          g_return_val_if_reached (NULL);
    }
}
