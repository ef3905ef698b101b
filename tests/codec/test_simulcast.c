#include "codec/encoder.h"
#include "codec/simulcast.h"
#include "codec/vp8_munger.h"
#include "sbtest.h"

static const sb_simulcast_layer_t three[3] = {
    {1, 150000, 320, 180},
    {1, 500000, 640, 360},
    {1, 1500000, 1280, 720},
};

SB_TEST(first_choice_is_immediate) {
  sb_simulcast_chooser_t c;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 600000, 0, 0, 0), 1);
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 5000000, 0, 0, 0), 2);
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 0), SB_SIMULCAST_PAUSE);
}

SB_TEST(bad_arguments) {
  sb_simulcast_chooser_t c;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 4, 1, 0, 0, 0), -2);
  CHECK_EQ(sb_simulcast_choose(&c, three, -1, 1, 0, 0, 0), -2);
  CHECK_EQ(sb_simulcast_choose(&c, NULL, 1, 1, 0, 0, 0), -2);
  CHECK_EQ(sb_simulcast_choose(&c, NULL, 0, 1000000, 0, 0, 0), SB_SIMULCAST_PAUSE);
}

SB_TEST(size_limit_caps_the_layer) {
  sb_simulcast_chooser_t c;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 9000000, 640, 360, 0), 1);
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 9000000, 0, 200, 0), 0); /* height only */
  /* Smaller than every layer: the smallest rather than nothing. */
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 9000000, 160, 90, 0), 0);
  /* A shrinking viewport moves down at once. */
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 9000000, 0, 0, 0), 2);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 9000000, 640, 360, 10), 1);
}

SB_TEST(inactive_layers_are_skipped) {
  sb_simulcast_layer_t l[3];
  sb_simulcast_chooser_t c;
  memcpy(l, three, sizeof l);
  l[2].active = 0;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, l, 3, 9000000, 0, 0, 0), 1);
  /* The current layer stops: down at once. */
  l[1].active = 0;
  CHECK_EQ(sb_simulcast_choose(&c, l, 3, 9000000, 0, 0, 10), 0);
  /* Only a higher layer remains: taken at once since it is affordable. */
  l[0].active = 0;
  l[2].active = 1;
  CHECK_EQ(sb_simulcast_choose(&c, l, 3, 9000000, 0, 0, 20), 2);
  l[2].active = 0;
  CHECK_EQ(sb_simulcast_choose(&c, l, 3, 9000000, 0, 0, 30), SB_SIMULCAST_PAUSE);
}

SB_TEST(down_at_once_up_after_margin_and_hold) {
  sb_simulcast_chooser_t c;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 2000000, 0, 0, 0), 2);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 1499999, 0, 0, 100), 1);
  /* Enough for layer 2 but not with the 20 % margin: stays down for good. */
  for (uint64_t t = 200; t < 10000; t += 100)
    CHECK_EQ(sb_simulcast_choose(&c, three, 3, 1700000, 0, 0, t), 1);
  /* With the margin (1.8 Mbps) from t=10000: up exactly 2 s later. */
  for (uint64_t t = 10000; t < 12000; t += 100)
    CHECK_EQ(sb_simulcast_choose(&c, three, 3, 1800000, 0, 0, t), 1);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 1800000, 0, 0, 12000), 2);
}

SB_TEST(a_dip_restarts_the_hold) {
  sb_simulcast_chooser_t c;
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 200000, 0, 0, 0), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 700000, 0, 0, 1000), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 550000, 0, 0, 2500), 0); /* no margin for 1 */
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 700000, 0, 0, 2600), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 700000, 0, 0, 4500), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 700000, 0, 0, 4600), 1);
  /* Layer 2 had the margin for 2 s at the same time as 1: the highest held one wins. */
  sb_simulcast_chooser_init(&c, NULL);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 200000, 0, 0, 0), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 5000000, 0, 0, 100), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 5000000, 0, 0, 2100), 2);
}

SB_TEST(pause_and_resume_with_hold) {
  sb_simulcast_chooser_t c;
  sb_simulcast_config_t cfg = {.up_margin_pct = 50, .up_hold_ms = 500};
  sb_simulcast_chooser_init(&c, &cfg);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 200000, 0, 0, 0), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 10), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 3009), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 3010), SB_SIMULCAST_PAUSE);
  /* 200 kbps is affordable but not with a 50 % margin over 150 kbps. */
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 200000, 0, 0, 4000), SB_SIMULCAST_PAUSE);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 225000, 0, 0, 5000), SB_SIMULCAST_PAUSE);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 225000, 0, 0, 5499), SB_SIMULCAST_PAUSE);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 225000, 0, 0, 5500), 0);
}

