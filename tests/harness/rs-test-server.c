/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rs-test-server"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "rs-test-server.h"
#include "rs-test-utils.h"

#define DEFAULT_USER      "test@example.test"
#define HOST              "127.0.0.1"
#define START_TIMEOUT_US  (10 * G_USEC_PER_SEC)
#define STOP_TIMEOUT_US   (10 * G_USEC_PER_SEC)
#define START_ATTEMPTS    3
#define EXIM_USER         "Debian-exim"
/* Exim gives up root (see exim_config()), so it can only deliver as its own
 * user; Dovecot's mail user is the same, so both can share a maildir. */
#define MAIL_USER         EXIM_USER

struct _RsTestCa
{
  gatomicrefcount  ref_count;
  gboolean         owns_folder;
  char            *folder;
  char            *ca_file;
  char            *cert_files[RS_TEST_CERT_SELF_SIGNED + 1];
  char            *key_files[RS_TEST_CERT_SELF_SIGNED + 1];
};

struct _RsTestServer
{
  char       *kind;
  char       *folder;
  char       *log_path;
  char       *maildir;
  char       *config_path;
  char       *user;
  char       *password;
  RsTestCa   *ca;
  RsTestCert  certificate;
  char       *address;     /* the loopback address it listens on */
  char       *cert_file;   /* NULL: the CA's file for certificate */
  char       *key_file;
  char       *pid_file;    /* where the main server process writes its id */
  GPtrArray  *processes;   /* GSubprocess, the first is the main one */
  GHashTable *ports;       /* name → port */
  gboolean    standard_ports;
};

static const struct {
  const char *name;
  const char *common_name;
  const char *alt_names;
  const char *start;
  const char *end;
} cert_kinds[] = {
  [RS_TEST_CERT_VALID] =
    { "valid", "localhost", "DNS:localhost,IP:127.0.0.1", "20240101000000Z", "20991231000000Z" },
  [RS_TEST_CERT_EXPIRED] =
    { "expired", "localhost", "DNS:localhost,IP:127.0.0.1", "20200101000000Z", "20210101000000Z" },
  [RS_TEST_CERT_NOT_YET_VALID] =
    { "not-yet-valid", "localhost", "DNS:localhost,IP:127.0.0.1", "20900101000000Z", "20991231000000Z" },
  [RS_TEST_CERT_WRONG_HOST] =
    { "wrong-host", "wrong.example.test", "DNS:wrong.example.test", "20240101000000Z", "20991231000000Z" },
  [RS_TEST_CERT_SELF_SIGNED] =
    { "self-signed", "localhost", "DNS:localhost,IP:127.0.0.1", NULL, NULL },
};

/* Every server runs under this small guard, the leader of its own process
 * group.  The guard gets SIGTERM when the test process dies (Exim changes
 * its user, and the kernel then forgets its parent-death signal; Dovecot's
 * master takes seconds to stop its children one by one) and passes it to the
 * whole group at once, and a second later SIGKILL. */
static const char guard_script[] =
  "term=0\n"
  "trap 'term=1; trap \"\" TERM INT; kill -TERM 0; sleep 1; kill -KILL 0' TERM INT\n"
  "\"$@\" &\n"
  "child=$!\n"
  "[ \"$term\" = 1 ] && kill -KILL \"$child\" 2>/dev/null\n"
  "while :; do\n"
  "  wait \"$child\"; status=$?\n"
  "  kill -0 \"$child\" 2>/dev/null || break\n"
  "done\n"
  "exit $status\n";

static const char ca_config[] =
  "[ ca ]\n"
  "default_ca = test_ca\n"
  "[ test_ca ]\n"
  "dir = .\n"
  "database = index.txt\n"
  "new_certs_dir = .\n"
  "serial = serial\n"
  "default_md = sha256\n"
  "policy = policy_any\n"
  "copy_extensions = copy\n"
  "unique_subject = no\n"
  "[ policy_any ]\n"
  "commonName = supplied\n"
  "[ req ]\n"
  "distinguished_name = dn\n"
  "prompt = no\n"
  "[ dn ]\n"
  "CN = unused\n"
  "[ ca_ext ]\n"
  "basicConstraints = critical, CA:true\n"
  "keyUsage = critical, keyCertSign, cRLSign\n"
  "subjectKeyIdentifier = hash\n"
  "[ server_ext ]\n"
  "basicConstraints = critical, CA:false\n"
  "keyUsage = critical, digitalSignature, keyEncipherment\n"
  "extendedKeyUsage = serverAuth\n"
  "subjectKeyIdentifier = hash\n"
  "authorityKeyIdentifier = keyid\n";

/* ---- Small helpers ---- */

static gboolean
run_command (const char  *cwd,
             const char  *input,
             char       **output,
             GError     **error,
             const char  *first_arg,
             ...) G_GNUC_NULL_TERMINATED;

static gboolean
run_command (const char  *cwd,
             const char  *input,
             char       **output,
             GError     **error,
             const char  *first_arg,
             ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  GSubprocessFlags flags;
  const char *arg;
  va_list args;

  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE;
  if (input != NULL)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;

  launcher = g_subprocess_launcher_new (flags);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (process == NULL)
    return FALSE;

  if (!g_subprocess_communicate_utf8 (process, input, NULL, &out, NULL, error))
    return FALSE;

  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_set_error (error, G_SPAWN_EXIT_ERROR, 1,
                   "%s failed: %s", first_arg, out ? out : "");
      return FALSE;
    }

  if (output != NULL)
    *output = g_steal_pointer (&out);

  return TRUE;
}

