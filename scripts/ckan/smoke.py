#!/usr/bin/env python3
"""End-to-end smoke check of the local CKAN started by scripts/ckan/local-ckan.sh.

Standard library only.  Reads CKAN_URL and CKAN_API_TOKEN_FILE from the
env file in the state folder `local-ckan.sh home` prints (or --env PATH); the token is read from its file and is never
printed.

Checks, in order (each prints one line; exit status 1 on the first failure):
  0. persistence: if an earlier run left a dataset (smoke_last.json beside the env file),
     it is still there and its uploaded file still downloads byte-identically;
     it is then purged with its organisation
  1. organization_create, and a second create with the same name (must fail)
  2. package_create with owner_org, and a duplicate name (must fail)
  3. resource_create with a multipart file upload (`upload` field)
  4. package_show; download the file from the resource URL; compare bytes
  5. package_patch
  6. resource_patch with a new file; download and compare again
  7. resource_delete
  8. a request with a wrong token (must be 401/403)
  9. probes of behaviour a publisher client must know about (upload over the
     limit, hash/size fields, package name rules) -- reported, not asserted
The dataset of this run is kept (for the next run's persistence check).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_CKAN = REPO_ROOT / "scripts" / "ckan" / "local-ckan.sh"


def default_env() -> Path:
    """The env file in the local CKAN's state folder, as the script chooses it (the clone's
    .local/ckan, or a folder in /var/tmp when PostgreSQL's user cannot reach the clone)."""
    home = subprocess.run([str(LOCAL_CKAN), "home"], capture_output=True, text=True, check=True).stdout.strip()
    return Path(home) / "env"


class Fail(Exception):
    pass


