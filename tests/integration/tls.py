#!/usr/bin/env python3
"""The TLS test's client side (test_tls.sh starts the server; this runs in its namespace).

Against a node serving HTTPS/WSS with the certificate of test CA serial 1 in --cert/--key:
- https /healthz answers, verified against the test CA, with serial 1;
- a wss:// WebSocket authenticates (a demo token fetched over https) and its ping is answered;
- plain http on the same port gets no HTTP answer, and https still works afterwards;
- the files replaced with certificate 2 and SIGHUP: a new connection is served serial 2, and the
  WebSocket opened before (still on serial 1) answers a ping;
- the key replaced with one of another certificate and SIGHUP: the error is logged, new
  connections still get serial 2, the old WebSocket still answers.
Standard library only; the WebSocket client is durability.py's.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Closed, WebSocket  # noqa: E402

HOST = "127.0.0.1"
TIMEOUT_S = 10.0


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def https(ctx, port, method, path, body=None):
    """(status, JSON, the peer certificate's serial as upper-case hex)."""
    conn = http.client.HTTPSConnection(HOST, port, timeout=TIMEOUT_S, context=ctx)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        serial = conn.sock.getpeercert()["serialNumber"].upper()
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None, serial
    finally:
        conn.close()


def serial_now(ctx, port):
    status, body, serial = https(ctx, port, "GET", "/healthz")
    if status != 200:
        fail(f"/healthz over https: HTTP {status} {body}")
    return serial


def wss(ctx, port, token):
    ws = WebSocket(HOST, port, ssl_context=ctx)
    r = ws.call("auth", {"token": token})
    if "result" not in r:
        fail(f"auth over wss refused: {r}")
    return ws


def ping(ws, what):
    try:
        r = ws.call("ping", {})
    except Closed as e:
        fail(f"{what}: ping over wss failed: {e}")
    if "result" not in r:
        fail(f"{what}: ping answered {r}")


def peer_serial(ws):
    return ws.sock.getpeercert()["serialNumber"].upper()


def wait_log(log, needle, start):
    """Waits (bounded) for needle in the server log after byte offset start."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        with open(log, "rb") as f:
            f.seek(start)
            if needle.encode() in f.read():
                return
        time.sleep(0.05)  # polling a file with a deadline
    fail(f"no '{needle}' in {log} within {TIMEOUT_S} s")


def reload(a, cert, key, event):
    """Copies cert and key over the served files, sends SIGHUP, waits for the log's event."""
    start = os.path.getsize(a.log)
    shutil.copyfile(cert, a.cert)
    shutil.copyfile(key, a.key)
    os.kill(a.pid, signal.SIGHUP)
    wait_log(a.log, event, start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True, help="the file the server reads its certificate from")
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True, help="holds s1/s2.pem and .key, serials 1001/1002")
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2

    if serial_now(ctx, a.port) != "1001":
        fail("the first certificate is not the one served")
    status, body, _ = https(ctx, a.port, "POST", "/api/demo/token", {"user": "alice"})
    if status != 200:
        fail(f"demo token over https: HTTP {status} {body}")
    token = body["token"]
    old = wss(ctx, a.port, token)
    ping(old, "wss")
    print("https and wss with certificate 1: /healthz, auth, ping")

    # Plain HTTP on the TLS port: no HTTP answer (lws drops a connection that is not TLS).
    conn = http.client.HTTPConnection(HOST, a.port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        fail(f"plain http on the https port answered HTTP {resp.status}")
    except (OSError, http.client.HTTPException) as e:
        print(f"plain http on the https port refused: {e!r}")
    finally:
        conn.close()
    serial_now(ctx, a.port)

    d = a.dir
    reload(a, f"{d}/s2.pem", f"{d}/s2.key", "tls.reloaded")
    if serial_now(ctx, a.port) != "1002":
        fail("after SIGHUP a new connection does not get certificate 2")
    ping(old, "the connection opened before the reload")
    if peer_serial(old) != "1001":
        fail("the old connection's certificate changed")
    fresh = wss(ctx, a.port, token)
    ping(fresh, "a wss connection after the reload")
    if peer_serial(fresh) != "1002":
        fail("a new wss connection does not get certificate 2")
    print("SIGHUP with certificate 2: new connections get serial 1002, the old one answers")

    # A key that is not certificate 2's: refused, certificate 2 stays.
    reload(a, f"{d}/s2.pem", f"{d}/s1.key", "tls.reload_failed")
    if serial_now(ctx, a.port) != "1002":
        fail("after a refused reload the served certificate changed")
    ping(old, "the first connection after the refused reload")
    ping(fresh, "the second connection after the refused reload")
    old.close()
    fresh.close()
    print("SIGHUP with a mismatched key: refused and logged, certificate 2 still served")


if __name__ == "__main__":
    main()