static gboolean
write_file (const char  *path,
            const char  *contents,
            int          mode,
            GError     **error)
{
  if (!g_file_set_contents (path, contents, -1, error))
    return FALSE;

  if (g_chmod (path, mode) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "chmod %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

static gboolean
make_folder (const char  *path,
             const char  *owner,
             GError     **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "mkdir %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  if (owner != NULL)
    return run_command (NULL, NULL, NULL, error, "chown", owner, path, NULL);

  return TRUE;
}

static char *
random_password (void)
{
  return g_strdup_printf ("pw-%08x%08x", g_random_int (), g_random_int ());
}

static guint16
pick_free_port (GError **error)
{
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return 0;

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (sock, address, FALSE, error))
    return 0;

  bound = g_socket_get_local_address (sock, error);
  if (bound == NULL)
    return 0;

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

gboolean
rs_test_port_is_listening (guint16 port)
{
  return rs_test_address_is_listening (HOST, port);
}

gboolean
rs_test_address_is_listening (const char *address,
                              guint16     port)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *local = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const guint8 *bytes;

  g_return_val_if_fail (address != NULL, FALSE);

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV4)
    return FALSE;
  bytes = g_inet_address_to_bytes (inet);

  /* Read the kernel's table rather than connecting, so that the servers'
   * logs only show the connections the tests make. */
  if (!g_file_get_contents ("/proc/net/tcp", &contents, NULL, NULL))
    return FALSE;

  /* The address as the kernel prints it: its four bytes, the last first. */
  local = g_strdup_printf ("%02X%02X%02X%02X:%04X",
                           bytes[3], bytes[2], bytes[1], bytes[0], port);
  lines = g_strsplit (contents, "\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr(GPtrArray) columns = g_ptr_array_new ();

      for (guint j = 0; fields[j] != NULL; j++)
        if (fields[j][0] != '\0')
          g_ptr_array_add (columns, fields[j]);

      /* "sl local_address rem_address st …"; 0A is LISTEN. */
      if (columns->len > 3 &&
          g_strcmp0 (columns->pdata[1], local) == 0 &&
          g_strcmp0 (columns->pdata[3], "0A") == 0)
        return TRUE;
    }

  return FALSE;
}

gboolean
rs_test_pid_is_gone (GPid pid)
{
  g_autofree char *stat_path = NULL;
  g_autofree char *contents = NULL;
  const char *state;

  if (pid <= 0)
    return TRUE;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;

  /* A process whose parent died waits as a zombie until someone reaps it;
   * in a container nobody might.  A zombie serves nothing. */
  stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (stat_path, &contents, NULL, NULL))
    return TRUE;

  state = strrchr (contents, ')');
  return state != NULL && (state[2] == 'Z' || state[2] == 'X');
}

/* ---- Test CA ---- */

static gboolean
make_signed_cert (RsTestCa    *ca,
                  RsTestCert   kind,
                  GError     **error)
{
  g_autofree char *csr = g_strdup_printf ("%s.csr", cert_kinds[kind].name);
  g_autofree char *subject = g_strdup_printf ("/CN=%s", cert_kinds[kind].common_name);
  g_autofree char *san = g_strdup_printf ("subjectAltName=%s", cert_kinds[kind].alt_names);

  if (kind == RS_TEST_CERT_SELF_SIGNED)
    return run_command (ca->folder, NULL, NULL, error,
                        "openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", ca->key_files[kind], "-out", ca->cert_files[kind],
                        "-days", "36500", "-subj", subject, "-addext", san,
                        "-addext", "basicConstraints=critical,CA:false",
                        "-addext", "extendedKeyUsage=serverAuth",
                        NULL);

  return run_command (ca->folder, NULL, NULL, error,
                      "openssl", "req", "-new", "-newkey", "ec",
                      "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", ca->key_files[kind], "-out", csr,
                      "-subj", subject, "-addext", san,
                      NULL) &&
         run_command (ca->folder, NULL, NULL, error,
                      "openssl", "ca", "-batch", "-notext", "-config", "ca.cnf",
                      "-extensions", "server_ext",
                      "-cert", ca->ca_file, "-keyfile", "ca-key.pem",
                      "-in", csr, "-out", ca->cert_files[kind],
                      "-startdate", cert_kinds[kind].start,
                      "-enddate", cert_kinds[kind].end,
                      NULL);
}

/* Folders of CAs made with no folder given.  A test that keeps a CA in a
 * static variable never drops the last reference; remove those at exit. */
G_LOCK_DEFINE_STATIC (owned_folders);
static GPtrArray *owned_folders;

static void
remove_owned_folders_at_exit (void)
{
  G_LOCK (owned_folders);
  if (owned_folders != NULL && g_getenv ("RS_TEST_KEEP_SERVER_FOLDERS") == NULL)
    {
      for (guint i = 0; i < owned_folders->len; i++)
        rs_test_remove_tree (owned_folders->pdata[i]);
    }
  G_UNLOCK (owned_folders);
}

static void
track_owned_folder (const char *folder,
                    gboolean    track)
{
  G_LOCK (owned_folders);
  if (owned_folders == NULL)
    {
      owned_folders = g_ptr_array_new_with_free_func (g_free);
      atexit (remove_owned_folders_at_exit);
    }
  if (track)
    {
      g_ptr_array_add (owned_folders, g_strdup (folder));
    }
  else
    {
      for (guint i = 0; i < owned_folders->len; i++)
        if (g_strcmp0 (owned_folders->pdata[i], folder) == 0)
          {
            g_ptr_array_remove_index_fast (owned_folders, i);
            break;
          }
    }
  G_UNLOCK (owned_folders);
}

