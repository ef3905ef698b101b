// A minimal client that speaks docs/protocol.md directly (not web/switchboard.js), for tests
// that need control over the offer: simulcast sendEncodings, receive-only m-lines. Every function
// here runs inside the page through page.evaluate, so each is self-contained.

/**
 * Joins `room` with `token`. `publish`: 'camera' (audio + video from the fake devices) or 'none'
 * (receive-only audio and video m-lines); `simulcast`: send the camera as three rid layers
 * (l, m, h). Server offers are answered as they come. Sets window.__sc = { pc, request } and
 * returns the answer SDP.
 */
export async function startClient({ token, room, publish = 'camera', simulcast = false }) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  if (publish === 'camera') {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 1280, height: 720, frameRate: 30 },
    });
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    const sendEncodings = simulcast ? [
      { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
      { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
      { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
    ] : undefined;
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream], sendEncodings });
  } else {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
  }
  const url = new URL('/ws', location.href);
  url.protocol = 'ws:';
  const ws = new WebSocket(url.href, 'switchboard.v1');
  const pending = new Map();
  let nextId = 1;
  let chain = Promise.resolve();
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id !== undefined && pending.has(m.id)) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p.reject(new Error(`${m.error.code}: ${m.error.message}`)); else p.resolve(m.result);
    } else if (m.event === 'call.offer') {
      chain = chain.then(async () => {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.data.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await request('call.answer', { revision: m.data.revision, sdp: pc.localDescription.sdp });
      });
    }
  };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  await request('auth', { token });
  await pc.setLocalDescription(await pc.createOffer());
  const res = await request('call.join', { room, sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  window.__sc = { pc, request };
  return res.sdp;
}

/** The inbound video stream that decoded most: { width, frames, keyFrames, lost, packets }. */
export async function videoIn() {
  const out = { width: 0, frames: 0, keyFrames: 0, lost: 0, packets: 0 };
  (await window.__sc.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded || 0) >= out.frames) {
      out.width = s.frameWidth || 0;
      out.frames = s.framesDecoded || 0;
      out.keyFrames = s.keyFramesDecoded || 0;
      out.lost = s.packetsLost || 0;
      out.packets = s.packetsReceived || 0;
    }
  });
  return out;
}

/** Packets received so far on the inbound audio and video streams: { audio, video }. */
export async function packetsIn() {
  const out = { audio: 0, video: 0 };
  (await window.__sc.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) out[s.kind] += s.packetsReceived || 0;
  });
  return out;
}

/** Frame width of each simulcast layer sent, by rid. */
export async function layersSent() {
  const out = {};
  (await window.__sc.pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out[s.rid || '-'] = s.frameWidth || 0;
  });
  return out;
}

/** The local UDP port of the selected ICE candidate pair, or 0 before one is selected. */
export async function localMediaPort() {
  const stats = await window.__sc.pc.getStats();
  let port = 0;
  stats.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      const local = stats.get(s.localCandidateId);
      if (local) port = local.port;
    }
  });
  return port;
}
