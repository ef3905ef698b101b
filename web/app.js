// Demo page: sign in as a demo user to see rooms (external ones marked), manage groups, contacts
// and blocks, and (administrators) the tenant's connections; call from any room, or pick a user
// (or paste a token) and a room in the call form.
import { SwitchboardClient } from './switchboard.js';
import { AdminView, el } from './admin.js';

const $ = (id) => document.getElementById(id);

// Exposed for tests and debugging in the console (sbDemo.client.pc.getStats(), ...).
// `client` is the call's client; `session` the signed-in user's client for rooms and contacts.
const demo = {
  client: null, localStream: null, lastError: null, users: [], muted: new Map(),
  session: null, me: null, token: null, admin: null, selected: null, rooms: [], contacts: [],
};
window.sbDemo = demo;

// Why a call ended (call.ended reasons of docs/protocol.md, and the client's own).
const ENDED = {
  consent_expired: 'the media connection was lost',
  setup_timeout: 'the media connection could not be set up',
  dtls_failed: 'the secure media connection failed',
  dtls_closed: 'the media connection was closed',
  create_failed: 'the server could not set up the media connection',
  member_removed: 'you were removed from the room',
  left: 'you left the room',
  permission_withdrawn: 'your administrator withdrew the permission',
  connection_revoked: 'the connection between the companies was revoked',
  blocked: 'you blocked the other participant',
  not_found: 'the room is no longer available',
  server_shutdown: 'the server is shutting down',
  negotiation_failed: 'the media negotiation failed',
  disconnected: 'the connection to the server was lost',
  moved: 'the call moved to another server and could not be rejoined',
};

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

function setInCall(inCall) {
  for (const id of ['user', 'room', 'token', 'join']) $(id).disabled = inCall;
  for (const id of ['hangup', 'mute-audio', 'mute-video']) $(id).disabled = !inCall;
  if (!inCall) for (const id of ['mute-audio', 'mute-video']) $(id).setAttribute('aria-pressed', 'false');
}

async function loadUsers() {
  const select = $('user');
  try {
    const res = await fetch('/api/demo/users');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    demo.users = (await res.json()).users || [];
  } catch {
    demo.users = [];
  }
  select.replaceChildren();
  const signin = $('session-user');
  signin.replaceChildren();
  for (const u of demo.users) {
    signin.append(new Option(`${u.name} (${u.tenant}${u.admin ? ', admin' : ''})`, u.id));
  }
  if (demo.users.length === 0) {
    signin.append(new Option('No demo users (server not started with --demo)', ''));
    $('signin').disabled = true;
    select.append(new Option('No demo users (server not started with --demo)', ''));
    select.required = false;
    $('token-box').open = true;
    return;
  }
  for (const u of demo.users) select.append(new Option(`${u.name} (${u.tenant})`, u.id));
  // Two tabs of a fresh demo should not both be Alice: take the user named in the URL hash.
  const wanted = location.hash.slice(1);
  if (demo.users.some((u) => u.id === wanted)) {
    select.value = wanted;
    signin.value = wanted;
  }
}

