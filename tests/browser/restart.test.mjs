// Browser test of a server killed during a call and started again: alice and bob hold a call on
// the demo page (web/app.js on web/switchboard.js); the server is killed with SIGKILL and started
// again with the same command line (same database, secret and ports) after the 2 s that systemd
// waits (RestartSec of packaging/switchboard.service; SB_RESTART_DELAY_MS). Nothing is done on the
// pages: the library must notice the lost socket, reconnect, authenticate and join again by
// itself (`reconnecting`, then `rejoined`, never `ended`), and audio and video must flow again
// both ways on new peer connections. The restarted server is this test's child; it must stop
// cleanly on SIGTERM at the end.
// METRIC restart_to_media_ms: from the restart (spawn) to both pages decoding again, also from
// the kill and from the moment the new server listens.
// Run by test_restart.sh inside a network namespace with the server already listening at SB_URL.
//
// Environment: SB_URL, SB_SERVER_PID, SB_RESTART_DELAY_MS, SB_SERVER_LOG (the restarted server logs next to it, in
// server-restarted.log), SB_TIMEOUT_SCALE, SB_CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const PID = Number(process.env.SB_SERVER_PID);
const LOG2 = join(dirname(process.env.SB_SERVER_LOG || '/tmp/x'), 'server-restarted.log');
const ROOM = 'demo';
const DEADLINE_MS = 30000 * SCALE;
// The dead time before the restart: systemd's RestartSec of packaging/switchboard.service.
const RESTART_DELAY_MS = Number(process.env.SB_RESTART_DELAY_MS ?? 2000);

let browser;
let child = null;        // the restarted server
let childExit = null;    // resolves with {code, signal}

// Runs in the page: what the application saw of the library, and the current call's inbound
// media (0 without a peer connection).
async function view() {
  const c = window.sbDemo?.client;
  const out = { callId: c?.callId ?? null, pc: Boolean(c?.pc), audio: 0, frames: 0,
                events: window.__restartEvents || [], status: document.querySelector('#status')?.textContent };
  if (c?.pc) {
    (await c.pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'audio') out.audio += s.packetsReceived || 0;
      if (s.kind === 'video') out.frames += s.framesDecoded || 0;
    });
  }
  return out;
}

// Runs in the page: records the library's reconnect events of the current client.
function record() {
  window.__restartEvents = [];
  for (const type of ['reconnecting', 'rejoined', 'ended']) {
    window.sbDemo.client.addEventListener(type, (e) => window.__restartEvents.push(
      { type, reason: e.detail?.reason ?? null, attempt: e.detail?.attempt ?? null, at: Date.now() }));
  }
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
  await page.evaluate(record);
  return page;
}

/** Waits until `page` decodes new audio and video on a call other than `oldCall`. */
async function flowing(pages, what, oldCall = {}) {
  let last = {};
  await waitFor(what, async () => {
    const a = {};
    for (const [u, p] of Object.entries(pages)) a[u] = await p.evaluate(view);
    await new Promise((r) => setTimeout(r, 500));   // two samples, to see counters move
    for (const [u, p] of Object.entries(pages)) last[u] = await p.evaluate(view);
    return Object.keys(pages).every((u) => last[u].pc && a[u].callId === last[u].callId
      && last[u].callId && last[u].callId !== oldCall[u]
      && last[u].audio > a[u].audio && last[u].frames > a[u].frames);
  }, DEADLINE_MS, () => JSON.stringify(last));
  return last;
}

function state(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
  } catch {
    return 'gone';
  }
}

before(async () => {
  assert.ok(PID > 0, 'SB_SERVER_PID');
  browser = await launchChromium();
  log(`browser ${browser.version()}, server ${BASE} (pid ${PID}), timeout scale ${SCALE}`);
});

after(async () => {
  if (browser) await browser.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await childExit;
  }
});

test('after kill -9 and a restart the pages rejoin by themselves and media flows again',
     { timeout: 6 * DEADLINE_MS }, async () => {
  const pages = { alice: await openAndJoin('alice'), bob: await openAndJoin('bob') };
  const before0 = await flowing(pages, 'both pages to decode audio and video');
  const oldCall = Object.fromEntries(Object.entries(before0).map(([u, v]) => [u, v.callId]));

  // The same command line, so the same database, secret and ports.
  const argv = readFileSync(`/proc/${PID}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const tKill = Date.now();
  process.kill(PID, 'SIGKILL');
  await waitFor('the server to die', () => ['Z', 'gone'].includes(state(PID)), 10000 * SCALE,
                () => state(PID));
  // The outage an operator's service manager makes, not a wait for anything.
  await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
  const tRestart = Date.now();
  const fd = openSync(LOG2, 'a');
  child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd] });
  childExit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  closeSync(fd);
  log(`killed pid ${PID}; restarted as pid ${child.pid}: ${argv.join(' ')}`);
  await waitFor('the restarted server to listen', () => {
    assert.equal(child.exitCode, null, `the restarted server exited (${child.exitCode})`);
    return /Switchboard listening/.test(readFileSync(LOG2, 'utf8'));
  }, 20000 * SCALE, () => readFileSync(LOG2, 'utf8').slice(-500));
  const tListen = Date.now();

  const back = await flowing(pages, 'both pages to decode audio and video again', oldCall);
  const tMedia = Date.now();
  log(`METRIC restart_to_media_ms ${tMedia - tRestart} (kill to media ${tMedia - tKill}, ` +
      `listening to media ${tMedia - tListen}, kill to listening ${tListen - tKill})`);
  for (const [u, v] of Object.entries(back)) {
    const seen = v.events.map((e) => e.type);
    log(`${u}: ${JSON.stringify(v.events.map((e) => ({ ...e, at: e.at - tKill })))}; status "${v.status}"`);
    assert.ok(seen.length >= 2 && seen[0] === 'reconnecting' && seen.at(-1) === 'rejoined'
              && !seen.includes('ended'), `${u}: the library rejoined by itself: ${seen.join(', ')}`);
    assert.equal(v.events[0].reason, 'disconnected');
  }

  for (const page of Object.values(pages)) {
    await page.click('#hangup');
    await page.waitForFunction(() => window.sbDemo.client === null, null, { timeout: 10000 * SCALE });
  }
  child.kill('SIGTERM');
  const exit = await Promise.race([childExit,
    new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 10000 * SCALE))]);
  assert.ok(exit.code === 0 || exit.signal === 'SIGTERM' || exit.code === 143,
            `the restarted server stops on SIGTERM: ${JSON.stringify(exit)}`);
  const text = readFileSync(LOG2, 'utf8');
  assert.ok(!/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.test(text),
            'no sanitizer report from the restarted server');
});
