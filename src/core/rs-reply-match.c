/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-reply-match"

#include "config.h"

#include <glib/gi18n.h>
#include <gmime/gmime.h>

#include "rs-error.h"
#include "rs-reply-match.h"

/* Reply matching per RFC 5322 §3.6.4: a message answers a tracked one
 * when the tracked Message-ID is in its In-Reply-To or References.  All
 * parsing is GMime's: header blocks, reference lists, addresses, RFC 2047
 * words in any charset and dates.  Nothing here ever sees a body: the
 * input is the header block that `BODY.PEEK[HEADER.FIELDS (…)]` returns. */

/* A header-field fetch has no business being large; a longer block is
 * cut here rather than handed to the parser (the IMAP layer bounds its
 * literals too). */
#define MAX_HEADER_BLOCK (256 * 1024)

static GMimeParserOptions *parser_options;

void
rs_gmime_ensure_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      /* Undeclared 8-bit text in a header is tried as UTF-8 first, then
       * as Windows-1252, the usual culprit, so it always comes out as
       * valid UTF-8. */
      static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

      g_mime_init ();
      parser_options = g_mime_parser_options_new ();
      g_mime_parser_options_set_fallback_charsets (parser_options, fallback);
      g_once_init_leave (&initialized, 1);
    }
}

/**
 * rs_message_id_normalize:
 * @message_id: a Message-ID with or without angle brackets
 *
 * Returns: (transfer full) (nullable): the id without brackets and
 *   surrounding white space, or %NULL when nothing is left
 */
char *
rs_message_id_normalize (const char *message_id)
{
  g_autofree char *decoded = NULL;
  g_autofree char *copy = NULL;
  char *id;
  gsize len;

  if (message_id == NULL)
    return NULL;

  rs_gmime_ensure_init ();

  decoded = g_mime_utils_decode_message_id (message_id);
  if (decoded != NULL && decoded[0] != '\0')
    return g_steal_pointer (&decoded);

  /* GMime gives up on ids it finds malformed; keep them as written. */
  copy = g_strstrip (g_strdup (message_id));
  id = copy;
  len = strlen (id);
  if (len >= 2 && id[0] == '<' && id[len - 1] == '>')
    {
      id[len - 1] = '\0';
      id++;
    }

  if (id[0] == '\0')
    return NULL;

  return g_strdup (id);
}

void
rs_reply_headers_free (RsReplyHeaders *headers)
{
  if (headers == NULL)
    return;

  g_free (headers->message_id);
  g_clear_pointer (&headers->in_reply_to, g_ptr_array_unref);
  g_clear_pointer (&headers->references, g_ptr_array_unref);
  g_free (headers->from_name);
  g_free (headers->from_address);
  g_clear_pointer (&headers->date, g_date_time_unref);
  g_free (headers->subject);
  g_free (headers->automatic_why);
  g_free (headers);
}

static GPtrArray *
parse_references (const char *raw)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GMimeReferences *refs;

  if (raw == NULL)
    return ids;

  refs = g_mime_references_parse (parser_options, raw);
  if (refs == NULL)
    return ids;

  for (int i = 0; i < g_mime_references_length (refs); i++)
    {
      const char *id = g_mime_references_get_message_id (refs, i);

      if (id != NULL && id[0] != '\0')
        g_ptr_array_add (ids, g_strdup (id));
    }

  g_mime_references_free (refs);

  return ids;
}

/* One parser per thread, re-initialised for every block: the first
 * pass runs once per new message in a mailbox, and creating a parser
 * costs as much as parsing a short block. */
static GPrivate thread_parser = G_PRIVATE_INIT (g_object_unref);

/* Parses the block as a MIME part with no body (every field stays in the
 * part's header list) and returns it; the caller reads the list. */
static GMimeObject *
parse_block (const char  *data,
             gsize        length,
             GError     **error)
{
  g_autoptr(GByteArray) buffer = NULL;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeObject *part;

  rs_gmime_ensure_init ();

  if (length > MAX_HEADER_BLOCK)
    length = MAX_HEADER_BLOCK;

  /* IMAP returns the fields followed by an empty line; add one so the
   * parser never reads a header as body. */
  buffer = g_byte_array_sized_new (length + 4);
  g_byte_array_append (buffer, (const guint8 *) data, length);
  g_byte_array_append (buffer, (const guint8 *) "\r\n\r\n", 4);

  parser = g_private_get (&thread_parser);
  if (parser == NULL)
    {
      parser = g_mime_parser_new ();
      g_private_set (&thread_parser, parser);
    }

  stream = g_mime_stream_mem_new_with_buffer ((const char *) buffer->data, buffer->len);
  g_mime_parser_init_with_stream (parser, stream);
  g_object_unref (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  part = g_mime_parser_construct_part (parser, parser_options);

  /* Let go of the stream (and the buffer it points into) now. */
  stream = g_mime_stream_mem_new ();
  g_mime_parser_init_with_stream (parser, stream);
  g_object_unref (stream);

  if (part == NULL)
    g_set_error (error, RS_ERROR, RS_ERROR_PROTOCOL,
                 _("The server sent message headers that cannot be read"));

  return part;
}

static GMimeHeader *
find_header (GMimeHeaderList *list,
             const char      *name)
{
  int count = g_mime_header_list_get_count (list);

  /* The first occurrence wins, as RFC 5322 allows one of each. */
  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (list, i);

      if (g_ascii_strcasecmp (g_mime_header_get_name (header), name) == 0)
        return header;
    }

  return NULL;
}

