// Client library test: web/switchboard.js in headless Chromium against a fake server inside the
// page. The fake replaces WebSocket and plays the server's side of docs/protocol.md with a second,
// real RTCPeerConnection, so offers, answers, re-offers (call.offer) and media are real while no
// Switchboard server runs. This separates client defects from server defects. Run by
// test_client.sh inside a network namespace (the two peer connections talk over loopback).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCALE, launchChromium, waitFor, watchPage } from './lib.mjs';

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const ORIGIN = 'http://localhost:8080';   // intercepted below; localhost is a secure context
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
const DEADLINE_MS = 20000 * SCALE;

let browser;
let page;

// Installed in the page before its scripts: a WebSocket stand-in wired to a scripted server.
function installFakeServer() {
  const server = { frames: [], sockets: [], pc: null, revision: 0, waiters: new Map(),
                   streamUsers: new Map(), senders: new Map(), offer: null };
  window.__server = server;
  const later = (fn) => setTimeout(fn, 0);   // equal delays keep the frames in order

  class FakeWebSocket extends EventTarget {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    constructor(url, protocol) {
      super();
      this.url = url;
      this.protocol = protocol;
      this.readyState = 0;
      server.sockets.push(this);
      later(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); });
    }

    send(text) {
      if (this.readyState !== 1) throw new Error('send on a socket that is not open');
      const msg = JSON.parse(text);
      server.frames.push(msg);
      server.handle(this, msg).catch((e) => server.error(this, msg.id, 'internal', String(e)));
    }

    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      later(() => this.dispatchEvent(new CloseEvent('close', { code, reason })));
    }
  }
  window.WebSocket = FakeWebSocket;

  server.push = (ws, obj) => later(() => {
    if (ws.readyState === 1) ws.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(obj) }));
  });
  server.reply = (ws, id, result) => {
    server.frames.push({ reply: id });
    server.push(ws, { id, result });
  };
  server.error = (ws, id, code, message) => server.push(ws, { id, error: { code, message } });
  server.event = (event, data) => server.push(server.sockets.at(-1), { event, data });

  const gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, 5000);
  });

  // The client groups tracks by msid stream id = user id; the fake's own stream ids are random.
  const munge = (sdp) => {
    for (const [streamId, user] of server.streamUsers) sdp = sdp.split(streamId).join(user);
    return sdp;
  };

  const handlers = {
    async auth(ws, { token }) {
      if (token !== 'good-alice') {
        // docs/protocol.md: the connection stays open and unauthenticated.
        return { error: ['unauthenticated', 'token signature invalid'] };
      }
      return { user: { id: 'alice', tenant: 'acme', name: 'Alice' } };
    },
    async 'call.join'(ws, { room, sdp }) {
      if (server.pc) return { error: ['conflict', 'already in a call'] };
      server.offer = sdp;
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      server.pc = pc;
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      server.revision = 1;
      return { call: 'c-1', sdp: pc.localDescription.sdp, revision: 1,
               participants: [{ user: 'carol', tenant: 'globex', name: 'Carol' }], room };
    },
    async 'call.answer'(ws, { revision, sdp }) {
      if (revision !== server.revision) return { error: ['conflict', `revision ${revision}`] };
      await server.pc.setRemoteDescription({ type: 'answer', sdp });
      server.waiters.get(revision)?.();
      return {};
    },
    async 'call.candidate'() { return {}; },
    async 'call.leave'() {
      server.pc?.close();
      server.pc = null;
      return {};
    },
    async 'rooms.list'() { return { rooms: [{ id: 'r1', name: 'Room 1' }] }; },
  };

  server.handle = async (ws, msg) => {
    const h = handlers[msg.method];
    if (!h) return server.error(ws, msg.id, 'unknown_method', `no method ${msg.method}`);
    const out = await h(ws, msg.params || {});
    if (out.error) {
      server.push(ws, { id: msg.id, error: { code: out.error[0], message: out.error[1] } });
      return undefined;
    }
    return server.reply(ws, msg.id, out);
  };

  // Server-side renegotiation: a new offer as a call.offer event; resolves once answered.
  server.reoffer = async () => {
    const pc = server.pc;
    await pc.setLocalDescription(await pc.createOffer());
    server.revision += 1;
    const revision = server.revision;
    const answered = new Promise((resolve, reject) => {
      server.waiters.set(revision, resolve);
      setTimeout(() => reject(new Error(`no valid call.answer for revision ${revision}`)), 10000);
    });
    server.event('call.offer', { revision, sdp: munge(pc.localDescription.sdp) });
    await answered;
    return revision;
  };
  server.addUser = async (user) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    server.streamUsers.set(stream.id, user);
    // New m-lines per remote participant, as the relay adds them (addTrack would reuse ours).
    server.senders.set(user, stream.getTracks().map((t) => server.pc.addTransceiver(t,
      { direction: 'sendonly', streams: [stream] }).sender));
    server.event('call.participant_joined', { room: 'r', user, tenant: 'acme', name: 'Bob' });
    return server.reoffer();
  };
  server.removeUser = async (user) => {
    for (const s of server.senders.get(user) || []) server.pc.removeTrack(s);
    server.senders.delete(user);
    const revision = await server.reoffer();
    server.event('call.participant_left', { room: 'r', user, tenant: 'acme', reason: 'left' });
    return revision;
  };
}

