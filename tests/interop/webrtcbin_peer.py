#!/usr/bin/python3
"""A Switchboard participant built on GStreamer webrtcbin 1.22 (Debian's gstreamer1.0-plugins-bad
and gstreamer1.0-nice, scripted with python3-gi), with webrtcbin's defaults except the bundle
policy given on the command line: it joins ROOM as USER of the demo, publishes a VP8 test pattern
(first m-line) and an Opus tone (second), answers every server offer and decodes what it receives.
libnice keeps the pair alive with STUN Binding indications and sends no consent requests.

Usage: webrtcbin_peer.py HOST PORT USER ROOM BUNDLE_POLICY   (none, balanced, max-bundle, ...)
Writes one JSON object per line on stdout: {"offer": sdp} (its first offer), {"joined": ...} or
{"error": ...}, then every second {"video_frames": {mid: n}, "audio_frames": {mid: n},
"senders": {mid: [user, direction]}, "answers": n, "ice": state}, and {"ended": reason} if the
server ends the call. Stops on SIGTERM or when the call ends.
"""

import json
import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# Decoded buffers are counted in pad probes on GStreamer's streaming threads; the counts are
# shared with the main loop under a lock, and nothing else in Python runs on those threads.

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from durability import WebSocket, demo_token  # noqa: E402

SOURCES = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! "
    "videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ! "
    "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! webrtc. "
    "audiotestsrc is-live=true wave=sine volume=0.3 ! audioconvert ! audioresample ! queue ! "
    "opusenc ! rtpopuspay pt=97 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=97 ! "
    "webrtc. "
)


def emit(obj):
    print(json.dumps(obj), flush=True)


