// A UDP impairment proxy for the browser tests, in place of netem (sch_netem is missing from the
// kernels of our CI machines: `tc qdisc add ... netem` answers "Specified qdisc kind is
// unknown"). The server announces the proxy's address in its ICE candidates (--media-ip) and
// binds the relay elsewhere (--bind-ip); every page's media then goes page -> proxy -> relay and
// back, and the relay sees each page at one proxy port (as behind a NAT). Each direction of each
// page has its own impairment state, in the manner of netem:
//   { loss: 0.05 }                                random loss
//   { gemodel: { p, r } }                         Gilbert-Elliott bursts: good -> bad with p per
//                                                 packet, bad -> good with r; all lost while bad
//   { delayMs, jitterMs, reorder }                delay with normally distributed jitter (packets
//                                                 overtake each other as their delays differ);
//                                                 `reorder`: that share goes at once, undelayed
// Counters per direction: packets in, dropped, sent, and sent ahead of an earlier one.
import dgram from 'node:dgram';

function normal() {
  // Box-Muller
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

class Direction {
  constructor() {
    this.bad = false;
    this.seq = 0;          // arrival order
    this.lastSent = -1;    // arrival number of the last packet sent
    this.count = { in: 0, dropped: 0, sent: 0, reordered: 0 };
  }

  // Calls send() now, later or never, as the impairment `m` says.
  pass(m, send) {
    const n = this.seq++;
    this.count.in++;
    let lost = false;
    if (m.gemodel) {
      this.bad = this.bad ? Math.random() >= m.gemodel.r : Math.random() < m.gemodel.p;
      lost = this.bad;
    } else if (m.loss) {
      lost = Math.random() < m.loss;
    }
    if (lost) {
      this.count.dropped++;
      return;
    }
    const go = () => {
      this.count.sent++;
      if (n < this.lastSent) this.count.reordered++;
      else this.lastSent = n;
      send();
    };
    const delay = m.delayMs && !(m.reorder && Math.random() < m.reorder)
      ? Math.max(0, m.delayMs + (m.jitterMs || 0) * normal()) : 0;
    if (delay > 0) setTimeout(go, delay);
    else go();
  }
}

/**
 * Starts the proxy on `listen` ({address, port}) toward the relay at `target` ({address, port}).
 * Returns { set(model), counters(), close() }; the model applies to new packets of both
 * directions of every page.
 */
export async function startImpairment(listen, target) {
  let model = {};
  const front = dgram.createSocket('udp4');
  const pages = new Map();   // "address:port" of a page -> {sock, up, down}
  front.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let p = pages.get(key);
    if (!p) {
      const sock = dgram.createSocket('udp4');
      p = { sock, up: new Direction(), down: new Direction() };
      pages.set(key, p);
      sock.on('message', (back) => {
        p.down.pass(model, () => front.send(back, rinfo.port, rinfo.address));
      });
      sock.bind(0, target.address);
    }
    p.up.pass(model, () => p.sock.send(msg, target.port, target.address));
  });
  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind(listen.port, listen.address, resolve);
  });
  return {
    set(m) { model = m; },
    /** Sum over pages: { up: {in, dropped, sent, reordered}, down: {...} }. */
    counters() {
      const sum = { up: { in: 0, dropped: 0, sent: 0, reordered: 0 },
                    down: { in: 0, dropped: 0, sent: 0, reordered: 0 } };
      for (const p of pages.values()) {
        for (const d of ['up', 'down']) for (const k of Object.keys(sum[d])) sum[d][k] += p[d].count[k];
      }
      return sum;
    },
    pages: () => pages.size,
    close() {
      front.close();
      for (const p of pages.values()) p.sock.close();
    },
  };
}
