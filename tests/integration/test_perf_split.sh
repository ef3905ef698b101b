#!/usr/bin/env bash
# scripts/perf-split.py, the split of a profile's samples by what the stacks were doing: a
# `perf script` text of seven samples (two threads kept, one left out) is split with the
# built-in categories and with --rule. Checks that an SRTCP call is counted as such and not as the
# RTCP path under it, that a protect under the fan-out is counted as a protect, that kernel and
# user time are apart, that other threads are left out, the per-packet figures and the
# difference, and the refusals (--freq without --packets, a bad --rule, no sample of the thread).
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/sb-perf-split-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

cat >"$work/stacks.txt" <<'STACKS'
sb-worker-0 27964 [001] 67449.038462:    250000 cpu-clock:ppp: 
	ffffffff81a0 pvm_irq_enable+0x19 ([kernel.kallsyms])
	ffffffff81b0 sock_def_readable+0x45 ([kernel.kallsyms])
	ffffffff81c0 __sys_sendmmsg+0x10a ([kernel.kallsyms])
	          5600 __GI___sendmmsg+0x56 (inlined)
	          5700 sb_worker_flush+0x20 (/opt/switchboard/bin/switchboard)

sb-worker-0 27964 [001] 67449.038712:    250000 cpu-clock:ppp: 
	          306892 [unknown] (/usr/lib/x86_64-linux-gnu/libcrypto.so.3)
	          1f6d79 EVP_MD_CTX_copy_ex+0xe9 (/usr/lib/x86_64-linux-gnu/libcrypto.so.3)
	          11a0 srtp_hmac_start+0x8 (/opt/switchboard/lib/libsrtp2.so.1)
	          12b0 srtp_protect_mki+0xdd (/opt/switchboard/lib/libsrtp2.so.1)
	          4400 sb_consumer_forward+0x80 (/opt/switchboard/bin/switchboard)
	          4500 sb_consumer_fan_out+0x1c0 (/opt/switchboard/bin/switchboard)

sb-worker-0 27964 [001] 67449.038962:    250000 cpu-clock:ppp: 
	          12c0 srtp_stream_list_get+0x1b (/opt/switchboard/lib/libsrtp2.so.1)
	          12d0 srtp_unprotect_rtcp_mki+0x40 (/opt/switchboard/lib/libsrtp2.so.1)
	          4600 sb_srtp_unprotect_rtcp+0x10 (/opt/switchboard/bin/switchboard)
	          4700 sb_transport_on_rtcp+0x33 (/opt/switchboard/bin/switchboard)

sb-worker-0 27964 [001] 67449.039212:    250000 cpu-clock:ppp: 
	          9000 [unknown] (/usr/lib/x86_64-linux-gnu/libuv.so.1.0.0)

switchboard-ben 27900 [000] 67449.039300:    250000 cpu-clock:ppp: 
	          12b0 srtp_protect_mki+0xdd (/opt/switchboard/lib/libsrtp2.so.1)

sb-baseline 27970 [001] 67449.039462:    250000 cpu-clock:ppp: 
	ffffffff81d0 finish_task_switch.isra.0+0x90 ([kernel.kallsyms])
	ffffffff81e0 __sys_recvmmsg+0xa0 ([kernel.kallsyms])

sb-baseline 27970 [001] 67449.039712:    250000 cpu-clock:ppp: 
	          12b0 srtp_protect_mki+0xdd (/opt/switchboard/lib/libsrtp2.so.1)
	          3000 fwd_main+0x226 (inlined)
STACKS

split() { python3 "$SRC/scripts/perf-split.py" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

# one sample in 1 ms (--freq 1000) over 1000 packets: 1 us per packet and sample
split --comm sb-worker-0 --comm sb-baseline --freq 1000 --packets 1000 "$work/stacks.txt" >"$work/out.txt"
cat "$work/out.txt"
python3 - "$work/out.txt" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]).read().splitlines()[2:]:
    m = re.match(r"^(.*?)\s{2,}(\d+)\s+([\d.]+)%\s+([\d.]+)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)\s+([+-]\d+)\s+([+-][\d.]+)$", line)
    if not m:
        sys.exit(f"FAIL: cannot read the row {line!r}")
    rows[m.group(1)] = (int(m.group(2)), float(m.group(4)), int(m.group(5)), float(m.group(7)),
                        int(m.group(8)), float(m.group(9)))
want = {
    "srtp_unprotect_rtcp (user)": (1, 1.0, 0, 0.0, 1, 1.0),
    "srtp_protect (user)": (1, 1.0, 1, 1.0, 0, 0.0),
    "sendmmsg (kernel)": (1, 1.0, 0, 0.0, 1, 1.0),
    "recvmmsg (kernel)": (0, 0.0, 1, 1.0, -1, -1.0),
    "other (user)": (1, 1.0, 0, 0.0, 1, 1.0),
    "total": (4, 4.0, 2, 2.0, 2, 2.0),
}
for k, v in want.items():
    if rows.get(k) != v:
        sys.exit(f"FAIL: {k}: {rows.get(k)}, want {v}")
extra = set(rows) - set(want)
if extra:
    sys.exit(f"FAIL: rows that no sample should make: {sorted(extra)}")
print("ok: categories, sides, per-packet figures and difference")
PY

# own categories, one thread, no per-packet figures: the first matching rule takes the sample
split --comm sb-worker-0 --rule crypto=srtp_,EVP_ --rule send=__sys_sendmmsg "$work/stacks.txt" >"$work/rules.txt"
cat "$work/rules.txt"
grep -Eq '^crypto \(user\) +2 +50\.0%$' "$work/rules.txt" || fail "--rule: two crypto samples of four"
grep -Eq '^send \(kernel\) +1 +25\.0%$' "$work/rules.txt" || fail "--rule: one send sample"
grep -Eq '^other \(user\) +1 +25\.0%$' "$work/rules.txt" || fail "--rule: the rest is other"

rc=0; split --comm sb-worker-0 --freq 1000 "$work/stacks.txt" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--freq without --packets: exit $rc, want 2"
rc=0; split --comm sb-worker-0 --rule nopattern "$work/stacks.txt" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a --rule without '=': exit $rc, want 2"
rc=0; split --comm sb-worker-9 "$work/stacks.txt" >/dev/null 2>"$work/err.txt" || rc=$?
[ "$rc" = 1 ] && grep -q "no samples of sb-worker-9" "$work/err.txt" || fail "no samples: exit $rc"
echo "PASS"
