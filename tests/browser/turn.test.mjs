// Browser TURN test: run by test_turn.sh inside a network namespace where coturn (use-auth-secret)
// listens on SB_TURN_IP and the relay's media is on SB_MEDIA_ADDR, which nftables lets only
// coturn's relay sockets reach. Pages drive web/switchboard.js directly:
//  - alice and bob use the auth result's ice_servers (the library's default) with the default
//    iceTransportPolicy 'all': they hold a call through TURN (media both ways, relay candidates);
//  - carol and dave ignore ice_servers (rtcConfig {iceServers: []}): their checks to the relay
//    are dropped and the call never connects, which shows that the firewall bites.
//
// Environment: SB_URL, SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_TURN_URL, SB_TURN_TTL, SB_TURN_IP,
// SB_MEDIA_ADDR (relay media IP:PORT), SB_TURN_LOG (coturn's log file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SCALE, launchChromium, log, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const TURN_URL = process.env.SB_TURN_URL;
const TURN_TTL = Number(process.env.SB_TURN_TTL || 86400);
const TURN_IP = process.env.SB_TURN_IP;
const MEDIA_ADDR = process.env.SB_MEDIA_ADDR;
const TURN_LOG = process.env.SB_TURN_LOG;
const ROOM = 'demo';   // seeded by --demo: alice, bob (acme), carol, dave (globex)
const CALL_DEADLINE_MS = 30000 * SCALE;
// How long pages without TURN keep trying before we call it a failure to connect. The pages with
// TURN connect within a second of joining, also under sanitizers (so not scaled); it stays below
// the server's 30 s setup timeout, which would end the calls.
const NO_TURN_WINDOW_MS = 10000;

let browser;

// Runs in the page: connects with a demo token and joins `room` through web/switchboard.js,
// with `rtcConfig` given to the client. Leaves the client in window.__client.
async function joinWithLibrary({ user, room, rtcConfig }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const res = await fetch('/api/demo/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
  });
  const { token } = await res.json();
  const client = new SwitchboardClient({ rtcConfig, rejoin: false });
  window.__client = client;
  window.__states = [];
  client.addEventListener('peerstate', (e) => window.__states.push(e.detail.state));
  await client.connect(SwitchboardClient.defaultUrl(), token);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const joined = await client.join(room, stream);
  const cfg = client.pc.getConfiguration();
  return { iceServers: client.iceServers, pcIceServers: cfg.iceServers,
           policy: cfg.iceTransportPolicy, call: joined.call };
}

