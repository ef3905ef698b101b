/* A participant's media: replaying the clip as RTP with the send-time extension, receive
 * statistics and relay-added latency per stream, the VP8 decoding check, and RTCP. */
#include "bench/peer.h"

#include <stdlib.h>
#include <string.h>

#include "bench/worker.h"
#include "codec/vp8.h"
#include "common/util.h"
#include "relay/rtcp.h"
#include "relay/rtp.h"

#define AUDIO_PERIOD_US 20000u
#define MAX_LATE_US 200000u         /* a tick this late skips frames instead of bursting them */
#define KEYFRAME_THROTTLE_US 300000u
#define PLI_INTERVAL_US 500000u
#define RTCP_INTERVAL_US 1000000u
#define TWCC_INTERVAL_US 100000u    /* Chromium's feedback interval at these rates */
#define TWCC_FB_MAX 2600            /* SB_TWCC_MAX_PER_FB statuses: chunks and deltas fit */

/* Header template: fixed header with X set, then the mid, rid (simulcast layers) and send-time
 * elements: mid and rid on every packet, as Chromium sends them. */
static void build_template(sb_tx_stream_t *t, uint8_t mid_ext, const char *mid, uint8_t rid_ext,
                           const char *rid, uint8_t time_ext) {
  sb_rtp_ext_writer_t ew;
  uint8_t zero[8] = {0};
  size_t midlen = strlen(mid), ridlen = rid ? strlen(rid) : 0;
  int n;
  sb_rtp_write_fixed(t->tmpl, 0, t->pt, 0, 0, t->ssrc, 1);
  sb_rtp_ext_init(&ew, t->tmpl + 12, sizeof t->tmpl - 12);
  t->time_off = 0;
  if (mid_ext && midlen > 0 && midlen <= 16)
    sb_rtp_ext_add(&ew, mid_ext, mid, midlen);
  if (rid_ext && ridlen > 0 && ridlen <= 16)
    sb_rtp_ext_add(&ew, rid_ext, rid, ridlen);
  if (time_ext) {
    /* elements are written in order: 4-byte block header, then [id/len byte, value] each */
    t->time_off = (uint8_t)(12 + 4 + ew.len + 1);
    sb_rtp_ext_add(&ew, time_ext, zero, sizeof zero);
  }
  n = sb_rtp_ext_finish(&ew);
  if (n <= 0) {
    sb_rtp_write_fixed(t->tmpl, 0, t->pt, 0, 0, t->ssrc, 0);
    t->tmpl_len = 12;
    t->time_off = 0;
    return;
  }
  t->tmpl_len = (uint8_t)(12 + n);
}

static void tx_init(sb_tx_stream_t *t, uint32_t ssrc, int pt, uint64_t period_us, uint64_t first_us) {
  memset(t, 0, sizeof *t);
  t->enabled = pt >= 0;
  t->ssrc = ssrc;
  t->pt = (uint8_t)(pt < 0 ? 0 : pt);
  t->seq = (uint16_t)sb_random_u32();
  t->ts_base = sb_random_u32();
  t->period_us = period_us;
  t->next_us = first_us;
}

/* A layer's SSRC: the offer's for the first, fresh ones (distinct from the others) after it. */
static uint32_t layer_ssrc(const sb_bench_peer_t *p, int layer) {
  uint32_t ssrc = p->local.video_ssrc;
  int clash = layer > 0;
  while (clash) {
    ssrc = sb_random_u32();
    clash = ssrc == 0 || ssrc == p->local.audio_ssrc;
    for (int i = 0; i < layer && !clash; i++)
      clash = ssrc == p->tx_video[i].ssrc;
  }
  return ssrc;
}

