"""Hostile WebSocket clients (issue 13, F2). Usage: ws_limits.py HOST PORT SERVER_PID, against a
server started with --demo --max-conns-per-address 8 --max-conns-per-user 3
--max-requests-per-second 20. Checks: the 9th connection from one address and the 4th of one user are
refused (close code 1008, limit_exceeded); a flood of requests on one connection is answered
rate_limited while another client's requests are answered promptly; a burst of requests in one
write runs a few per pass of the loop, in order; a frame over 256 KiB is
closed with 1009, a binary frame with 1003, and a WebSocket that names no subprotocol with 1002. Prints METRIC lines and
"N passed, N failed"; exit status 1 on any failure."""
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import (Checks, Closed, WebSocket, demo_token, session,  # noqa: E402
                        signaling_health)


def raw_frame(payload):
    """A masked text frame with a zero mask key (legal, and the payload needs no masking)."""
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return head + b"\0\0\0\0" + payload


def wait_connections(host, port, at_most, timeout_s=10):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if signaling_health(host, port)["connections"] <= at_most:
            return True
        time.sleep(0.1)
    return False


def close_frame(ws):
    """Reads until the server's close frame; returns (code, reason), (None, "") if the socket
    just ends."""
    try:
        while True:
            b0, b1 = ws._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", ws._take(2))[0]
            payload = ws._take(n)
            if b0 & 0x0F == 0x8:
                if len(payload) < 2:
                    return None, ""
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")
    except (Closed, OSError):
        return None, ""


def close_code(ws):
    """The code of the server's close frame (None if the socket just ends)."""
    return close_frame(ws)[0]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    check = Checks()

    # --- connections per address ---
    conns = [WebSocket(host, port) for _ in range(8)]
    extra = WebSocket(host, port)
    code = close_code(extra)
    check("the 9th connection from one address is closed with 1008", code == 1008, code)
    r = conns[0].call("ping", {})
    check("the 8 others still work", r.get("error", {}).get("code") == "unauthenticated", r)
    for ws in conns:
        ws.close()
    wait_connections(host, port, 0)
    check("refused_per_address counted", signaling_health(host, port)["refused_per_address"] == 1)

    # --- connections per user ---
    tok = demo_token(host, port, "bob")
    bobs = [session(host, port, tok) for _ in range(3)]
    fourth = WebSocket(host, port)
    r = fourth.call("auth", {"token": tok})
    check("bob's 4th connection: auth answers limit_exceeded",
          r.get("error", {}).get("code") == "limit_exceeded", r)
    code = close_code(fourth)
    check("... and the connection is closed (1008 or no close frame)", code in (1008, None), code)
    carol = session(host, port, demo_token(host, port, "carol"))
    check("another user still connects", carol.call("ping", {}).get("result") is not None)
    bobs[0].close()
    wait_connections(host, port, 3)
    again = WebSocket(host, port)
    r = again.call("auth", {"token": tok})
    check("once one of bob's connections closed, he may connect again", "result" in r, r)
    for ws in bobs[1:] + [again]:
        ws.close()

    # --- request rate ---
    flood = session(host, port, demo_token(host, port, "dave"))
    time.sleep(1.2)  # the auth request used a token
    for i in range(300):
        flood._send_frame(0x1, json.dumps({"id": i, "method": "ping", "params": {}}).encode())
    t0 = time.time()
    r = carol.call("ping", {})
    other_ms = (time.time() - t0) * 1000
    print(f"METRIC ws_other_client_ping_during_flood_ms={other_ms:.1f}")
    check("another client's request is answered during the flood", "result" in r, r)
    codes = {}
    for i in range(300):
        m = flood.reply(i)
        c = m.get("error", {}).get("code", "ok")
        codes[c] = codes.get(c, 0) + 1
    print(f"METRIC ws_flood_answers {codes}")
    check("the flood gets rate_limited answers, every request answered",
          codes.get("rate_limited", 0) >= 250 and sum(codes.values()) == 300, codes)
    check("requests within the budget are carried out (20/s burst)",
          15 <= codes.get("ok", 0) <= 40, codes)
    time.sleep(1.1)
    r = flood.call("ping", {})
    check("after a second the connection may make requests again", "result" in r, r)
    check("rate_limited counted", signaling_health(host, port)["rate_limited"] >= 250)
    flood.close()
    carol.close()

    # --- per-pass budget: 20 requests in one write are run 8 per pass of the loop, in order ---
    burst = session(host, port, demo_token(host, port, "carol"))
    time.sleep(1.1)  # a full bucket of 20 requests (the auth used one)
    held = signaling_health(host, port)["held_over"]
    burst.sock.sendall(b"".join(
        raw_frame(json.dumps({"id": 100 + i, "method": "ping", "params": {}}).encode())
        for i in range(20)))
    ids = []
    while len(ids) < 20:
        m = burst._recv_message()
        if "id" in m:
            ids.append((m["id"], "result" in m))
    check("a burst in one write is answered in order, every request carried out",
          ids == [(100 + i, True) for i in range(20)], ids)
    held = signaling_health(host, port)["held_over"] - held
    check("the burst was spread over passes (held_over counted)", held >= 1, held)
    r = burst.call("ping", {})  # answered (rate_limited unless the bucket refilled meanwhile)
    check("the connection reads again after its held frames ran",
          "result" in r or r.get("error", {}).get("code") == "rate_limited", r)
    burst.close()

    # --- frames the protocol does not take: closed with a status that says why ---
    wait_connections(host, port, 0)
    big = WebSocket(host, port)
    big._send_frame(0x1, b'{"id":1,"method":"ping","params":{"pad":"' + b"x" * (300 * 1024) + b'"}}')
    code = close_code(big)
    check("a frame over 256 KiB is closed with 1009 (message too big)", code == 1009, code)
    binary = WebSocket(host, port)
    binary._send_frame(0x2, b"\x00\x01")
    code = close_code(binary)
    check("a binary frame is closed with 1003 (unsupported data)", code == 1003, code)
    bare = WebSocket(host, port, protocol=None)
    bare._send_frame(0x1, b'{"id":1,"method":"ping","params":{}}')
    code, reason = close_frame(bare)
    check("a WebSocket without the switchboard.v1 subprotocol is closed with 1002 saying so",
          code == 1002 and "switchboard.v1" in reason, (code, reason))
    other = session(host, port, demo_token(host, port, "dave"))
    r = other.call("ping", {})
    check("other connections are unaffected", "result" in r, r)
    other.close()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
