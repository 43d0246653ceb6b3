/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-imap-parser"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-error.h"
#include "rs-imap-parser.h"

typedef enum
{
  FRAME_LINE,
  FRAME_LITERAL,
} FrameState;

struct _RsImapParser
{
  RsImapLimits  limits;
  GByteArray   *buffer;           /* the response being framed */
  gsize         line_start;       /* offset of the current line in buffer */
  FrameState    state;
  gsize         literal_left;
  gboolean      failed;
};

typedef struct
{
  const RsImapLimits *limits;
  const char         *start;
  const char         *p;
  const char         *end;
  guint               n_items;
} Lexer;

typedef enum
{
  ARG_STRING,       /* sent as a quoted string or a literal */
  ARG_SECRET,       /* the same, but never logged and wiped after use */
  ARG_RAW,          /* built and validated by this file only */
  ARG_STRING_LIST,  /* ("a" "b" …) */
  ARG_SECRET_RAW,   /* a secret sent as it is: base64 of a SASL response */
} ArgKind;

typedef struct
{
  ArgKind   kind;
  char     *value;
  GStrv     list;
} Arg;

struct _RsImapCommand
{
  char      *name;
  GPtrArray *args;
  char      *continuation;   /* a line sent after the server's "+", secret */
};

/* Header fields a header-only fetch may ask for: reply matching
 * (RFC 5322 §3.6.4) and recognising automatic mail (RFC 3834).  Nothing
 * here can name a body part. */
static const char * const allowed_header_fields[] = {
  "Message-ID",
  "In-Reply-To",
  "References",
  "From",
  "Sender",
  "Reply-To",
  "To",
  "Cc",
  "Subject",
  "Date",
  "Auto-Submitted",
  "Precedence",
  "Content-Type",
  "Return-Path",
  "List-Id",
  "X-Autoreply",
  "X-Autorespond",
  NULL
};

/* Codes whose arguments are IMAP values; any other code keeps its
 * arguments as one string (RFC 3501: atom [SP 1*<TEXT-CHAR except "]">]). */
static const char * const structured_codes[] = {
  "CAPABILITY",
  "PERMANENTFLAGS",
  "BADCHARSET",
  "UIDVALIDITY",
  "UIDNEXT",
  "UNSEEN",
  "HIGHESTMODSEQ",
  "APPENDUID",
  "COPYUID",
  NULL
};

static char *
excerpt (const char *data,
         gsize       len)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *valid = NULL;

  len = MIN (len, 160);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = data[i];

      if (c == '\r' || c == '\n')
        break;
      g_string_append_c (out, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
    }

  valid = g_utf8_make_valid (out->str, out->len);

  return g_steal_pointer (&valid);
}

static void
set_protocol_error (GError     **error,
                    const char  *line,
                    gsize        line_len,
                    const char  *detail)
{
  GError *local;

  local = g_error_new (RS_ERROR, RS_ERROR_PROTOCOL,
                       /* Translators: %s is a technical detail in English */
                       _("The mail server sent a response that could not be understood (%s)"),
                       detail);
  rs_error_set_service (local, RS_SERVICE_IMAP);
  if (line != NULL && line_len > 0)
    {
      g_autofree char *text = excerpt (line, line_len);

      rs_error_set_server_text (local, text);
    }

  g_propagate_error (error, local);
}

void
rs_imap_limits_init_default (RsImapLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_line_length = RS_IMAP_DEFAULT_MAX_LINE_LENGTH;
  limits->max_literal_size = RS_IMAP_DEFAULT_MAX_LITERAL_SIZE;
  limits->max_response_size = RS_IMAP_DEFAULT_MAX_RESPONSE_SIZE;
  limits->max_depth = RS_IMAP_DEFAULT_MAX_DEPTH;
  limits->max_items = RS_IMAP_DEFAULT_MAX_ITEMS;
}

/* ---------------------------------------------------------------- values */

void
rs_imap_value_free (RsImapValue *value)
{
  if (value == NULL)
    return;

  g_free (value->str);
  g_clear_pointer (&value->children, g_ptr_array_unref);
  g_free (value);
}

guint
rs_imap_value_get_n_items (const RsImapValue *value)
{
  if (value == NULL || value->type != RS_IMAP_VALUE_LIST)
    return 0;

  return value->children->len;
}

/**
 * rs_imap_value_get_item:
 *
 * Returns: (transfer none) (nullable): the item at @index of a list
 */
RsImapValue *
rs_imap_value_get_item (const RsImapValue *value,
                        guint              index)
{
  if (value == NULL || value->type != RS_IMAP_VALUE_LIST || index >= value->children->len)
    return NULL;

  return g_ptr_array_index (value->children, index);
}

gboolean
rs_imap_value_is_atom (const RsImapValue *value,
                       const char        *atom)
{
  g_return_val_if_fail (atom != NULL, FALSE);

  return value != NULL
         && value->type == RS_IMAP_VALUE_ATOM
         && g_ascii_strcasecmp (value->str, atom) == 0;
}

/**
 * rs_imap_value_get_text:
 *
 * Returns: (nullable): the text of an atom, number or string; %NULL for
 *   NIL and lists
 */
const char *
rs_imap_value_get_text (const RsImapValue *value)
{
  if (value == NULL)
    return NULL;

  switch (value->type)
    {
    case RS_IMAP_VALUE_ATOM:
    case RS_IMAP_VALUE_NUMBER:
    case RS_IMAP_VALUE_STRING:
      return value->str;
    case RS_IMAP_VALUE_NIL:
    case RS_IMAP_VALUE_LIST:
    default:
      return NULL;
    }
}

void
rs_imap_response_free (RsImapResponse *response)
{
  if (response == NULL)
    return;

  g_free (response->tag);
  g_free (response->code);
  g_clear_pointer (&response->code_args, rs_imap_value_free);
  g_free (response->text);
  g_clear_pointer (&response->data, rs_imap_value_free);
  g_free (response);
}

/* ----------------------------------------------------------------- lexer */

static gboolean
lexer_fail (Lexer       *lex,
            GError     **error,
            const char  *detail)
{
  /* Show the line the problem is on. */
  const char *line = lex->p;

  while (line > lex->start && line[-1] != '\n')
    line--;

  set_protocol_error (error, line, lex->end - line, detail);

  return FALSE;
}