/* The value unfolded, without the decoding GMime applies for display. */
static char *
header_unfolded (GMimeHeaderList *list,
                 const char      *name)
{
  GMimeHeader *header = find_header (list, name);
  const char *raw;

  if (header == NULL)
    return NULL;

  raw = g_mime_header_get_raw_value (header);
  if (raw == NULL)
    raw = g_mime_header_get_value (header);
  if (raw == NULL)
    return NULL;

  return g_strstrip (g_mime_utils_header_unfold (raw));
}

static char *
decode_text (const char *unfolded)
{
  g_autofree char *decoded = NULL;

  if (unfolded == NULL)
    return NULL;

  decoded = g_mime_utils_header_decode_text (parser_options, unfolded);
  if (decoded == NULL)
    return NULL;

  return g_utf8_make_valid (g_strstrip (decoded), -1);
}

static void
read_from (RsReplyHeaders *headers,
           const char     *unfolded)
{
  InternetAddressList *list;

  if (unfolded == NULL)
    return;

  list = internet_address_list_parse (parser_options, unfolded);
  if (list == NULL)
    return;

  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);
      const char *name;

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));

          if (members == NULL || internet_address_list_length (members) == 0)
            continue;
          address = internet_address_list_get_address (members, 0);
        }

      if (!INTERNET_ADDRESS_IS_MAILBOX (address))
        continue;

      name = internet_address_get_name (address);
      if (name != NULL && name[0] != '\0')
        headers->from_name = g_utf8_make_valid (name, -1);
      headers->from_address = g_utf8_make_valid (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)), -1);
      break;
    }

  g_object_unref (list);
}

static char *
first_token_lower (const char *value)
{
  g_autofree char *copy = NULL;
  char *semicolon;

  if (value == NULL)
    return NULL;

  copy = g_strdup (value);
  semicolon = strchr (copy, ';');
  if (semicolon != NULL)
    *semicolon = '\0';

  return g_ascii_strdown (g_strstrip (copy), -1);
}

static void
set_automatic (RsReplyHeaders  *headers,
               RsAutomaticKind  kind,
               const char      *field,
               const char      *value)
{
  if (headers->is_automatic)
    return;

  headers->is_automatic = TRUE;
  headers->automatic_kind = kind;
  headers->automatic_why = g_strdup_printf ("%s: %s", field, value);
}

static void
classify_automatic (RsReplyHeaders  *headers,
                    GMimeHeaderList *list)
{
  g_autofree char *auto_submitted = header_unfolded (list, "Auto-Submitted");
  g_autofree char *precedence = header_unfolded (list, "Precedence");
  g_autofree char *content_type = header_unfolded (list, "Content-Type");
  g_autofree char *return_path = header_unfolded (list, "Return-Path");

  if (auto_submitted != NULL)
    {
      g_autofree char *token = first_token_lower (auto_submitted);

      /* RFC 3834: "no" is the only value meaning a person wrote it. */
      if (g_strcmp0 (token, "no") != 0)
        set_automatic (headers, RS_AUTOMATIC_AUTO_SUBMITTED, "Auto-Submitted", token);
    }

  if (precedence != NULL)
    {
      g_autofree char *token = first_token_lower (precedence);

      if (g_str_equal (token, "bulk") || g_str_equal (token, "junk") ||
          g_str_equal (token, "list") || g_str_equal (token, "auto_reply"))
        set_automatic (headers, RS_AUTOMATIC_PRECEDENCE, "Precedence", token);
    }

  if (content_type != NULL)
    {
      GMimeContentType *type = g_mime_content_type_parse (parser_options, content_type);

      if (type != NULL && g_mime_content_type_is_type (type, "multipart", "report"))
        set_automatic (headers, RS_AUTOMATIC_REPORT, "Content-Type", "multipart/report");
      g_clear_object (&type);
    }

  if (return_path != NULL)
    {
      InternetAddressList *addresses = internet_address_list_parse (parser_options, return_path);
      gboolean empty = TRUE;

      /* "<>" parses to no mailbox or to one with an empty addr-spec. */
      for (int i = 0; addresses != NULL && i < internet_address_list_length (addresses); i++)
        {
          InternetAddress *address = internet_address_list_get_address (addresses, i);

          if (INTERNET_ADDRESS_IS_MAILBOX (address))
            {
              const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));

              if (addr != NULL && addr[0] != '\0')
                empty = FALSE;
            }
        }

      if (empty && strchr (return_path, '@') == NULL)
        set_automatic (headers, RS_AUTOMATIC_NULL_RETURN_PATH, "Return-Path", "<>");
      g_clear_object (&addresses);
    }
}

