#!/usr/bin/python3
"""azstub.py - a loopback stand-in for the Microsoft Entra ID token
endpoints that arc's Azure backend asks, answering in the shapes
Microsoft documents:

  POST /TENANT/oauth2/v2.0/token     client credentials, with a client
      secret or a client assertion (workload identity); answers
      {"token_type", "expires_in", "ext_expires_in", "access_token"},
      errors as {"error", "error_description"}
  GET /metadata/identity/oauth2/token   the instance metadata service
      (api-version 2018-02-01, "Metadata: true" required); answers with
      expires_in and expires_on as strings
  GET /msi/token                      App Service managed identity
      (api-version 2019-08-01, X-IDENTITY-HEADER required); answers
      with expires_on (a string of epoch seconds)

Tokens are JWTs (HS256, key "azstub") that Azurite's "--oauth basic"
accepts: aud https://storage.azure.com, iss https://sts.windows.net/
TENANT/, nbf and iat five minutes ago, exp after the lifetime.

usage: azstub.py DIR

Listens on 127.0.0.1 on a port the kernel picks, written to DIR/port.
Steered by files in DIR, read on every request:
  secret           the client secret to require (401 invalid_client else)
  assertion        the client assertion to require (401 else)
  identity_header  the X-IDENTITY-HEADER value to require (401 else)
  expires_in       token lifetime in seconds (default 3600)
  fail             an HTTP status to answer every token request with
  fail_after       N: answer 503 to token requests once N requests are
                   in requests.ndjson
  rotate           a path: after each token granted for an assertion,
                   write a new assertion there and require it next (a
                   kubelet rotating the projected service account token)
Every request is appended to DIR/requests.ndjson: method, path, query,
headers and form fields, one JSON object a line.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = None
LOCK = threading.Lock()
COUNT = [0]	# tokens minted


def ctl(name, default=None):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(tenant, lifetime):
    now = int(time.time())
    with LOCK:
        COUNT[0] += 1
        n = COUNT[0]
    head = {"alg": "HS256", "typ": "JWT"}
    body = {"aud": "https://storage.azure.com",
            "iss": "https://sts.windows.net/%s/" % tenant,
            "iat": now - 300, "nbf": now - 300, "exp": now + lifetime,
            "tid": tenant, "appid": "azstub", "n": n}
    s = b64url(json.dumps(head).encode()) + "." + \
        b64url(json.dumps(body).encode())
    sig = hmac.new(b"azstub", s.encode(), hashlib.sha256).digest()
    return s + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, form):
        u = urllib.parse.urlsplit(self.path)
        rec = {"method": self.command, "path": u.path,
               "query": dict(urllib.parse.parse_qsl(u.query)),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "form": form}
        with LOCK, open(os.path.join(DIR, "requests.ndjson"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        return u, rec

    def failing(self):
        st = ctl("fail")
        after = ctl("fail_after")
        if after is not None:
            with LOCK, open(os.path.join(DIR, "requests.ndjson")) as f:
                if sum(1 for _ in f) > int(after):
                    st = "503"
        if st:
            self.answer(int(st), {"error": "temporarily_unavailable",
                                  "error_description": "azstub: told to fail"})
            return True
        return False

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode()
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        u, _ = self.record(form)
        parts = u.path.split("/")
        if len(parts) != 5 or parts[2:] != ["oauth2", "v2.0", "token"]:
            return self.answer(404, {"error": "not_found"})
        if self.failing():
            return
        tenant = parts[1]
        if form.get("grant_type") != "client_credentials" or \
                form.get("scope") != "https://storage.azure.com/.default" or \
                not form.get("client_id"):
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "AADSTS900144: bad request"})
        want_secret, want_assert = ctl("secret"), ctl("assertion")
        if "client_secret" in form:
            ok = want_secret is None or form["client_secret"] == want_secret
        elif form.get("client_assertion_type") == \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            ok = want_assert is None or \
                form.get("client_assertion") == want_assert
        else:
            ok = False
        if not ok:
            return self.answer(401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret "
                "provided.\r\nTrace ID: 0000\r\nCorrelation ID: 0000"})
        life = int(ctl("expires_in", "3600"))
        rot = ctl("rotate")
        if rot and "client_assertion" in form:
            with LOCK:
                new = "rotated-%d" % COUNT[0]
            with open(rot + ".tmp", "w") as f:
                f.write(new + "\n")
            os.rename(rot + ".tmp", rot)
            with open(os.path.join(DIR, "assertion"), "w") as f:
                f.write(new + "\n")
        self.answer(200, {"token_type": "Bearer", "expires_in": life,
                          "ext_expires_in": life,
                          "access_token": jwt(tenant, life)})

    def do_GET(self):
        u, rec = self.record({})
        q = rec["query"]
        life = int(ctl("expires_in", "3600"))
        if u.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true" or \
                    q.get("api-version") != "2018-02-01" or \
                    q.get("resource") != "https://storage.azure.com/":
                return self.answer(400, {"error": "invalid_request",
                                         "error_description": "bad request"})
            if self.failing():
                return
            now = int(time.time())
            return self.answer(200, {
                "access_token": jwt("imds", life), "refresh_token": "",
                "expires_in": str(life), "expires_on": str(now + life),
                "not_before": str(now), "resource": q["resource"],
                "token_type": "Bearer"})
        if u.path == "/msi/token":
            want = ctl("identity_header")
            if q.get("api-version") != "2019-08-01" or \
                    q.get("resource") != "https://storage.azure.com/":
                return self.answer(400, {"statusCode": 400,
                                         "message": "bad request"})
            if want is not None and \
                    self.headers.get("X-IDENTITY-HEADER") != want:
                return self.answer(401, {"statusCode": 401,
                                         "message": "wrong identity header"})
            if self.failing():
                return
            now = int(time.time())
            return self.answer(200, {
                "access_token": jwt("appservice", life),
                "expires_on": str(now + life),
                "resource": q["resource"], "token_type": "Bearer",
                "client_id": q.get("client_id", "system")})
        self.answer(404, {"error": "not_found"})


def main(argv):
    global DIR
    if len(argv) != 2:
        sys.stderr.write("usage: azstub.py DIR\n")
        return 2
    DIR = argv[1]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(DIR, "port"))
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
