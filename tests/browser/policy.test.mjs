// Browser test of live admission: headless Chromium pages hold real Opus+VP8 calls through the
// relay while the policy changes under them, and getStats on the pages shows whose media still
// arrives. Run by test_policy.sh inside a network namespace with `serve --demo` listening.
//
//   a. the group master removes a member mid-call: the member is cut both ways and cannot rejoin;
//   c. a block mid-call stops media between the pair only; a block set before the call means the
//      blocked user's media never reaches the blocker; unblocking restores it;
//   b. an administrator revokes the tenant connection mid-call: every cross-tenant participant is
//      cut, the same-tenant pair keeps talking, the audit log has the entries; the time from the
//      API response to the relay closing the transports is printed as a METRIC.
// The tests run in this order on one server and share four pages, one per demo user (a new
// session for each call): each test restores what the next needs (b is last since the revoked
// connection ends the demo's cross-tenant rooms).
//
// Environment: SB_URL (server base URL), SB_SERVER_LOG (its log, for the cut time),
// SB_TIMEOUT_SCALE, SB_CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { demoToken, SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const SERVER_LOG = process.env.SB_SERVER_LOG || '';
const ROOM = 'demo';   // seeded by --demo: alice (master) and bob of acme, carol and dave of globex
const MEDIA_DEADLINE_MS = 30000 * SCALE;
const EVENT_DEADLINE_MS = 10000 * SCALE;
// After a cut, packets already on the wire may still land: the first sample waits this long,
// the second this much later again; between the two nothing may arrive from a cut sender.
const SETTLE_MS = 300;
const WINDOW_MS = 700;

let browser;
let everyone;   // user -> Peer, opened once

// ---- in-page helpers (serialised into the pages by page.evaluate) ----

// Connects the page's SwitchboardClient (the library under web/), a new one for each call: a
// client whose peer connection was closed while it applied a server offer never applies another
// one (see the report). pageJoin joins `room` publishing the fake camera and microphone (small,
// to spare the CPU). The peer connection is kept open when the client would close it, so that
// the test sees whether the server keeps sending after a cut rather than a closed peer
// connection. Events are recorded per call.
async function pageConnect({ token, fresh }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const t = window.__pt || (window.__pt = { events: [], pcs: [], pc: null, client: null });
  if (t.client && !fresh) return;
  t.client?.close();
  const c = new SwitchboardClient();
  c.addEventListener('event', (e) => t.events.push({ at: Date.now(), ...e.detail }));
  c.addEventListener('error', (e) => t.events.push({ at: Date.now(), event: 'client.error',
                                                      data: { message: e.detail.error.message } }));
  await c.connect(SwitchboardClient.defaultUrl(), token);
  t.client = c;
}

async function pageJoin({ room }) {
  const t = window.__pt;
  t.events = [];
  if (!t.stream) {
    t.stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 320, height: 240, frameRate: 15 },
    });
  }
  const result = await t.client.join(room, t.stream);
  const pc = t.client.pc;
  pc.close = () => { t.closeRequestedAt = Date.now(); };
  t.pcs.push(pc);
  t.pc = pc;
  return { call: result.call, participants: result.participants.map((p) => p.user) };
}

// One request over the page's WebSocket session: {ok, result} or {ok: false, code, message}.
async function pageRequest({ method, params }) {
  try {
    return { ok: true, result: await window.__pt.client.request(method, params) };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message };
  }
}

// call.join with a fresh peer connection on the same session, and on a new session with the same
// token; both must be refused. Returns the two error codes (or 'admitted').
async function pageRejoin({ token, room }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const t = window.__pt;
  const codes = [];
  for (const fresh of [false, true]) {
    let c = t.client;
    try {
      if (fresh) {
        c = new SwitchboardClient();
        await c.connect(SwitchboardClient.defaultUrl(), token);
      }
      await c.join(room, t.stream);
      codes.push('admitted');
      await c.leave();
    } catch (e) {
      codes.push(e.code);
    } finally {
      if (fresh) c.close();
    }
  }
  return codes;
}

