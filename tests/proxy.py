#!/usr/bin/python3
"""proxy.py - the test suites' one HTTP proxy on loopback.

    proxy.py PORTFILE LOG [UPSTREAM_PORT RULES]

Listens on 127.0.0.1 on a port the kernel chooses, written to PORTFILE
once it listens.  Stops when killed (SIGTERM).  Only 127.0.0.1 is ever
reached.  Python's standard library only (/usr/bin/python3).  It is two
proxies in one, told apart by the request:

A forward proxy (http_proxy, HTTPS_PROXY): a request with an absolute URI
(http://127.0.0.1:port/...) is passed on to that host; a CONNECT
127.0.0.1:port is tunnelled, bytes both ways.  LOG gets one line per
request: "CONNECT host:port" or "METHOD URL".

A fault-injecting reverse proxy, with UPSTREAM_PORT and RULES: a request
with a path is forwarded, headers and body verbatim (Host included, so
SigV4 signatures stay valid), to 127.0.0.1:UPSTREAM_PORT.  RULES is a
file of lines "METHOD REGEX ACTION [TIMES]", re-read on every request;
the rules' counters start over whenever the file changes.  The first rule
whose METHOD ("*" for any) matches and whose REGEX is found in the
request target (path and query as sent) and that has TIMES left (default:
unlimited) is applied:

    NNN         answer HTTP NNN with an S3 error body, no forwarding
    drop        close the connection without an answer
    delay:SECS  wait SECS seconds, then forward
    strip:NAME  forward without the query parameter NAME: a server that
                ignores start-after, continuation-token or marker (only
                for requests whose signature does not cover the query:
                s3rver 3.7.1 checks none, an Azure SAS does not cover
                marker)
    replay      forward the first matching request; answer every later
                one with that first answer: the same page forever, its
                continuation token or marker repeated
    empty:KIND  answer a page with no keys that says there is more, with
                a new token each time: KIND s3 (ListObjectsV2) or az
                (List Blobs)
    ack-delete  a store that acknowledges deletes and keeps the objects:
                answer a DELETE with 204 and an S3 DeleteObjects POST
                with <Deleted> for every key of its body, without
                forwarding either

LOG gets one line per request: "METHOD TARGET NNN" or "METHOD TARGET
drop" for an injected fault, "METHOD TARGET RULE pass STATUS" for a
forwarded request (RULE is "-" or the delay applied).  A forwarded
request that finds the upstream down is answered 502.
"""
import http.client
import http.server
import os
import re
import select
import socket
import sys
import threading
import time
import urllib.parse

PORTFILE, LOG = sys.argv[1], sys.argv[2]
UPSTREAM = int(sys.argv[3]) if len(sys.argv) > 3 else None
RULES = sys.argv[4] if len(sys.argv) > 4 else None

lock = threading.Lock()
state = {"text": None, "rules": [], "empty": 0}

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-connection", "content-length"}


def ack_delete(method, data):
    """ack-delete: the answer of a store that deleted and did not."""
    if method == "DELETE":
        return 204, [], b""
    keys = re.findall(rb"<Key>(.*?)</Key>", data, re.S)
    body = (b'<?xml version="1.0" encoding="UTF-8"?><DeleteResult '
            b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
            b"".join(b"<Deleted><Key>%s</Key></Deleted>" % k for k in keys) +
            b"</DeleteResult>")
    return 200, [("Content-Type", "application/xml")], body


