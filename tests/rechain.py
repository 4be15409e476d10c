#!/usr/bin/env python3
# rechain.py LOG - what someone who can write the audit log can do after
# an edit: recompute every prev_sha256 from the bytes of the line before,
# so that the chain alone is whole again.  Only the value is replaced; the
# rest of each line keeps its bytes.
import hashlib
import re
import sys

path = sys.argv[1]
with open(path, "rb") as f:
    lines = f.read().splitlines(keepends=True)
prev = "0" * 64
out = []
for line in lines:
    line = re.sub(rb'"prev_sha256":"[0-9a-f]{64}"',
                  b'"prev_sha256":"' + prev.encode() + b'"', line)
    out.append(line)
    prev = hashlib.sha256(line).hexdigest()
with open(path, "wb") as f:
    f.write(b"".join(out))
