/* Simulcast layer choice with hysteresis, and keyframe-aligned switching (see simulcast.h). */
#include "codec/simulcast.h"

#include <string.h>

void sb_simulcast_chooser_init(sb_simulcast_chooser_t *c, const sb_simulcast_config_t *cfg) {
  memset(c, 0, sizeof *c);
  c->current = SB_SIMULCAST_PAUSE;
  c->cfg.up_margin_pct =
      cfg && cfg->up_margin_pct ? cfg->up_margin_pct : SB_SIMULCAST_UP_MARGIN_PCT;
  c->cfg.up_hold_ms = cfg && cfg->up_hold_ms ? cfg->up_hold_ms : SB_SIMULCAST_UP_HOLD_MS;
  c->cfg.pause_hold_ms =
      cfg && cfg->pause_hold_ms ? cfg->pause_hold_ms : SB_SIMULCAST_PAUSE_HOLD_MS;
}

/* Bit i set: layer i is active and fits the requested size. A subscriber that asks for less than
 * the smallest layer still gets the smallest one rather than nothing. */
static unsigned allowed_layers(const sb_simulcast_layer_t *layers, int n, unsigned max_w,
                               unsigned max_h) {
  unsigned mask = 0;
  int lowest = -1;
  for (int i = 0; i < n; i++) {
    if (!layers[i].active)
      continue;
    if (lowest < 0)
      lowest = i;
    if ((max_w == 0 || layers[i].width <= max_w) && (max_h == 0 || layers[i].height <= max_h))
      mask |= 1u << i;
  }
  if (!mask && lowest >= 0)
    mask = 1u << lowest;
  return mask;
}

uint32_t sb_simulcast_wanted_bps(const sb_simulcast_layer_t *layers, int n, unsigned max_w,
                                 unsigned max_h) {
  if (!layers || n <= 0 || n > SB_SIMULCAST_MAX_LAYERS)
    return 0;
  unsigned mask = allowed_layers(layers, n, max_w, max_h);
  for (int i = n - 1; i >= 0; i--)
    if (mask & (1u << i))
      return layers[i].bitrate_bps;
  return 0;
}

/* Highest allowed layer below `below` whose bitrate the estimate covers; -1 if none. */
static int highest_affordable(const sb_simulcast_layer_t *layers, unsigned mask, int below,
                              uint64_t estimate_bps) {
  for (int i = below - 1; i >= 0; i--)
    if ((mask & (1u << i)) && layers[i].bitrate_bps <= estimate_bps)
      return i;
  return -1;
}

/* Nothing is affordable: the lowest allowed layer until the estimate has been short of it for
 * pause_hold_ms, then a pause. No shortcut for a deep dip: a layer's measured rate includes the
 * keyframes asked for when subscribers join or switch, which can triple it for a second. */
static int lowest_or_pause(sb_simulcast_chooser_t *c, unsigned mask, uint64_t now_ms) {
  int lowest = -1;
  for (int i = 0; i < SB_SIMULCAST_MAX_LAYERS && lowest < 0; i++)
    if (mask & (1u << i))
      lowest = i;
  if (lowest < 0)
    return SB_SIMULCAST_PAUSE;
  if (!c->short_of_lowest) {
    c->short_of_lowest = 1;
    c->short_since = now_ms;
  }
  return now_ms - c->short_since < c->cfg.pause_hold_ms ? lowest : SB_SIMULCAST_PAUSE;
}

/* Tracks, per layer, since when it has been affordable with the margin without a break. */
static void update_up_timers(sb_simulcast_chooser_t *c, const sb_simulcast_layer_t *layers, int n,
                             unsigned mask, uint64_t estimate_bps, uint64_t now_ms) {
  for (int i = 0; i < SB_SIMULCAST_MAX_LAYERS; i++) {
    uint8_t bit = (uint8_t)(1u << i);
    int ok = i < n && (mask & bit) &&
             estimate_bps * 100 >= (uint64_t)layers[i].bitrate_bps * (100 + c->cfg.up_margin_pct);
    if (!ok) {
      c->up_ok &= (uint8_t)~bit;
    } else if (!(c->up_ok & bit)) {
      c->up_ok |= bit;
      c->up_since[i] = now_ms;
    }
  }
}

int sb_simulcast_choose(sb_simulcast_chooser_t *c, const sb_simulcast_layer_t *layers, int n,
                        uint64_t estimate_bps, unsigned max_w, unsigned max_h, uint64_t now_ms) {
  unsigned mask;
  int cur = c->current;
  if (n < 0 || n > SB_SIMULCAST_MAX_LAYERS || (n > 0 && !layers))
    return -2;
  mask = allowed_layers(layers, n, max_w, max_h);
  update_up_timers(c, layers, n, mask, estimate_bps, now_ms);
  if (!c->started) {
    c->started = 1;
    c->current = highest_affordable(layers, mask, n, estimate_bps);
    return c->current;
  }
  if (cur >= 0 && (cur >= n || !(mask & (1u << cur)) || layers[cur].bitrate_bps > estimate_bps)) {
    /* Down at once; if nothing below is affordable (the current layer stopped, say), any
     * affordable layer, or the lowest one for a while, or a pause. */
    int to = highest_affordable(layers, mask, cur < n ? cur : n, estimate_bps);
    if (to < 0)
      to = highest_affordable(layers, mask, n, estimate_bps);
    if (to < 0)
      to = lowest_or_pause(c, mask, now_ms);
    else
      c->short_of_lowest = 0;
    c->current = to;
    return c->current;
  }
  c->short_of_lowest = 0;
  for (int i = n - 1; i > cur; i--) {
    if ((c->up_ok & (1u << i)) && now_ms - c->up_since[i] >= c->cfg.up_hold_ms) {
      c->current = i;
      break;
    }
  }
  return c->current;
}

void sb_simulcast_switch_init(sb_simulcast_switch_t *s) {
  memset(s, 0, sizeof *s);
  s->current = -1;
  s->target = SB_SIMULCAST_PAUSE;
}

void sb_simulcast_switch_set_target(sb_simulcast_switch_t *s, int target) {
  s->target = target < 0 ? SB_SIMULCAST_PAUSE : target;
  if (s->target == SB_SIMULCAST_PAUSE)
    s->current = -1;
}

void sb_simulcast_switch_stop_current(sb_simulcast_switch_t *s) { s->current = -1; }

int sb_simulcast_switch_packet(sb_simulcast_switch_t *s, int layer, int is_keyframe,
                               uint64_t now_ms) {
  int flags = 0;
  if (s->target == SB_SIMULCAST_PAUSE)
    return 0;
  if (s->current != s->target) {
    if (layer == s->target && is_keyframe) {
      s->current = s->target;
      return SB_SWITCH_FORWARD | SB_SWITCH_SWITCHED;
    }
    if (!s->requested || now_ms - s->last_request_ms >= SB_SWITCH_KEYFRAME_INTERVAL_MS) {
      s->requested = 1;
      s->last_request_ms = now_ms;
      flags |= SB_SWITCH_REQUEST_KEYFRAME;
    }
  }
  if (layer == s->current)
    flags |= SB_SWITCH_FORWARD;
  return flags;
}
