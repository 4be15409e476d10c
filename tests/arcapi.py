#!/usr/bin/python3
"""arcapi.py - a stand-in for Arc's GET /api/v1/cluster/files, for tests.

usage: arcapi.py PORT DIR [CERT KEY]

Listens on 127.0.0.1:PORT (HTTPS with CERT and KEY, PEM files) and serves the manifest the way Arc does
(reference arc-reconciliation.md section 2), steered by files in DIR
that are read again on every request, so a test can change them at any
time (the server keeps no state of its own):

  manifest.ndjson  the manifest: one FileEntry JSON object a line (blank
                   lines and "null" lines are skipped)
  page_size        the server's own cap on a page (default 10000, Arc's
                   maximum): a page holds min(limit, page_size) entries,
                   so a small manifest spans several pages whatever limit
                   the client asks for
  token            an admin token: when present, a request must carry it
                   (Authorization: Bearer/Token/raw, x-api-key or ?p=),
                   else 401 {"success":false,"error":"Authentication
                   required"}
  token_noadmin    a token that authenticates but lacks admin: 403
                   {"success":false,"error":"Permission denied: admin
                   required"}
  standalone       a reason: answer 200 {"enabled":false,"mode":
                   "standalone","reason":REASON} (clustering off)
  delay            seconds to wait before answering each request
  cursor_mode      a server that pages wrongly: "ignore" answers every
                   paged request as if it had no cursor (the first page,
                   its next_cursor repeated); "advance" does the same
                   but makes next_cursor the request's cursor with "~"
                   appended, a cursor that always moves while the page
                   does not; "repeat" answers next_cursor with the
                   request's own cursor (the first page's last path when
                   it had none)
  etcd_mode        with etcd_upstream, a gateway that pages wrongly:
                   "replay" answers every /v3/kv/range after the first
                   with the first one's answer; "ignore_key" sends every
                   range request upstream with the first one's "key",
                   so each page starts from the beginning again
  after.N          renamed over manifest.ndjson once the answer to
                   request N (the N-th line of requests.log) has been
                   computed and before it is sent: the manifest changes
                   between two page requests
  etcd-NAME        for POST /v3/.../NAME (range, txn, grant, ...): the
                   answer, its first line the HTTP status, the rest the
                   body (a fake etcd JSON gateway)
  etcd_upstream    HOST:PORT of a real etcd: every other POST /v3/... is
                   passed on to it (a proxy that can count and log)
  after.N.etcd     lines "API JSON-BODY" POSTed to etcd_upstream once the
                   answer to request N has been fetched and before it is
                   sent (etcd changes between two requests of a tool)

Every request is appended to DIR/requests.log as one JSON line:
{"n":N,"method":..,"path":..,"query":..,"auth":..,"body":..}.  It stops
when killed (SIGTERM).  Python's standard library only.
"""
import bisect
import http.client
import http.server
import json
import os
import random
import sys
import threading
import time
import urllib.parse

PORT = int(sys.argv[1])
DIR = sys.argv[2]
LOCK = threading.Lock()
ETCD = {}       # etcd_mode's memory: the first range request and answer


