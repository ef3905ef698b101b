// Bandwidth adaptation through the relay (relay/bwe.h): alice publishes three simulcast layers;
// bob only receives. Once bob decodes the top layer, the path from the relay to bob is limited
// to 300 kbit/s (an htb class in this test's own network namespace, matched on bob's UDP port);
// the relay's delay-based estimate from bob's transport-cc feedback must see the queue and move
// bob to the low layer while his video keeps decoding. Narrower still (100 kbit/s, under the
// low layer), bob's video is paused and his audio goes on. When the limit is lifted, a probe
// must find the room and bob goes back up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { demoToken, SCALE, launchChromium, log, openPages, waitFor } from './lib.mjs';
import { layersSent, localMediaPort, packetsIn, startClient, videoIn } from './rawclient.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = 'demo';
const LIMIT = '300kbit';
let browser;
let shaped = false;

function tc(...args) {
  log(`tc ${args.join(' ')}`);
  execFileSync('tc', args, { stdio: 'inherit' });
}

function limit(port) {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', LIMIT, 'ceil', LIMIT);
  // A deep queue, as on many access links: delay grows long before packets are dropped.
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', '50');
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'dport', String(port), '0xffff', 'flowid', '1:2');
  shaped = true;
}

function narrow(rate) {
  tc('class', 'change', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', rate, 'ceil', rate);
}

function unlimit() {
  if (shaped) tc('qdisc', 'del', 'dev', 'lo', 'root');
  shaped = false;
}

before(async () => { browser = await launchChromium(); });
after(async () => {
  unlimit();
  if (browser) await browser.close();
});


async function counters() {
  const res = await fetch(new URL('/api/health', BASE));
  assert.equal(res.status, 200);
  const out = { bwe_overuse: 0, bwe_probes: 0, bwe_probe_ok: 0, probe_packets: 0 };
  for (const w of (await res.json()).workers) for (const k of Object.keys(out)) out[k] += w[k];
  return out;
}

test('a subscriber behind a narrow link gets the low layer, and the top one back when it widens', async () => {
  const pages = await openPages(browser, ['alice', 'bob'], BASE);
  const alice = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: true });
  assert.equal(alice.ridSimulcast, true, 'the answer accepts three layers');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, publish: 'none' });

  let sent = {};
  await waitFor('alice to send three layers', async () => {
    sent = await pages.alice.evaluate(layersSent);
    return Object.keys(sent).length === 3 && sent.h > sent.m && sent.m > sent.l && sent.l > 0;
  }, 30000 * SCALE, () => JSON.stringify(sent));
  log(`alice sends ${JSON.stringify(sent)}`);

  let seen = {};
  const top = async () => {
    seen = await pages.bob.evaluate(videoIn);
    sent = await pages.alice.evaluate(layersSent);
    return seen.width > 0 && seen.width === sent.h;
  };
  await waitFor('bob to decode the top layer', top, 40000 * SCALE,
    () => `${JSON.stringify(seen)}; alice sends ${JSON.stringify(sent)}`);
  log(`open link: bob decodes ${JSON.stringify(seen)}`);

  let port = 0;
  await waitFor('bob\'s selected candidate pair in his stats', async () => {
    port = await pages.bob.evaluate(localMediaPort);
    return port > 0;
  }, 10000 * SCALE, () => String(port));
  const before0 = await counters();
  const open = await pages.bob.evaluate(videoIn);
  limit(port);
  const t0 = Date.now();
  let c0 = before0;
  await waitFor('the relay to see the queue building (delay-based overuse)', async () => {
    c0 = await counters();
    return c0.bwe_overuse > before0.bwe_overuse;
  }, 20000 * SCALE, () => JSON.stringify(c0));
  log(`METRIC limit_to_overuse_ms ${Date.now() - t0}`);
  await waitFor('bob to be moved to the low layer', async () => {
    seen = await pages.bob.evaluate(videoIn);
    return seen.width > 0 && seen.width <= sent.l;
  }, 40000 * SCALE, () => JSON.stringify(seen));
  const down = seen;
  log(`METRIC limit_to_low_layer_ms ${Date.now() - t0}`);
  // Still decoding at the low layer, not frozen.
  await waitFor('frames to keep coming at the low layer', async () => {
    seen = await pages.bob.evaluate(videoIn);
    return seen.frames > down.frames + 30 && seen.width <= sent.l;
  }, 30000 * SCALE, () => JSON.stringify(seen));
  const c1 = await counters();
  log(`narrow link: bob decodes ${JSON.stringify(seen)}; relay ${JSON.stringify(c1)}`);
  log(`METRIC video_packets_lost_after_limit ${seen.lost - open.lost}`);

  // Under the low layer's rate: video pauses, audio goes on. Observed as a stretch of 3 s in
  // which bob's video packet count stands still while his audio count grows.
  narrow('100kbit');
  const t2 = Date.now();
  let still = null;
  let pkts = {};
  await waitFor('bob\'s video to pause while audio continues', async () => {
    pkts = await pages.bob.evaluate(packetsIn);
    const now = Date.now();
    if (!still || pkts.video !== still.video) still = { ...pkts, at: now };
    return now - still.at >= 3000 && pkts.audio >= still.audio + 50;
  }, 60000 * SCALE, () => JSON.stringify({ pkts, still }));
  log(`METRIC narrow_to_video_paused_ms ${still.at - t2}`);
  log(`very narrow link: bob receives ${JSON.stringify(pkts)} packets`);

  unlimit();
  const t1 = Date.now();
  await waitFor('bob to be moved back to the top layer', top, 60000 * SCALE,
    () => `${JSON.stringify(seen)}; alice sends ${JSON.stringify(sent)}`);
  log(`METRIC unlimit_to_top_layer_ms ${Date.now() - t1}`);
  const c2 = await counters();
  log(`open link again: bob decodes ${JSON.stringify(seen)}; relay ${JSON.stringify(c2)}`);
  assert.ok(c2.bwe_probe_ok > c1.bwe_probe_ok, 'a probe proved the wider link');
  assert.ok(c2.probe_packets > c1.probe_packets, 'the relay sent probe packets');
  for (const p of Object.values(pages)) await p.context().close();
});
