#!/usr/bin/python3
"""A Switchboard participant built on aiortc (Debian's python3-aiortc), in its default
configuration: it joins ROOM as USER of the demo, publishes a synthetic VP8 camera and Opus
microphone, answers every server offer, and decodes what it receives.

Usage: aiortc_peer.py HOST PORT USER ROOM
Writes one JSON object per line on stdout: {"joined": ...} once, then every second
{"video_frames": {mid: n}, "audio_frames": {mid: n}, "senders": {mid: [user, direction]},
"answers": n, "ice": state, ...} (frames decoded per m-line of the server's description and
whose track each m-line carries now), and {"ended": reason} if the server ends the call. Reads nothing; stops on SIGTERM or when the
server ends the call. Must run with Debian's /usr/bin/python3 (where python3-aiortc lives).
"""

import asyncio
import fractions
import json
import os
import signal
import sys
import threading
import time

import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from av import AudioFrame, VideoFrame

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from durability import WebSocket, demo_token  # noqa: E402


class Camera(VideoStreamTrack):
    """320x240 frames at 30/s whose colour changes, so the VP8 encoder has something to send."""

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = numpy.zeros((240, 320, 3), numpy.uint8)
        img[:, :, (pts // 3000) % 3] = 200
        img[(pts // 300) % 240, :, :] = 255
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Microphone(AudioStreamTrack):
    """A 440 Hz tone (Opus sends little for silence)."""

    rate = 48000
    samples = 960

    def __init__(self):
        super().__init__()
        self._n = 0

    async def recv(self):
        frame = await super().recv()  # paces at 20 ms and gives pts
        t = (numpy.arange(self.samples) + self._n) / self.rate
        self._n += self.samples
        tone = (numpy.sin(2 * numpy.pi * 440 * t) * 8000).astype(numpy.int16)
        out = AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate, out.pts = self.rate, frame.pts
        out.time_base = fractions.Fraction(1, self.rate)
        return out


def emit(obj):
    print(json.dumps(obj), flush=True)


class Peer:
    def __init__(self, host, port, user, room):
        self.host, self.port, self.user, self.room = host, port, user, room
        self.loop = asyncio.get_running_loop()
        self.inbox = asyncio.Queue()
        self.replies = {}
        self.video = {}
        self.audio = {}
        self.answers = 0
        self.ended = None
        self.pc = RTCPeerConnection()

    # The WebSocket is the blocking one of the integration tests, read in a thread.
    def _reader(self):
        try:
            while True:
                msg = self.ws._recv_message()
                self.loop.call_soon_threadsafe(self.inbox.put_nowait, msg)
        except Exception as e:  # closed: tell the loop
            self.loop.call_soon_threadsafe(self.inbox.put_nowait, {"closed": repr(e)})

    async def request(self, method, params):
        rid = self.ws.send(method, params)
        while rid not in self.replies:
            await self.dispatch(await self.inbox.get())
        return self.replies.pop(rid)

    async def dispatch(self, msg):
        if "closed" in msg:
            self.ended = self.ended or "socket closed: " + msg["closed"]
        elif "id" in msg:
            self.replies[msg["id"]] = msg
        elif msg.get("event") == "call.offer":
            await self.on_offer(msg["data"])
        elif msg.get("event") == "call.ended":
            self.ended = msg["data"].get("reason", "?")
            emit({"ended": self.ended})

    async def on_offer(self, data):
        await self.pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        r = await self.request("call.answer", {"revision": data["revision"],
                                               "sdp": self.pc.localDescription.sdp})
        if "error" in r:
            emit({"error": "call.answer", "reply": r})
        else:
            self.answers += 1

    def senders(self):
        """mid -> [user, direction] of each m-line in the server's current offer (a=msid)."""
        out = {}
        sdp = self.pc.remoteDescription.sdp if self.pc.remoteDescription else ""
        for section in sdp.split("\r\nm=")[1:]:
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

    def on_track(self, track):
        counts = self.video if track.kind == "video" else self.audio
        key = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), track.id)
        counts[key] = 0

        async def consume():
            while True:
                try:
                    await track.recv()  # decoded by aiortc (libvpx, libopus)
                except Exception:
                    return
                counts[key] += 1
        asyncio.ensure_future(consume())

    async def run(self):
        token = await self.loop.run_in_executor(None, demo_token, self.host, self.port, self.user)
        self.ws = await self.loop.run_in_executor(None, WebSocket, self.host, self.port)
        self.ws.sock.settimeout(None)
        threading.Thread(target=self._reader, daemon=True).start()
        r = await self.request("auth", {"token": token})
        if "result" not in r:
            emit({"error": "auth", "reply": r})
            return 1
        self.pc.on("track", self.on_track)
        self.pc.addTrack(Microphone())
        self.pc.addTrack(Camera())
        await self.pc.setLocalDescription(await self.pc.createOffer())  # gathers (aiortc)
        r = await self.request("call.join", {"room": self.room, "sdp": self.pc.localDescription.sdp})
        if "result" not in r:
            emit({"error": "call.join", "reply": r, "offer": self.pc.localDescription.sdp})
            return 1
        await self.pc.setRemoteDescription(RTCSessionDescription(r["result"]["sdp"], "answer"))
        emit({"joined": self.room, "call": r["result"]["call"]})
        next_report = time.monotonic()
        while not self.ended:
            try:
                msg = await asyncio.wait_for(self.inbox.get(), 0.2)
                await self.dispatch(msg)
            except asyncio.TimeoutError:
                pass
            if time.monotonic() >= next_report:
                next_report += 1
                emit({"video_frames": self.video, "audio_frames": self.audio,
                      "senders": self.senders(), "answers": self.answers, "ice": self.pc.iceConnectionState,
                      "connection": self.pc.connectionState})
        await self.pc.close()
        return 0


async def main():
    host, port, user, room = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    peer = Peer(host, port, user, room)
    task = asyncio.ensure_future(peer.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        await peer.pc.close()
        return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
