// Browser ICE-TCP test: run by test_icetcp.sh inside a network namespace where the relay's media
// address is SB_MEDIA_IP (UDP and ICE-TCP on SB_MEDIA_PORT) and the nftables chain
// `inet sbicetcp out` is ours to fill. Pages drive web/switchboard.js directly:
//  - with UDP to the media address dropped, alice and bob hold a call over the relay's passive
//    TCP candidate (RFC 6544): decoded audio and video both ways for several seconds, the
//    selected pair's candidates are TCP;
//  - meanwhile raw connections to the TCP port (garbage, a STUN request without credentials, a
//    slowloris, more idle connections than the pending limit) are closed and counted, and the
//    call goes on;
//  - with UDP open, carol and dave are offered the same TCP candidate and choose the UDP pair.
//
// Environment: SB_URL, SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_MEDIA_IP, SB_MEDIA_PORT, SB_MAX_PENDING
// (the server's --ice-tcp-max-pending).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { SCALE, launchChromium, log, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const MEDIA_IP = process.env.SB_MEDIA_IP;
const MEDIA_PORT = Number(process.env.SB_MEDIA_PORT || 40000);
const MAX_PENDING = Number(process.env.SB_MAX_PENDING || 8);
const ROOM = 'demo';   // seeded by --demo: alice, bob (acme), carol, dave (globex)
const CALL_DEADLINE_MS = 30000 * SCALE;
const HOLD_MS = 6000;            // the window in which media must keep flowing both ways
const AUTH_TIMEOUT_MS = 5000;    // SB_TCP_AUTH_TIMEOUT_MS in relay/tcp.h

let browser;

// Runs in the page: connects with a demo token and joins `room` through web/switchboard.js.
async function joinWithLibrary({ user, room }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const res = await fetch('/api/demo/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
  });
  const { token } = await res.json();
  const client = new SwitchboardClient({ rejoin: false });
  window.__client = client;
  await client.connect(SwitchboardClient.defaultUrl(), token);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const joined = await client.join(room, stream);
  return { call: joined.call };
}

// Runs in the page: inbound audio/video, the selected pair's candidates with their protocols,
// and the relay's candidate lines in the remote description.
async function pageStats() {
  const pc = window.__client?.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = { audio: null, video: null, transport: null, pair: null,
                connection: pc.connectionState,
                offered: (pc.remoteDescription?.sdp || '').split('\r\n')
                  .filter((l) => l.startsWith('a=candidate:')) };
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) {
      const mine = { codec: byId.get(s.codecId)?.mimeType || null,
                     packetsReceived: s.packetsReceived || 0, framesDecoded: s.framesDecoded || 0 };
      const prev = out[s.kind];
      if (!prev || mine.packetsReceived > prev.packetsReceived) out[s.kind] = mine;
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video') {   // diagnostics when media stalls
      out.sent = (out.sent || 0) + (s.packetsSent || 0);
      out.encoded = (out.encoded || 0) + (s.framesEncoded || 0);
    }
    if (s.type === 'transport') {
      out.transport = { dtlsState: s.dtlsState };
      const pair = byId.get(s.selectedCandidatePairId);
      if (pair) {
        const l = byId.get(pair.localCandidateId);
        const r = byId.get(pair.remoteCandidateId);
        out.pair = {
          state: pair.state,
          local: l && { protocol: l.protocol, type: l.candidateType, tcpType: l.tcpType },
          remote: r && { protocol: r.protocol, type: r.candidateType, address: r.address,
                         port: r.port },
        };
      }
    }
  });
  return out;
}

function flowing(s) {
  return Boolean(s?.audio && s.video && s.transport?.dtlsState === 'connected'
    && s.audio.codec?.toLowerCase() === 'audio/opus' && s.audio.packetsReceived > 100
    && s.video.codec?.toLowerCase() === 'video/vp8' && s.video.framesDecoded > 60);
}

async function leave(page) {
  await page.evaluate(async () => {
    const c = window.__client;
    if (!c) return;
    await c.leave().catch(() => {});
    c.close();
    window.__client = null;
  });
}

function nft(...args) {
  return execFileSync('nft', args, { encoding: 'utf8' });
}
function blockUdp() {
  nft('add', 'rule', 'inet', 'sbicetcp', 'out', 'ip', 'daddr', MEDIA_IP, 'udp', 'dport',
      String(MEDIA_PORT), 'counter', 'drop');
}
function openUdp() {
  nft('flush', 'chain', 'inet', 'sbicetcp', 'out');
}
function udpDropped() {
  const m = nft('list', 'chain', 'inet', 'sbicetcp', 'out').match(/counter packets (\d+)/);
  return m ? Number(m[1]) : 0;
}

/** Worker 0's counters from /api/health. */
async function worker0() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200, 'GET /api/health');
  return (await res.json()).workers[0];
}

