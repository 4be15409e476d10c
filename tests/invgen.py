#!/usr/bin/env python3
"""invgen.py - write an S3 Inventory or Azure Blob Inventory report.

Reads the objects to list on standard input, one "key TAB mtime TAB size"
line each (arc(7) storage records of `arc-list -a` of the bucket's root:
the key is the whole object key; paths here never need quoting), and
writes a report in the documented layout under --out:

  s3:    DEST/SRC/CONFIG/YYYY-MM-DDTHH-MMZ/manifest.json, manifest.checksum
         DEST/SRC/CONFIG/data/<uuid>.csv.gz          (AWS S3 Inventory)
  azure: YYYY/MM/DD/HH-MM-SS/RULE/RULE-manifest.json, RULE-manifest.checksum
         YYYY/MM/DD/HH-MM-SS/RULE/RULE_<n>.csv       (Azure Blob Inventory)

S3 data files are gzip-compressed CSV, every field quoted, keys
URL-encoded as S3 writes them (form encoding: a space is '+', '+' is
%2B), columns in the fileSchema's order, each file's size and MD5 in the
manifest.  Azure data files are CSV with a header row, Name is
"container/blob" unencoded, quoted where a field needs it.  Rows are
shuffled and dealt over --files data files.  With --flat every file goes
straight into --out (a report copied into one directory).  Prints the
manifest's path relative to --out.
"""
import argparse
import csv
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import sys
import urllib.parse

S3_SCHEMA = ["Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker",
             "Size", "LastModifiedDate", "ETag", "StorageClass"]
AZ_SCHEMA = ["Name", "Creation-Time", "Last-Modified", "Content-Length",
             "BlobType", "AccessTier", "Snapshot", "IsCurrentVersion",
             "Deleted"]


def s3_key(key):
    # Java's URLEncoder, as S3 Inventory: only [A-Za-z0-9.*_-] kept
    return urllib.parse.quote_plus(key, safe="*").replace("~", "%7E")


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def read_objects():
    objs = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        key, mtime, size = line.split("\t")
        t = datetime.datetime.strptime(mtime, "%Y-%m-%dT%H:%M:%SZ")
        objs.append((key, t, int(size)))
    return objs


def write(out, rel, data, flat):
    path = os.path.join(out, os.path.basename(rel) if flat else rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def deal(rows, n, rng):
    rng.shuffle(rows)
    return [rows[i::n] for i in range(n)]


def s3_rows(a, objs):
    rows = []
    for key, t, size in objs:
        rows.append({"Bucket": a.bucket, "Key": s3_key(key),
                     "VersionId": "", "IsLatest": "true",
                     "IsDeleteMarker": "false", "Size": str(size),
                     "LastModifiedDate": iso_ms(t),
                     "ETag": hashlib.md5(key.encode()).hexdigest(),
                     "StorageClass": "STANDARD"})
    for key in a.ghost:
        # a noncurrent version and the delete marker above it: no object
        t = iso_ms(datetime.datetime(2026, 1, 1))
        rows.append({"Bucket": a.bucket, "Key": s3_key(key),
                     "VersionId": "v1", "IsLatest": "false",
                     "IsDeleteMarker": "false", "Size": "10",
                     "LastModifiedDate": t, "ETag": "0" * 32,
                     "StorageClass": "STANDARD"})
        rows.append({"Bucket": a.bucket, "Key": s3_key(key),
                     "VersionId": "v2", "IsLatest": "true",
                     "IsDeleteMarker": "true", "Size": "", "ETag": "",
                     "LastModifiedDate": t, "StorageClass": ""})
    return rows


def s3_report(a, objs, created, rng):
    schema = [c for c in S3_SCHEMA if c not in a.drop]
    base = "/".join(p for p in (a.dest_prefix, a.bucket, a.config) if p)
    files = []
    for i, part in enumerate(deal(s3_rows(a, objs), a.files, rng)):
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for r in part:
            w.writerow([r[c] for c in schema])
        data = gzip.compress(buf.getvalue().encode("utf-8"), mtime=0)
        key = "%s/data/%08x-0000-4000-8000-%012d.csv.gz" % (base, i, i)
        write(a.out, key, data, a.flat)
        md5 = hashlib.md5(data).hexdigest()
        if i == 0 and a.wrong_md5:
            md5 = hashlib.md5(b"not the file").hexdigest()
        files.append({"key": key, "size": len(data), "MD5checksum": md5})
    manifest = {
        "sourceBucket": a.source_bucket or a.bucket,
        "destinationBucket": "arn:aws:s3:::" + a.dest_bucket,
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp()) * 1000),
        "fileFormat": "CSV",
        "fileSchema": ", ".join(schema),
        "files": files,
    }
    mdir = "%s/%s" % (base, created.strftime("%Y-%m-%dT%H-%MZ"))
    return mdir + "/manifest.json", mdir + "/manifest.checksum", manifest


