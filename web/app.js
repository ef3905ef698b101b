// Demo page: pick a demo user (or paste a token), join a room, see local and remote video.
import { SwitchboardClient } from './switchboard.js';

const $ = (id) => document.getElementById(id);

// Exposed for tests and debugging in the console (sbDemo.client.pc.getStats(), ...).
const demo = { client: null, localStream: null, lastError: null, users: [], muted: new Map() };
window.sbDemo = demo;

// Why a call ended (call.ended reasons of docs/protocol.md, and the client's own).
const ENDED = {
  consent_expired: 'the media connection was lost',
  setup_timeout: 'the media connection could not be set up',
  dtls_failed: 'the secure media connection failed',
  member_removed: 'you were removed from the room',
  permission_withdrawn: 'your administrator withdrew the permission',
  connection_revoked: 'the connection between the companies was revoked',
  blocked: 'a participant blocked you',
  server_shutdown: 'the server is shutting down',
  negotiation_failed: 'the media negotiation failed',
  disconnected: 'the connection to the server was lost',
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
  if (demo.users.length === 0) {
    select.append(new Option('No demo users (server not started with --demo)', ''));
    select.required = false;
    $('token-box').open = true;
    return;
  }
  for (const u of demo.users) select.append(new Option(`${u.name} (${u.tenant})`, u.id));
  // Two tabs of a fresh demo should not both be Alice: take the user named in the URL hash.
  const wanted = location.hash.slice(1);
  if (demo.users.some((u) => u.id === wanted)) select.value = wanted;
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

$('join-form').addEventListener('submit', join);
$('mute-audio').addEventListener('click', (ev) => toggleMute('audio', ev.currentTarget));
$('mute-video').addEventListener('click', (ev) => toggleMute('video', ev.currentTarget));
$('hangup').addEventListener('click', hangUp);
loadUsers();
