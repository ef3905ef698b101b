#!/usr/bin/env python3
"""Webhooks end to end, for test_webhooks.sh (python3 standard library only).

  receiver PORT LOG SECRETS
      a webhook receiver (http.server) as docs/operations.md describes one: it checks each
      request's Switchboard-Signature against the tenant's secret (from the JSON file SECRETS,
      {"/path": secret}, read at each request) and refuses a timestamp older than 5 minutes;
      answers 400 to a bad signature, 500 to the first request it ever gets on /acme (the
      sender must retry it), 204 otherwise; appends one JSON line per request to LOG
  run HOST PORT SECRET_FILE RECEIVER_PORT LOG SECRETS
      configures acme's and globex's webhooks through the admin API (and checks who may not),
      drives a call in the shared room "demo" (joins, a member removed during the call, the
      removed member refused, leaves) and a connection ended and allowed again, then waits for
      the receiver's log to hold every expected event and checks signatures, order per room,
      tenants, the retry and /metrics

Prints "ok ..." / "not ok ..." lines and "N passed, N failed"; exit status 1 on any failure.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, demo_token, http_call, session  # noqa: E402
from limits import offer  # noqa: E402

TOLERANCE_S = 300


def verify(secret, header, body, now):
    """The receiver's check (docs/operations.md): 'ok', or why the request is refused."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return "malformed signature header"
    if abs(now - t) > TOLERANCE_S:
        return "stale timestamp"
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts.get("v1", "")):
        return "bad signature"
    return "ok"


# ---- the receiver ----

def cmd_receiver(a):
    port, log_path, secrets_path = int(a[0]), a[1], a[2]
    state = {"acme_failed": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                secrets = json.load(open(secrets_path))
            except (OSError, ValueError):
                secrets = {}
            secret = secrets.get(self.path)
            header = self.headers.get("Switchboard-Signature", "")
            check = verify(secret, header, body, int(time.time())) if secret else "no secret"
            if check != "ok":
                status = 400
            elif self.path == "/acme" and not state["acme_failed"]:
                state["acme_failed"] = True
                status = 500
            else:
                status = 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            with open(log_path, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status, "check": check,
                                    "event_id": self.headers.get("Switchboard-Event-Id"),
                                    "signature": header, "event": event,
                                    "at": time.time()}) + "\n")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()


