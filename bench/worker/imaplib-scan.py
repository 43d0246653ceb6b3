#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# The baseline for bench/worker: a plain Python imaplib header-only scan,
# the way anyone would write it.  Implicit TLS with the test CA, one
# UID FETCH 1:* of the 11 allowlisted header fields, logout.
#
#   imaplib-scan.py HOST PORT USER CAFILE     (password on stdin)
#
# Prints one line: elapsed=SECONDS messages=N header_bytes=B cpu=SECONDS maxrss_kb=K
# (cpu: the whole process, interpreter start included)
import imaplib
import resource
import ssl
import sys
import time

FIELDS = ("MESSAGE-ID IN-REPLY-TO REFERENCES FROM TO CC DATE SUBJECT "
          "AUTO-SUBMITTED PRECEDENCE CONTENT-TYPE")


def main():
    host, port, user, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    password = sys.stdin.readline().rstrip("\n")

    start = time.monotonic()
    context = ssl.create_default_context(cafile=cafile)
    imap = imaplib.IMAP4_SSL(host, port, ssl_context=context)
    imap.login(user, password)
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (%s)])" % FIELDS)
    if typ != "OK":
        sys.exit("FETCH failed: %r" % (data,))
    messages = 0
    header_bytes = 0
    for item in data:
        if isinstance(item, tuple):
            messages += 1
            header_bytes += len(item[1])
    imap.logout()
    elapsed = time.monotonic() - start

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print("elapsed=%.6f messages=%d header_bytes=%d cpu=%.6f maxrss_kb=%d" % (
        elapsed, messages, header_bytes, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))


if __name__ == "__main__":
    main()
