// Shared helpers of the browser tests: Chromium launch flags, bounded polling.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const SCALE = Number(process.env.SB_TIMEOUT_SCALE || 1);
export const CHROMIUM = process.env.SB_CHROMIUM
  || ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));

// Flags from ../shared/INTEROP.md; each of the first five is needed on a loopback-only host.
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync',
];

const POLL_MS = 200;

export function log(...args) {
  console.log('#', ...args);
}

/** Launches Debian's Chromium (never a downloaded one) with the INTEROP.md flags and `extraArgs`. */
export async function launchChromium(extraArgs = []) {
  assert.ok(CHROMIUM, 'Chromium not found (scripts/install-deps.sh --test)');
  return chromium.launch({ executablePath: CHROMIUM, headless: true,
                           args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Polls `probe` (async; returns a truthy value when done) every 200 ms until it is truthy or
 * `timeoutMs` has passed; then fails with `what` and `lastSeen()`.
 */
export async function waitFor(what, probe, timeoutMs, lastSeen = () => '') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Logs a page's console errors and uncaught exceptions into the test output. */
export function watchPage(page, name) {
  page.on('console', (m) => { if (m.type() === 'error') log(`[${name} console] ${m.text()}`); });
  page.on('pageerror', (e) => log(`[${name} page error] ${e.message}`));
}

/** A demo user's token from the server at `base` (POST /api/demo/token, `serve --demo` only). */
export async function demoToken(user, base = process.env.SB_URL || 'http://127.0.0.1:8080/') {
  const res = await fetch(new URL('/api/demo/token', base), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
  });
  assert.equal(res.status, 200, `POST /api/demo/token for ${user}`);
  const body = await res.json();
  assert.equal(typeof body.token, 'string');
  return body.token;
}

/** Opens a page for `name` in a context of its own (separate storage) at `base`, with
 * `initScript` (a function) run in it before the page's own scripts when given. */
export async function openPage(browser, name, base = process.env.SB_URL || 'http://127.0.0.1:8080/',
  initScript = null) {
  const ctx = await browser.newContext();
  if (initScript) await ctx.addInitScript(initScript);
  const page = await ctx.newPage();
  watchPage(page, name);
  await page.goto(base);
  return page;
}

/** Opens one page per user (openPage), one after the other. */
export async function openPages(browser, users, base = process.env.SB_URL || 'http://127.0.0.1:8080/') {
  const pages = {};
  for (const user of users) pages[user] = await openPage(browser, user, base);
  return pages;
}
