#!/usr/bin/env python3
"""Writes the seeds of fuzz_stun (tests/fuzz/corpus/stun): ICE connectivity checks as browsers
send them (RFC 8445 / RFC 5389), signed with the harness's credentials, and a few datagrams of
the other kinds the demultiplexer sees. Each seed is a flags byte (see fuzz_stun.c), then the
datagram. Usage: tests/fuzz/gen_stun.py [OUT_DIR]"""
import hmac
import os
import struct
import sys
import zlib

COOKIE = 0x2112A442
PWD_A = b"fuzzpasswordA0123456789"
PWD_B = b"fuzzpasswordB0123456789"


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def message(mtype, tid, attrs, pwd=None, fingerprint=True):
    body = b"".join(attrs)
    if pwd is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, COOKIE) + tid
        body += attr(0x0008, hmac.new(pwd, head + body, "sha1").digest())
    if fingerprint:
        head = struct.pack("!HHI", mtype, len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), COOKIE) + tid + body


def check(user, pwd, tid, controlling=True, use_candidate=True, extra=()):
    attrs = [attr(0x0006, user), attr(0x0024, struct.pack("!I", 1853824767))]
    role = 0x802A if controlling else 0x8029
    attrs.append(attr(role, struct.pack("!Q", 0x1122334455667788)))
    if use_candidate:
        attrs.append(attr(0x0025, b""))
    attrs.extend(extra)
    return message(0x0001, tid, attrs, pwd)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "stun")
    os.makedirs(out, exist_ok=True)
    tid = bytes(range(1, 13))
    seeds = {
        # Chromium's nominating check to transport A, and a check to B without nomination
        "check_a": (0, check(b"fzA1:Rx9f", PWD_A, tid)),
        "check_b": (2, check(b"fzB2:peer", PWD_B, tid[::-1], use_candidate=False)),
        # the same checks, to be signed again by the harness (flags bit 0)
        "check_a_resign": (1, check(b"fzA1:Rx9f", PWD_A, tid)),
        "check_b_resign_v6": (3 | 8, check(b"fzB2:peer", PWD_B, tid, extra=[attr(0x8022, b"x")])),
        # a peer that claims the controlled role too: 487 role conflict
        "role_conflict": (0, check(b"fzA1:ctl", PWD_A, tid, controlling=False)),
        # wrong password, unknown ufrag, no FINGERPRINT
        "bad_integrity": (0, check(b"fzA1:Rx9f", b"wrong-password-0123456", tid)),
        "unknown_ufrag": (0, check(b"nobody:Rx9f", PWD_A, tid)),
        "no_fingerprint": (0, message(0x0001, tid, [attr(0x0006, b"fzA1:x")], PWD_A, False)),
        # a Binding indication (libnice's keepalive) and a Binding success response
        "indication": (0, message(0x0011, tid, [])),
        "response": (0, message(0x0101, tid, [attr(0x0020, struct.pack("!HHI", 1, 50000 ^ 0x2112,
                                                                         0xC0000207 ^ COOKIE))],
                                PWD_A)),
        # the other kinds: DTLS ClientHello start, RTP, RTCP receiver report
        "dtls": (0, bytes.fromhex("16fefd0000000000000000003a010000")),
        "rtp": (0, bytes.fromhex("80e01234000000010000abcd") + b"\x90" * 8),
        "rtcp": (0, bytes.fromhex("80c90001deadbeef")),
    }
    for name, (flags, data) in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([flags]) + data)


if __name__ == "__main__":
    main()
