#!/usr/bin/python3
"""fakeserver.py - serve canned HTTP answers by path, for hostile-input tests.

    fakeserver.py DIR PORTFILE

Listens on a port of 127.0.0.1 that the kernel chooses and writes it to
PORTFILE once it listens.  Every request, whatever its method and query,
is answered from the file DIR/NAME, where NAME is the URL path without
its query, leading and trailing slashes removed and each remaining '/'
written as '__' ("/bkt" -> "bkt", "/devstoreaccount1/c" ->
"devstoreaccount1__c", "/v3/kv/range" -> "v3__kv__range", "/" -> "_").
The file holds the HTTP status on its first line, then header lines
"Name: value" up to an empty line, then the body, sent byte for byte
(Content-Length is added).  A path with no file is answered 404 with an
empty body; a HEAD request gets the status and headers only.  The files
are read again on every request, so a test may change them at any time.

Each request is appended to DIR/requests.log as "METHOD TARGET".  It
stops when killed (SIGTERM).  Python's standard library only.
"""
import http.server
import os
import sys
import threading

DIR, PORTFILE = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()


def answer_file(path):
    name = path.split("?", 1)[0].strip("/").replace("/", "__") or "_"
    if name.startswith(".") or os.sep in name:
        return None
    f = os.path.join(DIR, name)
    return f if os.path.isfile(f) else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 0:
            self.rfile.read(n)
        with LOCK:
            with open(os.path.join(DIR, "requests.log"), "a") as log:
                log.write("%s %s\n" % (self.command, self.path))
        f = answer_file(self.path)
        status, headers, body = 404, [], b""
        if f is not None:
            with open(f, "rb") as fp:
                data = fp.read()
            head, _, body = data.partition(b"\n\n")
            lines = head.decode("latin-1").split("\n")
            status = int(lines[0].strip())
            for h in lines[1:]:
                if ":" in h:
                    k, v = h.split(":", 1)
                    headers.append((k.strip(), v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = answer


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
tmp = PORTFILE + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(tmp, PORTFILE)
srv.serve_forever()
