/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-imap-parser"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "rs-error.h"
#include "rs-imap-parser.h"

/* Feeds @data in chunks of @chunk bytes until one response is complete. */
static RsImapResponse *
feed_all (RsImapParser  *parser,
          const char    *data,
          gsize          len,
          gsize          chunk,
          gsize         *used,
          GError       **error)
{
  gsize offset = 0;

  while (offset < len)
    {
      RsImapResponse *response = NULL;
      gsize n = MIN (chunk, len - offset);
      gsize consumed = 0;

      if (!rs_imap_parser_feed (parser, (const guint8 *)data + offset, n, &consumed, &response, error))
        return NULL;
      offset += consumed;
      if (response != NULL)
        {
          if (used != NULL)
            *used = offset;
          return response;
        }
      g_assert_cmpuint (consumed, ==, n);
    }

  if (used != NULL)
    *used = offset;

  return NULL;
}

static RsImapResponse *
parse_ok (const char *text)
{
  g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
  g_autoptr(GError) error = NULL;
  RsImapResponse *one_go, *byte_by_byte;
  gsize used;

  one_go = feed_all (parser, text, strlen (text), strlen (text), &used, &error);
  g_assert_no_error (error);
  g_assert_nonnull (one_go);
  g_assert_cmpuint (used, ==, strlen (text));

  /* The same, one byte at a time. */
  rs_imap_parser_reset (parser);
  byte_by_byte = feed_all (parser, text, strlen (text), 1, &used, &error);
  g_assert_no_error (error);
  g_assert_nonnull (byte_by_byte);
  g_assert_cmpint (byte_by_byte->kind, ==, one_go->kind);
  g_assert_cmpint (byte_by_byte->status, ==, one_go->status);
  rs_imap_response_free (byte_by_byte);

  return one_go;
}

static void
assert_protocol_error (const char *text)
{
  g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RsImapResponse) response = NULL;

  response = feed_all (parser, text, strlen (text), 7, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpint (rs_error_get_service (error), ==, RS_SERVICE_IMAP);
}

static void
test_status_responses (void)
{
  static const struct {
    const char         *input;
    RsImapResponseKind  kind;
    const char         *tag;
    RsImapStatus        status;
    const char         *code;
    const char         *text;
  } cases[] = {
    { "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready.\r\n",
      RS_IMAP_RESPONSE_UNTAGGED, NULL, RS_IMAP_STATUS_OK, "CAPABILITY", "Dovecot ready." },
    { "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A1", RS_IMAP_STATUS_NO, "AUTHENTICATIONFAILED", "Authentication failed." },
    { "A2 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A2", RS_IMAP_STATUS_NO, "ALERT",
      "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)" },
    { "a3 bad Error in IMAP command: Unknown command.\r\n",
      RS_IMAP_RESPONSE_TAGGED, "a3", RS_IMAP_STATUS_BAD, NULL, "Error in IMAP command: Unknown command." },
    { "* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
      RS_IMAP_RESPONSE_UNTAGGED, NULL, RS_IMAP_STATUS_PREAUTH, NULL, "IMAP4rev1 server logged in as Smith" },
    { "* BYE [UNAVAILABLE] Server shutting down\r\n",
      RS_IMAP_RESPONSE_UNTAGGED, NULL, RS_IMAP_STATUS_BYE, "UNAVAILABLE", "Server shutting down" },
    { "A4 NO [unavailable] lower case code\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A4", RS_IMAP_STATUS_NO, "UNAVAILABLE", "lower case code" },
    { "A5 OK\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A5", RS_IMAP_STATUS_OK, NULL, "" },
    { "A6 OK [READ-WRITE]\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A6", RS_IMAP_STATUS_OK, "READ-WRITE", "" },
    { "+ \r\n",
      RS_IMAP_RESPONSE_CONTINUATION, NULL, RS_IMAP_STATUS_NONE, NULL, "" },
    { "+ Ready for literal data\r\n",
      RS_IMAP_RESPONSE_CONTINUATION, NULL, RS_IMAP_STATUS_NONE, NULL, "Ready for literal data" },
    { "+\r\n",
      RS_IMAP_RESPONSE_CONTINUATION, NULL, RS_IMAP_STATUS_NONE, NULL, "" },
    { "* NO [PRIVACYREQUIRED] Connection is not encrypted\r\n",
      RS_IMAP_RESPONSE_UNTAGGED, NULL, RS_IMAP_STATUS_NO, "PRIVACYREQUIRED", "Connection is not encrypted" },
    { "A7 NO [CONTACTADMIN] Contact your administrator \xc3\xa9t\xc3\xa9\r\n",
      RS_IMAP_RESPONSE_TAGGED, "A7", RS_IMAP_STATUS_NO, "CONTACTADMIN", "Contact your administrator \xc3\xa9t\xc3\xa9" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsImapResponse) response = NULL;

      g_test_message ("case %u: %s", i, cases[i].input);
      response = parse_ok (cases[i].input);
      g_assert_cmpint (response->kind, ==, cases[i].kind);
      g_assert_cmpstr (response->tag, ==, cases[i].tag);
      g_assert_cmpint (response->status, ==, cases[i].status);
      g_assert_cmpstr (response->code, ==, cases[i].code);
      g_assert_cmpstr (response->text, ==, cases[i].text);
      g_assert_true (g_utf8_validate (response->text, -1, NULL));
    }
}

