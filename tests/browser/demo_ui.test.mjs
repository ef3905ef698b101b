// Browser test of the demo page's signed-in UI (web/app.js, web/admin.js): alice, bob and carol
// sign in on three pages of one headless Chromium; alice sees room "demo" marked external,
// creates and manages a group room while bob's page follows through events, adds, edits and
// removes a contact, blocks and unblocks, calls from a room; carol, an administrator, revokes the
// connection to acme and alice's rooms follow; the audit view shows it. Run by test_demo_ui.sh
// with the server listening at SB_URL (fresh demo database).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SCALE, launchChromium, log, waitFor, watchPage } from './lib.mjs';

const BASE = process.env.SB_URL || 'http://127.0.0.1:8080/';
const WAIT_MS = 10000 * SCALE;

let browser;
const pages = {};

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** Opens the demo page and signs in as `user`. */
async function signIn(user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watchPage(page, user);
  await page.goto(`${BASE}#${user}`);
  await page.waitForFunction(() => window.sbDemo && window.sbDemo.users.length > 0, null,
                             { timeout: WAIT_MS });
  await page.selectOption('#session-user', user);
  await page.click('#signin');
  await waitText(page, '#ui-status', 'Signed in as');
  await page.waitForFunction(() => document.querySelectorAll('#rooms-list li[data-room]').length > 0,
                             null, { timeout: WAIT_MS });
  pages[user] = page;
  return page;
}

/** Waits until an element matching `selector` contains `text` (or, with `absent`, none does). */
async function waitText(page, selector, text, { absent = false } = {}) {
  try {
    await page.waitForFunction(([sel, t, no]) => {
      const hit = [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(t));
      return no ? !hit : hit;
    }, [selector, text, absent], { timeout: WAIT_MS });
  } catch (err) {
    const seen = await page.evaluate((sel) => [...document.querySelectorAll(sel)]
      .map((e) => e.textContent.trim()).join(' | '), selector);
    const status = await page.textContent('#ui-status');
    assert.fail(`${absent ? 'still' : 'never'} "${text}" in ${selector}: ${seen} (status: ${status}) ${err.message}`);
  }
}

/** The state of the rooms-list entry named `name` on `page`: null when absent. */
function roomEntry(page, name) {
  return page.evaluate((n) => {
    const li = [...document.querySelectorAll('#rooms-list li[data-room]')]
      .find((e) => e.querySelector('button.link')?.textContent === n);
    if (!li) return null;
    return { id: li.dataset.room, text: li.textContent,
             external: Boolean(li.querySelector('.badge.external')) };
  }, name);
}

/** Waits until `probe(entry)` holds for the room named `name` (entry null when absent). */
async function waitRoom(page, name, probe, what) {
  let entry;
  await waitFor(`room "${name}": ${what}`, async () => {
    entry = await roomEntry(page, name);
    return probe(entry);
  }, WAIT_MS, () => JSON.stringify(entry));
  return entry;
}

/** Clicks the button labelled `label` in the list item of `list` that contains `text`. */
async function clickIn(page, list, text, label) {
  await page.locator(`${list} > li`, { hasText: text }).getByRole('button', { name: label, exact: true })
    .click();
}

