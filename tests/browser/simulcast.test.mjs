// Simulcast through the relay: alice publishes three VP8 layers (rids l, m, h); bob asks for a
// small size and receives the low layer, then asks for a large size and is switched up at a
// keyframe while his decoder keeps going. The pages speak the protocol directly (docs/protocol.md)
// so the test controls sendEncodings.
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

// Runs in the page: a minimal client. Server offers are answered as they come.
async function startClient({ token, room, simulcast }) {
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
  await pc.setLocalDescription(await pc.createOffer());
  const res = await request('call.join', { room, sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  window.__sc = { pc, request };
  return res.sdp.includes('a=simulcast:recv');
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

test('a subscriber gets the simulcast layer that fits the size it asks for', async () => {
  const pages = {};
  for (const user of ['alice', 'bob']) {
    const ctx = await browser.newContext();
    pages[user] = await ctx.newPage();
    watchPage(pages[user], user);
    await pages[user].goto(BASE);
  }
  const accepted = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: true });
  assert.equal(accepted, true, 'the answer accepts three layers (a=simulcast:recv)');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, simulcast: false });
  await pages.bob.evaluate(() => window.__sc.request('call.prefer', { max_width: 320, max_height: 180 }));

  let last = {};
  await waitFor('alice to send three layers', async () => {
    last = await layersSent(pages.alice);
    return Object.keys(last).length === 3;
  }, 30000 * SCALE, () => JSON.stringify(last));
  log(`alice sends layers ${JSON.stringify(last)}`);

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
  }, 60000 * SCALE, () => `${JSON.stringify(seen)}; alice sends ${JSON.stringify(last)}`);
  log(`large preference: ${JSON.stringify(seen)}`);
  const big = seen;
  // The decoder keeps going on the new layer: frames keep being decoded at the new size.
  await waitFor('frames to keep coming after the switch', async () => {
    seen = await videoIn(pages.bob);
    return seen.frames > big.frames + 30 && seen.width >= big.width;
  }, 20000 * SCALE, () => JSON.stringify(seen));
  for (const p of Object.values(pages)) await p.context().close();
});
