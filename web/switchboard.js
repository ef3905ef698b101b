// Switchboard client library: an ES module with no build step (docs/protocol.md).
//
//   import { SwitchboardClient } from '/switchboard.js';
//   const client = new SwitchboardClient();
//   client.addEventListener('streamadded', (e) => { video.srcObject = e.detail.stream; });
//   client.addEventListener('ended', (e) => console.log('call ended:', e.detail.reason));
//   const me = await client.connect(SwitchboardClient.defaultUrl(), token);  // {id, tenant, name}
//   await client.join('demo', await navigator.mediaDevices.getUserMedia({audio: true, video: true}));
//   const rooms = await client.request('rooms.list', {});                  // any API method
//   await client.leave();
//   client.close();
//
// Events (CustomEvent; the payload is in `event.detail`):
//   participantjoined {user, tenant, name}     another participant entered the call
//   participantleft   {user, tenant, name, reason}  ... and left it
//   streamadded       {user, stream}           a participant's MediaStream (audio+video grouped by
//                                              the msid stream id, which is the user id)
//   streamremoved     {user, stream}           that stream has no tracks left or its user left
//   connected         {room}                   ICE and DTLS are up on the server side
//   ended             {room, reason}           the call is over: a server reason of call.ended
//                                              (docs/protocol.md), 'left' after leave(), or
//                                              'disconnected' if the socket closed
//   disconnected      {code, reason}           the WebSocket closed
//   peerstate         {state}                  RTCPeerConnection.connectionState changed
//   activespeaker     {user, tenant, name}     the loudest participant (debounced by the server)
//   trackmuted        {user, tenant, kind, muted}  a participant paused or resumed a track
//   event             {event, data}            every server event, including ones not listed here
//   error             {error}                  a SwitchboardError not tied to a request
//   reconnecting      {room, reason, attempt}  the call was moved ('moved': its node drains) or
//                                              the socket closed ('disconnected'): the client
//                                              reconnects through the URL given to connect()
//                                              and joins the room again (attempt 1, 2, ...)
//   rejoined          {room, call}             ... and is back in the call (new streams follow);
//                                              if every attempt fails, 'ended' follows instead
//   resumed           {room, call}             the socket broke during a call and the client
//                                              resumed its session on a new one within the
//                                              server's grace (docs/protocol.md): the call and
//                                              its media went on; 'reconnecting' came first
//   icerestart        {room, reason}           the client asked the server for an ICE restart
//                                              (call.restart_ice): reason 'failed' or
//                                              'disconnected' (ICE state, on its own) or 'api'
//                                              (restartIce()); the server's offer with new
//                                              credentials follows and is answered; media
//                                              resumes on the new path, DTLS is kept
//
// ICE restart (docs/protocol.md "ICE"): when the peer connection's iceConnectionState becomes
// 'failed' the client requests call.restart_ice at once; when it stays 'disconnected' for
// iceRestartDelayMs it does too. One at a time; while the socket is down the session is resumed
// first and the restart follows if ICE is still not connected.
//
// Several nodes (docs/protocol.md "Several nodes"): a call.join answered with error 'redirect'
// ({node, url}: the room's call lives on another node) is followed by the client itself: it
// reconnects to that url, authenticates with the same token and joins again, at most 3 times
// in a row; the application sees only the join's result (or the last error).
//
// Errors: promises reject with SwitchboardError; `code` is a server code of docs/protocol.md
// (bad_request, unauthenticated, forbidden, not_found, conflict, ...) or one of the client's own:
// 'disconnected' (socket closed before the reply), 'timeout' (no reply in time), 'state' (the
// call is not in a state that allows this).

const SUBPROTOCOL = 'switchboard.v1';
const MAX_REDIRECTS = 3;
// Errors after which joining again may succeed (another node, the lease expired, a restart).
const RETRYABLE = new Set(['disconnected', 'timeout', 'redirect', 'unavailable', 'internal']);

/** An error from the server (code of docs/protocol.md) or from this client. */
export class SwitchboardError extends Error {
  constructor(code, message, method, data) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'SwitchboardError';
    this.code = code;
    this.method = method || null;
    this.data = data ?? null;    // the error's `data` (e.g. {node, url} of a redirect)
  }
}