void sb_bench_peer_media_begin(sb_bench_peer_t *p, uint64_t now_us) {
  const sb_bench_answer_t *a = &p->answer;
  const sb_bench_config_t *cfg = p->w->run->cfg;
  const sb_bench_clip_t *clip = p->w->run->clip;
  /* a random phase, as independent clients would have */
  uint64_t phase = sb_random_u32() % AUDIO_PERIOD_US;
  memset(&p->tx_audio, 0, sizeof p->tx_audio);
  memset(p->tx_video, 0, sizeof p->tx_video);
  p->ntx_video = 0;
  /* Janus rewrites the extension block of what it forwards: the send time then travels as the
   * payload's last 8 bytes instead (docs/performance.md), which receivers take off again */
  uint8_t def_time_ext = cfg->janus ? 0 : SB_BENCH_EXT_ID_SEND_TIME;
  if (p->publish_audio) {
    tx_init(&p->tx_audio, p->local.audio_ssrc, a->audio_pt, AUDIO_PERIOD_US, now_us + phase);
    build_template(&p->tx_audio, a->audio_mid_ext, a->audio_mid, 0, NULL,
                   a->audio_time_ext ? a->audio_time_ext : def_time_ext);
    p->tx_audio.time_trailer = cfg->janus;
  }
  for (int i = 0; p->publish_video && i < clip->nlayers; i++) {
    sb_tx_stream_t *t = &p->tx_video[i];
    /* the layers of a simulcast encoder capture the same picture: same schedule and phase */
    tx_init(t, layer_ssrc(p, i), a->video_pt, 1000000u / (unsigned)cfg->fps, now_us + phase);
    t->layer = i;
    build_template(t, a->video_mid_ext, a->video_mid, a->video_rid_ext, clip->layers[i].rid,
                   a->video_time_ext ? a->video_time_ext : def_time_ext);
    t->time_trailer = cfg->janus;
    p->ntx_video++;
  }
  p->next_rtcp_us = now_us + RTCP_INTERVAL_US / 2 + sb_random_u32() % RTCP_INTERVAL_US;
  p->next_twcc_us = now_us + TWCC_INTERVAL_US;
}

static void wr64(uint8_t *o, uint64_t v) {
  sb_wr32(o, (uint32_t)(v >> 32));
  sb_wr32(o + 4, (uint32_t)v);
}

/* One clip packet as RTP: template, patched header, payload, send time, SRTP, into the batch. */
static void send_packet(sb_bench_peer_t *p, sb_tx_stream_t *t, const sb_enc_packet_t *src,
                        int marker, uint32_t ts, uint8_t pid_off, uint8_t tl0_off) {
  sb_bench_worker_t *w = p->w;
  uint8_t *b = sb_bench_worker_slot(w, p);
  int len = (int)(t->tmpl_len + src->len + (t->time_trailer ? 8 : 0));
  if (len + SB_SRTP_TRAILER > SB_PKT_BUF)
    return;
  memcpy(b, t->tmpl, t->tmpl_len);
  b[1] = (uint8_t)((marker ? 0x80 : 0) | t->pt);
  sb_wr16(b + 2, t->seq++);
  sb_wr32(b + 4, ts);
  memcpy(b + t->tmpl_len, src->data, src->len);
  if (pid_off) {
    /* PictureIDs keep counting across loops of the clip, as a live encoder's do */
    uint16_t pid = (uint16_t)(t->frames & 0x7fff);
    b[t->tmpl_len + pid_off] = (uint8_t)(0x80 | pid >> 8);
    b[t->tmpl_len + pid_off + 1] = (uint8_t)pid;
  }
  if (tl0_off) /* every frame is a base-layer frame (TID 0): TL0PICIDX counts frames too */
    b[t->tmpl_len + tl0_off] = (uint8_t)t->frames;
  /* stamped last, right before protection, so the figure holds as little bench time as it can */
  if (t->time_off)
    wr64(b + t->time_off, sb_now_us());
  else if (t->time_trailer)
    wr64(b + t->tmpl_len + src->len, sb_now_us());
  if (sb_bench_srtp_protect(&p->srtp, b, &len, 0) != 0) {
    p->srtp_other_fail++;
    return;
  }
  t->packets++;
  t->bytes += src->len;
  sb_bench_worker_queue(w, p, (size_t)len);
}

static void send_audio_frame(sb_bench_peer_t *p, sb_tx_stream_t *t) {
  const sb_bench_clip_t *c = p->w->run->clip;
  const sb_enc_packet_t *pk = &c->audio.pkts[t->clip_frame % c->audio.count];
  uint32_t ts = t->ts_base + t->frames * 960u;
  send_packet(p, t, pk, t->frames == 0, ts, 0, 0);
  t->last_ts = ts;
  t->clip_frame = (uint32_t)((t->clip_frame + 1) % c->audio.count);
  t->frames++;
}

