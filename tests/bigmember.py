#!/usr/bin/env python3
# bigmember.py OUT NAME SIZE [LINE]: a .tar.gz holding one member NAME
# whose header declares SIZE bytes.  Without LINE only the header is
# written, as in an archive made to be decompressed without end; with
# LINE that many bytes of 'x' without a newline make the member, whose
# size is then LINE.
import gzip
import sys
import tarfile

out, name, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
line = int(sys.argv[4]) if len(sys.argv) > 4 else None
ti = tarfile.TarInfo(name)
ti.mode = 0o600
ti.mtime = 1775000000
with gzip.open(out, "wb") as f:
    if line is None:
        ti.size = size
        f.write(ti.tobuf(format=tarfile.GNU_FORMAT))
        # some data, far less than the header says
        f.write(b"\0" * 4096)
    else:
        ti.size = line
        f.write(ti.tobuf(format=tarfile.GNU_FORMAT))
        f.write(b"x" * line)
        f.write(b"\0" * ((512 - line % 512) % 512))
        f.write(b"\0" * 1024)