async function demoToken(user) {
  const res = await fetch('/api/demo/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (!res.ok) throw new Error(`no demo token for ${user} (HTTP ${res.status})`);
  return (await res.json()).token;
}

function displayName(client, user) {
  return client.participants.get(user)?.name || user;
}

function renderParticipants(client) {
  const list = $('participants');
  list.replaceChildren();
  if (client.participants.size === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Nobody else yet.';
    list.append(li);
    return;
  }
  for (const p of client.participants.values()) {
    const li = document.createElement('li');
    li.textContent = `${p.name} (${p.tenant})`;
    list.append(li);
  }
}

function addRemoteTile(client, user, stream) {
  removeRemoteTile(user);
  const fig = document.createElement('figure');
  fig.className = 'tile';
  fig.dataset.user = user;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.srcObject = stream;
  const caption = document.createElement('figcaption');
  caption.textContent = displayName(client, user);
  video.setAttribute('aria-label', `Video of ${caption.textContent}`);
  fig.append(video, caption);
  $('videos').append(fig);
}

function tileOf(user) {
  return [...$('videos').querySelectorAll('figure[data-user]')].find((f) => f.dataset.user === user);
}

// Caption: the name, plus what the participant has paused.
function updateCaption(client, user) {
  const fig = tileOf(user);
  if (!fig) return;
  const muted = demo.muted.get(user) || {};
  const notes = [muted.audio && 'muted', muted.video && 'camera off'].filter(Boolean);
  fig.querySelector('figcaption').textContent =
    displayName(client, user) + (notes.length ? ` (${notes.join(', ')})` : '');
}

function removeRemoteTile(user) {
  for (const fig of $('videos').querySelectorAll('figure[data-user]')) {
    if (fig.dataset.user === user) fig.remove();
  }
}

function wire(client, room) {
  client.on('participantjoined', (p) => {
    renderParticipants(client);
    setStatus(`${p.name} joined “${room}”.`);
  });
  client.on('participantleft', (p) => {
    renderParticipants(client);
    removeRemoteTile(p.user);
    if (p.reason !== 'call_ended') setStatus(`${p.name} left “${room}”.`);
  });
  client.on('streamadded', ({ user, stream }) => {
    addRemoteTile(client, user, stream);
    updateCaption(client, user);
  });
  client.on('trackmuted', ({ user, kind, muted }) => {
    demo.muted.set(user, { ...demo.muted.get(user), [kind]: muted });
    updateCaption(client, user);
  });
  client.on('activespeaker', ({ user }) => {
    for (const fig of $('videos').querySelectorAll('figure')) fig.classList.remove('speaking');
    const fig = user === client.user?.id ? $('local-tile') : tileOf(user);
    fig?.classList.add('speaking');
  });
  client.on('streamremoved', ({ user }) => removeRemoteTile(user));
  client.on('connected', () => setStatus(`Connected to “${room}”.`));
  client.on('peerstate', ({ state }) => {
    if (state === 'failed') setStatus('Media connection failed.', true);
  });
  client.on('error', ({ error }) => {
    demo.lastError = error;
    setStatus(`Problem: ${error.message}`, true);
  });
  // The client rejoins by itself when its node drains or the connection drops.
  client.on('reconnecting', ({ attempt }) => setStatus(`Reconnecting to “${room}” (attempt ${attempt})…`));
  client.on('rejoined', () => setStatus(`Back in “${room}”.`));
  client.on('ended', ({ reason }) => {
    if (reason !== 'left') {
      setStatus(`Call ended: ${ENDED[reason] || reason}.`, reason !== 'server_shutdown');
    }
    cleanUp();
  });
}

function cleanUp() {
  const client = demo.client;
  demo.client = null;
  if (client) client.close();
  if (demo.localStream) {
    for (const t of demo.localStream.getTracks()) t.stop();
    demo.localStream = null;
  }
  $('local-video').srcObject = null;
  $('local-tile').classList.remove('speaking');
  demo.muted.clear();
  $('local-caption').textContent = 'You';
  for (const fig of $('videos').querySelectorAll('figure[data-user]')) fig.remove();
  $('participants').replaceChildren();
  setInCall(false);
}

async function join(ev) {
  ev.preventDefault();
  if (demo.client) return;
  const user = $('user').value;
  const room = $('room').value.trim();
  const pasted = $('token').value.trim();
  if (!room || (!user && !pasted)) {
    setStatus('Choose a user (or paste a token) and a room.', true);
    return;
  }
  setInCall(true);
  const client = new SwitchboardClient();
  demo.client = client;
  demo.lastError = null;
  try {
    setStatus('Starting camera and microphone…');
    demo.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    $('local-video').srcObject = demo.localStream;
    setStatus('Signing in…');
    const token = pasted || await demoToken(user);
    wire(client, room);
    const me = await client.connect(SwitchboardClient.defaultUrl(), token);
    $('local-caption').textContent = `You: ${me.name || me.id} (${me.tenant})`;
    setStatus(`Joining “${room}”…`);
    await client.join(room, demo.localStream);
    renderParticipants(client);
    const others = client.participants.size;
    setStatus(`In “${room}” as ${me.name || me.id}; ` +
              (others ? `${others} other participant${others > 1 ? 's' : ''}.` : 'waiting for others.'));
  } catch (err) {
    demo.lastError = err;
    if (demo.client === client) cleanUp();
    setStatus(`Could not join: ${err.message}`, true);
  }
}

async function hangUp() {
  const client = demo.client;
  if (!client) return;
  try {
    await client.leave();
  } catch {
    // The server may already have ended the call; we leave locally either way.
  }
  cleanUp();
  setStatus('You left the call.');
}

async function toggleMute(kind, button) {
  const client = demo.client;
  if (!client) return;
  const muted = button.getAttribute('aria-pressed') !== 'true';
  button.disabled = true;
  try {
    await client.mute(kind, muted);
    button.setAttribute('aria-pressed', String(muted));
  } catch (err) {
    setStatus(`Could not ${muted ? 'pause' : 'resume'} ${kind}: ${err.message}`, true);
  } finally {
    button.disabled = demo.client !== client;
  }
}

// ---- Signed-in workspace: rooms, contacts, blocks (docs/api.md) and the admin view ----

function uiStatus(text, isError = false) {
  const s = $('ui-status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

/** Runs one API change; reports `done` or the server's error. Resolves with the result or null. */
async function act(done, fn) {
  try {
    const result = await fn();
    if (done) uiStatus(typeof done === 'function' ? done(result) : done);
    return result ?? {};
  } catch (err) {
    uiStatus(`Failed: ${err.message}`, true);
    return null;
  } finally {
    scheduleRefresh();
  }
}

function req(method, params = {}) {
  if (!demo.session) return Promise.reject(new Error('not signed in'));
  return demo.session.request(method, params);
}

/** "bob" or "globex/bob" (ids cannot contain "/") as an API user reference. */
function parseUserRef(text) {
  const i = text.indexOf('/');
  return i < 0 ? { user: text } : { tenant: text.slice(0, i), user: text.slice(i + 1) };
}

function userParams(user, tenant) {
  return tenant ? { user, tenant } : { user };
}

async function signIn(ev) {
  ev.preventDefault();
  const user = $('session-user').value;
  if (!user) return;
  if (demo.session) await signOut();
  $('signin').disabled = true;
  uiStatus('Signing in…');
  const session = new SwitchboardClient();
  try {
    const token = await demoToken(user);
    // Listening before connect(): pending notifications follow the auth reply at once.
    session.on('event', ({ event, data }) => {
      if (!demo.session || demo.session === session) onServerEvent(event, data);
    });
    const me = await session.connect(SwitchboardClient.defaultUrl(), token);
    Object.assign(demo, { session, me, token, selected: null });
    session.on('disconnected', () => {
      if (demo.session === session) signOut('The connection to the server was lost.', true);
    });
    // The call form follows the signed-in user.
    if (!demo.client) $('user').value = user;
    $('workspace').hidden = false;
    $('signout').disabled = false;
    $('session-user').disabled = true;
    uiStatus(`Signed in as ${me.name} (${me.tenant}${me.admin ? ', administrator' : ''}).`);
    if (me.admin) {
      demo.admin = new AdminView(token, me, uiStatus);
      demo.admin.start();
    }
    await refreshAll();
  } catch (err) {
    session.close();
    if (demo.session === session) demo.session = null;
    $('signin').disabled = false;
    uiStatus(`Could not sign in: ${err.message}`, true);
  }
}

async function signOut(message = 'Signed out.', isError = false) {
  const session = demo.session;
  demo.session = null;
  if (session) session.close();
  if (demo.admin) demo.admin.stop();
  Object.assign(demo, { admin: null, me: null, token: null, selected: null, rooms: [], contacts: [] });
  $('workspace').hidden = true;
  $('room-details').hidden = true;
  for (const id of ['rooms-list', 'members-list', 'contacts-list', 'blocks-list', 'event-log']) {
    $(id).replaceChildren();
  }
  $('signout').disabled = true;
  $('signin').disabled = false;
  $('session-user').disabled = false;
  uiStatus(message, isError);
}

// Events arrive in bursts (a revocation removes several members): one reload per burst.
let refreshTimer = null;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refreshAll();
  }, 30);
}