static void send_video_frame(sb_bench_peer_t *p, sb_tx_stream_t *t) {
  const sb_bench_clip_t *c = p->w->run->clip;
  const sb_bench_clip_layer_t *l = &c->layers[t->layer];
  uint32_t f = t->clip_frame, i;
  uint32_t ts = t->ts_base + t->frames * c->vframe_ticks;
  for (i = l->vframe_first[f]; i < l->vframe_first[f + 1]; i++)
    send_packet(p, t, &l->video.pkts[i], l->video.pkts[i].marker, ts, l->vpid_off[i], l->vtl0_off[i]);
  t->last_ts = ts;
  t->clip_frame = (f + 1) % l->vframes;
  t->frames++;
}

static void run_stream(sb_bench_peer_t *p, sb_tx_stream_t *t, uint64_t now_us, int video) {
  if (!t->enabled)
    return;
  if (now_us > t->next_us + MAX_LATE_US) {
    /* the loop stalled: resume from now instead of sending a burst; the RTP timestamps stay
     * contiguous so that receivers do not count frames that were never sent as missing */
    t->next_us = now_us;
    p->w->late_ticks++;
  }
  while (t->next_us <= now_us) {
    if (atomic_load_explicit(&p->t_media_start, memory_order_relaxed) == 0)
      atomic_store_explicit(&p->t_media_start, now_us, memory_order_relaxed);
    if (video)
      send_video_frame(p, t);
    else
      send_audio_frame(p, t);
    t->next_us += t->period_us;
  }
}

static void send_rtcp(sb_bench_peer_t *p, uint64_t now_us);
static void send_twcc(sb_bench_peer_t *p);

void sb_bench_peer_media_tick(sb_bench_peer_t *p, uint64_t now_us, int sending) {
  if (sending) {
    run_stream(p, &p->tx_audio, now_us, 0);
    for (int i = 0; i < p->ntx_video; i++)
      run_stream(p, &p->tx_video[i], now_us, 1);
  } else {
    /* keep the schedule current so that sending resumes without a burst */
    if (p->tx_audio.enabled && p->tx_audio.next_us < now_us)
      p->tx_audio.next_us = now_us;
    for (int i = 0; i < p->ntx_video; i++)
      if (p->tx_video[i].enabled && p->tx_video[i].next_us < now_us)
        p->tx_video[i].next_us = now_us;
  }
  sb_bench_worker_flush(p->w);
  if (now_us >= p->next_rtcp_us) {
    send_rtcp(p, now_us);
    p->next_rtcp_us = now_us + RTCP_INTERVAL_US;
  }
  if (now_us >= p->next_twcc_us) {
    send_twcc(p);
    p->next_twcc_us = now_us + TWCC_INTERVAL_US;
  }
}

/* ---- receiving ------------------------------------------------------------------------------ */

sb_rx_stream_t *sb_bench_peer_find_rx(sb_bench_peer_t *p, uint32_t ssrc) {
  for (int i = 0; i < p->nrx; i++)
    if (p->rx_ssrcs[i] == ssrc)
      return &p->rx[i];
  return NULL;
}

static int grow_rx(sb_bench_peer_t *p) {
  int cap = p->rx_cap ? p->rx_cap * 2 : 8;
  sb_rx_stream_t *rx;
  uint32_t *ss;
  if (cap > SB_PEER_MAX_RX)
    return -1;
  rx = realloc(p->rx, (size_t)cap * sizeof *rx);
  if (!rx)
    return -1;
  p->rx = rx;
  ss = realloc(p->rx_ssrcs, (size_t)cap * sizeof *ss);
  if (!ss)
    return -1;
  p->rx_ssrcs = ss;
  p->rx_cap = cap;
  return 0;
}

void sb_bench_peer_add_streams(sb_bench_peer_t *p, const sb_bench_offered_t *st, int n) {
  int active = 0;
  for (int i = 0; i < n; i++) {
    sb_rx_stream_t *rx;
    if (st[i].active)
      active++;
    if (!st[i].ssrc)
      continue;
    rx = sb_bench_peer_find_rx(p, st[i].ssrc);
    if (rx) {
      rx->o = st[i];
      continue;
    }
    if (p->nrx == p->rx_cap && grow_rx(p) < 0)
      return;
    rx = &p->rx[p->nrx];
    memset(rx, 0, sizeof *rx);
    rx->o = st[i];
    sb_rxstats_init(&rx->st, st[i].clock ? st[i].clock : (st[i].kind == SB_MEDIA_AUDIO ? 48000 : 90000));
    if (p->decode && (!p->decoding || p->w->run->cfg->decode_all) && st[i].kind == SB_MEDIA_VIDEO) {
      /* one decoded stream per sampled receiver keeps the bench's cost bounded */
      rx->dec = sb_vp8_decoder_create();
      rx->dec_need_key = 1;
      p->decoding = rx->dec != NULL;
    }
    p->rx_ssrcs[p->nrx++] = st[i].ssrc;
  }
  p->rx_active = active;
}