// Inbound RTP of the page's latest peer connection, with the remote SDP's m-lines: each active
// m-line the server adds names its sender in `a=ssrc:N cname:<user>`.
async function pageSample() {
  const pc = window.__pt?.pc;
  if (!pc) return null;
  const sections = [];
  for (const sec of (pc.remoteDescription?.sdp || '').split(/\r\nm=/).slice(1)) {
    sections.push({
      kind: sec.slice(0, sec.indexOf(' ')),
      mid: (/\r\na=mid:(\S+)/.exec(sec) || [])[1] || null,
      inactive: /\r\na=inactive\b/.test(sec),
      ssrcs: [...sec.matchAll(/\r\na=ssrc:(\d+) cname:(\S+)/g)].map((m) => [Number(m[1]), m[2]]),
    });
  }
  const inbound = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') {
      inbound.push({ ssrc: s.ssrc, kind: s.kind, packets: s.packetsReceived || 0,
                     frames: s.framesDecoded || 0 });
    }
  });
  // For the failure messages: server offers seen, the last revision answered, client errors.
  const { events, client } = window.__pt;
  const offers = events.filter((e) => e.event === 'call.offer').map((e) => e.data.revision);
  const errors = events.filter((e) => e.event === 'client.error').map((e) => e.data.message);
  return { at: Date.now(), state: pc.connectionState, signaling: pc.signalingState, sections,
           inbound, offers, answered: client.revision, errors };
}

// Leaves the call (if the server has not ended it) and really closes the kept peer connections;
// the session stays open for requests until the next join replaces it.
async function pageLeave() {
  const t = window.__pt;
  if (!t) return;
  try {
    if (t.client?.pc) await t.client.leave();
  } catch { /* the server may have ended the call meanwhile */ }
  for (const pc of t.pcs) RTCPeerConnection.prototype.close.call(pc);
  t.pcs = [];
  t.pc = null;
}

// ---- node side ----

/** One user's page: its session, call and what its inbound streams carry per sender. */
class Peer {
  constructor(user, page) {
    this.user = user;
    this.page = page;
    this.ssrcUser = new Map();   // every SSRC the server ever announced, and its sender
    this.last = null;
    this.connected = false;
  }

  async connect(fresh = false) {
    if (!this.connected || fresh) {
      await this.page.evaluate(pageConnect, { token: await demoToken(this.user), fresh });
      this.connected = true;
    }
  }

  async join() {
    await this.connect(true);
    const r = await this.page.evaluate(pageJoin, { room: ROOM });
    const others = r.participants.join(', ') || '-';
    log(`${this.user} joined ${ROOM} (call ${r.call}; others: ${others})`);
    return r;
  }

  async request(method, params) {
    await this.connect();
    return this.page.evaluate(pageRequest, { method, params });
  }

  /**
   * Samples getStats: {at, state, from: {sender: {packets, audio, video, frames}}, total,
   * unattributed (packets on SSRCs no m-line ever named), mlines: {sender: active m-lines}}.
   */
  async sample() {
    const raw = await this.page.evaluate(pageSample);
    assert.ok(raw, `${this.user} has no peer connection`);
    const mlines = {};
    for (const sec of raw.sections) {
      for (const [ssrc, user] of sec.ssrcs) this.ssrcUser.set(ssrc, user);
      for (const [, user] of sec.ssrcs) {
        if (!sec.inactive) mlines[user] = (mlines[user] || 0) + 1;
      }
    }
    const from = {};
    let total = 0;
    let unattributed = 0;
    for (const s of raw.inbound) {
      total += s.packets;
      const user = this.ssrcUser.get(s.ssrc);
      if (!user) {
        unattributed += s.packets;
        continue;
      }
      const f = from[user] || (from[user] = { packets: 0, audio: 0, video: 0, frames: 0 });
      f.packets += s.packets;
      f[s.kind] += s.packets;
      if (s.kind === 'video') f.frames += s.frames;
    }
    this.last = { at: raw.at, state: raw.state, from, total, unattributed, mlines,
                  diag: { signaling: raw.signaling, offers: raw.offers, answered: raw.answered,
                          errors: raw.errors } };
    return this.last;
  }

