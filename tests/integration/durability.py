#!/usr/bin/env python3
"""Durability driver for test_durability.sh (python3 standard library only).

`run` applies a sequence of changes to a running `switchboard serve --demo` through the admin
HTTP API and the client API over the WebSocket, and signals the server in the middle of it:
right after request number --kill-after has been sent, before its answer is read. It keeps
going until the server stops answering and appends every request, and whether and how it was
answered, to a JSON journal.

`verify` checks the restarted server against the journal: every change that was answered with
success is there, none is half-applied (the state of each user's chain of changes is exactly
the state after some prefix of it, and the audit log agrees), and a request that was in flight
when the server stopped is either wholly applied or not at all. The outcome of that request is
written back to the journal so that a later verify holds the server to it.

Each chain belongs to one new user U of acme (alice is acme's administrator and the master):
  1 admin   POST  /api/admin/tenants/acme/users  {id: U}
  2 client  rooms.create "R-U" with U and dave (globex)
  3 client  rooms.add_member bob
  4 admin   PATCH /api/admin/tenants/acme/users/U  {name}
  5 client  rooms.update description
  6 client  rooms.grant_master U
  7 client  rooms.remove_member dave
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import struct
import sys
import time

STEPS = 7
TIMEOUT_S = 10.0


class Closed(Exception):
    """The server closed the connection or did not answer."""


# ---- HTTP ----

def http_call(host, port, method, path, token=None, body=None, on_sent=None):
    """One request on a fresh connection; returns (status, parsed JSON). on_sent runs after the
    request is on the wire and before the answer is read."""
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    headers = {}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        if on_sent:
            on_sent()
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise Closed(f"{method} {path}: {e!r}") from e
    finally:
        conn.close()


# ---- a minimal WebSocket client (RFC 6455: client frames masked, text only) ----

class WebSocket:
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, host, port, path="/ws", ssl_context=None, protocol="switchboard.v1"):
        """ssl_context (an ssl.SSLContext): wss:// instead of ws://; protocol None: the
        handshake names no subprotocol."""
        self.next_id = 1
        self.buf = b""
        try:
            self.sock = socket.create_connection((host, port), timeout=TIMEOUT_S)
            if ssl_context:
                self.sock = ssl_context.wrap_socket(self.sock, server_hostname=host)
            key = base64.b64encode(os.urandom(16)).decode()
            self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                               + (f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else "")
                               + "\r\n").encode())
            while b"\r\n\r\n" not in self.buf:
                self._fill()
        except OSError as e:
            raise Closed(f"WebSocket connect: {e!r}") from e
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        fields = {k.strip().lower(): v.strip() for k, v in
                  (line.split(":", 1) for line in lines[1:] if ":" in line)}
        if " 101 " not in lines[0] + " " or fields.get("sec-websocket-accept") != accept:
            raise Closed(f"WebSocket handshake refused: {lines[0]}")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed("connection closed")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _recv_message(self):
        parts = []
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            mask = self._take(4) if b1 & 0x80 else None
            payload = self._take(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise Closed("close frame")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if b0 & 0x80:
                return json.loads(b"".join(parts))

    def send(self, method, params):
        """Sends a request; returns its id."""
        rid = self.next_id
        self.next_id += 1
        try:
            self._send_frame(0x1, json.dumps({"id": rid, "method": method,
                                              "params": params}).encode())
        except OSError as e:
            raise Closed(f"{method}: {e!r}") from e
        return rid

    def reply(self, rid):
        """Reads frames until the reply to rid (events are skipped); returns it."""
        try:
            while True:
                msg = self._recv_message()
                if msg.get("id") == rid:
                    return msg
        except (OSError, ValueError) as e:
            raise Closed(f"reply {rid}: {e!r}") from e

    def call(self, method, params, on_sent=None):
        rid = self.send(method, params)
        if on_sent:
            on_sent()
        return self.reply(rid)

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# ---- shared by the integration scripts ----

class Checks:
    """A script's checks: check(what, ok, detail) prints "ok WHAT" or "not ok WHAT: DETAIL";
    summary() prints "N passed, N failed" and returns the exit status (1 on any failure)."""

    def __init__(self):
        self.results = []

    def __call__(self, what, ok, detail=""):
        self.results.append(bool(ok))
        print(("ok " if ok else "not ok ") + what + ("" if ok else f": {detail}"))

    def summary(self):
        passed = sum(self.results)
        print(f"{passed} passed, {len(self.results) - passed} failed")
        return 0 if passed == len(self.results) else 1


def signaling_health(host, port):
    """/api/health's signaling counters (connections, limits)."""
    return http_call(host, port, "GET", "/api/health")[1]["signaling"]


# ---- the scenario ----

def demo_token(host, port, user):
    status, body = http_call(host, port, "POST", "/api/demo/token", body={"user": user})
    if status != 200:
        raise SystemExit(f"demo token for {user}: HTTP {status} {body}")
    return body["token"]


def session(host, port, token):
    ws = WebSocket(host, port)
    r = ws.call("auth", {"token": token})
    if "result" not in r:
        raise SystemExit(f"auth refused: {r}")
    return ws


