#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Fails when po/POTFILES.in is out of step with the tree: every file under
# src/ and data/ that holds translatable strings must be listed, and every
# listed file must exist.  Files listed in po/POTFILES.skip are exempt from
# the first rule.
#
# Usage: check-potfiles.py SOURCE_ROOT

import os
import re
import sys

SCAN_DIRS = ('src', 'data')

# C: _("…"), N_("…"), C_("ctx", "…"), NC_(…), Q_(…), and the gettext family.
C_MARKERS = re.compile(
    r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_|g_dgettext|g_dngettext|g_dpgettext2?|'
    r'ngettext|dngettext|dgettext|gettext|pgettext)\s*\(')
C_COMMENT = re.compile(r'/\*.*?\*/', re.DOTALL)

UI_MARKER = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')

# Keys msgfmt --desktop translates by default.
DESKTOP_MARKER = re.compile(r'^(?:Name|GenericName|Comment|Keywords|X-GNOME-FullName)\s*=',
                            re.MULTILINE)

# Elements the AppStream ITS rules translate.
METAINFO_MARKER = re.compile(r'<(?:name|summary|p|li|caption|developer_name|keyword)[\s>]')

SCHEMA_MARKER = re.compile(r'<(?:summary|description)[\s>]')


def translatable(path):
    """Returns why PATH holds translatable strings, or None."""
    name = os.path.basename(path)
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        return None

    if name.endswith(('.c', '.h')):
        if C_MARKERS.search(C_COMMENT.sub('', text)):
            return 'C strings marked for translation'
    elif name.endswith('.ui'):
        if UI_MARKER.search(text):
            return 'translatable="yes"'
    elif '.desktop.in' in name:
        if DESKTOP_MARKER.search(text):
            return 'translatable desktop keys'
    elif '.metainfo.xml.in' in name or '.appdata.xml.in' in name:
        if METAINFO_MARKER.search(text):
            return 'translatable AppStream elements'
    elif name.endswith('.gschema.xml'):
        if SCHEMA_MARKER.search(text):
            return 'schema summaries or descriptions'
    return None


def read_list(path):
    entries = []
    if not os.path.exists(path):
        return entries
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            # "[type: gettext/glade]data/foo.ui"
            line = re.sub(r'^\[[^]]*\]\s*', '', line)
            entries.append(line)
    return entries


def main():
    if len(sys.argv) != 2:
        print('usage: check-potfiles.py SOURCE_ROOT', file=sys.stderr)
        return 2

    root = os.path.abspath(sys.argv[1])
    potfiles = read_list(os.path.join(root, 'po', 'POTFILES.in'))
    skipped = set(read_list(os.path.join(root, 'po', 'POTFILES.skip')))
    listed = set(potfiles)

    found = {}
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(('.', '_build')))
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                why = translatable(path)
                if why:
                    found[os.path.relpath(path, root)] = why

    problems = []
    for rel in sorted(found):
        if rel not in listed and rel not in skipped:
            problems.append(f'missing from po/POTFILES.in: {rel} ({found[rel]})')
    for rel in potfiles:
        if not os.path.isfile(os.path.join(root, rel)):
            problems.append(f'listed in po/POTFILES.in but does not exist: {rel}')
    seen = set()
    for rel in potfiles:
        if rel in seen:
            problems.append(f'listed twice in po/POTFILES.in: {rel}')
        seen.add(rel)

    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f'po/POTFILES.in is out of date: {len(problems)} problem(s).', file=sys.stderr)
        return 1

    print(f'po/POTFILES.in lists all {len(found)} files with translatable strings.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
