/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-netns"

/*
 * The bed of rs-test-netns.h: real dnsmasq and lighttpd inside the test's
 * network namespace.
 *
 * One exception to "real servers, not mocks": the hanging hosts.  A peer
 * that accepts a connection and then says nothing is what a firewall that
 * drops packets, an overloaded server or a captive portal looks like, and no
 * real server can be told to do it; so the hanging listeners are plain
 * listening sockets nobody ever accepts from — the kernel completes the TCP
 * handshake, and no byte ever comes back.  Likewise the name server of the
 * unanswered domains is a UDP socket nobody reads.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "rs-test-netns.h"
#include "rs-test-utils.h"

#define START_TIMEOUT_US  (10 * G_USEC_PER_SEC)
#define SYSTEM_BUNDLE     "/etc/ssl/certs/ca-certificates.crt"

typedef struct
{
  gboolean  https;
  char     *host;
  char     *path;
  char     *contents;  /* NULL for a redirect */
  char     *location;
} WebEntry;

struct _RsTestNetns
{
  char       *folder;
  GString    *dns;        /* dnsmasq records */
  GPtrArray  *names;      /* every name, for the certificate */
  GHashTable *addresses;  /* name → address of its A record */
  GPtrArray  *web;        /* WebEntry */
  gboolean    hanging;
  gboolean    unanswered;
  GPtrArray  *hang_sockets;
  GPtrArray  *processes;
  RsTestCa   *ca;
  char       *cert_file;
  char       *key_file;
};

static const guint16 hang_ports[] = { 80, 443, 143, 993, 587, 465 };

static void
web_entry_free (gpointer data)
{
  WebEntry *entry = data;

  g_free (entry->host);
  g_free (entry->path);
  g_free (entry->contents);
  g_free (entry->location);
  g_free (entry);
}

static gboolean
program_exists (const char  *path,
                char       **reason)
{
  if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;

  if (reason != NULL)
    *reason = g_strdup_printf ("%s is not installed (see tools/debian-packages.txt)", path);
  return FALSE;
}

gboolean
rs_test_netns_available (char **reason)
{
  const char *skip = g_getenv ("RS_TEST_NETNS_SKIP");
  g_autofree char *openssl = NULL;

  if (skip != NULL)
    {
      if (reason != NULL)
        *reason = g_strdup_printf ("no network namespace: %s", skip);
      return FALSE;
    }

  if (g_getenv ("RS_TEST_NETNS") == NULL || g_getenv ("RS_TEST_NETNS_CA_BUNDLE") == NULL)
    {
      if (reason != NULL)
        *reason = g_strdup ("runs only inside a network namespace of tests/harness/rs-netns-run");
      return FALSE;
    }

  openssl = g_find_program_in_path ("openssl");
  if (openssl == NULL)
    {
      if (reason != NULL)
        *reason = g_strdup ("openssl is not installed (see tools/debian-packages.txt)");
      return FALSE;
    }

  return program_exists ("/usr/sbin/dnsmasq", reason) &&
         program_exists ("/usr/sbin/lighttpd", reason);
}

RsTestNetns *
rs_test_netns_new (void)
{
  RsTestNetns *bed = g_new0 (RsTestNetns, 1);

  bed->dns = g_string_new (NULL);
  bed->names = g_ptr_array_new_with_free_func (g_free);
  bed->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  bed->web = g_ptr_array_new_with_free_func (web_entry_free);
  bed->hang_sockets = g_ptr_array_new_with_free_func (g_object_unref);
  bed->processes = g_ptr_array_new_with_free_func (g_object_unref);

  return bed;
}

void
rs_test_netns_free (RsTestNetns *bed)
{
  if (bed == NULL)
    return;

  for (guint i = bed->processes->len; i > 0; i--)
    {
      GSubprocess *process = bed->processes->pdata[i - 1];

      g_subprocess_send_signal (process, SIGTERM);
      g_subprocess_wait (process, NULL, NULL);
    }

  for (guint i = 0; i < bed->hang_sockets->len; i++)
    g_socket_close (bed->hang_sockets->pdata[i], NULL);

  if (bed->folder != NULL && g_getenv ("RS_TEST_KEEP_SERVER_FOLDERS") == NULL)
    rs_test_remove_tree (bed->folder);

  g_clear_pointer (&bed->ca, rs_test_ca_unref);
  g_string_free (bed->dns, TRUE);
  g_ptr_array_unref (bed->names);
  g_hash_table_unref (bed->addresses);
  g_ptr_array_unref (bed->web);
  g_ptr_array_unref (bed->hang_sockets);
  g_ptr_array_unref (bed->processes);
  g_free (bed->folder);
  g_free (bed->cert_file);
  g_free (bed->key_file);
  g_free (bed);
}

