"""Call limits and in-call controls over the real WebSocket protocol (no media needed):
per-call participant and video-publisher limits, call.mute with its event, bad parameters.
Usage: limits.py HOST PORT (a server started with --demo --max-participants 2
--max-video-publishers 1). Prints "N passed, N failed"; exit status 1 on any failure."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, WebSocket, demo_token, session  # noqa: E402

FP = ":".join(["AB"] * 32)


def offer(video=True):
    def m(kind, mid, pt, codec, ssrc):
        return (f"m={kind} 9 UDP/TLS/RTP/SAVPF {pt}\r\nc=IN IP4 0.0.0.0\r\n"
                f"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                f"a=fingerprint:sha-256 {FP}\r\na=setup:actpass\r\na=mid:{mid}\r\na=sendonly\r\n"
                f"a=rtcp-mux\r\na=rtpmap:{pt} {codec}\r\na=ssrc:{ssrc} cname:t\r\n")
    mids = "0 1" if video else "0"
    sdp = (f"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {mids}\r\n"
           + m("audio", 0, 111, "opus/48000/2", 1111))
    if video:
        sdp += m("video", 1, 96, "VP8/90000", 2222)
    return sdp


def error_code(reply):
    return reply.get("error", {}).get("code") if "error" in reply else "ok"


def wait_event(ws, name, limit=50):
    for _ in range(limit):
        msg = ws._recv_message()
        if msg.get("event") == name:
            return msg["data"]
    return None


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    check = Checks()

    ws = {u: session(host, port, demo_token(host, port, u)) for u in ("alice", "bob", "carol")}
    r = ws["alice"].call("call.join", {"room": "demo", "sdp": offer()})
    check("alice joins with video", error_code(r) == "ok", r)
    r = ws["bob"].call("call.join", {"room": "demo", "sdp": offer()})
    check("a second video publisher is over the limit", error_code(r) == "limit_exceeded", r)
    r = ws["bob"].call("call.join", {"room": "demo", "sdp": offer(video=False)})
    check("bob joins audio-only", error_code(r) == "ok", r)
    # Bob offered no video codec: the server's offer carries alice's audio only (a video m-line
    # would have no payload type bob could take, and a browser would refuse the whole offer).
    ev = wait_event(ws["bob"], "call.offer")
    mlines = [ln.split() for ln in (ev or {}).get("sdp", "").split("\r\n") if ln.startswith("m=")]
    check("bob's offer has alice's audio and no video",
          len(mlines) == 2 and all(m[0] == "m=audio" and len(m) >= 4 for m in mlines),
          [" ".join(m) for m in mlines])
    r = ws["carol"].call("call.join", {"room": "demo", "sdp": offer(video=False)})
    check("a third participant is over the limit", error_code(r) == "limit_exceeded", r)
    r = ws["alice"].call("call.mute", {"kind": "video", "muted": True})
    check("alice mutes her video", error_code(r) == "ok", r)
    ev = wait_event(ws["bob"], "call.track_muted")
    check("bob is told", ev is not None and ev.get("user") == "alice" and ev.get("kind") == "video"
          and ev.get("muted") is True, ev)
    r = ws["bob"].call("call.mute", {"kind": "video", "muted": True})
    check("muting a track one does not send", error_code(r) == "not_found", r)
    r = ws["alice"].call("call.mute", {"kind": "screen", "muted": True})
    check("call.mute with a bad kind", error_code(r) == "bad_request", r)
    r = ws["alice"].call("call.prefer", {"max_width": -1, "max_height": 10})
    check("call.prefer with a bad size", error_code(r) == "bad_request", r)
    r = ws["alice"].call("call.prefer", {"max_width": 320, "max_height": 180})
    check("call.prefer", error_code(r) == "ok", r)
    r = ws["alice"].call("call.leave", {})
    check("alice leaves", error_code(r) == "ok", r)
    r = ws["carol"].call("call.join", {"room": "demo", "sdp": offer(video=True)})
    check("carol joins with video once a place is free", error_code(r) == "ok", r)
    for w in ws.values():
        w.close()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