static gboolean
lexer_at_eol (const Lexer *lex)
{
  return lex->end - lex->p >= 2 && lex->p[0] == '\r' && lex->p[1] == '\n';
}

static RsImapValue *
value_new (Lexer            *lex,
           RsImapValueType   type,
           GError          **error)
{
  RsImapValue *value;

  if (++lex->n_items > lex->limits->max_items)
    {
      lexer_fail (lex, error, "too many items");
      return NULL;
    }

  value = g_new0 (RsImapValue, 1);
  value->type = type;
  if (type == RS_IMAP_VALUE_LIST)
    value->children = g_ptr_array_new_with_free_func ((GDestroyNotify)rs_imap_value_free);

  return value;
}

static gboolean
is_atom_char (guchar c)
{
  if (c <= 0x20 || c == 0x7f)
    return FALSE;

  switch (c)
    {
    case '(':
    case ')':
    case '{':
    case '"':
    case ']':
      return FALSE;
    default:
      return TRUE;
    }
}

/* An atom, possibly with a section in brackets: BODY[HEADER.FIELDS (A B)]<0>. */
static gboolean
lex_atom (Lexer  *lex,
          gsize  *len)
{
  const char *start = lex->p;

  while (lex->p < lex->end)
    {
      guchar c = *lex->p;

      if (c == '[')
        {
          const char *close = memchr (lex->p, ']', lex->end - lex->p);
          const char *eol = memchr (lex->p, '\r', lex->end - lex->p);

          if (close == NULL || (eol != NULL && eol < close))
            break;
          lex->p = close + 1;
          continue;
        }

      if (!is_atom_char (c))
        break;

      lex->p++;
    }

  *len = lex->p - start;

  return *len > 0;
}

static RsImapValue *parse_value (Lexer   *lex,
                                 guint    depth,
                                 GError **error);

static RsImapValue *
parse_quoted (Lexer   *lex,
              GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  RsImapValue *value;

  g_assert (*lex->p == '"');
  lex->p++;

  for (;;)
    {
      guchar c;

      if (lex->p >= lex->end)
        return lexer_fail (lex, error, "unterminated quoted string"), NULL;

      c = *lex->p++;

      if (c == '"')
        break;

      if (c == '\r' || c == '\n' || c == '\0')
        return lexer_fail (lex, error, "unterminated quoted string"), NULL;

      if (c == '\\')
        {
          if (lex->p >= lex->end || (*lex->p != '\\' && *lex->p != '"'))
            return lexer_fail (lex, error, "bad escape in quoted string"), NULL;
          c = *lex->p++;
        }

      g_string_append_c (out, (char)c);
    }

  value = value_new (lex, RS_IMAP_VALUE_STRING, error);
  if (value == NULL)
    return NULL;

  value->len = out->len;
  value->str = g_string_free (g_steal_pointer (&out), FALSE);

  return value;
}

static RsImapValue *
parse_literal (Lexer   *lex,
               GError **error)
{
  gboolean binary = FALSE;
  guint64 size = 0;
  guint digits = 0;
  RsImapValue *value;

  if (*lex->p == '~')
    {
      binary = TRUE;
      lex->p++;
      if (lex->p >= lex->end || *lex->p != '{')
        return lexer_fail (lex, error, "bad literal8"), NULL;
    }

  g_assert (*lex->p == '{');
  lex->p++;

  while (lex->p < lex->end && g_ascii_isdigit (*lex->p))
    {
      if (++digits > 10)
        return lexer_fail (lex, error, "literal too large"), NULL;
      size = size * 10 + (guint64)(*lex->p - '0');
      lex->p++;
    }

  if (digits == 0 || lex->end - lex->p < 3
      || lex->p[0] != '}' || lex->p[1] != '\r' || lex->p[2] != '\n')
    return lexer_fail (lex, error, "bad literal"), NULL;
  lex->p += 3;

  if (size > lex->limits->max_literal_size)
    return lexer_fail (lex, error, "literal too large"), NULL;

  if ((guint64)(lex->end - lex->p) < size)
    return lexer_fail (lex, error, "literal shorter than announced"), NULL;

  if (!binary && memchr (lex->p, '\0', size) != NULL)
    return lexer_fail (lex, error, "NUL in literal"), NULL;

  value = value_new (lex, RS_IMAP_VALUE_STRING, error);
  if (value == NULL)
    return NULL;

  value->str = g_malloc (size + 1);
  memcpy (value->str, lex->p, size);
  value->str[size] = '\0';
  value->len = size;
  value->is_literal = TRUE;
  value->is_literal8 = binary;
  lex->p += size;

  return value;
}

static RsImapValue *
parse_list (Lexer   *lex,
            guint    depth,
            GError **error)
{
  g_autoptr(RsImapValue) list = NULL;

  g_assert (*lex->p == '(');

  if (depth + 1 > MIN (lex->limits->max_depth, RS_IMAP_MAX_DEPTH_CAP))
    return lexer_fail (lex, error, "lists nested too deeply"), NULL;

  list = value_new (lex, RS_IMAP_VALUE_LIST, error);
  if (list == NULL)
    return NULL;

  lex->p++;

  for (;;)
    {
      RsImapValue *item;

      while (lex->p < lex->end && *lex->p == ' ')
        lex->p++;

      if (lex->p >= lex->end)
        return lexer_fail (lex, error, "unterminated list"), NULL;

      if (*lex->p == ')')
        {
          lex->p++;
          break;
        }

      item = parse_value (lex, depth + 1, error);
      if (item == NULL)
        return NULL;
      g_ptr_array_add (list->children, item);

      if (lex->p < lex->end && *lex->p != ' ' && *lex->p != ')')
        return lexer_fail (lex, error, "unexpected character in list"), NULL;
    }

  return g_steal_pointer (&list);
}

