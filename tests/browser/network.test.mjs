// Network trouble during a call, with the client library (web/switchboard.js) in two Chromium
// pages. Run by test_network.sh inside a network namespace with the server at SB_URL.
// 1. A 5 s blackout: nftables in the namespace drops the media (UDP) and the WebSocket (TCP to
//    the server's port) both ways; when it is lifted, video flows again both ways without a new
//    join (the time from the lift to frames moving again is printed as a METRIC).
// 2. The WebSockets break (ss -K: reset, no close frame): both clients reconnect and resume their
//    sessions (event `resumed`, server counter `resumed`); nobody sees anyone leave, media never
//    stops, and the resumed session works (a mute reaches the other side).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { demoToken, SCALE, launchChromium, log, openPages, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const PORT = new URL(BASE).port || '80';
const ROOM = 'demo';
const BLACKOUT_MS = 5000;
let browser;
let blocked = false;

function nft(script) {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'inherit', 'inherit'] });
}

function blackout() {
  // Output hook on every packet in the namespace (all of it is on lo): UDP (media) and the
  // WebSocket's TCP port. Playwright talks to Chromium over a pipe, not affected.
  nft(`table inet sbblackout {
  chain out {
    type filter hook output priority 0; policy accept;
    meta l4proto udp drop
    tcp dport ${PORT} drop
    tcp sport ${PORT} drop
  }
}`);
  blocked = true;
}

function lift() {
  if (blocked) nft('delete table inet sbblackout');
  blocked = false;
}

before(async () => { browser = await launchChromium(); });
after(async () => {
  lift();
  if (browser) await browser.close();
});

// Runs in the page: connects with the library, joins `room` with the fake camera and microphone,
// and records the client's events in window.__ev.
async function joinWithLibrary({ token, room }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const client = new SwitchboardClient();
  window.__client = client;
  window.__ev = [];
  for (const name of ['reconnecting', 'resumed', 'rejoined', 'ended', 'participantleft',
    'trackmuted', 'disconnected']) {
    client.addEventListener(name, (e) => window.__ev.push({ name, detail: e.detail, at: Date.now() }));
  }
  await client.connect(SwitchboardClient.defaultUrl(), token);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  await client.join(room, stream);
}

// Runs in the page: frames decoded and audio packets received so far, and the events seen.
async function mediaIn() {
  const pc = window.__client?.pc;
  const out = { video: 0, audio: 0, events: (window.__ev || []).map((e) => e.name) };
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.video += s.framesDecoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio += s.packetsReceived || 0;
  });
  return out;
}

async function health() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200);
  return (await res.json()).signaling;
}

test('a 5 s blackout and broken WebSockets during a call: media comes back, sessions resume',
  async () => {
    const pages = await openPages(browser, ['alice', 'bob'], BASE);
    for (const u of ['alice', 'bob']) {
      await pages[u].evaluate(joinWithLibrary, { token: await demoToken(u), room: ROOM });
    }
    const seen = {};
    const flowing = async (min) => {
      for (const u of ['alice', 'bob']) seen[u] = await pages[u].evaluate(mediaIn);
      return seen.alice.video > min.alice && seen.bob.video > min.bob;
    };
    await waitFor('video both ways', () => flowing({ alice: 30, bob: 30 }), 30000 * SCALE,
      () => JSON.stringify(seen));

    // 1. Blackout.
    blackout();
    await new Promise((r) => setTimeout(r, BLACKOUT_MS)); // the fault's length, not a wait for state
    const during = { alice: (await pages.alice.evaluate(mediaIn)).video,
                     bob: (await pages.bob.evaluate(mediaIn)).video };
    lift();
    const lifted = Date.now();
    await waitFor('video both ways after the blackout', () => flowing({
      alice: during.alice + 10, bob: during.bob + 10 }), 30000 * SCALE, () => JSON.stringify(seen));
    log(`METRIC blackout_media_back_ms ${Date.now() - lifted}`);
    for (const u of ['alice', 'bob']) {
      assert.ok(!seen[u].events.includes('ended') && !seen[u].events.includes('rejoined'),
        `${u} stayed in the call (events ${seen[u].events})`);
    }

    // 2. Broken WebSockets: reset both (client side: dport), no close frame.
    const before2 = await health();
    const media0 = { alice: seen.alice.video, bob: seen.bob.video };
    const broken = Date.now();
    execFileSync('ss', ['-K', 'state', 'established', '(', 'dport', '=', `:${PORT}`, ')'],
      { stdio: 'ignore' });
    await waitFor('both clients to resume their sessions', async () => {
      for (const u of ['alice', 'bob']) seen[u] = await pages[u].evaluate(mediaIn);
      return seen.alice.events.includes('resumed') && seen.bob.events.includes('resumed');
    }, 20000 * SCALE, () => JSON.stringify(seen));
    log(`METRIC ws_broken_to_resumed_ms ${Date.now() - broken}`);
    const h = await health();
    assert.equal(h.resumed - before2.resumed, 2, `two sessions resumed (${JSON.stringify(h)})`);
    assert.equal(h.detached, 0, 'nothing left detached');
    for (const u of ['alice', 'bob']) {
      assert.ok(!seen[u].events.includes('participantleft') && !seen[u].events.includes('ended'),
        `${u} saw nobody leave (events ${seen[u].events})`);
    }
    await waitFor('video to keep flowing both ways', () => flowing({
      alice: media0.alice + 30, bob: media0.bob + 30 }), 30000 * SCALE, () => JSON.stringify(seen));
    // The resumed session works: alice mutes her video, bob is told.
    await pages.alice.evaluate(() => window.__client.request('call.mute',
      { kind: 'video', muted: true }));
    await waitFor('bob to hear of alice\'s mute', async () => {
      seen.bob = await pages.bob.evaluate(mediaIn);
      return seen.bob.events.includes('trackmuted');
    }, 10000 * SCALE, () => JSON.stringify(seen.bob));
    for (const p of Object.values(pages)) await p.context().close();
  });