static void
test_response_code_args (void)
{
  g_autoptr(RsImapResponse) caps = parse_ok ("* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] hi\r\n");
  g_autoptr(RsImapResponse) flags = parse_ok ("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n");
  g_autoptr(RsImapResponse) uidnext = parse_ok ("* OK [UIDNEXT 4392] Predicted next UID\r\n");
  g_autoptr(RsImapResponse) other = parse_ok ("A1 NO [REFERRAL imap://user;AUTH=*@SERVER2/] Remote Server\r\n");

  g_assert_cmpuint (rs_imap_value_get_n_items (caps->code_args), ==, 3);
  g_assert_true (rs_imap_value_is_atom (rs_imap_value_get_item (caps->code_args, 1), "literal+"));
  g_assert_cmpstr (rs_imap_value_get_text (rs_imap_value_get_item (caps->code_args, 2)), ==, "AUTH=PLAIN");

  g_assert_cmpuint (rs_imap_value_get_n_items (flags->code_args), ==, 1);
  g_assert_cmpuint (rs_imap_value_get_n_items (rs_imap_value_get_item (flags->code_args, 0)), ==, 3);
  g_assert_cmpstr (rs_imap_value_get_item (rs_imap_value_get_item (flags->code_args, 0), 2)->str, ==, "\\*");

  g_assert_cmpint (rs_imap_value_get_item (uidnext->code_args, 0)->type, ==, RS_IMAP_VALUE_NUMBER);
  g_assert_cmpuint (rs_imap_value_get_item (uidnext->code_args, 0)->number, ==, 4392);

  g_assert_cmpstr (other->code, ==, "REFERRAL");
  g_assert_cmpstr (rs_imap_value_get_text (rs_imap_value_get_item (other->code_args, 0)), ==,
                   "imap://user;AUTH=*@SERVER2/");
  g_assert_cmpstr (other->text, ==, "Remote Server");
}

