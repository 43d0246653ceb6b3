/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-reply-match"

#include "config.h"

#include <glib/gi18n.h>

#include "rs-reply-match.h"

/* Header blocks as an IMAP server returns them for
 * BODY.PEEK[HEADER.FIELDS (…)], CRLF line ends and the closing blank line. */

#define TRACKED_A "sent-a.1234@mail.example.com"
#define TRACKED_B "sent-b.5678@mail.example.com"
#define OWN "shop@example.com"

typedef struct
{
  const char *name;
  const char *block;
  const char *expected;     /* tracked id answered, or NULL */
  gboolean    automatic;
} MatchCase;

static const MatchCase match_cases[] = {
  { "in-reply-to-only",
    "Message-ID: <r1@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: Customer <customer@example.org>\r\n"
    "Subject: Re: Your order\r\n"
    "Date: Fri, 01 Mar 2024 09:30:00 +0100\r\n\r\n",
    TRACKED_A, FALSE },
  { "references-only",
    "Message-ID: <r2@customer.example.org>\r\n"
    "References: <older@elsewhere.example> <" TRACKED_B ">\r\n"
    "From: customer@example.org\r\n"
    "Subject: Re: Quote\r\n\r\n",
    TRACKED_B, FALSE },
  { "in-reply-to-wins-over-references",
    "Message-ID: <r3@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_B ">\r\n"
    "References: <" TRACKED_A "> <" TRACKED_B ">\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_B, FALSE },
  { "references-from-the-end",
    "Message-ID: <r4@customer.example.org>\r\n"
    "References: <" TRACKED_A "> <middle@x.example> <" TRACKED_B "> <last@x.example>\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_B, FALSE },
  { "in-reply-to-with-phrase",
    "Message-ID: <r5@customer.example.org>\r\n"
    "In-Reply-To: Your message of Friday <" TRACKED_A ">\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_A, FALSE },
  { "folded-references",
    "Message-ID: <r6@customer.example.org>\r\n"
    "References: <first@x.example>\r\n"
    " <second@x.example>\r\n"
    "\t<" TRACKED_A ">\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_A, FALSE },
  { "auto-submitted",
    "Message-ID: <r7@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "From: customer@example.org\r\n"
    "Subject: Out of office\r\n\r\n",
    NULL, TRUE },
  { "auto-submitted-no-is-human",
    "Message-ID: <r8@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "Auto-Submitted: no\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_A, FALSE },
  { "precedence-bulk",
    "Message-ID: <r9@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "Precedence: bulk\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, TRUE },
  { "precedence-junk",
    "Message-ID: <r10@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "Precedence: junk\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, TRUE },
  { "precedence-list",
    "Message-ID: <r11@customer.example.org>\r\n"
    "References: <" TRACKED_A ">\r\n"
    "Precedence: list\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, TRUE },
  { "precedence-auto-reply",
    "Message-ID: <r12@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "Precedence: auto_reply\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, TRUE },
  { "bounce-multipart-report",
    "Message-ID: <r13@mx.example.org>\r\n"
    "References: <" TRACKED_A ">\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"abc\"\r\n"
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\r\n",
    NULL, TRUE },
  { "null-return-path",
    "Return-Path: <>\r\n"
    "Message-ID: <r14@mx.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: postmaster@mx.example.org\r\n\r\n",
    NULL, TRUE },
  { "real-return-path-is-human",
    "Return-Path: <customer@example.org>\r\n"
    "Message-ID: <r15@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: customer@example.org\r\n\r\n",
    TRACKED_A, FALSE },
  { "not-a-reply",
    "Message-ID: <r16@customer.example.org>\r\n"
    "From: customer@example.org\r\n"
    "Subject: A new question\r\n\r\n",
    NULL, FALSE },
  { "reply-to-untracked",
    "Message-ID: <r17@customer.example.org>\r\n"
    "In-Reply-To: <someone-else@other.example>\r\n"
    "References: <someone-else@other.example>\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, FALSE },
  { "own-copy",
    "Message-ID: <r18@example.com>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: The Shop <SHOP@Example.com>\r\n\r\n",
    NULL, FALSE },
  { "tracked-message-itself",
    "Message-ID: <" TRACKED_A ">\r\n"
    "References: <" TRACKED_B ">\r\n"
    "From: customer@example.org\r\n\r\n",
    NULL, FALSE },
  { "lowercase-field-names-no-blank-line",
    "message-id: <r19@customer.example.org>\r\n"
    "in-reply-to: <" TRACKED_A ">\r\n"
    "from: customer@example.org\r\n",
    TRACKED_A, FALSE },
};

static GHashTable *
make_tracked (void)
{
  GHashTable *tracked = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_add (tracked, (gpointer) TRACKED_A);
  g_hash_table_add (tracked, (gpointer) TRACKED_B);

  return tracked;
}

static void
test_match_case (gconstpointer data)
{
  const MatchCase *c = data;
  const char *own[] = { OWN, "shop-alias@example.com", NULL };
  g_autoptr(GHashTable) tracked = make_tracked ();
  g_autoptr(RsReplyHeaders) headers = NULL;
  g_autoptr(GError) error = NULL;
  const char *answered;

  headers = rs_reply_headers_parse (c->block, strlen (c->block), &error);
  g_assert_no_error (error);
  g_assert_nonnull (headers);

  answered = rs_reply_match (headers, tracked, own);
  g_assert_cmpstr (answered, ==, c->expected);
  g_assert_cmpint (headers->is_automatic, ==, c->automatic);
  if (c->automatic)
    g_assert_nonnull (headers->automatic_why);
  g_assert_false (headers->message_id_synthesized);
}

static void
test_fields (void)
{
  const char *block =
    "Message-ID:\r\n <r1@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: \"Doe, Jane\" <jane@example.org>\r\n"
    "Subject: Re: Your\r\n order  from the\r\n\tshop\r\n"
    "Date: Fri, 01 Mar 2024 09:30:00 +0100\r\n\r\n";
  g_autoptr(RsReplyHeaders) headers = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) expected = g_date_time_new_from_iso8601 ("2024-03-01T08:30:00Z", NULL);

  headers = rs_reply_headers_parse (block, strlen (block), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (headers->message_id, ==, "r1@customer.example.org");
  g_assert_cmpuint (headers->in_reply_to->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (headers->in_reply_to, 0), ==, TRACKED_A);
  g_assert_cmpuint (headers->references->len, ==, 0);
  g_assert_cmpstr (headers->from_name, ==, "Doe, Jane");
  g_assert_cmpstr (headers->from_address, ==, "jane@example.org");
  g_assert_cmpstr (headers->subject, ==, "Re: Your order  from the\tshop");
  g_assert_nonnull (headers->date);
  g_assert_true (g_date_time_equal (headers->date, expected));
  g_assert_cmpint (g_date_time_get_utc_offset (headers->date), ==, G_TIME_SPAN_HOUR);
  g_assert_false (headers->is_automatic);
}

typedef struct
{
  const char *name;
  const char *from;
  const char *subject;
  const char *expected_name;
  const char *expected_subject;
} EncodingCase;

static const EncodingCase encoding_cases[] = {
  { "utf-8-q",
    "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>",
    "=?UTF-8?B?UmU6IELDtmdlbiBmw7xyIEJlc3RlbGx1bmcg4oKsIDQy?=",
    "Jürgen Müller", "Re: Bögen für Bestellung € 42" },
  { "iso-8859-1",
    "=?ISO-8859-1?Q?Fran=E7ois_L=E9ger?= <fl@example.fr>",
    "=?iso-8859-1?q?Re=3A_Votre_commande_r=E9f=E9rence?=",
    "François Léger", "Re: Votre commande référence" },
  { "split-encoded-words",
    "=?UTF-8?Q?Zo=C3=AB?= =?UTF-8?Q?_Smith?= <zoe@example.org>",
    "Re: =?UTF-8?Q?caf=C3=A9?=\r\n =?UTF-8?Q?_order?=",
    "Zoë Smith", "Re: café order" },
  { "raw-8-bit-latin1",
    "Ren\xe9 <rene@example.fr>",
    "Re: r\xe9servation",
    "René", "Re: réservation" },
};

static void
test_encoding_case (gconstpointer data)
{
  const EncodingCase *c = data;
  g_autofree char *block = g_strdup_printf ("Message-ID: <enc@example.org>\r\n"
                                            "In-Reply-To: <" TRACKED_A ">\r\n"
                                            "From: %s\r\nSubject: %s\r\n\r\n", c->from, c->subject);
  g_autoptr(RsReplyHeaders) headers = NULL;
  g_autoptr(GHashTable) tracked = make_tracked ();
  g_autoptr(GError) error = NULL;

  headers = rs_reply_headers_parse (block, strlen (block), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (headers->from_name, ==, c->expected_name);
  g_assert_cmpstr (headers->subject, ==, c->expected_subject);
  g_assert_true (g_utf8_validate (headers->subject, -1, NULL));
  g_assert_cmpstr (rs_reply_match (headers, tracked, NULL), ==, TRACKED_A);
}

static void
test_missing_message_id (void)
{
  const char *block =
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "From: customer@example.org\r\n"
    "Subject: Re: hello\r\n"
    "Date: Fri, 01 Mar 2024 09:30:00 +0100\r\n\r\n";
  g_autoptr(RsReplyHeaders) first = rs_reply_headers_parse (block, strlen (block), NULL);
  g_autoptr(RsReplyHeaders) again = rs_reply_headers_parse (block, strlen (block), NULL);
  g_autoptr(GHashTable) tracked = make_tracked ();

  /* Stable, so the same reply found twice is stored once. */
  g_assert_true (first->message_id_synthesized);
  g_assert_cmpstr (first->message_id, ==, again->message_id);
  g_assert_true (g_str_has_suffix (first->message_id, "@no-message-id.invalid"));
  g_assert_cmpstr (rs_reply_match (first, tracked, NULL), ==, TRACKED_A);
}

static gboolean
only_b_cb (const char *message_id,
           gpointer    user_data)
{
  (*(guint *) user_data)++;
  return g_str_equal (message_id, TRACKED_B);
}

static void
test_lookup_func (void)
{
  const char *block =
    "Message-ID: <x@customer.example.org>\r\n"
    "In-Reply-To: <" TRACKED_A ">\r\n"
    "References: <" TRACKED_B "> <" TRACKED_A ">\r\n"
    "From: customer@example.org\r\n\r\n";
  g_autoptr(RsReplyHeaders) headers = rs_reply_headers_parse (block, strlen (block), NULL);
  guint calls = 0;

  g_assert_cmpstr (rs_reply_match_with_func (headers, only_b_cb, &calls, NULL), ==, TRACKED_B);
  g_assert_cmpuint (calls, >, 0);
}

static void
test_threading_only (void)
{
  g_autoptr(GHashTable) tracked = make_tracked ();
  g_autofree char *by_irt = rs_reply_match_threading_only ("<" TRACKED_A ">", NULL, tracked);
  g_autofree char *by_refs = rs_reply_match_threading_only (NULL, "<a@x>\r\n <" TRACKED_B ">", tracked);
  g_autofree char *none = rs_reply_match_threading_only ("<a@x>", "<b@x>", tracked);
  g_autofree char *empty = rs_reply_match_threading_only (NULL, NULL, tracked);
  const char *block = "In-Reply-To: <unrelated@x>\r\nReferences: <" TRACKED_A ">\r\n <b@x>\r\n\r\n";
  const char *plain = "\r\n";
  g_autofree char *by_block = rs_reply_match_threading_block (block, strlen (block), tracked);
  g_autofree char *by_plain = rs_reply_match_threading_block (plain, strlen (plain), tracked);

  g_assert_cmpstr (by_irt, ==, TRACKED_A);
  g_assert_cmpstr (by_refs, ==, TRACKED_B);
  g_assert_null (none);
  g_assert_null (empty);
  g_assert_cmpstr (by_block, ==, TRACKED_A);
  g_assert_null (by_plain);
}

static void
test_threading_block_speed (void)
{
  g_autoptr(GHashTable) tracked = make_tracked ();
  const char *block = "In-Reply-To: <q1@x.example>\r\nReferences: <p1@x.example> <q1@x.example>\r\n\r\n";
  const guint n = 20000;
  gint64 start = g_get_monotonic_time ();
  double per_message_us;

  for (guint i = 0; i < n; i++)
    g_assert_null (rs_reply_match_threading_block (block, strlen (block), tracked));

  per_message_us = (double) (g_get_monotonic_time () - start) / n;
  g_test_message ("threading pre-filter: %.1f µs per message", per_message_us);

  /* 50,000 messages must cost well under the ~0.4 s the whole scan may
   * take (shared/REFERENCE.md); 8 µs each is 0.4 s. */
  if (!g_test_perf ())
    return;
  g_assert_cmpfloat (per_message_us, <, 8.0);
}

static void
test_normalize (void)
{
  g_autofree char *a = rs_message_id_normalize ("<abc@example.com>");
  g_autofree char *b = rs_message_id_normalize ("  abc@example.com ");
  g_autofree char *c = rs_message_id_normalize ("<>");

  g_assert_cmpstr (a, ==, "abc@example.com");
  g_assert_cmpstr (b, ==, "abc@example.com");
  g_assert_null (c);
  g_assert_null (rs_message_id_normalize (NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (match_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply-match/table/%s", match_cases[i].name);

      g_test_add_data_func (path, &match_cases[i], test_match_case);
    }

  for (guint i = 0; i < G_N_ELEMENTS (encoding_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply-match/encoding/%s", encoding_cases[i].name);

      g_test_add_data_func (path, &encoding_cases[i], test_encoding_case);
    }

  g_test_add_func ("/reply-match/fields", test_fields);
  g_test_add_func ("/reply-match/missing-message-id", test_missing_message_id);
  g_test_add_func ("/reply-match/lookup-func", test_lookup_func);
  g_test_add_func ("/reply-match/threading-only", test_threading_only);
  g_test_add_func ("/reply-match/threading-block-speed", test_threading_block_speed);
  g_test_add_func ("/reply-match/normalize", test_normalize);

  return g_test_run ();
}
