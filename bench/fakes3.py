#!/usr/bin/python3
"""fakes3.py - a minimal, threaded, in-memory S3 for latency benchmarks.

usage: fakes3.py [-f port-file] [-d delay-ms] [-l log] bucket storage-records

Serves ListObjectsV2 (prefix, start-after, continuation-token, max-keys
up to 1000, delimiter) and HEAD of the keys in the storage-records file
(path TAB mtime TAB size, as arc-list writes them), on 127.0.0.1 at a free
port written to the -f file.  Every answer waits delay-ms first (sleeping,
so requests in flight overlap as they would on a real, horizontally scaled
object store) and costs almost no server time otherwise.  It is not a
test double for correctness (no signatures are checked); it only shows how
a client copes with round trips once the server is not the bottleneck,
which s3rver, single-threaded, always is.  Standard library only.
"""
import argparse
import base64
import bisect
import calendar
import email.utils
import http.server
import os
import socketserver
import sys
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class Store:
    def __init__(self, path):
        self.keys, self.meta = [], {}
        with open(path, "rb") as f:
            for line in f:
                p, mt, sz = line.rstrip(b"\n").split(b"\t")[:3]
                k = p.decode("utf-8", "surrogateescape")
                self.keys.append(k)
                self.meta[k] = (mt.decode(), sz.decode())
        # code point order is UTF-8 byte order
        self.keys.sort()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are separate writes: without this, Nagle holds the
    # body of a small answer until the client's delayed ACK (40 ms)
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=(), length=None):
        t0 = time.monotonic()
        time.sleep(self.server.delay)
        if self.server.log is not None:
            self.server.log.write("%.3f %.3f %s %s %s\n" % (
                t0, time.monotonic(), self.client_address[1], self.command,
                self.path))
            self.server.log.flush()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.split("/", 2)
        key = urllib.parse.unquote(parts[2]) if len(parts) > 2 else ""
        m = self.server.store.meta.get(key)
        if parts[1] != self.server.bucket or m is None:
            self.send(404)
            return
        t = calendar.timegm(time.strptime(m[0], "%Y-%m-%dT%H:%M:%SZ"))
        self.send(200, b"", [("ETag", '"0"'), ("Last-Modified",
                             email.utils.formatdate(t, usegmt=True))],
                  length=m[1])

    def do_GET(self):
        # pages are rendered once and kept: repeated runs cost no server CPU
        body = self.server.pages.get(self.path)
        if body is None:
            body = self.render()
            if body is None:
                self.send(404)
                return
            self.server.pages[self.path] = body
        self.send(200, body, [("Content-Type", "application/xml")])

    def render(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.strip("/") != self.server.bucket:
            return None
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        prefix = q.get("prefix", "")
        delim = q.get("delimiter", "")
        maxk = min(int(q.get("max-keys", "1000")), 1000)
        after = q.get("start-after", "")
        if "continuation-token" in q:
            after = base64.b64decode(q["continuation-token"]).decode()
        keys = self.server.store.keys
        i = self.find(after, prefix)
        out, prefixes, last = [], [], None
        truncated = False
        while i < len(keys):
            k = keys[i]
            if not k.startswith(prefix):
                break
            if len(out) + len(prefixes) >= maxk:
                truncated = True
                break
            if delim:
                j = k.find(delim, len(prefix))
                if j != -1:
                    cp = k[:j + len(delim)]
                    prefixes.append(cp)
                    last = cp
                    # skip every key under this common prefix
                    i = self.find(cp + "\U0010ffff", prefix)
                    continue
            out.append(k)
            last = k
            i += 1
        body = ['<?xml version="1.0" encoding="UTF-8"?>',
                '<ListBucketResult xmlns="%s">' % NS,
                "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>"
                "<MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>"
                % (self.server.bucket, escape(prefix), len(out) + len(prefixes),
                   maxk, "true" if truncated else "false")]
        if truncated:
            body.append("<NextContinuationToken>%s</NextContinuationToken>"
                        % base64.b64encode(last.encode()).decode())
        meta = self.server.store.meta
        for k in out:
            mt, sz = meta[k]
            body.append("<Contents><Key>%s</Key><LastModified>%s</LastModified>"
                        "<ETag>&quot;0&quot;</ETag><Size>%s</Size>"
                        "<StorageClass>STANDARD</StorageClass></Contents>"
                        % (escape(k), mt.replace("Z", ".000Z"), sz))
        for p in prefixes:
            body.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>"
                        % escape(p))
        body.append("</ListBucketResult>")
        return "".join(body).encode()

    def find(self, after, prefix):
        """Index of the first key > after and >= prefix."""
        keys = self.server.store.keys
        lo = bisect.bisect_left(keys, prefix)
        if after:
            lo = max(lo, bisect.bisect_right(keys, after))
        return lo


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-f", dest="portfile")
    ap.add_argument("-d", dest="delay", type=float, default=20.0)
    ap.add_argument("-l", dest="log")
    ap.add_argument("bucket")
    ap.add_argument("records")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.store = Store(a.records)
    srv.bucket = a.bucket
    srv.pages = {}
    srv.delay = a.delay / 1000.0
    srv.log = open(a.log, "a") if a.log else None
    if a.portfile:
        with open(a.portfile + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(a.portfile + ".tmp", a.portfile)
    import signal
    signal.signal(signal.SIGTERM, lambda *x: threading.Thread(
        target=srv.shutdown).start())
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