static RsImapValue *
parse_value (Lexer   *lex,
             guint    depth,
             GError **error)
{
  RsImapValue *value;
  const char *start;
  gsize len;

  if (lex->p >= lex->end)
    return lexer_fail (lex, error, "unexpected end"), NULL;

  switch (*lex->p)
    {
    case '(':
      return parse_list (lex, depth, error);
    case '"':
      return parse_quoted (lex, error);
    case '{':
      return parse_literal (lex, error);
    case '~':
      if (lex->end - lex->p > 1 && lex->p[1] == '{')
        return parse_literal (lex, error);
      break;
    default:
      break;
    }

  start = lex->p;
  if (!lex_atom (lex, &len))
    return lexer_fail (lex, error, "unexpected character"), NULL;

  if (len == 3 && g_ascii_strncasecmp (start, "NIL", 3) == 0)
    return value_new (lex, RS_IMAP_VALUE_NIL, error);

  value = NULL;
  if (len <= 20)
    {
      guint64 number = 0;
      gboolean digits = TRUE;

      for (gsize i = 0; i < len && digits; i++)
        {
          if (!g_ascii_isdigit (start[i]) || number > (G_MAXUINT64 - 9) / 10)
            digits = FALSE;
          else
            number = number * 10 + (guint64)(start[i] - '0');
        }

      if (digits)
        {
          value = value_new (lex, RS_IMAP_VALUE_NUMBER, error);
          if (value == NULL)
            return NULL;
          value->number = number;
        }
    }

  if (value == NULL)
    {
      value = value_new (lex, RS_IMAP_VALUE_ATOM, error);
      if (value == NULL)
        return NULL;
    }

  value->str = g_strndup (start, len);
  value->len = len;

  return value;
}

/* Everything up to the end of the line; the response must end there. */
static gboolean
parse_text (Lexer   *lex,
            char   **text,
            GError **error)
{
  const char *start = lex->p;
  const char *cr = memchr (lex->p, '\r', lex->end - lex->p);

  if (cr == NULL || cr + 2 != lex->end || cr[1] != '\n')
    return lexer_fail (lex, error, "unexpected data after text");

  for (const char *q = start; q < cr; q++)
    if (*q == '\0' || *q == '\n')
      return lexer_fail (lex, error, "control character in text");

  *text = g_utf8_make_valid (start, cr - start);
  lex->p = lex->end;

  return TRUE;
}

/* resp-text = ["[" resp-text-code "]" SP] text */
static gboolean
parse_resp_text (Lexer           *lex,
                 RsImapResponse  *response,
                 GError         **error)
{
  if (lex->p < lex->end && *lex->p == '[')
    {
      const char *start;
      gsize len = 0;

      lex->p++;
      start = lex->p;
      while (lex->p < lex->end && is_atom_char (*lex->p) && *lex->p != '[')
        lex->p++;
      len = lex->p - start;
      if (len == 0)
        return lexer_fail (lex, error, "empty response code");

      response->code = g_ascii_strup (start, len);

      if (lex->p < lex->end && *lex->p == ' ')
        {
          g_autoptr(RsImapValue) args = value_new (lex, RS_IMAP_VALUE_LIST, error);

          if (args == NULL)
            return FALSE;

          lex->p++;

          if (g_strv_contains (structured_codes, response->code))
            {
              for (;;)
                {
                  RsImapValue *item;

                  while (lex->p < lex->end && *lex->p == ' ')
                    lex->p++;
                  if (lex->p < lex->end && *lex->p == ']')
                    break;
                  if (lex->p >= lex->end || lexer_at_eol (lex))
                    return lexer_fail (lex, error, "unterminated response code");
                  item = parse_value (lex, 0, error);
                  if (item == NULL)
                    return FALSE;
                  g_ptr_array_add (args->children, item);
                }
            }
          else
            {
              RsImapValue *item;

              start = lex->p;
              while (lex->p < lex->end && *lex->p != ']' && *lex->p != '\r' && *lex->p != '\n')
                lex->p++;

              item = value_new (lex, RS_IMAP_VALUE_STRING, error);
              if (item == NULL)
                return FALSE;
              item->str = g_utf8_make_valid (start, lex->p - start);
              item->len = strlen (item->str);
              g_ptr_array_add (args->children, item);
            }

          response->code_args = g_steal_pointer (&args);
        }

      if (lex->p >= lex->end || *lex->p != ']')
        return lexer_fail (lex, error, "unterminated response code");
      lex->p++;

      if (lex->p < lex->end && *lex->p == ' ')
        lex->p++;
    }

  return parse_text (lex, &response->text, error);
}

static gboolean
read_word (Lexer       *lex,
           const char **word,
           gsize       *len)
{
  *word = lex->p;
  while (lex->p < lex->end && is_atom_char (*lex->p) && *lex->p != '[')
    lex->p++;
  *len = lex->p - *word;

  return *len > 0;
}