static void
test_untagged_data (void)
{
  g_autoptr(RsImapResponse) caps = parse_ok ("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n");
  g_autoptr(RsImapResponse) exists = parse_ok ("* 172 EXISTS\r\n");
  g_autoptr(RsImapResponse) id = parse_ok ("* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n");
  g_autoptr(RsImapResponse) search = parse_ok ("* SEARCH \r\n");
  g_autoptr(RsImapResponse) list = parse_ok ("* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n");
  RsImapValue *id_list;

  g_assert_cmpint (caps->status, ==, RS_IMAP_STATUS_NONE);
  g_assert_cmpuint (rs_imap_value_get_n_items (caps->data), ==, 4);
  g_assert_true (rs_imap_value_is_atom (rs_imap_value_get_item (caps->data, 0), "CAPABILITY"));
  g_assert_cmpstr (rs_imap_value_get_text (rs_imap_value_get_item (caps->data, 3)), ==, "LOGINDISABLED");

  g_assert_cmpint (rs_imap_value_get_item (exists->data, 0)->type, ==, RS_IMAP_VALUE_NUMBER);
  g_assert_cmpuint (rs_imap_value_get_item (exists->data, 0)->number, ==, 172);

  id_list = rs_imap_value_get_item (id->data, 1);
  g_assert_cmpuint (rs_imap_value_get_n_items (id_list), ==, 4);
  g_assert_cmpint (rs_imap_value_get_item (id_list, 3)->type, ==, RS_IMAP_VALUE_NIL);

  g_assert_cmpuint (rs_imap_value_get_n_items (search->data), ==, 1);
  g_assert_cmpuint (rs_imap_value_get_n_items (list->data), ==, 4);
  g_assert_cmpstr (rs_imap_value_get_item (list->data, 3)->str, ==, "INBOX");
}

static void
test_quoted_strings (void)
{
  static const struct {
    const char *input;
    const char *expected;
  } cases[] = {
    { "* X \"plain\"\r\n", "plain" },
    { "* X \"\"\r\n", "" },
    { "* X \"with \\\"quotes\\\"\"\r\n", "with \"quotes\"" },
    { "* X \"back\\\\slash\"\r\n", "back\\slash" },
    { "* X \"utf-8 \xc3\xa9\"\r\n", "utf-8 \xc3\xa9" },
    { "* X \"(not a list) {5}\"\r\n", "(not a list) {5}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsImapResponse) response = parse_ok (cases[i].input);
      RsImapValue *value = rs_imap_value_get_item (response->data, 1);

      g_assert_cmpint (value->type, ==, RS_IMAP_VALUE_STRING);
      g_assert_false (value->is_literal);
      g_assert_cmpstr (value->str, ==, cases[i].expected);
      g_assert_cmpuint (value->len, ==, strlen (cases[i].expected));
    }
}

static void
test_literals (void)
{
  g_autoptr(RsImapResponse) fetch = NULL;
  g_autoptr(RsImapResponse) empty = NULL;
  g_autoptr(RsImapResponse) binary = NULL;
  g_autoptr(RsImapResponse) two = NULL;
  RsImapValue *items, *literal;
  static const char binary_input[] = "* 1 FETCH (BINARY[1] ~{4}\r\na\0b\n)\r\n";
  g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
  g_autoptr(GError) error = NULL;
  gsize consumed;

  fetch = parse_ok ("* 12 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO)] {37}\r\n"
                    "Message-ID: <a@b>\r\nIn-Reply-To: x\r\n\r\n)\r\n");
  items = rs_imap_value_get_item (fetch->data, 2);
  g_assert_cmpuint (rs_imap_value_get_n_items (items), ==, 4);
  g_assert_cmpstr (rs_imap_value_get_item (items, 2)->str, ==, "BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO)]");
  literal = rs_imap_value_get_item (items, 3);
  g_assert_true (literal->is_literal);
  g_assert_cmpuint (literal->len, ==, 37);
  g_assert_cmpstr (literal->str, ==, "Message-ID: <a@b>\r\nIn-Reply-To: x\r\n\r\n");

  empty = parse_ok ("* 1 FETCH (BODY[HEADER.FIELDS (X)] {0}\r\n)\r\n");
  g_assert_cmpuint (rs_imap_value_get_item (rs_imap_value_get_item (empty->data, 2), 1)->len, ==, 0);

  /* A literal holding what looks like a line end and a response. */
  two = parse_ok ("* 2 FETCH (X {18}\r\n\r\nA1 OK injected\r\n)\r\n");
  g_assert_cmpstr (rs_imap_value_get_item (rs_imap_value_get_item (two->data, 2), 1)->str, ==,
                   "\r\nA1 OK injected\r\n");

  /* literal8 may hold NUL bytes. */
  binary = feed_all (parser, binary_input, sizeof binary_input - 1, 5, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (binary);
  literal = rs_imap_value_get_item (rs_imap_value_get_item (binary->data, 2), 1);
  g_assert_true (literal->is_literal8);
  g_assert_cmpuint (literal->len, ==, 4);
  g_assert_cmpmem (literal->str, 4, "a\0b\n", 4);
}

static void
test_nested_lists (void)
{
  g_autoptr(RsImapResponse) response = parse_ok ("* X (a (b (c NIL \"d\") ()) e)\r\n");
  RsImapValue *outer = rs_imap_value_get_item (response->data, 1);
  RsImapValue *mid = rs_imap_value_get_item (outer, 1);
  RsImapValue *inner = rs_imap_value_get_item (mid, 1);

  g_assert_cmpuint (rs_imap_value_get_n_items (outer), ==, 3);
  g_assert_cmpuint (rs_imap_value_get_n_items (mid), ==, 3);
  g_assert_cmpuint (rs_imap_value_get_n_items (inner), ==, 3);
  g_assert_cmpint (rs_imap_value_get_item (inner, 1)->type, ==, RS_IMAP_VALUE_NIL);
  g_assert_cmpuint (rs_imap_value_get_n_items (rs_imap_value_get_item (mid, 2)), ==, 0);
  g_assert_cmpint (rs_imap_value_get_item (mid, 2)->type, ==, RS_IMAP_VALUE_LIST);
}

static void
test_several_responses (void)
{
  static const char input[] = "* CAPABILITY IMAP4rev1\r\nA1 OK done\r\n";
  g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
  g_autoptr(RsImapResponse) first = NULL;
  g_autoptr(RsImapResponse) second = NULL;
  g_autoptr(GError) error = NULL;
  gsize consumed;

  g_assert_true (rs_imap_parser_feed (parser, (const guint8 *)input, strlen (input), &consumed, &first, &error));
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_assert_cmpuint (consumed, ==, strlen ("* CAPABILITY IMAP4rev1\r\n"));
  g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), ==, 0);

  g_assert_true (rs_imap_parser_feed (parser, (const guint8 *)input + consumed, strlen (input) - consumed,
                                      &consumed, &second, &error));
  g_assert_nonnull (second);
  g_assert_cmpint (second->kind, ==, RS_IMAP_RESPONSE_TAGGED);
}