/** Every page of a list method (docs/api.md: limit, cursor, next_cursor) as one {key: [...]}. */
async function reqAll(method, key) {
  const items = [];
  let cursor;
  for (let page = 0; page < 50; page++) {
    const r = await req(method, cursor ? { limit: 500, cursor } : { limit: 500 });
    items.push(...r[key]);
    if (!r.next_cursor) break;
    cursor = r.next_cursor;
  }
  return { [key]: items };
}

let refreshSeq = 0;
/** Reloads rooms, contacts, blocks and the selected room; a stale reload never renders. */
async function refreshAll() {
  if (!demo.session) return;
  const seq = ++refreshSeq;
  try {
    const [rooms, contacts, blocks] = await Promise.all([
      reqAll('rooms.list', 'rooms'), reqAll('contacts.list', 'contacts'), reqAll('blocks.list', 'blocks')]);
    let room = null;
    if (demo.selected && rooms.rooms.some((r) => r.id === demo.selected)) {
      room = (await req('rooms.get', { room: demo.selected })).room;
    }
    if (seq !== refreshSeq || !demo.session) return;
    demo.rooms = rooms.rooms;
    demo.contacts = contacts.contacts;
    renderRooms(rooms.rooms);
    renderContacts(contacts.contacts);
    renderBlocks(blocks.blocks);
    renderRoom(room);
  } catch (err) {
    if (seq === refreshSeq && demo.session) uiStatus(`Could not load: ${err.message}`, true);
  }
  demo.admin?.refresh();
}