def ctl(name):
    """The content of control file NAME, or None."""
    try:
        with open(os.path.join(DIR, name), "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def query_params(qs):
    """Decode a query string into {name: bytes}, as Go's url.ParseQuery."""
    out = {}
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = urllib.parse.unquote(k.replace("+", " "))
        if k not in out:
            out[k] = urllib.parse.unquote_to_bytes(v.replace("+", " "))
    return out


def pkey(e):
    return e["path"].encode("utf-8", "surrogateescape")


def load_manifest():
    entries = []
    for line in (ctl("manifest.ndjson") or "").splitlines():
        line = line.strip()
        if not line or line == "null":
            continue
        entries.append(json.loads(line))
    return entries


def parse_limit(raw):
    """Arc: 1..10000 as a decimal integer, anything else 1000."""
    try:
        s = raw.decode()
        if not s.lstrip("-").isdigit():
            return 1000
        n = int(s)
    except (UnicodeDecodeError, ValueError):
        return 1000
    return n if 1 <= n <= 10000 else 1000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(
            obj, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogateescape")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start(self, body=b""):
        url = urllib.parse.urlsplit(self.path)
        rec = {"method": self.command, "path": url.path, "query": url.query,
               "auth": self.headers.get("Authorization"),
               "body": body.decode("utf-8", "replace")}
        with LOCK:
            # the count restarts when a test empties the log
            log = os.path.join(DIR, "requests.log")
            try:
                with open(log, "rb") as f:
                    n = f.read().count(b"\n") + 1
            except FileNotFoundError:
                n = 1
            rec = dict(n=n, **rec)
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        delay = ctl("delay")
        if delay:
            time.sleep(float(delay))
        return n, url

    def after(self, n):
        nxt = os.path.join(DIR, "after.%d" % n)
        if os.path.exists(nxt):
            os.replace(nxt, os.path.join(DIR, "manifest.ndjson"))
        todo = ctl("after.%d.etcd" % n)
        if todo:
            for line in todo.splitlines():
                if line.strip():
                    api, _, body = line.partition(" ")
                    self.upstream(api, body.encode())

    def upstream(self, api, body):
        host, _, port = (ctl("etcd_upstream") or "").strip().partition(":")
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            c.request("POST", api, body,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    # ---- Arc's cluster API --------------------------------------------

    def do_GET(self):
        n, url = self.start()
        if url.path != "/api/v1/cluster/files":
            self.reply(404, {"error": "not found"})
            return
        q = query_params(url.query)
        token = ctl("token")
        if token is not None:
            given = None
            auth = self.headers.get("Authorization")
            if auth:
                for p in ("Bearer ", "Token "):
                    if auth.startswith(p):
                        given = auth[len(p):]
                        break
                else:
                    given = auth
            elif self.headers.get("x-api-key"):
                given = self.headers.get("x-api-key")
            elif "p" in q:
                given = q["p"].decode("utf-8", "replace")
            noadmin = ctl("token_noadmin")
            if noadmin is not None and given == noadmin.strip():
                self.reply(403, {"success": False,
                                 "error": "Permission denied: admin required"})
                return
            if given != token.strip():
                self.reply(401, {"success": False,
                                 "error": "Authentication required"})
                return
        reason = ctl("standalone")
        if reason is not None:
            self.reply(200, {"enabled": False, "mode": "standalone",
                             "reason": reason.strip()})
            return
        try:
            entries = load_manifest()
        except ValueError as e:	# a test's own mistake: say so
            self.reply(500, {"error": "manifest.ndjson: %s" % e})
            return
        db = q.get("database", b"").decode("utf-8", "surrogateescape")
        if db:
            entries = [e for e in entries if e.get("database") == db]
        cursor = q.get("cursor", b"")
        if cursor == b"" and q.get("limit", b"") == b"":
            # the legacy full dump: arbitrary order, no cursor
            random.shuffle(entries)
            body = {"files": entries or None, "total": len(entries)}
        else:
            limit = parse_limit(q.get("limit", b""))
            limit = min(limit, int((ctl("page_size") or "10000").strip()))
            entries.sort(key=pkey)
            keys = [pkey(e) for e in entries]
            mode = (ctl("cursor_mode") or "").strip()
            # exclusive: the first key strictly after the cursor
            start = bisect.bisect_right(keys, b"" if mode else cursor)
            end = min(start + limit, len(keys))
            page = entries[start:end]
            nxt = page[-1]["path"] if page and end < len(keys) else ""
            if mode == "advance":
                nxt = cursor.decode("utf-8", "surrogateescape") + "~"
            elif mode == "repeat" and cursor:
                nxt = cursor.decode("utf-8", "surrogateescape")
            body = {"files": page or None, "total": len(page),
                    "next_cursor": nxt}
        self.after(n)
        self.reply(200, body)

    # ---- a fake or proxied etcd JSON gateway ---------------------------

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        n, url = self.start(body)
        fake = ctl("etcd-" + url.path.rsplit("/", 1)[-1])
        if fake is not None:
            status, _, rest = fake.partition("\n")
            out = (int(status), rest.encode("utf-8", "surrogateescape"))
        elif ctl("etcd_upstream") is not None and url.path.startswith("/v3/"):
            mode = (ctl("etcd_mode") or "").strip()
            ranged = url.path == "/v3/kv/range" and mode
            if not mode:
                with LOCK:
                    ETCD.clear()    # a new test starts afresh
            if ranged and mode == "ignore_key":
                req = json.loads(body)
                with LOCK:
                    first = ETCD.setdefault("key", req.get("key"))
                req["key"] = first
                body = json.dumps(req).encode()
            try:
                with LOCK:
                    saved = ETCD.get("answer") if mode == "replay" else None
                out = saved if ranged and saved else self.upstream(
                    url.path, body)
            except OSError as e:
                out = (502, json.dumps({"error": str(e)}).encode())
            if ranged and mode == "replay":
                with LOCK:
                    ETCD.setdefault("answer", out)
        else:
            out = (404, b'{"error":"not found"}')
        self.after(n)
        self.reply(out[0], raw=out[1])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", PORT), Handler)
    if len(sys.argv) > 4:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