static void
test_garbage (void)
{
  static const char * const cases[] = {
    "garbage\r\n",                      /* a tag without a status */
    "A1 MAYBE ok\r\n",                  /* not OK/NO/BAD */
    "A1 PREAUTH hi\r\n",                /* PREAUTH is never tagged */
    "* X \"unterminated\r\n",
    "* X \"bad \\escape\"\r\n",
    "* X (unclosed\r\n",
    "* X )\r\n",
    "* X {abc}\r\n",
    "* X {3}\r\nab\0)\r\n",             /* NUL in a literal */
    "* X \x01\r\n",
    "* OK [ALERT unterminated\r\n",
    "* OK bare LF\n",
    "HTTP/1.1 400 Bad Request\r\n",
    "\r\n",
    "*\r\n",
    "SSH-2.0-OpenSSH_9.2\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u", i);
      /* Feed with explicit length: one case holds a NUL. */
      if (i == 8)
        {
          static const char nul_case[] = "* X {3}\r\nab\0)\r\n";
          g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
          g_autoptr(GError) error = NULL;
          g_autoptr(RsImapResponse) response = feed_all (parser, nul_case, sizeof nul_case - 1, 3, NULL, &error);

          g_assert_null (response);
          g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
          continue;
        }
      assert_protocol_error (cases[i]);
    }
}

/* A literal the size of the server's choosing is refused on its
 * announcement, before any of it is stored. */
