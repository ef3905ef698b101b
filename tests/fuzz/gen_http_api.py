#!/usr/bin/env python3
"""Writes the seeds of fuzz_http_api (tests/fuzz/corpus/http_api): administrator API and demo
requests as docs/openapi.yaml describes them, on the demo seed. Each seed holds requests
separated by NUL bytes, each "METHOD PATH\\nAUTH\\nBODY" (AUTH "as:NAME": see fuzz_http_api.c).
Usage: tests/fuzz/gen_http_api.py [OUT_DIR]"""
import json
import os
import sys


def r(method, path, auth="", body=None):
    b = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return f"{method} {path}\n{auth}\n".encode() + b


SEEDS = {
    "alice_reads": [r("GET", "/api/admin/tenants", "as:alice"),
                    r("GET", "/api/admin/tenants/acme", "as:alice"),
                    r("GET", "/api/admin/tenants/acme/users", "as:alice"),
                    r("GET", "/api/admin/tenants/acme/users/bob", "as:alice"),
                    r("GET", "/api/admin/tenants/acme/usage", "as:alice"),
                    r("GET", "/api/admin/connections", "as:alice"),
                    r("GET", "/api/admin/audit?user=bob&limit=5&since=0", "as:alice")],
    "alice_writes": [r("POST", "/api/admin/tenants/acme/users", "as:alice",
                       {"id": "eve", "name": "Eve", "admin": False, "external_allowed": True}),
                     r("PATCH", "/api/admin/tenants/acme/users/bob", "as:alice",
                       {"name": "Bobby", "external_allowed": False}),
                     r("PATCH", "/api/admin/tenants/acme", "as:alice",
                       {"name": "Acme Inc", "external_mode": "chosen"}),
                     r("POST", "/api/admin/connections/globex/revoke", "as:alice"),
                     r("POST", "/api/admin/connections/initech/allow", "as:alice")],
    "operator": [r("POST", "/api/admin/tenants", "as:op", {"id": "umbrella", "name": "Umbrella"}),
                 r("GET", "/api/admin/tenants", "as:op"),
                 r("POST", "/api/admin/tenants/umbrella/users", "as:op",
                   {"id": "root", "name": "Root", "admin": True}),
                 r("POST", "/api/admin/connections/acme/allow", "as:op")],
    "refused": [r("GET", "/api/admin/tenants/acme/users"),
                r("GET", "/api/admin/tenants/acme/users", "as:bob"),
                r("PATCH", "/api/admin/tenants/globex", "as:alice", {"name": "mine"}),
                r("POST", "/api/admin/tenants", "as:carol", {"id": "x", "name": "x"}),
                r("GET", "/api/admin/tenants/acme", "as:mallory"),
                r("GET", "/api/admin/tenants/acme", "Bearer not.a.token"),
                r("POST", "/api/admin/tenants/globex/users", "as:carol", {"id": "dave", "name": "D"})],
    "malformed": [r("PATCH", "/api/admin/tenants/acme", "as:alice", b'{"name":"a","name":"b"}'),
                  r("PATCH", "/api/admin/tenants/acme", "as:alice", b'{"name":'),
                  r("GET", "/api/admin/tenants/ac%2Fme/users/%00", "as:alice"),
                  r("GET", "/api/admin/tenants/acme?x=1", "as:alice"),
                  r("GET", "/api/admin/audit?limit=-3&since=x&user=%zz", "as:alice"),
                  r("POST", "/api/admin/tenants/acme/users", "as:alice",
                    {"id": "a b", "name": 7, "admin": "yes"}),
                  r("DELETE", "/api/admin/tenants/acme", "as:alice"),
                  r("GET", "/api/admin//tenants", "as:alice")],
    "demo": [r("GET", "/api/demo/users"),
             r("POST", "/api/demo/token", "", {"user": "carol"}),
             r("POST", "/api/demo/token", "", {"user": "mallory"}),
             r("POST", "/api/demo/token", "", b"[]"),
             r("GET", "/api/demo/other")],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus",
                                                              "http_api")
    os.makedirs(out, exist_ok=True)
    for name, reqs in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"\0".join(reqs))


if __name__ == "__main__":
    main()