def read_env(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        env[k.strip()] = v.strip().strip("'\"")
    return env


# loopback only: ignore any http_proxy in the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Ckan:
    def __init__(self, url: str, token: str | None):
        self.url = url.rstrip("/")
        self.token = token

    def _request(self, req: urllib.request.Request, token: str | None):
        if token:
            req.add_header("Authorization", token)
        try:
            with _OPENER.open(req, timeout=60) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def action(self, name: str, data: dict | None = None, *, files: dict | None = None,
               token: str | bool | None = True, get: bool = False):
        """Call an action; returns (http_status, parsed_json_or_text)."""
        tok = self.token if token is True else (token or None)
        url = f"{self.url}/api/3/action/{name}"
        if get:
            from urllib.parse import urlencode
            req = urllib.request.Request(url + ("?" + urlencode(data) if data else ""))
        elif files:
            body, ctype = multipart(data or {}, files)
            req = urllib.request.Request(url, data=body, method="POST")
            req.add_header("Content-Type", ctype)
        else:
            req = urllib.request.Request(url, data=json.dumps(data or {}).encode(), method="POST")
            req.add_header("Content-Type", "application/json")
        status, raw, _ = self._request(req, tok)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def ok(self, name: str, data: dict | None = None, **kw):
        status, body = self.action(name, data, **kw)
        if status != 200 or not isinstance(body, dict) or not body.get("success"):
            raise Fail(f"{name} -> HTTP {status}: {str(body)[:600]}")
        return body["result"]

    def download(self, url: str, token: bool = False) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(url)
        return self._request(req, self.token if token else None)


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----kehoach" + uuid.uuid4().hex
    out = bytearray()
    for k, v in fields.items():
        if isinstance(v, (dict, list)):
            v = json.dumps(v)
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n".encode()
        out += str(v).encode() + b"\r\n"
    for k, (filename, content, ctype) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def step(msg: str) -> None:
    print(f"ok   {msg}", flush=True)


def note(msg: str) -> None:
    print(f"note {msg}", flush=True)


def short(body, n: int = 300) -> str:
    s = json.dumps(body) if isinstance(body, (dict, list)) else str(body)
    return s if len(s) <= n else s[:n] + "..."


def check_previous(ck: Ckan, last_file: Path) -> None:
    if not last_file.exists():
        note("no earlier smoke dataset to check for persistence")
        return
    last = json.loads(last_file.read_text())
    pkg = ck.ok("package_show", {"id": last["package"]}, get=True)
    res = [r for r in pkg["resources"] if r["id"] == last["resource"]]
    if not res:
        raise Fail(f"persistence: resource {last['resource']} missing from {last['package']}")
    status, data, _ = ck.download(res[0]["url"])
    if status != 200 or hashlib.sha256(data).hexdigest() != last["sha256"]:
        raise Fail(f"persistence: download of {res[0]['url']} -> {status}, bytes differ")
    step(f"persistence: dataset {last['package']} and its upload survived (sha256 matches)")
    ck.ok("dataset_purge", {"id": last["package"]})
    ck.ok("organization_purge", {"id": last["org"]})
    last_file.unlink()
    step("purged the earlier smoke dataset and organisation")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", help="env file written by local-ckan.sh (default: the one in `local-ckan.sh home`)")
    ap.add_argument("--no-probes", action="store_true", help="skip the behaviour probes (step 9)")
    args = ap.parse_args()

    env_path = Path(args.env) if args.env else default_env()
    env = read_env(env_path)
    url = env["CKAN_URL"]
    token = Path(env["CKAN_API_TOKEN_FILE"]).read_text().strip()
    max_mb = int(env.get("CKAN_LOCAL_MAX_RESOURCE_SIZE_MB", "10"))
    ck = Ckan(url, token)
    last_file = env_path.parent / "smoke_last.json"
    t0 = time.monotonic()

    st = ck.ok("status_show", get=True)
    step(f"status_show: CKAN {st.get('ckan_version')} at {url}")

    check_previous(ck, last_file)

    run = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    org_name = f"kehoach-smoke-{run}"
    pkg_name = f"kehoach-smoke-ds-{run}"

    # 1. organisation
    org = ck.ok("organization_create", {"name": org_name, "title": "Smoke org " + run})
    step(f"organization_create {org['name']} (id {org['id']})")
    status, body = ck.action("organization_create", {"name": org_name})
    if status == 200:
        raise Fail("second organization_create with the same name succeeded")
    step(f"organization_create duplicate -> HTTP {status} {short(body, 400)}")

    # 2. dataset
    pkg = ck.ok("package_create", {
        "name": pkg_name, "title": "Smoke dataset " + run, "owner_org": org["id"],
        "notes": "created by scripts/ckan/smoke.py", "license_id": "cc-by",
        "tags": [{"name": "smoke"}], "extras": [{"key": "kehoach_run", "value": run}],
    })
    step(f"package_create {pkg['name']} owner_org={pkg['owner_org']} private={pkg['private']}")
    status, body = ck.action("package_create", {"name": pkg_name, "owner_org": org["id"]})
    if status == 200:
        raise Fail("second package_create with the same name succeeded")
    step(f"package_create duplicate -> HTTP {status} {short(body, 400)}")

    # 3. resource with a file upload
    content1 = ("id,value\n" + "".join(f"{i},{i * i}\n" for i in range(1000))).encode()
    res = ck.ok("resource_create", {
        "package_id": pkg["id"], "name": "data.csv", "format": "CSV",
        "description": "uploaded by smoke.py",
    }, files={"upload": ("data.csv", content1, "text/csv")})
    step(f"resource_create upload -> url_type={res.get('url_type')!r} url={res['url']} "
         f"size={res.get('size')!r} hash={res.get('hash')!r} mimetype={res.get('mimetype')!r}")

    # 4. package_show + download
    shown = ck.ok("package_show", {"id": pkg_name}, get=True)
    rs = [r for r in shown["resources"] if r["id"] == res["id"]]
    if not rs:
        raise Fail("uploaded resource missing from package_show")
    status, data, headers = ck.download(rs[0]["url"])
    if status != 200 or data != content1:
        raise Fail(f"download {rs[0]['url']} -> HTTP {status}, {len(data)} bytes, "
                   f"identical={data == content1}")
    step(f"package_show + download {len(data)} bytes byte-identical "
         f"(Content-Type {headers.get('Content-Type')!r})")

    # 5. package_patch
    patched = ck.ok("package_patch", {"id": pkg["id"], "notes": "patched by smoke.py",
                                      "version": "2"})
    if patched["notes"] != "patched by smoke.py" or len(patched["resources"]) != 1:
        raise Fail("package_patch did not keep the resource or did not change notes")
    step("package_patch (notes, version) kept the resource")

    # 6. resource_patch with a new file
    content2 = bytes(range(256)) * 64 + b"\x00end"
    res2 = ck.ok("resource_patch", {"id": res["id"], "name": "data-v2.bin"},
                 files={"upload": ("data-v2.bin", content2, "application/octet-stream")})
    status, data, _ = ck.download(res2["url"])
    if status != 200 or data != content2:
        raise Fail(f"download after resource_patch {res2['url']} -> HTTP {status}, "
                   f"{len(data)} bytes, identical={data == content2}")
    step(f"resource_patch new file -> url={res2['url']} size={res2.get('size')!r}; "
         f"download byte-identical")
    if res2["url"] != res["url"]:
        old_status, old_data, _ = ck.download(res["url"])
        note(f"old resource URL after re-upload -> HTTP {old_status} "
             f"({'old bytes' if old_data == content1 else 'new bytes' if old_data == content2 else len(old_data)})")

    # 7. resource_delete (on a second resource, so that the dataset keeps one
    #    uploaded file for the next run's persistence check)
    extra = ck.ok("resource_create", {"package_id": pkg["id"], "name": "to-delete",
                                      "url": "https://example.org/x.csv", "format": "CSV"})
    ck.ok("resource_delete", {"id": extra["id"]})
    status, body = ck.action("resource_show", {"id": extra["id"]}, get=True)
    after = ck.ok("package_show", {"id": pkg["id"]}, get=True)
    if any(r["id"] == extra["id"] for r in after["resources"]):
        raise Fail("deleted resource still listed by package_show")
    step(f"resource_delete; package_show no longer lists it; resource_show -> HTTP {status}")

    # 8. wrong token
    status, body = ck.action("package_patch", {"id": pkg["id"], "notes": "x"},
                             token="not-a-valid-token")
    if status not in (401, 403):
        raise Fail(f"wrong token -> HTTP {status}, expected 401/403: {short(body)}")
    step(f"wrong token on package_patch -> HTTP {status} {short(body)}")
    status, body = ck.action("package_patch", {"id": pkg["id"], "notes": "x"}, token=False)
    step(f"no token on package_patch -> HTTP {status} {short(body)}")

    last_file.write_text(json.dumps({"org": org["id"], "package": pkg["id"],
                                     "resource": res["id"],
                                     "sha256": hashlib.sha256(content2).hexdigest()}))

    # 9. probes: reported, not asserted
    if not args.no_probes:
        probes(ck, org["id"], pkg["id"], run, max_mb)

    print(f"SMOKE OK in {time.monotonic() - t0:.1f}s ({url})")
    return 0


def probes(ck: Ckan, org_id: str, pkg_id: str, run: str, max_mb: int) -> None:
    # upload over the limit
    big = b"x" * (max_mb * 1024 * 1024 + 1)
    status, body = ck.action("resource_create", {"package_id": pkg_id, "name": "too-big"},
                             files={"upload": ("big.bin", big, "application/octet-stream")})
    note(f"upload of {max_mb} MiB + 1 byte -> HTTP {status} {short(body, 500)}")
    at = b"y" * (max_mb * 1024 * 1024)
    status, body = ck.action("resource_create", {"package_id": pkg_id, "name": "at-limit"},
                             files={"upload": ("limit.bin", at, "application/octet-stream")})
    ok = isinstance(body, dict) and body.get("success")
    note(f"upload of exactly {max_mb} MiB -> HTTP {status} "
         f"{short(body.get('result', {}).get('size') if ok else body, 300)}")
    if status == 200:
        # CKAN keeps an uploaded file on disk after resource_delete/dataset_purge;
        # overwrite the 10 MiB file with a tiny one first to keep storage/ small
        ck.ok("resource_patch", {"id": body["result"]["id"]},
              files={"upload": ("limit.bin", b"0", "application/octet-stream")})
        ck.ok("resource_delete", {"id": body["result"]["id"]})

    # hash / size as set by the client
    content = b"a,b\n1,2\n"
    h = "sha256:" + hashlib.sha256(content).hexdigest()
    status, body = ck.action("resource_create", {
        "package_id": pkg_id, "name": "hash-size", "hash": h, "size": 999,
    }, files={"upload": ("hs.csv", content, "text/csv")})
    if status == 200:
        r = body["result"]
        note(f"upload with hash={h[:20]}... size=999 -> stored hash={r.get('hash')!r} "
             f"size={r.get('size')!r} (actual {len(content)} bytes)")
        shown = ck.ok("resource_show", {"id": r["id"]}, get=True)
        note(f"  resource_show: hash={shown.get('hash')!r} size={shown.get('size')!r}")
        r2 = ck.ok("resource_patch", {"id": r["id"], "hash": "md5:0123", "size": 5})
        note(f"  resource_patch hash/size without upload -> hash={r2.get('hash')!r} "
             f"size={r2.get('size')!r}")
        ck.ok("resource_delete", {"id": r["id"]})
    else:
        note(f"upload with hash/size -> HTTP {status} {short(body)}")
    status, body = ck.action("resource_create", {
        "package_id": pkg_id, "name": "link-hash", "url": "https://example.org/a.csv",
        "hash": h, "size": 123})
    if status == 200:
        r = body["result"]
        note(f"link resource with hash/size -> stored hash={r.get('hash')!r} size={r.get('size')!r}")
        ck.ok("resource_delete", {"id": r["id"]})

    # package name rules
    for name in (f"Kehoach-Upper-{run}", f"kehoach.dots.{run}", f"kehoach_under-{run}",
                 "ab", "x" * 101):
        status, body = ck.action("package_create", {"name": name, "owner_org": org_id})
        if status == 200:
            note(f"package name {name[:40]!r} -> accepted as {body['result']['name']!r}")
            ck.ok("dataset_purge", {"id": body["result"]["id"]})
        else:
            err = body.get("error") if isinstance(body, dict) else body
            note(f"package name {name[:40]!r} -> HTTP {status} {short(err, 200)}")

    # missing owner_org, unknown org, and a not-found id
    status, body = ck.action("package_create", {"name": f"kehoach-noorg-{run}"})
    err = body.get("error") if isinstance(body, dict) else body
    note(f"package_create without owner_org -> HTTP {status} {short(err, 200)}")
    status, body = ck.action("package_show", {"id": "does-not-exist-" + run}, get=True)
    err = body.get("error") if isinstance(body, dict) else body
    note(f"package_show unknown id -> HTTP {status} {short(err, 200)}")
    status, body = ck.action("package_search", {"q": "*:*"}, get=True)
    note(f"package_search (Solr stand-in) -> HTTP {status} count="
         f"{body.get('result', {}).get('count') if isinstance(body, dict) else '?'}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"FAIL {e}", flush=True)
        sys.exit(1)