static void
test_bound_literal (void)
{
  static const char * const cases[] = {
    "* 1 FETCH (BODY[] {999999999}\r\n",
    "* 1 FETCH (BODY[] {99999999999999999999}\r\n",
    "* 1 FETCH (BODY[] ~{4294967296}\r\n",
    "* 1 FETCH (BODY[] {1048577}\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(RsImapResponse) response = NULL;
      gsize consumed = 0;

      g_assert_false (rs_imap_parser_feed (parser, (const guint8 *)cases[i], strlen (cases[i]),
                                           &consumed, &response, &error));
      g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
      g_assert_null (response);
      g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), ==, 0);
    }

  /* Exactly at the limit is fine. */
  {
    RsImapLimits limits;
    g_autoptr(RsImapParser) parser = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) input = g_string_new ("* 1 FETCH (X {16}\r\n0123456789abcdef)\r\n");
    g_autoptr(RsImapResponse) response = NULL;

    rs_imap_limits_init_default (&limits);
    limits.max_literal_size = 16;
    parser = rs_imap_parser_new (&limits);
    response = feed_all (parser, input->str, input->len, 4, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (response);

    rs_imap_parser_reset (parser);
    g_clear_pointer (&response, rs_imap_response_free);
    g_string_assign (input, "* 1 FETCH (X {17}\r\n0123456789abcdefg)\r\n");
    response = feed_all (parser, input->str, input->len, 4, NULL, &error);
    g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  }
}

/* A 10 MB line is refused once it passes the line limit; the parser
 * never holds more than the limit. */
static void
test_bound_line (void)
{
  g_autoptr(RsImapParser) parser = rs_imap_parser_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *chunk = g_malloc (4096);
  gsize total = 0;
  gboolean failed = FALSE;

  memset (chunk, 'a', 4096);
  memcpy (chunk, "* OK ", 5);

  while (total < 10 * 1024 * 1024)
    {
      g_autoptr(RsImapResponse) response = NULL;
      gsize consumed = 0;

      if (!rs_imap_parser_feed (parser, (const guint8 *)chunk, 4096, &consumed, &response, &error))
        {
          failed = TRUE;
          break;
        }
      g_assert_null (response);
      g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), <=, RS_IMAP_DEFAULT_MAX_LINE_LENGTH);
      total += consumed;
      memset (chunk, 'a', 5);
    }

  g_assert_true (failed);
  g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  g_assert_cmpuint (total, <=, RS_IMAP_DEFAULT_MAX_LINE_LENGTH);
  g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), ==, 0);

  /* The parser stays failed until reset. */
  {
    g_autoptr(GError) again = NULL;
    g_autoptr(RsImapResponse) response = NULL;
    gsize consumed;

    g_assert_false (rs_imap_parser_feed (parser, (const guint8 *)"A1 OK\r\n", 7, &consumed, &response, &again));
    g_assert_error (again, RS_ERROR, RS_ERROR_PROTOCOL);
    rs_imap_parser_reset (parser);
    g_clear_error (&again);
    g_assert_true (rs_imap_parser_feed (parser, (const guint8 *)"A1 OK\r\n", 7, &consumed, &response, &again));
    g_assert_nonnull (response);
  }
}

static void
test_bound_depth_and_items (void)
{
  g_autoptr(GString) deep = g_string_new ("* X ");
  g_autoptr(GString) shallow = g_string_new ("* X ");
  g_autoptr(GString) many = g_string_new ("* SEARCH");

  for (guint i = 0; i < 1000; i++)
    g_string_append_c (deep, '(');
  for (guint i = 0; i < 1000; i++)
    g_string_append_c (deep, ')');
  g_string_append (deep, "\r\n");

  for (guint i = 0; i < RS_IMAP_DEFAULT_MAX_DEPTH; i++)
    g_string_append_c (shallow, '(');
  for (guint i = 0; i < RS_IMAP_DEFAULT_MAX_DEPTH; i++)
    g_string_append_c (shallow, ')');
  g_string_append (shallow, "\r\n");

  for (guint i = 0; i < RS_IMAP_DEFAULT_MAX_ITEMS + 10; i++)
    g_string_append (many, " 1");
  g_string_append (many, "\r\n");

  /* Many small literals: the response limit holds across lines. */
  {
    RsImapLimits limits;
    g_autoptr(RsImapParser) parser = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(RsImapResponse) response = NULL;
    g_autofree char *filler = g_strnfill (1000, 'x');
    g_autoptr(GString) input = g_string_new ("* X (");
    gsize offset = 0;

    rs_imap_limits_init_default (&limits);
    limits.max_response_size = 64 * 1024;
    parser = rs_imap_parser_new (&limits);
    for (guint i = 0; i < 200; i++)
      {
        g_string_append (input, "{1000}\r\n");
        g_string_append (input, filler);
        g_string_append_c (input, ' ');
      }
    while (offset < input->len)
      {
        gsize consumed = 0;

        if (!rs_imap_parser_feed (parser, (const guint8 *)input->str + offset,
                                  MIN (512, input->len - offset), &consumed, &response, &error))
          break;
        g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), <=, limits.max_response_size);
        offset += consumed;
      }
    g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
  }

  assert_protocol_error (deep->str);
  assert_protocol_error (many->str);
  {
    g_autoptr(RsImapResponse) response = parse_ok (shallow->str);

    g_assert_nonnull (response);
  }
}

