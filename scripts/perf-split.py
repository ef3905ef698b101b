#!/usr/bin/env python3
"""Splits the CPU samples of named threads by what their call stacks were doing.

Reads the text of `perf script` (samples recorded with call graphs, e.g. `perf record -C 1
--call-graph dwarf -F 4000`), keeps the samples of the threads named with --comm (the relay's
worker sb-worker-0 and the bench's forwarder sb-baseline), and puts each sample in the first
category whose patterns match a function on its stack; kernel and user time are counted apart
(the sample's innermost frame is in the kernel or not). With --freq (the -F of the recording)
and --packets (packets forwarded by each thread in the recorded seconds) every figure is also
given in microseconds of CPU per forwarded packet; with two threads, the difference.

    perf record -C 1 --call-graph dwarf,4096 -F 4000 -o perf.data -- sleep 20
    perf script -i perf.data > stacks.txt
    scripts/perf-split.py --comm sb-worker-0 --comm sb-baseline --freq 4000 --packets 147200 stacks.txt

--rule NAME=PATTERN[,PATTERN...] replaces the built-in categories (repeat it; the order is the
order of matching). A pattern matches a frame whose function name starts with it.
"""
import argparse
import re
import sys
from collections import Counter, OrderedDict

# The relay's and the forwarder's per-packet work, most specific first: an SRTCP call is counted
# as such even though the RTCP path's function is below it on the stack.
DEFAULT_RULES = [
    ("srtp_unprotect_rtcp", ["srtp_unprotect_rtcp"]),
    ("srtp_protect_rtcp", ["srtp_protect_rtcp"]),
    ("srtp_unprotect", ["srtp_unprotect"]),
    ("srtp_protect", ["srtp_protect"]),
    ("sendmmsg", ["__sys_sendmmsg", "__GI___sendmmsg", "sendmmsg"]),
    ("recvmmsg", ["__sys_recvmmsg", "recvmmsg"]),
    ("epoll_wait", ["do_epoll_wait", "epoll_wait"]),
    ("ice/stun", ["sb_ice_process", "stun_"]),
    ("transport-cc send history", ["sb_bwe_on_send"]),
    ("transport-cc feedback, estimate", ["sb_twcc", "sb_bwe"]),
    ("rtcp in, other", ["sb_transport_on_rtcp"]),
    ("fan-out, other", ["sb_consumer_fan_out", "sb_consumer_forward"]),
    ("rtp in, other", ["on_media", "sb_transport_on_rtp", "sb_producer"]),
    ("tick", ["on_tick"]),
    ("receive loop, other", ["on_readable", "on_datagram"]),
    ("libuv, other", ["uv_run", "uv__io_poll"]),
    ("forwarder, other", ["fwd_main", "handle", "flush"]),
]

HEADER = re.compile(r"^(\S.*?)\s+(\d+)(?:/\d+)?\s+\[\d+\]\s")


def parse_rules(specs):
    rules = []
    for spec in specs:
        name, sep, pats = spec.partition("=")
        if not sep or not name or not pats:
            raise ValueError("--rule wants NAME=PATTERN[,PATTERN...], not %r" % spec)
        rules.append((name, [p for p in pats.split(",") if p]))
    return rules


def function_of(frame):
    """'ffffffff8124 udp_sendmsg+0x4fc ([kernel.kallsyms])' -> ('udp_sendmsg', True)."""
    parts = frame.strip().split(None, 1)
    if len(parts) < 2:
        return "", False
    rest = parts[1]
    kernel = "[kernel.kallsyms]" in rest
    name = rest.split(" (", 1)[0]
    name = name.split("+0x", 1)[0]
    return name, kernel


def samples(stream):
    """Yields (comm, [(function, kernel), ...] innermost first) for every sample."""
    comm, frames = None, []
    for line in stream:
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if comm is None:
            m = HEADER.match(line)
            if m:
                comm = m.group(1)
            continue
        frames.append(function_of(line))
    if comm is not None:
        yield comm, frames


def classify(frames, rules):
    for name, pats in rules:
        for fn, _ in frames:
            if any(fn.startswith(p) for p in pats):
                return name
    return "other"


def split(stream, comms, rules):
    """{comm: Counter((category, 'kernel'|'user') -> samples)}"""
    out = OrderedDict((c, Counter()) for c in comms)
    for comm, frames in samples(stream):
        if comm not in out:
            continue
        side = "kernel" if frames and frames[0][1] else "user"
        out[comm][(classify(frames, rules), side)] += 1
    return out


def report(out, rules, freq, packets):
    comms = list(out)
    order = [name for name, _ in rules] + ["other"]
    rows = [(cat, side) for cat in order for side in ("user", "kernel")
            if any(out[c][(cat, side)] for c in comms)]
    per_pkt = freq and packets

    def cell(n, total):
        share = 100.0 * n / total if total else 0.0
        if per_pkt:
            return "%8d %5.1f%% %7.3f" % (n, share, n / freq / packets * 1e6)
        return "%8d %5.1f%%" % (n, share)

    width = 23 if per_pkt else 15  # what cell() prints
    head = "%-40s" % "category" + "".join(" %*s" % (width, c[:width]) for c in comms)
    if len(comms) == 2:
        head += " %*s" % (17 if per_pkt else 9, "difference")
    print(head)
    unit = "  samples  share  us/pkt" if per_pkt else "  samples  share"
    print("%-40s" % "" + unit * len(comms) + (("  samples  us/pkt" if per_pkt else "  samples")
                                                 if len(comms) == 2 else ""))
    totals = {c: sum(out[c].values()) for c in comms}
    for cat, side in rows + [("total", None)]:
        label = "%s (%s)" % (cat, side) if side else cat
        line = "%-40s" % label
        vals = []
        for c in comms:
            n = totals[c] if side is None else out[c][(cat, side)]
            vals.append(n)
            line += " " + cell(n, totals[c])
        if len(comms) == 2:
            d = vals[0] - vals[1]
            line += "  %+7d" % d + (" %+7.3f" % (d / freq / packets * 1e6) if per_pkt else "")
        print(line)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comm", action="append", required=True, help="a thread's name (repeat)")
    ap.add_argument("--freq", type=float, default=0, help="the recording's sampling frequency (Hz)")
    ap.add_argument("--packets", type=float, default=0,
                    help="packets each thread forwarded in the recorded seconds")
    ap.add_argument("--rule", action="append", default=[], help="NAME=PATTERN[,PATTERN...]")
    ap.add_argument("file", help="perf script output ('-': standard input)")
    a = ap.parse_args(argv)
    try:
        rules = parse_rules(a.rule) if a.rule else DEFAULT_RULES
    except ValueError as e:
        ap.error(str(e))
    if (a.freq > 0) != (a.packets > 0):
        ap.error("--freq and --packets go together")
    stream = sys.stdin if a.file == "-" else open(a.file, encoding="utf-8", errors="replace")
    with stream:
        out = split(stream, a.comm, rules)
    if not any(out.values()):
        print("perf-split: no samples of %s in %s" % (", ".join(a.comm), a.file), file=sys.stderr)
        return 1
    report(out, rules, a.freq, a.packets)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
