#!/usr/bin/python3
"""racewriter.py - a writer that races arc-reconcile, as Arc writes.

usage: racewriter.py STORE MANIFEST LOGDIR COUNT [RATE [GHOST [DECOY]]]

Writes COUNT files in Arc's layout below db/race/ and registers each one:
the file first (a local file, or an object PUT to the S3 endpoint of
AWS_ENDPOINT_URL, unsigned, when STORE is s3://BUCKET), then its FileEntry
appended to MANIFEST while holding an exclusive flock(2) on MANIFEST.lock,
the manifest opened after the lock is taken and closed before it is
released, as MANIFEST FILE LOCKING in arc(7) asks of a writer.

Every GHOST-th write it also registers a ghost, an entry without a file,
in the same hold of the lock, and every DECOY-th write it creates a decoy,
a file under db/decoy/ that is never registered: drift for the racing
runs to repair, so that they rewrite the manifest and delete files while
the writer works.  RATE caps the writes per second (0: as fast as it can).

On S3 a keep.txt object, never listed, is put first in every directory
the writer uses (see below).  Each path is appended to LOGDIR/written, ghosts or decoys once it is
complete (registered, for a written file).  On SIGTERM the writer ends
the write in progress and exits 0.  Exit 1 on any failure.
"""
import fcntl
import http.client
import json
import os
import signal
import sys
import time
import urllib.parse

stopping = False


def on_term(sig, frame):
    global stopping
    stopping = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    store, manifest, logdir = sys.argv[1:4]
    count = int(sys.argv[4])
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    ghost_every = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    decoy_every = int(sys.argv[7]) if len(sys.argv) > 7 else 0

    s3 = None
    if store.startswith("s3://"):
        bucket = store[5:].strip("/")
        ep = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
        s3 = http.client.HTTPConnection(ep.hostname, ep.port, timeout=30)

    def put(path, data):
        if s3 is None:
            fd = os.open(os.path.join(store, path),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, data)
            os.close(fd)
            return
        s3.request("PUT", "/%s/%s" % (bucket, path), body=data)
        r = s3.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError("PUT %s: HTTP %d" % (path, r.status))

    for h in range(24):
        for top in ("race", "decoy"):
            d = "db/%s/2026/04/10/%02d" % (top, h)
            if s3 is None:
                os.makedirs(os.path.join(store, d), exist_ok=True)
            else:
                # s3rver removes a directory that a delete leaves empty,
                # and a PUT into it at that moment crashes the server:
                # a placeholder (not a parquet file, never listed) keeps
                # every directory the writer uses
                put(d + "/keep.txt", b"keep\n")

    logs = {k: open(os.path.join(logdir, k), "a", buffering=1)
            for k in ("written", "ghosts", "decoys")}
    lock = os.open(manifest + ".lock", os.O_RDONLY | os.O_CREAT, 0o644)
    t0 = time.monotonic()

    def entry(path, lsn, size):
        return json.dumps({
            "path": path,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "size_bytes": size, "database": "db",
            "measurement": path.split("/")[1], "origin_node_id": "node-1",
            "lsn": lsn}, separators=(",", ":")) + "\n"

    for i in range(1, count + 1):
        if stopping:
            break
        if rate > 0:
            ahead = t0 + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        hh = "%02d" % (i % 24)
        path = "db/race/2026/04/10/%s/race_20260410_%s_%09d.parquet" % (
            hh, hh, i)
        data = ("race %d\n" % i).encode()
        put(path, data)
        lines = entry(path, 2 * i, len(data))
        ghost = None
        if ghost_every and i % ghost_every == 0:
            ghost = ("db/ghost/2026/04/10/%s/ghost_20260410_%s_%09d.parquet"
                     % (hh, hh, i))
            lines += entry(ghost, 2 * i + 1, 10)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            fd = os.open(manifest, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, lines.encode())
            finally:
                os.close(fd)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        logs["written"].write(path + "\n")
        if ghost:
            logs["ghosts"].write(ghost + "\n")
        if decoy_every and i % decoy_every == 0:
            decoy = ("db/decoy/2026/04/10/%s/decoy_20260410_%s_%09d.parquet"
                     % (hh, hh, i))
            put(decoy, b"decoy\n")
            logs["decoys"].write(decoy + "\n")
    for f in logs.values():
        f.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # one line, for the test's output
        print("racewriter: %s" % e, file=sys.stderr)
        sys.exit(1)