static void send_pli(sb_bench_peer_t *p, sb_rx_stream_t *rx, uint64_t now_us) {
  uint8_t b[64 + SB_SRTP_TRAILER];
  int n;
  if (now_us - rx->last_pli_us < PLI_INTERVAL_US && rx->last_pli_us)
    return;
  n = sb_rtcp_build_pli(b, 64, p->publish_video ? p->local.video_ssrc : p->rtcp_ssrc, rx->o.ssrc);
  if (n <= 0 || sb_bench_srtp_protect(&p->srtp, b, &n, 1) != 0)
    return;
  sb_bench_peer_send_now(p, b, (size_t)n);
  rx->last_pli_us = now_us;
  rx->pli_sent++;
  p->rtcp_sent++;
}

/* Starts or skips a frame on its first packet. `gap`: packets were lost just before it, so
 * whole frames may be gone and only a keyframe can be trusted. */
static void decode_frame_start(sb_bench_peer_t *p, sb_rx_stream_t *rx, const sb_vp8_desc_t *d,
                               int gap, uint64_t now_us) {
  if (rx->dec_in_frame && !rx->dec_skip) {
    /* the previous frame never saw its marker: its tail was lost */
    rx->frames_incomplete++;
    rx->dec_need_key = 1;
  }
  if (gap)
    rx->dec_need_key = 1;
  rx->dec_in_frame = 1;
  rx->dec_broken = 0;
  if (d->is_keyframe)
    rx->dec_need_key = 0;
  rx->dec_skip = rx->dec_need_key;
  if (rx->dec_skip)
    send_pli(p, rx, now_us);
}

/* Whether a receive time lies in the measured window (frame sizes are counted there only). */
static int in_window(const sb_bench_run_t *run, uint64_t t_us) {
  uint64_t from = atomic_load_explicit(&run->win_from_us, memory_order_relaxed);
  uint64_t to = atomic_load_explicit(&run->win_to_us, memory_order_relaxed);
  return from && t_us >= from && t_us < to;
}

static void decode_done(sb_bench_peer_t *p, sb_rx_stream_t *rx, uint32_t ts, int r, uint64_t hash,
                        unsigned w, unsigned h, uint64_t now_us) {
  if (r < 0) {
    rx->undecodable++;
    rx->dec_need_key = 1;
    return;
  }
  if (in_window(p->w->run, now_us))
    sb_bench_sizes_add(&rx->dec_sizes, w, h);
  if (sb_bench_clip_hash_known(p->w->run->clip, hash))
    rx->frames_decoded++;
  else
    rx->frames_corrupt++;
  if (!rx->dec_have_ts) {
    rx->dec_have_ts = 1;
    rx->dec_first_ts = ts;
  }
  rx->dec_last_ts = ts;
}

/* `d` is the packet's parsed descriptor, NULL if it did not parse. */
static void decode(sb_bench_peer_t *p, sb_rx_stream_t *rx, const sb_rtp_packet_t *pk,
                   const sb_vp8_desc_t *d, uint64_t now_us) {
  uint64_t hash = 0;
  unsigned w = 0, h = 0;
  int r, gap = 0;
  if (rx->dec_have_seq && pk->seq != rx->dec_next_seq) {
    if (sb_seq_lt(pk->seq, rx->dec_next_seq))
      return; /* late: its frame was already given up */
    gap = 1;
  }
  rx->dec_have_seq = 1;
  rx->dec_next_seq = (uint16_t)(pk->seq + 1);
  if (!d) {
    rx->undecodable++;
    return;
  }
  if (d->start && d->partition == 0) {
    decode_frame_start(p, rx, d, gap, now_us);
  } else if (!rx->dec_in_frame) {
    /* the middle of a frame whose first packet never came: that frame is lost, and the
     * pictures after it may refer to it */
    rx->dec_need_key = 1;
    return;
  } else if (gap) {
    rx->dec_broken = 1;
  }
  if (rx->dec_skip) {
    if (pk->marker) {
      rx->frames_skipped++;
      rx->dec_in_frame = 0;
    }
    return;
  }
  if (rx->dec_broken) {
    /* a frame with a hole is not decoded (a browser would wait for NACK or a keyframe) */
    rx->dec_skip = 1;
    rx->frames_incomplete++;
    rx->dec_need_key = 1;
    send_pli(p, rx, now_us);
    if (pk->marker)
      rx->dec_in_frame = 0;
    return;
  }
  r = sb_vp8_decoder_push(rx->dec, pk->payload, pk->payload_len, pk->marker, &hash, &w, &h);
  if (pk->marker || r < 0) {
    rx->dec_in_frame = 0;
    decode_done(p, rx, pk->ts, r < 0 ? -1 : r, hash, w, h, now_us);
  }
}