RsTestCa *
rs_test_ca_new (const char  *folder,
                GError     **error)
{
  g_autoptr(RsTestCa) ca = NULL;

  ca = g_new0 (RsTestCa, 1);
  g_atomic_ref_count_init (&ca->ref_count);

  if (folder == NULL)
    {
      ca->folder = g_dir_make_tmp ("rs-test-ca-XXXXXX", error);
      if (ca->folder == NULL)
        return NULL;
      ca->owns_folder = TRUE;
      folder = ca->folder;
      track_owned_folder (folder, TRUE);

      /* Exim, no longer root, reads its certificate from here. */
      g_chmod (folder, 0755);
    }
  else
    {
      ca->folder = g_strdup (folder);
    }

  ca->ca_file = g_build_filename (folder, "ca.pem", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cert_kinds); i++)
    {
      g_autofree char *cert = g_strdup_printf ("%s.pem", cert_kinds[i].name);
      g_autofree char *key = g_strdup_printf ("%s-key.pem", cert_kinds[i].name);

      ca->cert_files[i] = g_build_filename (folder, cert, NULL);
      ca->key_files[i] = g_build_filename (folder, key, NULL);
    }

  if (!make_folder (folder, NULL, error))
    return NULL;

  {
    g_autofree char *config = g_build_filename (folder, "ca.cnf", NULL);
    g_autofree char *index_path = g_build_filename (folder, "index.txt", NULL);
    g_autofree char *serial = g_build_filename (folder, "serial", NULL);

    if (!write_file (config, ca_config, 0644, error) ||
        !write_file (index_path, "", 0644, error) ||
        !write_file (serial, "1000\n", 0644, error))
      return NULL;
  }

  if (!run_command (folder, NULL, NULL, error,
                    "openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "ca-key.pem", "-out", ca->ca_file,
                    "-days", "36500", "-subj", "/CN=Retailsphere Test CA",
                    "-config", "ca.cnf", "-extensions", "ca_ext",
                    NULL))
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cert_kinds); i++)
    {
      if (!make_signed_cert (ca, i, error))
        return NULL;

      /* Exim reads its key after dropping root; these keys guard nothing. */
      if (g_chmod (ca->key_files[i], 0644) != 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                       "chmod %s failed", ca->key_files[i]);
          return NULL;
        }
    }

  return g_steal_pointer (&ca);
}

RsTestCa *
rs_test_ca_ref (RsTestCa *ca)
{
  g_return_val_if_fail (ca != NULL, NULL);

  g_atomic_ref_count_inc (&ca->ref_count);
  return ca;
}

void
rs_test_ca_unref (RsTestCa *ca)
{
  g_return_if_fail (ca != NULL);

  if (!g_atomic_ref_count_dec (&ca->ref_count))
    return;

  if (ca->owns_folder)
    {
      track_owned_folder (ca->folder, FALSE);
      if (g_getenv ("RS_TEST_KEEP_SERVER_FOLDERS") == NULL)
        rs_test_remove_tree (ca->folder);
    }

  g_free (ca->folder);
  g_free (ca->ca_file);
  for (guint i = 0; i < G_N_ELEMENTS (cert_kinds); i++)
    {
      g_free (ca->cert_files[i]);
      g_free (ca->key_files[i]);
    }
  g_free (ca);
}

const char *
rs_test_ca_get_ca_file (RsTestCa *ca)
{
  g_return_val_if_fail (ca != NULL, NULL);

  return ca->ca_file;
}

const char *
rs_test_ca_get_cert_file (RsTestCa   *ca,
                          RsTestCert  cert)
{
  g_return_val_if_fail (ca != NULL, NULL);
  g_return_val_if_fail (cert <= RS_TEST_CERT_SELF_SIGNED, NULL);

  return ca->cert_files[cert];
}

const char *
rs_test_ca_get_key_file (RsTestCa   *ca,
                         RsTestCert  cert)
{
  g_return_val_if_fail (ca != NULL, NULL);
  g_return_val_if_fail (cert <= RS_TEST_CERT_SELF_SIGNED, NULL);

  return ca->key_files[cert];
}

gboolean
rs_test_ca_issue (RsTestCa            *ca,
                  const char          *name,
                  const char * const  *hosts,
                  char               **cert_file,
                  char               **key_file,
                  GError             **error)
{
  g_autoptr(GString) san = g_string_new ("subjectAltName=");
  g_autofree char *subject = NULL;
  g_autofree char *csr = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;

  g_return_val_if_fail (ca != NULL, FALSE);
  g_return_val_if_fail (name != NULL && strchr (name, '/') == NULL, FALSE);
  g_return_val_if_fail (hosts != NULL && hosts[0] != NULL, FALSE);

  for (guint i = 0; hosts[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (hosts[i]);

      g_return_val_if_fail (strpbrk (hosts[i], ",/\n") == NULL, FALSE);
      g_string_append_printf (san, "%s%s:%s", i > 0 ? "," : "",
                              address != NULL ? "IP" : "DNS", hosts[i]);
    }

  subject = g_strdup_printf ("/CN=%s", hosts[0]);
  csr = g_strdup_printf ("issued-%s.csr", name);
  cert = g_strdup_printf ("issued-%s.pem", name);
  key = g_strdup_printf ("issued-%s-key.pem", name);
  cert_path = g_build_filename (ca->folder, cert, NULL);
  key_path = g_build_filename (ca->folder, key, NULL);

  /* The request goes through a file of its own: a long list of names
   * would not fit the command line of "openssl req -addext". */
  if (!run_command (ca->folder, NULL, NULL, error,
                    "openssl", "req", "-new", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key_path, "-out", csr,
                    "-subj", subject, "-addext", san->str,
                    NULL) ||
      !run_command (ca->folder, NULL, NULL, error,
                    "openssl", "ca", "-batch", "-notext", "-config", "ca.cnf",
                    "-extensions", "server_ext",
                    "-cert", ca->ca_file, "-keyfile", "ca-key.pem",
                    "-in", csr, "-out", cert_path,
                    "-startdate", "20240101000000Z", "-enddate", "20991231000000Z",
                    NULL))
    return FALSE;

  /* Servers that drop root read it; it guards nothing. */
  g_chmod (key_path, 0644);

  if (cert_file != NULL)
    *cert_file = g_steal_pointer (&cert_path);
  if (key_file != NULL)
    *key_file = g_steal_pointer (&key_path);

  return TRUE;
}

GTlsDatabase *
rs_test_ca_new_database (RsTestCa  *ca,
                         GError   **error)
{
  g_return_val_if_fail (ca != NULL, NULL);

  return g_tls_file_database_new (ca->ca_file, error);
}

/* ---- Servers ---- */

static void
child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  /* Stop with the test, even when it aborts.  If the test died before this
   * point, the signal would never come: leave at once. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    _exit (1);

  /* A process group of its own, so that stopping can wait for every
   * process the server forked (Exim's deliveries, Dovecot's helpers). */
  setpgid (0, 0);
}