// Runs in the page: a client whose events are recorded in window.__events.
async function newClient() {
  const { SwitchboardClient } = await import('/switchboard.js');
  const client = new SwitchboardClient({ timeoutMs: 10000 });
  window.__client = client;
  window.__server.pc?.close();
  window.__server.pc = null;
  window.__server.frames = [];
  window.__events = [];
  for (const type of ['participantjoined', 'participantleft', 'streamadded', 'streamremoved',
                      'connected', 'ended', 'disconnected', 'error']) {
    client.addEventListener(type, (ev) => {
      const d = ev.detail || {};
      window.__events.push({
        type, user: d.user, reason: d.reason, code: d.code ?? d.error?.code,
        tracks: d.stream ? d.stream.getTracks().map((t) => t.kind).sort().join(',') : undefined,
      });
    });
  }
  return true;
}

async function inboundVideoFrames() {
  const pc = window.__client.pc;
  let frames = 0;
  if (pc) (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') frames = Math.max(frames, s.framesDecoded);
  });
  return frames;
}

before(async () => {
  browser = await launchChromium();
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') {   // a blank page: only the library is under test, not the demo app
      return route.fulfill({ status: 200, contentType: 'text/html',
                             body: '<!doctype html><title>client test</title>' });
    }
    const file = normalize(join(WEB_DIR, path));
    if (!file.startsWith(WEB_DIR)) return route.fulfill({ status: 403 });
    try {
      const body = await readFile(file);
      return route.fulfill({ status: 200, body, contentType: TYPES[extname(file)] || 'text/plain' });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  await context.addInitScript(installFakeServer);
  page = await context.newPage();
  watchPage(page, 'client');
  await page.goto(`${ORIGIN}/`);
});

after(async () => {
  if (browser) await browser.close();
});

const LIMIT = { timeout: 60000 * SCALE };

test('a refused token rejects connect() with unauthenticated and creates no peer connection', LIMIT,
  async () => {
    await page.evaluate(newClient);
    const r = await page.evaluate(async () => {
      try {
        await window.__client.connect('ws://localhost:8080/ws', 'forged');
        return { code: 'connected' };
      } catch (e) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        return { code: e.code, pc: window.__client.pc, ws: window.__client.ws,
                 protocol: window.__server.sockets.at(-1).protocol, events: window.__events };
      }
    });
    assert.equal(r.code, 'unauthenticated');
    assert.equal(r.pc, null);
    assert.equal(r.protocol, 'switchboard.v1');
    // The server keeps a refused connection open; the client closes it rather than idle there.
    await waitFor('the disconnected event', () => page.evaluate(
      () => window.__events.find((e) => e.type === 'disconnected')), DEADLINE_MS);
    const join = await page.evaluate(() => window.__client.join('r', null).then(
      () => 'joined', (e) => e.code));
    assert.equal(join, 'disconnected', 'join after a refused auth fails locally');
    const retry = await page.evaluate(() => window.__client.connect('ws://localhost:8080/ws',
                                                                    'good-alice'));
    assert.equal(retry.id, 'alice', 'connect() again right away with a good token');
    const sent = await page.evaluate(() => window.__server.frames.map((f) => f.method));
    assert.deepEqual(sent.filter(Boolean), ['auth', 'auth'], 'nothing but auth was sent');
    await page.evaluate(() => window.__client.close());
  });

