/* What the bench asks the server over HTTP: provisioning through the administrator API (the
 * tenant and the synthetic users, created with an operator token as an operator would) and the
 * relay counters of /api/health. Main thread only. */
#ifndef SB_BENCH_SERVERAPI_H
#define SB_BENCH_SERVERAPI_H

#include <stddef.h>
#include <stdint.h>

#include "bench/worker.h"

/** Creates the tenant and every participant's user (existing ones are kept). Returns 0, 1 if the
 * server has no administrator API (rooms are then joined by name, as early servers allowed), or
 * -1 with a reason in err. */
int sb_bench_provision(const sb_bench_run_t *run, const uint8_t *key, size_t keylen, char *err,
                       size_t errlen);

/* Relay counters summed over the server's workers. */
typedef struct {
  int ok;
  uint64_t rx_packets, tx_packets, rtp_forwarded;
  uint64_t drop_not_admitted, drop_srtp, drop_unknown_source, drop_malformed;
  /* subscribers' bandwidth estimation (fed by transport-cc feedback) and NACK budget */
  uint64_t bwe_overuse, bwe_probes, bwe_probe_ok, probe_packets, nack_over_budget;
  int workers;
  char malloc[16]; /* the server's allocator (/api/health "malloc"); "mixed" when nodes differ */
} sb_bench_health_t;

/** Reads /api/health (1 s timeout) of every --health-url node, summed, or else of --url's
 * address; out->ok is 0 unless every node answered. */
void sb_bench_health(const sb_bench_run_t *run, sb_bench_health_t *out);

#endif
