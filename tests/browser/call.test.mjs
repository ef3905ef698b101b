// Browser test: two headless Chromium pages of the demo hold an Opus+VP8 call through the relay;
// a third page with a forged token is refused and gets no media. Run by test_call.sh inside a
// network namespace with the server already listening at SB_URL.
//
// Environment: SB_URL (demo page URL), SB_SERVER_PID (for its CPU time), SB_TIMEOUT_SCALE
// (longer deadlines under sanitizers), SB_CHROMIUM (browser binary), SB_ROOM (room name).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { demoToken, SCALE, launchChromium, log, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const SERVER_PID = process.env.SB_SERVER_PID || '';
const ROOM = process.env.SB_ROOM || 'demo'; // seeded by --demo: acme and globex users are members
const CALL_DEADLINE_MS = 30000 * SCALE;

let browser;

/** The server's CPU time in seconds (utime + stime of all its threads), or null. */
function serverCpuSeconds() {
  if (!SERVER_PID) return null;
  const stat = readFileSync(`/proc/${SERVER_PID}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);   // fields 14 and 15 of proc(5)
  return ticks / clockTicks();
}

let ticksPerSecond;
function clockTicks() {
  if (!ticksPerSecond) {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  }
  return ticksPerSecond;
}

// Runs in the page: a summary of the demo client's peer connection stats.
async function pageStats() {
  const pc = window.sbDemo?.client?.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = { audio: null, video: null, transport: null, pair: null };
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) {
      const codec = byId.get(s.codecId)?.mimeType || null;
      const mine = {
        codec, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost,
        framesDecoded: s.framesDecoded, frameWidth: s.frameWidth, nackCount: s.nackCount,
      };
      // With several remote tracks of a kind, report the busiest one.
      const prev = out[s.kind];
      if (!prev || (mine.packetsReceived || 0) > (prev.packetsReceived || 0)) out[s.kind] = mine;
    }
    if (s.type === 'transport') {
      out.transport = { dtlsState: s.dtlsState, srtpCipher: s.srtpCipher, dtlsRole: s.dtlsRole,
                        tlsVersion: s.tlsVersion };
      const pair = byId.get(s.selectedCandidatePairId);
      if (pair) {
        const remote = byId.get(pair.remoteCandidateId);
        out.pair = { state: pair.state, remote: remote && `${remote.address}:${remote.port}` };
      }
    }
  });
  return out;
}

function callReady(s) {
  return Boolean(s && s.audio && s.video && s.transport
    && s.audio.codec?.toLowerCase() === 'audio/opus' && s.audio.packetsReceived > 100
    && s.video.codec?.toLowerCase() === 'video/vp8' && s.video.framesDecoded > 60
    && s.transport.dtlsState === 'connected');
}

// Runs in the page before its scripts: records the first decoded video frame (epoch ms) and
// every RTCPeerConnection created, so a test can check what the page did.
function instrumentPage() {
  window.__sb = { pcs: [], joinClickedAt: null, connectedAt: null, firstFrameAt: null };
  const now = () => performance.timeOrigin + performance.now();
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sb.pcs.push(this);
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && !window.__sb.connectedAt) {
          window.__sb.connectedAt = now();
        }
      });
    }
  };
  document.addEventListener('submit', () => { window.__sb.joinClickedAt = now(); }, true);
  const poll = async () => {
    const pc = window.sbDemo?.client?.pc;
    if (pc) {
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0
            && !window.__sb.firstFrameAt) {
          window.__sb.firstFrameAt = now();
        }
      });
    }
    if (!window.__sb.firstFrameAt) setTimeout(poll, 20);
  };
  setTimeout(poll, 20);
}

async function joinAs(page, user) {
  await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null,
                             { timeout: 10000 * SCALE });
  await page.selectOption('#user', user);
  await page.fill('#room', ROOM);
  await page.click('#join');
}

function base64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}


before(async () => {
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, room ${ROOM}, timeout scale ${SCALE}`);
});

after(async () => {
  if (browser) await browser.close();
});

test('demo users and tokens are served', { timeout: 30000 * SCALE }, async () => {
  const res = await fetch(new URL('/api/demo/users', BASE));
  assert.equal(res.status, 200);
  const { users } = await res.json();
  const ids = users.map((u) => u.id).sort();
  for (const id of ['alice', 'bob', 'carol', 'dave']) assert.ok(ids.includes(id), `demo user ${id}`);
  const token = await demoToken('alice');
  assert.equal(token.split('.').length, 3, 'a JWT has three parts');
  const bad = await fetch(new URL('/api/demo/token', BASE), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"nobody"}',
  });
  assert.ok(bad.status >= 400 && bad.status < 500, `unknown demo user: HTTP ${bad.status}`);
});

