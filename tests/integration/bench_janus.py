"""Checks of a `switchboard-bench --target janus` JSON report (issue 11, item 5). Usage:
bench_janus.py REPORT CONNECTIONS STREAMS: every connection (publishers and subscribers) reached
media, every stream Janus should forward (STREAMS) arrived with packets and little loss, the send
time travelled in every packet, the sampled receivers decoded frames without corruption, no SRTP
or STUN failure, Janus's CPU was sampled, and the report names its target. Speed is printed,
never asserted. Prints "N passed, N failed"; exit status 1 on any failure."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks  # noqa: E402

MAX_LOSS_PCT = 2.0  # loopback: nothing should be lost, but a loaded CI machine may drop a little


def main():
    doc = json.load(open(sys.argv[1]))
    conns, streams = int(sys.argv[2]), int(sys.argv[3])
    check = Checks()
    params, parts = doc.get("parameters", {}), doc.get("participants", {})
    tot, dec, srv = doc.get("totals", {}), doc.get("decode", {}), doc.get("server", {})
    check("the report names its target", params.get("target") == "janus", params.get("target"))
    check(f"all {conns} connections reached media",
          parts.get("planned") == conns and parts.get("reached_media") == conns and parts.get("failed") == 0,
          f"{parts.get('reached_media')}/{parts.get('planned')}, errors {parts.get('errors')}")
    check(f"all {streams} streams arrived", tot.get("streams") == streams and tot.get("streams_expected") == streams
          and tot.get("streams_without_packets") == 0,
          f"{tot.get('streams')} of {tot.get('streams_expected')}, {tot.get('streams_without_packets')} without packets")
    recv = tot.get("packets_received", 0)
    loss = 100.0 * tot.get("lost", 0) / max(1, recv + tot.get("lost", 0))
    check(f"packets forwarded with loss under {MAX_LOSS_PCT}%", recv > 0 and loss < MAX_LOSS_PCT,
          f"{recv} received, {tot.get('lost')} lost")
    check("every packet carried its send time (the payload's tail)",
          tot.get("packets_without_send_time") == 0 and doc.get("latency_us", {}).get("count", 0) > 0,
          f"{tot.get('packets_without_send_time')} without, latency {doc.get('latency_us')}")
    check("no SRTP, STUN or unknown-SSRC failures", tot.get("srtp_failures") == 0 and tot.get("stun_failures") == 0
          and tot.get("unknown_ssrc_packets") == 0,
          f"SRTP {tot.get('srtp_failures')}, STUN {tot.get('stun_failures')}, unknown SSRC {tot.get('unknown_ssrc_packets')}")
    check("the sampled receivers decoded VP8 without corruption",
          dec.get("frames_decoded", 0) > 0 and dec.get("frames_corrupt") == 0 and dec.get("undecodable_payloads") == 0,
          dec)
    check("Janus's CPU per forwarded packet was measured", srv.get("cpu_us_per_forwarded_packet") is not None, srv)
    print(f"janus: {recv} packets received, loss {loss:.3f}%, latency p50 {doc.get('latency_us', {}).get('p50')} us, "
          f"join p50 {doc.get('join_ms', {}).get('p50')} ms, CPU {srv.get('cpu_us_per_forwarded_packet')} us "
          "per forwarded packet (not asserted)")
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
