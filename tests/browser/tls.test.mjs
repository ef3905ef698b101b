// Browser test over HTTPS (test_tls.sh): the demo page comes from the node itself at an https://
// SB_URL; Chromium pins the test certificate's key (SB_SPKI). Without the pin the page is refused;
// with it two pages join a call over wss:// and receive Opus and VP8 over DTLS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SCALE, launchChromium, log, openPage, waitFor } from './lib.mjs';

const BASE = process.env.SB_URL;
const SPKI = process.env.SB_SPKI;
const browsers = [];

after(async () => {
  for (const b of browsers) await b.close();
});

// Runs in the page: what the demo client's peer connection receives.
async function received() {
  const pc = window.sbDemo?.client?.pc;
  if (!pc) return null;
  const out = { opus: 0, vp8Frames: 0, dtls: null };
  const report = await pc.getStats();
  report.forEach((s) => {
    const codec = s.codecId && report.get(s.codecId)?.mimeType?.toLowerCase();
    if (s.type === 'inbound-rtp' && codec === 'audio/opus') out.opus += s.packetsReceived || 0;
    if (s.type === 'inbound-rtp' && codec === 'video/vp8') out.vp8Frames += s.framesDecoded || 0;
    if (s.type === 'transport') out.dtls = s.dtlsState;
  });
  return out;
}

// Runs in the page before its scripts: records the WebSocket URLs it opens.
function recordSockets() {
  window.__wsUrls = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, ...rest) {
      super(url, ...rest);
      window.__wsUrls.push(String(url));
    }
  };
}

test('without the pinned key Chromium refuses the test certificate', { timeout: 30000 * SCALE }, async () => {
  assert.match(BASE, /^https:/);
  const browser = await launchChromium();
  browsers.push(browser);
  const page = await (await browser.newContext()).newPage();
  await assert.rejects(page.goto(BASE), /ERR_CERT_AUTHORITY_INVALID/);
});

test('the demo page over https joins a call with media over wss', { timeout: 120000 * SCALE }, async () => {
  const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${SPKI}`]);
  browsers.push(browser);
  const pages = {};
  for (const user of ['alice', 'bob']) {
    const page = await openPage(browser, user, BASE, recordSockets);
    await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null,
                               { timeout: 10000 * SCALE });
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    await page.selectOption('#user', user);
    await page.fill('#room', 'demo');
    await page.click('#join');
    await page.waitForFunction(() => window.sbDemo.client?.callId, null, { timeout: 15000 * SCALE });
    pages[user] = page;
  }
  let last = {};
  await waitFor('both pages to receive opus and VP8 over DTLS', async () => {
    for (const [u, p] of Object.entries(pages)) last[u] = await p.evaluate(received);
    return Object.values(last).every((s) => s && s.opus > 50 && s.vp8Frames > 30 && s.dtls === 'connected');
  }, 30000 * SCALE, () => JSON.stringify(last));
  for (const [u, p] of Object.entries(pages)) {
    const urls = await p.evaluate(() => window.__wsUrls);
    assert.ok(urls.length > 0 && urls.every((x) => x.startsWith('wss://')), `${u}: ${urls}`);
    log(`${u}: ${JSON.stringify(last[u])}, sockets ${urls.join(' ')}`);
  }
});
