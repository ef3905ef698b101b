#!/usr/bin/env python3
"""Driver for test_metrics.sh (python3 standard library only).

  scrape URL [TOKEN]          prints GET URL's body (exit 1 unless 200)
  status URL [TOKEN] [HDR=V]  prints the HTTP status of GET URL (and the WWW-Authenticate header)
  provision HOST PORT SECRET  creates tenants mtest (admin boss) and other (admin oboss)
  cut HOST PORT SECRET TENANT METRICS_URL METRICS_TOKEN
      waits until both calls have their 5 participants with media (from /metrics), then the
      group room's master removes one member (a live revocation) and that member's call.join
      is refused (a denial)
  settle TENANT METRICS_URL METRICS_TOKEN  waits until the tenant has no participant and no call
  check BEFORE AFTER HOST PORT SECRET  asserts what the run changed (see the checks)
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import WebSocket, http_call  # noqa: E402


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


def get(url, token=None, headers=None):
    req = urllib.request.Request(url, headers=dict(headers or {}))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def parse(text):
    """{(name, frozenset(labels.items())): value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        metric, value = line.rsplit(" ", 1)
        labels = {}
        if "{" in metric:
            name, rest = metric.split("{", 1)
            for part in rest.rstrip("}").split('",'):
                if part:
                    k, v = part.split("=", 1)
                    labels[k] = v.strip('"')
        else:
            name = metric
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def value(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def total(m, name, **labels):
    """Sum over every series of name whose labels include these."""
    return sum(v for (n, ls), v in m.items() if n == name and set(labels.items()) <= set(ls))


def cmd_scrape(a):
    status, _, body = get(a[0], a[1] if len(a) > 1 and a[1] else None)
    if status != 200:
        sys.exit(f"GET {a[0]}: {status} {body}")
    sys.stdout.write(body)


def cmd_status(a):
    hdrs = dict(h.split("=", 1) for h in a[2:])
    status, headers, _ = get(a[0], a[1] if len(a) > 1 and a[1] else None, hdrs)
    print(status, headers.get("WWW-Authenticate", "") if headers else "")


def admin(host, port, token, method, path, body=None):
    status, resp = http_call(host, int(port), method, path, token=token, body=body)
    return status, resp


def cmd_provision(a):
    host, port, secret = a
    op = mint(secret, "_operator", "ops", admin=True)
    for tenant, boss in (("mtest", "boss"), ("other", "oboss")):
        s, r = admin(host, port, op, "POST", "/api/admin/tenants", {"id": tenant, "name": tenant})
        if s not in (200, 201, 409):  # mtest: the bench created it
            sys.exit(f"create tenant {tenant}: {s} {r}")
        s, r = admin(host, port, op, "POST", f"/api/admin/tenants/{tenant}/users",
                     {"id": boss, "name": boss, "admin": True})
        if s not in (200, 201):
            sys.exit(f"create {tenant}/{boss}: {s} {r}")


def session(host, port, token):
    ws = WebSocket(host, int(port))
    r = ws.call("auth", {"token": token})
    if "result" not in r:
        sys.exit(f"auth refused: {r}")
    return ws


def wait_for(murl, mtoken, what, cond, timeout=60):
    """Polls METRICS_URL until cond(parsed page) holds; exits with WHAT after timeout seconds."""
    deadline = time.time() + timeout
    while True:
        status, _, body = get(murl, mtoken)
        if status == 200 and cond(parse(body)):
            return
        if time.time() > deadline:
            sys.exit(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def cmd_settle(a):
    tenant, murl, mtoken = a
    wait_for(murl, mtoken, f"tenant {tenant}'s calls to end",
             lambda m: value(m, "switchboard_tenant_participants", tenant=tenant) == 0 and
             value(m, "switchboard_tenant_calls", tenant=tenant) == 0, timeout=30)


def cmd_cut(a):
    host, port, secret, tenant, murl, mtoken = a
    # The bench's three-person room and its 1:1 call are all in calls, and each of the five
    # has had media forwarded to it (its join-time observation), before anyone is removed.
    wait_for(murl, mtoken, "the bench's five participants in calls with media",
             lambda m: value(m, "switchboard_tenant_participants", tenant=tenant) >= 5 and
             total(m, "switchboard_join_seconds_count") >= 5)
    # Find the group room's master among the bench users and remove another member.
    for i in range(1, 6):
        user = f"u{i:04d}"
        ws = session(host, port, mint(secret, tenant, user))
        rooms = ws.call("rooms.list", {}).get("result", {}).get("rooms", [])
        group = [r for r in rooms if r.get("kind") == "group" and r.get("master")]
        if not group:
            ws.close()
            continue
        room = group[0]["id"]
        members = ws.call("rooms.get", {"room": room})["result"]["room"]["members"]
        victim = next(mb["user"] for mb in members if mb["user"] != user)
        r = ws.call("rooms.remove_member", {"room": room, "user": victim, "tenant": tenant})
        if "result" not in r:
            sys.exit(f"rooms.remove_member: {r}")
        ws.close()
        print(f"{user} removed {victim} from {room}")
        # The removed member tries to come back: refused by the model (a denial).
        vs = session(host, port, mint(secret, tenant, victim))
        r = vs.call("call.join", {"room": room})
        vs.close()
        if "error" not in r:
            sys.exit(f"the removed member's call.join was not refused: {r}")
        print(f"{victim}'s call.join refused: {r['error'].get('code')}")
        return
    sys.exit("no group room master among the bench users")


def cmd_check(a):
    before, after = parse(open(a[0]).read()), parse(open(a[1]).read())
    host, port, secret = a[2], a[3], a[4]
    fails = []

    def check(cond, what):
        if not cond:
            fails.append(what)

    def grew(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    t = "mtest"
    check(total(after, "switchboard_node_info") == 1, "switchboard_node_info missing")
    # The allocator, as the server finds it at run time, against the binary's libraries.
    want = os.environ.get("SB_EXPECT_MALLOC", "")
    mallocs = [dict(k[1]).get("malloc") for k in after if k[0] == "switchboard_node_info"]
    check(mallocs == [want], f"switchboard_node_info malloc {mallocs}, expected [{want!r}]")
    st, _, body = get(f"http://{host}:{port}/api/health")
    health = json.loads(body) if st == 200 else {}
    check(health.get("malloc") == want, f"/api/health: {st} malloc {health.get('malloc')!r}, expected {want!r}")
    check(grew("switchboard_worker_rtp_forwarded_total") > 0, "no RTP forwarded by the workers")
    check(grew("switchboard_worker_rx_bytes_total") > 0, "worker rx bytes did not grow")
    check(grew("switchboard_worker_loop_lag_seconds_count") > 0, "worker loop lag not measured")
    check(grew("switchboard_signaling_loop_lag_seconds_count") > 0, "signaling loop lag not measured")
    check(grew("switchboard_tenant_media_received_bytes_total", tenant=t) > 0,
          "the tenant's media bytes in did not grow")
    check(grew("switchboard_tenant_media_sent_bytes_total", tenant=t) > 0,
          "the tenant's media bytes out did not grow")
    check(grew("switchboard_tenant_admissions_total", tenant=t) == 5,
          f"admissions grew by {grew('switchboard_tenant_admissions_total', tenant=t)}, expected 5")
    check(grew("switchboard_join_seconds_count") >= 5,
          f"join histogram grew by {grew('switchboard_join_seconds_count')}, expected >= 5")
    check(grew("switchboard_tenant_revocations_total", tenant=t) == 1, "no revocation counted")
    check(grew("switchboard_revocation_cut_seconds_count") == 1, "no cut time observed")
    check(total(after, "switchboard_revocation_cut_seconds_sum") < 5, "cut time above 5 s")
    check(grew("switchboard_tenant_denials_total", tenant=t) == 1,
          f"denials grew by {grew('switchboard_tenant_denials_total', tenant=t)}, expected 1")
    check(value(after, "switchboard_tenant_participants", tenant=t) == 0, "participants left over")
    check(value(after, "switchboard_tenant_calls", tenant=t) == 0, "calls left over")
    check(total(after, "switchboard_tenant_admissions_total", tenant="other") == 0,
          "the other tenant got admissions")

    # The admin API: the tenant's own administrator sees the same figures; another tenant's
    # administrator and an anonymous caller are refused; a plain user is refused.
    path = f"/api/admin/tenants/{t}/usage"
    s, r = admin(host, port, mint(secret, t, "boss"), "GET", path)
    u = r.get("usage", {}) if s == 200 else {}
    check(s == 200 and u.get("tenant") == t, f"own administrator: {s} {r}")
    check(u.get("admissions") == total(after, "switchboard_tenant_admissions_total", tenant=t) and
          u.get("revocations") == 1 and u.get("denials") >= 1 and u.get("media_bytes_in", 0) > 0 and
          u.get("media_bytes_out", 0) > 0 and u.get("participants") == 0,
          f"usage does not match /metrics: {u}")
    s, r = admin(host, port, mint(secret, "other", "oboss"), "GET", path)
    check(s == 403, f"another tenant's administrator got {s} {r}")
    s, r = admin(host, port, mint(secret, t, "u0001"), "GET", path)
    check(s == 403, f"a plain user got {s} {r}")
    s, r = admin(host, port, None, "GET", path)
    check(s == 401, f"no token got {s} {r}")
    s, r = admin(host, port, mint(secret, "other", "oboss"), "GET", "/api/admin/tenants/other/usage")
    check(s == 200 and r["usage"].get("admissions") == 0 and r["usage"].get("media_bytes_in") == 0,
          f"the other tenant's own usage: {s} {r}")

    print(f"metrics: {t} admissions +{grew('switchboard_tenant_admissions_total', tenant=t):.0f}, "
          f"media in +{grew('switchboard_tenant_media_received_bytes_total', tenant=t):.0f} B, out "
          f"+{grew('switchboard_tenant_media_sent_bytes_total', tenant=t):.0f} B, join observations "
          f"+{grew('switchboard_join_seconds_count'):.0f} (sum "
          f"{total(after, 'switchboard_join_seconds_sum'):.3f} s), revocation cut "
          f"{total(after, 'switchboard_revocation_cut_seconds_sum') * 1000:.1f} ms, denials "
          f"+{grew('switchboard_tenant_denials_total', tenant=t):.0f}")
    for f in fails:
        print("FAIL:", f)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    cmds = {"scrape": cmd_scrape, "status": cmd_status, "provision": cmd_provision,
            "cut": cmd_cut, "settle": cmd_settle, "check": cmd_check}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])
