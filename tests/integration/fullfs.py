#!/usr/bin/env python3
"""Driver for test_fullfs.sh (python3 standard library only): the database on a full filesystem.

`run` works against `switchboard serve --demo` whose SQLite file lies on a small tmpfs while a
call (switchboard-bench) holds media through the node:
  1. waits until the call's media flows (/api/health: two transports, rtp_forwarded rising);
     creates what the later steps need (users to add as contacts, one for the permission
     change) and a first room: changes work here at all;
  2. fills the filesystem with a filler file (until ENOSPC);
  3. makes each kind of change until one is refused: rooms.create and contacts.add on the
     WebSocket, user creation, a user's external permission and acme's connection to globex on
     the admin API. Space that SQLite's write-ahead log already has (or that a refused write
     left in it) may still take a change or two; those are committed and recorded. The refusal
     must be `storage_full` (HTTP 507 on the admin API), with a message, within 10 s; reads go on;
  4. while the filesystem is full the call goes on: its transports stay and rtp_forwarded rises
     every second of a few;
  5. removes the filler: each kind of change succeeds at the first try.
Every change and its outcome go to a JSON journal.

`verify` (after the server stopped) checks the database file: PRAGMA integrity_check and
foreign_key_check pass, and it holds exactly the changes answered with success: the rooms (each
with its members and its one room_create audit row; no audit row of a refused one), the users,
alice's contacts, the permission and the connection as the last successful request left them.
"""

import argparse
import errno
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, Closed, WebSocket, demo_token, http_call  # noqa: E402

MAX_SLACK_ROOMS = 400   # rooms that may still fit in the write-ahead log once the disk is full
ANSWER_S = 10.0         # a refused change must be answered within this (no hang)


def health(host, port):
    status, body = http_call(host, port, "GET", "/api/health")
    if status != 200:
        raise SystemExit(f"/api/health: HTTP {status}")
    out = {"transports": 0, "rtp_forwarded": 0}
    for w in body["workers"]:
        for k in out:
            out[k] += w.get(k, 0)
    return out


def wait_media(host, port, timeout_s):
    """Until two transports are up and rtp_forwarded rises; returns the last sample."""
    deadline = time.monotonic() + timeout_s
    prev = None
    while True:
        h = health(host, port)
        if prev and h["transports"] >= 2 and h["rtp_forwarded"] > prev["rtp_forwarded"]:
            return h
        if time.monotonic() > deadline:
            raise SystemExit(f"the call's media did not flow within {timeout_s} s: {h}")
        prev = h
        time.sleep(0.5)   # polling interval of a bounded wait


def fill(fs):
    """Writes fs/filler until the filesystem refuses (ENOSPC); returns the bytes written."""
    path = os.path.join(fs, "filler")
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 4096, 512):
            block = b"\0" * chunk
            while True:
                try:
                    written += f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


CONTACTS = [f"ffc{i:02d}" for i in range(1, 31)]   # acme users alice adds as contacts