static RsImapStatus
status_from_word (const char *word,
                  gsize       len)
{
  static const struct {
    const char   *name;
    RsImapStatus  status;
  } names[] = {
    { "OK", RS_IMAP_STATUS_OK },
    { "NO", RS_IMAP_STATUS_NO },
    { "BAD", RS_IMAP_STATUS_BAD },
    { "PREAUTH", RS_IMAP_STATUS_PREAUTH },
    { "BYE", RS_IMAP_STATUS_BYE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strlen (names[i].name) == len && g_ascii_strncasecmp (word, names[i].name, len) == 0)
      return names[i].status;

  return RS_IMAP_STATUS_NONE;
}

/* After a status word: nothing, or a space and resp-text. */
static gboolean
parse_status_rest (Lexer           *lex,
                   RsImapResponse  *response,
                   GError         **error)
{
  if (lexer_at_eol (lex) && lex->p + 2 == lex->end)
    {
      response->text = g_strdup ("");
      return TRUE;
    }

  if (lex->p >= lex->end || *lex->p != ' ')
    return lexer_fail (lex, error, "expected a space");
  lex->p++;

  return parse_resp_text (lex, response, error);
}

static gboolean
parse_untagged_data (Lexer           *lex,
                     RsImapResponse  *response,
                     const char      *first,
                     gsize            first_len,
                     GError         **error)
{
  g_autoptr(RsImapValue) data = NULL;

  /* Re-read the first word as a value (it may be a number: "* 3 EXISTS"). */
  lex->p = first;
  data = value_new (lex, RS_IMAP_VALUE_LIST, error);
  if (data == NULL)
    return FALSE;

  for (;;)
    {
      RsImapValue *item = parse_value (lex, 0, error);

      if (item == NULL)
        return FALSE;
      g_ptr_array_add (data->children, item);

      if (lexer_at_eol (lex))
        break;
      if (lex->p >= lex->end || *lex->p != ' ')
        return lexer_fail (lex, error, "expected a space");
      while (lex->p < lex->end && *lex->p == ' ')
        lex->p++;
      /* Some servers end a line with a space ("* SEARCH "). */
      if (lexer_at_eol (lex))
        break;
    }

  if (lex->p + 2 != lex->end)
    return lexer_fail (lex, error, "unexpected data after response");

  response->data = g_steal_pointer (&data);

  return TRUE;
}

/**
 * rs_imap_parse_response:
 * @data: one complete response: a line ending in CRLF, with any literal
 *   ({N}CRLF and N bytes) inline
 * @limits: (nullable): limits, or %NULL for the defaults
 *
 * Returns: (transfer full) (nullable): the response, or %NULL with
 *   RS_ERROR_PROTOCOL set
 */
RsImapResponse *
rs_imap_parse_response (const char          *data,
                        gsize                len,
                        const RsImapLimits  *limits,
                        GError             **error)
{
  g_autoptr(RsImapResponse) response = NULL;
  RsImapLimits default_limits;
  Lexer lex;
  const char *word;
  gsize word_len;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (limits == NULL)
    {
      rs_imap_limits_init_default (&default_limits);
      limits = &default_limits;
    }

  lex.limits = limits;
  lex.start = data;
  lex.p = data;
  lex.end = data + len;
  lex.n_items = 0;

  if (len < 3 || data[len - 2] != '\r' || data[len - 1] != '\n')
    return lexer_fail (&lex, error, "response does not end a line"), NULL;

  response = g_new0 (RsImapResponse, 1);

  if (*lex.p == '+')
    {
      response->kind = RS_IMAP_RESPONSE_CONTINUATION;
      lex.p++;
      if (lex.p < lex.end && *lex.p == ' ')
        lex.p++;
      if (!parse_resp_text (&lex, response, error))
        return NULL;
      return g_steal_pointer (&response);
    }

  if (*lex.p == '*')
    {
      response->kind = RS_IMAP_RESPONSE_UNTAGGED;
      lex.p++;
      if (lex.p >= lex.end || *lex.p != ' ')
        return lexer_fail (&lex, error, "expected a space"), NULL;
      lex.p++;

      if (!read_word (&lex, &word, &word_len))
        return lexer_fail (&lex, error, "expected a response name"), NULL;

      response->status = status_from_word (word, word_len);
      if (response->status != RS_IMAP_STATUS_NONE)
        {
          if (!parse_status_rest (&lex, response, error))
            return NULL;
        }
      else if (!parse_untagged_data (&lex, response, word, word_len, error))
        return NULL;

      return g_steal_pointer (&response);
    }

  response->kind = RS_IMAP_RESPONSE_TAGGED;
  word = lex.p;
  while (lex.p < lex.end && is_atom_char (*lex.p) && *lex.p != '+' && *lex.p != '[')
    lex.p++;
  word_len = lex.p - word;
  if (word_len == 0 || lex.p >= lex.end || *lex.p != ' ')
    return lexer_fail (&lex, error, "expected a tag"), NULL;
  response->tag = g_strndup (word, word_len);
  lex.p++;

  if (!read_word (&lex, &word, &word_len))
    return lexer_fail (&lex, error, "expected a status"), NULL;
  response->status = status_from_word (word, word_len);
  if (response->status != RS_IMAP_STATUS_OK
      && response->status != RS_IMAP_STATUS_NO
      && response->status != RS_IMAP_STATUS_BAD)
    return lexer_fail (&lex, error, "tagged response without OK, NO or BAD"), NULL;

  if (!parse_status_rest (&lex, response, error))
    return NULL;

  return g_steal_pointer (&response);
}

/* ---------------------------------------------------------------- framer */

/**
 * rs_imap_parser_new:
 * @limits: (nullable): bounds on what one response may hold, or %NULL
 *   for the defaults
 */
RsImapParser *
rs_imap_parser_new (const RsImapLimits *limits)
{
  RsImapParser *self = g_new0 (RsImapParser, 1);

  if (limits != NULL)
    self->limits = *limits;
  else
    rs_imap_limits_init_default (&self->limits);

  self->buffer = g_byte_array_new ();

  return self;
}

void
rs_imap_parser_free (RsImapParser *self)
{
  if (self == NULL)
    return;

  g_byte_array_unref (self->buffer);
  g_free (self);
}

/**
 * rs_imap_parser_reset:
 *
 * Forgets any partial response (after STARTTLS nothing read before the
 * handshake may survive) and clears a previous failure.
 */
void
rs_imap_parser_reset (RsImapParser *self)
{
  g_return_if_fail (self != NULL);

  g_byte_array_set_size (self->buffer, 0);
  /* Give back memory a large response may have taken. */
  if (self->buffer->len == 0)
    {
      g_byte_array_unref (self->buffer);
      self->buffer = g_byte_array_new ();
    }
  self->line_start = 0;
  self->state = FRAME_LINE;
  self->literal_left = 0;
  self->failed = FALSE;
}

gsize
rs_imap_parser_get_buffered_size (const RsImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->buffer->len;
}

const RsImapLimits *
rs_imap_parser_get_limits (const RsImapParser *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return &self->limits;
}

static gboolean
parser_fail (RsImapParser  *self,
             GError       **error,
             const char    *detail)
{
  const char *line = (const char *)self->buffer->data + self->line_start;
  gsize line_len = self->buffer->len - self->line_start;

  set_protocol_error (error, line, line_len, detail);
  self->failed = TRUE;
  g_byte_array_set_size (self->buffer, 0);
  self->line_start = 0;

  return FALSE;
}

/* A line ending in {N}CRLF or ~{N}CRLF announces a literal. */
static gboolean
find_literal (const guint8 *line,
              gsize         len,
              gboolean     *announced,
              guint64      *size)
{
  gsize i;
  guint digits = 0;
  guint64 value = 0;
  guint64 scale = 1;

  *announced = FALSE;

  if (len < 5 || line[len - 3] != '}')
    return TRUE;

  i = len - 4;
  while (i > 0 && g_ascii_isdigit (line[i]))
    {
      if (++digits > 10)
        return FALSE;
      value += (guint64)(line[i] - '0') * scale;
      scale *= 10;
      i--;
    }

  if (digits == 0 || line[i] != '{')
    return TRUE;

  *announced = TRUE;
  *size = value;

  return TRUE;
}

/**
 * rs_imap_parser_feed:
 * @data: bytes read from the server
 * @consumed: (out): how many of @data were used; the rest belongs to the
 *   next response
 * @response: (out) (transfer full) (nullable): a complete response, or
 *   %NULL when more bytes are needed
 *
 * Feeds bytes until one response is complete.  Whatever the server sends,
 * the parser holds at most limits.max_response_size bytes.
 *
 * Returns: %FALSE with RS_ERROR_PROTOCOL when the server broke the
 *   protocol or a limit; the parser then refuses input until reset
 */
gboolean
rs_imap_parser_feed (RsImapParser     *self,
                     const guint8     *data,
                     gsize             len,
                     gsize            *consumed,
                     RsImapResponse  **response,
                     GError          **error)
{
  gsize i = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (consumed != NULL, FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  *consumed = 0;
  *response = NULL;

  if (self->failed)
    return parser_fail (self, error, "earlier error");

  while (i < len)
    {
      const guint8 *nl;
      const guint8 *line;
      gsize n, line_len;
      gboolean announced;
      guint64 size = 0;

      if (self->state == FRAME_LITERAL)
        {
          n = MIN (len - i, self->literal_left);
          if (self->buffer->len + n > self->limits.max_response_size)
            {
              *consumed = i;
              return parser_fail (self, error, "response too large");
            }
          g_byte_array_append (self->buffer, data + i, n);
          i += n;
          self->literal_left -= n;
          if (self->literal_left == 0)
            {
              self->state = FRAME_LINE;
              self->line_start = self->buffer->len;
            }
          continue;
        }

      nl = memchr (data + i, '\n', len - i);
      n = (nl != NULL ? (gsize)(nl - data) + 1 : len) - i;

      if (self->buffer->len - self->line_start + n > self->limits.max_line_length)
        {
          *consumed = i;
          return parser_fail (self, error, "line too long");
        }
      if (self->buffer->len + n > self->limits.max_response_size)
        {
          *consumed = i;
          return parser_fail (self, error, "response too large");
        }

      g_byte_array_append (self->buffer, data + i, n);
      i += n;

      if (nl == NULL)
        break;

      line = self->buffer->data + self->line_start;
      line_len = self->buffer->len - self->line_start;

      if (line_len < 2 || line[line_len - 2] != '\r')
        {
          *consumed = i;
          return parser_fail (self, error, "line does not end in CRLF");
        }

      if (!find_literal (line, line_len, &announced, &size))
        {
          *consumed = i;
          return parser_fail (self, error, "literal too large");
        }

      if (announced)
        {
          if (size > self->limits.max_literal_size
              || self->buffer->len + size > self->limits.max_response_size)
            {
              *consumed = i;
              return parser_fail (self, error, "literal too large");
            }

          self->literal_left = size;
          self->state = size > 0 ? FRAME_LITERAL : FRAME_LINE;
          self->line_start = self->buffer->len;
          continue;
        }

      /* The response is complete. */
      *consumed = i;
      *response = rs_imap_parse_response ((const char *)self->buffer->data,
                                          self->buffer->len,
                                          &self->limits,
                                          error);
      if (self->buffer->len > 64 * 1024)
        {
          g_byte_array_unref (self->buffer);
          self->buffer = g_byte_array_new ();
        }
      else
        g_byte_array_set_size (self->buffer, 0);
      self->line_start = 0;

      if (*response == NULL)
        {
          self->failed = TRUE;
          return FALSE;
        }

      return TRUE;
    }

  *consumed = i;

  return TRUE;
}

/* -------------------------------------------------------------- commands */

static void
arg_free (gpointer data)
{
  Arg *arg = data;

  if (arg->value != NULL)
    {
      explicit_bzero (arg->value, strlen (arg->value));
      g_free (arg->value);
    }
  g_strfreev (arg->list);
  g_free (arg);
}

static RsImapCommand *
command_new (const char *name)
{
  RsImapCommand *command = g_new0 (RsImapCommand, 1);

  command->name = g_strdup (name);
  command->args = g_ptr_array_new_with_free_func (arg_free);

  return command;
}

static void
command_add (RsImapCommand *command,
             ArgKind        kind,
             const char    *value)
{
  Arg *arg = g_new0 (Arg, 1);

  arg->kind = kind;
  arg->value = g_strdup (value);
  g_ptr_array_add (command->args, arg);
}

void
rs_imap_command_free (RsImapCommand *command)
{
  if (command == NULL)
    return;

  g_free (command->name);
  g_ptr_array_unref (command->args);
  if (command->continuation != NULL)
    {
      explicit_bzero (command->continuation, strlen (command->continuation));
      g_free (command->continuation);
    }
  g_free (command);
}

RsImapCommand *
rs_imap_command_capability (void)
{
  return command_new ("CAPABILITY");
}

RsImapCommand *
rs_imap_command_noop (void)
{
  return command_new ("NOOP");
}

RsImapCommand *
rs_imap_command_logout (void)
{
  return command_new ("LOGOUT");
}

RsImapCommand *
rs_imap_command_starttls (void)
{
  return command_new ("STARTTLS");
}

RsImapCommand *
rs_imap_command_login (const char *username,
                       const char *password)
{
  RsImapCommand *command;

  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  command = command_new ("LOGIN");
  command_add (command, ARG_STRING, username);
  command_add (command, ARG_SECRET, password);

  return command;
}

/**
 * rs_imap_command_authenticate_plain:
 * @initial_response: send the credentials on the command line (SASL-IR,
 *   RFC 4959) rather than after the server's "+"
 *
 * SASL PLAIN (RFC 4616) with an empty authorization identity.
 */
RsImapCommand *
rs_imap_command_authenticate_plain (const char *username,
                                    const char *password,
                                    gboolean    initial_response)
{
  RsImapCommand *command;
  gsize ulen, plen, len;
  char *message;
  char *encoded;

  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  ulen = strlen (username);
  plen = strlen (password);
  len = 1 + ulen + 1 + plen;
  message = g_malloc (len);
  message[0] = '\0';
  memcpy (message + 1, username, ulen);
  message[1 + ulen] = '\0';
  memcpy (message + 2 + ulen, password, plen);
  encoded = g_base64_encode ((const guchar *)message, len);
  explicit_bzero (message, len);
  g_free (message);

  command = command_new ("AUTHENTICATE");
  command_add (command, ARG_RAW, "PLAIN");
  /* Base64 needs no quoting, and SASL-IR wants it as an atom. */
  if (initial_response)
    command_add (command, ARG_SECRET_RAW, encoded);
  else
    command->continuation = g_strdup (encoded);

  explicit_bzero (encoded, strlen (encoded));
  g_free (encoded);

  return command;
}

/**
 * rs_imap_command_id:
 *
 * ID (RFC 2971) with the client's name and version.
 */
RsImapCommand *
rs_imap_command_id (const char *name,
                    const char *version)
{
  RsImapCommand *command;
  Arg *arg;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (version != NULL, NULL);

  command = command_new ("ID");
  arg = g_new0 (Arg, 1);
  arg->kind = ARG_STRING_LIST;
  arg->list = g_new0 (char *, 5);
  arg->list[0] = g_strdup ("name");
  arg->list[1] = g_strdup (name);
  arg->list[2] = g_strdup ("version");
  arg->list[3] = g_strdup (version);
  g_ptr_array_add (command->args, arg);

  return command;
}

static gboolean needs_literal (const char *str);

/* "(UID BODY.PEEK[HEADER.FIELDS (…)])" for allowlisted fields only. */
static char *
header_fetch_items (const char * const  *fields,
                    GError             **error)
{
  g_autoptr(GString) items = g_string_new ("(UID BODY.PEEK[HEADER.FIELDS (");

  for (guint i = 0; fields[i] != NULL; i++)
    {
      const char *canonical = NULL;

      for (guint j = 0; allowed_header_fields[j] != NULL; j++)
        if (g_ascii_strcasecmp (fields[i], allowed_header_fields[j]) == 0)
          canonical = allowed_header_fields[j];

      if (canonical == NULL)
        {
          g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                       _("“%s” is not a header field Retailsphere may read"),
                       fields[i]);
          rs_error_set_service (*error, RS_SERVICE_IMAP);
          return NULL;
        }

      if (i > 0)
        g_string_append_c (items, ' ');
      g_string_append (items, canonical);
    }
  g_string_append (items, ")])");

  return g_string_free (g_steal_pointer (&items), FALSE);
}

/**
 * rs_imap_header_fields_allowed:
 *
 * Returns: (transfer none): the header fields a fetch may ask for
 */
const char * const *
rs_imap_header_fields_allowed (void)
{
  return allowed_header_fields;
}

/**
 * rs_imap_command_uid_fetch_headers:
 * @first_uid: the first UID, at least 1
 * @last_uid: the last UID, or 0 for "*"
 * @fields: header field names, each one of rs_imap_header_fields_allowed()
 *
 * The only FETCH this layer can build:
 * `UID FETCH a:b (UID BODY.PEEK[HEADER.FIELDS (…)])`.  It never reads a
 * body and never sets \Seen.
 *
 * Returns: (transfer full) (nullable): the command, or %NULL with
 *   RS_ERROR_INPUT when a field is not allowed
 */
RsImapCommand *
rs_imap_command_uid_fetch_headers (guint32              first_uid,
                                   guint32              last_uid,
                                   const char * const  *fields,
                                   GError             **error)
{
  g_autofree char *set = NULL;
  g_autofree char *items = NULL;
  RsImapCommand *command;

  g_return_val_if_fail (fields != NULL, NULL);

  if (first_uid == 0 || (last_uid != 0 && last_uid < first_uid) || fields[0] == NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("A header fetch needs a valid range of messages and at least one header field"));
      rs_error_set_service (*error, RS_SERVICE_IMAP);
      return NULL;
    }

  items = header_fetch_items (fields, error);
  if (items == NULL)
    return NULL;

  if (last_uid == 0)
    set = g_strdup_printf ("%u:*", first_uid);
  else
    set = g_strdup_printf ("%u:%u", first_uid, last_uid);

  command = command_new ("UID FETCH");
  command_add (command, ARG_RAW, set);
  command_add (command, ARG_RAW, items);

  return command;
}