  /** Packets received from `sender` in a sample (0 if none ever arrived). */
  static packets(sample, sender) {
    return sample.from[sender]?.packets || 0;
  }

  async events(name) {
    return this.page.evaluate((n) => window.__pt.events.filter((e) => e.event === n), name);
  }

  /** Waits for the server event `name` whose data matches `match` (shallow); returns it. */
  async waitEvent(name, match = {}) {
    const handle = await this.page.waitForFunction(({ n, m }) => window.__pt.events.find(
      (e) => e.event === n && Object.entries(m).every(([k, v]) => e.data?.[k] === v)),
    { n: name, m: match }, { polling: 20, timeout: EVENT_DEADLINE_MS });
    return handle.jsonValue();
  }
}


/** An admin API call with `token`; `sent` and `at` are the epoch ms of the request and response. */
async function admin(token, method, path, body) {
  const sent = Date.now();
  const res = await fetch(new URL(path, BASE), {
    method,
    headers: { Authorization: `Bearer ${token}`,
               ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const at = Date.now();
  return { status: res.status, body: await res.json(), sent, at };
}

/** The pages of `users`, as an object user -> Peer (a call's participants). */
function pick(...users) {
  return Object.fromEntries(users.map((u) => [u, everyone[u]]));
}

/** Ends the calls of `peers` (at the end of each test, also when it failed). */
async function leaveAll(peers) {
  for (const p of Object.values(peers)) await p.page.evaluate(pageLeave).catch(() => {});
}

async function sampleAll(peers) {
  const out = {};
  for (const [user, p] of Object.entries(peers)) out[user] = await p.sample();
  return out;
}

const show = (peers) => () => JSON.stringify(Object.fromEntries(
  Object.entries(peers).map(([u, p]) => [u, p.last && { from: p.last.from, state: p.last.state,
                                                         unattributed: p.last.unattributed,
                                                         ...p.last.diag }])));

function flowing(sample, sender) {
  const f = sample.from[sender];
  return Boolean(f && f.audio > 50 && f.frames > 10);
}

/** Waits until every [receiver, sender] pair shows decoded audio and video. */
async function waitFlowing(peers, pairs, what) {
  return waitFor(what, async () => {
    const s = await sampleAll(peers);
    return pairs.every(([rx, tx]) => flowing(s[rx], tx)) && s;
  }, MEDIA_DEADLINE_MS, show(peers));
}

/**
 * Joins `users` one after the other, each once the ones before it decode each other (except
 * the pairs `apart` keeps apart). Joining while an earlier participant still has a server offer
 * outstanding hits a server defect (the answer to that offer is refused; see the report), and
 * this test is about policy, not that race. Returns the last sample.
 */
async function joinInTurn(peers, users, apart = () => false) {
  const joined = [];
  let sample = null;
  for (const user of users) {
    await peers[user].join();
    joined.push(user);
    const pairs = joined.flatMap((rx) => joined.filter((tx) => tx !== rx && !apart(rx, tx))
      .map((tx) => [rx, tx]));
    sample = await waitFlowing(pick(...joined), pairs, `${joined.join(', ')} to decode each other`);
  }
  return sample;
}

/** Polls getStats until `ms` after `since`: a bounded measurement window, not a sync point. */
async function sampleAt(peers, since, ms) {
  for (;;) {
    const s = await sampleAll(peers);
    if (Math.min(...Object.values(s).map((x) => x.at)) >= since + ms) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Two samples after `since` (SETTLE_MS, then WINDOW_MS later): `cut` pairs [receiver, sender]
 * must not grow between them (sender '*': anything on the receiver's page), `kept` pairs must.
 * A cut sender's m-lines on the receiver must then go inactive. `before` is a sample taken
 * while all pairs flowed, to show that a cut pair did carry media.
 */
async function assertCutAndKept(peers, before, since, cut, kept, label) {
  const s1 = await sampleAt(peers, since, SETTLE_MS * SCALE);
  const s2 = await sampleAt(peers, Math.max(...Object.values(s1).map((x) => x.at)), WINDOW_MS);
  const count = (s, rx, tx) => (tx === '*' ? s[rx].total : Peer.packets(s[rx], tx));
  for (const [rx, tx] of cut) {
    const [p, a, b] = [count(before, rx, tx), count(s1, rx, tx), count(s2, rx, tx)];
    log(`${label}: ${rx} from ${tx}: ${p} before, then ${a} -> ${b} packets over ` +
        `${s2[rx].at - s1[rx].at} ms (cut)`);
    assert.ok(p > 0, `${label}: ${rx} had no media from ${tx} before the change`);
    // Frozen, or gone with the receiver's track once the server's new offer made it inactive.
    const gone = b === 0 && tx !== '*' && !s2[rx].mlines[tx];
    assert.ok(b === a || gone, `${label}: ${rx} still receives from ${tx} (${a} -> ${b})`);
  }
  for (const [rx, tx] of kept) {
    const [a, b] = [count(s1, rx, tx), count(s2, rx, tx)];
    log(`${label}: ${rx} from ${tx}: ${a} -> ${b} packets (kept)`);
    assert.ok(b > a, `${label}: ${rx} stopped receiving from ${tx} (${a} -> ${b})`);
  }
  const pairs = cut.filter(([, tx]) => tx !== '*');
  await waitFor(`${label}: the cut senders' m-lines to go inactive`, async () => {
    const s = await sampleAll(peers);
    return pairs.every(([rx, tx]) => !s[rx].mlines[tx]);
  }, EVENT_DEADLINE_MS, show(peers));
  return s2;
}

/** Lines "transport N closed: REASON" of `ctx` in the server log, with their time (epoch ms). */
function transportClosures(ctx) {
  const out = [];
  // 2026-11-26T03:44:03.614Z info  [globex/demo/dave] transport 2948699521085 closed: REASON
  const re = /^(\S+Z) \S+\s+\[([^\]]+)\] transport (\d+) closed: (\S+)/;
  for (const line of readFileSync(SERVER_LOG, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m && m[2] === ctx) out.push({ at: Date.parse(m[1]), transport: m[3], reason: m[4] });
  }
  return out;
}

before(async () => {
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE}, timeout scale ${SCALE}`);
  everyone = {};
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const page = await (await browser.newContext()).newPage();
    watchPage(page, user);
    await page.goto(BASE);
    everyone[user] = new Peer(user, page);
  }
});

after(async () => {
  if (browser) await browser.close();
});

test('a. a member removed by the master mid-call is cut both ways and cannot rejoin',
  { timeout: 60000 * SCALE }, async () => {
    const peers = pick('alice', 'bob', 'carol');
    const { alice, bob, carol } = peers;
    try {
      const before = await joinInTurn(peers, ['alice', 'bob', 'carol']);

      const r = await alice.request('rooms.remove_member',
                                    { room: ROOM, user: 'carol', tenant: 'globex' });
      const answered = Date.now();
      assert.ok(r.ok, `rooms.remove_member: ${JSON.stringify(r)}`);
      const ended = await carol.waitEvent('call.ended', { room: ROOM });
      log(`carol: call.ended ${JSON.stringify(ended.data)}, ${ended.at - answered} ms after ` +
          'the reply');
      assert.equal(ended.data.reason, 'member_removed', 'call.ended reason (docs/api.md)');
      for (const p of [alice, bob]) {
        const left = await p.waitEvent('call.participant_left', { user: 'carol' });
        assert.equal(left.data.tenant, 'globex');
      }
      const removed = await carol.waitEvent('room.member_removed', { room: ROOM, user: 'carol' });
      assert.equal(removed.data.reason, 'member_removed');

      await assertCutAndKept(peers, before, answered,
        [['carol', '*'], ['alice', 'carol'], ['bob', 'carol']],
        [['alice', 'bob'], ['bob', 'alice']], 'after remove_member');

      const codes = await carol.page.evaluate(pageRejoin,
                                              { token: await demoToken('carol'), room: ROOM });
      log(`carol rejoining with her still-valid token: ${codes.join(', ')}`);
      for (const code of codes) {
        assert.ok(['not_found', 'forbidden'].includes(code), `rejoin: ${code}`);
      }

      const room = await alice.request('rooms.get', { room: ROOM });
      assert.ok(room.ok);
      assert.deepEqual(room.result.room.members.map((m) => m.user).sort(),
                       ['alice', 'bob', 'dave']);
      // One query parameter only: the server mangles query strings with several (see report).
      const audit = await admin(await demoToken('carol'), 'GET', '/api/admin/audit?user=carol');
      assert.equal(audit.status, 200);
      const mine = audit.body.entries.filter((e) => e.room === ROOM);
      const kinds = mine.filter((e) => e.reason === 'member_removed').map((e) => e.action);
      assert.ok(kinds.includes('member_remove') && kinds.includes('revoke'),
                `audit of carol's removal: ${JSON.stringify(mine.slice(0, 6))}`);
      assert.ok(mine.some((e) => e.action === 'deny'), 'the refused rejoin is audited');
    } finally {
      await leaveAll(peers);
    }
  });

test('c. a block stops media between the pair only, and a block set before a call holds',
  { timeout: 80000 * SCALE }, async () => {
    const peers = pick('alice', 'bob', 'carol');
    const { alice, bob, carol } = peers;
    const blocked = (x, y) => [x, y].sort().join() === 'bob,carol';
    try {
      const readd = await alice.request('rooms.add_member',
                                        { room: ROOM, user: 'carol', tenant: 'globex' });
      assert.ok(readd.ok, `re-adding carol: ${JSON.stringify(readd)}`);
      const before = await joinInTurn(peers, ['alice', 'bob', 'carol']);

      const r = await bob.request('blocks.add', { user: 'carol', tenant: 'globex' });
      const answered = Date.now();
      assert.ok(r.ok, `blocks.add: ${JSON.stringify(r)}`);
      await assertCutAndKept(peers, before, answered, [['bob', 'carol'], ['carol', 'bob']],
        [['alice', 'bob'], ['alice', 'carol'], ['bob', 'alice'], ['carol', 'alice']],
        'after bob blocks carol');
      for (const p of [bob, carol]) {
        assert.deepEqual(await p.events('call.ended'), [], `${p.user}: a group call goes on`);
      }

      // Everybody leaves; the block stays; a new call, the blocked user first.
      await leaveAll(peers);
      await joinInTurn(peers, ['carol', 'bob', 'alice'], blocked);
      let samples = 0;
      await waitFor('alice to get 150 audio packets and 20 frames from carol, bob and carol ' +
                    'media from alice', async () => {
        const x = await sampleAll(peers);
        for (const [rx, tx] of [['bob', 'carol'], ['carol', 'bob']]) {
          assert.equal(Peer.packets(x[rx], tx), 0, `${rx} got media of ${tx} despite the block`);
          assert.equal(x[rx].unattributed, 0, `${rx}: packets on SSRCs no m-line named`);
          assert.equal(x[rx].mlines[tx] || 0, 0, `${rx} was offered ${tx}'s tracks`);
        }
        samples++;
        const f = x.alice.from.carol;
        return f && f.audio > 150 && f.frames > 20 && flowing(x.bob, 'alice')
          && flowing(x.carol, 'alice');
      }, MEDIA_DEADLINE_MS, show(peers));
      const x = bob.last;
      log(`block before the call: bob got ${x.total} packets, all from ${Object.keys(x.from)}; ` +
          `alice got ${alice.last.from.carol.packets} from carol (${samples} samples)`);
      assert.deepEqual(Object.keys(x.from), ['alice']);

      // Unblocking restores the pair in the running call.
      const u = await bob.request('blocks.remove', { user: 'carol', tenant: 'globex' });
      assert.ok(u.ok, `blocks.remove: ${JSON.stringify(u)}`);
      await waitFlowing(peers, [['bob', 'carol'], ['carol', 'bob']],
                        'media between bob and carol after unblocking');
    } finally {
      await leaveAll(peers);
    }
  });

test('b. revoking the connection mid-call cuts every cross-tenant participant',
  { timeout: 80000 * SCALE }, async () => {
    const peers = pick('alice', 'bob', 'carol', 'dave');
    const { alice, bob, carol, dave } = peers;
    try {
      const before = await joinInTurn(peers, ['alice', 'bob', 'carol', 'dave']);

      const carolToken = await demoToken('carol');
      // `{}` rather than no body: an empty POST body crashes the sanitizer build (see report).
      const r = await admin(carolToken, 'POST', '/api/admin/connections/acme/revoke', {});
      assert.equal(r.status, 200, `revoke: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.connection.usable, false);
      assert.equal(r.body.connection.allowed, false);

      for (const p of [carol, dave]) {
        const ended = await p.waitEvent('call.ended', { room: ROOM });
        log(`${p.user}: call.ended ${JSON.stringify(ended.data)}, ${ended.at - r.at} ms after ` +
            'the response');
        assert.equal(ended.data.reason, 'connection_revoked');
      }
      for (const p of [alice, bob]) {
        for (const who of ['carol', 'dave']) {
          await p.waitEvent('call.participant_left', { user: who });
        }
        assert.deepEqual(await p.events('call.ended'), [], `${p.user} stays in the call`);
      }
      await assertCutAndKept(peers, before, r.at,
        [['carol', '*'], ['dave', '*'], ['alice', 'carol'], ['alice', 'dave'], ['bob', 'carol'],
         ['bob', 'dave']],
        [['alice', 'bob'], ['bob', 'alice']], 'after the revocation');

      // The figure the issue asks for: API response to the relay closing the transport.
      const cuts = [];
      for (const who of ['carol', 'dave']) {
        const ctx = `globex/${ROOM}/${who}`;
        const mine = await waitFor(`"transport ... closed" of ${ctx} in the server log`, () => {
          const c = transportClosures(ctx).filter((x) => x.reason === 'connection_revoked');
          return c.length > 0 && c[c.length - 1];
        }, EVENT_DEADLINE_MS);
        cuts.push({ who, ms: mine.at - r.at, fromRequest: mine.at - r.sent });
      }
      const list = (key) => cuts.map((c) => `${c.who} ${c[key]}`).join(', ');
      log(`revocation: request to response ${r.at - r.sent} ms; transport closed (server log, ` +
          `ms resolution) relative to the response: ${list('ms')}; relative to the request: ` +
          `${list('fromRequest')} (negative: closed before the response arrived)`);
      log(`METRIC revoke_to_cut_ms: ${Math.max(...cuts.map((c) => c.ms))}`);

      const codes = await carol.page.evaluate(pageRejoin,
                                              { token: await demoToken('carol'), room: ROOM });
      for (const code of codes) {
        assert.ok(['not_found', 'forbidden'].includes(code), `carol rejoin: ${code}`);
      }

      const audit = await admin(carolToken, 'GET', '/api/admin/audit?limit=100');
      assert.equal(audit.status, 200);
      const e = audit.body.entries;
      const conn = e.find((x) => x.action === 'connection_revoke');
      assert.ok(conn, 'a connection_revoke entry');
      assert.deepEqual(conn.actor, { tenant: 'globex', user: 'carol' });
      assert.ok(conn.tenants.includes('acme') && conn.tenants.includes('globex'),
                `connection_revoke concerns both tenants: ${JSON.stringify(conn)}`);
      for (const who of ['carol', 'dave']) {
        for (const action of ['member_remove', 'revoke']) {
          assert.ok(e.some((x) => x.action === action && x.user === who && x.room === ROOM &&
                                  x.reason === 'connection_revoked'),
                    `audit ${action} of ${who} in ${ROOM}: ${JSON.stringify(e.slice(0, 12))}`);
        }
      }
      const room = await alice.request('rooms.get', { room: ROOM });
      assert.deepEqual(room.result.room.members.map((m) => m.user).sort(), ['alice', 'bob']);
    } finally {
      await leaveAll(peers);
    }
  });
