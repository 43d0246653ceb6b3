/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-validate"

#include "config.h"

#include "rs-error.h"
#include "rs-validate.h"

static void
test_addresses (void)
{
  static const struct {
    const char *address;
    gboolean    valid;
  } cases[] = {
    { "ada@example.com", TRUE },
    { "ada.lovelace+rs@mail.example.co.uk", TRUE },
    { "jörg@bücher.example", TRUE },
    { "", FALSE },
    { "ada", FALSE },
    { "ada@", FALSE },
    { "@example.com", FALSE },
    { "ada@@example.com", FALSE },
    { "a@b@example.com", FALSE },
    { "ada @example.com", FALSE },
    { "ada@example.com ", FALSE },
    { "ada@example", FALSE },
    { "ada@-example.com", FALSE },
    { "ada@exa_mple.com", FALSE },
    { "ada@example..com", FALSE },
    { "ada\t@example.com", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ret = rs_validate_address (cases[i].address, &error);

      g_test_message ("address “%s”", cases[i].address);
      g_assert_cmpint (ret, ==, cases[i].valid);
      if (!cases[i].valid)
        {
          g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
          g_assert_cmpstr (error->message, !=, "");
        }
    }
}

static void
test_hostnames (void)
{
  static const struct {
    const char *host;
    gboolean    valid;
  } cases[] = {
    { "imap.example.com", TRUE },
    { "localhost", TRUE },
    { "127.0.0.1", TRUE },
    { "::1", TRUE },
    { "mail.example.com.", TRUE },
    { "", FALSE },
    { "imap example.com", FALSE },
    { "imap.example.com:993", FALSE },
    { "https://imap.example.com", FALSE },
    { "-bad.example.com", FALSE },
    { "a..b", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("host “%s”", cases[i].host);
      g_assert_cmpint (rs_validate_hostname ("IMAP server", cases[i].host, &error), ==, cases[i].valid);
      if (!cases[i].valid)
        g_assert_nonnull (strstr (error->message, "IMAP server"));
    }
}

static void
test_ports (void)
{
  static const struct {
    const char *text;
    guint16     port;  /* 0 = invalid */
  } cases[] = {
    { "993", 993 },
    { "1", 1 },
    { "65535", 65535 },
    { "0", 0 },
    { "65536", 0 },
    { "-1", 0 },
    { "99a", 0 },
    { " 993", 0 },
    { "", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint16 port = 0;
      gboolean ret = rs_parse_port ("IMAP port", cases[i].text, &port, &error);

      g_test_message ("port “%s”", cases[i].text);
      g_assert_cmpint (ret, ==, cases[i].port != 0);
      if (ret)
        g_assert_cmpuint (port, ==, cases[i].port);
      else
        g_assert_error (error, RS_ERROR, RS_ERROR_INPUT);
    }
}

static void
test_port_security_pairs (void)
{
  g_assert_cmpuint (rs_default_port (RS_SERVICE_IMAP, RS_SECURITY_TLS), ==, 993);
  g_assert_cmpuint (rs_default_port (RS_SERVICE_IMAP, RS_SECURITY_STARTTLS), ==, 143);
  g_assert_cmpuint (rs_default_port (RS_SERVICE_SMTP, RS_SECURITY_TLS), ==, 465);
  g_assert_cmpuint (rs_default_port (RS_SERVICE_SMTP, RS_SECURITY_STARTTLS), ==, 587);
  g_assert_cmpint (rs_security_for_port (RS_SERVICE_IMAP, 143), ==, RS_SECURITY_STARTTLS);
  g_assert_cmpint (rs_security_for_port (RS_SERVICE_IMAP, 993), ==, RS_SECURITY_TLS);
  g_assert_cmpint (rs_security_for_port (RS_SERVICE_IMAP, 10993), ==, RS_SECURITY_TLS);
  g_assert_cmpint (rs_security_for_port (RS_SERVICE_SMTP, 587), ==, RS_SECURITY_STARTTLS);
  g_assert_cmpint (rs_security_for_port (RS_SERVICE_SMTP, 465), ==, RS_SECURITY_TLS);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/validate/addresses", test_addresses);
  g_test_add_func ("/validate/hostnames", test_hostnames);
  g_test_add_func ("/validate/ports", test_ports);
  g_test_add_func ("/validate/port-security-pairs", test_port_security_pairs);

  return g_test_run ();
}
