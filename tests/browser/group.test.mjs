// Browser test of a group call: three demo pages (alice, bob, carol) join the room "demo" and each
// decodes the other two, asserted per remote participant; carol hangs up and alice and bob keep
// decoding each other while carol disappears from their pages; dave joins and the three decode
// each other (the server renegotiates, reusing carol's m-line slots or adding new ones).
// Run by test_group.sh inside a network namespace with the server already listening at SB_URL.
//
// Inbound RTP streams are mapped to participants through the page's current remote description:
// the m-line whose a=ssrc lines (or a=mid) match the stream carries a=msid:<user id> <track id>.
// The stream's track must also belong to the MediaStream the client library reported for that
// user (streamadded), so both views of "who is this" agree.
//
// Environment: SB_URL (demo page URL), SB_TIMEOUT_SCALE, SB_CHROMIUM, SB_ROOM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SCALE, launchChromium, log, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = process.env.SB_ROOM || 'demo';
const PHASE_MS = 30000 * SCALE;
const MIN_AUDIO_PACKETS = 50;
const MIN_VIDEO_FRAMES = 30;

let browser;
const pages = {};
let broken = null;   // the first failed step: later steps depend on it and are skipped

// Runs in the page before its scripts: keeps every server event and error reply, so the test
// can check what the page was told and print the SDP it got when something goes wrong.
// Camera video is asked for at 320x240, 15 fps instead of the demo page's default 640x480 at
// 30: four pages encode and decode on a small shared machine, and the test is about forwarding,
// not picture size.
function instrumentPage() {
  window.__sb = { frames: [] };
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => gum(c?.video === true
    ? { ...c, video: { width: 320, height: 240, frameRate: 15 } } : c);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch { return; }
        if (m.event || m.error) window.__sb.frames.push({ at: Date.now(), ...m });
      });
    }
  };
}

// Runs in the page: the remote description's m-lines, every inbound RTP stream mapped to a user,
// and what the client library and the demo page show.
async function remoteView() {
  const client = window.sbDemo?.client;
  const pc = client?.pc;
  if (!pc) return null;
  const sdp = pc.remoteDescription?.sdp || '';
  const mlines = sdp.split(/\r?\n(?=m=)/).slice(1).map((section) => {
    const lines = section.split(/\r?\n/);
    const [kind, port] = lines[0].slice(2).split(' ');
    const m = { kind, port: Number(port), mid: null, dir: 'sendrecv', user: null, ssrcs: [] };
    for (const line of lines) {
      let r;
      if ((r = /^a=mid:(\S+)/.exec(line))) m.mid = r[1];
      else if ((r = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line))) m.dir = r[1];
      else if ((r = /^a=msid:(\S+)/.exec(line))) m.user = r[1];
      else if ((r = /^a=ssrc:(\d+)/.exec(line))) m.ssrcs.push(Number(r[1]));
    }
    // The server's direction: sendonly (or sendrecv) means it sends us this track.
    m.active = m.port !== 0 && (m.dir === 'sendonly' || m.dir === 'sendrecv');
    return m;
  });
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const inbound = [];
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    // By SSRC; by mid only where the m-line announces none. A stream whose SSRC its m-line no
    // longer announces is a stale one (a slot reused for another user) and maps to nobody.
    const m = mlines.find((x) => x.ssrcs.includes(s.ssrc))
      || mlines.find((x) => x.mid === s.mid && x.ssrcs.length === 0);
    const stream = m?.user ? client.streams.get(m.user) : undefined;
    inbound.push({
      id: s.id, ssrc: s.ssrc, kind: s.kind, mid: s.mid ?? null, user: m?.user ?? null,
      mlineMid: m?.mid ?? null, active: Boolean(m?.active),
      codec: byId.get(s.codecId)?.mimeType?.toLowerCase() ?? null,
      packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
      framesDecoded: s.framesDecoded ?? 0, frameWidth: s.frameWidth ?? null,
      inStream: Boolean(stream?.getTracks().some((tr) => tr.id === s.trackIdentifier)),
    });
  });
  return {
    me: client.user?.id ?? null,
    signalingState: pc.signalingState,
    connectionState: pc.connectionState,
    mlines,
    inbound,
    participants: [...client.participants.keys()].sort(),
    streams: [...client.streams].map(([user, st]) => ({
      user, tracks: st.getTracks().map((tr) => `${tr.kind}:${tr.readyState}`),
    })),
    tiles: [...document.querySelectorAll('#videos figure[data-user]')].map((f) => f.dataset.user),
    listed: document.getElementById('participants').textContent,
    lastError: window.sbDemo.lastError ? String(window.sbDemo.lastError.message) : null,
  };
}