test('two browsers hold an Opus+VP8 call through the relay', { timeout: 150000 }, async (t) => {
  const alice = await openPage(browser, 'alice', BASE, instrumentPage);
  const bob = await openPage(browser, 'bob', BASE, instrumentPage);
  const cpuStart = serverCpuSeconds();
  const wallStart = Date.now();

  await joinAs(alice, 'alice');
  await alice.waitForFunction(() => window.sbDemo.client?.callId, null, { timeout: 15000 * SCALE });
  await joinAs(bob, 'bob');

  let last = {};
  const stats = async () => {
    last = { alice: await alice.evaluate(pageStats), bob: await bob.evaluate(pageStats) };
    return last;
  };
  const show = () => JSON.stringify(last);
  const ready = await waitFor('both pages to receive opus and VP8 over DTLS',
    async () => { const s = await stats(); return callReady(s.alice) && callReady(s.bob) && s; },
    CALL_DEADLINE_MS, show);
  const cpuReady = serverCpuSeconds();
  const wallReady = Date.now();

  await t.test('getStats shows opus audio, VP8 video and a connected DTLS transport', () => {
    for (const who of ['alice', 'bob']) {
      const s = ready[who];
      assert.equal(s.audio.codec.toLowerCase(), 'audio/opus', `${who} audio codec`);
      assert.ok(s.audio.packetsReceived > 100, `${who} audio packetsReceived ${s.audio.packetsReceived}`);
      assert.equal(s.video.codec.toLowerCase(), 'video/vp8', `${who} video codec`);
      assert.ok(s.video.framesDecoded > 60, `${who} video framesDecoded ${s.video.framesDecoded}`);
      assert.equal(s.transport.dtlsState, 'connected', `${who} dtlsState`);
      log(`${who}: ${JSON.stringify(s)}`);
    }
  });

  await t.test('the demo page shows the other participant', async () => {
    for (const [page, other] of [[alice, 'bob'], [bob, 'alice']]) {
      const tile = page.locator(`#videos figure[data-user="${other}"]`);
      await tile.waitFor({ timeout: 5000 * SCALE });
      const playing = await tile.locator('video').evaluate((v) => v.videoWidth > 0);
      assert.ok(playing, `remote video of ${other} has frames`);
    }
  });

  await t.test('join to first decoded frame', async () => {
    const a = await alice.evaluate(() => window.__sb);
    const b = await bob.evaluate(() => window.__sb);
    assert.ok(b.joinClickedAt && b.firstFrameAt, 'bob recorded join and first frame');
    assert.ok(a.firstFrameAt, 'alice recorded a first frame');
    const bobMs = Math.round(b.firstFrameAt - b.joinClickedAt);
    const aliceMs = Math.round(a.firstFrameAt - b.joinClickedAt);
    const bobIce = Math.round(b.connectedAt - b.joinClickedAt);
    log(`METRIC join_to_first_frame_ms: bob (joined second) ${bobMs} (ICE+DTLS connected after ` +
        `${bobIce}); alice (already in the room) ${aliceMs} after bob's join`);
    assert.ok(bobMs > 0 && aliceMs > 0);
  });

  await t.test('a forged token is refused with unauthenticated and gets no media', async () => {
    await checkForgedToken();
  });

  await t.test('media keeps flowing; server CPU during the call', async () => {
    const frames0 = Math.min(ready.alice.video.framesDecoded, ready.bob.video.framesDecoded);
    const cpu0 = serverCpuSeconds();
    const t0 = Date.now();
    const pkts = (s) => s.alice.audio.packetsReceived + s.alice.video.packetsReceived
      + s.bob.audio.packetsReceived + s.bob.video.packetsReceived;
    const more = await waitFor('300 more decoded frames on both pages', async () => {
      const s = await stats();
      const ok = s.alice?.video && s.bob?.video
        && Math.min(s.alice.video.framesDecoded, s.bob.video.framesDecoded) >= frames0 + 300;
      return ok && s;
    }, CALL_DEADLINE_MS, show);
    const cpu1 = serverCpuSeconds();
    const t1 = Date.now();
    if (cpu0 !== null) {
      const setupCpu = cpuReady - cpuStart;
      const steady = cpu1 - cpu0;
      const seconds = (t1 - t0) / 1000;
      const packets = pkts(more) - pkts(ready);
      log(`METRIC server_cpu: join until media ready ${setupCpu.toFixed(2)} s CPU in ` +
          `${((wallReady - wallStart) / 1000).toFixed(1)} s; steady call ${steady.toFixed(2)} s CPU ` +
          `in ${seconds.toFixed(1)} s = ${(100 * steady / seconds).toFixed(1)}% of one core; ` +
          `${packets} RTP packets delivered to the pages ` +
          `(${packets ? Math.round(steady * 1e6 / packets) : '-'} us CPU per packet, all included)`);
    }
  });

  await t.test('pausing the camera shows on the other page; resuming brings frames back', async () => {
    const caption = bob.locator('#videos figure[data-user="alice"] figcaption');
    await alice.click('#mute-video');
    await waitFor('bob to see alice\'s camera off', async () => /camera off/.test(await caption
      .textContent()), 10000 * SCALE, () => 'caption without "camera off"');
    // alice's button turns pressed when her call.mute is answered, which may come after bob
    // was told (the server sends the event and the answer in either order).
    await waitFor('alice\'s camera button pressed', async () => await alice.getAttribute(
      '#mute-video', 'aria-pressed') === 'true', 5000 * SCALE, () => 'aria-pressed is not "true"');
    await alice.click('#mute-video');
    await waitFor('bob to see alice\'s camera on', async () => !/camera off/.test(await caption
      .textContent()), 10000 * SCALE, () => 'caption still "camera off"');
    const before = (await bob.evaluate(pageStats)).video.framesDecoded;
    await waitFor('30 new frames from alice after resuming', async () => {
      const s = await stats();
      return s.bob.video.framesDecoded >= before + 30;
    }, CALL_DEADLINE_MS, show);
  });

  await t.test('hanging up removes the participant on the other page', async () => {
    await alice.click('#hangup');
    await bob.locator('#videos figure[data-user="alice"]').waitFor({ state: 'detached',
                                                                     timeout: 10000 * SCALE });
    const status = await alice.textContent('#status');
    assert.match(status, /left/i);
    assert.equal(await alice.evaluate(() => window.sbDemo.client), null);
    await bob.click('#hangup');
  });
});