class Peer:
    def __init__(self, host, port, user, room, policy):
        self.host, self.port, self.user, self.room = host, port, user, room
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(f"webrtcbin name=webrtc bundle-policy={policy} " + SOURCES)
        self.webrtc = self.pipe.get_by_name("webrtc")
        self.counts = {"video": {}, "audio": {}}
        self.lock = threading.Lock()
        self.answers = 0
        self.remote_sdp = ""
        self.ended = None
        self.pending = {}  # request id -> callback(reply)

    # ---- signaling: the blocking WebSocket of the integration tests, read in a thread ----

    def reader(self):
        try:
            while True:
                msg = self.ws._recv_message()
                GLib.idle_add(self.dispatch, msg)
        except Exception as e:
            GLib.idle_add(self.dispatch, {"closed": repr(e)})

    def request(self, method, params, done):
        self.pending[self.ws.send(method, params)] = done

    def dispatch(self, msg):
        if "closed" in msg:
            self.finish(self.ended or "socket closed")
        elif "id" in msg and msg["id"] in self.pending:
            self.pending.pop(msg["id"])(msg)
        elif msg.get("event") == "call.offer":
            self.on_server_offer(msg["data"])
        elif msg.get("event") == "call.ended":
            emit({"ended": msg["data"].get("reason")})
            self.finish(msg["data"].get("reason"))
        return False

    def finish(self, why):
        self.ended = why
        self.loop.quit()

    # ---- negotiation ----

    def start(self):
        token = demo_token(self.host, self.port, self.user)
        self.ws = WebSocket(self.host, self.port)
        self.ws.sock.settimeout(None)
        threading.Thread(target=self.reader, daemon=True).start()
        self.request("auth", {"token": token}, self.on_auth)

    def on_auth(self, reply):
        if "result" not in reply:
            emit({"error": "auth", "reply": reply})
            return self.finish("auth refused")
        self.webrtc.connect("pad-added", self.on_pad)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.pipe.set_state(Gst.State.PLAYING)

    def on_negotiation_needed(self, _):
        if getattr(self, "offered", False):
            return  # the client offers once; then only the server does (docs/protocol.md)
        self.offered = True
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        self.webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _):
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply else None
        if offer is None:
            emit({"error": "create-offer", "reply": reply.to_string() if reply else None})
            GLib.idle_add(self.finish, "no offer")
            return
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())

    def on_gathering(self, *_):
        # The server is ICE-lite and learns the address from checks: send the offer whole.
        if self.webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.join)

    def join(self):
        if getattr(self, "joining", False):
            return False
        self.joining = True
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        emit({"offer": sdp})
        self.request("call.join", {"room": self.room, "sdp": sdp}, self.on_join)
        return False

    def on_join(self, reply):
        if "result" not in reply:
            emit({"error": "call.join", "reply": reply})
            return self.finish("join refused")
        self.set_remote(reply["result"]["sdp"], GstWebRTC.WebRTCSDPType.ANSWER, None)
        emit({"joined": self.room, "call": reply["result"]["call"]})
        GLib.timeout_add(1000, self.report)

    def set_remote(self, text, kind, then):
        _, msg = GstSdp.SDPMessage.new_from_text(text)
        desc = GstWebRTC.WebRTCSessionDescription.new(kind, msg)
        self.remote_sdp = text
        promise = Gst.Promise.new_with_change_func(lambda p, _: GLib.idle_add(then) if then else None, None)
        self.webrtc.emit("set-remote-description", desc, promise)

    def on_server_offer(self, data):
        def answer():
            promise = Gst.Promise.new_with_change_func(self.on_answer_created, data["revision"])
            self.webrtc.emit("create-answer", None, promise)
            return False
        self.set_remote(data["sdp"], GstWebRTC.WebRTCSDPType.OFFER, answer)

    def on_answer_created(self, promise, revision):
        reply = promise.get_reply()
        answer = reply.get_value("answer") if reply else None
        if answer is None:
            emit({"error": "create-answer", "revision": revision,
                  "reply": reply.to_string() if reply else None})
            return
        self.webrtc.emit("set-local-description", answer, Gst.Promise.new())
        sdp = answer.sdp.as_text()
        GLib.idle_add(lambda: self.request("call.answer", {"revision": revision, "sdp": sdp},
                                           self.on_answered) and False)

    def on_answered(self, reply):
        if "error" in reply:
            emit({"error": "call.answer", "reply": reply})
        else:
            self.answers += 1

    # ---- receiving: decode and count buffers per m-line ----

    def on_pad(self, _, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        mid = pad.get_property("transceiver").get_property("mid")
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", lambda _, p: self.on_decoded_pad(p, mid))
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded_pad(self, pad, mid):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = "video" if caps.to_string().startswith("video") else "audio"
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        self.pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        with self.lock:
            self.counts[kind].setdefault(mid, 0)
        pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, self.count, (kind, mid))

    def count(self, pad, info, key):
        n = 1
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            n = info.get_buffer_list().length()
        with self.lock:
            self.counts[key[0]][key[1]] = self.counts[key[0]].get(key[1], 0) + n
        return Gst.PadProbeReturn.OK

    def senders(self):
        out = {}
        for section in self.remote_sdp.split("\r\nm=")[1:]:
            mid, user, direction = None, None, None
            for line in section.split("\r\n"):
                if line.startswith("a=mid:"):
                    mid = line[6:]
                elif line.startswith("a=msid:"):
                    user = line[7:].split(" ")[0]
                elif line[2:] in ("sendrecv", "sendonly", "recvonly", "inactive"):
                    direction = line[2:]
            if mid is not None:
                out[mid] = [user, direction]
        return out

    def report(self):
        with self.lock:
            counts = json.loads(json.dumps(self.counts))
        emit({"video_frames": counts["video"], "audio_frames": counts["audio"],
              "senders": self.senders(), "answers": self.answers,
              "ice": self.webrtc.get_property("ice-connection-state").value_nick})
        return not self.ended

    def run(self):
        GLib.idle_add(lambda: self.start() and False)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: self.finish("SIGTERM"))
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)
        return 0  # what happened is in the reports; the test judges it


if __name__ == "__main__":
    Gst.init(None)
    host, port, user, room, policy = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    sys.exit(Peer(host, port, user, room, policy).run())