/** Opens the demo pages of `users` at once (page loads overlap) and waits for their user lists. */
async function openPages(users) {
  const t0 = Date.now();
  await Promise.all(users.map(async (user) => {
    const page = await openPage(browser, user, BASE, instrumentPage);
    await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null,
                               { timeout: PHASE_MS });
    pages[user] = page;
  }));
  log(`pages of ${users.join(', ')} loaded in ${Date.now() - t0} ms`);
}

/** Joins ROOM as `user` on its open demo page and waits until the server has answered. */
async function joinAs(user) {
  const t0 = Date.now();
  const page = pages[user];
  await page.selectOption('#user', user);
  await page.fill('#room', ROOM);
  await page.click('#join');
  await page.waitForFunction(() => window.sbDemo.client?.callId || window.sbDemo.lastError, null,
                             { timeout: PHASE_MS });
  const err = await page.evaluate(() => window.sbDemo.lastError?.message ?? null);
  assert.equal(err, null, `${user} could not join ${ROOM}`);
  log(`${user} joined in ${Date.now() - t0} ms`);
}

/** Waits until `user`'s demo page shows a playing video tile for each other of `users`. */
async function tilesPlay(user, users) {
  const others = users.filter((o) => o !== user);
  await pages[user].waitForFunction((want) => want.every((o) => [...document.querySelectorAll(
    '#videos figure[data-user]')].some((f) => f.dataset.user === o && f.querySelector('video')?.videoWidth > 0)),
  others, { timeout: 10000 * SCALE }).catch((err) => {
    assert.fail(`${user}'s page shows no playing video of ${others.join(' or ')}: ${err.message}`);
  });
}

async function views(users) {
  const out = {};
  for (const u of users) out[u] = await pages[u].evaluate(remoteView);
  return out;
}

/** Counters of every inbound stream of each page, by stats id: the start of a sample. */
function baselineOf(vs) {
  const base = {};
  for (const [u, v] of Object.entries(vs)) {
    base[u] = {};
    for (const s of v?.inbound || []) base[u][s.id] = s;
  }
  return base;
}

/**
 * What `me` still lacks to count as decoding each of `others` since `base`: per remote user, an
 * active opus stream with more than MIN_AUDIO_PACKETS new packets and an active VP8 stream with
 * more than MIN_VIDEO_FRAMES new frames, both tracks in that user's library stream.
 */
function missing(me, v, others, base) {
  if (!v) return [`${me}: not in a call`];
  const out = [];
  if (v.lastError) out.push(`${me}: page error "${v.lastError}"`);
  for (const other of others) {
    for (const [kind, codec, field, min] of [['audio', 'audio/opus', 'packetsReceived', MIN_AUDIO_PACKETS],
                                             ['video', 'video/vp8', 'framesDecoded', MIN_VIDEO_FRAMES]]) {
      const streams = v.inbound.filter((s) => s.user === other && s.kind === kind && s.active);
      const best = Math.max(-1, ...streams.map((s) => s[field] - (base?.[s.id]?.[field] ?? 0)));
      const s = streams[0];
      if (!s) out.push(`${me}<-${other} ${kind}: no active inbound stream`);
      else if (s.codec !== codec) out.push(`${me}<-${other} ${kind}: codec ${s.codec}`);
      else if (!streams.some((x) => x.inStream)) out.push(`${me}<-${other} ${kind}: track not in the library's stream`);
      else if (best <= min) out.push(`${me}<-${other} ${kind}: ${field} +${best}`);
    }
  }
  const strangers = v.inbound.filter((s) => s.active && !others.includes(s.user)).map((s) => s.user);
  if (strangers.length) out.push(`${me}: inbound media of ${[...new Set(strangers)].join(',')}`);
  return out;
}

/** Waits until each of `users` decodes all the others since `base`; returns the views. */
async function waitAllDecode(users, base = {}) {
  let last = {};
  let problems = [];
  return waitFor(`${users.join(', ')} to decode each other`, async () => {
    last = await views(users);
    problems = users.flatMap((u) => missing(u, last[u], users.filter((o) => o !== u), base[u]));
    return problems.length === 0 && last;
  }, PHASE_MS, () => `${problems.join('; ')}\n${summarize(last)}`);
}