def chain_steps(uid):
    """The requests of one chain: (kind, what, args); rooms are named after the user."""
    return [
        ("admin", "POST", "/api/admin/tenants/acme/users",
         {"id": uid, "name": f"User {uid}", "external_allowed": True}),
        ("client", "rooms.create", {"name": f"R-{uid}", "description": f"room of {uid}",
                                    "members": [{"user": uid},
                                                {"user": "dave", "tenant": "globex"}]}),
        ("client", "rooms.add_member", {"user": "bob"}),
        ("admin", "PATCH", f"/api/admin/tenants/acme/users/{uid}", {"name": f"Renamed {uid}"}),
        ("client", "rooms.update", {"description": f"updated {uid}"}),
        ("client", "rooms.grant_master", {"user": uid}),
        ("client", "rooms.remove_member", {"user": "dave", "tenant": "globex"}),
    ]


def cmd_run(a):
    journal = load_journal(a.journal)
    alice = demo_token(a.host, a.port, "alice")
    ws = session(a.host, a.port, alice)
    sent = 0
    sig = {"TERM": signal.SIGTERM, "KILL": signal.SIGKILL}[a.signal]
    killed_at = None

    def maybe_kill():
        nonlocal sent, killed_at
        sent += 1
        if sent == a.kill_after:
            killed_at = time.time()
            os.kill(a.pid, sig)

    stop = False
    for n in range(a.chains):
        uid = f"p{a.phase}u{n:02d}"
        room = None
        for step, (kind, what, path_or_params, *body) in enumerate(chain_steps(uid), 1):
            rec = {"phase": a.phase, "uid": uid, "step": step, "request": what,
                   "answered": False, "ok": False}
            journal["requests"].append(rec)
            t0 = time.monotonic()
            try:
                if kind == "admin":
                    status, resp = http_call(a.host, a.port, what, path_or_params, alice, body[0],
                                        on_sent=maybe_kill)
                    rec.update(answered=True, ok=200 <= status < 300, status=status,
                               response=resp)
                else:
                    params = dict(path_or_params)
                    if step > 2:
                        params["room"] = room
                    r = ws.call(what, params, on_sent=maybe_kill)
                    rec.update(answered=True, ok="result" in r, response=r)
                    if step == 2 and "result" in r:
                        room = r["result"]["room"]["id"]
                        rec["room"] = room
            except Closed as e:
                rec["error"] = str(e)
                stop = True
            rec["ms"] = round((time.monotonic() - t0) * 1000, 1)
            rec["after_signal"] = killed_at is not None
            if stop or not rec["ok"]:
                stop = True
                break
        if stop:
            break
    save_journal(a.journal, journal)
    answered = [r for r in journal["requests"] if r["phase"] == a.phase and r["ok"]]
    print(f"phase {a.phase}: {len(answered)} changes answered with success, "
          f"{sum(r['after_signal'] for r in answered)} of them after SIG{a.signal}; "
          f"last request: {journal['requests'][-1]['uid']} step "
          f"{journal['requests'][-1]['step']} "
          f"({'answered' if journal['requests'][-1]['answered'] else 'no answer'})")
    if killed_at is None:
        raise SystemExit("the sequence ended before the signal was sent")
    if not stop:
        raise SystemExit("the server kept answering after the signal")


# ---- verification ----

def expected(uid, level, room):
    """What the server shows for a chain after its first `level` steps."""
    if level == 0:
        return {"user": None, "room": None}
    user = {"name": f"Renamed {uid}" if level >= 4 else f"User {uid}", "external_allowed": True}
    if level == 1:
        return {"user": user, "room": None}
    members = {"acme/alice": True, f"acme/{uid}": level >= 6}
    if level < 7:
        members["globex/dave"] = False
    if level >= 3:
        members["acme/bob"] = False
    return {"user": user, "room": {
        "id": room, "name": f"R-{uid}",
        "description": f"updated {uid}" if level >= 5 else f"room of {uid}",
        "members": members,
        "audit": {"room_create": 1, "member_add bob": int(level >= 3),
                  "room_update": int(level >= 5), "master_grant": int(level >= 6),
                  "member_remove dave": int(level >= 7), "revoke dave": int(level >= 7)}}}


def observe(host, port, token, ws, uid, rooms_by_name):
    """The server's state of one chain, in the shape of expected()."""
    out = {"user": None, "room": None}
    status, body = http_call(host, port, "GET", f"/api/admin/tenants/acme/users/{uid}", token)
    if status == 200:
        u = body["user"]
        out["user"] = {"name": u["name"], "external_allowed": u["external_allowed"]}
    elif status != 404:
        raise SystemExit(f"GET user {uid}: HTTP {status} {body}")
    rooms = rooms_by_name.get(f"R-{uid}", [])
    if len(rooms) > 1:
        raise SystemExit(f"{len(rooms)} rooms named R-{uid}: {rooms}")
    if rooms:
        r = ws.call("rooms.get", {"room": rooms[0]})
        if "result" not in r:
            raise SystemExit(f"rooms.get {rooms[0]}: {r}")
        room = r["result"]["room"]
        status, audit = http_call(host, port, "GET", f"/api/admin/audit?room={room['id']}", token)
        if status != 200:
            raise SystemExit(f"audit of {room['id']}: HTTP {status} {audit}")
        counts = {}
        for e in audit["entries"]:
            key = e["action"]
            if key in ("member_add", "member_remove", "revoke"):
                key += " " + str(e["user"])
            counts[key] = counts.get(key, 0) + 1
        keys = ["room_create", "member_add bob", "room_update", "master_grant",
                "member_remove dave", "revoke dave"]
        out["room"] = {"id": room["id"], "name": room["name"], "description": room["description"],
                       "members": {f"{m['tenant']}/{m['user']}": m["master"]
                                   for m in room["members"]},
                       "audit": {k: counts.get(k, 0) for k in keys}}
    return out