/* A reply without a Message-ID still needs a stable identity, or the
 * same reply found again after a UIDVALIDITY change would be reported
 * twice.  It is derived from what the sender wrote, not from anything
 * the server adds. */
static char *
synthesize_message_id (const RsReplyHeaders *headers)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *date = headers->date ? g_date_time_format_iso8601 (headers->date) : NULL;
  const char *parts[] = {
    headers->from_address, date, headers->subject,
    headers->in_reply_to->len > 0 ? g_ptr_array_index (headers->in_reply_to, 0) : NULL,
    headers->references->len > 0 ? g_ptr_array_index (headers->references, headers->references->len - 1) : NULL,
  };
  g_autofree char *hex = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      const char *part = parts[i] ? parts[i] : "";

      g_checksum_update (checksum, (const guchar *) part, strlen (part));
      g_checksum_update (checksum, (const guchar *) "\n", 1);
    }

  hex = g_strndup (g_checksum_get_string (checksum), 32);

  return g_strdup_printf ("%s@no-message-id.invalid", hex);
}

/**
 * rs_reply_headers_parse:
 * @data: a header block, as `BODY.PEEK[HEADER.FIELDS (…)]` returns it
 * @length: its length in bytes
 * @error: return location for an error
 *
 * Parses the fields a reply is matched and reported on.  Missing fields
 * are %NULL (or empty lists); a missing Message-ID is replaced by one
 * derived from the other fields (see @message_id_synthesized).
 *
 * Returns: (transfer full) (nullable): the headers, or %NULL with
 *   %RS_ERROR_PROTOCOL when GMime cannot read the block at all
 */
RsReplyHeaders *
rs_reply_headers_parse (const char  *data,
                        gsize        length,
                        GError     **error)
{
  g_autoptr(RsReplyHeaders) headers = NULL;
  GMimeObject *part;
  GMimeHeaderList *list;
  g_autofree char *message_id = NULL;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *references = NULL;
  g_autofree char *from = NULL;
  g_autofree char *date = NULL;
  g_autofree char *subject = NULL;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  part = parse_block (data ? data : "", length, error);
  if (part == NULL)
    return NULL;

  list = g_mime_object_get_header_list (part);
  message_id = header_unfolded (list, "Message-ID");
  in_reply_to = header_unfolded (list, "In-Reply-To");
  references = header_unfolded (list, "References");
  from = header_unfolded (list, "From");
  date = header_unfolded (list, "Date");
  subject = header_unfolded (list, "Subject");

  headers = g_new0 (RsReplyHeaders, 1);
  headers->message_id = rs_message_id_normalize (message_id);
  headers->in_reply_to = parse_references (in_reply_to);
  headers->references = parse_references (references);
  read_from (headers, from);
  if (date != NULL)
    headers->date = g_mime_utils_header_decode_date (date);
  headers->subject = decode_text (subject);
  classify_automatic (headers, list);

  if (headers->message_id == NULL)
    {
      headers->message_id = synthesize_message_id (headers);
      headers->message_id_synthesized = TRUE;
    }

  g_object_unref (part);

  return g_steal_pointer (&headers);
}

static gboolean
hash_table_lookup_cb (const char *message_id,
                      gpointer    user_data)
{
  return g_hash_table_contains (user_data, message_id);
}

static gboolean
is_own_address (const char         *address,
                const char * const *own_addresses)
{
  g_autofree char *folded = NULL;

  if (address == NULL || own_addresses == NULL)
    return FALSE;

  folded = g_utf8_casefold (address, -1);

  for (guint i = 0; own_addresses[i] != NULL; i++)
    {
      g_autofree char *own = g_utf8_casefold (own_addresses[i], -1);

      if (g_str_equal (folded, own))
        return TRUE;
    }

  return FALSE;
}

static const char *
find_tracked (GPtrArray           *in_reply_to,
              GPtrArray           *references,
              RsTrackedLookupFunc  lookup,
              gpointer             user_data)
{
  /* In-Reply-To names the parent; References the whole thread, the
   * parent last. */
  for (guint i = 0; in_reply_to != NULL && i < in_reply_to->len; i++)
    {
      const char *id = g_ptr_array_index (in_reply_to, i);

      if (lookup (id, user_data))
        return id;
    }

  for (guint i = references ? references->len : 0; i > 0; i--)
    {
      const char *id = g_ptr_array_index (references, i - 1);

      if (lookup (id, user_data))
        return id;
    }

  return NULL;
}

