/* Simulcast layer choice for one subscriber, and switching at keyframes. No I/O, no clock: the
 * caller passes `now_ms`, so both are tested and simulated without sockets.
 *
 * Layers are indexed from the lowest (0) to the highest quality, as the producer orders them. */
#ifndef SB_SIMULCAST_H
#define SB_SIMULCAST_H

#include <stdint.h>

#define SB_SIMULCAST_MAX_LAYERS 3
#define SB_SIMULCAST_PAUSE (-1)

typedef struct {
  uint8_t active;          /* the publisher sends it */
  uint32_t bitrate_bps;    /* measured */
  uint16_t width, height;
} sb_simulcast_layer_t;

typedef struct {
  uint32_t up_margin_pct;  /* going up needs estimate >= bitrate * (100 + margin) / 100 */
  uint32_t up_hold_ms;     /* ... held that long without a break */
  uint32_t pause_hold_ms;  /* the lowest layer is paused once the estimate stayed under it
                              this long */
} sb_simulcast_config_t;

/* Defaults: 20 % margin held for 2 s. */
#define SB_SIMULCAST_UP_MARGIN_PCT 20
#define SB_SIMULCAST_UP_HOLD_MS 2000
#define SB_SIMULCAST_PAUSE_HOLD_MS 3000

typedef struct {
  sb_simulcast_config_t cfg;
  int current;             /* the last answer: a layer or SB_SIMULCAST_PAUSE */
  uint8_t started;         /* an answer was given */
  uint8_t up_ok;           /* bit i: layer i has been affordable with margin since up_since[i] */
  uint64_t up_since[SB_SIMULCAST_MAX_LAYERS];
  uint8_t short_of_lowest; /* the estimate has been under the lowest layer since short_since */
  uint64_t short_since;
} sb_simulcast_chooser_t;

/** Starts a chooser; cfg NULL (or zero fields) takes the defaults. */
void sb_simulcast_chooser_init(sb_simulcast_chooser_t *c, const sb_simulcast_config_t *cfg);

/** Chooses the layer to send: among active layers that fit max_w x max_h (0 = no limit in that
 * dimension; if none fits, the smallest active one), the highest the estimate affords. Going down
 * (the current layer costs more than the estimate, or it stopped or no longer fits) happens at
 * once; going up (also out of a pause) only to a layer affordable with the margin for up_hold_ms
 * of consecutive calls. Pausing is the exception to "down at once": when even the lowest layer
 * costs more than the estimate, the lowest layer is sent until that has lasted pause_hold_ms,
 * since a pause is a frozen picture for the subscriber and a dip is often the queue left by a
 * keyframe or a probe (or a rate swollen by keyframes). The first answer is immediate. Call it on each estimate update (or
 * periodically). Returns the layer, SB_SIMULCAST_PAUSE if no layer is affordable or active,
 * or -2 for bad arguments (n outside 0..3, layers NULL with n > 0). */
int sb_simulcast_choose(sb_simulcast_chooser_t *c, const sb_simulcast_layer_t *layers, int n,
                        uint64_t estimate_bps, unsigned max_w, unsigned max_h, uint64_t now_ms);

/** The bitrate of the layer the subscriber would get with unlimited bandwidth: the highest
 * active layer that fits max_w x max_h (else the smallest active one); 0 if none is active. */
uint32_t sb_simulcast_wanted_bps(const sb_simulcast_layer_t *layers, int n, unsigned max_w,
                                 unsigned max_h);

/* What to do with one packet (flags of sb_simulcast_switch_packet). */
enum {
  SB_SWITCH_FORWARD = 1,          /* forward this packet to the subscriber */
  SB_SWITCH_SWITCHED = 2,         /* the switch to the target happened at this packet */
  SB_SWITCH_REQUEST_KEYFRAME = 4, /* ask the target layer for a keyframe now (PLI/FIR) */
};

#define SB_SWITCH_KEYFRAME_INTERVAL_MS 1000

typedef struct {
  int current;             /* layer being forwarded, or -1 */
  int target;              /* layer wanted, or SB_SIMULCAST_PAUSE */
  uint8_t requested;       /* a keyframe was requested: last_request_ms is meaningful */
  uint64_t last_request_ms;
} sb_simulcast_switch_t;

/** Starts a switch that forwards nothing until a target is set. */
void sb_simulcast_switch_init(sb_simulcast_switch_t *s);

/** Sets the wanted layer (usually sb_simulcast_choose's answer). SB_SIMULCAST_PAUSE stops
 * forwarding at once; another layer is switched to at its next keyframe, while the current one
 * keeps flowing until then. */
void sb_simulcast_switch_set_target(sb_simulcast_switch_t *s, int target);

/** Stops forwarding the current layer now, without waiting for the target's keyframe (the
 * current layer overloads the path); the target stays and is switched to at its keyframe. */
void sb_simulcast_switch_stop_current(sb_simulcast_switch_t *s);

/** Decides for one packet of `layer`; `is_keyframe` is set on the packet that starts a keyframe
 * (sb_vp8_desc_t.is_keyframe). Returns SB_SWITCH_* flags: FORWARD for packets of the current
 * layer (and of the target from its first keyframe packet on, then also SWITCHED), and
 * REQUEST_KEYFRAME while a switch waits, at most once per second. */
int sb_simulcast_switch_packet(sb_simulcast_switch_t *s, int layer, int is_keyframe,
                               uint64_t now_ms);

#endif
