/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A pure, incremental parser for IMAP server responses (RFC 3501 / 9051),
 * and the only way to build IMAP commands.
 *
 * The parser is fed whatever bytes the stream gave; it frames one response
 * at a time (lines, and literals of exactly N bytes) and turns it into a
 * tree of RsImapValue.  Whatever the server sends, memory stays bounded by
 * RsImapLimits: a declared literal size or a line longer than allowed is a
 * protocol error (RS_ERROR_PROTOCOL, service IMAP) before anything of that
 * size is allocated.
 *
 * Commands are built only through the typed constructors below; there is
 * deliberately no way to send a raw command line, and the only FETCH there
 * is asks for BODY.PEEK[HEADER.FIELDS (…)] of allowlisted header fields.
 */

/* ---------------------------------------------------------------- limits */

typedef struct
{
  gsize max_line_length;    /* one line, CRLF included */
  gsize max_literal_size;   /* one {N} or ~{N} literal */
  gsize max_response_size;  /* all lines and literals of one response */
  guint max_depth;          /* nesting of parenthesized lists (at most 64) */
  guint max_items;          /* values in one response */
} RsImapLimits;

#define RS_IMAP_DEFAULT_MAX_LINE_LENGTH   (64 * 1024)
#define RS_IMAP_DEFAULT_MAX_LITERAL_SIZE  (1024 * 1024)
#define RS_IMAP_DEFAULT_MAX_RESPONSE_SIZE (4 * 1024 * 1024)
#define RS_IMAP_DEFAULT_MAX_DEPTH         16
#define RS_IMAP_DEFAULT_MAX_ITEMS         10000
#define RS_IMAP_MAX_DEPTH_CAP             64

void rs_imap_limits_init_default (RsImapLimits *limits);

/* ---------------------------------------------------------------- values */

typedef enum
{
  RS_IMAP_VALUE_ATOM,    /* also flags (\Seen) and section atoms (BODY[HEADER.FIELDS (A)]) */
  RS_IMAP_VALUE_NUMBER,  /* an atom of digits that fits in 64 bits */
  RS_IMAP_VALUE_STRING,  /* quoted string or literal */
  RS_IMAP_VALUE_NIL,
  RS_IMAP_VALUE_LIST,    /* ( … ) */
} RsImapValueType;

typedef struct _RsImapValue RsImapValue;

/* Read-only for everyone but the parser. */
struct _RsImapValue
{
  RsImapValueType  type;
  char            *str;         /* ATOM, STRING: NUL-terminated copy */
  gsize            len;         /* ATOM, STRING: bytes in str (a literal8 may hold NULs) */
  guint64          number;      /* NUMBER */
  GPtrArray       *children;    /* LIST: RsImapValue*, never NULL for a list */
  guint            is_literal : 1;
  guint            is_literal8 : 1;
};

void         rs_imap_value_free         (RsImapValue       *value);
guint        rs_imap_value_get_n_items  (const RsImapValue *value);
RsImapValue *rs_imap_value_get_item     (const RsImapValue *value,
                                         guint              index);
gboolean     rs_imap_value_is_atom      (const RsImapValue *value,
                                         const char        *atom);
const char  *rs_imap_value_get_text     (const RsImapValue *value);

/* ------------------------------------------------------------- responses */

typedef enum
{
  RS_IMAP_RESPONSE_UNTAGGED,      /* "* …" */
  RS_IMAP_RESPONSE_TAGGED,        /* "A1 OK …" */
  RS_IMAP_RESPONSE_CONTINUATION,  /* "+ …" */
} RsImapResponseKind;

typedef enum
{
  RS_IMAP_STATUS_NONE,     /* not a status response: untagged data or continuation */
  RS_IMAP_STATUS_OK,
  RS_IMAP_STATUS_NO,
  RS_IMAP_STATUS_BAD,
  RS_IMAP_STATUS_PREAUTH,
  RS_IMAP_STATUS_BYE,
} RsImapStatus;

typedef struct
{
  RsImapResponseKind  kind;
  char               *tag;        /* TAGGED only */
  RsImapStatus        status;
  char               *code;       /* nullable: the response code, upper case ("ALERT") */
  RsImapValue        *code_args;  /* nullable: LIST of what follows the code inside [ ] */
  char               *text;       /* nullable: human-readable text, valid UTF-8 */
  RsImapValue        *data;       /* untagged data: LIST of every item after "*" */
} RsImapResponse;

