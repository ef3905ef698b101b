"""Room and user events reach a user whichever node their WebSocket is on (docs/protocol.md
"Several nodes"): two nodes on one PostgreSQL, alice's socket on node 1, carol's and dave's on
node 2, each change made on the other node than the user who must hear of it.

Usage: events.py HOST1 PORT1 HOST2 PORT2 (nodes started with --demo on one database).
Prints "N passed, N failed"; exit status 1 on any failure."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from durability import Closed, WebSocket, demo_token, http_call  # noqa: E402

results = {"passed": 0, "failed": 0}
T0 = time.monotonic()


def check(ok, what, seen=None):
    if ok:
        results["passed"] += 1
        print(f"ok: {what} ({time.monotonic() - T0:.2f} s)")
    else:
        results["failed"] += 1
        print(f"FAIL: {what}" + (f" (seen: {seen})" if seen is not None else ""))


class Session(WebSocket):
    """A WebSocket that keeps the events it reads while waiting for replies."""

    def __init__(self, host, port, token):
        super().__init__(host, port)
        self.events = []
        r = self.request("auth", {"token": token})
        if "result" not in r:
            raise SystemExit(f"auth refused: {r}")

    def request(self, method, params):
        rid = self.send(method, params)
        while True:
            msg = self._recv_message()
            if msg.get("id") == rid:
                return msg
            if "event" in msg:
                self.events.append(msg)

    def event(self, name, pred=lambda d: True):
        """The first event `name` whose data matches pred, from those already read or read now
        (bounded: the socket's timeout ends the wait with Closed)."""
        while True:
            for i, msg in enumerate(self.events):
                if msg["event"] == name and pred(msg.get("data") or {}):
                    return self.events.pop(i)["data"]
            try:
                msg = self._recv_message()
            except (Closed, OSError) as e:
                return {"timeout": repr(e)}
            if "event" in msg:
                self.events.append(msg)


def main():
    h1, p1, h2, p2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    alice = Session(h1, p1, demo_token(h1, p1, "alice"))
    carol = Session(h2, p2, demo_token(h2, p2, "carol"))
    dave = Session(h2, p2, demo_token(h2, p2, "dave"))
    name = "cross-node " + uuid.uuid4().hex[:8]

    # 1. carol (node 2) creates a room with alice in it: alice (node 1) is told.
    r = carol.request("rooms.create", {"name": name, "members": [{"user": "alice", "tenant": "acme"}]})
    room = r.get("result", {}).get("room", {}).get("id")
    check(room is not None, "carol creates an external room on node 2", r)
    d = alice.event("room.member_added", lambda d: d.get("room") == room and d.get("user") == "alice")
    check(d.get("by") == {"user": "carol", "tenant": "globex"},
          "alice on node 1 receives room.member_added by carol", d)

    # 2. alice (node 1) adds dave: dave and carol (node 2) are told.
    r = alice.request("rooms.add_member", {"room": room, "user": "dave", "tenant": "globex"})
    check("error" in r and r["error"]["code"] == "forbidden",
          "alice is not master: her add is refused", r)
    r = carol.request("rooms.grant_master", {"room": room, "user": "alice", "tenant": "acme"})
    check("result" in r, "carol makes alice master", r)
    d = alice.event("room.member_updated", lambda d: d.get("room") == room and d.get("user") == "alice")
    check(d.get("master") is True, "alice on node 1 receives room.member_updated (master)", d)
    r = alice.request("rooms.add_member", {"room": room, "user": "dave", "tenant": "globex"})
    check("result" in r, "alice (node 1) adds dave", r)
    d = dave.event("room.member_added", lambda d: d.get("room") == room and d.get("user") == "dave")
    check(d.get("by") == {"user": "alice", "tenant": "acme"},
          "dave on node 2 receives room.member_added by alice", d)
    d = carol.event("room.member_added", lambda d: d.get("room") == room and d.get("user") == "dave")
    check(d.get("user") == "dave", "carol on node 2 receives room.member_added for dave", d)

    # 3. carol (node 2) renames the room: alice (node 1) is told.
    r = carol.request("rooms.update", {"room": room, "description": "renamed on node 2"})
    check("result" in r, "carol updates the room", r)
    d = alice.event("room.updated", lambda d: d.get("room") == room)
    check(d.get("description") == "renamed on node 2", "alice on node 1 receives room.updated", d)

    # 4. acme's administrator revokes the connection to globex on node 1: carol and dave (node 2)
    #    are told that alice's side left their shared room; allowing it again makes it usable,
    #    and globex's users on node 2 get the connection_usable notification.
    admin = demo_token(h1, p1, "alice")
    st, body = http_call(h1, p1, "POST", "/api/admin/connections/globex/revoke", token=admin, body={})
    check(st == 200 and body["connection"]["usable"] is False, "acme revokes globex on node 1", (st, body))
    d = carol.event("room.member_removed", lambda d: d.get("room") == room)
    check(d.get("reason") == "connection_revoked",
          "carol on node 2 receives room.member_removed (connection_revoked)", d)
    # Notifications stored before (the demo's own connection_usable, delivered at auth) are not
    # the ones this change must bring.
    before = {}
    for who, s in (("alice", alice), ("carol", carol), ("dave", dave)):
        r = s.request("notifications.list", {"limit": 500})
        before[who] = {n["id"] for n in r.get("result", {}).get("notifications", [])}
    fresh = lambda who: lambda d: d.get("kind") == "connection_usable" and d.get("id") not in before[who]
    st, body = http_call(h1, p1, "POST", "/api/admin/connections/globex/allow", token=admin, body={})
    check(st == 200 and body["connection"]["usable"] is True, "acme allows globex again on node 1", (st, body))
    for who, s in (("carol", carol), ("dave", dave)):
        d = s.event("notification", fresh(who))
        check(d.get("data", {}).get("tenant") == "acme",
              f"{who} on node 2 receives the connection_usable notification", d)
    d = alice.event("notification", fresh("alice"))
    check(d.get("data", {}).get("tenant") == "globex",
          "alice on node 1 receives the connection_usable notification", d)

    for s in (alice, carol, dave):
        s.close()
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