SB_TEST(a_dip_under_the_lowest_layer_pauses_only_when_it_lasts) {
  sb_simulcast_chooser_t c;
  sb_simulcast_config_t cfg = {.pause_hold_ms = 3000};
  sb_simulcast_chooser_init(&c, &cfg);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 2000000, 0, 0, 0), 2);
  /* Under the lowest layer's 150 kbps but over half of it: from the top straight to the lowest,
   * kept there while the dip lasts under 3 s. */
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 1000), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 90000, 0, 0, 3999), 0);
  /* Back over the lowest layer: the dip is over; a new one starts its own 3 s. */
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 160000, 0, 0, 4000), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 5000), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 7999), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 8000), SB_SIMULCAST_PAUSE);
  /* However deep the dip: a layer's rate may be swollen by keyframes for a second. */
  sb_simulcast_chooser_init(&c, &cfg);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 200000, 0, 0, 0), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 30000, 0, 0, 10), 0);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 30000, 0, 0, 3010), SB_SIMULCAST_PAUSE);
  /* A first answer under the lowest layer is a pause: nothing was being shown. */
  sb_simulcast_chooser_init(&c, &cfg);
  CHECK_EQ(sb_simulcast_choose(&c, three, 3, 100000, 0, 0, 0), SB_SIMULCAST_PAUSE);
}

SB_TEST(switch_waits_for_a_keyframe_of_the_target) {
  sb_simulcast_switch_t s;
  sb_simulcast_switch_init(&s);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 1, 0), 0); /* no target yet */
  sb_simulcast_switch_set_target(&s, 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 10), SB_SWITCH_REQUEST_KEYFRAME);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 1, 20), 0); /* a keyframe of another layer */
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 1, 30), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 40), SB_SWITCH_FORWARD);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 40), 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 1, 50), SB_SWITCH_FORWARD);
}

SB_TEST(current_flows_until_the_switch_and_requests_are_rate_limited) {
  sb_simulcast_switch_t s;
  sb_simulcast_switch_init(&s);
  sb_simulcast_switch_set_target(&s, 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 1, 0), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
  sb_simulcast_switch_set_target(&s, 2);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 5000),
           SB_SWITCH_FORWARD | SB_SWITCH_REQUEST_KEYFRAME);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 2, 0, 5001), 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 5999), SB_SWITCH_FORWARD);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 6000), SB_SWITCH_REQUEST_KEYFRAME);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 6500), SB_SWITCH_FORWARD);
  /* A new target within the second does not bypass the limit. */
  sb_simulcast_switch_set_target(&s, 1);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 6600), SB_SWITCH_FORWARD);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 7000),
           SB_SWITCH_FORWARD | SB_SWITCH_REQUEST_KEYFRAME);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 1, 7100), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 7200), 0); /* the old layer is cut */
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 9000), SB_SWITCH_FORWARD); /* no requests */
}

SB_TEST(pause_stops_at_once_and_target_back_to_current_cancels) {
  sb_simulcast_switch_t s;
  sb_simulcast_switch_init(&s);
  sb_simulcast_switch_set_target(&s, 1);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 1, 0), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
  sb_simulcast_switch_set_target(&s, 2);
  sb_simulcast_switch_set_target(&s, 1);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 10), SB_SWITCH_FORWARD);
  sb_simulcast_switch_set_target(&s, SB_SIMULCAST_PAUSE);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 20), 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 1, 30), 0);
  CHECK_EQ(s.current, -1);
  /* Resuming needs a keyframe again. */
  sb_simulcast_switch_set_target(&s, 1);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 1, 0, 40), SB_SWITCH_REQUEST_KEYFRAME);
}

/* Stream bitrate from its bytes, at `fps`. */
static uint32_t measured_bps(const sb_enc_stream_t *s, unsigned fps) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < s->count; i++)
    bytes += s->pkts[i].len;
  return (uint32_t)(bytes * 8 * fps / s->frames);
}

/* Three real libvpx layers through chooser, switch, munger and one decoder, as a subscriber
 * whose estimate goes middle -> high -> low. */