/**
 * rs_imap_command_uid_fetch_header_set:
 * @uids: (array length=n_uids): UIDs in ascending order, none 0
 * @n_uids: how many, 1 to %RS_IMAP_MAX_UIDS_PER_COMMAND
 * @fields: header field names, each one of rs_imap_header_fields_allowed()
 *
 * The same header-only FETCH for a set of UIDs, sent compactly
 * ("3:7,9,12:14").  Never "*": a set with "*" always names the last
 * message, even when it is older than the set.
 *
 * Returns: (transfer full) (nullable): the command, or %NULL with
 *   RS_ERROR_INPUT
 */
RsImapCommand *
rs_imap_command_uid_fetch_header_set (const guint32       *uids,
                                      guint                n_uids,
                                      const char * const  *fields,
                                      GError             **error)
{
  g_autoptr(GString) set = NULL;
  g_autofree char *items = NULL;
  RsImapCommand *command;

  g_return_val_if_fail (uids != NULL || n_uids == 0, NULL);
  g_return_val_if_fail (fields != NULL, NULL);

  for (guint i = 0; i < n_uids; i++)
    if (uids[i] == 0 || (i > 0 && uids[i] <= uids[i - 1]))
      n_uids = 0;

  if (n_uids == 0 || n_uids > RS_IMAP_MAX_UIDS_PER_COMMAND || fields[0] == NULL)
    {
      g_set_error_literal (error, RS_ERROR, RS_ERROR_INPUT,
                           _("A header fetch needs a valid range of messages and at least one header field"));
      rs_error_set_service (*error, RS_SERVICE_IMAP);
      return NULL;
    }

  items = header_fetch_items (fields, error);
  if (items == NULL)
    return NULL;

  set = g_string_new (NULL);
  for (guint i = 0; i < n_uids; )
    {
      guint j = i;

      while (j + 1 < n_uids && uids[j + 1] == uids[j] + 1)
        j++;

      if (set->len > 0)
        g_string_append_c (set, ',');
      if (j == i)
        g_string_append_printf (set, "%u", uids[i]);
      else
        g_string_append_printf (set, "%u:%u", uids[i], uids[j]);

      i = j + 1;
    }

  command = command_new ("UID FETCH");
  command_add (command, ARG_RAW, set->str);
  command_add (command, ARG_RAW, items);

  return command;
}