void rs_imap_response_free (RsImapResponse *response);

/* ---------------------------------------------------------------- parser */

typedef struct _RsImapParser RsImapParser;

RsImapParser *rs_imap_parser_new               (const RsImapLimits  *limits);
void          rs_imap_parser_free              (RsImapParser        *self);
void          rs_imap_parser_reset             (RsImapParser        *self);
gboolean      rs_imap_parser_feed              (RsImapParser        *self,
                                                const guint8        *data,
                                                gsize                len,
                                                gsize               *consumed,
                                                RsImapResponse     **response,
                                                GError             **error);
gsize         rs_imap_parser_get_buffered_size (const RsImapParser  *self);
const RsImapLimits *rs_imap_parser_get_limits  (const RsImapParser  *self);

/* Parses one complete response held in memory (lines and literals). */
RsImapResponse *rs_imap_parse_response         (const char          *data,
                                                gsize                len,
                                                const RsImapLimits  *limits,
                                                GError             **error);

/* -------------------------------------------------------------- commands */

typedef struct _RsImapCommand RsImapCommand;

RsImapCommand *rs_imap_command_capability          (void);
RsImapCommand *rs_imap_command_noop                (void);
RsImapCommand *rs_imap_command_logout              (void);
RsImapCommand *rs_imap_command_starttls            (void);
RsImapCommand *rs_imap_command_login               (const char          *username,
                                                    const char          *password);
RsImapCommand *rs_imap_command_authenticate_plain  (const char          *username,
                                                    const char          *password,
                                                    gboolean             initial_response);
RsImapCommand *rs_imap_command_id                  (const char          *name,
                                                    const char          *version);
RsImapCommand *rs_imap_command_uid_fetch_headers   (guint32              first_uid,
                                                    guint32              last_uid,
                                                    const char * const  *fields,
                                                    GError             **error);
RsImapCommand *rs_imap_command_uid_fetch_header_set (const guint32      *uids,
                                                     guint               n_uids,
                                                     const char * const *fields,
                                                     GError            **error);
RsImapCommand *rs_imap_command_examine             (const char          *mailbox,
                                                    gboolean             condstore,
                                                    GError             **error);
RsImapCommand *rs_imap_command_status              (const char          *mailbox,
                                                    gboolean             highestmodseq,
                                                    GError             **error);
RsImapCommand *rs_imap_command_idle                (void);
const char * const *rs_imap_header_fields_allowed  (void);

/* At most this many UIDs in one command: some servers refuse long lines. */
#define RS_IMAP_MAX_UIDS_PER_COMMAND 5000

/* ---------------------------------------------------------- fetch answers */

/* The response side of the body-never rule.  From an untagged FETCH it
 * takes the UID and the BODY[HEADER.FIELDS (…)] section, and nothing else
 * of substance.  Any item that is (part of) a body — BODY[…] other than
 * HEADER.FIELDS, BODY, BODYSTRUCTURE, BINARY[…], RFC822, RFC822.TEXT,
 * RFC822.HEADER, HEADER.FIELDS.NOT — is dropped and counted in
 * @n_refused: a server that sends one unasked has it thrown away with
 * the response, never copied out.  A header section longer than
 * @max_header_size is dropped too (*@oversized is set). */
gboolean rs_imap_fetch_get_headers (const RsImapResponse  *response,
                                    gsize                  max_header_size,
                                    guint32               *uid,
                                    GBytes               **headers,
                                    guint                 *n_refused,
                                    gboolean              *oversized);
gboolean rs_imap_fetch_item_is_body (const char *name);

void           rs_imap_command_free                (RsImapCommand       *command);
const char    *rs_imap_command_get_name            (const RsImapCommand *command);
gboolean       rs_imap_command_is_sensitive        (const RsImapCommand *command);
GPtrArray     *rs_imap_command_encode              (const RsImapCommand *command,
                                                    const char          *tag,
                                                    gboolean             literal_plus);
char          *rs_imap_command_describe            (const RsImapCommand *command,
                                                    const char          *tag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsImapValue, rs_imap_value_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsImapResponse, rs_imap_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsImapParser, rs_imap_parser_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsImapCommand, rs_imap_command_free)

G_END_DECLS