// Runs in the page: inbound audio/video, the transport and its selected pair with both
// candidates, and the pairs' check counters.
async function pageStats() {
  const pc = window.__client?.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = { audio: null, video: null, transport: null, pair: null, requestsSent: 0,
                responsesReceived: 0, connection: pc.connectionState, ice: pc.iceConnectionState };
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) {
      const mine = { codec: byId.get(s.codecId)?.mimeType || null,
                     packetsReceived: s.packetsReceived || 0, framesDecoded: s.framesDecoded };
      const prev = out[s.kind];
      if (!prev || mine.packetsReceived > prev.packetsReceived) out[s.kind] = mine;
    }
    if (s.type === 'candidate-pair') {
      out.requestsSent += s.requestsSent || 0;
      out.responsesReceived += s.responsesReceived || 0;
    }
    if (s.type === 'transport') {
      out.transport = { dtlsState: s.dtlsState, iceState: s.iceState };
      const pair = byId.get(s.selectedCandidatePairId);
      if (pair) {
        const l = byId.get(pair.localCandidateId);
        const r = byId.get(pair.remoteCandidateId);
        out.pair = {
          state: pair.state,
          local: l && { type: l.candidateType, address: l.address, port: l.port,
                        relayProtocol: l.relayProtocol, url: l.url },
          remote: r && { type: r.candidateType, address: `${r.address}:${r.port}` },
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

/** The firewall's drop counter (nft, inside the test's namespace). */
function droppedByFirewall() {
  const text = execFileSync('nft', ['list', 'chain', 'inet', 'sbturn', 'out'],
                            { encoding: 'utf8' });
  const m = text.match(/counter packets (\d+)/);
  return m ? Number(m[1]) : null;
}

before(async () => {
  assert.ok(TURN_URL && TURN_IP && MEDIA_ADDR && TURN_LOG, 'run by test_turn.sh');
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, TURN ${TURN_URL}, media ${MEDIA_ADDR}`);
});

after(async () => {
  if (browser) await browser.close();
});

test('two pages hold a call through coturn with the auth result\'s TURN credentials',
  { timeout: 120000 * SCALE }, async (t) => {
    const alice = await openPage(browser, 'alice', BASE);
    const bob = await openPage(browser, 'bob', BASE);
    const t0 = Math.floor(Date.now() / 1000);
    const a = await alice.evaluate(joinWithLibrary, { user: 'alice', room: ROOM, rtcConfig: {} });
    const b = await bob.evaluate(joinWithLibrary, { user: 'bob', room: ROOM, rtcConfig: {} });

    await t.test('the auth result carries time-limited REST API credentials', () => {
      for (const [who, r] of [['alice', a], ['bob', b]]) {
        assert.equal(r.iceServers.length, 1, `${who}: one ice server entry`);
        const s = r.iceServers[0];
        assert.deepEqual(s.urls, [TURN_URL], `${who}: urls`);
        const m = /^(\d+):acme\.(\w+)$/.exec(s.username);
        assert.ok(m, `${who}: username "${s.username}" is <expiry>:<tenant>.<user>`);
        assert.equal(m[2], who);
        const expiry = Number(m[1]);
        assert.ok(expiry >= t0 + TURN_TTL - 5 && expiry <= t0 + TURN_TTL + 60,
                  `${who}: expiry ${expiry} is about now + ${TURN_TTL}`);
        assert.match(s.credential, /^[A-Za-z0-9+/]{27}=$/, `${who}: base64 of a SHA-1 HMAC`);
        assert.equal(r.pcIceServers.length, 1, `${who}: the peer connection uses them`);
        assert.equal(r.policy, 'all', `${who}: no forced relay policy`);
      }
    });

    let last = {};
    const stats = async () => {
      last = { alice: await alice.evaluate(pageStats), bob: await bob.evaluate(pageStats) };
      return last;
    };
    const ready = await waitFor('opus and VP8 decoded on both pages', async () => {
      const s = await stats();
      return flowing(s.alice) && flowing(s.bob) && s;
    }, CALL_DEADLINE_MS, () => JSON.stringify(last));

    await t.test('media flows both ways over a relay candidate pair', () => {
      for (const who of ['alice', 'bob']) {
        const s = ready[who];
        log(`${who}: ${JSON.stringify(s)}`);
        assert.ok(s.audio.packetsReceived > 100,
                  `${who}: audio packets ${s.audio.packetsReceived}`);
        assert.ok(s.video.framesDecoded > 60, `${who}: video frames ${s.video.framesDecoded}`);
        assert.ok(s.pair, `${who}: a selected candidate pair`);
        assert.equal(s.pair.local.type, 'relay', `${who}: local candidate type`);
        assert.equal(s.pair.local.address, TURN_IP, `${who}: relayed by coturn's address`);
        assert.equal(s.pair.remote.address, MEDIA_ADDR, `${who}: the relay's media address`);
      }
    });

    await t.test('coturn granted allocations to the REST API usernames', async () => {
      // coturn writes its log from its own threads: poll it for a bounded time.
      const want = ['alice', 'bob'].map((who) => new RegExp(`username=<\\d+:acme\\.${who}>`));
      let text = '';
      await waitFor('successful ALLOCATEs by alice and bob in coturn\'s log', () => {
        text = readFileSync(TURN_LOG, 'utf8');
        return /ALLOCATE processed, success/.test(text) && want.every((re) => re.test(text));
      }, 5000 * SCALE,
      () => `${text.split('\n').filter((l) => /ALLOCATE/.test(l)).length} ALLOCATE lines`);
    });

    await leave(alice);
    await leave(bob);
  });

test('pages that ignore the TURN servers cannot connect through the same firewall',
  { timeout: 120000 * SCALE }, async (t) => {
    const dropped0 = droppedByFirewall();
    const carol = await openPage(browser, 'carol', BASE);
    const dave = await openPage(browser, 'dave', BASE);
    const none = { iceServers: [] };
    const c = await carol.evaluate(joinWithLibrary, { user: 'carol', room: ROOM, rtcConfig: none });
    const d = await dave.evaluate(joinWithLibrary, { user: 'dave', room: ROOM, rtcConfig: none });
    assert.equal(c.iceServers.length, 1, 'carol was offered TURN');
    assert.equal(c.pcIceServers.length + d.pcIceServers.length, 0, 'and told to ignore it');

    // Observe a bounded window: neither page may connect; both keep sending checks nobody
    // answers. Ends early when ICE has given up on both.
    const start = Date.now();
    const last = {};
    const seen = await waitFor('the pages without TURN to try and fail', async () => {
      for (const [who, page] of [['carol', carol], ['dave', dave]]) {
        const s = await page.evaluate(pageStats);
        assert.ok(s, `${who}'s call ended early (see the server log)`);
        last[who] = s;
        assert.notEqual(s.connection, 'connected', `${who} connected without TURN`);
        assert.ok(!s.audio?.packetsReceived && !s.video?.packetsReceived,
                  `${who} received media without TURN`);
        assert.equal(s.responsesReceived, 0, `${who}: a check was answered`);
      }
      const failed = last.carol.ice === 'failed' && last.dave.ice === 'failed';
      const tried = last.carol.requestsSent > 5 && last.dave.requestsSent > 5;
      return tried && (failed || Date.now() - start >= NO_TURN_WINDOW_MS) && last;
    }, NO_TURN_WINDOW_MS + 10000 * SCALE, () => JSON.stringify(last));
    log(`without TURN after ${Date.now() - start} ms: ${JSON.stringify(seen)}`);
    const dropped = droppedByFirewall() - dropped0;
    log(`the firewall dropped ${dropped} packets to the relay's media address meanwhile`);
    await t.test('their checks were dropped by the firewall', () => {
      assert.ok(dropped >= seen.carol.requestsSent, `dropped ${dropped}`);
    });
    await leave(carol);
    await leave(dave);
  });
