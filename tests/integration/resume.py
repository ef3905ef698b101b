"""Session resume over the real WebSocket protocol (no media needed). Usage: resume.py HOST PORT,
against a server started with --demo --resume-grace 3. A participant whose socket breaks stays in
the call; a new connection that authenticates with the resume token from its auth result takes
the session up again (resumed: true) and gets the events sent meanwhile, after the auth reply;
the other participants never see it leave. A wrong token, or another user's, does not resume;
a session not resumed within the grace leaves the call; a connection closed by its client (a
close frame) leaves at once. Prints "N passed, N failed"."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, Closed, WebSocket, demo_token, signaling_health  # noqa: E402
from limits import error_code, offer  # noqa: E402


def auth(host, port, token, resume=None):
    ws = WebSocket(host, port)
    params = {"token": token}
    if resume is not None:
        params["resume"] = resume
    return ws, ws.call("auth", params)


def wait_health(host, port, what, cond, timeout_s=15):
    deadline = time.time() + timeout_s
    while True:
        h = signaling_health(host, port)
        if cond(h):
            return h
        if time.time() > deadline:
            return None
        time.sleep(0.1)


def drop(ws):
    """Breaks the connection without a WebSocket close (as a lost network does): RST."""
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    ws.sock.close()


def events_until(ws, name, limit=50):
    seen = []
    for _ in range(limit):
        msg = ws._recv_message()
        seen.append(msg.get("event") or f"reply {msg.get('id')}")
        if msg.get("event") == name:
            return msg["data"], seen
    return None, seen


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    check = Checks()
    tok = {u: demo_token(host, port, u) for u in ("alice", "bob", "carol")}

    alice, r = auth(host, port, tok["alice"])
    resume = r.get("result", {}).get("resume", {})
    check("the auth result carries a resume token and the grace",
          len(resume.get("token", "")) == 64 and resume.get("grace_s") == 3, r)
    bob, r = auth(host, port, tok["bob"])
    r = alice.call("call.join", {"room": "demo", "sdp": offer(video=False)})
    check("alice joins", error_code(r) == "ok", r)
    r = bob.call("call.join", {"room": "demo", "sdp": offer()})
    check("bob joins", error_code(r) == "ok", r)

    drop(alice)
    h = wait_health(host, port, "detached", lambda h: h.get("detached") == 1)
    check("alice's session is kept, detached from its socket", h is not None, h)
    r = bob.call("call.mute", {"kind": "video", "muted": True})
    check("bob mutes his video while alice is away", error_code(r) == "ok", r)

    alice2, r = auth(host, port, tok["alice"], resume.get("token"))
    check("a new connection with the resume token resumes the session",
          r.get("result", {}).get("resumed") is True, r)
    new_resume = r.get("result", {}).get("resume", {}).get("token")
    check("and gets a new resume token", new_resume and new_resume != resume.get("token"), r)
    ev, seen = events_until(alice2, "call.track_muted")
    check("the event sent while away is delivered after the auth reply",
          ev is not None and ev.get("user") == "bob" and ev.get("muted") is True, seen)
    r = alice2.call("call.mute", {"kind": "audio", "muted": True})
    check("alice is still in the call on the new connection", error_code(r) == "ok", r)
    ev, seen = events_until(bob, "call.track_muted")
    check("bob sees alice's mute, and never saw her leave",
          ev is not None and ev.get("user") == "alice" and "call.participant_left" not in seen, seen)
    h = signaling_health(host, port)
    check("resumed counted, nothing detached", h.get("resumed") == 1 and h.get("detached") == 0, h)

    # A half-open connection (the server has not seen it break): the new one takes over and the
    # old one is closed.
    alice3, r = auth(host, port, tok["alice"], new_resume)
    check("a resume while the old connection is still open takes it over",
          r.get("result", {}).get("resumed") is True, r)
    new_resume = r.get("result", {}).get("resume", {}).get("token")
    closed = None
    try:
        for _ in range(100):
            alice2._recv_message()
    except (Closed, ConnectionResetError) as e:  # a close frame, EOF or a reset; not a timeout
        closed = e
    check("the old connection is closed", closed is not None, repr(closed))
    r = alice3.call("call.mute", {"kind": "audio", "muted": False})
    check("the call goes on on the newest connection", error_code(r) == "ok", r)
    alice2 = alice3

    # The token is spent; another user's JWT with a valid token does not take the session.
    drop(alice2)
    wait_health(host, port, "detached", lambda h: h.get("detached") == 1)
    _, r = auth(host, port, tok["alice"], resume.get("token"))
    check("a spent resume token does not resume", r.get("result", {}).get("resumed") is False, r)
    carol, r = auth(host, port, tok["carol"], new_resume)
    check("another user's token with alice's resume token does not resume",
          r.get("result", {}).get("resumed") is False, r)

    # Not resumed within the grace: alice leaves the call, bob is told.
    ev, seen = events_until(bob, "call.participant_left", limit=200)
    check("after the grace alice leaves the call", ev is not None and ev.get("user") == "alice",
          seen)
    h = signaling_health(host, port)
    check("resume_expired counted", h.get("resume_expired") == 1 and h.get("detached") == 0, h)
    # A client that closes its socket itself (a close frame: a tab closed, leave without
    # call.leave) is gone at once; only a broken connection is waited for.
    carol.call("call.join", {"room": "demo", "sdp": offer(video=False)})
    carol.close()
    ev, seen = events_until(bob, "call.participant_left", limit=200)
    h = signaling_health(host, port)
    check("a clean close leaves the call at once, nothing detached",
          ev is not None and ev.get("user") == "carol" and h.get("detached") == 0, (seen, h))
    bob.close()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