/* Mailbox names are sent as quoted strings; names beyond printable ASCII
 * would need modified UTF-7 (RFC 3501 §5.1.3), which nothing here needs. */
static gboolean
check_mailbox (const char  *mailbox,
               GError     **error)
{
  gsize len = strlen (mailbox);

  if (len == 0 || len > 255 || needs_literal (mailbox))
    {
      g_set_error (error, RS_ERROR, RS_ERROR_INPUT,
                   _("“%s” is not a mailbox name Retailsphere can open"), mailbox);
      rs_error_set_service (*error, RS_SERVICE_IMAP);
      return FALSE;
    }

  return TRUE;
}

/**
 * rs_imap_command_examine:
 * @mailbox: a mailbox name in printable ASCII, e.g. "INBOX"
 * @condstore: ask for HIGHESTMODSEQ (RFC 7162); only when the server
 *   offers CONDSTORE
 *
 * EXAMINE: opens the mailbox read-only, so nothing we do can change a
 * flag.  There is deliberately no SELECT.
 *
 * Returns: (transfer full) (nullable): the command, or %NULL with
 *   RS_ERROR_INPUT for a name it cannot send
 */
RsImapCommand *
rs_imap_command_examine (const char  *mailbox,
                         gboolean     condstore,
                         GError     **error)
{
  RsImapCommand *command;

  g_return_val_if_fail (mailbox != NULL, NULL);

  if (!check_mailbox (mailbox, error))
    return NULL;

  command = command_new ("EXAMINE");
  command_add (command, ARG_STRING, mailbox);
  if (condstore)
    command_add (command, ARG_RAW, "(CONDSTORE)");

  return command;
}