static RsTestServer *
server_new (const char  *kind,
            GError     **error)
{
  g_autoptr(RsTestServer) server = NULL;
  g_autofree char *template = g_strdup_printf ("rs-test-%s-XXXXXX", kind);

  server = g_new0 (RsTestServer, 1);
  server->kind = g_strdup (kind);
  server->processes = g_ptr_array_new_with_free_func (g_object_unref);
  server->ports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->address = g_strdup (HOST);

  server->folder = g_dir_make_tmp (template, error);
  if (server->folder == NULL)
    return NULL;

  /* The servers drop root; they must be able to walk in. */
  if (g_chmod (server->folder, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "chmod %s: %s", server->folder, g_strerror (saved_errno));
      return NULL;
    }

  return g_steal_pointer (&server);
}

static const char *
server_cert_file (RsTestServer *server)
{
  if (server->cert_file != NULL)
    return server->cert_file;

  return rs_test_ca_get_cert_file (server->ca, server->certificate);
}

static const char *
server_key_file (RsTestServer *server)
{
  if (server->key_file != NULL)
    return server->key_file;

  return rs_test_ca_get_key_file (server->ca, server->certificate);
}

/* Where and with which certificate a server listens, if not the default. */
static void
server_setup_address (RsTestServer *server,
                      const char   *address,
                      gboolean      standard_ports,
                      const char   *cert_file,
                      const char   *key_file)
{
  if (address != NULL)
    {
      g_free (server->address);
      server->address = g_strdup (address);
    }
  server->standard_ports = standard_ports;
  server->cert_file = g_strdup (cert_file);
  server->key_file = g_strdup (key_file);
}

static gboolean
server_setup_credentials (RsTestServer  *server,
                          RsTestCa      *ca,
                          RsTestCert     certificate,
                          const char    *user,
                          const char    *password,
                          GError       **error)
{
  server->user = g_strdup (user ? user : DEFAULT_USER);
  server->password = password ? g_strdup (password) : random_password ();
  server->certificate = certificate;

  if (ca != NULL)
    {
      server->ca = rs_test_ca_ref (ca);
    }
  else
    {
      /* In a folder of its own, so that other servers can share it. */
      server->ca = rs_test_ca_new (NULL, error);
      if (server->ca == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
server_pick_ports (RsTestServer  *server,
                   const char    *first_name,
                   const char    *second_name,
                   GError       **error)
{
  guint16 first;
  guint16 second;

  /* Standard ports, in a test network namespace of its own. */
  if (server->standard_ports)
    {
      first = g_str_equal (first_name, "imap") ? 143 : 587;
      second = g_str_equal (second_name, "imaps") ? 993 : 465;
      g_hash_table_insert (server->ports, g_strdup (first_name), GUINT_TO_POINTER (first));
      g_hash_table_insert (server->ports, g_strdup (second_name), GUINT_TO_POINTER (second));
      return TRUE;
    }

  first = pick_free_port (error);
  second = first ? pick_free_port (error) : 0;

  if (first == 0 || second == 0)
    return FALSE;

  /* The kernel may hand out the same free port twice in a row. */
  while (second == first)
    if ((second = pick_free_port (error)) == 0)
      return FALSE;

  g_hash_table_insert (server->ports, g_strdup (first_name), GUINT_TO_POINTER (first));
  g_hash_table_insert (server->ports, g_strdup (second_name), GUINT_TO_POINTER (second));

  return TRUE;
}

static gboolean
server_spawn (RsTestServer        *server,
              const char          *output_name,
              GError             **error,
              const char * const  *server_argv)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *output = g_build_filename (server->folder, output_name, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  GSubprocess *process;

  g_ptr_array_add (argv, (gpointer) "/bin/sh");
  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, (gpointer) guard_script);
  g_ptr_array_add (argv, (gpointer) "rs-test-guard");
  for (guint i = 0; server_argv[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) server_argv[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_cwd (launcher, server->folder);
  g_subprocess_launcher_set_stdout_file_path (launcher, output);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (process == NULL)
    return FALSE;

  g_ptr_array_add (server->processes, process);
  return TRUE;
}

static gboolean
server_processes_alive (RsTestServer *server)
{
  for (guint i = 0; i < server->processes->len; i++)
    if (g_subprocess_get_identifier (server->processes->pdata[i]) == NULL)
      return FALSE;

  return server->processes->len > 0;
}

static char *
server_describe_failure (RsTestServer *server)
{
  GString *text = g_string_new (NULL);
  g_autoptr(GDir) dir = g_dir_open (server->folder, 0, NULL);
  const char *name;

  /* Whatever the server said on its way out. */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (server->folder, name, NULL);
      g_autofree char *contents = NULL;

      if ((g_str_has_suffix (name, ".out") || g_str_has_suffix (name, ".log")) &&
          g_file_get_contents (path, &contents, NULL, NULL) && contents[0] != '\0')
        g_string_append_printf (text, "\n--- %s ---\n%s", name, contents);
    }

  if (server->log_path != NULL && g_str_has_suffix (server->log_path, "mainlog"))
    {
      g_autofree char *contents = NULL;
      g_autofree char *panic = g_build_filename (server->folder, "log", "paniclog", NULL);

      if (g_file_get_contents (server->log_path, &contents, NULL, NULL))
        g_string_append_printf (text, "\n--- mainlog ---\n%s", contents);
      g_clear_pointer (&contents, g_free);
      if (g_file_get_contents (panic, &contents, NULL, NULL))
        g_string_append_printf (text, "\n--- paniclog ---\n%s", contents);
    }

  return g_string_free (text, FALSE);
}

/* Waits until every port listens.  FALSE if a process died first (most
 * likely a port was taken in the meantime) or time ran out. */
static gboolean
server_wait_until_listening (RsTestServer  *server,
                             GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + START_TIMEOUT_US;

  while (g_get_monotonic_time () < deadline)
    {
      GHashTableIter iter;
      gpointer value;
      gboolean all = TRUE;

      if (!server_processes_alive (server))
        {
          g_autofree char *details = server_describe_failure (server);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s exited while starting%s", server->kind, details);
          return FALSE;
        }

      g_hash_table_iter_init (&iter, server->ports);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (!rs_test_address_is_listening (server->address, GPOINTER_TO_UINT (value)))
          all = FALSE;

      if (all && server->pid_file != NULL)
        {
          g_autofree char *contents = NULL;

          all = g_file_get_contents (server->pid_file, &contents, NULL, NULL) &&
                g_ascii_strtoll (contents, NULL, 10) > 0;
        }

      if (all)
        return TRUE;

      g_usleep (10 * 1000);
    }

  {
    g_autofree char *details = server_describe_failure (server);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "%s did not listen within 10 s%s", server->kind, details);
  }
  return FALSE;
}

/* Whether any process other than a zombie is left in a process group. */
static gboolean
process_group_alive (pid_t pgid)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *stat_path = NULL;
      g_autofree char *contents = NULL;
      g_auto(GStrv) fields = NULL;
      const char *after_name;

      if (!g_ascii_isdigit (name[0]))
        continue;

      stat_path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (stat_path, &contents, NULL, NULL))
        continue;

      /* "pid (comm) state ppid pgrp …"; comm may hold spaces. */
      after_name = strrchr (contents, ')');
      if (after_name == NULL)
        continue;

      fields = g_strsplit (after_name + 2, " ", 4);
      if (g_strv_length (fields) >= 3 &&
          g_ascii_strtoll (fields[2], NULL, 10) == pgid &&
          fields[0][0] != 'Z' && fields[0][0] != 'X')
        return TRUE;
    }

  return FALSE;
}