def az_report(a, objs, created, rng):
    schema = [c for c in AZ_SCHEMA if c not in a.drop]
    rule = a.rule
    mdir = "%s/%s" % (created.strftime("%Y/%m/%d/%H-%M-%S"), rule)
    rows = []
    for key, t, size in objs:
        iso = t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        rows.append({"Name": "%s/%s" % (a.bucket, key), "Creation-Time": iso,
                     "Last-Modified": iso, "Content-Length": str(size),
                     "BlobType": "BlockBlob", "AccessTier": "Hot",
                     "Snapshot": "", "IsCurrentVersion": "true",
                     "Deleted": "false"})
    for key in a.ghost:
        # a snapshot, an older version and a soft-deleted blob: no blob
        iso = "2026-01-01T00:00:00.0000000Z"
        base = {"Name": "%s/%s" % (a.bucket, key), "Creation-Time": iso,
                "Last-Modified": iso, "Content-Length": "10",
                "BlobType": "BlockBlob", "AccessTier": "Hot", "Snapshot": "",
                "IsCurrentVersion": "true", "Deleted": "false"}
        rows.append(dict(base, Snapshot=iso))
        rows.append(dict(base, IsCurrentVersion="false"))
        rows.append(dict(base, Deleted="true"))
    files = []
    for i, part in enumerate(deal(rows, a.files, rng)):
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        w.writerow(schema)
        for r in part:
            w.writerow([r[c] for c in schema])
        data = buf.getvalue().encode("utf-8")
        blob = "%s/%s_%d.csv" % (mdir, rule, i + 1)
        write(a.out, blob, data, a.flat)
        files.append({"blob": blob, "size": len(data)})
    filters = {"blobTypes": ["blockBlob"], "includeBlobVersions": True,
               "includeSnapshots": True, "includeDeleted": True}
    if a.prefix_match:
        filters["prefixMatch"] = a.prefix_match
    manifest = {
        "destinationContainer": a.dest_bucket,
        "endpoint": "https://devstoreaccount1.blob.core.windows.net",
        "files": files,
        "inventoryCompletionTime": (created + datetime.timedelta(
            minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inventoryStartTime": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ruleDefinition": {"filters": filters, "format": "csv",
                           "objectType": "blob", "schedule": "daily",
                           "schemaFields": schema},
        "ruleName": rule,
        "status": a.status,
        "summary": {"objectCount": len(rows),
                    "totalObjectSize": sum(o[2] for o in objs)},
        "version": "1.0",
    }
    return (mdir + "/%s-manifest.json" % rule,
            mdir + "/%s-manifest.checksum" % rule, manifest)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["s3", "azure"])
    p.add_argument("--bucket", required=True,
                   help="the source bucket or container")
    p.add_argument("--out", required=True)
    p.add_argument("--age", type=int, default=3600,
                   help="seconds since the report began")
    p.add_argument("--files", type=int, default=3)
    p.add_argument("--flat", action="store_true")
    p.add_argument("--dest-bucket", default="inv")
    p.add_argument("--dest-prefix", default="reports")
    p.add_argument("--config", default="daily")
    p.add_argument("--rule", default="Rule_1")
    p.add_argument("--status", default="Succeeded")
    p.add_argument("--source-bucket", default="",
                   help="the manifest's sourceBucket, if not --bucket")
    p.add_argument("--drop", action="append", default=[],
                   help="a column left out of the schema")
    p.add_argument("--ghost", action="append", default=[],
                   help="a key with only old versions or snapshots")
    p.add_argument("--prefix-match", action="append", default=[])
    p.add_argument("--wrong-md5", action="store_true",
                   help="the first data file's MD5 in the manifest is wrong")
    p.add_argument("--no-checksum", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0, tzinfo=None)
    created = now - datetime.timedelta(seconds=a.age)
    created = created.replace(tzinfo=datetime.timezone.utc)
    objs = read_objects()
    make = s3_report if a.kind == "s3" else az_report
    mpath, cpath, manifest = make(a, objs, created, rng)
    text = json.dumps(manifest, indent=2).encode()
    write(a.out, mpath, text, a.flat)
    if not a.no_checksum:
        write(a.out, cpath, hashlib.md5(text).hexdigest().encode(), a.flat)
    print(os.path.basename(mpath) if a.flat else mpath)


if __name__ == "__main__":
    main()
