// Browser test of loss recovery: the relay runs with --test-drop-percent (test_loss.sh), so it
// drops a share of the RTP it first sends to subscribers but never a retransmission. Alice and bob
// hold a call on the demo page; over a window of several seconds both keep decoding video, both
// send NACKs (inbound-rtp nackCount), the relay answers them (rtp_retransmitted in /api/health)
// with RFC 4588 RTX (the subscriber receives about one RTX packet per lost video packet).
// Run by test_loss.sh inside a network namespace with the server already listening at SB_URL.
//
// Environment: SB_URL (demo page URL), SB_DROP_PERCENT (the server's --test-drop-percent),
// SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_ROOM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = process.env.SB_ROOM || 'demo';
const DROP_PERCENT = Number(process.env.SB_DROP_PERCENT || 5);
const DEADLINE_MS = 30000 * SCALE;
const WINDOW_MS = 6000;           // the sample window over which video must keep decoding
const MIN_FPS = 5;                // the fake camera sends 30 fps; a stall shows as far less

let browser;

// Runs in the page: the inbound audio and video of the one remote participant, and whether the
// server's m-line for that video offers RTX (an rtx codec and an FID SSRC group).
async function lossView() {
  const pc = window.sbDemo?.client?.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const out = { audio: null, video: null, rtxOffered: false, fid: false };
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp' || !(s.kind === 'audio' || s.kind === 'video')) return;
    const mine = {
      ssrc: s.ssrc, mid: s.mid ?? null, codec: byId.get(s.codecId)?.mimeType?.toLowerCase() ?? null,
      packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
      nackCount: s.nackCount ?? 0, framesDecoded: s.framesDecoded ?? 0,
      framesDropped: s.framesDropped ?? null, freezeCount: s.freezeCount ?? null,
      totalFreezesDuration: s.totalFreezesDuration ?? null, pliCount: s.pliCount ?? null,
      retransmittedPacketsReceived: s.retransmittedPacketsReceived ?? null,
    };
    const prev = out[s.kind];
    if (!prev || mine.packetsReceived > prev.packetsReceived) out[s.kind] = mine;
  });
  const video = out.video;
  const sections = (pc.remoteDescription?.sdp || '').split(/\r?\n(?=m=)/).slice(1);
  const section = video && sections.find((x) => x.includes(`a=ssrc:${video.ssrc} `));
  if (section) {
    out.rtxOffered = /^a=rtpmap:\d+ rtx\/90000/m.test(section);
    out.fid = new RegExp(`^a=ssrc-group:FID ${video.ssrc} \\d+`, 'm').test(section);
  }
  return out;
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

async function health() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200, 'GET /api/health');
  const sum = {};
  for (const w of (await res.json()).workers) {
    for (const [k, val] of Object.entries(w)) {
      if (typeof val === 'number' && k !== 'worker' && k !== 'port') sum[k] = (sum[k] || 0) + val;
    }
  }
  return sum;
}