test('join, server re-offers, msid grouping, removal, errors and call.ended', LIMIT, async () => {
  await page.evaluate(newClient);
  const me = await page.evaluate(() => window.__client.connect('ws://localhost:8080/ws', 'good-alice'));
  assert.deepEqual(me, { id: 'alice', tenant: 'acme', name: 'Alice' });

  const joined = await page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const res = await window.__client.join('r', stream);
    const cfg = window.__client.pc.getConfiguration();
    return { res, bundle: cfg.bundlePolicy, mux: cfg.rtcpMuxPolicy, offer: window.__server.offer,
             participants: [...window.__client.participants.keys()] };
  });
  assert.equal(joined.res.call, 'c-1');
  assert.equal(joined.bundle, 'max-bundle');
  assert.equal(joined.mux, 'require');
  const sections = joined.offer.split(/\r\nm=/).slice(1);
  assert.deepEqual(sections.map((m) => m.split(' ')[0]), ['audio', 'video'], 'one audio, one video');
  for (const m of sections) assert.match(m, /\r\na=sendonly\r\n/, 'each m-line is sendonly');
  assert.match(joined.offer, /\r\na=group:BUNDLE 0 1\r\n/);
  assert.deepEqual(joined.participants, ['carol'], 'participants of the join result');

  // A second participant's tracks arrive through a server offer (revision 2).
  const rev = await page.evaluate(() => window.__server.addUser('bob'));
  assert.equal(rev, 2);
  await waitFor('video frames from bob', () => page.evaluate(inboundVideoFrames)
    .then((n) => n > 10), DEADLINE_MS);
  let events = await page.evaluate(() => window.__events);
  const added = events.filter((e) => e.type === 'streamadded');
  assert.deepEqual(added, [{ type: 'streamadded', user: 'bob', tracks: 'audio,video',
                             reason: undefined, code: undefined }], 'one stream per user, by msid');
  assert.ok(events.some((e) => e.type === 'participantjoined' && e.user === 'bob'));

  await page.evaluate(() => window.__server.event('call.connected', { room: 'r' }));
  await page.evaluate(() => window.__server.push(window.__server.sockets.at(-1),
    { id: null, error: { code: 'bad_request', message: 'frame is not a JSON object' } }));
  const api = await page.evaluate(async () => ({
    rooms: await window.__client.request('rooms.list', {}),
    unknown: await window.__client.request('nope.nope', {}).then(() => 'ok', (e) => e.code),
  }));
  assert.equal(api.rooms.rooms[0].id, 'r1');
  assert.equal(api.unknown, 'unknown_method');

  // Removing bob's tracks (revision 3) ends his stream; his leaving is reported.
  assert.equal(await page.evaluate(() => window.__server.removeUser('bob')), 3);
  await waitFor('streamremoved for bob', () => page.evaluate(
    () => window.__events.some((e) => e.type === 'streamremoved' && e.user === 'bob')), DEADLINE_MS);
  await waitFor('participantleft for bob', () => page.evaluate(
    () => window.__events.some((e) => e.type === 'participantleft' && e.user === 'bob')),
  DEADLINE_MS);

  const frames = await page.evaluate(() => window.__server.frames);
  const answers = frames.filter((f) => f.method === 'call.answer').map((f) => f.params.revision);
  assert.deepEqual(answers, [2, 3], 'each server offer answered with its revision');
  const joinAt = frames.findIndex((f) => f.method === 'call.join');
  const joinReplyAt = frames.findIndex((f) => f.reply === frames[joinAt].id);
  const cands = frames.map((f, i) => [f, i]).filter(([f]) => f.method === 'call.candidate');
  assert.ok(cands.length >= 2, 'candidates were trickled');
  assert.ok(cands.every(([, i]) => i > joinReplyAt), 'candidates only after the join reply');
  assert.ok(cands.some(([f]) => f.params.candidate === ''), 'end of candidates sent');

  await page.evaluate(() => window.__server.event('call.ended', { room: 'r', reason: 'revoked' }));
  await waitFor('ended', () => page.evaluate(
    () => window.__events.some((e) => e.type === 'ended')), DEADLINE_MS);
  events = await page.evaluate(() => window.__events);
  assert.deepEqual(events.filter((e) => e.type === 'ended').map((e) => e.reason), ['revoked']);
  assert.ok(events.some((e) => e.type === 'connected'), 'call.connected became connected');
  assert.ok(events.some((e) => e.type === 'error' && e.code === 'bad_request'), 'id:null error');
  assert.ok(events.some((e) => e.type === 'participantleft' && e.user === 'carol'),
            'remaining participants are dropped when the call ends');
  assert.equal(await page.evaluate(() => window.__client.pc), null);
});

test('leave() sends call.leave, closes the peer connection and emits ended(left)', LIMIT,
  async () => {
  await page.evaluate(newClient);
  const r = await page.evaluate(async () => {
    const c = window.__client;
    await c.connect('ws://localhost:8080/ws', 'good-alice');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    await c.join('r', stream);
    const pc = c.pc;
    const second = await c.join('r', stream).then(() => 'joined', (e) => e.code);
    await c.leave();
    c.close();
    return { second, state: pc.signalingState, pc: c.pc, events: window.__events.map((e) => e.type),
             reasons: window.__events.filter((e) => e.type === 'ended').map((e) => e.reason),
             sent: window.__server.frames.filter((f) => f.method).map((f) => f.method) };
  });
  assert.equal(r.second, 'state', 'a second join on one client is refused locally');
  assert.equal(r.state, 'closed');
  assert.equal(r.pc, null);
  assert.deepEqual(r.reasons, ['left']);
  assert.ok(r.sent.includes('call.leave'));
});