const EVENT_TEXT = {
  'room.member_added': (d) => `${d.name || d.user} (${d.tenant}) joined room ${d.room}`,
  'room.member_removed': (d) => `${d.name || d.user} (${d.tenant}) left room ${d.room}` +
    (d.reason ? ` (${d.reason.replace(/_/g, ' ')})` : ''),
  'room.member_updated': (d) => `${d.user} (${d.tenant}) is ${d.master ? 'now' : 'no longer'} ` +
    `a master of ${d.room}`,
  'room.updated': (d) => `room ${d.room} is now “${d.name}”${d.external ? ' (external)' : ''}`,
  notification: (d) => (d.kind === 'connection_usable'
    ? `you can now reach ${d.data?.name || d.data?.tenant}` : `notification: ${d.kind}`),
};

function onServerEvent(event, data) {
  const text = EVENT_TEXT[event];
  if (!text) return;
  const log = $('event-log');
  log.prepend(el('li', { data: { event } },
    el('time', { text: new Date().toLocaleTimeString() }), ` ${text(data || {})}`));
  while (log.children.length > 30) log.lastElementChild.remove();
  scheduleRefresh();
}

function renderRooms(rooms) {
  const list = $('rooms-list');
  list.replaceChildren();
  if (rooms.length === 0) list.append(el('li', { class: 'empty', text: 'No rooms yet.' }));
  for (const r of rooms) {
    const open = el('button', {
      type: 'button', class: 'link', text: r.name || r.id, onclick: () => selectRoom(r.id),
      'aria-current': r.id === demo.selected ? 'true' : null,
    });
    list.append(el('li', { data: { room: r.id }, class: r.id === demo.selected ? 'selected' : '' },
      open,
      r.external ? el('span', { class: 'badge external', text: 'external' }) : null,
      el('span', { class: 'muted', text: `${r.kind === 'direct' ? '1:1' : 'group'}, ` +
                                         `${r.member_count} member${r.member_count === 1 ? '' : 's'}` }),
      r.master ? el('span', { class: 'badge', text: 'master' }) : null,
      el('button', { type: 'button', class: 'small call', text: 'Call', onclick: () => callRoom(r.id),
                     'aria-label': `Call ${r.name || r.id}` })));
  }
}

function selectRoom(id) {
  demo.selected = id;
  scheduleRefresh();
}

