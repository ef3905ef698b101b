// ICE restart with the client library (web/switchboard.js) in two Chromium pages through the
// relay. Run by test_icerestart.sh inside a network namespace with the server at SB_URL.
// (a) alice calls client.restartIce(): the server's next offer has a new ice-ufrag, the relay
//     switches credentials (ice_restarts_done) without a second DTLS handshake, media keeps
//     flowing both ways and bob hears nothing of it (no offer, nobody leaves).
// (b) A network change: nftables drops alice's selected UDP 5-tuple both ways, so the pair dies;
//     the library sees ICE 'disconnected' (or 'failed') and restarts by itself; Chromium gathers
//     new ports and media comes back on a new pair (time printed as METRIC lines).
// (c) The same with the WebSockets broken too (ss -K) and new connections to the server refused
//     until alice's ICE has been down for longer than iceRestartDelayMs: the library resumes the
//     session first, then restarts ICE (ICE is still down), and media comes back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { demoToken, SCALE, launchChromium, log, openPages, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const PORT = new URL(BASE).port || '80';
const ROOM = 'demo';
let browser;
let blocked = false;

function nft(script) {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'inherit', 'inherit'] });
}

// Drops UDP from and to `port` (a page's local candidate port): its pair with the relay dies.
// With `signaling`, TCP to the server's port too (the WebSockets cannot reconnect).
function blockPort(port, signaling = false) {
  unblock();
  nft(`table inet sbicerestart {
  chain out {
    type filter hook output priority 0; policy accept;
    udp sport ${port} drop
    udp dport ${port} drop
    ${signaling ? `tcp dport ${PORT} drop` : ''}
  }
}`);
  blocked = true;
}

function unblock() {
  if (blocked) nft('delete table inet sbicerestart');
  blocked = false;
}

before(async () => { browser = await launchChromium(); });
after(async () => {
  unblock();
  if (browser) await browser.close();
});

// Runs in the page: joins with the library and records events (with the offers' ice-ufrag).
async function joinWithLibrary({ token, room }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const client = new SwitchboardClient();
  window.__client = client;
  window.__ev = [];
  for (const name of ['icerestart', 'ended', 'participantleft', 'reconnecting', 'resumed',
    'error']) {
    client.addEventListener(name, (e) => window.__ev.push({ name, detail: String(e.detail?.reason
      ?? e.detail?.error ?? ''), at: Date.now() }));
  }
  client.addEventListener('event', (e) => {
    const { event, data } = e.detail;
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(data.sdp || '')?.[1];
    window.__ev.push({ name: event, detail: ufrag || '', at: Date.now() });
  });
  await client.connect(SwitchboardClient.defaultUrl(), token);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  await client.join(room, stream);
}

// Runs in the page: media received so far, the selected pair's local port, ICE state, events.
async function mediaIn() {
  const pc = window.__client?.pc;
  const out = { video: 0, audio: 0, port: 0, ice: pc?.iceConnectionState,
                events: (window.__ev || []).map((e) => `${e.name}:${e.detail}`) };
  if (!pc) return out;
  const stats = await pc.getStats();
  let pairId = null;
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.video += s.framesDecoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio += s.packetsReceived || 0;
    if (s.type === 'transport') pairId = s.selectedCandidatePairId;
  });
  const pair = pairId && stats.get(pairId);
  const local = pair && stats.get(pair.localCandidateId);
  out.port = local?.port || 0;
  return out;
}

async function workers() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200);
  const sum = {};
  for (const w of (await res.json()).workers) {
    for (const k of ['dtls_handshakes', 'ice_restarts', 'ice_restarts_done']) sum[k] = (sum[k] || 0) + w[k];
  }
  return sum;
}

async function metric(name) {
  const text = await (await fetch(new URL('/metrics', BASE))).text();
  let v = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))) v += Number(m[1]);
  return v;
}

const count = (events, name) => events.filter((e) => e.startsWith(`${name}:`)).length;