/* Every video packet: the frame size from the last keyframe header (a VP8 frame keeps the size
 * of its keyframe), counted per frame in the window; then the decoding check if sampled. */
static void on_video(sb_bench_peer_t *p, sb_rx_stream_t *rx, const sb_rtp_packet_t *pk, uint64_t now_us) {
  sb_vp8_desc_t d;
  int ok = sb_vp8_parse(pk->payload, pk->payload_len, &d) >= 0;
  if (ok && d.start && d.partition == 0) {
    if (d.is_keyframe) {
      rx->cur_width = d.width;
      rx->cur_height = d.height;
    }
    if (in_window(p->w->run, now_us)) {
      if (rx->cur_width)
        sb_bench_sizes_add(&rx->sizes, rx->cur_width, rx->cur_height);
      else
        rx->frames_unknown_size++;
    }
  }
  if (rx->dec)
    decode(p, rx, pk, ok ? &d : NULL, now_us);
}

static uint64_t rd64(const uint8_t *v) {
  return (uint64_t)sb_rd32(v) << 32 | sb_rd32(v + 4);
}

/* Loss and packet counts of one packet, and its transport-cc arrival: what every receiver does
 * with a packet, sampled or not. Returns the verdict, or -1 when its SSRC is unknown. */
static int account(sb_bench_peer_t *p, sb_rx_stream_t **rxp, const sb_rtp_packet_t *pk, size_t len,
                   size_t payload_len, uint64_t rx_us) {
  sb_bench_worker_t *w = p->w;
  const uint8_t *val;
  int64_t exp_delta;
  sb_rx_verdict_t v;
  if (p->twcc && p->answer.twcc_ext) { /* every packet on the transport counts, as in browsers */
    if (sb_rtp_find_ext(pk, p->answer.twcc_ext, &val) == 2)
      sb_twcc_on_packet(p->twcc, sb_rd16(val), rx_us);
    else
      p->twcc_no_ext++;
  }
  *rxp = sb_bench_peer_find_rx(p, pk->ssrc);
  if (!*rxp) {
    p->unknown_ssrc++;
    return -1;
  }
  v = sb_rxstats_add(&(*rxp)->st, pk->seq, pk->ts, rx_us, (uint32_t)payload_len, &exp_delta);
  w->cur.pkts_in++;
  w->cur.bytes_in += len;
  w->cur.expected += (uint64_t)exp_delta;
  p->pkts_recv++;
  p->bytes_recv += len;
  if (v != SB_RX_DUPLICATE) {
    w->cur.received++;
    if (!(*rxp)->first_us)
      (*rxp)->first_us = rx_us;
    (*rxp)->last_us = rx_us;
    if (!p->t_first_rx)
      p->t_first_rx = rx_us;
  }
  return (int)v;
}