# ---- the scenario ----

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint(secret_file, tenant, user, admin=False):
    key = bytes.fromhex(open(secret_file).read().strip())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": user, "tid": tenant, "exp": int(time.time()) + 600, "iat": int(time.time())}
    if admin:
        claims["adm"] = True
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def read_log(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def delivered(log, path):
    """Events accepted (204) at path, in arrival order."""
    return [r["event"] for r in log if r["path"] == path and r["status"] == 204]


def expected_done(log):
    acme, globex = delivered(log, "/acme"), delivered(log, "/globex")
    types = lambda evs: [e["type"] for e in evs]  # noqa: E731
    return all(types(evs).count("call.ended") == 1 and types(evs).count("connection.usable") == 1
               for evs in (acme, globex)) and "admission.denied" in types(globex)


def metric(host, port, name):
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def configure(check, host, port, secret_file, rport, secrets_path):
    alice = demo_token(host, port, "alice")
    carol = demo_token(host, port, "carol")
    operator = mint(secret_file, "_operator", "ops", admin=True)
    path = "/api/admin/tenants/{}/webhook"
    secrets = {}
    for who, tenant in ((alice, "acme"), (carol, "globex")):
        s, r = http_call(host, port, "PUT", path.format(tenant), token=who,
                         body={"url": f"http://127.0.0.1:{rport}/{tenant}"})
        secret = (r or {}).get("webhook", {}).get("secret", "")
        check(f"{tenant}'s administrator creates its webhook, shown the secret once",
              s == 201 and secret.startswith("whsec_") and len(secret) == 70, (s, r))
        secrets[f"/{tenant}"] = secret
        s, r = http_call(host, port, "GET", path.format(tenant), token=who)
        shown = (r or {}).get("webhook", {}).get("secret", "")
        check(f"{tenant}'s webhook reads back masked", s == 200 and shown != secret and
              shown.startswith("whsec_...") and secret.endswith(shown[-4:]), (s, r))
    with open(secrets_path + ".tmp", "w") as f:
        json.dump(secrets, f)
    os.replace(secrets_path + ".tmp", secrets_path)
    s, r = http_call(host, port, "GET", path.format("acme"), token=carol)
    check("another tenant's administrator cannot read the webhook", s == 403, (s, r))
    s, r = http_call(host, port, "PUT", path.format("acme"), token=carol,
                     body={"url": "http://127.0.0.1:9/stolen"})
    check("another tenant's administrator cannot set it", s == 403, (s, r))
    s, r = http_call(host, port, "GET", path.format("acme"), token=operator)
    check("the operator cannot read it", s == 403, (s, r))
    s, r = http_call(host, port, "GET", path.format("acme"), token=demo_token(host, port, "bob"))
    check("a plain user cannot read it", s == 403, (s, r))
    s, r = http_call(host, port, "PUT", path.format("acme"), token=alice,
                     body={"url": "ftp://127.0.0.1/x"})
    check("a URL that is not http(s) is refused", s == 400, (s, r))
    return alice, carol


def drive(check, host, port, alice_token, carol_token):
    ws = {u: session(host, port, demo_token(host, port, u)) for u in ("alice", "carol", "bob", "dave")}
    for u in ("alice", "carol", "bob", "dave"):
        r = ws[u].call("call.join", {"room": "demo", "sdp": offer(video=False)})
        check(f"{u} joins the call in demo", "result" in r, r)
    # alice, the room's master, removes dave: his admission is revoked during the call
    r = ws["alice"].call("rooms.remove_member", {"room": "demo", "user": "dave", "tenant": "globex"})
    check("alice removes dave from demo", "result" in r, r)
    r = ws["dave"].call("call.join", {"room": "demo", "sdp": offer(video=False)})
    check("dave's next join is refused", r.get("error", {}).get("code") in ("forbidden", "not_found"), r)
    for u in ("bob", "carol", "alice"):
        r = ws[u].call("call.leave", {})
        check(f"{u} leaves", "result" in r, r)
    for w in ws.values():
        w.close()
    # globex ends the connection with acme, then allows it again
    for action in ("revoke", "allow"):
        s, r = http_call(host, port, "POST", f"/api/admin/connections/acme/{action}", token=carol_token)
        check(f"carol's {action} of the connection with acme", s == 200, (s, r))


def check_order(check, tenant, events):
    room = [e for e in events if e.get("room") == "demo"]
    types = [e["type"] for e in room]
    check(f"{tenant}: every event names {tenant}", all(e.get("tenant") == tenant for e in events),
          [e.get("tenant") for e in events])
    check(f"{tenant}: call.started first and call.ended last in demo",
          types[:1] == ["call.started"] and types[-1:] == ["call.ended"] and
          types.count("call.started") == 1 and types.count("call.ended") == 1, types)
    pos = {}
    for i, e in enumerate(room):
        if e["type"] in ("participant.joined", "participant.left", "revocation"):
            pos.setdefault((e["type"], e["user"]["id"]), i)
    for u in ("alice", "carol", "bob", "dave"):
        j, left = pos.get(("participant.joined", u)), pos.get(("participant.left", u))
        check(f"{tenant}: {u} joined, then left", j is not None and left is not None and j < left,
              types)
    rev = pos.get(("revocation", "dave"))
    dave_left = next((e for e in room if e["type"] == "participant.left" and
                      e["user"]["id"] == "dave"), {})
    check(f"{tenant}: dave's revocation precedes his participant.left (member_removed)",
          rev is not None and rev < pos.get(("participant.left", "dave"), -1) and
          dave_left.get("reason") == "member_removed", types)
    ended = next((e for e in room if e["type"] == "call.ended"), {})
    check(f"{tenant}: call.ended carries the call's duration", ended.get("duration_ms", -1) >= 0 and
          ended.get("started"), ended)
    joined = next((e for e in room if e["type"] == "participant.joined"), {})
    check(f"{tenant}: payload fields", all(k in joined for k in ("id", "type", "time", "tenant",
                                                                  "room", "user")), joined)
    conn = [e for e in events if e["type"].startswith("connection.")]
    peer = "globex" if tenant == "acme" else "acme"
    check(f"{tenant}: the connection ended, then became usable, with {peer} as the peer",
          [e["type"] for e in conn] == ["connection.ended", "connection.usable"] and
          all(e["peer"]["id"] == peer and e["changed_by"] == "globex" for e in conn), conn)


def cmd_run(a):
    host, port, secret_file, rport, log_path, secrets_path = a
    port, rport = int(port), int(rport)
    check = Checks()
    alice, carol = configure(check, host, port, secret_file, rport, secrets_path)
    drive(check, host, port, alice, carol)
    deadline = time.time() + 30 * float(os.environ.get("SB_TIMEOUT_SCALE", "1"))
    while not expected_done(read_log(log_path)) and time.time() < deadline:
        time.sleep(0.1)  # polling the receiver's log for a bounded time
    log = read_log(log_path)
    check("every expected event arrived", expected_done(log), [(r["path"], r["status"],
          (r["event"] or {}).get("type")) for r in log])
    check("every request carried a valid, fresh signature", log and
          all(r["check"] == "ok" for r in log), [r["check"] for r in log])
    first = log[0] if log else {}
    failed = [r for r in log if r["status"] == 500]
    retried = [r for r in log if failed and r["event_id"] == failed[0]["event_id"]]
    check("the receiver failed the first delivery once", len(failed) == 1 and
          failed[0]["path"] == "/acme", [r["status"] for r in log])
    check("that event was retried later, freshly signed, and delivered",
          len(retried) == 2 and retried[1]["status"] == 204 and
          retried[1]["at"] - retried[0]["at"] >= 0.4 and
          retried[1]["event"] == retried[0]["event"], retried)
    check("the event id is the header's", all(r["event_id"] == (r["event"] or {}).get("id")
                                              for r in log), first)
    acme, globex = delivered(log, "/acme"), delivered(log, "/globex")
    for tenant, evs in (("acme", acme), ("globex", globex)):
        ids = [e["id"] for e in evs]
        check(f"{tenant}: each event delivered once", len(ids) == len(set(ids)), ids)
        check_order(check, tenant, evs)
    denied = [e for e in globex if e["type"] == "admission.denied"]
    check("dave's denial reaches globex only, with the client's code",
          len(denied) == 1 and denied[0]["user"]["id"] == "dave" and
          not any(e["type"] == "admission.denied" for e in acme), denied)
    check("each tenant has its own copy (own ids)",
          not set(e["id"] for e in acme) & set(e["id"] for e in globex), "")
    check("/metrics counts the deliveries, the failed attempt and an empty queue",
          metric(host, port, "switchboard_webhook_delivered_total") == len(acme) + len(globex) and
          metric(host, port, "switchboard_webhook_failed_attempts_total") == 1 and
          metric(host, port, "switchboard_webhook_queue_length") == 0 and
          metric(host, port, "switchboard_webhook_dropped_total") == 0,
          [metric(host, port, n) for n in ("switchboard_webhook_delivered_total",
                                           "switchboard_webhook_failed_attempts_total",
                                           "switchboard_webhook_queue_length")])
    print(f"webhooks: acme {len(acme)} events, globex {len(globex)} events; retry after "
          f"{(retried[1]['at'] - retried[0]['at']) * 1000 if len(retried) == 2 else -1:.0f} ms")
    sys.exit(check.summary())


if __name__ == "__main__":
    cmds = {"receiver": cmd_receiver, "run": cmd_run}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])