static void
test_command_encoding (void)
{
  static const struct {
    const char *username;
    const char *password;
    const char *expected_plus;     /* with LITERAL+ */
    guint       segments_sync;     /* without */
  } cases[] = {
    { "test@example.test", "secret", "R1 LOGIN \"test@example.test\" \"secret\"\r\n", 1 },
    { "a\"b", "p\\w\"d", "R1 LOGIN \"a\\\"b\" \"p\\\\w\\\"d\"\r\n", 1 },
    { "user", "p\xc3\xa4ss", "R1 LOGIN \"user\" {5+}\r\np\xc3\xa4ss\r\n", 2 },
    { "\xc3\xbc" "ser", "line\r\nbreak", "R1 LOGIN {5+}\r\n\xc3\xbc" "ser {11+}\r\nline\r\nbreak\r\n", 3 },
    { "", "", "R1 LOGIN \"\" \"\"\r\n", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RsImapCommand) command = rs_imap_command_login (cases[i].username, cases[i].password);
      g_autoptr(GPtrArray) plus = rs_imap_command_encode (command, "R1", TRUE);
      g_autoptr(GPtrArray) sync = rs_imap_command_encode (command, "R1", FALSE);
      g_autofree char *described = rs_imap_command_describe (command, "R1");
      gsize len;
      const char *data;

      g_assert_cmpuint (plus->len, ==, 1);
      data = g_bytes_get_data (g_ptr_array_index (plus, 0), &len);
      g_assert_cmpmem (data, len, cases[i].expected_plus, strlen (cases[i].expected_plus));
      g_assert_cmpuint (sync->len, ==, cases[i].segments_sync);

      g_assert_true (rs_imap_command_is_sensitive (command));
      if (*cases[i].password != '\0')
        g_assert_null (strstr (described, cases[i].password));
      g_assert_nonnull (strstr (described, "***"));
    }
}

static void
test_command_authenticate (void)
{
  g_autoptr(RsImapCommand) ir = rs_imap_command_authenticate_plain ("test@example.test", "secret", TRUE);
  g_autoptr(RsImapCommand) cont = rs_imap_command_authenticate_plain ("test@example.test", "secret", FALSE);
  g_autoptr(GPtrArray) ir_segments = rs_imap_command_encode (ir, "R2", FALSE);
  g_autoptr(GPtrArray) cont_segments = rs_imap_command_encode (cont, "R2", FALSE);
  g_autofree char *expected = NULL;
  g_autofree char *b64 = g_base64_encode ((const guchar *)"\0test@example.test\0secret", 25);
  g_autofree char *described = rs_imap_command_describe (ir, "R2");
  gsize len;
  const char *data;

  expected = g_strdup_printf ("R2 AUTHENTICATE PLAIN %s\r\n", b64);
  g_assert_cmpuint (ir_segments->len, ==, 1);
  data = g_bytes_get_data (g_ptr_array_index (ir_segments, 0), &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));

  g_assert_cmpuint (cont_segments->len, ==, 2);
  data = g_bytes_get_data (g_ptr_array_index (cont_segments, 0), &len);
  g_assert_cmpmem (data, len, "R2 AUTHENTICATE PLAIN\r\n", 23);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s\r\n", b64);
  data = g_bytes_get_data (g_ptr_array_index (cont_segments, 1), &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));

  g_assert_null (strstr (described, b64));
  g_assert_true (rs_imap_command_is_sensitive (cont));
}

