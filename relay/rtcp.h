/* RTCP (RFC 3550, 4585, 5104) parsing of compound packets and building of the packets the
 * relay sends. Parsing is in place; builders write into a caller's buffer and return the length
 * written or -1 if it does not fit. */
#ifndef SB_RTCP_H
#define SB_RTCP_H

#include <stddef.h>
#include <stdint.h>

enum {
  SB_RTCP_SR = 200,
  SB_RTCP_RR = 201,
  SB_RTCP_SDES = 202,
  SB_RTCP_BYE = 203,
  SB_RTCP_APP = 204,
  SB_RTCP_RTPFB = 205, /* FMT 1 = generic NACK, 15 = transport-cc */
  SB_RTCP_PSFB = 206,  /* FMT 1 = PLI, 4 = FIR, 15 = application layer (REMB) */
};

/* Feedback message types (the FMT field, RFC 4585 §6.1): RTPFB ... */
enum {
  SB_RTCP_RTPFB_NACK = 1,  /* generic NACK (RFC 4585 §6.2.1) */
  SB_RTCP_RTPFB_TWCC = 15, /* transport-wide congestion control feedback */
};
/* ... and PSFB. */
enum {
  SB_RTCP_PSFB_PLI = 1,  /* picture loss indication (RFC 4585 §6.3.1) */
  SB_RTCP_PSFB_FIR = 4,  /* full intra request (RFC 5104 §4.3.1) */
  SB_RTCP_PSFB_AFB = 15, /* application layer feedback (REMB) */
};

/* One packet of a compound RTCP datagram. */
typedef struct {
  uint8_t pt;
  uint8_t count;          /* RC / SC / FMT field */
  const uint8_t *data;    /* start of this packet (its 4-byte header) */
  size_t len;             /* whole packet length in bytes, (length field + 1) * 4 */
} sb_rtcp_item_t;

/* Iterates a compound packet: `while (sb_rtcp_next(&it, &item) == 1)`. */
typedef struct {
  const uint8_t *data;
  size_t len;
  size_t off;
  int error;              /* set when a malformed packet stopped the iteration */
} sb_rtcp_iter_t;

void sb_rtcp_iter_init(sb_rtcp_iter_t *it, const uint8_t *data, size_t len);
/** Returns 1 and the next item, 0 at the end, -1 on a malformed packet (version != 2, length
 * past the end, length field smaller than the type needs). */
int sb_rtcp_next(sb_rtcp_iter_t *it, sb_rtcp_item_t *item);

typedef struct {
  uint32_t ssrc;          /* the source this block reports on */
  uint8_t fraction_lost;
  int32_t cumulative_lost;/* 24-bit signed */
  uint32_t highest_seq;   /* extended highest sequence number received */
  uint32_t jitter;
  uint32_t lsr;
  uint32_t dlsr;
} sb_rtcp_report_block_t;

typedef struct {
  uint32_t ssrc;
  uint64_t ntp;
  uint32_t rtp_ts;
  uint32_t packets;
  uint32_t octets;
} sb_rtcp_sr_t;

/** SR sender info (not its report blocks); 0 or -1. */
int sb_rtcp_parse_sr(const sb_rtcp_item_t *item, sb_rtcp_sr_t *out);
/** Report block i (0-based) of an SR or RR; 0 or -1. */
int sb_rtcp_report_block(const sb_rtcp_item_t *item, int i, sb_rtcp_report_block_t *out);

/** Feedback header (RFC 4585): sender SSRC and media SSRC of an RTPFB/PSFB item; 0 or -1. */
int sb_rtcp_fb_ssrcs(const sb_rtcp_item_t *item, uint32_t *sender, uint32_t *media);

/** Generic NACK: calls fn(seq, arg) for each lost sequence number (PID and BLP bits).
 * Returns the number of sequence numbers, or -1 if malformed. */
int sb_rtcp_nack_foreach(const sb_rtcp_item_t *item, void (*fn)(uint16_t seq, void *arg), void *arg);

/** FIR entries: media SSRC of entry i; returns the entry count, or -1 if malformed. */
int sb_rtcp_fir_entries(const sb_rtcp_item_t *item, uint32_t *ssrcs, int max);

/** REMB (draft-alvestrand-rmcat-remb): bitrate in bits per second and the SSRCs; returns 0 or -1
 * if this PSFB FMT 15 item is not a valid REMB. */
int sb_rtcp_parse_remb(const sb_rtcp_item_t *item, uint64_t *bitrate, uint32_t *ssrcs, int *nssrcs,
                       int max);

/** Receiver report with up to 31 blocks. */
int sb_rtcp_build_rr(uint8_t *out, size_t cap, uint32_t sender_ssrc,
                     const sb_rtcp_report_block_t *blocks, int nblocks);
/** Sender report without report blocks. */
int sb_rtcp_build_sr(uint8_t *out, size_t cap, const sb_rtcp_sr_t *sr);
/** SDES with one CNAME chunk. */
int sb_rtcp_build_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname);
int sb_rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
int sb_rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seqnr);
/** Generic NACK for `n` sequence numbers (any order); packs them into PID/BLP pairs. */
int sb_rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, int n);
int sb_rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                       const uint32_t *ssrcs, int nssrcs);

/** Middle 32 bits of an NTP timestamp (for LSR). */
static inline uint32_t sb_ntp_mid32(uint64_t ntp) { return (uint32_t)(ntp >> 16); }
/** NTP timestamp (RFC 5905 format) of a wall-clock time in microseconds since the Unix epoch. */
uint64_t sb_ntp_from_unix_us(uint64_t us);

#endif