// A redirect's url as a WebSocket URL: http(s) becomes ws(s), an empty path /ws.
function toWsUrl(url, base) {
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  return u.href;
}

const delay = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The a=ice-ufrag of a description (the server uses one for all its m-lines), or null.
const sdpUfrag = (sdp) => /^a=ice-ufrag:(\S+)/m.exec(sdp || '')?.[1] ?? null;
const remoteUfrag = (pc) => sdpUfrag(pc.remoteDescription?.sdp);
const iceDown = (pc) => pc.iceConnectionState === 'disconnected'
  || pc.iceConnectionState === 'failed';

/** A client for one WebSocket session: authentication, API requests and at most one call. */
export class SwitchboardClient extends EventTarget {
  /**
   * @param {object} [options]
   * @param {number} [options.timeoutMs=20000] how long a request waits for its reply
   * @param {boolean} [options.trickle=true] send our ICE candidates with call.candidate (the
   *   ICE-lite server does not need them, it learns our address from connectivity checks)
   * @param {RTCConfiguration} [options.rtcConfig] merged into the RTCPeerConnection settings;
   *   by default its `iceServers` are the TURN servers of the auth result (`ice_servers`, empty
   *   when the server has no TURN): `{iceServers: []}` ignores them, `{iceTransportPolicy:
   *   'relay'}` sends media only through TURN (for testing a TURN set-up)
   * @param {boolean} [options.rejoin=true] rejoin a call that was moved or lost its socket
   * @param {number} [options.rejoinTimeoutMs=30000] how long reconnections are tried (backoff
   *   0.25 s doubling, at most 2 s, with jitter) before 'ended': long enough for a node that
   *   is restarted (systemd waits 2 s, then the node starts) or whose rooms move elsewhere
   * @param {number} [options.rejoinAttempts=Infinity] at most this many reconnections too
   * @param {boolean} [options.iceRestart=true] restart ICE on its own when the peer connection's
   *   ICE state is 'failed', or 'disconnected' for iceRestartDelayMs
   * @param {number} [options.iceRestartDelayMs=2000] how long 'disconnected' may last (Chromium
   *   often recovers by itself within a second or two) before a restart
   */
  constructor(options = {}) {
    super();
    this.timeoutMs = options.timeoutMs ?? 20000;
    this.rejoin = options.rejoin ?? true;
    this.rejoinTimeoutMs = options.rejoinTimeoutMs ?? 30000;
    this.rejoinAttempts = options.rejoinAttempts ?? Infinity;
    this.trickle = options.trickle ?? true;
    this.iceRestart = options.iceRestart ?? true;
    this.iceRestartDelayMs = options.iceRestartDelayMs ?? 2000;
    this.rtcConfig = options.rtcConfig || {};
    this.ws = null;
    this.user = null;            // {id, tenant, name} after connect()
    this.iceServers = [];        // TURN servers with credentials from the last auth result
    this.pc = null;              // the RTCPeerConnection of the current call
    this.room = null;
    this.callId = null;
    this.revision = 0;
    this.participants = new Map();   // user id -> {user, tenant, name}
    this.streams = new Map();        // user id -> MediaStream
    this._nextId = 1;
    this._pending = new Map();       // request id -> {resolve, reject, timer, method}
    this._sdpChain = Promise.resolve();  // serialises answer/offer handling on this.pc
    this._candidates = null;         // candidates gathered before the join reply
    this._url = null;                // as given to connect(): the load balancer's, for rejoins
    this._token = null;
    this._localStream = null;        // of the last join(), published again on a rejoin
    this._switching = false;         // a redirect or rejoin replaces the socket: closes are ours
    this._rejoinRoom = null;         // the room being rejoined
    this._rejoinGen = 0;             // bumped by leave()/close() to stop a rejoin
    this._resume = null;             // {token, grace_s} of the latest auth: resumes the session
    this._resumed = false;           // the latest auth resumed a session
    this._callUrl = null;            // the socket URL the call was joined on (its node)
    this._iceRestart = null;         // the restart in flight: {pc, ufrag, promise, resolve}
    this._iceTimer = null;           // 'disconnected' waits iceRestartDelayMs before a restart
  }