static gboolean
wait_for_process_group (pid_t  pgid,
                        gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  while (process_group_alive (pgid))
    {
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (5 * 1000);
    }

  return TRUE;
}

static void
stop_process (GSubprocess *process)
{
  pid_t pgid;

  if (g_subprocess_get_identifier (process) == NULL)
    return;

  /* The guard leads a process group of its own.  End the guard first, so
   * that it does not pass the signal on itself, then ask everything else
   * to stop: Exim and Dovecot stop at once on SIGTERM, and what they forked
   * (Exim writes its log after a client goes away) follows.  Now and then
   * one of Dovecot's helpers misses the signal while starting up and its
   * master waits 6 s for it, so whatever is left after a second is killed. */
  pgid = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, NULL);
  kill (-pgid, SIGTERM);

  if (wait_for_process_group (pgid, G_USEC_PER_SEC))
    return;

  kill (-pgid, SIGKILL);
  if (!wait_for_process_group (pgid, STOP_TIMEOUT_US))
    g_warning ("Processes of a test server are still running after SIGKILL");
}

void
rs_test_server_stop (RsTestServer *server)
{
  g_return_if_fail (server != NULL);

  /* Last started first: the main process goes last. */
  for (guint i = server->processes->len; i > 0; i--)
    stop_process (server->processes->pdata[i - 1]);
}

void
rs_test_server_free (RsTestServer *server)
{
  if (server == NULL)
    return;

  rs_test_server_stop (server);

  if (server->folder != NULL && g_getenv ("RS_TEST_KEEP_SERVER_FOLDERS") == NULL)
    rs_test_remove_tree (server->folder);

  g_clear_pointer (&server->processes, g_ptr_array_unref);
  g_clear_pointer (&server->ports, g_hash_table_unref);
  g_clear_pointer (&server->ca, rs_test_ca_unref);
  g_free (server->kind);
  g_free (server->folder);
  g_free (server->log_path);
  g_free (server->maildir);
  g_free (server->config_path);
  g_free (server->pid_file);
  g_free (server->address);
  g_free (server->cert_file);
  g_free (server->key_file);
  g_free (server->user);
  g_free (server->password);
  g_free (server);
}

/* ---- Dovecot ---- */

static gboolean
program_available (const char  *program,
                   char       **reason)
{
  g_autofree char *path = g_find_program_in_path (program);

  if (path == NULL && !g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      if (reason != NULL)
        *reason = g_strdup_printf ("%s is not installed (see tools/debian-packages.txt)", program);
      return FALSE;
    }

  if (geteuid () != 0)
    {
      if (reason != NULL)
        *reason = g_strdup_printf ("the test %s runs as root, as in CI", program);
      return FALSE;
    }

  return TRUE;
}

gboolean
rs_test_dovecot_available (char **reason)
{
  return program_available ("/usr/sbin/dovecot", reason) &&
         program_available ("/usr/bin/doveadm", reason);
}

gboolean
rs_test_exim_available (char **reason)
{
  return program_available ("/usr/sbin/exim4", reason);
}