def user_audit(host, port, token, uid):
    status, audit = http_call(host, port, "GET", f"/api/admin/audit?user={uid}", token)
    if status != 200:
        raise SystemExit(f"audit of {uid}: HTTP {status} {audit}")
    return sum(1 for e in audit["entries"] if e["action"] == "user_create"), \
        sum(1 for e in audit["entries"] if e["action"] == "user_update")


def cmd_verify(a):
    journal = load_journal(a.journal)
    alice = demo_token(a.host, a.port, "alice")
    ws = session(a.host, a.port, alice)
    r = ws.call("rooms.list", {})
    rooms_by_name = {}
    for room in r["result"]["rooms"]:
        rooms_by_name.setdefault(room["name"], []).append(room["id"])
    chains = {}
    for rec in journal["requests"]:
        chains.setdefault(rec["uid"], []).append(rec)
    failures = []
    summary = {"applied": 0, "inflight_applied": 0, "inflight_not_applied": 0}
    for uid, recs in chains.items():
        done = 0
        while done < len(recs) and recs[done]["ok"]:
            done += 1
        room = next((x.get("room") for x in recs if x.get("room")), None)
        pending = done < len(recs) and not recs[done]["answered"]
        resolved = journal["resolved"].get(uid)
        if resolved is not None:
            candidates = [resolved]
        else:
            candidates = [done, done + 1] if pending else [done]
        seen = observe(a.host, a.port, alice, ws, uid, rooms_by_name)
        if room is None and seen["room"]:
            room = seen["room"]["id"]   # created by the request that got no answer
        created, updated = user_audit(a.host, a.port, alice, uid)
        match = None
        for level in candidates:
            want = expected(uid, level, room)
            if seen == want and (created, updated) == (int(level >= 1), int(level >= 4)):
                match = level
                break
        if match is None:
            failures.append(f"{uid}: answered steps {done}{' + one in flight' if pending else ''}"
                            f"; expected {[expected(uid, c, room) for c in candidates]} with "
                            f"audit user_create/user_update for the level; server shows {seen}, "
                            f"user audit {created}/{updated}")
            continue
        summary["applied"] += done
        if pending:
            journal["resolved"][uid] = match
            summary["inflight_applied" if match > done else "inflight_not_applied"] += 1
    # No user of the sequence exists that the journal does not explain.
    status, body = http_call(a.host, a.port, "GET", "/api/admin/tenants/acme/users", alice)
    extra = sorted(u["id"] for u in body["users"]
                   if u["id"].startswith("p") and u["id"] not in chains)
    if extra:
        failures.append(f"users nobody asked for: {extra}")
    ws.close()
    save_journal(a.journal, journal)
    print(f"verify: {len(chains)} chains, {summary['applied']} answered changes present; "
          f"in-flight requests applied {summary['inflight_applied']}, "
          f"not applied {summary['inflight_not_applied']}")
    if failures:
        for f in failures:
            print("FAIL " + f)
        raise SystemExit(1)


def cmd_integrity(a):
    """PRAGMA integrity_check and foreign_key_check on a copy of the database and its WAL."""
    db = sqlite3.connect(a.db)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchall()
        fk = db.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        db.close()
    print(f"integrity_check: {ok}; foreign_key_check: {len(fk)} violations")
    if ok != [("ok",)] or fk:
        raise SystemExit(f"database damaged: {ok} {fk[:10]}")


def load_journal(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"requests": [], "resolved": {}}


def save_journal(path, journal):
    with open(path + ".tmp", "w") as f:
        json.dump(journal, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("run", "verify"):
        s = sub.add_parser(name)
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--port", type=int, default=8080)
        s.add_argument("--journal", required=True)
        if name == "run":
            s.add_argument("--pid", type=int, required=True, help="the server, to signal")
            s.add_argument("--signal", choices=("TERM", "KILL"), required=True)
            s.add_argument("--phase", type=int, required=True)
            s.add_argument("--chains", type=int, default=20)
            s.add_argument("--kill-after", type=int, required=True,
                           help="signal right after sending this request (1-based)")
    s = sub.add_parser("integrity")
    s.add_argument("--db", required=True)
    a = p.parse_args()
    {"run": cmd_run, "verify": cmd_verify, "integrity": cmd_integrity}[a.cmd](a)


if __name__ == "__main__":
    main()
