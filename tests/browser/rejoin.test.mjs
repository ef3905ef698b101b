// Browser test: a demo user's call through web/switchboard.js survives a drain of its node. The
// operator drains the node (switchboard admin drain); after --drain-timeout the server ends the
// call with reason "moved"; the client reconnects through the URL it connected to and joins
// again. With one node that URL reaches the same node, which is enough to check the client's
// side: events 'reconnecting' (reason moved) then 'rejoined', media connected again, no 'ended'.
// Run by test_rejoin.sh with the server at SB_URL; SB_SWITCHBOARD is the binary (admin CLI).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { demoToken, SCALE, launchChromium, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const SECRET = join(dirname(process.env.SB_SERVER_LOG || '/nonexistent/x'), 'secret');
const DEADLINE_MS = 30000 * SCALE;

let browser;

before(async () => { browser = await launchChromium(); });
after(async () => { await browser?.close(); });

// Runs in the page: a client of the library (not the demo app), recording its events.
async function startCall({ token, room }) {
  const { SwitchboardClient } = await import('/switchboard.js');
  const client = new SwitchboardClient();
  window.__events = [];
  for (const type of ['connected', 'ended', 'disconnected', 'reconnecting', 'rejoined', 'error']) {
    client.addEventListener(type, (e) => window.__events.push({ type, ...e.detail,
      error: e.detail?.error?.code }));
  }
  window.__client = client;
  await client.connect(SwitchboardClient.defaultUrl(), token);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  await client.join(room, stream);
}

test('a drained node moves the call and the client rejoins by itself', async () => {
  const token = await demoToken('alice', BASE);
  const page = await openPage(browser, 'alice', BASE);
  await page.evaluate(startCall, { token, room: 'demo' });
  const events = () => page.evaluate(() => window.__events);
  await waitFor('the first connected event', async () =>
    (await events()).some((e) => e.type === 'connected'), DEADLINE_MS,
  () => JSON.stringify(window.__events));

  const health = await (await fetch(new URL('/healthz', BASE))).json();
  assert.equal(health.node, 'solo');
  const out = execFileSync(process.env.SB_SWITCHBOARD, ['admin', '--server', BASE.replace(/\/$/, ''),
    '--secret-file', SECRET, '--tenant', '_operator', '--user', 'ops', 'drain', 'solo'],
  { encoding: 'utf8' });
  assert.match(out, /"draining":true/);
  const ready = await fetch(new URL('/readyz', BASE));
  assert.equal(ready.status, 503, 'a drained node is not ready');

  let seen = [];
  await waitFor('rejoined and connected again', async () => {
    seen = await events();
    const at = seen.findIndex((e) => e.type === 'rejoined');
    return at >= 0 && seen.slice(at).some((e) => e.type === 'connected');
  }, DEADLINE_MS, () => JSON.stringify(seen));
  const types = seen.map((e) => e.type);
  assert.deepEqual(types,
    ['connected', 'reconnecting', 'rejoined', 'connected'], JSON.stringify(seen));
  assert.equal(seen[1].reason, 'moved');
  assert.equal(seen[1].attempt, 1);
  assert.equal(seen[2].room, 'demo');
  assert.ok(await page.evaluate(() => window.__client.pc !== null), 'in a call again');
  await page.evaluate(() => window.__client.leave());
});