static char *
dovecot_config (RsTestServer *server,
                const char   *instance,
                gboolean      ssl,
                guint16       plain_port,
                guint16       tls_port)
{
  GString *conf = g_string_new (NULL);
  g_autofree char *base_dir = g_build_filename (server->folder, instance, NULL);
  g_autofree char *folder_name = g_path_get_basename (server->folder);

  g_string_append_printf (conf,
    "# Written by the Retailsphere test harness.\n"
    "instance_name = rs-test-%s-%s\n"
    "base_dir = %s/run\n"
    "state_dir = %s/state\n"
    "log_path = %s\n"
    "protocols = imap\n"
    "listen = %s\n"
    "default_internal_user = dovecot\n"
    "default_login_user = dovenull\n"
    "first_valid_uid = 1\n"
    "auth_mechanisms = plain login\n"
    "auth_failure_delay = 0\n"
    "passdb {\n"
    "  driver = passwd-file\n"
    "  args = scheme=PLAIN username_format=%%u %s/passwd\n"
    "}\n"
    "userdb {\n"
    "  driver = static\n"
    "  args = uid=" MAIL_USER " gid=" MAIL_USER " home=%s/home/%%u\n"
    "}\n"
    "mail_location = maildir:~/Maildir\n"
    "mail_plugins = $mail_plugins notify mail_log\n"
    "imap_logout_format = in=%%i out=%%o deleted=%%{deleted} expunged=%%{expunged} "
      "hdr_count=%%{fetch_hdr_count} hdr_bytes=%%{fetch_hdr_bytes} "
      "body_count=%%{fetch_body_count} body_bytes=%%{fetch_body_bytes}\n"
    "plugin {\n"
    "  mail_log_events = delete undelete expunge copy mailbox_create mailbox_delete "
      "mailbox_rename flag_change save append\n"
    "  mail_log_fields = uid box msgid size flags\n"
    "}\n",
    folder_name, instance,
    base_dir, base_dir,
    server->log_path,
    server->address,
    server->folder, server->folder);

  if (ssl)
    g_string_append_printf (conf,
      "ssl = yes\n"
      "ssl_cert = <%s\n"
      "ssl_key = <%s\n",
      server_cert_file (server), server_key_file (server));
  else
    g_string_append (conf, "ssl = no\n");

  if (g_file_test ("/usr/share/dovecot/dh.pem", G_FILE_TEST_EXISTS))
    g_string_append (conf, "ssl_dh = </usr/share/dovecot/dh.pem\n");

  g_string_append_printf (conf,
    "service imap-login {\n"
    "  inet_listener imap {\n"
    "    address = %s\n"
    "    port = %u\n"
    "  }\n"
    "  inet_listener imaps {\n"
    "    address = %s\n"
    "    port = %u\n"
    "    ssl = yes\n"
    "  }\n"
    "}\n",
    server->address, plain_port, server->address, tls_port);

  return g_string_free (conf, FALSE);
}

static gboolean
dovecot_launch (RsTestServer  *server,
                gboolean       no_starttls,
                GError       **error)
{
  guint16 imap = rs_test_server_get_port (server, "imap");
  guint16 imaps = rs_test_server_get_port (server, "imaps");
  g_autofree char *main_conf = NULL;

  main_conf = dovecot_config (server, "main", TRUE, no_starttls ? 0 : imap, imaps);
  g_free (server->config_path);
  server->config_path = g_build_filename (server->folder, "dovecot.conf", NULL);
  if (!write_file (server->config_path, main_conf, 0644, error))
    return FALSE;

  if (!server_spawn (server, "dovecot.out", error,
                     (const char * const[]) { "/usr/sbin/dovecot", "-F", "-c", server->config_path, NULL }))
    return FALSE;

  if (no_starttls)
    {
      g_autofree char *plain_conf = dovecot_config (server, "plain", FALSE, imap, 0);
      g_autofree char *plain_path = g_build_filename (server->folder, "dovecot-plain.conf", NULL);

      if (!write_file (plain_path, plain_conf, 0644, error) ||
          !server_spawn (server, "dovecot-plain.out", error,
                         (const char * const[]) { "/usr/sbin/dovecot", "-F", "-c", plain_path, NULL }))
        return FALSE;
    }

  return server_wait_until_listening (server, error);
}

RsTestServer *
rs_test_dovecot_start (const RsTestDovecotOptions  *opts,
                       GError                     **error)
{
  static const RsTestDovecotOptions defaults = { 0 };
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *passwd_path = NULL;
  g_autofree char *home = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (opts == NULL)
    opts = &defaults;

  g_return_val_if_fail (opts->password == NULL || strpbrk (opts->password, ":\r\n") == NULL, NULL);
  g_return_val_if_fail (opts->user == NULL || strpbrk (opts->user, ":\r\n/") == NULL, NULL);

  server = server_new ("dovecot", error);
  if (server == NULL)
    return NULL;

  if (!server_setup_credentials (server, opts->ca, opts->certificate,
                                 opts->user, opts->password, error))
    return NULL;
  server_setup_address (server, opts->address, opts->standard_ports,
                        opts->cert_file, opts->key_file);

  server->log_path = g_build_filename (server->folder, "dovecot.log", NULL);
  server->pid_file = g_build_filename (server->folder, "main", "run", "master.pid", NULL);

  home = g_build_filename (server->folder, "home", server->user, NULL);
  server->maildir = g_build_filename (home, "Maildir", NULL);
  if (!make_folder (server->maildir, NULL, error) ||
      !run_command (NULL, NULL, NULL, error,
                    "chown", "-R", MAIL_USER ":", home, NULL))
    return NULL;

  passwd = g_strdup_printf ("%s:{PLAIN}%s::::::\n", server->user, server->password);
  passwd_path = g_build_filename (server->folder, "passwd", NULL);
  if (!write_file (passwd_path, passwd, 0600, error) ||
      !run_command (NULL, NULL, NULL, error, "chown", "dovecot:", passwd_path, NULL))
    return NULL;

  for (guint attempt = 1; attempt <= START_ATTEMPTS; attempt++)
    {
      g_clear_error (&local_error);
      g_hash_table_remove_all (server->ports);

      if (!server_pick_ports (server, "imap", "imaps", error))
        return NULL;

      if (dovecot_launch (server, opts->no_starttls, &local_error))
        return g_steal_pointer (&server);

      rs_test_server_stop (server);
      g_ptr_array_set_size (server->processes, 0);
      g_debug ("Dovecot start attempt %u failed: %s", attempt, local_error->message);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

gboolean
rs_test_dovecot_append (RsTestServer  *server,
                        const char    *mailbox,
                        const char    *message,
                        GError       **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (g_strcmp0 (server->kind, "dovecot") == 0, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  return run_command (server->folder, message, NULL, error,
                      "/usr/bin/doveadm", "-c", server->config_path,
                      "save", "-u", server->user, "-m", mailbox ? mailbox : "INBOX",
                      NULL);
}

gboolean
rs_test_dovecot_doveadm (RsTestServer        *server,
                         const char * const  *args,
                         char               **output,
                         GError             **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (g_strcmp0 (server->kind, "dovecot") == 0, FALSE);
  g_return_val_if_fail (args != NULL, FALSE);

  g_ptr_array_add (argv, (gpointer) "/usr/bin/doveadm");
  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, server->config_path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  /* stdout and stderr apart: a search prints one line per message. */
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, output ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, output ? &out : NULL, &err, &status, error))
    return FALSE;

  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_EXIT_ERROR, 1, "doveadm failed: %s", err ? err : "");
      return FALSE;
    }

  if (output != NULL)
    *output = g_steal_pointer (&out);

  return TRUE;
}