test('ICE restart: asked by the page, then on its own after a network change', async () => {
  const pages = await openPages(browser, ['alice', 'bob'], BASE);
  for (const u of ['alice', 'bob']) {
    await pages[u].evaluate(joinWithLibrary, { token: await demoToken(u), room: ROOM });
  }
  const seen = {};
  const flowing = async (min) => {
    for (const u of ['alice', 'bob']) seen[u] = await pages[u].evaluate(mediaIn);
    return seen.alice.video > min.alice.video && seen.bob.video > min.bob.video
      && seen.alice.audio > min.alice.audio && seen.bob.audio > min.bob.audio;
  };
  const zero = { video: 30, audio: 30 };
  await waitFor('media both ways', () => flowing({ alice: zero, bob: zero }), 30000 * SCALE,
    () => JSON.stringify(seen));
  // Both joined: every offer before this point is answered once ICE is connected both ways.
  await waitFor('two DTLS handshakes', async () => (await workers()).dtls_handshakes === 2,
    10000 * SCALE, () => JSON.stringify(seen));
  const h0 = await workers();
  assert.equal(h0.ice_restarts, 0);

  // (a) The page asks for it.
  const ufrag0 = seen.alice.events.filter((e) => e.startsWith('call.offer:')).pop()?.split(':')[1];
  const bobEvents0 = seen.bob.events.length;
  await pages.alice.evaluate(() => window.__client.restartIce());
  seen.alice = await pages.alice.evaluate(mediaIn);
  const offers = seen.alice.events.filter((e) => e.startsWith('call.offer:'));
  const ufrag1 = offers.pop().split(':')[1];
  assert.ok(ufrag1 && ufrag1 !== ufrag0, `a new ice-ufrag in the offer (${ufrag0} -> ${ufrag1})`);
  assert.ok(seen.alice.events.includes('icerestart:api'), `icerestart event (${seen.alice.events})`);
  await waitFor('the relay to switch to the new credentials',
    async () => (await workers()).ice_restarts_done === 1, 15000 * SCALE,
    () => JSON.stringify(seen.alice));
  const media1 = { alice: { ...seen.alice }, bob: await pages.bob.evaluate(mediaIn) };
  await waitFor('media both ways after the restart', () => flowing({
    alice: { video: media1.alice.video + 30, audio: media1.alice.audio + 30 },
    bob: { video: media1.bob.video + 30, audio: media1.bob.audio + 30 } }), 20000 * SCALE,
  () => JSON.stringify(seen));
  const h1 = await workers();
  assert.equal(h1.ice_restarts, 1, JSON.stringify(h1));
  assert.equal(h1.dtls_handshakes, 2, `no second DTLS handshake (${JSON.stringify(h1)})`);
  assert.equal(await metric('switchboard_worker_ice_restarts_total'), 1);
  assert.equal(count(seen.alice.events, 'call.connected'), 1, `one call.connected (${seen.alice.events})`);
  const bobAfter = seen.bob.events.slice(bobEvents0);
  assert.deepEqual(bobAfter.filter((e) => /^(call\.offer|call\.participant_left|participantleft|call\.connected)/.test(e)), [],
    `bob noticed nothing (${bobAfter})`);

  // (b) A network change: alice's selected pair dies.
  const port = seen.alice.port;
  assert.ok(port > 0, 'alice has a selected pair');
  const before2 = { alice: { ...seen.alice }, bob: { ...seen.bob } };
  blockPort(port);
  const changed = Date.now();
  await waitFor('alice\'s client to restart ICE by itself', async () => {
    seen.alice = await pages.alice.evaluate(mediaIn);
    return count(seen.alice.events, 'icerestart') === 2;
  }, 20000 * SCALE, () => JSON.stringify(seen.alice));
  const restarted = Date.now();
  const why = seen.alice.events.filter((e) => e.startsWith('icerestart:')).pop();
  const sample = { alice: { ...seen.alice }, bob: await pages.bob.evaluate(mediaIn) };
  await waitFor('media both ways on a new pair', () => flowing({
    alice: { video: sample.alice.video + 10, audio: sample.alice.audio + 10 },
    bob: { video: sample.bob.video + 10, audio: sample.bob.audio + 10 } }), 20000 * SCALE,
  () => JSON.stringify(seen));
  const back = Date.now();
  assert.notEqual(seen.alice.port, port, 'a new local port');
  log(`METRIC icerestart_change_to_restart_ms ${restarted - changed} (${why})`);
  log(`METRIC icerestart_change_to_media_ms ${back - changed}`);
  log(`METRIC icerestart_restart_to_media_ms ${back - restarted}`);
  const h2 = await workers();
  assert.equal(h2.ice_restarts, 2, JSON.stringify(h2));
  assert.equal(h2.ice_restarts_done, 2, JSON.stringify(h2));
  assert.equal(h2.dtls_handshakes, 2, `still no second DTLS handshake (${JSON.stringify(h2)})`);
  for (const u of ['alice', 'bob']) {
    assert.equal(count(seen[u].events, 'ended') + count(seen[u].events, 'participantleft')
      + count(seen[u].events, 'reconnecting'), 0, `${u} stayed in the call (${seen[u].events})`);
  }
  assert.ok(before2.bob.video < seen.bob.video);

  // (c) The pair and the WebSockets break together; reconnecting is refused for a while.
  const port3 = seen.alice.port;
  blockPort(port3, true);
  execFileSync('ss', ['-K', 'state', 'established', '(', 'dport', '=', `:${PORT}`, ')'],
    { stdio: 'ignore' });
  const broken = Date.now();
  await waitFor('alice\'s ICE to go down while her socket is down', async () => {
    seen.alice = await pages.alice.evaluate(mediaIn);
    return (seen.alice.ice === 'disconnected' || seen.alice.ice === 'failed')
      && seen.alice.events.includes('reconnecting:disconnected');
  }, 20000 * SCALE, () => JSON.stringify(seen.alice));
  // The fault lasts past the library's restart delay (2 s): its timer finds no socket.
  await new Promise((r) => setTimeout(r, 3000));
  seen.alice = await pages.alice.evaluate(mediaIn);
  assert.equal(count(seen.alice.events, 'icerestart'), 2, `no restart without a socket (${seen.alice.events})`);
  blockPort(port3); // signaling back, alice's old pair still dead
  const lifted = Date.now();
  await waitFor('alice to resume, then restart ICE', async () => {
    seen.alice = await pages.alice.evaluate(mediaIn);
    return count(seen.alice.events, 'icerestart') === 3;
  }, 20000 * SCALE, () => JSON.stringify(seen.alice));
  const ev = seen.alice.events;
  assert.ok(ev.lastIndexOf('resumed:') >= 0 && ev.lastIndexOf('resumed:') < ev.lastIndexOf(ev.filter((e) => e.startsWith('icerestart:')).pop()),
    `resumed before the restart (${ev})`);
  const sample3 = { alice: { ...seen.alice }, bob: await pages.bob.evaluate(mediaIn) };
  await waitFor('media both ways after resume and restart', () => flowing({
    alice: { video: sample3.alice.video + 10, audio: sample3.alice.audio + 10 },
    bob: { video: sample3.bob.video + 10, audio: sample3.bob.audio + 10 } }), 20000 * SCALE,
  () => JSON.stringify(seen));
  log(`METRIC icerestart_resume_lift_to_media_ms ${Date.now() - lifted} (broken ${lifted - broken} ms)`);
  const h3 = await workers();
  assert.equal(h3.ice_restarts_done, 3, JSON.stringify(h3));
  assert.equal(h3.dtls_handshakes, 2, JSON.stringify(h3));
  assert.equal(count(seen.bob.events, 'icerestart'), 0, `bob's ICE never broke (${seen.bob.events})`);
  for (const u of ['alice', 'bob']) {
    assert.ok(seen[u].events.includes('resumed:'), `${u} resumed (${seen[u].events})`);
    assert.equal(count(seen[u].events, 'ended') + count(seen[u].events, 'participantleft'), 0,
      `${u} stayed in the call (${seen[u].events})`);
  }
  unblock();
  for (const p of Object.values(pages)) await p.context().close();
});