static gboolean
valid_name (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;

  return TRUE;
}

static void
add_name (RsTestNetns *bed,
          const char  *name)
{
  for (guint i = 0; i < bed->names->len; i++)
    if (g_ascii_strcasecmp (bed->names->pdata[i], name) == 0)
      return;

  g_ptr_array_add (bed->names, g_strdup (name));
}

void
rs_test_netns_add_host (RsTestNetns *bed,
                        const char  *name,
                        const char  *address)
{
  g_autoptr(GInetAddress) inet = NULL;
  const char *known;

  g_return_if_fail (bed != NULL);
  g_return_if_fail (bed->folder == NULL);
  g_return_if_fail (valid_name (name));
  g_return_if_fail (address != NULL);

  inet = g_inet_address_new_from_string (address);
  g_return_if_fail (inet != NULL && g_inet_address_get_is_loopback (inet));

  known = g_hash_table_lookup (bed->addresses, name);
  if (known != NULL)
    {
      g_return_if_fail (g_str_equal (known, address));
      return;
    }

  g_hash_table_insert (bed->addresses, g_strdup (name), g_strdup (address));
  add_name (bed, name);
  g_string_append_printf (bed->dns, "host-record=%s,%s\n", name, address);
}

void
rs_test_netns_add_mx (RsTestNetns *bed,
                      const char  *domain,
                      const char  *host,
                      guint        preference)
{
  g_return_if_fail (bed != NULL);
  g_return_if_fail (bed->folder == NULL);
  g_return_if_fail (valid_name (domain));
  g_return_if_fail (valid_name (host));

  g_string_append_printf (bed->dns, "mx-host=%s,%s,%u\n", domain, host, preference);
}

void
rs_test_netns_add_srv (RsTestNetns *bed,
                       const char  *name,
                       const char  *target,
                       guint16      port,
                       guint16      priority,
                       guint16      weight)
{
  g_return_if_fail (bed != NULL);
  g_return_if_fail (bed->folder == NULL);
  g_return_if_fail (valid_name (name) && name[0] == '_');
  g_return_if_fail (target == NULL || valid_name (target));

  /* dnsmasq's empty target is the root, ".". */
  g_string_append_printf (bed->dns, "srv-host=%s,%s,%u,%u,%u\n",
                          name, target ? target : "", port, priority, weight);
}

static void
add_web_entry (RsTestNetns *bed,
               gboolean     https,
               const char  *host,
               const char  *path,
               const char  *contents,
               const char  *location)
{
  WebEntry *entry;

  g_return_if_fail (bed != NULL);
  g_return_if_fail (bed->folder == NULL);
  g_return_if_fail (valid_name (host));
  g_return_if_fail (path != NULL && path[0] == '/' && strstr (path, "..") == NULL);
  g_return_if_fail (strpbrk (path, "?#\"\\ ") == NULL);
  g_return_if_fail (location == NULL || strpbrk (location, "\"\\$% \n") == NULL);

  rs_test_netns_add_host (bed, host, RS_TEST_NETNS_WEB_ADDRESS);

  entry = g_new0 (WebEntry, 1);
  entry->https = https;
  entry->host = g_strdup (host);
  entry->path = g_strdup (path);
  entry->contents = g_strdup (contents);
  entry->location = g_strdup (location);
  g_ptr_array_add (bed->web, entry);
}

void
rs_test_netns_add_web_file (RsTestNetns *bed,
                            gboolean     https,
                            const char  *host,
                            const char  *path,
                            const char  *contents)
{
  g_return_if_fail (contents != NULL);

  add_web_entry (bed, https, host, path, contents, NULL);
}

void
rs_test_netns_add_web_redirect (RsTestNetns *bed,
                                gboolean     https,
                                const char  *host,
                                const char  *path,
                                const char  *location)
{
  g_return_if_fail (location != NULL);

  add_web_entry (bed, https, host, path, NULL, location);
}

void
rs_test_netns_add_hanging_host (RsTestNetns *bed,
                                const char  *host)
{
  g_return_if_fail (bed != NULL);

  rs_test_netns_add_host (bed, host, RS_TEST_NETNS_HANG_ADDRESS);
  bed->hanging = TRUE;
}