void
rs_test_dovecot_assert_no_bodies (RsTestServer *server,
                                  guint         min_sessions)
{
  guint sessions = 0;

  g_return_if_fail (server != NULL);
  g_return_if_fail (g_strcmp0 (server->kind, "dovecot") == 0);

  for (guint attempt = 0; attempt < 100; attempt++)
    {
      g_autofree char *log = rs_test_server_read_log (server);
      g_auto(GStrv) lines = g_strsplit (log != NULL ? log : "", "\n", -1);

      sessions = 0;
      for (guint i = 0; lines[i] != NULL; i++)
        {
          const char *counters = strstr (lines[i], "body_count=");

          if (counters == NULL || strstr (lines[i], "imap(") == NULL)
            continue;
          sessions++;
          if (strstr (counters, "body_count=0 body_bytes=0") != counters)
            g_error ("A session fetched a body: %s", lines[i]);
        }

      if (sessions >= min_sessions)
        break;
      g_usleep (50 * 1000);
    }

  g_assert_cmpuint (sessions, >=, min_sessions);
}

gboolean
rs_test_require_session_mail_servers (void)
{
  g_autofree char *reason = NULL;

  if (g_getenv ("RS_TEST_SESSION") == NULL)
    {
      g_test_skip ("needs the private keyring session of tests/harness/rs-session-run");
      return FALSE;
    }

  if (!rs_test_dovecot_available (&reason) || !rs_test_exim_available (&reason))
    {
      g_test_skip (reason);
      return FALSE;
    }

  return TRUE;
}

/* ---- Exim ---- */

static char *
exim_config (RsTestServer *server,
             gboolean      no_starttls,
             const char   *dovecot_maildir)
{
  GString *conf = g_string_new (NULL);
  guint16 submission = rs_test_server_get_port (server, "submission");
  guint16 smtps = rs_test_server_get_port (server, "smtps");

  /* Exim gives up root for any configuration given with -C that is not in
   * its TRUSTED_CONFIG_LIST, so everything after the listening socket runs
   * as Debian-exim: spool, log and maildir belong to it, and deliveries run
   * as it too. */
  g_string_append_printf (conf,
    "# Written by the Retailsphere test harness.\n"
    "primary_hostname = localhost\n"
    "qualify_domain = example.test\n"
    "keep_environment =\n"
    "local_interfaces = <; %s\n"
    "daemon_smtp_ports = %u : %u\n"
    "tls_on_connect_ports = %u\n"
    "tls_advertise_hosts = %s\n"
    "tls_certificate = %s\n"
    "tls_privatekey = %s\n"
    "spool_directory = %s/spool\n"
    "log_file_path = %s/log/%%slog\n"
    "log_selector = +smtp_connection +smtp_protocol_error +smtp_syntax_error "
      "+received_recipients +tls_peerdn\n"
    "host_lookup =\n"
    "rfc1413_hosts =\n"
    "acl_smtp_rcpt = acl_check_rcpt\n"
    "\n"
    "begin acl\n"
    "acl_check_rcpt:\n"
    "  accept authenticated = *\n"
    "  deny message = 5.7.1 Authentication required\n"
    "\n"
    "begin routers\n",
    server->address,
    submission, smtps, smtps,
    no_starttls ? "" : "*",
    server_cert_file (server), server_key_file (server),
    server->folder, server->folder);

  if (dovecot_maildir != NULL)
    g_string_append_printf (conf,
      "to_dovecot:\n"
      "  driver = accept\n"
      "  condition = ${if eqi{$local_part@$domain}{${readfile{%s/dovecot-user}}}}\n"
      "  transport = dovecot_maildir\n"
      "\n",
      server->folder);

  g_string_append_printf (conf,
    "everything:\n"
    "  driver = accept\n"
    "  transport = own_maildir\n"
    "\n"
    "begin transports\n"
    "own_maildir:\n"
    "  driver = appendfile\n"
    "  directory = %s\n"
    "  maildir_format\n"
    "  create_directory\n"
    "  delivery_date_add\n"
    "  envelope_to_add\n"
    "  return_path_add\n"
    "  user = " MAIL_USER "\n"
    "  mode = 0600\n"
    "\n",
    server->maildir);

  if (dovecot_maildir != NULL)
    g_string_append_printf (conf,
      "dovecot_maildir:\n"
      "  driver = appendfile\n"
      "  directory = %s\n"
      "  maildir_format\n"
      "  delivery_date_add\n"
      "  envelope_to_add\n"
      "  return_path_add\n"
      "  user = " MAIL_USER "\n"
      "  mode = 0600\n"
      "\n",
      dovecot_maildir);

  /* User and password are read from files, so no character in them can
   * upset Exim's string expansion. */
  g_string_append_printf (conf,
    "begin authenticators\n"
    "plain:\n"
    "  driver = plaintext\n"
    "  public_name = PLAIN\n"
    "  server_prompts = :\n"
    "  server_condition = ${if and {{eq{$auth2}{${readfile{%s/auth-user}}}}"
                                   "{eq{$auth3}{${readfile{%s/auth-password}}}}}}\n"
    "  server_set_id = $auth2\n"
    "  server_advertise_condition = ${if def:tls_in_cipher}\n"
    "\n"
    "login:\n"
    "  driver = plaintext\n"
    "  public_name = LOGIN\n"
    "  server_prompts = Username:: : Password::\n"
    "  server_condition = ${if and {{eq{$auth1}{${readfile{%s/auth-user}}}}"
                                   "{eq{$auth2}{${readfile{%s/auth-password}}}}}}\n"
    "  server_set_id = $auth1\n"
    "  server_advertise_condition = ${if def:tls_in_cipher}\n",
    server->folder, server->folder, server->folder, server->folder);

  return g_string_free (conf, FALSE);
}