/**
 * rs_imap_command_status:
 * @highestmodseq: ask for HIGHESTMODSEQ too (only with CONDSTORE)
 *
 * STATUS mailbox (UIDNEXT UIDVALIDITY MESSAGES [HIGHESTMODSEQ]).
 *
 * Returns: (transfer full) (nullable): the command, or %NULL with
 *   RS_ERROR_INPUT for a name it cannot send
 */
RsImapCommand *
rs_imap_command_status (const char  *mailbox,
                        gboolean     highestmodseq,
                        GError     **error)
{
  RsImapCommand *command;

  g_return_val_if_fail (mailbox != NULL, NULL);

  if (!check_mailbox (mailbox, error))
    return NULL;

  command = command_new ("STATUS");
  command_add (command, ARG_STRING, mailbox);
  command_add (command, ARG_RAW, highestmodseq ? "(UIDNEXT UIDVALIDITY MESSAGES HIGHESTMODSEQ)"
                                               : "(UIDNEXT UIDVALIDITY MESSAGES)");

  return command;
}

/**
 * rs_imap_command_idle:
 *
 * IDLE (RFC 2177).  The client ends it with a bare "DONE" line, which is
 * not a command and is written by the client itself.
 */
RsImapCommand *
rs_imap_command_idle (void)
{
  return command_new ("IDLE");
}

/* ---------------------------------------------------------- fetch answers */

/**
 * rs_imap_fetch_item_is_body:
 * @name: a FETCH data item name as a server sends it ("BODY[TEXT]")
 *
 * Returns: whether the item carries (part of) a message body or its
 *   structure, or a header section we never ask for
 */
gboolean
rs_imap_fetch_item_is_body (const char *name)
{
  static const char * const header_fields = "BODY[HEADER.FIELDS (";

  g_return_val_if_fail (name != NULL, TRUE);

  /* The one section we ask for (and the ".NOT" form, which we don't). */
  if (g_ascii_strncasecmp (name, header_fields, strlen (header_fields)) == 0)
    return FALSE;

  if (g_ascii_strcasecmp (name, "RFC822.SIZE") == 0)
    return FALSE;

  return g_ascii_strncasecmp (name, "BODY", 4) == 0        /* BODY, BODY[…], BODYSTRUCTURE, BODY.PEEK */
         || g_ascii_strncasecmp (name, "BINARY", 6) == 0   /* BINARY[…], BINARY.SIZE */
         || g_ascii_strncasecmp (name, "RFC822", 6) == 0;  /* RFC822, .TEXT, .HEADER */
}

/**
 * rs_imap_fetch_get_headers:
 * @response: an untagged response
 * @max_header_size: the longest header section accepted
 * @uid: (out): the message's UID
 * @headers: (out) (transfer full) (nullable): the header section, or %NULL
 *   when the response held none (a flag update, or one that was dropped)
 * @n_refused: (out): how many body items the response held, all dropped
 * @oversized: (out): the header section was longer than @max_header_size
 *   and dropped
 *
 * Returns: %TRUE when @response is a FETCH with a UID
 */
gboolean
rs_imap_fetch_get_headers (const RsImapResponse  *response,
                           gsize                  max_header_size,
                           guint32               *uid,
                           GBytes               **headers,
                           guint                 *n_refused,
                           gboolean              *oversized)
{
  const RsImapValue *items;
  const RsImapValue *section = NULL;
  gboolean have_uid = FALSE;

  g_return_val_if_fail (response != NULL, FALSE);
  g_return_val_if_fail (uid != NULL && headers != NULL, FALSE);
  g_return_val_if_fail (n_refused != NULL && oversized != NULL, FALSE);

  *uid = 0;
  *headers = NULL;
  *n_refused = 0;
  *oversized = FALSE;

  if (response->kind != RS_IMAP_RESPONSE_UNTAGGED
      || response->status != RS_IMAP_STATUS_NONE
      || rs_imap_value_get_n_items (response->data) != 3
      || rs_imap_value_get_item (response->data, 0)->type != RS_IMAP_VALUE_NUMBER
      || !rs_imap_value_is_atom (rs_imap_value_get_item (response->data, 1), "FETCH"))
    return FALSE;

  items = rs_imap_value_get_item (response->data, 2);
  if (items->type != RS_IMAP_VALUE_LIST)
    return FALSE;

  for (guint i = 0; i + 1 < rs_imap_value_get_n_items (items); i += 2)
    {
      const RsImapValue *name = rs_imap_value_get_item (items, i);
      const RsImapValue *value = rs_imap_value_get_item (items, i + 1);

      if (name->type != RS_IMAP_VALUE_ATOM)
        continue;

      if (rs_imap_fetch_item_is_body (name->str))
        {
          (*n_refused)++;
          continue;
        }

      if (g_ascii_strcasecmp (name->str, "UID") == 0)
        {
          if (value->type == RS_IMAP_VALUE_NUMBER && value->number > 0 && value->number <= G_MAXUINT32)
            {
              *uid = (guint32)value->number;
              have_uid = TRUE;
            }
          continue;
        }

      if (g_ascii_strncasecmp (name->str, "BODY[HEADER.FIELDS (", 20) == 0
          && (value->type == RS_IMAP_VALUE_STRING || value->type == RS_IMAP_VALUE_NIL))
        section = value;
    }

  if (!have_uid)
    return FALSE;

  if (section != NULL && section->type == RS_IMAP_VALUE_STRING)
    {
      if (section->len > max_header_size)
        *oversized = TRUE;
      else
        *headers = g_bytes_new (section->str, section->len);
    }
  else if (section != NULL)
    *headers = g_bytes_new (NULL, 0);

  return TRUE;
}

