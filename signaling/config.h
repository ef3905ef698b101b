/* The options of `switchboard serve`: one table (name, type, range, default, help) from which
 * come the command-line flags, the SWITCHBOARD_<NAME> environment variables, the YAML config
 * file's keys, --help, --print-config and the reference in docs/operations.md. Precedence:
 * flags > environment > file > defaults. */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "signaling/app.h"

typedef enum {
  SB_CFG_STR,      /* char[size] */
  SB_CFG_INT,      /* int in [min, max] */
  SB_CFG_BOOL,     /* int 0/1; a flag without value means true */
  SB_CFG_HOSTPORT, /* HOST:PORT into char[size] at off and int at off2 */
  SB_CFG_ENUM,     /* char[size], one of choices ("a|b|c") */
} sb_cfg_type_t;

enum {
  SB_CFG_SECRET_URL = 1 << 0, /* may hold a password (URL or conninfo): masked when printed */
  SB_CFG_NOFILE = 1 << 1,     /* not a file key (--config itself) */
  SB_CFG_TESTING = 1 << 2,    /* for tests only */
  SB_CFG_SECRET = 1 << 3,     /* a secret: printed as "***" when set */
};

typedef enum { SB_SRC_DEFAULT = 0, SB_SRC_FILE, SB_SRC_ENV, SB_SRC_FLAG } sb_cfg_source_t;

typedef struct {
  const char *name; /* flag without "--", file key; env is SWITCHBOARD_ + upper, '-' -> '_' */
  sb_cfg_type_t type;
  const char *arg;  /* metavariable in --help */
  size_t off, size; /* into sb_serve_config_t */
  size_t off2;      /* HOSTPORT: the port's int */
  long min, max;    /* INT range */
  const char *def;  /* default as text, parsed like any value; NULL = computed at start */
  const char *def_doc;  /* the default as documented when def is NULL or not self-explaining */
  const char *choices;  /* ENUM: "a|b" */
  int flags;
  int (*check)(const char *value); /* extra validation of a STR; 0 = valid */
  const char *help;
} sb_cfg_option_t;

#define SB_CFG_MAX_OPTIONS 64

/* Everything `serve` is configured with: the application's sb_config_t plus the process-level
 * options (logging, the config file) and where each value came from. */
typedef struct {
  sb_config_t app;
  char config_file[512];
  char log_level[16];
  char log_format[8];
  char debug[128];
  unsigned char source[SB_CFG_MAX_OPTIONS]; /* sb_cfg_source_t per table index */
} sb_serve_config_t;

typedef enum {
  SB_CFG_RUN = 0,       /* start the server */
  SB_CFG_HELP,          /* --help */
  SB_CFG_PRINT,         /* --print-config */
  SB_CFG_REFERENCE,     /* --print-config-reference */
} sb_cfg_action_t;

/** The option table; *n receives its length. Static storage. */
const sb_cfg_option_t *sb_config_options(size_t *n);

/** Fills sc from defaults, the config file (--config or SWITCHBOARD_CONFIG), the environment
 * `envp` (NULL-terminated "NAME=value" strings, e.g. environ) and argv (argv[0] is the command
 * name; getopt state is reset here). Returns an sb_cfg_action_t, or -1 with a message naming the
 * key in err (a usage error: exit code 2). */
int sb_config_load(sb_serve_config_t *sc, int argc, char **argv, char **envp, char *err,
                   size_t errlen);

/** Sets one option from text, as from `source`; returns 0 or -1 with the reason in err. */
int sb_config_set(sb_serve_config_t *sc, const sb_cfg_option_t *o, const char *value,
                  sb_cfg_source_t source, char *err, size_t errlen);

/** Applies a YAML file (a mapping of option names to scalars); 0 or -1 with
 * "FILE:LINE: ..." naming the key in err. */
int sb_config_load_file(sb_serve_config_t *sc, const char *path, char *err, size_t errlen);

/** Writes the effective configuration as YAML, each value with its source as a comment and
 * passwords masked. The output is itself a valid config file. */
void sb_config_print(const sb_serve_config_t *sc, FILE *out);

/** Writes the configuration reference (markdown table) for docs/operations.md. */
void sb_config_print_reference(FILE *out);

/** Writes `switchboard serve --help`. */
void sb_config_print_help(FILE *out);

/** Copies a database URL or libpq conninfo to out with any password replaced by "***". */
void sb_config_mask_url(const char *in, char *out, size_t outlen);

/** Formats option o's current value of sc as text (unmasked) into out. */
void sb_config_value_text(const sb_serve_config_t *sc, const sb_cfg_option_t *o, char *out,
                          size_t outlen);

/** The default web directory: share/switchboard/web next to the installed binary
 * (<prefix>/bin/../share/switchboard/web) when it exists, else the source tree's web/. */
void sb_config_default_web_dir(char *out, size_t outlen);

#endif
