// Simulcast through the relay: alice publishes three VP8 layers; bob asks for a small size and
// receives the low layer, then asks for a large size and is switched up at a keyframe while his
// decoder keeps going. Once with rids (RFC 8853, sendEncodings l, m, h), once with legacy SSRC
// simulcast (alice's offer munged the way Jitsi does: a=ssrc-group:SIM plus one FID group per
// layer). The pages speak the protocol directly (docs/protocol.md) so the test controls the offer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { demoToken, SCALE, launchChromium, log, openPages, waitFor } from './lib.mjs';
import { layersSent, ssrcsSent, startClient, videoIn } from './rawclient.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const ROOM = 'demo';
let browser;

before(async () => { browser = await launchChromium(); });
after(async () => { if (browser) await browser.close(); });


// Leaves the call explicitly before closing, so the next test's join is not refused as a second
// connection of the same user while the server has yet to see the socket close.
async function closePages(pages) {
  for (const p of Object.values(pages)) {
    await p.evaluate(() => window.__sc && window.__sc.request('call.leave', {}));
    await p.context().close();
  }
}

// Bob asks for 320x180 and must decode at most 320 wide, then asks for 1280x720 and must be
// switched to a larger layer and keep decoding there. `sent` describes alice's layers for failures.
async function checkSwitchUp(pages, sent) {
  await pages.bob.evaluate(() => window.__sc.request('call.prefer', { max_width: 320, max_height: 180 }));
  let seen = {};
  await waitFor('bob to decode the low layer', async () => {
    seen = await pages.bob.evaluate(videoIn);
    return seen.frames > 30 && seen.width > 0 && seen.width <= 320;
  }, 40000 * SCALE, () => JSON.stringify(seen));
  log(`small preference: ${JSON.stringify(seen)}`);
  const small = seen;

  await pages.bob.evaluate(() => window.__sc.request('call.prefer', { max_width: 1280, max_height: 720 }));
  await waitFor('bob to be switched to a larger layer', async () => {
    seen = await pages.bob.evaluate(videoIn);
    return seen.width > small.width && seen.frames > small.frames + 30;
  }, 60000 * SCALE, () => `${JSON.stringify(seen)}; alice sends ${JSON.stringify(sent())}`);
  log(`large preference: ${JSON.stringify(seen)}`);
  const big = seen;
  // The decoder keeps going on the new layer: frames keep being decoded at the new size.
  await waitFor('frames to keep coming after the switch', async () => {
    seen = await pages.bob.evaluate(videoIn);
    return seen.frames > big.frames + 30 && seen.width >= big.width;
  }, 20000 * SCALE, () => JSON.stringify(seen));
}

test('a subscriber gets the simulcast layer that fits the size it asks for', async () => {
  const pages = await openPages(browser, ['alice', 'bob'], BASE);
  const alice = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: true });
  assert.equal(alice.ridSimulcast, true, 'the answer accepts three layers (a=simulcast:recv)');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, simulcast: false });

  let last = {};
  await waitFor('alice to send three layers', async () => {
    last = await pages.alice.evaluate(layersSent);
    return Object.keys(last).length === 3;
  }, 30000 * SCALE, () => JSON.stringify(last));
  log(`alice sends layers ${JSON.stringify(last)}`);
  await checkSwitchUp(pages, () => last);
  await closePages(pages);
});

test('legacy SSRC simulcast (a=ssrc-group:SIM) is forwarded the same way', async () => {
  const pages = await openPages(browser, ['alice', 'bob'], BASE);
  const alice = await pages.alice.evaluate(startClient,
    { token: await demoToken('alice'), room: ROOM, simulcast: false, munge: 'sim' });
  log(`alice's SIM group ${alice.sim.join(' ')}`);
  assert.equal(alice.sim.length, 3);
  assert.equal(alice.localSim, alice.sim.join(' '), 'Chromium took the munged offer as it is');
  assert.equal(alice.ridSimulcast, false, 'the answer is plain recvonly, no a=simulcast');
  await pages.bob.evaluate(startClient, { token: await demoToken('bob'), room: ROOM, simulcast: false });

  let last = {};
  // Three streams on the SIM SSRCs, sizes growing in group order (the relay's layer order).
  await waitFor('alice to send three streams on the SIM SSRCs, lowest first', async () => {
    last = await pages.alice.evaluate(ssrcsSent);
    const w = alice.sim.map((ssrc) => (last[ssrc] && last[ssrc].frames > 0 ? last[ssrc].width : 0));
    return w[0] > 0 && w[0] < w[1] && w[1] < w[2];
  }, 30000 * SCALE, () => JSON.stringify(last));
  log(`alice sends ${JSON.stringify(last)}`);
  assert.equal(Object.keys(last).length, 3, 'three outbound video streams, no others');
  await checkSwitchUp(pages, () => last);
  // Still the SIM layers after the renegotiation bob's arrival caused (alice answered an offer).
  const local = await pages.alice.evaluate(() => window.__sc.pc.localDescription.sdp);
  assert.ok(local.includes(`a=ssrc-group:SIM ${alice.sim.join(' ')}`), 'the SIM group survives renegotiation');
  await closePages(pages);
});