const char *
rs_imap_command_get_name (const RsImapCommand *command)
{
  g_return_val_if_fail (command != NULL, NULL);

  return command->name;
}

/**
 * rs_imap_command_is_sensitive:
 *
 * Returns: whether the command carries a secret and must never be logged
 */
gboolean
rs_imap_command_is_sensitive (const RsImapCommand *command)
{
  g_return_val_if_fail (command != NULL, FALSE);

  if (command->continuation != NULL)
    return TRUE;

  for (guint i = 0; i < command->args->len; i++)
    {
      const Arg *arg = g_ptr_array_index (command->args, i);

      if (arg->kind != ARG_STRING && arg->kind != ARG_RAW && arg->kind != ARG_STRING_LIST)
        return TRUE;
    }

  return FALSE;
}

static gboolean
needs_literal (const char *str)
{
  for (const guchar *p = (const guchar *)str; *p != '\0'; p++)
    if (*p < 0x20 || *p >= 0x7f)
      return TRUE;

  return FALSE;
}

static void
wipe_string (gpointer data)
{
  GString *str = data;

  explicit_bzero (str->str, str->allocated_len);
  g_string_free (str, TRUE);
}

static void
push_segment (GPtrArray  *segments,
              GString   **current)
{
  GString *str = g_steal_pointer (current);

  g_ptr_array_add (segments, g_bytes_new_with_free_func (str->str, str->len, wipe_string, str));
  *current = g_string_sized_new (256);
}

/* astring: a quoted string when it is plain printable ASCII, else a
 * literal (RFC 3501 §4.3; LITERAL+ from RFC 7888). */
static void
append_string (GPtrArray   *segments,
               GString    **current,
               const char  *value,
               gboolean     literal_plus)
{
  if (needs_literal (value))
    {
      g_string_append_printf (*current, "{%zu%s}\r\n", strlen (value), literal_plus ? "+" : "");
      if (!literal_plus)
        push_segment (segments, current);
      g_string_append (*current, value);
      return;
    }

  g_string_append_c (*current, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (*current, '\\');
      g_string_append_c (*current, *p);
    }
  g_string_append_c (*current, '"');
}

/**
 * rs_imap_command_encode:
 * @tag: the command's tag
 * @literal_plus: the server announced LITERAL+ (RFC 7888)
 *
 * Returns: (transfer container) (element-type GBytes): the segments to
 *   write; before each segment but the first the server must have sent
 *   a continuation ("+").  Secret bytes are wiped when freed.
 */
GPtrArray *
rs_imap_command_encode (const RsImapCommand *command,
                        const char          *tag,
                        gboolean             literal_plus)
{
  g_autoptr(GPtrArray) segments = NULL;
  GString *current;

  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (tag != NULL, NULL);

  segments = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  current = g_string_sized_new (256);

  g_string_append (current, tag);
  g_string_append_c (current, ' ');
  g_string_append (current, command->name);

  for (guint i = 0; i < command->args->len; i++)
    {
      const Arg *arg = g_ptr_array_index (command->args, i);

      g_string_append_c (current, ' ');

      switch (arg->kind)
        {
        case ARG_STRING:
        case ARG_SECRET:
          append_string (segments, &current, arg->value, literal_plus);
          break;

        case ARG_STRING_LIST:
          g_string_append_c (current, '(');
          for (guint j = 0; arg->list[j] != NULL; j++)
            {
              if (j > 0)
                g_string_append_c (current, ' ');
              append_string (segments, &current, arg->list[j], literal_plus);
            }
          g_string_append_c (current, ')');
          break;

        case ARG_RAW:
        case ARG_SECRET_RAW:
        default:
          g_string_append (current, arg->value);
          break;
        }
    }

  g_string_append (current, "\r\n");
  push_segment (segments, &current);

  if (command->continuation != NULL)
    {
      g_string_append (current, command->continuation);
      g_string_append (current, "\r\n");
      push_segment (segments, &current);
    }

  wipe_string (current);

  return g_steal_pointer (&segments);
}

/**
 * rs_imap_command_describe:
 *
 * Returns: (transfer full): the command as a log may show it: secrets
 *   are replaced by "***"
 */
char *
rs_imap_command_describe (const RsImapCommand *command,
                          const char          *tag)
{
  GString *out;

  g_return_val_if_fail (command != NULL, NULL);

  out = g_string_new (tag);
  if (tag != NULL)
    g_string_append_c (out, ' ');
  g_string_append (out, command->name);

  for (guint i = 0; i < command->args->len; i++)
    {
      const Arg *arg = g_ptr_array_index (command->args, i);
      g_autofree char *escaped = NULL;

      g_string_append_c (out, ' ');

      switch (arg->kind)
        {
        case ARG_RAW:
          g_string_append (out, arg->value);
          break;

        case ARG_STRING:
          escaped = g_strescape (arg->value, NULL);
          g_string_append_printf (out, "\"%s\"", escaped);
          break;

        case ARG_STRING_LIST:
          g_string_append (out, "(…)");
          break;

        case ARG_SECRET:
        case ARG_SECRET_RAW:
        default:
          g_string_append (out, "***");
          break;
        }
    }

  if (command->continuation != NULL)
    g_string_append (out, " [then ***]");

  return g_string_free (out, FALSE);
}