class Run:
    def __init__(self, a, check):
        self.a = a
        self.check = check
        self.token = demo_token(a.host, a.port, "alice")
        self.ws = WebSocket(a.host, a.port)
        r = self.ws.call("auth", {"token": self.token})
        if "result" not in r:
            raise SystemExit(f"auth refused: {r}")
        # What the database must hold in the end: every change answered with success.
        self.journal = {"rooms_ok": [], "rooms_refused": [], "users_ok": [], "users_refused": [],
                        "contacts_ok": [], "contacts_refused": [], "ffpol_allowed": True,
                        "conn_allowed": True, "changes": []}
        self.n = {"room": 0, "user": 0, "contact": 0, "policy": 0, "conn": 0}

    def client(self, method, params):
        """A WebSocket request: (ok, error code, message, HTTP status None, seconds)."""
        t0 = time.monotonic()
        r = self.ws.call(method, params)
        err = r.get("error") or {}
        return "result" in r, err.get("code"), err.get("message", ""), None, time.monotonic() - t0

    def admin(self, method, path, body=None):
        """An admin API request: (ok, error code, message, HTTP status, seconds)."""
        t0 = time.monotonic()
        status, resp = http_call(self.a.host, self.a.port, method, path, self.token, body)
        err = (resp or {}).get("error") or {}
        return (200 <= status < 300, err.get("code"), err.get("message", ""), status,
                time.monotonic() - t0)

    def _log(self, name, ok, key):
        self.journal[f"{key}_ok" if ok else f"{key}_refused"].append(name)

    # One change of each kind; each call makes a new one and records its outcome.
    def room(self, prefix):
        self.n["room"] += 1
        name = f"{prefix}-{self.n['room']}"
        r = self.client("rooms.create", {"name": name, "members": [{"user": "bob"}]})
        self._log(name, r[0], "rooms")
        return r

    def user(self, prefix):
        self.n["user"] += 1
        uid = f"{prefix}-user{self.n['user']}"
        r = self.admin("POST", "/api/admin/tenants/acme/users", {"id": uid, "name": uid})
        self._log(uid, r[0], "users")
        return r

    def contact(self):
        uid = CONTACTS[self.n["contact"]]
        self.n["contact"] += 1
        r = self.client("contacts.add", {"user": uid, "tenant": "acme"})
        self._log(uid, r[0], "contacts")
        return r

    def policy(self):
        """ffpol's external permission, flipped."""
        want = not self.journal["ffpol_allowed"]
        r = self.admin("PATCH", "/api/admin/tenants/acme/users/ffpol", {"external_allowed": want})
        if r[0]:
            self.journal["ffpol_allowed"] = want
        return r

    def conn(self, allow=None):
        """acme's connection to globex, flipped (or set to `allow`)."""
        want = (not self.journal["conn_allowed"]) if allow is None else allow
        r = self.admin("POST", f"/api/admin/connections/globex/{'allow' if want else 'revoke'}",
                       {})
        if r[0]:
            self.journal["conn_allowed"] = want
        return r

    def until_refused(self, what, change, limit):
        """Makes the change until one is refused (space freed by an earlier failed write may
        still take a small one); that one must be storage_full, answered promptly."""
        for i in range(limit):
            ok, code, msg, status, secs = change()
            self.journal["changes"].append({"what": what, "ok": ok, "code": code, "status": status,
                                            "message": msg, "ms": round(secs * 1000, 1)})
            if not ok:
                detail = f"code={code} status={status} message={msg!r} in {secs:.2f} s"
                self.check(f"disk full: {what} refused with storage_full"
                           + (" (HTTP 507)" if status is not None else "")
                           + (f" (after {i} that still fitted)" if i else ""),
                           code == "storage_full" and msg and secs < ANSWER_S
                           and status in (None, 507), detail)
                return i
        self.check(f"disk full: {what} refused within {limit} attempts", False, "never refused")
        return limit

    def accepted(self, what, r):
        ok, code, msg, status, _ = r
        self.journal["changes"].append({"what": what + " (space freed)", "ok": ok, "code": code,
                                        "status": status, "message": msg})
        self.check(f"space freed: {what} succeeds", ok, f"code={code} status={status} {msg!r}")


def cmd_run(a):
    check = Checks()
    run = Run(a, check)
    try:
        return scenario(a, check, run)
    finally:
        with open(a.journal, "w") as f:
            json.dump(run.journal, f, indent=1)


def scenario(a, check, run):
    h = wait_media(a.host, a.port, a.timeout)
    print(f"# call in media: {h}")

    # Before: what the later steps need, and proof that changes work here at all.
    for uid in ["ffpol"] + CONTACTS:
        ok, code, msg, st, _ = run.admin("POST", "/api/admin/tenants/acme/users",
                                         {"id": uid, "name": uid, "external_allowed": True})
        if not ok:
            check(f"before: create user {uid}", False, f"HTTP {st} {code} {msg}")
            return check.summary()
    check("before: rooms.create", run.room("before")[0])

    written = fill(a.fs)
    vfs = os.statvfs(a.fs)
    print(f"# filler: {written} bytes; {vfs.f_bavail * vfs.f_frsize} bytes left")
    check("the filesystem is full", vfs.f_bavail == 0, f"{vfs.f_bavail} blocks free")

    t0 = time.monotonic()
    h0 = health(a.host, a.port)
    # SQLite's write-ahead log may still have room from earlier writes: rooms first, until
    # one is refused; then each kind in turn.
    slack = run.until_refused("rooms.create", lambda: run.room("full"), MAX_SLACK_ROOMS)
    print(f"# METRIC fullfs_slack_commits {slack} (rooms created after the fill, in space the "
          f"write-ahead log already had)")
    run.until_refused("rooms.create again", lambda: run.room("full"), 20)
    run.until_refused("contacts.add", run.contact, 20)
    run.until_refused("admin: create user", lambda: run.user("full"), 20)
    run.until_refused("admin: change a user's external permission", run.policy, 20)
    run.until_refused("admin: change an external connection", run.conn, 20)
    refused = [c["ms"] for c in run.journal["changes"] if not c["ok"]]
    print(f"# METRIC fullfs_refusals {len(refused)} answered storage_full in "
          f"{min(refused)}-{max(refused)} ms")
    ok, code, msg, _, _ = run.client("rooms.list", {})
    check("disk full: reads still answer (rooms.list)", ok, f"{code} {msg}")

    # The call goes on: sampled until it has been full for a few seconds.
    samples = [h0]
    while time.monotonic() - t0 < a.window or len(samples) < 3:
        time.sleep(1.0)   # sampling interval of the window
        samples.append(health(a.host, a.port))
    rising = all(b["rtp_forwarded"] > x["rtp_forwarded"] for x, b in zip(samples, samples[1:]))
    secs = time.monotonic() - t0
    fwd = samples[-1]["rtp_forwarded"] - h0["rtp_forwarded"]
    print(f"# METRIC fullfs_call_while_full {secs:.1f} s: rtp_forwarded +{fwd} "
          f"({fwd / secs:.0f}/s), transports {[s['transports'] for s in samples]}")
    check("disk full: the running call keeps its transports",
          all(s["transports"] >= 2 for s in samples), str(samples))
    check("disk full: the running call's media keeps flowing (rtp_forwarded rises each second)",
          rising, str([s["rtp_forwarded"] for s in samples]))

    os.unlink(os.path.join(a.fs, "filler"))
    run.accepted("rooms.create", run.room("after"))
    run.accepted("contacts.add", run.contact())
    run.accepted("admin: create user", run.user("after"))
    run.accepted("admin: change a user's external permission", run.policy())
    run.accepted("admin: allow the external connection", run.conn(allow=True))
    h = health(a.host, a.port)
    check("space freed: the call is still there", h["transports"] >= 2, str(h))
    run.ws.close()
    return check.summary()