function renderRoom(room) {
  const box = $('room-details');
  if (!room) {
    box.hidden = true;
    demo.selected = null;
    return;
  }
  box.hidden = false;
  box.dataset.room = room.id;
  $('room-title').textContent = `${room.name || room.id}${room.external ? ' · external' : ''}`;
  $('room-info').textContent = [room.kind === 'direct' ? '1:1 room' : 'Group room', room.id,
    room.description, room.photo_url && `photo ${room.photo_url}`].filter(Boolean).join(' · ');
  const master = room.kind === 'group' && room.master;
  $('master-tools').hidden = !master;
  if (master && !box.contains(document.activeElement)) {
    $('rename-name').value = room.name;
    $('rename-description').value = room.description || '';
    $('rename-photo').value = room.photo_url || '';
  }
  const list = $('members-list');
  list.replaceChildren();
  for (const m of room.members || []) {
    const me = m.user === demo.me.id && m.tenant === demo.me.tenant;
    const who = userParams(m.user, m.tenant);
    list.append(el('li', { data: { user: m.user, tenant: m.tenant } },
      el('span', { class: 'name', text: `${m.name} (${m.tenant})${me ? ' — you' : ''}` }),
      m.tenant !== demo.me.tenant ? el('span', { class: 'badge external', text: 'external' }) : null,
      m.master ? el('span', { class: 'badge', text: 'master' }) : null,
      master && !me ? el('button', {
        type: 'button', class: 'small danger', text: 'Remove',
        onclick: () => act(`Removed ${m.name}.`, () => req('rooms.remove_member', { room: room.id, ...who })),
      }) : null,
      master ? el('button', {
        type: 'button', class: 'small toggle', text: m.master ? 'Revoke master' : 'Make master',
        onclick: () => act(`${m.name} ${m.master ? 'is no longer' : 'is now'} a master.`,
          () => req(m.master ? 'rooms.revoke_master' : 'rooms.grant_master', { room: room.id, ...who })),
      }) : null));
  }
}

async function createRoom(ev) {
  ev.preventDefault();
  const name = $('new-room-name').value.trim();
  const description = $('new-room-description').value.trim();
  const members = $('new-room-members').value.split(',').map((s) => s.trim()).filter(Boolean)
    .map(parseUserRef);
  const params = { name, members, ...(description ? { description } : {}) };
  const res = await act((r) => `Created “${r.room.name}”.`, () => req('rooms.create', params));
  if (res) {
    for (const id of ['new-room-name', 'new-room-description', 'new-room-members']) $(id).value = '';
    demo.selected = res.room.id;
  }
}

async function addMember(ev) {
  ev.preventDefault();
  const who = userParams($('add-member-user').value.trim(), $('add-member-tenant').value.trim());
  const res = await act(`Added ${who.user}.`, () => req('rooms.add_member', { room: demo.selected, ...who }));
  if (res) $('add-member-user').value = '';
}

function renameRoom(ev) {
  ev.preventDefault();
  const params = { room: demo.selected, name: $('rename-name').value.trim(),
                   description: $('rename-description').value.trim() };
  const photo = $('rename-photo').value.trim();
  if (photo) params.photo_url = photo;
  act('Saved the room.', () => req('rooms.update', params));
}

async function leaveRoom() {
  const room = demo.selected;
  if (await act('You left the room.', () => req('rooms.leave', { room }))) demo.selected = null;
}

/** Joins `room`'s call with the call form below, as the signed-in user. */
function callRoom(room) {
  if (!room || !demo.me) return;
  if (demo.client) {
    uiStatus('Hang up the current call first.', true);
    return;
  }
  $('user').value = demo.me.id;
  $('token').value = '';
  $('room').value = room;
  $('join-form').requestSubmit();
  $('call-heading').scrollIntoView({ block: 'start' });
}