  /** The WebSocket URL of the server that served this page (ws[s]://host/ws). */
  static defaultUrl(base = globalThis.location?.href) {
    const url = new URL('/ws', base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  /** Opens the WebSocket and authenticates; resolves with the user {id, tenant, name}. */
  async connect(url, token) {
    if (this.ws) throw new SwitchboardError('state', 'already connected');
    url = url || SwitchboardClient.defaultUrl();
    const user = await this._open(url, token);
    this._url = url;
    this._token = token;
    return user;
  }

  // Opens a socket to url and authenticates on it (connect(), redirects and rejoins).
  async _open(url, token, resume = null) {
    const ws = new WebSocket(url, SUBPROTOCOL);
    this.ws = ws;
    // A socket given up (failed auth) may report its close after a new connect(): ignore it.
    ws.addEventListener('message', (ev) => { if (this.ws === ws) this._onMessage(ev.data); });
    ws.addEventListener('close', (ev) => { if (this.ws === ws) this._onClose(ev); });
    await new Promise((resolve, reject) => {
      const fail = () => reject(new SwitchboardError('disconnected', `cannot open ${url}`));
      ws.addEventListener('open', () => { ws.removeEventListener('close', fail); resolve(); },
                          { once: true });
      ws.addEventListener('close', fail, { once: true });
    });
    try {
      const result = await this.request('auth', resume ? { token, resume } : { token });
      this.user = result.user;
      // Session resume (docs/protocol.md): the token for the next broken socket, good once.
      this._resume = result.resume?.token ? result.resume : null;
      this._resumed = result.resumed === true;
      // Time-limited credentials: each (re)authentication brings fresh ones for the next join.
      this.iceServers = Array.isArray(result.ice_servers) ? result.ice_servers : [];
      return this.user;
    } catch (err) {
      // The server keeps a refused connection open for a retry; this client retries with a new
      // connect(), so it drops this one at once (connect() may be called again right away).
      if (this.ws === ws) {
        this._onClose({ code: 1000, reason: 'auth failed' });
        ws.close(1000, 'auth failed');
      }
      throw err;
    }
  }

  /** Sends one request; resolves with its `result`, rejects with a SwitchboardError. */
  request(method, params = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SwitchboardError('disconnected', 'not connected', method));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new SwitchboardError('timeout', `no reply to ${method}`, method));
      }, this.timeoutMs);
      this._pending.set(id, { resolve, reject, timer, method });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Joins `room` publishing the audio and video tracks of `localStream` (either may be missing).
   * We offer first: one audio and one video transceiver, sendonly. Resolves with the join result
   * ({call, revision, participants}) once the server's answer is applied.
   */
  async join(room, localStream) {
    if (this.pc || this._rejoinRoom) throw new SwitchboardError('state', 'already in a call');
    this._localStream = localStream || null;
    return this._joinFollowing(room, localStream);
  }

  // Joins, following up to MAX_REDIRECTS redirects to the room's home node.
  async _joinFollowing(room, localStream) {
    for (let hops = 0; ; hops++) {
      try {
        return await this._joinHere(room, localStream);
      } catch (err) {
        if (err.code !== 'redirect' || !err.data?.url || hops >= MAX_REDIRECTS) throw err;
        await this._moveTo(toWsUrl(err.data.url, this.ws?.url || this._url), err);
      }
    }
  }

  // Replaces the socket by one to url, authenticated with the same token, without telling the
  // application. If url cannot be reached, reconnects to the original URL and throws `cause`.
  async _moveTo(url, cause) {
    const was = this._switching;
    this._switching = true;
    try {
      this._dropSocket('redirected');
      try {
        await this._open(url, this._token);
      } catch {
        this._dropSocket('unreachable');
        await this._open(this._url, this._token).catch(() => {});
        // Outside a rejoin (which reports its own end) a session left without a socket says so.
        if (!this.ws && !was) this._emit('disconnected', { code: 1006, reason: 'node unreachable' });
        throw cause;
      }
    } finally {
      this._switching = was;
    }
  }

  _dropSocket(reason) {
    const old = this.ws;
    this.ws = null;
    if (old) {
      this._onClose({ code: 1000, reason }, true);
      if (old.readyState <= WebSocket.OPEN) old.close(1000, reason);
    }
  }

  // One call.join on the current socket.
  async _joinHere(room, localStream) {
    if (this.pc) throw new SwitchboardError('state', 'already in a call');
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers, ...this.rtcConfig,
      bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
    });
    this.pc = pc;
    this.room = room;
    this._candidates = [];
    pc.addEventListener('track', (ev) => this._onTrack(ev));
    pc.addEventListener('icecandidate', (ev) => this._onIceCandidate(ev));
    pc.addEventListener('connectionstatechange',
                        () => this._emit('peerstate', { state: pc.connectionState }));
    pc.addEventListener('iceconnectionstatechange', () => this._onIceState(pc));
    const streams = localStream ? [localStream] : [];
    for (const kind of ['audio', 'video']) {
      const track = localStream?.getTracks().find((t) => t.kind === kind);
      pc.addTransceiver(track || kind, { direction: 'sendonly', streams });
    }
    // Server offers that arrive before our answer is applied wait behind it.
    let answered;
    let joined = false;
    const answerApplied = new Promise((resolve) => { answered = resolve; });
    this._sdpChain = this._sdpChain.then(() => answerApplied);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      const result = await this.request('call.join', { room, sdp: pc.localDescription.sdp });
      if (this.pc !== pc) throw new SwitchboardError('state', 'call ended while joining');
      joined = true;
      this._callUrl = this.ws?.url || null; // the node of the call: where a session resumes
      this.callId = result.call;
      this.revision = result.revision;
      for (const p of result.participants || []) this._addParticipant(p);
      await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
      answered();
      this._flushCandidates();
      return result;
    } catch (err) {
      answered();
      if (this.pc === pc) this._teardown();
      // The server admitted us but we cannot use its answer: do not stay in the room.
      if (joined && this.ws?.readyState === WebSocket.OPEN) {
        this.request('call.leave', {}).catch(() => {});
      }
      throw err instanceof SwitchboardError ? err
        : new SwitchboardError('bad_sdp', `local WebRTC error: ${err.message}`, 'call.join');
    }
  }

  /** Leaves the current call (tells the server when connected) and closes the peer connection. */
  async leave() {
    if (this._rejoinRoom) {
      // Stop rejoining; a join in flight is left when it completes.
      const room = this._rejoinRoom;
      this._rejoinRoom = null;
      this._rejoinGen++;
      if (this.pc) this._teardown(); // a resume keeps the peer connection until it is done
      this._emit('ended', { room, reason: 'left' });
      return;
    }
    if (!this.pc) return;
    const room = this.room;
    // Tell the server first, so the others hear "left" rather than the DTLS close that
    // closing the peer connection would cause.
    const told = this.ws?.readyState === WebSocket.OPEN
      ? this.request('call.leave', {}).catch(() => {}) : Promise.resolve();
    this._teardown();
    try {
      await told;
    } finally {
      this._emit('ended', { room, reason: 'left' });
    }
  }

  /** Closes the session: ends any call and the WebSocket. */
  close() {
    this._rejoinGen++;
    this._rejoinRoom = null;
    this._url = null;   // no rejoin after this
    if (this.pc) {
      const room = this.room;
      this._teardown();
      this._emit('ended', { room, reason: 'left' });
    }
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'bye');
  }

  /**
   * Mutes or unmutes our own `kind` ('audio' or 'video') for everyone: the relay stops forwarding
   * it (call.mute, no renegotiation) and the local track is disabled so nothing is encoded.
   */
  async mute(kind, muted) {
    if (!this.pc) throw new SwitchboardError('state', 'not in a call');
    await this.request('call.mute', { kind, muted: Boolean(muted) });
    for (const t of this.pc.getTransceivers()) {
      if (t.sender.track?.kind === kind) t.sender.track.enabled = !muted;
    }
  }

  /**
   * Restarts ICE (call.restart_ice): the server's next offer carries new credentials, the
   * browser gathers again and checks new pairs; the DTLS session and the call stay. Resolves
   * once that offer is answered; a restart already in flight is joined, not repeated.
   */
  restartIce(reason = 'api') {
    const pc = this.pc;
    if (!pc) return Promise.reject(new SwitchboardError('state', 'not in a call'));
    if (this._iceRestart?.pc === pc) return this._iceRestart.promise;
    const r = { pc, ufrag: remoteUfrag(pc), resolve: null };
    const done = new Promise((resolve) => { r.resolve = resolve; });
    this._iceRestart = r;
    this._emit('icerestart', { room: this.room, reason });
    const timer = setTimeout(() => r.resolve(), this.timeoutMs);
    r.promise = this.request('call.restart_ice', {})
      .then(() => done)
      .finally(() => {
        clearTimeout(timer);
        if (this._iceRestart === r) this._iceRestart = null;
      });
    return r.promise;
  }

  // The peer connection's ICE state: restart on 'failed' at once, on 'disconnected' after
  // iceRestartDelayMs if it is still not connected.
  _onIceState(pc) {
    if (this.pc !== pc) return;
    const state = pc.iceConnectionState;
    clearTimeout(this._iceTimer);
    this._iceTimer = null;
    if (state === 'failed') this._autoRestartIce(pc, 'failed');
    else if (state === 'disconnected') {
      this._iceTimer = setTimeout(() => {
        this._iceTimer = null;
        if (this.pc === pc && iceDown(pc)) this._autoRestartIce(pc, 'disconnected');
      }, this.iceRestartDelayMs);
    }
  }

  _autoRestartIce(pc, reason) {
    if (!this.iceRestart || this.pc !== pc || this._iceRestart) return;
    // Without a socket the resume comes first (_resumeLoop), which checks ICE again after it.
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this._rejoinRoom) return;
    this.restartIce(reason).catch((error) => {
      if (this.pc === pc) this._emit('error', { error });
    });
  }

  /** Stats of the current call's peer connection (RTCStatsReport), or null outside a call. */
  getStats() {
    return this.pc ? this.pc.getStats() : Promise.resolve(null);
  }

  /** Shorthand for addEventListener returning a function that removes the listener. */
  on(type, fn) {
    const listener = (ev) => fn(ev.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _onMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this._emit('error', { error: new SwitchboardError('bad_request', 'server sent invalid JSON') });
      return;
    }
    if (msg.event) {
      this._onEvent(msg.event, msg.data || {});
      return;
    }
    const pending = msg.id != null ? this._pending.get(msg.id) : undefined;
    if (!pending) {
      if (msg.error) {
        const e = msg.error;
        this._emit('error', { error: new SwitchboardError(e.code, e.message) });
      }
      return;
    }
    this._pending.delete(msg.id);
    clearTimeout(pending.timer);
    if (msg.error) {
      pending.reject(new SwitchboardError(msg.error.code, msg.error.message, pending.method,
                                          msg.error.data));
    } else {
      pending.resolve(msg.result || {});
    }
  }

  _onEvent(name, data) {
    this._emit('event', { event: name, data });
    switch (name) {
      case 'call.participant_joined':
        this._addParticipant(data);
        break;
      case 'call.participant_left':
        this._removeParticipant(data);
        break;
      case 'call.offer':
        this._onServerOffer(data);
        break;
      case 'call.connected':
        this._emit('connected', { room: data.room });
        break;
      case 'call.active_speaker':
        this._emit('activespeaker', { user: data.user, tenant: data.tenant, name: data.name });
        break;
      case 'call.track_muted':
        this._emit('trackmuted',
                   { user: data.user, tenant: data.tenant, kind: data.kind, muted: data.muted });
        break;
      case 'call.ended':
        if (this.pc) {
          const room = this.room;
          this._teardown();
          // 'moved': the node drains; the load balancer finds the room's new home.
          if (data.reason === 'moved' && this._canRejoin()) this._rejoinLoop(room, 'moved');
          else this._emit('ended', { room: data.room, reason: data.reason });
        }
        break;
      default:
        break;
    }
  }

  // quiet: the socket is being replaced (redirect, rejoin); the application is not told.
  _onClose(ev, quiet = false) {
    for (const [, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new SwitchboardError('disconnected', `connection closed (${ev.code})`, p.method));
    }
    this._pending.clear();
    this.ws = null;
    if (quiet || this._switching) return;
    if (this.pc && this._resume && this._callUrl && this._canRejoin()) {
      this._resumeLoop(this.room);
      return;
    }
    if (this.pc && this._canRejoin()) {
      const room = this.room;
      this._teardown();
      this._rejoinLoop(room, 'disconnected');
      return;
    }
    if (this.pc) {
      const room = this.room;
      this._teardown();
      this._emit('ended', { room, reason: 'disconnected' });
    }
    this._emit('disconnected', { code: ev.code, reason: ev.reason });
  }

  // The socket broke during a call: reconnect to the call's node within the server's grace and
  // resume the session, keeping the peer connection (media does not need the socket); if the
  // server does not resume it, tear down and join again as after a lost node.
  async _resumeLoop(room) {
    const gen = ++this._rejoinGen;
    const { token: resumeToken, grace_s: graceS } = this._resume;
    const until = Date.now() + graceS * 1000;
    this._resume = null;
    this._rejoinRoom = room;
    this._switching = true;
    let resumed = false;
    try {
      for (let attempt = 1; Date.now() < until && gen === this._rejoinGen; attempt++) {
        this._emit('reconnecting', { room, reason: 'disconnected', attempt });
        const backoff = Math.min(2000, 250 * 2 ** (attempt - 1));
        await delay(backoff / 2 + Math.random() * backoff / 2);
        if (gen !== this._rejoinGen) break;
        try {
          this._dropSocket('resuming');
          await this._open(this._callUrl, this._token, resumeToken);
          resumed = this._resumed;
          break;
        } catch (err) {
          // A call on another node than the one connect() reached (a redirect) whose node cannot
          // be reached may be a node that died: join again through the load balancer at once.
          if (!RETRYABLE.has(err.code) || this._callUrl !== this._url) break;
        }
      }
    } finally {
      this._switching = false;
      if (gen === this._rejoinGen) this._rejoinRoom = null;
    }
    if (gen !== this._rejoinGen) return;
    if (resumed) {
      this._emit('resumed', { room, call: this.callId });
      if (this.pc && iceDown(this.pc)) this._autoRestartIce(this.pc, this.pc.iceConnectionState);
      return;
    }
    this._teardown();
    if (this._canRejoin()) {
      this._rejoinLoop(room, 'disconnected');
      return;
    }
    this._emit('ended', { room, reason: 'disconnected' });
    if (!this.ws) this._emit('disconnected', { code: 1006, reason: 'resume failed' });
  }

  _canRejoin() {
    return this.rejoin && this._url && this._token && this.rejoinAttempts > 0
      && this.rejoinTimeoutMs > 0;
  }

  // Reconnects through the original URL with backoff and joins `room` again with the same
  // local stream; 'ended' with `reason` if no attempt succeeds in time or the error is final.
  // The backoff stops growing at 2 s so that a node back from a restart is found within about
  // 2 s; the jitter spreads many clients' attempts over that time.
  async _rejoinLoop(room, reason) {
    const gen = ++this._rejoinGen;
    const deadline = Date.now() + this.rejoinTimeoutMs;
    this._rejoinRoom = room;
    this._switching = true;
    let joined = false;
    try {
      for (let attempt = 1; attempt <= this.rejoinAttempts && gen === this._rejoinGen; attempt++) {
        const backoff = Math.min(2000, 250 * 2 ** Math.min(attempt - 1, 4));
        const wait = backoff / 2 + Math.random() * backoff / 2;
        if (Date.now() + wait > deadline) break;
        this._emit('reconnecting', { room, reason, attempt });
        await delay(wait);
        if (gen !== this._rejoinGen) break;
        try {
          this._dropSocket('rejoining');
          await this._open(this._url, this._token);
          const result = await this._joinFollowing(room, this._localStream);
          joined = true;
          if (gen !== this._rejoinGen) {
            // The application left meanwhile.
            this.request('call.leave', {}).catch(() => {});
            this._teardown();
            break;
          }
          this._emit('rejoined', { room, call: result.call });
          return;
        } catch (err) {
          if (!RETRYABLE.has(err.code)) break;
        }
      }
    } finally {
      this._switching = false;
      if (gen === this._rejoinGen) this._rejoinRoom = null;
    }
    if (gen !== this._rejoinGen || joined) return;
    this._emit('ended', { room, reason });
    if (!this.ws) this._emit('disconnected', { code: 1006, reason: 'rejoin failed' });
  }

  // A later server offer (tracks of participants added or removed): answer with call.answer.
  _onServerOffer({ revision, sdp }) {
    const pc = this.pc;
    if (!pc) return;
    this._sdpChain = this._sdpChain.then(async () => {
      if (this.pc !== pc) return;
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.revision = revision;
        await this.request('call.answer', { revision, sdp: pc.localDescription.sdp });
        // The offer with new credentials is the one that completes a restart in flight.
        const r = this._iceRestart;
        if (r?.pc === pc && sdpUfrag(sdp) !== r.ufrag) r.resolve();
      } catch (err) {
        const error = err instanceof SwitchboardError ? err
          : new SwitchboardError('bad_sdp', `cannot answer revision ${revision}: ${err.message}`);
        this._emit('error', { error });
      }
    });
  }

  _onTrack(ev) {
    const stream = ev.streams[0];
    if (!stream) {
      this._emit('error', { error: new SwitchboardError('bad_sdp',
        `remote ${ev.track.kind} track without a=msid (mid ${ev.transceiver?.mid})`) });
      return;
    }
    const user = stream.id;
    if (this.streams.get(user) === stream) return;   // second track of a known stream
    this.streams.set(user, stream);
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length === 0) this._dropStream(user, stream);
    });
    this._emit('streamadded', { user, stream });
  }

  _dropStream(user, stream) {
    if (this.streams.get(user) !== stream) return;
    this.streams.delete(user);
    this._emit('streamremoved', { user, stream });
  }

  _onIceCandidate(ev) {
    if (!this.trickle) return;
    const c = ev.candidate;
    const params = c ? { candidate: c.candidate, sdpMid: c.sdpMid } : { candidate: '' };
    if (c && !c.candidate) return;   // Chromium's per-m-line end marker; the null one follows
    if (this._candidates) this._candidates.push(params);
    else this._sendCandidate(params);
  }

  _flushCandidates() {
    const queued = this._candidates || [];
    this._candidates = null;
    for (const params of queued) this._sendCandidate(params);
  }

  _sendCandidate(params) {
    if (!this.pc) return;
    this.request('call.candidate', params).catch((error) => this._emit('error', { error }));
  }

  _addParticipant(p) {
    const info = { user: p.user, tenant: p.tenant, name: p.name || p.user };
    const known = this.participants.has(p.user);
    this.participants.set(p.user, info);
    if (!known) this._emit('participantjoined', info);
  }

  _removeParticipant(p) {
    const info = this.participants.get(p.user);
    if (!info) return;
    this.participants.delete(p.user);
    const stream = this.streams.get(p.user);
    if (stream) this._dropStream(p.user, stream);
    this._emit('participantleft',
               { user: p.user, tenant: p.tenant, name: info.name, reason: p.reason });
  }

  // Local end of a call: close the peer connection and forget its participants and streams.
  _teardown() {
    const pc = this.pc;
    this.pc = null;
    this._candidates = null;
    clearTimeout(this._iceTimer);
    this._iceTimer = null;
    this._iceRestart?.resolve();
    this._iceRestart = null;
    if (pc) pc.close();
    for (const [user, stream] of [...this.streams]) this._dropStream(user, stream);
    for (const user of [...this.participants.keys()]) {
      const p = this.participants.get(user);
      this.participants.delete(user);
      this._emit('participantleft', { user, tenant: p.tenant, name: p.name, reason: 'call_ended' });
    }
    this.room = null;
    this.callId = null;
    this.revision = 0;
    // A closed peer connection never settles a pending setRemoteDescription: start a new
    // chain so that the next call's offers are not queued behind it.
    this._sdpChain = Promise.resolve();
  }
}