/** One line per page: m-lines (mid kind dir user) and inbound counters (user kind value). */
function summarize(vs) {
  return Object.entries(vs).map(([u, v]) => {
    if (!v) return `${u}: no call`;
    const ml = v.mlines.map((m) => `${m.mid}:${m.kind[0]}:${m.dir}:${m.user ?? '-'}`).join(' ');
    const inb = v.inbound.map((s) => `${s.user ?? '?'}/${s.kind[0]}/mid${s.mid}/${s.active ? 'on' : 'off'}=` +
      (s.kind === 'video' ? `${s.framesDecoded}f` : `${s.packetsReceived}p`)).join(' ');
    return `${u} [${v.signalingState}/${v.connectionState}] m-lines ${ml} | inbound ${inb} | ` +
      `participants ${v.participants} tiles ${v.tiles}`;
  }).join('\n');
}

async function health() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200, 'GET /api/health');
  const body = await res.json();
  const sum = {};
  for (const w of body.workers) {
    for (const [k, val] of Object.entries(w)) {
      if (typeof val === 'number' && k !== 'worker' && k !== 'port') sum[k] = (sum[k] || 0) + val;
    }
  }
  return sum;
}

/** Prints each page's server events and current remote SDP: the evidence of a failed step. */
async function dumpPages() {
  for (const [u, page] of Object.entries(pages)) {
    const d = await page.evaluate(() => ({
      frames: window.__sb.frames.map((f) => (f.event === 'call.offer'
        ? { event: f.event, revision: f.data?.revision } : f)),
      sdp: window.sbDemo?.client?.pc?.remoteDescription?.sdp ?? null,
    })).catch((e) => ({ error: e.message }));
    log(`${u} events (last 40): ${JSON.stringify(d.frames?.slice(-40) ?? d.error)}`);
    if (d.sdp) log(`${u} remote SDP:\n#   ${d.sdp.trim().split(/\r?\n/).join('\n#   ')}`);
  }
}

/** Skips a step whose premise (an earlier step) failed, so its failure is not reported twice. */
function step(name, fn) {
  const limit = 3 * PHASE_MS;
  test(name, { timeout: limit + 5000 }, async (t) => {
    if (broken) {
      t.skip(`needs "${broken}"`);
      return;
    }
    let timer;
    const expired = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`step took over ${limit} ms`)), limit);
    });
    try {
      await Promise.race([fn(t), expired]);
    } catch (err) {
      broken = name;
      await dumpPages();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  });
}

before(async () => {
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, room ${ROOM}, timeout scale ${SCALE}`);
});

after(async () => {
  if (browser) await browser.close();
});

let carolMidsAtAlice = [];

step('three pages in one room each decode the other two', async () => {
  await openPages(['alice', 'bob', 'carol', 'dave']);
  for (const u of ['alice', 'bob', 'carol']) await joinAs(u);
  const t0 = Date.now();
  const afterThree = await waitAllDecode(['alice', 'bob', 'carol']);
  log(`all three decode each other ${Date.now() - t0} ms after carol's join`);
  log(`three decoding:\n${summarize(afterThree)}`);
  for (const [u, v] of Object.entries(afterThree)) {
    const others = ['alice', 'bob', 'carol'].filter((o) => o !== u);
    assert.deepEqual(v.participants, others, `${u}'s client library lists the other two`);
    for (const o of others) assert.ok(v.streams.some((s) => s.user === o), `${u} has a stream of ${o}`);
  }
  // Each remote tile plays video (the demo page's own view of the same streams).
  for (const u of ['alice', 'bob', 'carol']) await tilesPlay(u, ['alice', 'bob', 'carol']);
});

step('the active speaker is announced to every participant', async () => {
  // Every fake microphone plays a tone, so the audio levels (RFC 6464) say someone speaks: each
  // page must hear call.active_speaker naming a participant of the call.
  let seen = {};
  await waitFor('call.active_speaker on every page', async () => {
    for (const u of ['alice', 'bob', 'carol']) {
      seen[u] = await pages[u].evaluate(() => window.__sb.frames
        .filter((f) => f.event === 'call.active_speaker').map((f) => f.data.user));
    }
    return Object.values(seen).every((users) => users.length > 0);
  }, 20000 * SCALE, () => JSON.stringify(seen));
  for (const [u, users] of Object.entries(seen)) {
    for (const who of users) assert.ok(['alice', 'bob', 'carol'].includes(who), `${u} was told ${who} speaks`);
  }
  log(`active speaker events: ${JSON.stringify(seen)}`);
});

