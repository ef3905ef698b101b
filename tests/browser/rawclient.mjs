// A minimal client that speaks docs/protocol.md directly (not web/switchboard.js), for tests
// that need control over the offer: simulcast sendEncodings, receive-only m-lines. Every function
// here runs inside the page through page.evaluate, so each is self-contained.

/**
 * Joins `room` with `token`. `publish`: 'camera' (audio + video from the fake devices) or 'none'
 * (receive-only audio and video m-lines); `simulcast`: send the camera as three rid layers
 * (l, m, h); `munge: 'sim'`: rewrite the offer before setLocalDescription into legacy SSRC
 * simulcast (a=ssrc-group:SIM, the way Jitsi does). Server offers are answered as they come.
 * Sets window.__sc = { pc, request } and returns { sdp (the answer), ridSimulcast (the answer
 * accepts rid layers), sim (the munged SIM SSRCs in order), localSim (the SIM group of the
 * local description) }.
 */
export async function startClient({ token, room, publish = 'camera', simulcast = false, munge = '' }) {
  // Two more SSRCs, each with an RTX SSRC, on the sendonly video m-line: a=ssrc lines copied from
  // Chromium's own, one a=ssrc-group:FID per layer and a=ssrc-group:SIM with Chromium's SSRC
  // first (the lowest layer). Returns the munged SDP and the SIM SSRCs in order.
  function mungeSim(sdp) {
    const sections = sdp.split('\r\nm=');
    const i = sections.findIndex((m) => m.startsWith('video') && m.includes('\r\na=sendonly'));
    if (i < 0) throw new Error('no sendonly video m-line to munge');
    const fid = sections[i].match(/\r\na=ssrc-group:FID (\d+) (\d+)/);
    if (!fid) throw new Error('the video m-line has no FID group to copy');
    const [, media, rtx] = fid;
    const used = new Set([media, rtx]);
    const fresh = () => {
      for (;;) {
        const v = String(crypto.getRandomValues(new Uint32Array(1))[0]);
        if (v !== '0' && !used.has(v)) { used.add(v); return v; }
      }
    };
    const lines = sections[i].split('\r\n');
    const trailing = lines[lines.length - 1] === '' ? lines.pop() : null;
    const linesOf = (ssrc) => lines.filter((l) => l.startsWith(`a=ssrc:${ssrc} `));
    const sim = [media];
    const added = [];
    for (let l = 1; l < 3; l++) {
      const [m, r] = [fresh(), fresh()];
      sim.push(m);
      for (const line of linesOf(media)) added.push(line.replace(`a=ssrc:${media} `, `a=ssrc:${m} `));
      for (const line of linesOf(rtx)) added.push(line.replace(`a=ssrc:${rtx} `, `a=ssrc:${r} `));
      added.push(`a=ssrc-group:FID ${m} ${r}`);
    }
    added.push(`a=ssrc-group:SIM ${sim.join(' ')}`);
    lines.push(...added);
    if (trailing !== null) lines.push(trailing);
    sections[i] = lines.join('\r\n');
    return { sdp: sections.join('\r\nm='), sim };
  }

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
  let offer = (await pc.createOffer()).sdp;
  let sim = [];
  if (munge === 'sim') ({ sdp: offer, sim } = mungeSim(offer));
  await pc.setLocalDescription({ type: 'offer', sdp: offer });
  const res = await request('call.join', { room, sdp: offer });
  await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  if (munge === 'sim') {
    // Chromium 156 takes the SIM group as three encodings but leaves their sizes alone: the first
    // keeps scaleResolutionDownBy 1 from the single-encoding transceiver, the others have none,
    // and all three are encoded at 1280x720 (getStats outbound-rtp frameWidth). Jitsi sets the
    // scales with setParameters; so does this page.
    const sender = pc.getTransceivers().find((t) => t.sender.track && t.sender.track.kind === 'video').sender;
    const params = sender.getParameters();
    if (params.encodings.length !== 3) throw new Error(`${params.encodings.length} encodings for the SIM group`);
    params.encodings.forEach((e, i) => { e.scaleResolutionDownBy = [4, 2, 1][i]; });
    await sender.setParameters(params);
  }
  window.__sc = { pc, request };
  return {
    sdp: res.sdp,
    ridSimulcast: res.sdp.includes('a=simulcast:recv'),
    sim,
    localSim: (pc.localDescription.sdp.match(/a=ssrc-group:SIM ([\d ]+)/) || [])[1] || '',
  };
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

/** Alice's outbound video streams by SSRC (legacy simulcast streams have no rid). */
export async function ssrcsSent() {
  const out = {};
  (await window.__sc.pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out[s.ssrc] = { width: s.frameWidth || 0, frames: s.framesEncoded || 0, active: s.active };
    }
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
  // The transport's selected pair (what carries the media), not a pair's nominated flag: with
  // an ICE-lite peer Chromium may use a pair before its stats say it was nominated.
  const stats = await window.__sc.pc.getStats();
  let port = 0;
  stats.forEach((s) => {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
    const pair = stats.get(s.selectedCandidatePairId);
    const local = pair && stats.get(pair.localCandidateId);
    if (local) port = local.port;
  });
  return port;
}
