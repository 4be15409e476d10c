#!/usr/bin/python3
"""seed.py - write benchmark objects straight to disk (standard library only).

usage: seed.py s3rver DATADIR BUCKET N [FIRST]
       seed.py tree DIR < storage-records
       seed.py keys N [FIRST]
       seed.py sas

s3rver: objects FIRST .. FIRST+N-1 (default FIRST 0) of the benchmark
universe written in s3rver 3.7.1's on-disk layout (KEY._S3rver_object,
its .md5 and KEY._S3rver_metadata.json), so s3rver serves them at once
without an upload.  Each object's mtime, s3rver's LastModified, is in
January 2026, so every one is older than any grace window.

tree: an empty file for each storage record (path TAB mtime TAB size) read
on stdin, under DIR, its mtime set from the record.

keys: the keys of objects FIRST .. FIRST+N-1, one a line.

sas: an account SAS token (sv=2021-12-02, blob service, every permission,
valid until 2030) for the account of AZURE_STORAGE_CONNECTION_STRING, so
that curl can put and delete blobs (Azurite accepts it; see
shared/reference/test-servers.md section 2b).

The universe: object i is metrics/mMM/2026/01/DD/HH/mMM_2026-01-DD_HH_NNNNNN.parquet
with MM = i % MEAS (MEAS = 10 db/measurement prefixes) and 200 objects per
hour directory.  Every name in one directory has the same length, so
s3rver's directory walk yields keys in S3's byte order (see
shared/reference/test-servers.md, s3rver quirk 7).
"""
import calendar
import hashlib
import os
import sys

MEAS = 10
PER_DIR = 200
BASE = calendar.timegm((2026, 1, 1, 0, 0, 0))


def key_of(i):
    m = i % MEAS
    j = i // MEAS
    hour = j // PER_DIR
    d, h = 1 + hour // 24, hour % 24
    return ("metrics/m%02d/2026/01/%02d/%02d/m%02d_2026-01-%02d_%02d_%06d.parquet"
            % (m, d, h, m, d, h, j)), BASE + hour * 3600 + (j % PER_DIR)


def s3rver(datadir, bucket, n, first):
    root = os.path.join(datadir, bucket)
    os.makedirs(root, exist_ok=True)
    meta = b'{"content-type":"application/octet-stream"}'
    made = set()
    for i in range(first, first + n):
        key, t = key_of(i)
        path = os.path.join(root, key)
        d = os.path.dirname(path)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        body = ("data:%s\n" % key).encode()
        obj = path + "._S3rver_object"
        with open(obj, "wb") as f:
            f.write(body)
        with open(obj + ".md5", "wb") as f:
            f.write(hashlib.md5(body).hexdigest().encode())
        with open(path + "._S3rver_metadata.json", "wb") as f:
            f.write(meta)
        os.utime(obj, (t, t))


def tree(top):
    made = set()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    for line in sys.stdin.buffer:
        path, mtime = line.rstrip(b"\n").split(b"\t")[:2]
        t = calendar.timegm((int(mtime[0:4]), int(mtime[5:7]),
                             int(mtime[8:10]), int(mtime[11:13]),
                             int(mtime[14:16]), int(mtime[17:19])))
        full = os.path.join(top.encode(), path)
        d = os.path.dirname(full)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        fd = os.open(full, flags, 0o644)
        os.utime(fd, (t, t))
        os.close(fd)


def sas():
    import base64
    import hmac
    import urllib.parse
    cs = dict(kv.split("=", 1) for kv in
              os.environ["AZURE_STORAGE_CONNECTION_STRING"].split(";") if kv)
    account, key = cs["AccountName"], base64.b64decode(cs["AccountKey"])
    sv, ss, srt, sp, se, spr = ("2021-12-02", "b", "sco", "rwdlac",
                                "2030-01-01T00:00:00Z", "https,http")
    sts = "\n".join([account, sp, ss, srt, "", se, "", spr, sv, "", ""])
    sig = base64.b64encode(hmac.new(key, sts.encode(), "sha256").digest())
    q = [("sv", sv), ("ss", ss), ("srt", srt), ("sp", sp), ("se", se),
         ("spr", spr), ("sig", sig.decode())]
    print(urllib.parse.urlencode(q, safe=""))


def main(argv):
    if len(argv) >= 5 and argv[1] == "s3rver":
        s3rver(argv[2], argv[3], int(argv[4]),
               int(argv[5]) if len(argv) > 5 else 0)
    elif len(argv) == 3 and argv[1] == "tree":
        tree(argv[2])
    elif len(argv) >= 3 and argv[1] == "keys":
        first = int(argv[3]) if len(argv) > 3 else 0
        out = sys.stdout
        for i in range(first, first + int(argv[2])):
            out.write(key_of(i)[0] + "\n")
    elif len(argv) == 2 and argv[1] == "sas":
        sas()
    else:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
