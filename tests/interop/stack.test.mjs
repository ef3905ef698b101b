// Interop test with a second WebRTC stack, aiortc (Debian's python3-aiortc, aiortc_peer.py) or
// GStreamer webrtcbin 1.22 (gstreamer1.0-plugins-bad and -nice, webrtcbin_peer.py), each in its
// default configuration (webrtcbin with bundle-policy max-bundle: its default, none, is refused):
// it and headless Chromium hold calls through the relay: decoded Opus and VP8 both ways, a call
// longer than the relay's 30 s consent timeout, and a participant (carol) joining after another
// (alice) left, whose tracks reuse the m-lines alice's had in the stack's description. Run by
// test_aiortc.sh or test_webrtcbin.sh inside a network namespace with the server listening at
// SB_URL; the namespace has a veth pair, since neither stack gathers loopback candidates.
//
// Environment: SB_STACK (aiortc or webrtcbin), SB_URL, SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_ROOM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { SCALE, launchChromium, log, openPage, waitFor } from '../browser/lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = process.env.SB_ROOM || 'demo';
const PHASE_MS = 30000 * SCALE;
const CONSENT_MS = 30000; // relay/transport.h SB_CONSENT_TIMEOUT_MS
const MIN_AUDIO = 50; // packets (Chromium) or decoded frames (the other stack) in one sample
const MIN_VIDEO = 30; // decoded frames in one sample
const here = dirname(fileURLToPath(import.meta.url));
const STACK = process.env.SB_STACK || 'aiortc';
const PEER_ARGS = { aiortc: [], webrtcbin: ['max-bundle'] }[STACK];

let browser;
const pages = {};
let broken = null;

/** The other stack's participant: its last report and every line it printed. */
const peer = { proc: null, last: null, lines: [], ended: null, exited: null, error: null };

function startPeer(user, args = PEER_ARGS) {
  const url = new URL(BASE);
  Object.assign(peer, { last: null, lines: [], ended: null, exited: null, error: null });
  peer.proc = spawn('/usr/bin/python3',
    [join(here, `${STACK}_peer.py`), url.hostname, url.port, user, ROOM, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: peer.proc.stdout }).on('line', (line) => {
    peer.lines.push(line);
    let m;
    try { m = JSON.parse(line); } catch { return; }
    if (m.video_frames) peer.last = m;
    if (m.ended) peer.ended = m.ended;
    if (m.error) {
      peer.error ||= m;
      log(`[${STACK}] ${line.slice(0, 3000)}`);
    }
  });
  createInterface({ input: peer.proc.stderr }).on('line', (line) => log(`[${STACK} stderr] ${line}`));
  peer.proc.on('exit', (code, sig) => { peer.exited = `exit ${code ?? sig}`; });
}

// Runs in the page: per remote user, the active inbound streams' counters (Opus packets, VP8
// frames decoded), mapped through the remote description's a=msid and a=ssrc lines.
async function remoteMedia() {
  const pc = window.sbDemo?.client?.pc;
  if (!pc) return null;
  const sdp = pc.remoteDescription?.sdp || '';
  const mlines = sdp.split(/\r?\n(?=m=)/).slice(1).map((section) => {
    const m = { port: Number(section.split(' ')[1]), mid: null, dir: 'sendrecv', user: null, ssrcs: [] };
    for (const line of section.split(/\r?\n/)) {
      let r;
      if ((r = /^a=mid:(\S+)/.exec(line))) m.mid = r[1];
      else if ((r = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line))) m.dir = r[1];
      else if ((r = /^a=msid:(\S+)/.exec(line))) m.user = r[1];
      else if ((r = /^a=ssrc:(\d+)/.exec(line))) m.ssrcs.push(Number(r[1]));
    }
    m.active = m.port !== 0 && (m.dir === 'sendonly' || m.dir === 'sendrecv');
    return m;
  });
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = { state: pc.connectionState, users: {} };
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    const m = mlines.find((x) => x.ssrcs.includes(s.ssrc));
    if (!m || !m.active || !m.user) return;
    const codec = byId.get(s.codecId)?.mimeType?.toLowerCase();
    const u = (out.users[m.user] ||= { audio: 0, video: 0, codecs: [] });
    if (codec) u.codecs.push(codec);
    if (s.kind === 'audio') u.audio += s.packetsReceived || 0;
    else u.video += s.framesDecoded || 0;
  });
  return out;
}

