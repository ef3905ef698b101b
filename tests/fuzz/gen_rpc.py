#!/usr/bin/env python3
"""Writes the seeds of fuzz_rpc (tests/fuzz/corpus/rpc): requests of docs/api.md as the demo page
sends them, on the demo seed. Each seed is a caller byte (0 alice, 1 bob, 2 carol, 3 dave,
4 erin, 5 mallory: see fuzz_rpc.c), then one JSON frame per line.
Usage: tests/fuzz/gen_rpc.py [OUT_DIR]"""
import json
import os
import sys


def frames(*reqs):
    return "\n".join(json.dumps(r, separators=(",", ":")) for r in reqs).encode()


def req(i, method, **params):
    r = {"id": i, "method": method}
    if params:
        r["params"] = params
    return r


SEEDS = {
    "alice_lists": (0, frames(req(1, "rooms.list"), req(2, "rooms.list", limit=1),
                              req(3, "contacts.list"), req(4, "blocks.list"),
                              req(5, "notifications.list", pending_only=True, limit=5))),
    "alice_room_life": (0, frames(
        req(1, "rooms.create", name="ext", description="x", photo_url="https://e.x/p.png",
            members=[{"user": "bob"}, {"user": "carol", "tenant": "globex"}]),
        req(2, "rooms.get", room="demo"),
        req(3, "rooms.update", room="demo", name="Demo 2"),
        req(4, "rooms.add_member", room="demo", user="erin", tenant="initech"),
        req(5, "rooms.remove_member", room="demo", user="dave", tenant="globex"),
        req(6, "rooms.grant_master", room="demo", user="bob"),
        req(7, "rooms.revoke_master", room="demo", user="bob"),
        req(8, "rooms.leave", room="demo"))),
    "bob_contacts_blocks": (1, frames(
        req(1, "contacts.add", user="dave", tenant="globex"),
        req(2, "contacts.update", user="dave", tenant="globex", display_name="D", phone="1",
            email="d@globex.example"),
        req(3, "contacts.remove", user="dave", tenant="globex"),
        req(4, "blocks.add", user="carol", tenant="globex"),
        req(5, "blocks.remove", user="carol", tenant="globex"))),
    "carol_refused": (2, frames(req(1, "rooms.update", room="demo", name="mine"),
                                req("a", "rooms.remove_member", room="demo", user="alice",
                                    tenant="acme"),
                                req(3, "contacts.add", user="erin", tenant="initech"))),
    "erin_outside": (4, frames(req(1, "rooms.get", room="demo"), req(2, "contacts.add", user="alice",
                                                                      tenant="acme"))),
    "mallory_unknown_user": (5, frames(req(1, "rooms.list"), req(2, "rooms.create", name="m"))),
    "malformed": (3, b'{"id":1,"method":"rooms.list","params":[]}\n'
                     b'{"id":{},"method":"rooms.get","params":{"room":"demo","x":1}}\n'
                     b'{"id":2,"method":"rooms.get","params":{"room":"demo\\u0000x"}}\n'
                     b'{"id":3,"method":"rooms.list","params":{"limit":-1,"cursor":7}}\n'
                     b'{"id":4,"method":"nope"}\n'
                     b'{"id":5,"method":"call.join","params":{}}\n'
                     b'{"method":"rooms.list","method":"x"}\n'
                     b'[1,2]\n'
                     b'{"id":6,"method":"rooms.list","params":{"cursor":"zzz","limit":500}}'),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "rpc")
    os.makedirs(out, exist_ok=True)
    for name, (who, data) in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([who]) + data)


if __name__ == "__main__":
    main()