// A page joins with a token that has valid claims but a signature made with another key. The
// demo must report `unauthenticated` without creating a peer connection; at the protocol level,
// a bad token leaves the connection unauthenticated (every later request is refused) and no SDP
// is ever sent back, even to a call.join sent right behind the auth.
async function checkForgedToken() {
  const real = await demoToken('carol');
  const [header, payload] = real.split('.');
  const forged = `${header}.${payload}.${base64url(createHmac('sha256', randomBytes(32))
    .update(`${header}.${payload}`).digest())}`;
  const none = `${base64url('{"alg":"none","typ":"JWT"}')}.${payload}.`;
  const mallory = await openPage(browser, 'mallory', BASE, instrumentPage);

  await mallory.evaluate(() => { document.getElementById('token-box').open = true; });
  await mallory.fill('#token', forged);
  await mallory.click('#join');
  await mallory.waitForFunction(() => window.sbDemo.lastError, null, { timeout: 10000 * SCALE });
  const ui = await mallory.evaluate(() => ({
    code: window.sbDemo.lastError.code, status: document.getElementById('status').textContent,
    pcs: window.__sb.pcs.length, inCall: Boolean(window.sbDemo.client),
  }));
  assert.equal(ui.code, 'unauthenticated', `demo error: ${ui.status}`);
  assert.match(ui.status, /unauthenticated/);
  assert.equal(ui.pcs, 0, 'no RTCPeerConnection was created');
  assert.equal(ui.inCall, false);

  const cases = { forged, alg_none: none, garbage: 'not-a-jwt', empty: '' };
  for (const [name, token] of Object.entries(cases)) {
    const r = await mallory.evaluate(rawAuthThenJoin, { token, room: ROOM });
    log(`bad token "${name}": ${JSON.stringify(r.summary)}`);
    assert.equal(r.authError, 'unauthenticated', `${name}: auth reply ${JSON.stringify(r.frames[0])}`);
    assert.equal(r.joinError, 'unauthenticated', `${name}: call.join after a failed auth`);
    assert.equal(r.pingError, 'unauthenticated', `${name}: the connection must stay unauthenticated`);
    assert.equal(r.sawSdp, false, `${name}: the server sent media parameters: ${r.sdpFrame}`);
    assert.equal(r.inbound, 0, `${name}: inbound-rtp on the offering peer connection`);
  }
}

// Runs in the page: auth with `token`, a real offer pipelined behind it, then a ping; collects
// every frame until all three are answered.
async function rawAuthThenJoin({ token, room }) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  pc.addTransceiver('audio', { direction: 'sendonly' });
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const url = new URL('/ws', location.href);
  url.protocol = 'ws:';
  const ws = new WebSocket(url.href, 'switchboard.v1');
  const frames = [];
  let closeCode = null;
  const answered = new Promise((resolve) => {
    ws.onclose = (ev) => { closeCode = ev.code; resolve(); };
    ws.onmessage = (ev) => {
      frames.push(ev.data);
      if (frames.some((f) => /"id":3[,}]/.test(f))) resolve();
    };
    setTimeout(resolve, 10000);
  });
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.send(JSON.stringify({ id: 1, method: 'auth', params: { token } }));
  ws.send(JSON.stringify({ id: 2, method: 'call.join', params: { room, sdp: pc.localDescription.sdp } }));
  ws.send(JSON.stringify({ id: 3, method: 'ping', params: {} }));
  await answered;
  ws.close();
  const parsed = frames.map((f) => { try { return JSON.parse(f); } catch { return { raw: f }; } });
  const errorOf = (id) => {
    const m = parsed.find((f) => f.id === id);
    if (!m) return null;
    return m.error ? m.error.code : 'succeeded';
  };
  const sdpFrame = frames.find((f) => /ice-ufrag|ice-pwd|fingerprint|"sdp"/.test(f)) || null;
  let inbound = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') inbound++; });
  pc.close();
  return {
    frames: parsed, authError: errorOf(1), joinError: errorOf(2), pingError: errorOf(3), closeCode,
    sawSdp: sdpFrame !== null, sdpFrame, inbound,
    summary: { auth: errorOf(1), join: errorOf(2), ping: errorOf(3), close: closeCode, frames: frames.length },
  };
}