/** What the other stack decoded from `user`: sums over the m-lines now carrying that user, since
 * the report `since` (an m-line reused for another user keeps its receiver and its count). */
function peerFrom(user, since = null) {
  const r = peer.last;
  if (!r) return { audio: 0, video: 0 };
  const mids = Object.entries(r.senders).filter(([, [u, dir]]) => u === user && dir !== 'inactive')
    .map(([mid]) => mid);
  const sum = (kind) => mids.reduce((n, mid) => n + (r[kind][mid] || 0) - (since?.[kind]?.[mid] || 0), 0);
  return { audio: sum('audio_frames'), video: sum('video_frames') };
}

async function pageFrom(page, user) {
  const v = await page.evaluate(remoteMedia);
  const u = v?.users?.[user];
  return { audio: u?.audio || 0, video: u?.video || 0, codecs: u?.codecs || [], state: v?.state };
}

/** Waits until `page` (a Chromium participant `who`) and the other stack decode each other: more
 * than MIN_AUDIO/MIN_VIDEO since `base.chromium` (that page's counters) and the stack's report
 * `base.stack` (all zero without base). */
async function waitBothWays(who, page, peerUser, base = null) {
  let seen = {};
  return waitFor(`${who} (Chromium) and ${peerUser} (${STACK}) to decode each other`, async () => {
    if (peer.ended || peer.exited) assert.fail(`${STACK} peer: ended ${peer.ended}, ${peer.exited}`);
    seen = { chromium: await pageFrom(page, peerUser), stack: peerFrom(who, base?.stack) };
    const d = (side, kind) => seen[side][kind] - (side === 'chromium' ? base?.chromium?.[kind] ?? 0 : 0);
    return d('chromium', 'audio') > MIN_AUDIO && d('chromium', 'video') > MIN_VIDEO
      && d('stack', 'audio') > MIN_AUDIO && d('stack', 'video') > MIN_VIDEO && seen;
  }, PHASE_MS, () => `${JSON.stringify(seen)}; ${STACK} last report ${JSON.stringify(peer.last)}`);
}

async function joinAs(user) {
  const page = await openPage(browser, user, BASE);
  pages[user] = page;
  await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null, { timeout: PHASE_MS });
  await page.selectOption('#user', user);
  await page.fill('#room', ROOM);
  await page.click('#join');
  await page.waitForFunction(() => window.sbDemo.client?.callId || window.sbDemo.lastError, null,
                             { timeout: PHASE_MS });
  assert.equal(await page.evaluate(() => window.sbDemo.lastError?.message ?? null), null, `${user} joins`);
  return page;
}

async function health() {
  const body = await (await fetch(new URL('/api/health', BASE))).json();
  const sum = {};
  for (const w of body.workers) {
    for (const [k, val] of Object.entries(w)) if (typeof val === 'number') sum[k] = (sum[k] || 0) + val;
  }
  return sum;
}

