#!/usr/bin/python3
"""jsoncheck.py - strict checks of the JSON the tools write, for tests.

usage: jsoncheck.py MODE FILE [ARG...]

  lines FILE         every line of FILE is one JSON value for a strict
                     parser: the bytes are UTF-8 (no encoded surrogates),
                     no NaN or Infinity; exit 1 naming the line otherwise
  doc FILE           FILE as a whole is one such JSON value
  samples FILE EVENT the paths in the detail.sample of every EVENT line,
                     decoded from their JSON spelling, one a line in hex
  entries FILE       the decoded .path of every line (NDJSON), in hex
  deferred FILE      the decoded path of every op payload (base64 of
                     JSON) of every line, in hex; the payloads strict too
  hex ARG...         each ARG's bytes in hex, one a line

The JSON spelling of a path (arc(7)): a string not starting with '"' is
the path's UTF-8; one starting with '"' is the quoted form between double
quotes, with \\\\, \\t, \\n, \\r and \\ooo escapes.
"""
import base64
import json
import os
import re
import sys


def strict(b, where):
    try:
        s = b.decode('utf-8')    # strict: surrogates and overlongs fail
    except UnicodeDecodeError as e:
        sys.exit('%s: not UTF-8: %s' % (where, e))

    def bad(c):
        raise ValueError('non-standard constant ' + c)
    try:
        return json.loads(s, parse_constant=bad)
    except ValueError as e:
        sys.exit('%s: not JSON: %s' % (where, e))


def decode(s):
    if not s.startswith('"'):
        return s.encode('utf-8')
    if len(s) < 2 or not s.endswith('"'):
        sys.exit('bad spelling: %r' % s)
    out = bytearray()
    body = s[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        n = body[i + 1]
        if n in '\\tnr':
            out += {'\\': b'\\', 't': b'\t', 'n': b'\n', 'r': b'\r'}[n]
            i += 2
        elif re.match(r'[0-3][0-7][0-7]', body[i + 1:i + 4]):
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            sys.exit('bad escape in %r' % s)
    return bytes(out)


def lines(path):
    with open(path, 'rb') as f:
        data = f.read()
    return [(l, '%s:%d' % (path, n + 1))
            for n, l in enumerate(data.splitlines()) if l]


mode, args = sys.argv[1], sys.argv[2:]
if mode == 'lines':
    for l, where in lines(args[0]):
        strict(l, where)
elif mode == 'doc':
    with open(args[0], 'rb') as f:
        strict(f.read(), args[0])
elif mode == 'samples':
    for l, where in lines(args[0]):
        o = strict(l, where)
        if o.get('event') == args[1]:
            for p in o['detail']['sample'].split('\n'):
                print(decode(p).hex())
elif mode == 'entries':
    for l, where in lines(args[0]):
        print(decode(strict(l, where)['path']).hex())
elif mode == 'deferred':
    for l, where in lines(args[0]):
        for op in strict(l, where)['ops']:
            pl = strict(base64.b64decode(op['payload']), where + ' payload')
            print(decode(pl['path']).hex())
elif mode == 'hex':
    for a in args:
        print(os.fsencode(a).hex())
else:
    sys.exit('unknown mode ' + mode)
