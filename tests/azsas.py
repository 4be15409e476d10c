#!/usr/bin/python3
"""azsas.py - a service SAS token for Azure Blob Storage (or Azurite),
signed as Microsoft documents "Create a service SAS" for version
2020-12-06 and later: HMAC-SHA256, keyed with the decoded account key,
over

    sp st se /blob/ACCOUNT/CONTAINER[/BLOB] si sip spr sv sr
    snapshot ses rscc rscd rsce rscl rsct

joined by newlines.  Prints the token (no leading '?') on one line.

usage: azsas.py ACCOUNT KEY CONTAINER PERMISSIONS [BLOB [EXPIRY]]

A BLOB makes a blob SAS (sr=b), none a container SAS (sr=c); EXPIRY
defaults to 2030-01-01T00:00:00Z.
"""
import base64
import hashlib
import hmac
import sys
import urllib.parse

VERSION = "2021-12-02"


def main(argv):
    if len(argv) < 5 or len(argv) > 7:
        sys.stderr.write(__doc__.split("\n\n")[2] + "\n")
        return 2
    account, key, container, perms = argv[1:5]
    blob = argv[5] if len(argv) > 5 and argv[5] else ""
    expiry = argv[6] if len(argv) > 6 else "2030-01-01T00:00:00Z"
    resource = "b" if blob else "c"
    canon = "/blob/%s/%s%s" % (account, container, "/" + blob if blob else "")
    fields = [perms, "", expiry, canon, "", "", "https,http", VERSION,
              resource, "", "", "", "", "", "", ""]
    sig = base64.b64encode(hmac.new(base64.b64decode(key),
                                    "\n".join(fields).encode(),
                                    hashlib.sha256).digest()).decode()
    q = [("sv", VERSION), ("sr", resource), ("sp", perms), ("se", expiry),
         ("spr", "https,http"), ("sig", sig)]
    print(urllib.parse.urlencode(q, quote_via=urllib.parse.quote, safe=""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