void sb_bench_peer_on_rtp(sb_bench_peer_t *p, uint8_t *buf, size_t len, uint64_t rx_ns) {
  sb_rtp_packet_t pk;
  sb_rx_stream_t *rx;
  const uint8_t *val, *trailer = NULL;
  uint64_t rx_us = rx_ns / 1000, send_us;
  int v;
  if (sb_rtp_parse(buf, len, &pk) < 0 || (p->w->run->cfg->janus && pk.payload_len < 8)) {
    p->bad_rtp++;
    return;
  }
  if (p->w->run->cfg->janus) { /* the send time is the payload's tail (sb_bench_peer_media_begin) */
    pk.payload_len -= 8;
    trailer = pk.payload + pk.payload_len;
  }
  v = account(p, &rx, &pk, len, pk.payload_len, rx_us);
  if (v < 0 || v == SB_RX_DUPLICATE)
    return;
  if (trailer ? (send_us = rd64(trailer)) != 0
              : sb_rtp_find_ext(&pk, rx->o.time_ext ? rx->o.time_ext : SB_BENCH_EXT_ID_SEND_TIME,
                                &val) == 8 && (send_us = rd64(val)) != 0) {
    uint64_t lat = rx_ns > send_us * 1000 ? rx_ns - send_us * 1000 : 0;
    rx->lat_count++;
    rx->lat_sum_ns += lat;
    if (lat > rx->lat_max_ns)
      rx->lat_max_ns = lat;
    sb_bench_worker_latency(p->w, lat);
  } else {
    rx->no_time_ext++;
  }
  if (rx->o.kind == SB_MEDIA_VIDEO)
    on_video(p, rx, &pk, rx_us);
}

void sb_bench_peer_on_rtp_counted(sb_bench_peer_t *p, uint8_t *buf, size_t len, uint64_t rx_ns) {
  size_t tag = p->srtp.profile == SB_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
  sb_rtp_packet_t pk;
  sb_rx_stream_t *rx;
  uint8_t first = buf[0];
  int r;
  if (len <= tag) {
    p->bad_rtp++;
    return;
  }
  /* the header and its extensions are in the clear; the payload (its padding count included)
   * and the tag are not: parse without the tag and with the padding bit cleared for the call */
  buf[0] &= (uint8_t)~0x20;
  r = sb_rtp_parse(buf, len - tag, &pk);
  buf[0] = first;
  if (r < 0) {
    p->bad_rtp++;
    return;
  }
  p->pkts_counted++;
  account(p, &rx, &pk, len, pk.payload_len, rx_ns / 1000);
}

void sb_bench_peer_on_replay(sb_bench_peer_t *p, const uint8_t *buf, size_t len) {
  sb_rx_stream_t *rx = len >= 12 ? sb_bench_peer_find_rx(p, sb_rd32(buf + 8)) : NULL;
  p->w->cur.pkts_in++;
  if (rx)
    sb_rxstats_add_replay(&rx->st);
}

/* ---- RTCP ----------------------------------------------------------------------------------- */

/* A PLI or FIR names one layer's SSRC: only that layer restarts (each is its own encoding). */
static void request_keyframe(sb_bench_peer_t *p, uint32_t media_ssrc, uint64_t now_us) {
  for (int i = 0; i < p->ntx_video; i++) {
    sb_tx_stream_t *t = &p->tx_video[i];
    if (!t->enabled || media_ssrc != t->ssrc || now_us < t->restart_after_us)
      continue;
    t->clip_frame = 0; /* the clip's first frame is its keyframe */
    t->keyframe_requests++;
    t->restart_after_us = now_us + KEYFRAME_THROTTLE_US;
  }
}

void sb_bench_peer_on_rtcp(sb_bench_peer_t *p, const uint8_t *buf, size_t len, uint64_t now_us) {
  sb_rtcp_iter_t it;
  sb_rtcp_item_t item;
  uint32_t sender, media, firs[8];
  int n;
  p->rtcp_recv++;
  sb_rtcp_iter_init(&it, buf, len);
  while (sb_rtcp_next(&it, &item) == 1) {
    if (item.pt == SB_RTCP_SR) {
      sb_rtcp_sr_t sr;
      sb_rx_stream_t *rx;
      if (sb_rtcp_parse_sr(&item, &sr) == 0 && (rx = sb_bench_peer_find_rx(p, sr.ssrc))) {
        rx->sr_lsr = sb_ntp_mid32(sr.ntp);
        rx->sr_at_us = now_us;
      }
    } else if (item.pt == SB_RTCP_PSFB && item.count == 1 &&
               sb_rtcp_fb_ssrcs(&item, &sender, &media) == 0) {
      p->plis_recv++;
      request_keyframe(p, media, now_us);
    } else if (item.pt == SB_RTCP_PSFB && item.count == 4 &&
               (n = sb_rtcp_fir_entries(&item, firs, 8)) > 0) {
      p->firs_recv++;
      for (int i = 0; i < n; i++)
        request_keyframe(p, firs[i], now_us);
    } else if (item.pt == SB_RTCP_RTPFB && item.count == 1) {
      p->nacks_recv++;
      p->tx_video[0].nacks++;
    }
  }
}

