"""The signaling loop does not wait on the database. Against a server started with --demo
--test-db-delay-ms N (the DB thread sleeps N ms before each job), while an admin request and a
client request wait on the database:
  - /api/health answers and reports them in db_backlog, the admin answer still outstanding;
  - another session's WebSocket ping (the protocol's and the `ping` method) answers;
  - the waiting session's own later requests queue in order, and those beyond its bound are
    answered limit_exceeded at once;
then the admin request completes, and the waiting session's replies follow in request order.
Asserts order and answers; the times printed are for people, not checked.
Usage: slow_db.py HOST PORT. Prints "N passed, N failed"; exit status 1 on any failure.
slow_db.py HOST PORT --hold: sends admin and client requests, prints "held" and keeps the
connections open without reading (until killed), for a shutdown with database work queued."""
import http.client
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import demo_token, session  # noqa: E402

QUEUE_BOUND = 64  # SB_SESSION_MAX_QUEUED
EXTRA = 6         # requests sent beyond the bound


def readable(sock):
    return bool(select.select([sock], [], [], 0)[0])


def protocol_ping(ws, payload):
    """Sends a WebSocket ping frame and reads frames until its pong; returns the other messages
    read meanwhile (none are expected)."""
    ws._send_frame(0x9, payload)
    others = []
    while True:
        b0, b1 = ws._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(ws._take(2), "big")
        elif n == 127:
            n = int.from_bytes(ws._take(8), "big")
        data = ws._take(n)
        if b0 & 0x0F == 0xA and data == payload:
            return others
        others.append(data)


def hold(host, port):
    token = demo_token(host, port, "alice")
    ws = session(host, port, token)
    ws.call("ping", {})
    conns = []
    for i in range(3):
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.request("POST", "/api/admin/tenants/acme/users", body=json.dumps({"id": f"held{i}", "name": "H"}),
                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        conns.append(c)
        ws.send("rooms.create", {"name": f"held{i}"})
    print("held", flush=True)
    sys.stdin.read()  # until the driver closes our stdin or kills us
    return 0


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    if sys.argv[3:] == ["--hold"]:
        return hold(host, port)
    results = []

    def check(what, ok, detail=""):
        results.append(ok)
        print(("ok " if ok else "not ok ") + what + ("" if ok else f": {detail}"), flush=True)

    token = demo_token(host, port, "alice")  # answered without the database
    t0 = time.monotonic()
    waiting = session(host, port, token)      # its pending notifications are a database job
    r = waiting.call("ping", {})
    check("the first session is ready", "result" in r, r)
    other = session(host, port, token)
    r = other.call("ping", {})
    check("the second session is ready", "result" in r, r)
    print(f"# two sessions ready after {time.monotonic() - t0:.2f} s (each waited on a slow job)")

    # A client request on `waiting`, then more than its queue holds: those beyond the bound are
    # answered at once, ahead of the queued ones, with their own ids (so the server has them all).
    first = waiting.send("rooms.list", {})
    pings = [waiting.send("ping", {}) for _ in range(QUEUE_BOUND + EXTRA)]
    refused = [waiting._recv_message() for _ in range(EXTRA)]
    check("requests beyond the session's queue are refused with limit_exceeded",
          [m.get("id") for m in refused] == pings[QUEUE_BOUND:]
          and all(m.get("error", {}).get("code") == "limit_exceeded" for m in refused), refused)
    # An admin request, not read yet: its job waits behind rooms.list.
    admin = http.client.HTTPConnection(host, port, timeout=60)
    t_admin = time.monotonic()
    admin.request("GET", "/api/admin/tenants/acme/users", headers={"Authorization": "Bearer " + token})

    t = time.monotonic()
    health = http.client.HTTPConnection(host, port, timeout=60)
    health.request("GET", "/api/health")
    h = health.getresponse()
    body = json.loads(h.read())
    t_health = time.monotonic() - t
    check("/api/health answers while the database is busy", h.status == 200, h.status)
    check("health reports jobs waiting", body.get("db_backlog", 0) >= 1, body.get("db_backlog"))
    check("the admin answer is still outstanding after health", not readable(admin.sock))

    t = time.monotonic()
    others = protocol_ping(other, b"slow-db")
    t_pong = time.monotonic() - t
    check("a WebSocket ping frame is answered meanwhile", others == [], others)
    t = time.monotonic()
    r = other.call("ping", {})
    t_ping = time.monotonic() - t
    check("another session's ping method is answered meanwhile", "result" in r, r)
    check("the admin answer is still outstanding after the pings", not readable(admin.sock))

    resp = admin.getresponse()
    users = json.loads(resp.read())
    t_admin = time.monotonic() - t_admin
    check("the admin request completes", resp.status == 200 and isinstance(users, (list, dict)),
          (resp.status, users))

    r = waiting._recv_message()
    check("the waiting session's request is answered first", r.get("id") == first and "result" in r, r)
    ids = []
    while len(ids) < QUEUE_BOUND:
        m = waiting._recv_message()
        if "id" in m:
            ids.append(m["id"] if "result" in m else ("error", m["id"]))
    check("then its queued requests, in order", ids == pings[:QUEUE_BOUND], ids[:5])
    print(f"# db_backlog at health: {body.get('db_backlog')}")
    print(f"# health {t_health * 1000:.1f} ms, ws ping frame {t_pong * 1000:.1f} ms, ping method "
          f"{t_ping * 1000:.1f} ms, while the admin request took {t_admin * 1000:.0f} ms")

    # Callers that go away before their answer: the HTTP connection and the WebSocket close while
    # their jobs wait; the jobs' effects still happen and the server stays well.
    gone = http.client.HTTPConnection(host, port, timeout=60)
    gone.request("POST", "/api/admin/tenants/acme/users", body=json.dumps({"id": "gone1", "name": "Gone"}),
                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    gone.close()
    quitter = session(host, port, token)
    quitter.call("ping", {})  # past its pending-notifications job: rooms.create is not queued
    quitter.send("rooms.create", {"name": "left-behind"})
    quitter.close()
    check_conn = http.client.HTTPConnection(host, port, timeout=60)
    check_conn.request("GET", "/api/admin/tenants/acme/users/gone1",
                       headers={"Authorization": "Bearer " + token})
    resp = check_conn.getresponse()
    resp.read()
    check("a change whose HTTP caller left is made", resp.status == 200, resp.status)
    r = other.call("rooms.list", {})
    names = [room.get("name") for room in r.get("result", {}).get("rooms", r.get("result", []))]
    check("a change whose WebSocket caller left is made", "left-behind" in names, r)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
