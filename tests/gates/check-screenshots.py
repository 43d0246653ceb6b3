#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Every screenshot the AppStream metainfo points at must be in the tree, as a
# PNG, at the path its URL names.  (appstreamcli validate --no-net cannot
# fetch them, so this catches a renamed or forgotten image.)
#
# Usage: check-screenshots.py SOURCE_ROOT METAINFO

import os
import re
import struct
import sys
import xml.etree.ElementTree as ET

URL_PREFIX = 'https://raw.githubusercontent.com/retailsphere/retailsphere-settings/main/'


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', head[16:24])


def main():
    if len(sys.argv) != 3:
        print('usage: check-screenshots.py SOURCE_ROOT METAINFO', file=sys.stderr)
        return 2
    root, metainfo = sys.argv[1], sys.argv[2]

    images = [e.text.strip() for e in ET.parse(metainfo).getroot().iter('image')]
    if not images:
        print(f'{metainfo}: no <screenshots> images', file=sys.stderr)
        return 1

    problems = []
    for url in images:
        if not url.startswith(URL_PREFIX):
            problems.append(f'{url}: does not point into the project repository ({URL_PREFIX})')
            continue
        rel = url[len(URL_PREFIX):]
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            problems.append(f'{url}: {rel} is not in the tree (run tools/screenshots)')
            continue
        size = png_size(path)
        if size is None:
            problems.append(f'{rel}: not a PNG file')
        elif size[0] < 360 or size[1] < 360:
            problems.append(f'{rel}: {size[0]}×{size[1]} is too small to be a window screenshot')
        else:
            print(f'{rel}: {size[0]}×{size[1]}')

    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
