#!/usr/bin/env python3
"""Minimal Solr stand-in for a local CKAN 2.12 (integration tests and demos only).

CKAN refuses to start, and fails dataset/organisation writes, when its Solr
search index is unreachable.  Solr (Java) cannot be installed on our machines,
so this small threaded HTTP server (Python standard library only) answers the
requests CKAN 2.12 makes of Solr (via pysolr 3.x and `requests`):

* Schema/version check at start-up (ckan/lib/search/__init__.py,
  check_solr_schema_version): first
      GET <core>/schema?wt=schema.xml            (managed schema)
  and, if that fails, GET <core>/admin/file/?file=schema.xml (classic).
  Both serve CKAN's own schema file, ckan/config/solr/schema.xml, whose root
  element carries name="ckan-2.12"; CKAN accepts versions 2.8 .. 2.12.
  Before that, CKAN checks availability with a `*:*` select (common.py,
  is_available).
* Index writes (ckan/lib/search/index.py): POST <core>/update/?commit=true
  with a JSON list of documents (conn.add), XML `<delete><query>..</query>
  </delete>` (conn.delete) and XML `<commit />` (conn.commit).  They are
  accepted, read completely, DISCARDED, and answered with a Solr-style JSON
  success body (`{"responseHeader": {"status": 0, "QTime": 0}}`, HTTP 200).
* Queries (ckan/lib/search/query.py): GET <core>/select/?q=..&wt=json (or a
  form-encoded POST for long queries).  Answered with a well-formed, EMPTY
  Solr JSON result: response.numFound = 0, response.docs = [], and
  facet_counts.facet_fields with an empty list for every requested
  facet.field.
* GET <core>/admin/ping answers {"status": "OK"}.

SEARCH RESULTS ARE ALWAYS EMPTY: nothing is ever stored.  Consequences in
CKAN: package_search / resource_search / current_package_list_with_resources
return no results, organization_show's datasets and package_count are empty/0,
the web UI's dataset lists are empty.  Reads by id or name (package_show,
resource_show, organization_show, ...) are unaffected: package_show falls back
to the database when the index has no copy (its normal path on a cache miss).
Do not use this stand-in to test anything that depends on search.

Usage:  solr_standin.py [--host 127.0.0.1] [--port 8983] [--schema PATH]
                        [--pidfile PATH]
The core path is not checked: any prefix (e.g. /solr/ckan) is accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Sentinel schema used only if CKAN's schema.xml cannot be found: enough for
# CKAN's version check (it reads the root element's name attribute).
FALLBACK_SCHEMA = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<schema name="ckan-2.12" version="1.6"></schema>\n'
)


def _find_ckan_schema() -> str | None:
    """Locate ckan/config/solr/schema.xml in the importing Python's packages."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("ckan")
    except Exception:  # pragma: no cover - ckan not importable
        spec = None
    if spec and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            path = os.path.join(base, "config", "solr", "schema.xml")
            if os.path.isfile(path):
                return path
    return None


class SolrStandIn(BaseHTTPRequestHandler):
    server_version = "SolrStandIn/1.0"
    protocol_version = "HTTP/1.1"
    schema_bytes: bytes = FALLBACK_SCHEMA.encode()
    quiet = False

    # -- plumbing -----------------------------------------------------------
    def log_request(self, code="-", size="-") -> None:
        # --quiet: log only failed requests (4xx/5xx)
        if self.quiet and str(code).isdigit() and int(code) < 400:
            return
        super().log_request(code, size)

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} solr-standin {fmt % args}\n")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # consume trailers until blank line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json;charset=utf-8")

    @staticmethod
    def _header(params: dict | None = None) -> dict:
        hdr: dict = {"status": 0, "QTime": 0}
        if params is not None:
            hdr["params"] = params
        return hdr

    # -- routing ------------------------------------------------------------
    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self._read_body() if self.command == "POST" else b""
        ctype = self.headers.get("Content-Type", "")
        if self.command == "POST" and ctype.startswith(
            "application/x-www-form-urlencoded"
        ):
            for k, v in parse_qs(body.decode("utf-8", "replace"),
                                 keep_blank_values=True).items():
                query.setdefault(k, []).extend(v)
        path = parts.path.rstrip("/")
        last = path.rsplit("/", 1)[-1]

        if last == "schema" and path.endswith("/schema") and \
                query.get("wt", [""])[0] == "schema.xml":
            return self._send(200, self.schema_bytes, "application/xml;charset=utf-8")
        if path.endswith("/admin/file") and query.get("file", [""])[0] == "schema.xml":
            return self._send(200, self.schema_bytes, "application/xml;charset=utf-8")
        if last == "schema":
            return self._json({"responseHeader": self._header(),
                               "schema": {"name": "ckan-2.12", "version": 1.6}})
        if last == "ping" and path.endswith("/admin/ping"):
            return self._json({"responseHeader": self._header(), "status": "OK"})
        if last in ("select", "query", "mlt", "terms"):
            return self._select(query)
        if last in ("update", "json", "xml") and "/update" in path:
            return self._json({"responseHeader": self._header()})
        if last == "cores" or path.endswith("/admin/info/system"):
            return self._json({"responseHeader": self._header(),
                               "lucene": {"solr-spec-version": "standin"}})
        return self._json(
            {"responseHeader": {"status": 404, "QTime": 0},
             "error": {"msg": f"solr stand-in: unknown path {parts.path}",
                       "code": 404}},
            status=404,
        )

    def _select(self, query: dict) -> None:
        params = {k: (v[0] if len(v) == 1 else v) for k, v in query.items()}
        start = 0
        with contextlib.suppress(ValueError):
            start = int(query.get("start", ["0"])[0] or 0)
        result: dict = {
            "responseHeader": self._header(params),
            "response": {"numFound": 0, "start": start,
                         "numFoundExact": True, "docs": []},
        }
        if query.get("facet", ["false"])[0].lower() == "true" or "facet.field" in query:
            result["facet_counts"] = {
                "facet_queries": {},
                "facet_fields": {f: [] for f in query.get("facet.field", [])},
                "facet_ranges": {},
                "facet_intervals": {},
                "facet_heatmaps": {},
            }
        if query.get("stats", ["false"])[0].lower() == "true":
            result["stats"] = {"stats_fields": {}}
        if query.get("wt", ["json"])[0] not in ("json", ""):
            # CKAN always asks for JSON; say so clearly if anything else is asked.
            return self._json({"responseHeader": {"status": 400, "QTime": 0},
                               "error": {"msg": "stand-in only speaks wt=json",
                                         "code": 400}}, status=400)
        return self._json(result)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8983)
    ap.add_argument("--schema", help="path to CKAN's solr/schema.xml")
    ap.add_argument("--pidfile")
    ap.add_argument("--quiet", action="store_true",
                    help="access log of failed requests only")
    args = ap.parse_args(argv)

    schema_path = args.schema or _find_ckan_schema()
    if schema_path:
        with open(schema_path, "rb") as f:
            SolrStandIn.schema_bytes = f.read()
    else:
        sys.stderr.write("solr-standin: CKAN schema.xml not found, serving a "
                         "minimal ckan-2.12 schema\n")
    SolrStandIn.quiet = args.quiet

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer((args.host, args.port), SolrStandIn)

    def _stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    sys.stderr.write(f"solr-standin listening on http://{args.host}:{args.port} "
                     f"(schema: {schema_path or 'built-in'})\n")
    sys.stderr.flush()
    try:
        httpd.serve_forever(poll_interval=0.5)
    finally:
        httpd.server_close()
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    if f.read().strip() == str(os.getpid()):
                        os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
