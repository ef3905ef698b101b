// Browser test of a bad network: alice and bob hold a call on the demo page while their media
// (and only it: the WebSocket is untouched) crosses an impairment proxy (impair.mjs, which does
// what netem would; this machine's kernel has no sch_netem), in both directions, each with its
// own state:
//   a. 5% random loss: NACK and RTX must bring the video back: it keeps decoding (the figure:
//      the share of the frames sent that were lost after retransmission);
//   b. 20% loss in bursts (Gilbert-Elliott, p 5%, r 20%: bursts of 5 packets on average): video
//      keeps decoding, at a lower rate, through retransmissions and keyframe requests;
//   c. 50 ms of delay with 25 ms of jitter (normal distribution; packets overtake each other)
//      and 10% sent at once (more reordering): the video the publishers send (less of it: their
//      congestion control reads the jitter as queueing) keeps decoding.
// Each phase settles for 3 s, then is measured over 15 s; between phases the link is clean again
// until both pages decode at 5 fps or more. The figures of each phase are printed as METRIC
// lines (docs/performance.md, Faults); the assertions are behaviour with wide margins, never
// speed.
// Run by test_badnet.sh inside a network namespace, the server listening at SB_URL with its
// relay bound to 127.0.0.1:SB_RELAY_PORT and announcing 127.0.0.2 (the proxy) in its candidates.
//
// Environment: SB_URL, SB_RELAY_PORT, SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_BADNET_WINDOW_MS
// (default 15000).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImpairment } from './impair.mjs';
import { SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = 'demo';
const DEADLINE_MS = 30000 * SCALE;
const WINDOW_MS = Number(process.env.SB_BADNET_WINDOW_MS || 15000);
const SETTLE_MS = 3000;
const RELAY_PORT = Number(process.env.SB_RELAY_PORT || 40000);

let browser;
let proxy = null;

// Runs in the page: the call's inbound video (the stream that received most), outbound video,
// and the ports of the selected candidate pair.
async function sample() {
  const pc = window.sbDemo?.client?.pc;
  if (!pc) return null;
  const stats = await pc.getStats();
  const out = { at: Date.now(), in: null, out: null, local: 0, remote: 0 };
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video'
        && (!out.in || (s.packetsReceived || 0) > out.in.packetsReceived)) {
      out.in = {
        packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
        nackCount: s.nackCount || 0, pliCount: s.pliCount || 0,
        retransmitted: s.retransmittedPacketsReceived || 0, framesReceived: s.framesReceived || 0,
        framesDecoded: s.framesDecoded || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
        framesDropped: s.framesDropped || 0, freezeCount: s.freezeCount || 0,
        freezes: s.totalFreezesDuration || 0, jbDelay: s.jitterBufferDelay || 0,
        jbEmitted: s.jitterBufferEmittedCount || 0, width: s.frameWidth || 0,
      };
    }
    if (s.type === 'outbound-rtp' && s.kind === 'video'
        && (!out.out || (s.framesSent || 0) > out.out.framesSent)) {
      out.out = { framesSent: s.framesSent || 0, keyFrames: s.keyFramesEncoded || 0,
                  pliCount: s.pliCount || 0, nackCount: s.nackCount || 0,
                  retransmitted: s.retransmittedPacketsSent || 0 };
    }
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      out.local = stats.get(s.localCandidateId)?.port || 0;
      out.remote = stats.get(s.remoteCandidateId)?.port || 0;
    }
  });
  return out.in && out.out ? out : null;
}

async function openAndJoin(user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watchPage(page, user);
  await page.goto(BASE);
  await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null,
                             { timeout: 10000 * SCALE });
  await page.selectOption('#user', user);
  await page.fill('#room', ROOM);
  await page.click('#join');
  await page.waitForFunction(() => window.sbDemo.client?.callId || window.sbDemo.lastError, null,
                             { timeout: DEADLINE_MS });
  const err = await page.evaluate(() => window.sbDemo.lastError?.message ?? null);
  assert.equal(err, null, `${user} could not join ${ROOM}`);
  return page;
}