before(async () => {
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, drop ${DROP_PERCENT}%, timeout scale ${SCALE}`);
});

after(async () => {
  if (browser) await browser.close();
});

test(`video survives ${DROP_PERCENT}% loss toward subscribers through NACK and RTX`,
     { timeout: 4 * DEADLINE_MS }, async () => {
  const pages = { alice: await openAndJoin('alice'), bob: await openAndJoin('bob') };
  const users = Object.keys(pages);
  let last = {};
  const stats = async () => {
    for (const u of users) last[u] = await pages[u].evaluate(lossView);
    return last;
  };
  const show = () => JSON.stringify(last);
  const start = await waitFor('both pages to decode audio and video', async () => {
    const s = await stats();
    return users.every((u) => s[u]?.audio?.packetsReceived > 50 && s[u]?.video?.framesDecoded > 30)
      && structuredClone(s);
  }, DEADLINE_MS, show);

  // The sample window: at least WINDOW_MS, and until the counters under test have moved (they
  // need a NACK round trip), bounded by the deadline.
  const h0 = await health();
  const t0 = Date.now();
  let h = h0;
  let elapsed = 0;
  const recovered = (s) => users.every((u) => s[u]?.video?.nackCount > 0)
    && h.rtp_retransmitted > 0 && h.test_dropped > 0;
  for (;;) {
    await stats();
    h = await health();
    elapsed = Date.now() - t0;
    if ((elapsed >= WINDOW_MS && recovered(last)) || elapsed > DEADLINE_MS) break;
    await new Promise((r) => setTimeout(r, 200));   // polling interval of a bounded wait
  }
  const end = last;
  const seconds = elapsed / 1000;

  const checks = [];
  for (const u of users) {
    const a = start[u].video;
    const b = end[u]?.video;
    assert.ok(b, `${u}: no inbound video at the end of the window; last seen ${show()}`);
    const frames = b.framesDecoded - a.framesDecoded;
    const packets = b.packetsReceived - a.packetsReceived;
    const lost = b.packetsLost - a.packetsLost;
    const retransmitted = (b.retransmittedPacketsReceived ?? 0) - (a.retransmittedPacketsReceived ?? 0);
    const audioPackets = end[u].audio.packetsReceived - start[u].audio.packetsReceived;
    const audioLost = end[u].audio.packetsLost - start[u].audio.packetsLost;
    log(`METRIC loss_subscriber ${u}: window ${seconds.toFixed(1)} s; video framesDecoded ` +
        `${b.framesDecoded} (+${frames}, ${(frames / seconds).toFixed(1)} fps) framesDropped ` +
        `${b.framesDropped} freezeCount ${b.freezeCount} totalFreezesDuration ${b.totalFreezesDuration} ` +
        `nackCount ${b.nackCount} pliCount ${b.pliCount} retransmittedPacketsReceived ` +
        `${b.retransmittedPacketsReceived} (+${retransmitted}); ` +
        `video packets +${packets} lost +${lost}; audio (no NACK) packets +${audioPackets} lost +${audioLost}; ` +
        `server offered RTX ${end[u].rtxOffered} with FID group ${end[u].fid}`);
    checks.push(() => {
      assert.ok(frames >= MIN_FPS * seconds,
                `${u}: video kept decoding: +${frames} frames in ${seconds.toFixed(1)} s`);
      assert.ok(b.nackCount > 0, `${u}: inbound video nackCount ${b.nackCount}`);
      assert.ok(end[u].rtxOffered && end[u].fid,
                `${u}: the server's video m-line offers RTX (rtx codec ${end[u].rtxOffered}, FID ${end[u].fid})`);
      // Chromium counts a packet that RTX brings back in retransmittedPacketsReceived (on the
      // RTX stream) and still in packetsLost of the media stream, so the relay should have resent
      // about as many video packets as were lost in the window.
      assert.ok(retransmitted > 0 && retransmitted * 2 >= lost,
                `${u}: ${retransmitted} RTX packets received for ${lost} video packets lost`);
    });
  }
  log(`METRIC loss_relay: window ${seconds.toFixed(1)} s; rtp_forwarded +${h.rtp_forwarded - h0.rtp_forwarded} ` +
      `test_dropped +${h.test_dropped - h0.test_dropped} (total ${h.test_dropped}) ` +
      `nack_received +${h.nack_received - h0.nack_received} (total ${h.nack_received}) ` +
      `rtp_retransmitted +${h.rtp_retransmitted - h0.rtp_retransmitted} (total ${h.rtp_retransmitted}) ` +
      `nack_sent ${h.nack_sent} rtx_recovered ${h.rtx_recovered} drop_send ${h.drop_send} ` +
      `drop_malformed ${h.drop_malformed} drop_srtp ${h.drop_srtp}`);
  for (const check of checks) check();
  assert.ok(h.test_dropped > 0, `relay test_dropped ${h.test_dropped}`);
  assert.ok(h.nack_received > 0, `relay nack_received ${h.nack_received}`);
  assert.ok(h.rtp_retransmitted > 0, `relay rtp_retransmitted ${h.rtp_retransmitted}`);

  for (const page of Object.values(pages)) {
    await page.click('#hangup');
    await page.waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  }
});
