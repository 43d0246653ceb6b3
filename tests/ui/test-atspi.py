#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-atspi.py PATH-TO-retailsphere-settings
#
# Starts the real application and checks, through the AT-SPI accessibility
# tree that screen readers use, that its main controls can be found by role
# and name.  Run it inside tests/harness/rs-session-run with
# RS_SESSION_ACCESSIBILITY=1.  Exits 0 on success, 1 on failure, 77 to skip
# (only outside the harness session).

import os
import subprocess
import sys
import tempfile
import time

SKIP = 77
TIMEOUT = 20.0


def skip_or_fail(reason):
    if os.environ.get("RS_TEST_SESSION"):
        print(f"FAIL: {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


try:
    import gi
    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi
except (ImportError, ValueError) as e:
    skip_or_fail(f"AT-SPI bindings are missing ({e}); install gir1.2-atspi-2.0")

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    skip_or_fail("no display; run through tests/harness/rs-session-run")

if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
    print(f"usage: {sys.argv[0]} PATH-TO-retailsphere-settings")
    sys.exit(1)


def walk(node, depth=0):
    """Yields every accessible under node (bounded, the tree is small)."""
    if node is None or depth > 60:
        return
    yield node
    try:
        n = node.get_child_count()
    except Exception:
        return
    for i in range(n):
        try:
            child = node.get_child_at_index(i)
        except Exception:
            continue
        yield from walk(child, depth + 1)


def find_app(pid):
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        try:
            if app is not None and app.get_process_id() == pid:
                return app
        except Exception:
            continue
    return None


def find(app, roles, name):
    for node in walk(app):
        try:
            if node.get_role() in roles and node.get_name() == name:
                return node
        except Exception:
            continue
    return None


def main():
    env = dict(os.environ)
    env.pop("NO_AT_BRIDGE", None)
    env.pop("GTK_A11Y", None)

    with tempfile.TemporaryDirectory(prefix="rs-atspi-") as config:
        # An empty accounts file of our own, never the user's.
        env["XDG_CONFIG_HOME"] = config
        proc = subprocess.Popen([sys.argv[1]], env=env)
        failures = []
        try:
            deadline = time.monotonic() + TIMEOUT
            app = None
            while app is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    print(f"FAIL: the application exited with status {proc.returncode}")
                    return 1
                app = find_app(proc.pid)
                if app is None:
                    time.sleep(0.25)

            if app is None:
                print(f"FAIL: the application did not appear on the AT-SPI bus in {TIMEOUT:.0f} s")
                return 1
            print(f"found application {app.get_name()!r} (pid {proc.pid})")

            wanted = [
                ("the Connected Apps navigation item",
                 {Atspi.Role.LIST_ITEM}, "Connected Apps"),
                ("the Sign in with Gmail button",
                 {Atspi.Role.PUSH_BUTTON}, "Sign in with Gmail"),
                ("the Sign in with Email button",
                 {Atspi.Role.PUSH_BUTTON}, "Sign in with Email"),
                ("the account menu button",
                 {Atspi.Role.TOGGLE_BUTTON, Atspi.Role.PUSH_BUTTON}, "Account menu"),
            ]

            # The tree fills in as the window maps: poll until all are there.
            found = {}
            while time.monotonic() < deadline and len(found) < len(wanted):
                for what, roles, name in wanted:
                    if what not in found:
                        node = find(app, roles, name)
                        if node is not None:
                            found[what] = node
                if len(found) < len(wanted):
                    time.sleep(0.25)

            for what, roles, name in wanted:
                if what in found:
                    print(f"ok: {what} ({found[what].get_role_name()} {name!r})")
                else:
                    role_names = "/".join(sorted(Atspi.role_get_name(r) for r in roles))
                    failures.append(f"{what}: no {role_names} named {name!r}")

            for failure in failures:
                print(f"FAIL: {failure}")
            return 1 if failures else 0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


sys.exit(main())
