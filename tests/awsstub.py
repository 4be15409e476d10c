#!/usr/bin/python3
"""awsstub.py - loopback stand-ins for the AWS credential services.

    awsstub.py DIR PORTFILE

Listens on a free port of 127.0.0.1 (written to PORTFILE once it
listens) and answers, in the request and answer shapes AWS documents:

  POST /  (or GET /?...)  STS, Version 2011-06-15:
      Action=AssumeRoleWithWebIdentity: RoleArn, RoleSessionName and
          WebIdentityToken required; the token must equal DIR/webid.token
          when that file exists.  Unsigned.
      Action=AssumeRole: RoleArn and RoleSessionName required, and an
          Authorization header "AWS4-HMAC-SHA256 Credential=ID/DATE/
          REGION/sts/aws4_request, ..." (the signature is not checked;
          the ID is logged).
      Answers AssumeRole[WithWebIdentity]Response XML, or an
      ErrorResponse with HTTP 400 or 403.
  GET /container/...  container credentials: the Authorization header
      must equal DIR/container.token (when it exists), else 401.  JSON
      {AccessKeyId, SecretAccessKey, Token, Expiration}.  Once
      DIR/requests.log holds DIR/container.max container answers (when
      that file exists), 500 instead.
  PUT /latest/api/token  IMDSv2 session token; needs the header
      X-aws-ec2-metadata-token-ttl-seconds (1-21600), else 400.
  GET /latest/meta-data/iam/security-credentials/[ROLE]  the role name
      ("arc-test-role"), then its JSON credentials; 401 without a token
      from the PUT.
  GET /s3log/BUCKET?...  a bucket that is always empty (ListObjectsV2),
      for seeing how S3 requests are signed: logs "s3 REGION ID" from
      the Authorization header's credential scope ("s3 unsigned" when
      there is none).

Every set of credentials handed out is new: ID "ASIATEMP<n>X<expiry>",
secret "secret-ID", token "token-ID" (what tests/s3rver-creds.js
accepts), Expiration now + DIR/lifetime seconds (default 3600).  Each
request appends a line "KIND DETAIL" to DIR/requests.log (KIND: webid,
assume, container, imds-token, imds-role, imds-creds, refused); no
secret is logged.  Standard library only (/usr/bin/python3).
"""
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

DIR, PORTFILE = sys.argv[1], sys.argv[2]
STSNS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE = "arc-test-role"
lock = threading.Lock()
state = {"n": 0, "imds_tokens": set()}


def setting(name, default=None):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def log(line):
    with lock, open(os.path.join(DIR, "requests.log"), "a") as f:
        f.write(line + "\n")