function step(name, fn) {
  test(name, { timeout: 4 * PHASE_MS + 5000 }, async (t) => {
    if (broken) {
      t.skip(`needs "${broken}"`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      broken = name;
      log(`${STACK} output (last 15 lines):\n#   ${peer.lines.slice(-15).join('\n#   ')}`);
      throw err;
    }
  });
}

before(async () => {
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, room ${ROOM}, timeout scale ${SCALE}`);
});

async function stopPeer() {
  if (!peer.proc || peer.exited) return;
  const gone = new Promise((resolve) => peer.proc.once('exit', resolve));
  peer.proc.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  if (!peer.exited) peer.proc.kill('SIGKILL');
}

after(async () => {
  await stopPeer();
  if (browser) await browser.close();
});

if (STACK === 'webrtcbin') {
  step('webrtcbin\'s default bundle policy (none) is refused: BUNDLE is required', async () => {
    startPeer('dave', ['none']);
    await waitFor('the join to be answered', async () => peer.error || peer.last, PHASE_MS,
      () => peer.lines.slice(-3).join(' '));
    assert.equal(peer.error?.error, 'call.join', 'the join fails');
    assert.equal(peer.error.reply.error.code, 'bad_sdp');
    assert.match(peer.error.reply.error.message, /BUNDLE is required/);
    await stopPeer();
  });
}

let connectedAt = 0;

step(`Chromium and ${STACK} decode Opus and VP8 from each other`, async () => {
  await joinAs('alice');
  startPeer('bob');
  const t0 = Date.now();
  const seen = await waitBothWays('alice', pages.alice, 'bob');
  connectedAt = t0;
  log(`decoding both ways ${Date.now() - t0} ms after ${STACK} started: ${JSON.stringify(seen)}`);
  assert.ok(seen.chromium.codecs.includes('audio/opus'), `Chromium receives Opus from ${STACK}`);
  assert.ok(seen.chromium.codecs.includes('video/vp8'), `Chromium receives VP8 from ${STACK}`);
});

step('the call outlives the consent timeout with media both ways', async () => {
  // Past 30 s after the connection, plus margin: consent must have been renewed, not expired.
  const wait = connectedAt + CONSENT_MS + 8000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const base = { chromium: await pageFrom(pages.alice, 'bob'), stack: structuredClone(peer.last) };
  await waitBothWays('alice', pages.alice, 'bob', base);
  assert.equal(peer.ended, null, `${STACK} was not told the call ended`);
  const h = await health();
  log(`after ${Math.round((Date.now() - connectedAt) / 1000)} s: stun_ok ${h.stun_ok}, ` +
      `stun_keepalive ${h.stun_keepalive}, stun_bad ${h.stun_bad}, drop_srtp ${h.drop_srtp}`);
  assert.equal(h.stun_bad, 0, 'no refused STUN');
  // libnice keeps the pair alive with Binding indications and sends no consent requests: the
  // relay counts the indications and keeps consent from the authenticated media.
  if (STACK === 'webrtcbin') assert.ok(h.stun_keepalive > 0, 'libnice keepalives were counted');
});

step(`alice leaves, carol joins: ${STACK} answers the reused m-lines and both decode`, async () => {
  const answersBefore = peer.last.answers;
  await pages.alice.click('#hangup');
  await pages.alice.waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  await waitFor(`${STACK} to answer the offer without alice`, async () => {
    const r = peer.last;
    return r.answers > answersBefore && !Object.values(r.senders).some(([u, d]) => u === 'alice' && d !== 'inactive');
  }, PHASE_MS, () => JSON.stringify(peer.last));
  const mlinesBefore = Object.keys(peer.last.senders).length;
  const base = { stack: structuredClone(peer.last) }; // alice's frames stay counted on her m-lines
  await joinAs('carol');
  const seen = await waitBothWays('carol', pages.carol, 'bob', base);
  log(`carol and ${STACK} decode each other: ${JSON.stringify(seen)}`);
  const carolMids = Object.entries(peer.last.senders).filter(([, [u]]) => u === 'carol').map(([m]) => m);
  log(`${STACK}'s m-lines: ${JSON.stringify(peer.last.senders)}`);
  assert.equal(Object.keys(peer.last.senders).length, mlinesBefore, 'carol took alice\'s m-lines, none added');
  assert.ok(carolMids.length >= 2, `carol's audio and video m-lines at ${STACK}: ${carolMids}`);
  assert.equal(peer.ended, null, `${STACK} is still in the call`);
});
