#!/usr/bin/python3
"""proxy.py - a tiny HTTP forward and CONNECT proxy on loopback, for tests.

usage: proxy.py PORTFILE LOG

Listens on 127.0.0.1 on a port the kernel chooses, written to PORTFILE
once it listens.  A request with an absolute URI (http://host:port/...)
is passed on to that host; a CONNECT host:port is tunnelled, bytes both
ways.  Only 127.0.0.1 is ever reached.  Each request appends one line to
LOG: "CONNECT host:port" or "METHOD URL", so a test can count what went
through.  Stops when killed (SIGTERM).  Python's standard library only.
"""
import http.client
import http.server
import select
import socket
import sys
import threading
import urllib.parse

PORTFILE, LOG = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()


def log(line):
    with LOCK:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_CONNECT(self):
        log("CONNECT " + self.path)
        host, _, port = self.path.rpartition(":")
        if host != "127.0.0.1":
            self.send_error(403)
            return
        try:
            up = socket.create_connection((host, int(port)), timeout=30)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        socks = [self.connection, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 30)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.connection else
                     self.connection).sendall(data)
        except OSError:
            pass
        finally:
            up.close()

    def forward(self):
        log(self.command + " " + self.path)
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or url.hostname != "127.0.0.1":
            self.send_error(403)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection",
                                        "keep-alive")}
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        c = http.client.HTTPConnection(url.hostname, url.port or 80,
                                       timeout=30)
        try:
            c.request(self.command, path, body, headers)
            r = c.getresponse()
            data = r.read()
        except OSError:
            self.send_error(502)
            return
        finally:
            c.close()
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection",
                                 "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.replace(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()