void
rs_test_netns_add_unanswered_domain (RsTestNetns *bed,
                                     const char  *domain)
{
  g_return_if_fail (bed != NULL);
  g_return_if_fail (bed->folder == NULL);
  g_return_if_fail (valid_name (domain));

  /* More specific than "local=/#/", so it wins for these names. */
  g_string_append_printf (bed->dns, "server=/%s/" RS_TEST_NETNS_HANG_ADDRESS "#53\n", domain);
  bed->unanswered = TRUE;
}

/* ---- Starting ---- */

static void
child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  /* dnsmasq and lighttpd stay root here, so the kernel keeps this. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    _exit (1);
}

static gboolean
spawn (RsTestNetns         *bed,
       const char          *output_name,
       const char * const  *argv,
       GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *output = g_build_filename (bed->folder, output_name, NULL);
  GSubprocess *process;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_cwd (launcher, bed->folder);
  g_subprocess_launcher_set_stdout_file_path (launcher, output);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);

  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL)
    return FALSE;

  g_ptr_array_add (bed->processes, process);
  return TRUE;
}

static gboolean
udp_port_is_bound (const char *kernel_address)
{
  g_autofree char *contents = NULL;

  return g_file_get_contents ("/proc/net/udp", &contents, NULL, NULL) &&
         strstr (contents, kernel_address) != NULL;
}

static gboolean
wait_until (RsTestNetns  *bed,
            const char   *what,
            const char   *output_name,
            gboolean    (*ready) (RsTestNetns *bed),
            GError      **error)
{
  gint64 deadline = g_get_monotonic_time () + START_TIMEOUT_US;
  GSubprocess *process = g_ptr_array_index (bed->processes, bed->processes->len - 1);

  while (!ready (bed))
    {
      if (g_subprocess_get_identifier (process) == NULL || g_get_monotonic_time () > deadline)
        {
          g_autofree char *path = g_build_filename (bed->folder, output_name, NULL);
          g_autofree char *output = NULL;

          g_file_get_contents (path, &output, NULL, NULL);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s did not start within 10 s: %s", what, output ? output : "");
          return FALSE;
        }
      g_usleep (10 * 1000);
    }

  return TRUE;
}

static gboolean
dnsmasq_ready (RsTestNetns *bed)
{
  /* 127.0.0.1:53 as the kernel prints it. */
  return udp_port_is_bound ("0100007F:0035");
}

static gboolean
start_dnsmasq (RsTestNetns  *bed,
               GError      **error)
{
  g_autofree char *conf_path = g_build_filename (bed->folder, "dnsmasq.conf", NULL);
  g_autofree char *conf_arg = g_strdup_printf ("--conf-file=%s", conf_path);
  g_autofree char *conf = NULL;

  /* Only the records of the bed: no upstream, no /etc/hosts, and every
   * other name (under any domain, "#") does not exist. */
  conf = g_strdup_printf ("# Written by the Retailsphere test harness.\n"
                          "user=root\n"
                          "no-resolv\n"
                          "no-hosts\n"
                          "no-poll\n"
                          "no-negcache\n"
                          "port=53\n"
                          "listen-address=127.0.0.1\n"
                          "bind-interfaces\n"
                          "pid-file=\n"
                          "log-queries\n"
                          "log-facility=%s/dnsmasq.log\n"
                          "local=/#/\n"
                          "%s",
                          bed->folder, bed->dns->str);

  if (!g_file_set_contents (conf_path, conf, -1, error))
    return FALSE;

  return spawn (bed, "dnsmasq.out",
                (const char * const[]) { "/usr/sbin/dnsmasq", "--keep-in-foreground",
                                         conf_arg, NULL },
                error) &&
         wait_until (bed, "dnsmasq", "dnsmasq.out", dnsmasq_ready, error);
}

