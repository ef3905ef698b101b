// Cluster test with real browsers: three Switchboard nodes on one PostgreSQL behind HAProxy
// (started by test_cluster.sh in a network namespace). Headless Chromium pages load the demo
// through HAProxy and use web/switchboard.js as an application would; the library follows the
// server's redirects to a room's home node and rejoins on its own after a failure.
//
//   1. participants who enter through different nodes meet on the room's home node: audio and
//      video both ways;
//   2. a revocation made on another node cuts the member's media on the home node, and the
//      member's rejoin is refused on every node (METRIC cross_node_cut_ms: from the API answer
//      to the last RTP packet the cut member's page received);
//   3. PostgreSQL restarts during a call: media keeps flowing, and API calls succeed again once
//      the nodes have reconnected;
//   4. kill -9 of the home node: the pages rejoin through HAProxy and the call resumes on another
//      node (METRIC failover_ms: from the kill to media decoded again on both pages);
//   5. drain: the drained node turns not ready, a new room asked of it is homed elsewhere, and
//      its calls move when the drain timeout ends (the pages rejoin on their own).
//
// Environment: SB_LB_URL (HAProxy), SB_NODES (JSON [{id, url, pid, log}]), SB_PG_RESTART (a
// shell command that restarts PostgreSQL and returns once it accepts connections again),
// SB_OPERATOR_TOKEN, SB_TIMEOUT_SCALE, SB_CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { chromium } from '../browser/node_modules/playwright-core/index.mjs';
import { CHROMIUM, CHROMIUM_ARGS, demoToken, SCALE, log, openPage, waitFor } from '../browser/lib.mjs';

const LB = process.env.SB_LB_URL || 'http://127.0.0.1:8000/';
const NODES = JSON.parse(process.env.SB_NODES || '[]');
const OPERATOR = process.env.SB_OPERATOR_TOKEN || '';
const MEDIA_MS = 30000 * SCALE;
const ROOM = 'demo'; // alice (master) and bob of acme, carol and dave of globex

let browser;
const pages = {};
const tokens = {};

// ---- in the pages ----

// A client that stays for the whole test: it records every server event and the node that
// hosts its call (call.connected names it).
async function pageConnect({ token, url }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const t = window.__ct || (window.__ct = { events: [] });
  t.client?.close();
  const c = new SwitchboardClient();
  c.addEventListener('event', (e) => t.events.push({ at: Date.now(), ...e.detail }));
  // The library's own view of a move: what an application sees (no 'ended' when it rejoins).
  t.client_events = [];
  for (const type of ['reconnecting', 'rejoined', 'ended']) {
    c.addEventListener(type, (e) => t.client_events.push({ type, reason: e.detail?.reason }));
  }
  await c.connect(new URL(url, location.href).href.replace(/^http/, 'ws'), token);
  t.client = c;
  if (!t.stream) {
    t.stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 320, height: 240, frameRate: 15 },
    });
  }
}

async function pageJoin({ room }) {
  const t = window.__ct;
  try {
    const r = await t.client.join(room, t.stream);
    return { ok: true, node: r.node || null };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message };
  }
}

async function pageRequest({ method, params }) {
  try {
    return { ok: true, result: await window.__ct.client.request(method, params) };
  } catch (e) {
    return { ok: false, code: e.code, message: e.message };
  }
}

// Inbound media of the current peer connection and the node of the last call.connected.
async function pageSample() {
  const t = window.__ct;
  const pc = t?.client?.pc;
  const connected = t ? t.events.filter((e) => e.event === 'call.connected') : [];
  const ended = t ? t.events.filter((e) => e.event === 'call.ended') : [];
  const s = { at: Date.now(), pc: Boolean(pc), audio: 0, frames: 0,
              node: connected.length ? connected[connected.length - 1].data.node : null,
              ended: ended.map((e) => e.data.reason), url: t?.client?.ws?.url || null,
              events: t ? t.events.map((e) => e.event) : [],
              client: t ? t.client_events : [] };
  if (pc) {
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'audio') s.audio += r.packetsReceived || 0;
      if (r.kind === 'video') s.frames += r.framesDecoded || 0;
    });
  }
  return s;
}

async function pageLeave() {
  const t = window.__ct;
  try { if (t?.client?.pc) await t.client.leave(); } catch { /* ended meanwhile */ }
}