static void report_block(sb_rx_stream_t *rx, sb_rtcp_report_block_t *b, uint64_t now_us) {
  uint64_t exp = sb_rxstats_expected(&rx->st), got = rx->st.received;
  uint64_t de = exp - rx->last_expected, dr = got - rx->last_received;
  int64_t lost = (int64_t)exp - (int64_t)got;
  memset(b, 0, sizeof *b);
  b->ssrc = rx->o.ssrc;
  b->fraction_lost = de > dr && de ? (uint8_t)(((de - dr) << 8) / de) : 0;
  b->cumulative_lost = (int32_t)(lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost);
  b->highest_seq = (uint32_t)(rx->st.max_ext - 65536);
  b->jitter = (uint32_t)rx->st.jitter;
  b->lsr = rx->sr_lsr;
  b->dlsr = rx->sr_lsr ? (uint32_t)((now_us - rx->sr_at_us) * 65536u / 1000000u) : 0;
  rx->last_expected = exp;
  rx->last_received = got;
}

static int add_sr(sb_bench_peer_t *p, const sb_tx_stream_t *t, uint8_t *b, size_t cap) {
  sb_rtcp_sr_t sr;
  if (!t->enabled || !t->packets)
    return 0;
  (void)p;
  sr.ssrc = t->ssrc;
  sr.ntp = sb_ntp_from_unix_us(sb_wall_ms() * 1000u);
  sr.rtp_ts = t->last_ts;
  sr.packets = (uint32_t)t->packets;
  sr.octets = (uint32_t)t->bytes;
  return sb_rtcp_build_sr(b, cap, &sr);
}

/* The sender SSRC of our RTCP: a stream we publish, else our own. */
static uint32_t rtcp_sender(const sb_bench_peer_t *p) {
  return p->tx_audio.enabled ? p->tx_audio.ssrc : p->tx_video[0].enabled ? p->tx_video[0].ssrc : p->rtcp_ssrc;
}

/* Transport-cc feedback for what arrived since the last one, built by the relay's own builder
 * (reduced-size RTCP: the feedback alone). */
static void send_twcc(sb_bench_peer_t *p) {
  uint8_t b[TWCC_FB_MAX + SB_SRTP_TRAILER];
  int n;
  if (!p->twcc || !p->answer.twcc_ext)
    return;
  n = sb_twcc_build(p->twcc, b, TWCC_FB_MAX, rtcp_sender(p), p->nrx ? p->rx_ssrcs[0] : 0);
  if (n <= 0 || sb_bench_srtp_protect(&p->srtp, b, &n, 1) != 0)
    return;
  sb_bench_peer_send_now(p, b, (size_t)n);
  p->rtcp_sent++;
  p->twcc_fb_sent++;
}

/* SR for what we send, RR for (up to 31 of) what we receive, SDES CNAME. */
static void send_rtcp(sb_bench_peer_t *p, uint64_t now_us) {
  uint8_t b[1400];
  sb_rtcp_report_block_t blocks[31];
  uint32_t me = rtcp_sender(p);
  int len = 0, n, nb = 0;
  n = add_sr(p, &p->tx_audio, b, sizeof b - SB_SRTP_TRAILER);
  len += n > 0 ? n : 0;
  for (int i = 0; i < p->ntx_video; i++) {
    n = add_sr(p, &p->tx_video[i], b + len, sizeof b - SB_SRTP_TRAILER - (size_t)len);
    len += n > 0 ? n : 0;
  }
  for (int i = 0; i < p->nrx && nb < 31; i++)
    if (p->rx[i].st.started)
      report_block(&p->rx[i], &blocks[nb++], now_us);
  if (nb > 0 || len == 0) {
    n = sb_rtcp_build_rr(b + len, sizeof b - SB_SRTP_TRAILER - (size_t)len, me, blocks, nb);
    len += n > 0 ? n : 0;
  }
  n = sb_rtcp_build_sdes_cname(b + len, sizeof b - SB_SRTP_TRAILER - (size_t)len, me, p->local.cname);
  len += n > 0 ? n : 0;
  if (len <= 0 || sb_bench_srtp_protect(&p->srtp, b, &len, 1) != 0)
    return;
  sb_bench_peer_send_now(p, b, (size_t)len);
  p->rtcp_sent++;
}
