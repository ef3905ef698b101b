// Demo page, administrator view: the tenant's external connections, its users' external
// permission and the recent audit log, over the HTTP admin API (docs/openapi.yaml).

const $ = (id) => document.getElementById(id);

/** Creates an element with properties (`class`, `text`, dataset via `data`) and children. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'data') Object.assign(e.dataset, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

/** An error carrying the server's code and message. */
class AdminError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** The administrator view of one signed-in administrator. */
export class AdminView {
  /**
   * @param {string} token the administrator's bearer token
   * @param {{id: string, tenant: string}} me
   * @param {(text: string, isError?: boolean) => void} setStatus where results and errors go
   */
  constructor(token, me, setStatus) {
    this.token = token;
    this.me = me;
    this.setStatus = setStatus;
    this.closed = false;
    this.seq = 0;
  }

  async api(method, path, body) {
    const res = await fetch(`/api/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`,
                 ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    let json = null;
    try {
      json = await res.json();
    } catch {
      // An empty or non-JSON body: the status says what happened.
    }
    if (!res.ok) {
      throw new AdminError(json?.error?.code || `HTTP ${res.status}`, json?.error?.message || res.statusText);
    }
    return json || {};
  }

  /** Shows the view and wires its controls (once per sign-in). */
  start() {
    $('admin').hidden = false;
    this.onMode = () => this.act(`External features: ${$('tenant-mode').value}.`, () =>
      this.api('PATCH', `/tenants/${encodeURIComponent(this.me.tenant)}`,
               { external_mode: $('tenant-mode').value }));
    this.onAllow = (ev) => {
      ev.preventDefault();
      const peer = $('connection-peer').value.trim();
      this.act(`Allowed the connection to ${peer}.`, () => this.connection(peer, 'allow'))
        .then((ok) => { if (ok) $('connection-peer').value = ''; });
    };
    this.onAudit = () => this.refresh();
    $('tenant-mode').addEventListener('change', this.onMode);
    $('connection-form').addEventListener('submit', this.onAllow);
    $('audit-refresh').addEventListener('click', this.onAudit);
    return this.refresh();
  }

  /** Hides the view and unwires it. */
  stop() {
    this.closed = true;
    $('admin').hidden = true;
    $('tenant-mode').removeEventListener('change', this.onMode);
    $('connection-form').removeEventListener('submit', this.onAllow);
    $('audit-refresh').removeEventListener('click', this.onAudit);
    for (const id of ['connections-list', 'admin-users', 'audit-list']) $(id).replaceChildren();
  }

  connection(peer, verb) {
    return this.api('POST', `/connections/${encodeURIComponent(peer)}/${verb}`, {});
  }

  /** Runs an admin change, reports it, and reloads the view. Resolves true on success. */
  async act(done, fn) {
    try {
      await fn();
      this.setStatus(done);
      await this.refresh();
      return true;
    } catch (err) {
      this.setStatus(`Could not change it: ${err.message}`, true);
      await this.refresh();
      return false;
    }
  }

  /** Reloads connections, users and audit; an older reload never overwrites a newer one. */
  async refresh() {
    if (this.closed) return;
    const seq = ++this.seq;
    const t = encodeURIComponent(this.me.tenant);
    try {
      const [conns, tenant, users, audit] = await Promise.all([
        this.api('GET', '/connections'), this.api('GET', `/tenants/${t}`),
        this.api('GET', `/tenants/${t}/users`), this.api('GET', '/audit?limit=30'),
      ]);
      if (seq !== this.seq || this.closed) return;
      this.renderConnections(conns.connections || []);
      $('tenant-mode').value = tenant.tenant?.external_mode || 'everyone';
      this.renderUsers(users.users || []);
      this.renderAudit(audit.entries || []);
    } catch (err) {
      if (seq === this.seq) this.setStatus(`Could not load the administration view: ${err.message}`, true);
    }
  }

  renderConnections(conns) {
    const list = $('connections-list');
    list.replaceChildren();
    if (conns.length === 0) list.append(el('li', { class: 'empty', text: 'No external connections.' }));
    for (const c of conns) {
      const state = c.usable ? 'usable'
        : c.allowed ? `allowed by us, waiting for ${c.name}`
          : c.peer_allowed ? `${c.name} allows, we do not` : 'revoked';
      const verb = c.allowed ? 'revoke' : 'allow';
      list.append(el('li', { data: { peer: c.peer } },
        el('span', { class: 'name', text: `${c.name} (${c.peer})` }),
        el('span', { class: `badge ${c.usable ? 'ok' : 'off'}`, text: state }),
        el('button', {
          type: 'button', class: verb === 'revoke' ? 'danger small' : 'small',
          text: verb === 'revoke' ? 'Revoke' : 'Allow',
          onclick: () => this.act(`${verb === 'revoke' ? 'Revoked' : 'Allowed'} the connection to ${c.name}.`,
                                  () => this.connection(c.peer, verb)),
        })));
    }
  }

  renderUsers(users) {
    const list = $('admin-users');
    list.replaceChildren();
    for (const u of users) {
      const id = `ext-${u.id}`;
      const box = el('input', { type: 'checkbox', id, checked: u.external_allowed });
      box.addEventListener('change', () => this.act(
        `${u.name}: external permission ${box.checked ? 'on' : 'off'}.`,
        () => this.api('PATCH', `/tenants/${encodeURIComponent(u.tenant)}/users/${encodeURIComponent(u.id)}`,
                       { external_allowed: box.checked })));
      list.append(el('li', { data: { user: u.id } },
        el('span', { class: 'name', text: `${u.name} (${u.id})${u.admin ? ', administrator' : ''}` }),
        el('span', { class: 'check' }, box, el('label', { htmlFor: id, text: 'External permission' })),
        el('span', { class: `badge ${u.external_permitted ? 'ok' : 'off'}`,
                     text: u.external_permitted ? 'permitted' : 'not permitted' })));
    }
  }

  renderAudit(entries) {
    const list = $('audit-list');
    list.replaceChildren();
    if (entries.length === 0) list.append(el('li', { class: 'empty', text: 'No entries.' }));
    for (const e of entries) {
      const who = e.actor ? `${e.actor.user}@${e.actor.tenant}` : 'system';
      const subject = e.user ? ` ${e.user}@${e.tenant}` : '';
      const room = e.room ? ` in ${e.room}` : '';
      list.append(el('li', { data: { action: e.action } },
        el('time', { text: new Date(e.time).toLocaleTimeString() }),
        ` ${who}: `, el('strong', { text: e.action }), `${subject}${room}`,
        e.reason ? ` (${e.reason})` : ''));
    }
  }
}