test('demo page: rooms, groups, contacts, blocks, calls and administration', async (t) => {
  const alice = await signIn('alice');
  const bob = await signIn('bob');
  const carol = await signIn('carol');

  await t.test('alice sees room demo marked external with its members and master', async () => {
    // The seeded room spans acme and globex: marked external, four members, alice its master.
    const demoRoom = await waitRoom(alice, 'demo', (e) => e?.external, 'marked external');
    assert.match(demoRoom.text, /4 members/);
    assert.equal(await alice.isVisible('#admin'), true, 'alice is an administrator');
    assert.equal(await bob.isVisible('#admin'), false, 'bob is not');
    await alice.click('#rooms-list li[data-room="demo"] button.link');
    await waitText(alice, '#room-title', 'demo · external');
    for (const name of ['Alice (acme) — you', 'Bob (acme)', 'Carol (globex)', 'Dave (globex)']) {
      await waitText(alice, '#members-list li', name);
    }
    const aliceRow = alice.locator('#members-list > li', { hasText: 'Alice (acme)' });
    assert.equal(await aliceRow.locator('.badge', { hasText: 'master' }).count(), 1);
    log('alice sees demo external with its four members');
  });

  await t.test("a new group room appears on bob's page; master actions follow live", async () => {
    // A group room with bob: bob's page shows it through room.member_added.
    await alice.fill('#new-room-name', 'Launch');
    await alice.fill('#new-room-description', 'Q3 launch');
    await alice.fill('#new-room-members', 'bob');
    await alice.click('#create-room');
    await waitText(alice, '#room-title', 'Launch');
    await waitText(alice, '#ui-status', 'Created “Launch”');
    const launch = await waitRoom(bob, 'Launch', (e) => e && !e.external, 'appears on bob (not external)');
    await waitText(bob, '#event-log li', `joined room ${launch.id}`);
    log(`bob sees ${launch.id} appear`);

    // Masters add an external member: the room turns external on bob's page too.
    await alice.fill('#add-member-user', 'dave');
    await alice.fill('#add-member-tenant', 'globex');
    await alice.click('#add-member');
    await waitText(alice, '#members-list li', 'Dave (globex)');
    await waitRoom(bob, 'Launch', (e) => e?.external, 'external once dave is in');
    // Grant bob the master role; bob's list shows it.
    await clickIn(alice, '#members-list', 'Bob (acme)', 'Make master');
    await waitRoom(bob, 'Launch', (e) => e?.text.includes('master'), 'bob is master');
    await waitText(alice, '#members-list li', 'Revoke master');
    await clickIn(alice, '#members-list', 'Bob (acme)', 'Revoke master');
    await waitRoom(bob, 'Launch', (e) => e && !e.text.includes('master'), 'bob no longer master');
    // Rename: bob's list follows room.updated.
    await alice.fill('#rename-name', 'Launch Q3');
    await alice.click('#rename');
    await waitRoom(bob, 'Launch Q3', (e) => e !== null, 'renamed on bob');
    // The server's error is shown: bob is already a member.
    await alice.fill('#add-member-user', 'bob');
    await alice.fill('#add-member-tenant', '');
    await alice.click('#add-member');
    await waitText(alice, '#ui-status.error', 'conflict');
    // Removing dave makes it internal again.
    await clickIn(alice, '#members-list', 'Dave (globex)', 'Remove');
    await waitRoom(bob, 'Launch Q3', (e) => e && !e.external, 'internal again without dave');
    log('group management followed live on bob');
  });

  await t.test('a contact opens the 1:1 room; its private details are edited; it is removed', async () => {
    // Contacts: adding carol opens the 1:1 room, named by the private display name.
    await alice.fill('#contact-user', 'carol');
    await alice.fill('#contact-tenant', 'globex');
    await alice.fill('#contact-display', 'Carol G');
    await alice.click('#add-contact');
    await waitText(alice, '#contacts-list li', 'Carol G (carol, globex)');
    const direct = await waitRoom(alice, 'Carol G', (e) => e?.external, '1:1 room, external');
    await waitText(alice, '#room-title', 'Carol G · external');
    assert.match(direct.id, /^d-/);
    await waitRoom(carol, 'Alice', (e) => e?.id === direct.id, 'the 1:1 room on carol');
    const contact = alice.locator('#contacts-list > li', { hasText: 'Carol G' });
    await contact.locator('summary').click();
    await contact.getByLabel('Memo').fill('prefers mornings');
    await contact.getByRole('button', { name: 'Save details' }).click();
    await waitText(alice, '#contacts-list li .muted', 'prefers mornings');
    await clickIn(alice, '#contacts-list', 'Carol G', 'Remove');
    await waitText(alice, '#contacts-list li', 'No contacts yet.');
    log('contact added, edited and removed');
  });

  await t.test('block and unblock', async () => {
    // Blocks.
    await alice.fill('#block-user', 'dave');
    await alice.fill('#block-tenant', 'globex');
    await alice.click('#block');
    await waitText(alice, '#blocks-list li', 'Dave (dave, globex)');
    await clickIn(alice, '#blocks-list', 'Dave', 'Unblock');
    await waitText(alice, '#blocks-list li', 'Nobody blocked.');
    log('blocked and unblocked dave');
  });

  await t.test('the call button of a room joins its call', async () => {
    // A call from the rooms list uses the call UI below.
    await alice.click('#rooms-list li[data-room="demo"] button.call');
    await alice.waitForFunction(() => window.sbDemo.client?.callId, null, { timeout: 20000 * SCALE });
    assert.equal(await alice.inputValue('#room'), 'demo');
    assert.equal(await alice.inputValue('#user'), 'alice');
    await waitText(alice, '#status', '“demo”');
    await alice.click('#hangup');
    await alice.waitForFunction(() => window.sbDemo.client === null, null, { timeout: WAIT_MS });
    log('called demo from its room entry and hung up');
  });

  await t.test("carol revokes the connection to acme; alice's rooms follow; the audit shows it", async () => {
    // Administration: carol sees the usable connection to acme and her users, then revokes it.
    await waitText(carol, '#connections-list li[data-peer="acme"]', 'usable');
    await waitText(carol, '#admin-users li', 'Dave (dave)');
    await waitText(carol, '#audit-list li', 'member_add');
    await clickIn(carol, '#connections-list', 'acme', 'Revoke');
    await waitText(carol, '#connections-list li[data-peer="acme"]', 'allows, we do not');
    // alice's rooms follow: demo keeps only acme, the 1:1 room with carol goes.
    await waitRoom(alice, 'demo', (e) => e && !e.external && e.text.includes('2 members'),
                   'demo without its globex members');
    await waitRoom(alice, 'Carol', (e) => e === null, 'the 1:1 room with carol gone');
    await waitText(alice, '#event-log li', 'connection revoked');
    await waitText(alice, '#connections-list li[data-peer="globex"]', 'allowed by us, waiting for');
    await waitText(carol, '#audit-list li[data-action="connection_revoke"]', 'carol@globex');
    await waitText(carol, '#audit-list li[data-action="member_remove"]', 'connection_revoked');
    log('revocation by carol reached alice; audit shows it');
  });

  await t.test('the external permission toggle and allowing again (alice is notified)', async () => {
    // Per-user permission toggle, read back from the server.
    const daveBox = carol.locator('#admin-users > li[data-user="dave"] input[type="checkbox"]');
    assert.equal(await daveBox.isChecked(), true);
    await daveBox.uncheck();
    await waitText(carol, '#ui-status', 'Dave: external permission off');
    await carol.waitForFunction(() => !document.querySelector('#admin-users li[data-user="dave"] input').checked,
                                null, { timeout: WAIT_MS });

    // Allowing again makes the connection usable: alice is notified.
    await clickIn(carol, '#connections-list', 'acme', 'Allow');
    await waitText(carol, '#connections-list li[data-peer="acme"]', 'usable');
    await waitText(alice, '#event-log li', 'you can now reach Globex');
    await waitText(carol, '#audit-list li[data-action="connection_allow"]', 'carol@globex');
  });

  await t.test('signing out hides the workspace', async () => {
    // Signing out hides the workspace.
    await bob.click('#signout');
    await waitText(bob, '#ui-status', 'Signed out.');
    assert.equal(await bob.isVisible('#workspace'), false);
  });
});