/**
 * rs_reply_match_with_func:
 * @headers: parsed headers
 * @lookup: tells whether a Message-ID is tracked
 * @user_data: passed to @lookup
 * @own_addresses: (nullable) (array zero-terminated=1): the account's
 *   own addresses
 *
 * Decides whether @headers belong to a reply to a tracked message.
 * Automatic mail, the user's own copies (From one of @own_addresses) and
 * the tracked messages themselves are never replies.
 *
 * Returns: (nullable) (transfer none): the tracked Message-ID answered,
 *   owned by @headers, or %NULL
 */
const char *
rs_reply_match_with_func (const RsReplyHeaders *headers,
                          RsTrackedLookupFunc   lookup,
                          gpointer              user_data,
                          const char * const   *own_addresses)
{
  g_return_val_if_fail (headers != NULL, NULL);
  g_return_val_if_fail (lookup != NULL, NULL);

  if (headers->is_automatic)
    return NULL;

  if (is_own_address (headers->from_address, own_addresses))
    return NULL;

  /* A copy of what we sent (Bcc to self, a Sent folder) is no reply. */
  if (!headers->message_id_synthesized && lookup (headers->message_id, user_data))
    return NULL;

  return find_tracked (headers->in_reply_to, headers->references, lookup, user_data);
}

/**
 * rs_reply_match:
 * @headers: parsed headers
 * @tracked: (element-type utf8 utf8): a set of tracked Message-IDs
 * @own_addresses: (nullable) (array zero-terminated=1): the account's
 *   own addresses
 *
 * rs_reply_match_with_func() with a hash table as the tracked set.
 *
 * Returns: (nullable) (transfer none): the tracked Message-ID answered
 */
const char *
rs_reply_match (const RsReplyHeaders *headers,
                GHashTable           *tracked,
                const char * const   *own_addresses)
{
  g_return_val_if_fail (headers != NULL, NULL);
  g_return_val_if_fail (tracked != NULL, NULL);

  return rs_reply_match_with_func (headers, hash_table_lookup_cb, tracked, own_addresses);
}

/**
 * rs_reply_match_threading_only:
 * @in_reply_to_raw: (nullable): the In-Reply-To value as received
 * @references_raw: (nullable): the References value as received
 * @tracked: (element-type utf8 utf8): a set of tracked Message-IDs
 *
 * The cheap first pass: decides from the threading fields alone whether
 * a message deserves the full header fetch.  Automatic mail and own
 * copies are only recognised after that fetch.
 *
 * Returns: (transfer full) (nullable): the tracked Message-ID it may
 *   answer, or %NULL
 */
char *
rs_reply_match_threading_only (const char *in_reply_to_raw,
                               const char *references_raw,
                               GHashTable *tracked)
{
  g_autoptr(GPtrArray) in_reply_to = NULL;
  g_autoptr(GPtrArray) references = NULL;
  g_autofree char *irt = NULL;
  g_autofree char *refs = NULL;

  g_return_val_if_fail (tracked != NULL, NULL);

  if (g_hash_table_size (tracked) == 0)
    return NULL;

  rs_gmime_ensure_init ();

  if (in_reply_to_raw != NULL)
    irt = g_mime_utils_header_unfold (in_reply_to_raw);
  if (references_raw != NULL)
    refs = g_mime_utils_header_unfold (references_raw);

  in_reply_to = parse_references (irt);
  references = parse_references (refs);

  return g_strdup (find_tracked (in_reply_to, references, hash_table_lookup_cb, tracked));
}

/**
 * rs_reply_match_threading_block:
 * @data: the header block of `BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO REFERENCES)]`
 * @length: its length
 * @tracked: (element-type utf8 utf8): a set of tracked Message-IDs
 *
 * rs_reply_match_threading_only() on a fetched header block.
 *
 * Returns: (transfer full) (nullable): the tracked Message-ID it may
 *   answer, or %NULL
 */
char *
rs_reply_match_threading_block (const char *data,
                                gsize       length,
                                GHashTable *tracked)
{
  GMimeObject *part;
  GMimeHeaderList *list;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *references = NULL;

  g_return_val_if_fail (tracked != NULL, NULL);

  if (g_hash_table_size (tracked) == 0 || length == 0)
    return NULL;

  part = parse_block (data, length, NULL);
  if (part == NULL)
    return NULL;

  list = g_mime_object_get_header_list (part);
  in_reply_to = header_unfolded (list, "In-Reply-To");
  references = header_unfolded (list, "References");
  g_object_unref (part);

  return rs_reply_match_threading_only (in_reply_to, references, tracked);
}