/** A raw TCP connection to the relay's ICE-TCP port that records when the server closed it. */
function connectRaw() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: MEDIA_IP, port: MEDIA_PORT });
    s.on('error', () => {});   // a reset by the server ends it too
    s.once('close', () => { s.closedAt = Date.now(); });
    s.once('connect', () => { s.openedAt = Date.now(); resolve(s); });
    s.once('error', reject);
  });
}

/** Waits until the server has closed `s`; returns how long it stayed open (ms). */
async function closedBy(what, s, timeoutMs) {
  await waitFor(`the relay to close ${what}`, () => s.closedAt !== undefined, timeoutMs);
  return s.closedAt - s.openedAt;
}

before(async () => {
  assert.ok(MEDIA_IP, 'run by test_icetcp.sh');
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, media ${MEDIA_IP}:${MEDIA_PORT}`);
});

after(async () => {
  if (browser) await browser.close();
});

/** Polls the pages until each one's stats were taken `ms` apart (the window itself is the
 * point), asserting on every round that the call stays connected on a pair of `protocol`;
 * then checks what arrived between each page's first and last stats. */
async function hold(pages, protocol, ms) {
  const first = {};
  const last = {};
  await waitFor(`${ms} ms of media over ${protocol}`, async () => {
    for (const [who, page] of Object.entries(pages)) {
      const s = await page.evaluate(pageStats);
      const at = Date.now();
      assert.ok(s, `${who}'s call ended (see the server log)`);
      assert.equal(s.connection, 'connected', `${who}: connection state`);
      assert.equal(s.pair?.local?.protocol, protocol, `${who}: the selected pair's protocol`);
      first[who] ??= { s, at };
      last[who] = { s, at };
    }
    return Object.keys(pages).every((who) => last[who].at - first[who].at >= ms);
  }, ms + 20000 * SCALE);
  for (const who of Object.keys(pages)) {
    const a = first[who].s;
    const b = last[who].s;
    const span = last[who].at - first[who].at;
    const audio = b.audio.packetsReceived - a.audio.packetsReceived;
    const frames = b.video.framesDecoded - a.video.framesDecoded;
    log(`${who} over ${protocol} in ${span} ms: +${audio} audio packets, +${frames} video frames`);
    // Opus sends 50 packets/s; the fake camera's VP8 decodes 20-30 frames/s on an idle machine.
    // (A headless page plays no audio, so Chromium reports no decoded audio samples: packets it
    // is.) The bounds are far below those rates: on a loaded machine the pages' encoders slow
    // down, and what is asserted is that media keeps flowing, not its rate.
    assert.ok(audio >= (span / 20) * 0.25, `${who}: audio kept flowing (+${audio} in ${span} ms)`);
    assert.ok(frames >= span / 1000, `${who}: video kept decoding (+${frames} in ${span} ms)`);
  }
}