static char *
regex_escape_path (const char *path)
{
  GString *out = g_string_new ("^");

  for (const char *p = path; *p != '\0'; p++)
    {
      if (strchr (".+*?()[]{}|^$", *p) != NULL)
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append (out, "(\\?.*)?$");

  return g_string_free (out, FALSE);
}

static gboolean
lighttpd_ready (RsTestNetns *bed)
{
  return rs_test_address_is_listening (RS_TEST_NETNS_WEB_ADDRESS, 443) &&
         rs_test_address_is_listening (RS_TEST_NETNS_WEB_ADDRESS, 80);
}

static gboolean
start_lighttpd (RsTestNetns  *bed,
                GError      **error)
{
  g_autoptr(GString) conf = g_string_new (NULL);
  g_autofree char *conf_path = g_build_filename (bed->folder, "lighttpd.conf", NULL);
  g_autofree char *empty = g_build_filename (bed->folder, "www", "empty", NULL);

  if (g_mkdir_with_parents (empty, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "mkdir %s: %s", empty, g_strerror (errno));
      return FALSE;
    }

  g_string_append_printf (conf,
    "# Written by the Retailsphere test harness.\n"
    "server.modules = (\"mod_openssl\", \"mod_redirect\", \"mod_accesslog\")\n"
    "server.document-root = \"%s\"\n"
    "server.bind = \"" RS_TEST_NETNS_WEB_ADDRESS "\"\n"
    "server.port = 80\n"
    "server.errorlog = \"%s/lighttpd-error.log\"\n"
    /* Through a pipe, lighttpd writes each line at once. */
    "accesslog.filename = \"|exec /bin/cat >>%s/access.log\"\n"
    "accesslog.format = \"%%V %%p \\\"%%r\\\" %%s\"\n"
    "mimetype.assign = (\".xml\" => \"application/xml\", \"\" => \"application/xml\")\n"
    "$SERVER[\"socket\"] == \"" RS_TEST_NETNS_WEB_ADDRESS ":443\" {\n"
    "  ssl.engine = \"enable\"\n"
    "  ssl.pemfile = \"%s\"\n"
    "  ssl.privkey = \"%s\"\n"
    "}\n",
    empty, bed->folder, bed->folder, bed->cert_file, bed->key_file);

  for (int https = 1; https >= 0; https--)
    {
      g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);

      g_string_append_printf (conf, "$HTTP[\"scheme\"] == \"%s\" {\n", https ? "https" : "http");

      for (guint i = 0; i < bed->web->len; i++)
        {
          WebEntry *entry = bed->web->pdata[i];
          g_autofree char *root = NULL;
          gboolean first_redirect = TRUE;

          if (entry->https != https || g_hash_table_contains (done, entry->host))
            continue;
          g_hash_table_add (done, entry->host);

          root = g_build_filename (bed->folder, "www", https ? "https" : "http", entry->host, NULL);
          if (g_mkdir_with_parents (root, 0755) != 0)
            {
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                           "mkdir %s: %s", root, g_strerror (errno));
              return FALSE;
            }

          g_string_append_printf (conf,
                                  "  $HTTP[\"host\"] == \"%s\" {\n"
                                  "    server.document-root = \"%s\"\n",
                                  entry->host, root);

          /* Every entry of this host. */
          for (guint j = i; j < bed->web->len; j++)
            {
              WebEntry *other = bed->web->pdata[j];

              if (other->https != https || !g_str_equal (other->host, entry->host))
                continue;

              if (other->location != NULL)
                {
                  /* lighttpd reads backslashes in strings as they are. */
                  g_autofree char *pattern = regex_escape_path (other->path);

                  g_string_append_printf (conf, "    %s\"%s\" => \"%s\"",
                                          first_redirect ? "url.redirect = (" : ", ",
                                          pattern, other->location);
                  first_redirect = FALSE;
                }
              else
                {
                  g_autofree char *file = g_build_filename (root, other->path, NULL);
                  g_autofree char *dir = g_path_get_dirname (file);

                  if (g_mkdir_with_parents (dir, 0755) != 0 ||
                      !g_file_set_contents (file, other->contents, -1, error))
                    {
                      if (error != NULL && *error == NULL)
                        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                                     "mkdir %s: %s", dir, g_strerror (errno));
                      return FALSE;
                    }
                }
            }

          if (!first_redirect)
            g_string_append (conf, ")\n    url.redirect-code = 301\n");
          g_string_append (conf, "  }\n");
        }

      g_string_append (conf, "}\n");
    }

  if (!g_file_set_contents (conf_path, conf->str, -1, error))
    return FALSE;

  return spawn (bed, "lighttpd.out",
                (const char * const[]) { "/usr/sbin/lighttpd", "-D", "-f", conf_path, NULL },
                error) &&
         wait_until (bed, "lighttpd", "lighttpd.out", lighttpd_ready, error);
}

/* A name server that reads nothing and answers nothing. */
static gboolean
start_unanswering_dns (RsTestNetns  *bed,
                       GError      **error)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (RS_TEST_NETNS_HANG_ADDRESS);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, 53);
  g_autoptr(GSocket) sock = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (sock == NULL || !g_socket_bind (sock, socket_address, TRUE, error))
    return FALSE;

  g_ptr_array_add (bed->hang_sockets, g_steal_pointer (&sock));
  return TRUE;
}