step('carol hangs up: alice and bob keep decoding each other and no longer show carol', async () => {
  const before3 = await views(['alice', 'bob']);
  carolMidsAtAlice = before3.alice.mlines.filter((m) => m.user === 'carol').map((m) => m.mid);
  const t0 = Date.now();
  await pages.carol.click('#hangup');
  await pages.carol.waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  assert.match(await pages.carol.textContent('#status'), /left/i, 'carol\'s page says she left');

  // Both pages are told, drop carol's stream, tile and list entry, and apply the server's offer
  // that deactivates her m-lines.
  let last = {};
  let problems = [];
  const gone = await waitFor('carol to disappear from alice\'s and bob\'s pages', async () => {
    last = await views(['alice', 'bob']);
    problems = [];
    for (const u of ['alice', 'bob']) {
      const v = last[u];
      const frames = await pages[u].evaluate(() => window.__sb.frames);
      if (!frames.some((f) => f.event === 'call.participant_left' && f.data?.user === 'carol')) {
        problems.push(`${u}: no call.participant_left for carol`);
      }
      if (!v) { problems.push(`${u}: not in a call`); continue; }
      if (v.participants.includes('carol')) problems.push(`${u}: library still lists carol`);
      if (v.streams.some((s) => s.user === 'carol')) problems.push(`${u}: carol's stream remains`);
      if (v.tiles.includes('carol')) problems.push(`${u}: carol's tile remains`);
      if (/carol/i.test(v.listed)) problems.push(`${u}: "In the call" lists carol`);
      if (v.mlines.some((m) => m.user === 'carol' && m.active)) problems.push(`${u}: carol's m-line still active`);
      if (v.signalingState !== 'stable') problems.push(`${u}: signaling ${v.signalingState}`);
    }
    return problems.length === 0 && last;
  }, PHASE_MS, () => `${problems.join('; ')}\n${summarize(last)}`);

  const left = (await pages.alice.evaluate(() => window.__sb.frames))
    .find((f) => f.event === 'call.participant_left' && f.data?.user === 'carol');
  log(`carol gone from both pages ${Date.now() - t0} ms after her hang-up ` +
      `(participant_left ${JSON.stringify(left.data)})`);
  // Alice's and bob's streams of each other survived the renegotiation: same SSRC, and the
  // counters keep growing over a later sample.
  for (const [u, o] of [['alice', 'bob'], ['bob', 'alice']]) {
    const ssrcs = (v) => v.inbound.filter((s) => s.user === o && s.active).map((s) => s.ssrc).sort();
    assert.deepEqual(ssrcs(gone[u]), ssrcs(before3[u]), `${u}'s streams of ${o} kept their SSRCs`);
  }
  const after2 = await waitAllDecode(['alice', 'bob'], baselineOf(gone));
  log(`after carol left:\n${summarize(after2)}`);
  for (const u of ['alice', 'bob']) {
    const unexpected = (await pages[u].evaluate(() => window.__sb.frames)).filter((f) => f.error);
    assert.deepEqual(unexpected, [], `${u} got error replies`);
  }
  await pages.carol.context().close();
  delete pages.carol;
});

step('dave joins: alice, bob and dave decode each other', async () => {
  const base = baselineOf(await views(['alice', 'bob']));
  const mlinesBefore = (await views(['alice'])).alice?.mlines || [];
  await joinAs('dave');
  const t0 = Date.now();
  const v = await waitAllDecode(['alice', 'bob', 'dave'], base);
  log(`all three decode each other ${Date.now() - t0} ms after dave's join`);
  log(`with dave:\n${summarize(v)}`);
  for (const u of ['alice', 'bob', 'dave']) {
    const others = ['alice', 'bob', 'dave'].filter((o) => o !== u);
    assert.deepEqual(v[u].participants, others, `${u}'s client library lists the other two`);
    await tilesPlay(u, ['alice', 'bob', 'dave']);
  }
  // How the server placed dave's tracks on alice's side: in carol's freed m-lines or new ones.
  const daveMids = v.alice.mlines.filter((m) => m.user === 'dave').map((m) => m.mid);
  const reused = daveMids.filter((m) => carolMidsAtAlice.includes(m));
  log(`METRIC group_mlines: alice had ${mlinesBefore.length} m-lines (carol's: ${carolMidsAtAlice}); ` +
      `now ${v.alice.mlines.length}, dave's ${daveMids} (${reused.length} reused)`);
  const h = await health();
  log(`METRIC group_relay: rtp_forwarded ${h.rtp_forwarded} rtp_retransmitted ${h.rtp_retransmitted} ` +
      `nack_received ${h.nack_received} drop_not_admitted ${h.drop_not_admitted} drop_srtp ${h.drop_srtp} ` +
      `drop_unknown_source ${h.drop_unknown_source} drop_malformed ${h.drop_malformed} drop_send ${h.drop_send}`);
  assert.equal(h.drop_malformed, 0, 'relay counted malformed packets');
  assert.equal(h.drop_srtp, 0, 'relay counted SRTP failures');
});

step('everyone hangs up', async () => {
  for (const u of ['alice', 'bob', 'dave']) {
    await pages[u].click('#hangup');
    await pages[u].waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  }
});