RsTestServer *
rs_test_exim_start (const RsTestEximOptions  *opts,
                    GError                  **error)
{
  static const RsTestEximOptions defaults = { 0 };
  g_autoptr(RsTestServer) server = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *spool = NULL;
  g_autofree char *log_dir = NULL;
  g_autofree char *user_path = NULL;
  g_autofree char *password_path = NULL;
  g_autofree char *pid_path = NULL;
  RsTestServer *dovecot;
  RsTestCa *ca;
  const char *user;
  const char *password;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (opts == NULL)
    opts = &defaults;

  dovecot = opts->deliver_to;
  g_return_val_if_fail (dovecot == NULL || g_strcmp0 (dovecot->kind, "dovecot") == 0, NULL);

  user = opts->user ? opts->user : dovecot ? dovecot->user : NULL;
  password = opts->password ? opts->password : dovecot ? dovecot->password : NULL;
  ca = opts->ca ? opts->ca : dovecot ? dovecot->ca : NULL;

  server = server_new ("exim", error);
  if (server == NULL)
    return NULL;

  if (!server_setup_credentials (server, ca, opts->certificate, user, password, error))
    return NULL;
  server_setup_address (server, opts->address, opts->standard_ports,
                        opts->cert_file, opts->key_file);

  spool = g_build_filename (server->folder, "spool", NULL);
  log_dir = g_build_filename (server->folder, "log", NULL);
  server->maildir = g_build_filename (server->folder, "Maildir", NULL);
  server->log_path = g_build_filename (log_dir, "mainlog", NULL);
  server->config_path = g_build_filename (server->folder, "exim.conf", NULL);
  user_path = g_build_filename (server->folder, "auth-user", NULL);
  password_path = g_build_filename (server->folder, "auth-password", NULL);
  pid_path = g_build_filename (server->folder, "exim.pid", NULL);
  server->pid_file = g_strdup (pid_path);

  if (!make_folder (spool, EXIM_USER ":", error) ||
      !make_folder (log_dir, EXIM_USER ":", error) ||
      !make_folder (server->maildir, EXIM_USER ":", error))
    return NULL;

  if (!write_file (user_path, server->user, 0644, error) ||
      !write_file (password_path, server->password, 0600, error) ||
      !run_command (NULL, NULL, NULL, error, "chown", EXIM_USER ":", password_path, NULL))
    return NULL;

  if (dovecot != NULL)
    {
      g_autofree char *dovecot_user_path = g_build_filename (server->folder, "dovecot-user", NULL);

      if (!write_file (dovecot_user_path, dovecot->user, 0644, error))
        return NULL;
    }

  for (guint attempt = 1; attempt <= START_ATTEMPTS; attempt++)
    {
      g_autofree char *conf = NULL;

      g_clear_error (&local_error);
      g_hash_table_remove_all (server->ports);

      if (!server_pick_ports (server, "submission", "smtps", error))
        return NULL;

      conf = exim_config (server, opts->no_starttls,
                          dovecot ? dovecot->maildir : NULL);
      if (!write_file (server->config_path, conf, 0644, error))
        return NULL;

      if (server_spawn (server, "exim.out", &local_error,
                        (const char * const[]) { "/usr/sbin/exim4", "-C", server->config_path,
                                                 "-bdf", "-oP", pid_path, NULL }) &&
          server_wait_until_listening (server, &local_error))
        return g_steal_pointer (&server);

      rs_test_server_stop (server);
      g_ptr_array_set_size (server->processes, 0);
      g_debug ("Exim start attempt %u failed: %s", attempt, local_error->message);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

/* ---- Accessors ---- */

const char *
rs_test_server_get_host (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->address;
}

guint16
rs_test_server_get_port (RsTestServer *server,
                         const char   *name)
{
  g_return_val_if_fail (server != NULL, 0);
  g_return_val_if_fail (name != NULL, 0);

  return GPOINTER_TO_UINT (g_hash_table_lookup (server->ports, name));
}

const char *
rs_test_server_get_folder (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->folder;
}

const char *
rs_test_server_get_log_path (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->log_path;
}

char *
rs_test_server_read_log (RsTestServer *server)
{
  char *contents = NULL;

  g_return_val_if_fail (server != NULL, NULL);

  if (!g_file_get_contents (server->log_path, &contents, NULL, NULL))
    return g_strdup ("");

  return contents;
}

const char *
rs_test_server_get_maildir (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->maildir;
}

const char *
rs_test_server_get_user (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->user;
}

const char *
rs_test_server_get_password (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->password;
}

RsTestCa *
rs_test_server_get_ca (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->ca;
}

const char *
rs_test_server_get_ca_file (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return rs_test_ca_get_ca_file (server->ca);
}

const char *
rs_test_server_get_cert_file (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server_cert_file (server);
}

GPid
rs_test_server_get_pid (RsTestServer *server)
{
  const char *identifier;

  g_return_val_if_fail (server != NULL, 0);

  if (!server_processes_alive (server))
    return 0;

  if (server->pid_file != NULL)
    {
      g_autofree char *contents = NULL;

      if (!g_file_get_contents (server->pid_file, &contents, NULL, NULL))
        return 0;
      return (GPid) g_ascii_strtoll (contents, NULL, 10);
    }

  identifier = g_subprocess_get_identifier (server->processes->pdata[0]);
  return identifier ? (GPid) g_ascii_strtoll (identifier, NULL, 10) : 0;
}

gboolean
rs_test_server_is_running (RsTestServer *server)
{
  g_return_val_if_fail (server != NULL, FALSE);

  return server_processes_alive (server);
}