def new_keys():
    with lock:
        state["n"] += 1
        n = state["n"]
    exp = int(time.time()) + int(setting("lifetime", "3600"))
    kid = "ASIATEMP%dX%d" % (n, exp)
    return {"AccessKeyId": kid, "SecretAccessKey": "secret-" + kid,
            "Token": "token-" + kid,
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                        time.gmtime(exp))}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, status, why):
        log("refused %s %s: %s" % (self.command, self.path.split("?")[0],
                                    why))
        self.answer(status, why + "\n", "text/plain")

    def sts_error(self, status, code, msg):
        log("refused STS: %s" % code)
        self.answer(status, '<ErrorResponse xmlns="%s"><Error><Type>Sender'
                    '</Type><Code>%s</Code><Message>%s</Message></Error>'
                    '<RequestId>1</RequestId></ErrorResponse>'
                    % (STSNS, code, msg), "text/xml")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""

    def sts(self, form):
        p = {k: v[0] for k, v in urllib.parse.parse_qs(
            form, keep_blank_values=True).items()}
        action = p.get("Action")
        if p.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidAction", "bad Version")
        if not p.get("RoleArn", "").startswith("arn:aws:iam::"):
            return self.sts_error(400, "ValidationError", "RoleArn")
        if not p.get("RoleSessionName"):
            return self.sts_error(400, "ValidationError", "RoleSessionName")
        if action == "AssumeRoleWithWebIdentity":
            want = setting("webid.token")
            tok = p.get("WebIdentityToken", "")
            if not tok or (want is not None and tok != want):
                return self.sts_error(400, "InvalidIdentityToken",
                                      "the token is not the one issued")
            kind = "webid %s %s" % (p["RoleArn"], p["RoleSessionName"])
        elif action == "AssumeRole":
            auth = self.headers.get("Authorization", "")
            pre = "AWS4-HMAC-SHA256 Credential="
            if not auth.startswith(pre):
                return self.sts_error(403, "MissingAuthenticationToken",
                                      "the request must be signed")
            scope = auth[len(pre):].split(",")[0].split("/")
            if len(scope) != 5 or scope[3] != "sts":
                return self.sts_error(403, "SignatureDoesNotMatch",
                                      "not signed for sts")
            kind = "assume %s %s by %s" % (p["RoleArn"],
                                           p.get("RoleSessionName"),
                                           scope[0])
        else:
            return self.sts_error(400, "InvalidAction", "unknown Action")
        k = new_keys()
        log(kind)
        self.answer(200, '<%sResponse xmlns="%s"><%sResult><Credentials>'
                    '<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s'
                    '</SecretAccessKey><SessionToken>%s</SessionToken>'
                    '<Expiration>%s</Expiration></Credentials></%sResult>'
                    '<ResponseMetadata><RequestId>1</RequestId>'
                    '</ResponseMetadata></%sResponse>'
                    % (action, STSNS, action, k["AccessKeyId"],
                       k["SecretAccessKey"], k["Token"], k["Expiration"],
                       action, action), "text/xml")

    def do_POST(self):
        form = self.body()
        if self.path.split("?")[0] != "/":
            return self.refuse(404, "no such path")
        self.sts(form)

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.refuse(404, "no such path")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.refuse(400, "missing or invalid ttl")
        tok = secrets.token_hex(16)
        with lock:
            state["imds_tokens"].add(tok)
        log("imds-token")
        self.answer(200, tok, "text/plain")

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/" and query:
            return self.sts(query)
        if path.startswith("/container/"):
            want = setting("container.token")
            if want is not None and \
                    self.headers.get("Authorization") != want:
                return self.refuse(401, "wrong authorization token")
            with lock, open(os.path.join(DIR, "requests.log")) as f:
                n = sum(1 for x in f if x.startswith("container ")) + 1
            if n > int(setting("container.max", "1000000")):
                return self.refuse(500, "out of service")
            log("container %s" % path)
            return self.answer(200, json.dumps(new_keys()),
                               "application/json")
        if path.startswith("/s3log/"):
            auth = self.headers.get("Authorization", "")
            pre = "AWS4-HMAC-SHA256 Credential="
            if auth.startswith(pre):
                scope = auth[len(pre):].split(",")[0].split("/")
                log("s3 %s %s" % (scope[2], scope[0]))
            else:
                log("s3 unsigned")
            return self.answer(200, '<ListBucketResult xmlns="http://s3.'
                               'amazonaws.com/doc/2006-03-01/"><Name>b</Name>'
                               '<KeyCount>0</KeyCount><IsTruncated>false'
                               '</IsTruncated></ListBucketResult>',
                               "application/xml")
        pre = "/latest/meta-data/iam/security-credentials/"
        if path.startswith(pre):
            with lock:
                ok = self.headers.get("X-aws-ec2-metadata-token") in \
                    state["imds_tokens"]
            if not ok:
                return self.refuse(401, "no IMDSv2 token")
            role = path[len(pre):]
            if role == "":
                log("imds-role")
                return self.answer(200, ROLE, "text/plain")
            if role != ROLE:
                return self.refuse(404, "no such role")
            k = new_keys()
            k.update({"Code": "Success", "Type": "AWS-HMAC",
                      "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                   time.gmtime())})
            log("imds-creds")
            return self.answer(200, json.dumps(k), "application/json")
        self.refuse(404, "no such path")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = PORTFILE + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(tmp, PORTFILE)
srv.serve_forever()
