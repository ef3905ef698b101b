"""The signaling loop under many sockets asking for big lists (issue 13, F3). Usage:
busy_lists.py HOST PORT, against a server started with --demo --max-conns-per-user 50
--max-requests-per-second 1000. alice gets 300 rooms; then 40 of her sockets each send 10
rooms.list requests at once and read every answer while /api/health and another user's ping are
timed; then bob stops reading while alice's room changes send him events. Checks: every list answer is one page of at most 100 rooms (the default limit) with a
cursor to the rest, walking the cursors gives every room once, and /api/health and the ping
are answered during the load (the figures are printed as METRIC lines; only a generous bound,
5 s, is asserted), and the client that does not read is closed and counted (closed_not_reading)
while others are served. Prints "N passed, N failed"; exit status 1 on any failure."""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, demo_token, http_call, session, signaling_health  # noqa: E402

SOCKETS, REQUESTS, ROOMS = 40, 10, 300


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    check = Checks()

    tok = demo_token(host, port, "alice")
    alice = session(host, port, tok)
    before = len(alice.call("rooms.list", {"limit": 500})["result"]["rooms"])  # the demo's
    created = 0
    for first in range(0, ROOMS, 50):  # 50 at a time: at most 64 may wait on one connection
        for i in range(first, first + 50):
            alice._send_frame(0x1, json.dumps({"id": i, "method": "rooms.create",
                                               "params": {"name": f"busy {i}"}}).encode())
        created += sum("result" in alice.reply(i) for i in range(first, first + 50))
    check(f"{ROOMS} rooms created", created == ROOMS, created)

    # walking the pages gives every room once
    seen, cursor, pages = [], None, 0
    while True:
        r = alice.call("rooms.list", {"cursor": cursor} if cursor else {})
        rooms = r["result"]["rooms"]
        seen += [x["id"] for x in rooms]
        pages += 1
        cursor = r["result"].get("next_cursor")
        if not cursor or pages > 10:
            break
    check("the cursors walk all rooms once, 100 a page",
          len(seen) == ROOMS + before and len(set(seen)) == len(seen) and
          pages == (ROOMS + before + 99) // 100,
          (len(seen), before, pages))

    socks = [session(host, port, tok) for _ in range(SOCKETS)]
    sizes, errors = [], []

    def load(ws):
        for i in range(REQUESTS):
            ws._send_frame(0x1, json.dumps({"id": i, "method": "rooms.list", "params": {}}).encode())
        for i in range(REQUESTS):
            m = ws.reply(i)
            if "result" in m:
                sizes.append((len(m["result"]["rooms"]), "next_cursor" in m["result"]))
            else:
                errors.append(m)

    carol = session(host, port, demo_token(host, port, "carol"))
    threads = [threading.Thread(target=load, args=(ws,)) for ws in socks]
    for t in threads:
        t.start()
    health_ms, ping_ms = [], []
    while any(t.is_alive() for t in threads):
        t0 = time.monotonic()
        st, _ = http_call(host, port, "GET", "/api/health")
        health_ms.append((time.monotonic() - t0) * 1000 if st == 200 else 1e9)
        t0 = time.monotonic()
        ok = "result" in carol.call("ping", {})
        ping_ms.append((time.monotonic() - t0) * 1000 if ok else 1e9)
    for t in threads:
        t.join()
    print(f"METRIC busy_lists_health_ms max {max(health_ms):.1f} over {len(health_ms)} requests")
    print(f"METRIC busy_lists_ping_ms max {max(ping_ms):.1f} over {len(ping_ms)} requests")
    check("every list request is answered", len(sizes) == SOCKETS * REQUESTS and not errors,
          (len(sizes), errors[:3]))
    check("each answer is one page of 100 rooms with a cursor",
          all(n == 100 and more for n, more in sizes), set(sizes))
    check("/api/health is answered during the load (within 5 s each)",
          len(health_ms) > 0 and max(health_ms) < 5000, health_ms[:10])
    check("another user's ping is answered during the load (within 5 s each)",
          len(ping_ms) > 0 and max(ping_ms) < 5000, ping_ms[:10])
    for ws in socks:
        ws.close()

    # A client that never reads while events for it pile up: libwebsockets reads nothing more
    # from a connection whose output is stuck, so a client's own requests cannot grow its
    # queue, but events can. bob stops reading; alice rewrites the demo room's description
    # (bob is a member: each change is a room.updated of about 2 KB for him) until the answers
    # queued for bob pass the 4 MiB cap: he is closed, logged once and counted; the others go on.
    slow = session(host, port, demo_token(host, port, "bob"))
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sig, n = signaling_health(host, port), 0
    while sig["closed_not_reading"] < 1 and n < 8000:
        for i in range(n, n + 50):
            alice._send_frame(0x1, json.dumps({"id": 10000 + i, "method": "rooms.update", "params": {
                "room": "demo", "description": f"{i:06d}" + "d" * 2000}}).encode())
        for i in range(n, n + 50):
            alice.reply(10000 + i)
        n += 50
        sig = signaling_health(host, port)
    print(f"METRIC busy_lists_events_until_cut {n}")
    check("a client that does not read is closed once its queue passes the cap",
          sig["closed_not_reading"] == 1, (n, sig))
    check("... and only that client: another user's ping is answered",
          "result" in carol.call("ping", {}))
    slow.sock.close()
    for ws in (alice, carol):
        ws.close()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