static void
test_command_id (void)
{
  g_autoptr(RsImapCommand) command = rs_imap_command_id ("Retailsphere Settings", "0.1.0");
  g_autoptr(GPtrArray) segments = rs_imap_command_encode (command, "R3", FALSE);
  static const char expected[] = "R3 ID (\"name\" \"Retailsphere Settings\" \"version\" \"0.1.0\")\r\n";
  gsize len;
  const char *data = g_bytes_get_data (g_ptr_array_index (segments, 0), &len);

  g_assert_cmpmem (data, len, expected, strlen (expected));
  g_assert_false (rs_imap_command_is_sensitive (command));
}

/* The IMAP layer must be unable to build a body fetch. */
static void
test_fetch_headers_only (void)
{
  static const char * const good[] = { "message-id", "In-Reply-To", "References", NULL };
  static const char * const refused[][2] = {
    { "BODY[]", NULL },
    { "TEXT", NULL },
    { "RFC822", NULL },
    { "BODYSTRUCTURE", NULL },
    { "RFC822.TEXT", NULL },
    { "Message-ID)] BODY[", NULL },
    { "Message-ID)] BODY[TEXT", NULL },
    { "X-Body", NULL },
    { "", NULL },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RsImapCommand) command = NULL;
  g_autoptr(GPtrArray) segments = NULL;
  static const char expected[] =
    "R4 UID FETCH 10:* (UID BODY.PEEK[HEADER.FIELDS (Message-ID In-Reply-To References)])\r\n";
  gsize len;
  const char *data;

  command = rs_imap_command_uid_fetch_headers (10, 0, good, &error);
  g_assert_no_error (error);
  segments = rs_imap_command_encode (command, "R4", TRUE);
  data = g_bytes_get_data (g_ptr_array_index (segments, 0), &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) refusal = NULL;
      g_autoptr(RsImapCommand) body = rs_imap_command_uid_fetch_headers (1, 5, refused[i], &refusal);

      g_assert_null (body);
      g_assert_error (refusal, RS_ERROR, RS_ERROR_INPUT);
    }

  /* Every allowed field is a plain header name. */
  for (const char * const *f = rs_imap_header_fields_allowed (); *f != NULL; f++)
    for (const char *c = *f; *c != '\0'; c++)
      g_assert_true (g_ascii_isalnum (*c) || *c == '-');

  /* An empty field list or a backwards range is refused too. */
  {
    static const char * const none[] = { NULL };
    g_autoptr(GError) refusal = NULL;
    g_autoptr(RsImapCommand) nothing = rs_imap_command_uid_fetch_headers (1, 5, none, &refusal);

    g_assert_null (nothing);
    g_assert_error (refusal, RS_ERROR, RS_ERROR_INPUT);
  }
}

/* Deterministic mutations of valid responses: no crash, bounded memory,
 * and every outcome is a response or a protocol error. */