def cmd_verify(a):
    check = Checks()
    j = json.load(open(a.journal))
    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    q = lambda sql, *p: db.execute(sql, p).fetchall()  # noqa: E731
    ic = q("PRAGMA integrity_check")
    check("PRAGMA integrity_check", ic == [("ok",)], str(ic[:5]))
    fk = q("PRAGMA foreign_key_check")
    check("PRAGMA foreign_key_check", fk == [], str(fk[:5]))

    names = {n for (n,) in q("SELECT name FROM rooms WHERE kind = 'group' AND "
                             "(name LIKE 'full-%' OR name LIKE 'before-%' OR name LIKE 'after-%')")}
    check("the rooms are exactly those answered with success", names == set(j["rooms_ok"]),
          f"in the database {sorted(names)}, answered {sorted(j['rooms_ok'])}")
    for name in j["rooms_ok"]:
        rows = q("SELECT r.id, (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id), "
                 "(SELECT COUNT(*) FROM audit a WHERE a.room_id = r.id AND "
                 "a.action = 'room_create') FROM rooms r WHERE r.name = ?", name)
        check(f"room {name}: one row, two members, one room_create audit row",
              len(rows) == 1 and rows[0][1:] == (2, 1), str(rows))
    refused = set(j["rooms_refused"])
    audited = {n for (n,) in q("SELECT r.name FROM audit a JOIN rooms r ON r.id = a.room_id "
                               "WHERE a.action = 'room_create'")}
    check("no audit row for a refused room", not (refused & audited), str(refused & audited))
    orphans = q("SELECT COUNT(*) FROM audit a WHERE a.action = 'room_create' AND a.room_id NOT IN "
                "(SELECT id FROM rooms)")
    check("no room_create audit row without its room", orphans == [(0,)], str(orphans))
    users = {u for (u,) in q("SELECT id FROM users WHERE tenant_id = 'acme' AND "
                             "(id LIKE 'full-user%' OR id LIKE 'after-user%')")}
    check("users: exactly those answered with success", users == set(j["users_ok"]),
          f"in the database {sorted(users)}, answered {sorted(j['users_ok'])}")
    contacts = {u for (u,) in q("SELECT t.id FROM contacts c JOIN users o ON o.uid = c.owner_uid "
                                "JOIN users t ON t.uid = c.contact_uid WHERE o.tenant_id = 'acme' "
                                "AND o.id = 'alice' AND t.id LIKE 'ffc%'")}
    check("alice's contacts: exactly those answered with success",
          contacts == set(j["contacts_ok"]),
          f"in the database {sorted(contacts)}, answered {sorted(j['contacts_ok'])}")
    pol = q("SELECT external_allowed FROM users WHERE tenant_id = 'acme' AND id = 'ffpol'")
    check("ffpol's external permission as last answered", pol == [(int(j["ffpol_allowed"]),)],
          f"{pol}, expected {j['ffpol_allowed']}")
    conn = q("SELECT allowed FROM connections WHERE tenant_id = 'acme' AND peer_id = 'globex'")
    check("acme's connection to globex as last answered", conn == [(int(j["conn_allowed"]),)],
          f"{conn}, expected {j['conn_allowed']}")
    return check.summary()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8080)
    r.add_argument("--fs", required=True, help="the small filesystem holding the database")
    r.add_argument("--journal", required=True)
    r.add_argument("--timeout", type=float, default=30.0)
    r.add_argument("--window", type=float, default=4.0, help="seconds the call is watched")
    v = sub.add_parser("verify")
    v.add_argument("--db", required=True)
    v.add_argument("--journal", required=True)
    a = p.parse_args()
    try:
        return cmd_run(a) if a.cmd == "run" else cmd_verify(a)
    except Closed as e:
        print(f"not ok the server stopped answering: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