test('with UDP blocked, two pages hold a call over the relay\'s TCP candidate',
  { timeout: 180000 * SCALE }, async (t) => {
    blockUdp();
    const alice = await openPage(browser, 'alice', BASE);
    const bob = await openPage(browser, 'bob', BASE);
    await alice.evaluate(joinWithLibrary, { user: 'alice', room: ROOM });
    await bob.evaluate(joinWithLibrary, { user: 'bob', room: ROOM });

    let last = {};
    const ready = await waitFor('opus and VP8 decoded on both pages', async () => {
      last = { alice: await alice.evaluate(pageStats), bob: await bob.evaluate(pageStats) };
      return flowing(last.alice) && flowing(last.bob) && last;
    }, CALL_DEADLINE_MS, () => JSON.stringify(last));

    await t.test('the selected pair is TCP to the relay\'s passive candidate', () => {
      for (const who of ['alice', 'bob']) {
        const s = ready[who];
        log(`${who}: ${JSON.stringify(s)}`);
        assert.ok(s.offered.some((l) => / 1 tcp \d+ /.test(l) && l.includes(` ${MEDIA_PORT} typ host tcptype passive`)),
                  `${who}: a passive TCP host candidate was offered`);
        assert.equal(s.pair.local.protocol, 'tcp', `${who}: local candidate protocol`);
        assert.equal(s.pair.local.tcpType, 'active', `${who}: the browser connects`);
        assert.equal(s.pair.remote.protocol, 'tcp', `${who}: remote candidate protocol`);
        assert.equal(`${s.pair.remote.address}:${s.pair.remote.port}`, `${MEDIA_IP}:${MEDIA_PORT}`);
      }
      assert.ok(udpDropped() > 0, 'the firewall dropped UDP to the relay');
    });

    await t.test('audio and video flow both ways for several seconds', async () => {
      await hold({ alice, bob }, 'tcp', HOLD_MS);
      const w = await worker0();
      assert.ok(w.tcp_connections >= 2, `tcp_connections ${w.tcp_connections}`);
      assert.equal(w.drop_tcp_backpressure, 0, 'no media dropped for backpressure');
    });

    await t.test('unauthenticated connections are closed and counted; the call goes on',
      async () => {
        const before = await worker0();
        // Garbage: an HTTP request, read as a frame header announcing 18 245 bytes.
        const garbage = await connectRaw();
        garbage.write('GET / HTTP/1.1\r\nHost: relay\r\n\r\n');
        const tGarbage = await closedBy('a connection sending garbage', garbage, 3000 * SCALE);
        // A framed STUN Binding request without USERNAME or MESSAGE-INTEGRITY.
        const stun = await connectRaw();
        const req = Buffer.alloc(22);
        req.writeUInt16BE(20, 0);
        req.writeUInt16BE(0x0001, 2);       // Binding request, no attributes
        req.writeUInt32BE(0x2112a442, 6);   // magic cookie; the transaction id stays zero
        stun.write(req);
        const tStun = await closedBy('a connection with an unauthenticated check', stun,
                                     3000 * SCALE);
        log(`garbage closed after ${tGarbage} ms, unauthenticated check after ${tStun} ms`);
        assert.ok(tGarbage < AUTH_TIMEOUT_MS && tStun < AUTH_TIMEOUT_MS, 'closed at once');

        // A slowloris (half a frame header, then nothing) and idle connections up to the
        // pending limit; one more is refused at once, the others last the authentication time.
        const idle = [];
        for (let i = 0; i < MAX_PENDING; i++) idle.push(await connectRaw());
        idle[0].write(Buffer.from([0x00]));
        const extra = await connectRaw();
        const tExtra = await closedBy('a connection over the pending limit', extra, 3000 * SCALE);
        const tIdle = [];
        for (const s of idle) {
          tIdle.push(await closedBy('an idle connection', s, AUTH_TIMEOUT_MS + 10000 * SCALE));
        }
        log(`over the limit closed after ${tExtra} ms; idle ones after ${tIdle.join(', ')} ms`);
        assert.ok(tExtra < AUTH_TIMEOUT_MS - 1000, 'the extra connection was refused at once');
        // The first idle ones may have been the ones refused if a page opened a connection
        // meanwhile; the last one waited for the timeout.
        assert.ok(tIdle[0] >= AUTH_TIMEOUT_MS - 500, `the slowloris lasted ${tIdle[0]} ms`);

        let after;
        await waitFor('the closes counted', async () => {
          after = await worker0();
          return after.tcp_closed_unauth - before.tcp_closed_unauth >= MAX_PENDING + 2
            && after.tcp_refused - before.tcp_refused >= 1
            && after.tcp_connections <= before.tcp_connections;
        }, 5000 * SCALE, () => JSON.stringify({ before, after }));
        log(`counters before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
        await hold({ alice, bob }, 'tcp', 3000);
      });

    await leave(alice);
    await leave(bob);
    // Their cameras and encoders stop with their contexts: the next pages get the CPU.
    await alice.context().close();
    await bob.context().close();
    openUdp();
  });

test('with UDP open, pages offered the TCP candidate choose the UDP pair',
  { timeout: 120000 * SCALE }, async (t) => {
    openUdp();
    const carol = await openPage(browser, 'carol', BASE);
    const dave = await openPage(browser, 'dave', BASE);
    await carol.evaluate(joinWithLibrary, { user: 'carol', room: ROOM });
    await dave.evaluate(joinWithLibrary, { user: 'dave', room: ROOM });
    let last = {};
    const ready = await waitFor('opus and VP8 decoded on both pages', async () => {
      last = { carol: await carol.evaluate(pageStats), dave: await dave.evaluate(pageStats) };
      return flowing(last.carol) && flowing(last.dave) && last;
    }, CALL_DEADLINE_MS, () => JSON.stringify(last));
    await t.test('the selected pair is UDP', async () => {
      for (const who of ['carol', 'dave']) {
        const s = ready[who];
        log(`${who}: ${JSON.stringify(s)}`);
        assert.ok(s.offered.some((l) => l.includes(' tcp ') && l.includes('tcptype passive')),
                  `${who}: the TCP candidate was offered`);
        assert.equal(s.pair.local.protocol, 'udp', `${who}: local candidate protocol`);
        assert.equal(s.pair.remote.protocol, 'udp', `${who}: remote candidate protocol`);
      }
      await hold({ carol, dave }, 'udp', 3000);
      const w = await worker0();
      log(`with UDP: tcp_connections ${w.tcp_connections}, tcp_accepted ${w.tcp_accepted}`);
    });
    await leave(carol);
    await leave(dave);
  });