// ---- node side ----

const sample = (user) => pages[user].evaluate(pageSample);

/** Waits until `user`'s page decodes new audio and video (two samples 600 ms apart). */
async function flowing(user, what, timeoutMs = MEDIA_MS) {
  let last = null;
  return waitFor(`${user}: ${what}`, async () => {
    const a = await sample(user);
    await new Promise((r) => setTimeout(r, 600));
    const b = await sample(user);
    last = b;
    return b.pc && a.pc && b.audio > a.audio && b.frames > a.frames ? b : null;
  }, timeoutMs, () => JSON.stringify(last));
}

async function connect(user, url) {
  await pages[user].evaluate(pageConnect, { token: tokens[user], url });
}

async function join(user, room = ROOM) {
  return pages[user].evaluate(pageJoin, { room });
}

const nodeUrl = (id) => new URL(`/ws?node=${encodeURIComponent(id)}`, LB).href;

async function admin(method, path, body, token = OPERATOR, base = LB) {
  const res = await fetch(new URL(path, base), {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

before(async () => {
  assert.equal(NODES.length, 3, 'SB_NODES must name three nodes');
  // HAProxy terminates TLS with the test's own self-signed certificate.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                    args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'] });
  for (const user of ['alice', 'bob', 'carol']) {
    tokens[user] = await demoToken(user, LB);
    pages[user] = await openPage(browser, user, LB);
  }
});

after(async () => {
  await browser?.close();
});

test('participants entering through different nodes meet on the home node', async () => {
  const [n1, n2] = NODES;
  await connect('alice', nodeUrl(n1.id));
  await connect('carol', nodeUrl(n2.id));
  const t0 = Date.now();
  const a = await join('alice');
  assert.ok(a.ok, `alice joins through ${n1.id}: ${JSON.stringify(a)}`);
  const c = await join('carol');
  assert.ok(c.ok, `carol joins through ${n2.id}: ${JSON.stringify(c)}`);
  const [sa, sc] = [await flowing('alice', 'media from carol'), await flowing('carol', 'media from alice')];
  log(`METRIC cluster_join_to_media_ms: ${Date.now() - t0}`);
  assert.equal(sa.node, n1.id, 'the first participant homes the room where she entered');
  assert.equal(sc.node, n1.id, 'the second is redirected to the home node');
  assert.match(sc.url, new RegExp(`node=${n1.id}`), 'carol\'s socket now goes to the home node');
});

test('a revocation on another node cuts media on the home node; rejoin refused everywhere', async () => {
  const home = (await sample('alice')).node;
  const other = NODES.find((n) => n.id !== home);
  await connect('bob', nodeUrl(home));
  assert.ok((await join('bob')).ok);
  await flowing('bob', 'bob receives before the cut');
  // alice, the room's master, removes bob through a session on another node.
  const master = await browser.newPage();
  await master.goto(LB);
  await master.evaluate(pageConnect, { token: tokens.alice, url: nodeUrl(other.id) });
  const r = await master.evaluate(pageRequest, {
    method: 'rooms.remove_member', params: { room: ROOM, user: 'bob', tenant: 'acme' } });
  const answered = Date.now();
  assert.ok(r.ok, `remove_member on ${other.id}: ${JSON.stringify(r)}`);
  // The last time bob's page saw a new packet: sampled until it has seen none for 1.5 s.
  let lastCount = -1;
  let lastAt = answered;
  await waitFor('bob\'s media to stop', async () => {
    const s = await sample('bob');
    const n = s.audio + s.frames;
    if (n !== lastCount) { lastCount = n; lastAt = s.at; }
    return s.ended.includes('member_removed') && Date.now() - lastAt > 1500;
  }, 20000 * SCALE);
  log(`METRIC cross_node_cut_ms: ${lastAt - answered}`);
  // The room event of a change made on another node reaches bob's session too (the bus).
  assert.ok((await sample('bob')).events.includes('room.member_removed'),
            'bob is told he was removed, though the change was made on another node');
  for (const n of NODES) {
    await connect('bob', nodeUrl(n.id));
    const j = await join('bob');
    assert.equal(j.ok, false, `bob's rejoin through ${n.id} must be refused`);
    assert.ok(['not_found', 'forbidden'].includes(j.code), `refused through ${n.id}: ${j.code}`);
  }
  const back = await master.evaluate(pageRequest, {
    method: 'rooms.add_member', params: { room: ROOM, user: 'bob', tenant: 'acme' } });
  assert.ok(back.ok, `bob added back: ${JSON.stringify(back)}`);
  await master.close();
  await flowing('alice', 'alice still receives carol');
});

test('PostgreSQL restarts during a call: media flows, API calls succeed after reconnection', async () => {
  execSync(process.env.SB_PG_RESTART, { stdio: 'inherit', timeout: 60000 });
  await flowing('alice', 'media during and after the database restart', 5000 * SCALE);
  await flowing('carol', 'media during and after the database restart', 5000 * SCALE);
  const ok = await waitFor('rooms.list to succeed again', async () => {
    const r = await pages.alice.evaluate(pageRequest, { method: 'rooms.list', params: {} });
    return r.ok ? r : null;
  }, 20000 * SCALE);
  assert.ok(ok.result.rooms.some((x) => x.id === ROOM));
});

test('kill -9 of the home node: the call resumes on another node', async () => {
  // Plain round-robin entry: the pages follow the room wherever it is homed.
  for (const u of ['alice', 'carol']) await pages[u].evaluate(pageLeave);
  await connect('alice', new URL('/ws', LB).href);
  await connect('carol', new URL('/ws', LB).href);
  assert.ok((await join('alice')).ok);
  assert.ok((await join('carol')).ok);
  const before = await flowing('alice', 'media before the kill');
  await flowing('carol', 'media before the kill');
  const victim = NODES.find((n) => n.id === before.node);
  assert.ok(victim, `home node ${before.node} is one of ours`);
  const t0 = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  victim.killed = true;
  const [a, c] = [await flowing('alice', 'media after failover'),
                  await flowing('carol', 'media after failover')];
  log(`METRIC failover_ms: ${Date.now() - t0}`);
  assert.notEqual(a.node, victim.id);
  assert.equal(a.node, c.node, 'both on the new home node');
});

test('drain: not ready, no new room, calls moved at the drain timeout', async () => {
  const home = (await sample('alice')).node;
  const node = NODES.find((n) => n.id === home);
  const r = await admin('POST', `/api/admin/nodes/${encodeURIComponent(home)}/drain`, {});
  assert.equal(r.status, 200, `drain: ${JSON.stringify(r.body)}`);
  await waitFor(`${home} /readyz to answer 503`, async () => {
    const res = await fetch(new URL('/readyz', node.url)).catch(() => null);
    return res && res.status === 503;
  }, 10000 * SCALE);
  // A room that has no call yet, asked of the drained node, is homed on another one.
  await connect('bob', nodeUrl(home));
  const dm = await pages.bob.evaluate(pageRequest, {
    method: 'contacts.add', params: { user: 'alice', tenant: 'acme' } });
  assert.ok(dm.ok, `bob's 1:1 room with alice: ${JSON.stringify(dm)}`);
  const j = await join('bob', dm.result.room.id);
  assert.ok(j.ok, `bob joins a new room through ${home}: ${JSON.stringify(j)}`);
  await waitFor('bob connected', async () => (await sample('bob')).node, 20000 * SCALE);
  assert.notEqual((await sample('bob')).node, home, 'the drained node takes no new room');
  // The running call ends with "moved" at the drain timeout and resumes elsewhere.
  for (const u of ['alice', 'carol']) {
    await waitFor(`${u} told the call moved`, async () => {
      const s = await sample(u);
      return s.ended.includes('moved') && s.node !== home;
    }, 60000 * SCALE, () => '');
  }
  const [a, c] = [await flowing('alice', 'media after the move'),
                  await flowing('carol', 'media after the move')];
  assert.notEqual(a.node, home);
  assert.equal(a.node, c.node);
  // The application saw the library rejoin by itself: reconnecting (moved), rejoined, no ended.
  const seen = a.client.map((e) => e.type);
  const at = seen.lastIndexOf('reconnecting');
  assert.ok(at >= 0 && a.client[at].reason === 'moved', `alice's client events: ${JSON.stringify(a.client)}`);
  assert.deepEqual(seen.slice(at), ['reconnecting', 'rejoined'], JSON.stringify(a.client));
});