def log(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


def load_rules():
    """The rules, with counters kept while the file is unchanged."""
    try:
        with open(RULES) as f:
            text = f.read()
    except (OSError, TypeError):
        text = ""
    if text != state["text"]:
        rules = []
        for line in text.splitlines():
            f = line.split()
            if not f or f[0].startswith("#"):
                continue
            rules.append({"method": f[0], "re": re.compile(f[1]),
                          "action": f[2],
                          "left": int(f[3]) if len(f) > 3 else -1,
                          "saved": None})
        state["text"], state["rules"] = text, rules
    return state["rules"]


def pick(method, target):
    """The action of the first rule that applies, and that rule."""
    with lock:
        for r in load_rules():
            if r["method"] not in ("*", method) or not r["re"].search(target):
                continue
            if r["left"] == 0:
                continue
            if r["left"] > 0:
                r["left"] -= 1
            return r["action"], r
    return None, None


def strip_param(target, name):
    """target without the query parameter name."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    kept = [p for p in query.split("&") if p.split("=", 1)[0] != name]
    return path + ("?" + "&".join(kept) if kept else "")


def empty_page(kind):
    with lock:
        state["empty"] += 1
        n = state["empty"]
    if kind == "az":
        return (b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults>'
                b'<Blobs/><NextMarker>m%d</NextMarker></EnumerationResults>'
                % n)
    return (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
            b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>'
            b'<KeyCount>0</KeyCount><IsTruncated>true</IsTruncated>'
            b'<NextContinuationToken>t%d</NextContinuationToken>'
            b'</ListBucketResult>' % n)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # ---- forward proxy --------------------------------------------------

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
        body = self.body() or None
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

    # ---- fault-injecting reverse proxy ----------------------------------

    def fault(self, method, target, action, rule, data):
        """Apply an action that answers itself; False: forward."""
        if action == "ack-delete" and method in ("DELETE", "POST"):
            log("%s %s ack-delete" % (method, target))
            status, headers, body = ack_delete(method, data)
            self.send_raw(status, headers, body, method)
            return True
        if action is not None and action.startswith("empty:"):
            log("%s %s %s" % (method, target, action))
            self.send_raw(200, [("Content-Type", "application/xml")],
                          empty_page(action[6:]), method)
            return True
        if action == "replay":
            with lock:
                saved = rule["saved"]
            if saved is not None:
                log("%s %s replay %d" % (method, target, saved[0]))
                self.send_raw(saved[0], saved[1], saved[2], method)
                return True
        if action == "drop":
            log("%s %s drop" % (method, target))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if action is not None and action.startswith("delay:"):
            time.sleep(float(action[6:]))
        elif action is not None and action.isdigit():
            log("%s %s %s" % (method, target, action))
            code = int(action)
            msg = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                   b'<Code>Injected%d</Code><Message>injected by the test '
                   b'proxy</Message></Error>' % code)
            self.send_raw(code, [("Content-Type", "application/xml")], msg,
                          method)
            return True
        return False    # strip:NAME, the first answer of replay: forward

    def reverse(self):
        method, target = self.command, self.path
        data = self.body()
        if UPSTREAM is None:
            self.send_error(400, "no upstream: only absolute URIs")
            return
        action, rule = pick(method, target)
        if action is not None and action.startswith("strip:"):
            target = strip_param(target, action[6:])
        if self.fault(method, target, action, rule, data):
            return
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "expect"]
        if data or method in ("PUT", "POST"):
            headers.append(("Content-Length", str(len(data))))
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        try:
            conn.putrequest(method, target, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(data if data else None)
            resp = conn.getresponse()
            rdata = resp.read()
        except OSError as e:
            # the upstream is down: say so, as a gateway would
            log("%s %s %s upstream-error %s" % (method, target, action or "-", e))
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        finally:
            conn.close()
        log("%s %s %s pass %d" % (method, target, action or "-", resp.status))
        kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        if action == "replay":
            with lock:
                if rule["saved"] is None:
                    rule["saved"] = (resp.status, kept, rdata)
        self.send_response_only(resp.status, resp.reason)
        for k, v in kept:
            self.send_header(k, v)
        if method == "HEAD":
            cl = resp.getheader("Content-Length")
            if cl is not None:
                self.send_header("Content-Length", cl)
        else:
            self.send_header("Content-Length", str(len(rdata)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(rdata)

    def send_raw(self, status, headers, body, method):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        try:
            if self.path.startswith("http://") or \
                    self.path.startswith("https://"):
                self.forward()
            else:
                self.reverse()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()