SB_TEST(end_to_end_with_real_layers) {
  enum { FRAMES = 180, KF = 25 };
  static const unsigned w[3] = {160, 320, 640}, h[3] = {90, 180, 360}, kbps[3] = {100, 300, 900};
  sb_enc_stream_t st[3];
  sb_simulcast_layer_t layers[3];
  size_t next[3] = {0, 0, 0};
  sb_simulcast_chooser_t c;
  sb_simulcast_switch_t sw;
  sb_vp8_munger_t m;
  sb_vp8_decoder_t *dec = sb_vp8_decoder_create();
  int decoded = 0, requests = 0, switches = 0, last_pid = -1, last_tl0 = -1;
  uint64_t last_req = 0;
  CHECK(dec);
  for (int l = 0; l < 3; l++) {
    sb_vp8_enc_params_t p = {.width = w[l], .height = h[l], .bitrate_kbps = kbps[l],
                             .frames = FRAMES, .keyframe_interval = KF,
                             .picture_id_start = (uint16_t)(l * 10000 + 5), .with_tl0picidx = 1,
                             .tl0picidx_start = (uint8_t)(l * 70), .pattern_seed = (unsigned)l};
    CHECK(sb_vp8_encode(&p, &st[l]) > 0);
    CHECK_EQ(st[l].frames, FRAMES);
    layers[l] = (sb_simulcast_layer_t){1, measured_bps(&st[l], 30), (uint16_t)w[l], (uint16_t)h[l]};
  }
  CHECK(layers[0].bitrate_bps < layers[1].bitrate_bps);
  CHECK(layers[1].bitrate_bps < layers[2].bitrate_bps);
  sb_simulcast_chooser_init(&c, NULL);
  sb_simulcast_switch_init(&sw);
  sb_vp8_munger_init(&m);
  for (uint32_t f = 0; f < FRAMES; f++) {
    uint64_t now = f * 1000 / 30;
    uint64_t est = f < 60    ? layers[1].bitrate_bps * 11 / 10
                   : f < 130 ? layers[2].bitrate_bps * 2
                             : layers[0].bitrate_bps * 11 / 10;
    int target = sb_simulcast_choose(&c, layers, 3, est, 0, 0, now);
    CHECK_EQ(target, f < 120 ? 1 : f < 130 ? 2 : 0);
    sb_simulcast_switch_set_target(&sw, target);
    for (int l = 0; l < 3; l++) {
      for (; next[l] < st[l].count && st[l].pkts[next[l]].frame == f; next[l]++) {
        sb_enc_packet_t *pk = &st[l].pkts[next[l]];
        sb_vp8_desc_t d;
        unsigned dw = 0;
        CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
        int act = sb_simulcast_switch_packet(&sw, l, d.is_keyframe, now);
        if (act & SB_SWITCH_REQUEST_KEYFRAME) {
          CHECK(requests == 0 || now - last_req >= 1000);
          last_req = now;
          requests++;
        }
        if (act & SB_SWITCH_SWITCHED) {
          CHECK_EQ(f % KF, 0);
          switches++;
        }
        if (!(act & SB_SWITCH_FORWARD))
          continue;
        CHECK_EQ(sb_vp8_munger_process(&m, l, pk->data, &d), 1);
        CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
        CHECK(last_pid < 0 || d.picture_id == last_pid || d.picture_id == last_pid + 1);
        CHECK(last_tl0 < 0 || d.tl0picidx == last_tl0 || d.tl0picidx == (uint8_t)(last_tl0 + 1));
        last_pid = d.picture_id;
        last_tl0 = d.tl0picidx;
        /* Layer 1 until 125, where its frame still goes out before layer 2's keyframe. */
        CHECK(l == (f < 125 ? 1 : f < 150 ? 2 : 0) || (f == 125 && l == 1));
        int r = sb_vp8_decoder_push(dec, pk->data, pk->len, pk->marker, NULL, &dw, NULL);
        CHECK_EQ(r, pk->marker);
        if (r == 1) {
          CHECK_EQ(dw, w[l]);
          decoded++;
        }
      }
    }
  }
  /* Every instant once, and 125 twice: from layer 1 and then layer 2's keyframe. */
  CHECK_EQ(decoded, FRAMES + 1);
  CHECK_EQ(switches, 3); /* to 1 at frame 0, to 2 at 125, to 0 at 150 */
  CHECK_EQ(requests, 2); /* at 0 (layer 0's packet came first) and at 120 */
  CHECK_EQ(last_pid, 10005 + FRAMES);
  CHECK_EQ(last_tl0, (uint8_t)(70 + FRAMES));
  sb_vp8_decoder_destroy(dec);
  for (int l = 0; l < 3; l++)
    sb_enc_stream_free(&st[l]);
}

SB_TEST(wanted_rate_is_the_layer_that_fits_the_size) {
  sb_simulcast_layer_t l[3];
  memcpy(l, three, sizeof l);
  CHECK_EQ(sb_simulcast_wanted_bps(l, 3, 0, 0), l[2].bitrate_bps);
  CHECK_EQ(sb_simulcast_wanted_bps(l, 3, 640, 360), l[1].bitrate_bps);
  CHECK_EQ(sb_simulcast_wanted_bps(l, 3, 100, 50), l[0].bitrate_bps); /* the smallest at least */
  l[2].active = 0;
  CHECK_EQ(sb_simulcast_wanted_bps(l, 3, 0, 0), l[1].bitrate_bps);
  l[0].active = l[1].active = 0;
  CHECK_EQ(sb_simulcast_wanted_bps(l, 3, 0, 0), 0);
  CHECK_EQ(sb_simulcast_wanted_bps(NULL, 3, 0, 0), 0);
  CHECK_EQ(sb_simulcast_wanted_bps(l, 4, 0, 0), 0);
}

SB_TEST(stop_current_drops_the_old_layer_before_the_target_keyframe) {
  sb_simulcast_switch_t s;
  sb_simulcast_switch_init(&s);
  sb_simulcast_switch_set_target(&s, 2);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 2, 1, 0), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
  sb_simulcast_switch_set_target(&s, 0);
  sb_simulcast_switch_stop_current(&s);
  /* Layer 2 is no longer forwarded; layer 0 waits for its keyframe, which is asked for. */
  CHECK_EQ(sb_simulcast_switch_packet(&s, 2, 0, 10), SB_SWITCH_REQUEST_KEYFRAME);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 0, 20), 0);
  CHECK_EQ(sb_simulcast_switch_packet(&s, 0, 1, 30), SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED);
}