function renderContacts(contacts) {
  const list = $('contacts-list');
  list.replaceChildren();
  if (contacts.length === 0) list.append(el('li', { class: 'empty', text: 'No contacts yet.' }));
  for (const c of contacts) {
    const who = { user: c.user, tenant: c.tenant };
    const details = [c.phone, c.email, c.memo].filter(Boolean).join(' · ');
    const li = el('li', { data: { user: c.user, tenant: c.tenant } },
      el('span', { class: 'name', text: `${c.display_name || c.name} (${c.user}, ${c.tenant})` }),
      c.reachable ? null : el('span', { class: 'badge off', text: 'unreachable' }),
      details ? el('span', { class: 'muted', text: details }) : null,
      el('button', { type: 'button', class: 'small', text: 'Open room', onclick: () => selectRoom(c.room) }),
      el('button', { type: 'button', class: 'small call', text: 'Call', onclick: () => callRoom(c.room) }),
      el('button', { type: 'button', class: 'small toggle', text: 'Block',
                     onclick: () => act(`Blocked ${c.name}.`, () => req('blocks.add', who)) }),
      el('button', { type: 'button', class: 'small danger', text: 'Remove',
                     onclick: () => act(`Removed contact ${c.name}.`, () => req('contacts.remove', who)) }),
      contactEditor(c));
    list.append(li);
  }
}

/** A collapsed form for the contact's private details; empty fields clear them. */
function contactEditor(c) {
  const fields = [['display_name', 'Display name', 128], ['phone', 'Phone', 64],
                  ['email', 'Email', 254], ['memo', 'Memo', 2048]];
  const key = `${c.tenant}-${c.user}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const form = el('form', { class: 'inline' });
  for (const [name, label, max] of fields) {
    const id = `contact-${name}-${key}`;
    form.append(el('div', { class: 'field' }, el('label', { htmlFor: id, text: label }),
      el('input', { id, name, type: 'text', maxLength: max, value: c[name] ?? '', autocomplete: 'off' })));
  }
  form.append(el('button', { type: 'submit', class: 'small', text: 'Save details' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const params = { user: c.user, tenant: c.tenant };
    for (const [name] of fields) params[name] = form.elements[name].value.trim() || null;
    act(`Saved the details of ${c.name}.`, () => req('contacts.update', params));
  });
  return el('details', { class: 'edit' }, el('summary', { text: 'Private details' }), form);
}

async function addContact(ev) {
  ev.preventDefault();
  const params = userParams($('contact-user').value.trim(), $('contact-tenant').value.trim());
  const display = $('contact-display').value.trim();
  if (display) params.display_name = display;
  const res = await act((r) => `Added contact ${r.contact.name}; their 1:1 room is open.`,
                        () => req('contacts.add', params));
  if (res) {
    for (const id of ['contact-user', 'contact-tenant', 'contact-display']) $(id).value = '';
    demo.selected = res.room.id;
  }
}

function renderBlocks(blocks) {
  const list = $('blocks-list');
  list.replaceChildren();
  if (blocks.length === 0) list.append(el('li', { class: 'empty', text: 'Nobody blocked.' }));
  for (const b of blocks) {
    list.append(el('li', { data: { user: b.user, tenant: b.tenant } },
      el('span', { class: 'name', text: `${b.name} (${b.user}, ${b.tenant})` }),
      el('button', { type: 'button', class: 'small toggle', text: 'Unblock',
                     onclick: () => act(`Unblocked ${b.name}.`,
                                        () => req('blocks.remove', { user: b.user, tenant: b.tenant })) })));
  }
}

async function blockUser(ev) {
  ev.preventDefault();
  const who = userParams($('block-user').value.trim(), $('block-tenant').value.trim());
  if (await act(`Blocked ${who.user}.`, () => req('blocks.add', who))) {
    $('block-user').value = '';
    $('block-tenant').value = '';
  }
}

$('join-form').addEventListener('submit', join);
$('signin-form').addEventListener('submit', signIn);
$('signout').addEventListener('click', () => signOut('Signed out.'));
$('create-room-form').addEventListener('submit', createRoom);
$('add-member-form').addEventListener('submit', addMember);
$('rename-form').addEventListener('submit', renameRoom);
$('room-call').addEventListener('click', () => callRoom(demo.selected));
$('room-leave').addEventListener('click', leaveRoom);
$('add-contact-form').addEventListener('submit', addContact);
$('block-form').addEventListener('submit', blockUser);
$('mute-audio').addEventListener('click', (ev) => toggleMute('audio', ev.currentTarget));
$('mute-video').addEventListener('click', (ev) => toggleMute('video', ev.currentTarget));
$('hangup').addEventListener('click', hangUp);
loadUsers();