static void
test_fuzz (void)
{
  static const char * const seeds[] = {
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
    "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
    "* 12 FETCH (UID 7 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
    "* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n",
    "* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n",
    "+ UmVhZHk=\r\n",
    "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
    "* X (a (b (c NIL \"d\\\"e\") ()) ~{3}\r\nx\0y)\r\n",
  };
  RsImapLimits limits;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  guint n_ok = 0, n_error = 0, n_partial = 0;
  guint iterations = g_test_slow () ? 200000 : 20000;

  rs_imap_limits_init_default (&limits);
  limits.max_line_length = 256;
  limits.max_literal_size = 128;
  limits.max_response_size = 1024;
  limits.max_items = 64;
  limits.max_depth = 8;

  for (guint i = 0; i < iterations; i++)
    {
      const char *seed = seeds[g_rand_int_range (rand, 0, G_N_ELEMENTS (seeds))];
      gsize seed_len = strlen (seed);
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(RsImapParser) parser = rs_imap_parser_new (&limits);
      guint mutations = g_rand_int_range (rand, 1, 6);
      gsize offset = 0;

      if (seed == seeds[7])
        seed_len = strlen ("* X (a (b (c NIL \"d\\\"e\") ()) ~{3}\r\nx") + 6;
      g_byte_array_append (input, (const guint8 *)seed, seed_len);

      for (guint m = 0; m < mutations; m++)
        {
          guint pos = g_rand_int_range (rand, 0, input->len);
          static const char interesting[] = "(){}[]\"\\~*+ \r\n\0" "0123456789NIL";
          guint8 byte;

          switch (g_rand_int_range (rand, 0, 5))
            {
            case 0: /* flip */
              input->data[pos] ^= 1 << g_rand_int_range (rand, 0, 8);
              break;
            case 1: /* interesting byte */
              input->data[pos] = interesting[g_rand_int_range (rand, 0, sizeof interesting - 1)];
              break;
            case 2: /* insert */
              byte = interesting[g_rand_int_range (rand, 0, sizeof interesting - 1)];
              g_array_insert_val ((GArray *)input, pos, byte);
              break;
            case 3: /* delete */
              g_byte_array_remove_index (input, pos);
              if (input->len == 0)
                g_byte_array_append (input, (const guint8 *)"\r\n", 2);
              break;
            case 4: /* duplicate a slice */
            default:
              {
                guint n = g_rand_int_range (rand, 1, 64);
                g_autofree guint8 *slice = g_memdup2 (input->data + pos, MIN (n, input->len - pos));

                g_byte_array_append (input, slice, MIN (n, input->len - pos));
              }
              break;
            }
        }

      while (offset < input->len)
        {
          g_autoptr(RsImapResponse) response = NULL;
          g_autoptr(GError) error = NULL;
          gsize chunk = g_rand_int_range (rand, 1, 64);
          gsize consumed = 0;

          chunk = MIN (chunk, input->len - offset);
          if (!rs_imap_parser_feed (parser, input->data + offset, chunk, &consumed, &response, &error))
            {
              g_assert_error (error, RS_ERROR, RS_ERROR_PROTOCOL);
              n_error++;
              break;
            }
          g_assert_cmpuint (consumed, <=, chunk);
          g_assert_cmpuint (rs_imap_parser_get_buffered_size (parser), <=, limits.max_response_size);
          offset += consumed;
          if (response != NULL)
            {
              n_ok++;
              if (response->text != NULL)
                g_assert_true (g_utf8_validate (response->text, -1, NULL));
            }
          else if (offset == input->len)
            n_partial++;
        }
    }

  g_test_message ("fuzz: %u responses, %u errors, %u partial", n_ok, n_error, n_partial);
  /* The mutations must exercise both outcomes, or the loop proves nothing. */
  g_assert_cmpuint (n_ok, >, 0);
  g_assert_cmpuint (n_error, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/imap/parser/status-responses", test_status_responses);
  g_test_add_func ("/imap/parser/response-code-args", test_response_code_args);
  g_test_add_func ("/imap/parser/untagged-data", test_untagged_data);
  g_test_add_func ("/imap/parser/quoted-strings", test_quoted_strings);
  g_test_add_func ("/imap/parser/literals", test_literals);
  g_test_add_func ("/imap/parser/nested-lists", test_nested_lists);
  g_test_add_func ("/imap/parser/several-responses", test_several_responses);
  g_test_add_func ("/imap/parser/garbage", test_garbage);
  g_test_add_func ("/imap/parser/bound-literal", test_bound_literal);
  g_test_add_func ("/imap/parser/bound-line", test_bound_line);
  g_test_add_func ("/imap/parser/bound-depth-and-items", test_bound_depth_and_items);
  g_test_add_func ("/imap/parser/fuzz", test_fuzz);
  g_test_add_func ("/imap/command/login-encoding", test_command_encoding);
  g_test_add_func ("/imap/command/authenticate-plain", test_command_authenticate);
  g_test_add_func ("/imap/command/id", test_command_id);
  g_test_add_func ("/imap/command/fetch-headers-only", test_fetch_headers_only);

  return g_test_run ();
}
