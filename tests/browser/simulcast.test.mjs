// Simulcast through the relay: alice publishes three VP8 layers; bob asks for a small size and
// receives the low layer, then asks for a large size and is switched up at a keyframe while his
// decoder keeps going. Once with rids (RFC 8853, sendEncodings l, m, h), once with legacy SSRC
// simulcast (alice's offer munged the way Jitsi does: a=ssrc-group:SIM plus one FID group per
// layer). The pages speak the protocol directly (docs/protocol.md) so the test controls the offer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = 'demo';
let browser;

before(async () => { browser = await launchChromium(); });
after(async () => { if (browser) await browser.close(); });

async function demoToken(user) {
  const res = await fetch(new URL('/api/demo/token', BASE), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

// Runs in the page: a minimal client. Server offers are answered as they come. `munge: 'sim'`
// rewrites the offer before setLocalDescription into legacy SSRC simulcast (mungeSim).
async function startClient({ token, room, simulcast, munge }) {
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

  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 1280, height: 720, frameRate: 30 },
  });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  const sendEncodings = simulcast ? [
    { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
  ] : undefined;
  pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream], sendEncodings });
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
    ridSimulcast: res.sdp.includes('a=simulcast:recv'),
    sim,
    localSim: (pc.localDescription.sdp.match(/a=ssrc-group:SIM ([\d ]+)/) || [])[1] || '',
  };
}

async function videoIn(page) {
  return page.evaluate(async () => {
    const out = { width: 0, frames: 0, keyFrames: 0 };
    (await window.__sc.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded || 0) >= out.frames) {
        out.width = s.frameWidth || 0;
        out.frames = s.framesDecoded || 0;
        out.keyFrames = s.keyFramesDecoded || 0;
      }
    });
    return out;
  });
}

async function layersSent(page) {
  return page.evaluate(async () => {
    const out = {};
    (await window.__sc.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out[s.rid || '-'] = s.frameWidth || 0;
    });
    return out;
  });
}

// Alice's outbound video streams by SSRC (legacy simulcast streams have no rid).
async function ssrcsSent(page) {
  return page.evaluate(async () => {
    const out = {};
    (await window.__sc.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out[s.ssrc] = { width: s.frameWidth || 0, frames: s.framesEncoded || 0, active: s.active };
      }
    });
    return out;
  });
}

async function openPages() {
  const pages = {};
  for (const user of ['alice', 'bob']) {
    const ctx = await browser.newContext();
    pages[user] = await ctx.newPage();
    watchPage(pages[user], user);
    await pages[user].goto(BASE);
  }
  return pages;
}

// Leaves the call explicitly before closing, so the next test's join is not refused as a second
// connection of the same user while the server has yet to see the socket close.
async function closePages(pages) {
  for (const p of Object.values(pages)) {
    await p.evaluate(() => window.__sc && window.__sc.request('call.leave', {}));
    await p.context().close();
  }
}

// Bob asks for 320x180 and must decode at most 320 wide, then asks for 1280x720 and must be
// switched to a larger layer and keep decoding there. `sent` describes alice's layers for failures.
async function checkSwitchUp(pages, sent) {
  await pages.bob.evaluate(() => window.__sc.request('call.prefer', { max_width: 320, max_height: 180 }));
  let seen = {};
  await waitFor('bob to decode the low layer', async () => {
    seen = await videoIn(pages.bob);
    return seen.frames > 30 && seen.width > 0 && seen.width <= 320;
  }, 40000 * SCALE, () => JSON.stringify(seen));
  log(`small preference: ${JSON.stringify(seen)}`);
  const small = seen;

  await pages.bob.evaluate(() => window.__sc.request('call.prefer', { max_width: 1280, max_height: 720 }));
  await waitFor('bob to be switched to a larger layer', async () => {
    seen = await videoIn(pages.bob);
    return seen.width > small.width && seen.frames > small.frames + 30;
  }, 60000 * SCALE, () => `${JSON.stringify(seen)}; alice sends ${JSON.stringify(sent())}`);
  log(`large preference: ${JSON.stringify(seen)}`);
  const big = seen;
  // The decoder keeps going on the new layer: frames keep being decoded at the new size.
  await waitFor('frames to keep coming after the switch', async () => {
    seen = await videoIn(pages.bob);
    return seen.frames > big.frames + 30 && seen.width >= big.width;
  }, 20000 * SCALE, () => JSON.stringify(seen));
}

test('a subscriber gets the simulcast layer that fits the size it asks for', async () => {
  const pages = await openPages();
  const alice = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: true });
  assert.equal(alice.ridSimulcast, true, 'the answer accepts three layers (a=simulcast:recv)');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, simulcast: false });

  let last = {};
  await waitFor('alice to send three layers', async () => {
    last = await layersSent(pages.alice);
    return Object.keys(last).length === 3;
  }, 30000 * SCALE, () => JSON.stringify(last));
  log(`alice sends layers ${JSON.stringify(last)}`);
  await checkSwitchUp(pages, () => last);
  await closePages(pages);
});

test('legacy SSRC simulcast (a=ssrc-group:SIM) is forwarded the same way', async () => {
  const pages = await openPages();
  const alice = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: false, munge: 'sim' });
  log(`alice's SIM group ${alice.sim.join(' ')}`);
  assert.equal(alice.sim.length, 3);
  assert.equal(alice.localSim, alice.sim.join(' '), 'Chromium took the munged offer as it is');
  assert.equal(alice.ridSimulcast, false, 'the answer is plain recvonly, no a=simulcast');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, simulcast: false });

  let last = {};
  // Three streams on the SIM SSRCs, sizes growing in group order (the relay's layer order).
  await waitFor('alice to send three streams on the SIM SSRCs, lowest first', async () => {
    last = await ssrcsSent(pages.alice);
    const w = alice.sim.map((ssrc) => (last[ssrc] && last[ssrc].frames > 0 ? last[ssrc].width : 0));
    return w[0] > 0 && w[0] < w[1] && w[1] < w[2];
  }, 30000 * SCALE, () => JSON.stringify(last));
  log(`alice sends ${JSON.stringify(last)}`);
  assert.equal(Object.keys(last).length, 3, 'three outbound video streams, no others');
  await checkSwitchUp(pages, () => last);
  // Still the SIM layers after the renegotiation bob's arrival caused (alice answered an offer).
  const local = await pages.alice.evaluate(() => window.__sc.pc.localDescription.sdp);
  assert.ok(local.includes(`a=ssrc-group:SIM ${alice.sim.join(' ')}`), 'the SIM group survives renegotiation');
  await closePages(pages);
});