// The relay's loss-recovery counters, summed over workers.
async function relay() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200, 'GET /api/health');
  const keys = ['nack_sent', 'rtx_recovered', 'nack_received', 'rtp_retransmitted', 'nack_over_budget'];
  const out = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const w of (await res.json()).workers) for (const k of keys) out[k] += w[k] || 0;
  return out;
}

before(async () => {
  proxy = await startImpairment({ address: '127.0.0.2', port: RELAY_PORT },
                                { address: '127.0.0.1', port: RELAY_PORT });
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, window ${WINDOW_MS} ms, timeout scale ${SCALE}`);
});

after(async () => {
  if (browser) await browser.close();
  proxy?.close();
});

test('video keeps decoding through loss, bursts of loss, jitter and reordering',
     { timeout: 10 * DEADLINE_MS }, async () => {
  const pages = { alice: await openAndJoin('alice'), bob: await openAndJoin('bob') };
  const peer = { alice: 'bob', bob: 'alice' };
  let last = {};
  const snap = async () => {
    for (const u of Object.keys(pages)) last[u] = await pages[u].evaluate(sample);
    return last;
  };
  const show = () => JSON.stringify(last);

  // A clean link: both pages decode at 5 fps or more over 1.5 s (the fake camera sends 20; a
  // machine short of CPU decodes less).
  const clean = async (what) => {
    let s0 = null;
    return waitFor(`${what}: both pages decode at 5 fps`, async () => {
      const s = structuredClone(await snap());
      if (!Object.values(s).every((x) => x)) return null;
      if (!s0) s0 = s;
      const secs = (s.alice.at - s0.alice.at) / 1000;
      if (secs < 1.5) return null;
      const ok = Object.keys(s).every((u) => s[u].in.framesDecoded - s0[u].in.framesDecoded >= 5 * secs);
      if (!ok) s0 = s;   // a new window from here
      return ok && s;
    }, 2 * DEADLINE_MS, show);
  };
  await clean('before');
  assert.equal(proxy.pages(), 2, 'both pages\' media goes through the proxy');

  // One phase: impair, watch WINDOW_MS, print the figures, then a clean link again.
  const phase = async (name, model, check) => {
    proxy.set(model);
    // The receivers' jitter buffers and the senders' rates adapt first, so that the window
    // starts and ends in the same regime and counts frames lost, not frames held up.
    const t0 = Date.now();
    await waitFor(`${name}: ${SETTLE_MS} ms to settle`, async () => (await snap())
      && Date.now() - t0 >= SETTLE_MS, SETTLE_MS + DEADLINE_MS, show);
    const c0 = proxy.counters();
    const r0 = await relay();
    const a = structuredClone(await snap());
    await waitFor(`${name}: a window of ${WINDOW_MS} ms`, async () => {
      const b = await snap();
      return b.alice && b.bob && b.alice.at - a.alice.at >= WINDOW_MS;
    }, WINDOW_MS + DEADLINE_MS, show);
    const b = structuredClone(last);
    proxy.set({});
    const c1 = proxy.counters();
    const r1 = await relay();
    log(`METRIC badnet_${name} relay: ${Object.keys(r1).map((k) => `${k} +${r1[k] - r0[k]}`).join(', ')}`);
    const fig = {};
    const pct = (d) => (100 * (c1[d].dropped - c0[d].dropped) / Math.max(1, c1[d].in - c0[d].in)).toFixed(2);
    log(`METRIC badnet_${name} proxy: ${JSON.stringify(model)}; dropped ${pct('up')}% toward the ` +
        `relay, ${pct('down')}% toward the pages; sent ahead of an earlier packet: ` +
        `${c1.up.reordered - c0.up.reordered} up, ${c1.down.reordered - c0.down.reordered} down`);
    for (const u of Object.keys(pages)) {
      const [i0, i1] = [a[u].in, b[u].in];
      const [o0, o1] = [a[peer[u]].out, b[peer[u]].out];
      const secs = (b[u].at - a[u].at) / 1000;
      const d = (k) => i1[k] - i0[k];
      const sent = o1.framesSent - o0.framesSent;
      const lost = d('packetsLost');
      const expected = d('packetsReceived') + lost;
      const residual = Math.max(0, lost - d('retransmitted'));
      fig[u] = {
        secs, fps: d('framesDecoded') / secs, framesDecoded: d('framesDecoded'), framesSent: sent,
        // frames the publisher sent that never decoded here: lost after retransmission
        frameLossPct: sent > 0 ? Math.max(0, 100 * (1 - d('framesDecoded') / sent)) : 100,
        framesLost: Math.max(0, sent - d('framesDecoded')),
        packetsLost: lost,
        packetLossPct: expected > 0 ? 100 * lost / expected : 0,
        residualPacketLossPct: expected > 0 ? 100 * residual / expected : 0,
        nacks: d('nackCount'), rtx: d('retransmitted'), plis: d('pliCount'),
        keyFramesDecoded: d('keyFramesDecoded'), freezes: d('freezeCount'),
        freezeSecs: d('freezes'), dropped: d('framesDropped'),
        jitterBufferMs: (i1.jbDelay - i0.jbDelay) / Math.max(1, i1.jbEmitted - i0.jbEmitted) * 1000,
      };
      const f = fig[u];
      log(`METRIC badnet_${name} ${u}: ${secs.toFixed(1)} s, ${f.fps.toFixed(1)} fps decoded ` +
          `(${f.framesDecoded} of ${f.framesSent} sent: ${f.frameLossPct.toFixed(2)}% of frames ` +
          `lost after retransmission), video packets lost on the way ${f.packetLossPct.toFixed(2)}% ` +
          `(not made good by RTX: ${f.residualPacketLossPct.toFixed(2)}%), NACKs ${f.nacks}, RTX ` +
          `${f.rtx}, PLIs ${f.plis}, key frames ${f.keyFramesDecoded}, freezes ${f.freezes} ` +
          `(${f.freezeSecs.toFixed(2)} s), frames dropped ${f.dropped}, jitter buffer ` +
          `${f.jitterBufferMs.toFixed(0)} ms, ${i1.width} px wide`);
    }
    // The two pages are sampled a moment apart and frames are in flight (in the network and
    // the jitter buffer, whose depth changes): the count of frames lost is good to a few frames.
    for (const u of Object.keys(pages)) check(u, fig[u]);
    await clean(`after ${name}`);
    return fig;
  };

  // What is asserted is behaviour that holds on a loaded machine too: video keeps decoding
  // through each phase (without NACK and RTX, 5% loss each way would leave VP8 waiting for key
  // frames most of the time), the loss reaches the stream and is answered with NACKs and RTX,
  // and after each phase the video comes back to a good rate by itself (clean(): key frame
  // requests and retransmissions did their work). How many frames were lost is a figure only:
  // on a machine short of CPU the browsers drop frames themselves and the relay's
  // retransmission budget shrinks with the subscribers' estimates (nack_over_budget).
  const decodes = (u, f) => {
    assert.ok(f.framesDecoded >= f.secs, `${u}: video keeps decoding (${f.framesDecoded} frames)`);
  };
  // (How much of the loss reaches a subscriber depends on how much the relay recovered from
  // the publisher first, and on the bitrate: only that some did is asserted.)
  const recovers = (u, f) => {
    decodes(u, f);
    assert.ok(f.packetsLost > 0, `${u}: the loss reached the stream (${f.packetsLost} packets)`);
    assert.ok(f.nacks > 0 && f.rtx > 0, `${u}: NACKs ${f.nacks}, RTX ${f.rtx}`);
  };
  await phase('loss5', { loss: 0.05 }, recovers);
  await phase('burst20', { gemodel: { p: 0.05, r: 0.2 } }, recovers);
  // The publishers' congestion control takes the varying delay for a queue and lowers their
  // rate (size and frame rate): what counts is that what they send decodes.
  await phase('jitter50', { delayMs: 50, jitterMs: 25, reorder: 0.1 }, decodes);

  for (const page of Object.values(pages)) {
    await page.click('#hangup');
    await page.waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  }
});