static gboolean
start_hanging (RsTestNetns  *bed,
               GError      **error)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (RS_TEST_NETNS_HANG_ADDRESS);

  for (guint i = 0; i < G_N_ELEMENTS (hang_ports); i++)
    {
      g_autoptr(GSocket) sock = NULL;
      g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, hang_ports[i]);

      sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
      if (sock == NULL)
        return FALSE;

      /* Never accepted from: the kernel answers the handshake for up to
       * this many connections, and then the peer waits forever. */
      g_socket_set_listen_backlog (sock, 128);
      if (!g_socket_bind (sock, socket_address, TRUE, error) ||
          !g_socket_listen (sock, error))
        return FALSE;

      g_ptr_array_add (bed->hang_sockets, g_steal_pointer (&sock));
    }

  return TRUE;
}

/* Adds the test CA to the namespace's trust store, through its real path
 * (never the system's own file), and checks that this process sees it at
 * the standard path — proof that it runs inside the namespace. */
static gboolean
trust_ca (RsTestNetns  *bed,
          GError      **error)
{
  const char *bundle = g_getenv ("RS_TEST_NETNS_CA_BUNDLE");
  g_autofree char *pem = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *seen = NULL;

  if (bundle == NULL || !g_str_has_prefix (bundle, "/etc/netns/"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "RS_TEST_NETNS_CA_BUNDLE must be the namespace's own bundle, not %s",
                   bundle ? bundle : "unset");
      return FALSE;
    }

  if (!g_file_get_contents (rs_test_ca_get_ca_file (bed->ca), &pem, NULL, error) ||
      !g_file_get_contents (bundle, &before, NULL, error))
    return FALSE;

  after = g_strconcat (before, "\n# Retailsphere Test CA\n", pem, NULL);
  if (!g_file_set_contents (bundle, after, -1, error) ||
      !g_file_get_contents (SYSTEM_BUNDLE, &seen, NULL, error))
    return FALSE;

  if (strstr (seen, pem) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s does not show the namespace's bundle %s: not inside the namespace?",
                   SYSTEM_BUNDLE, bundle);
      return FALSE;
    }

  return TRUE;
}

gboolean
rs_test_netns_start (RsTestNetns  *bed,
                     GError      **error)
{
  g_return_val_if_fail (bed != NULL, FALSE);
  g_return_val_if_fail (bed->folder == NULL, FALSE);

  bed->folder = g_dir_make_tmp ("rs-test-netns-XXXXXX", error);
  if (bed->folder == NULL)
    return FALSE;
  g_chmod (bed->folder, 0755);

  /* Also the servers' own addresses, for clients that name them so. */
  add_name (bed, "localhost");

  bed->ca = rs_test_ca_new (NULL, error);
  if (bed->ca == NULL)
    return FALSE;

  g_ptr_array_add (bed->names, NULL);
  if (!rs_test_ca_issue (bed->ca, "netns", (const char * const *) bed->names->pdata,
                         &bed->cert_file, &bed->key_file, error))
    return FALSE;
  g_ptr_array_remove_index (bed->names, bed->names->len - 1);

  return trust_ca (bed, error) &&
         (!bed->unanswered || start_unanswering_dns (bed, error)) &&
         start_dnsmasq (bed, error) &&
         start_lighttpd (bed, error) &&
         (!bed->hanging || start_hanging (bed, error));
}

const char *
rs_test_netns_get_name (RsTestNetns *bed)
{
  g_return_val_if_fail (bed != NULL, NULL);

  return g_getenv ("RS_TEST_NETNS");
}

RsTestCa *
rs_test_netns_get_ca (RsTestNetns *bed)
{
  g_return_val_if_fail (bed != NULL, NULL);

  return bed->ca;
}

const char *
rs_test_netns_get_cert_file (RsTestNetns *bed)
{
  g_return_val_if_fail (bed != NULL, NULL);

  return bed->cert_file;
}

const char *
rs_test_netns_get_key_file (RsTestNetns *bed)
{
  g_return_val_if_fail (bed != NULL, NULL);

  return bed->key_file;
}

char *
rs_test_netns_read_web_log (RsTestNetns *bed)
{
  g_autofree char *path = NULL;
  char *contents = NULL;

  g_return_val_if_fail (bed != NULL, NULL);

  if (bed->folder == NULL)
    return g_strdup ("");

  path = g_build_filename (bed->folder, "access.log", NULL);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");

  return contents;
}

gboolean
rs_test_netns_wait_web_log (RsTestNetns *bed,
                            const char  *text,
                            guint        timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_return_val_if_fail (bed != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  for (;;)
    {
      g_autofree char *log = rs_test_netns_read_web_log (bed);

      if (strstr (log, text) != NULL)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (50 * 1000);
    }
}
