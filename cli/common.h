/* common.h -- what every selfmm-cli subcommand shares: exit codes, messages,
 * option helpers. The CLI uses the public header and, for files, clocks and names,
 * the helpers of lib/core (never another internal folder: tests/test_layout.sh). */
#ifndef SELFMM_CLI_COMMON_H
#define SELFMM_CLI_COMMON_H

#include "selfmm.h"

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* "selfmm-cli <cmd>: message" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "selfmm-cli <cmd>: error: message" on stderr; returns EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a failed call with its status string and message; returns EXIT_FAIL. */
int cli_fail_status(const char *cmd, selfmm_status st, const char *message);
/* "train" | "valid" | "test" -> the split; 0 on failure. */
int cli_parse_split(const char *s, selfmm_split *out);
/* "fp32" | "bf16" -> the precision; 0 on failure. */
int cli_parse_precision(const char *s, selfmm_precision *out);
/* Refuse a precision this process cannot compute in (selfmm_precision_check), before
 * any work: prints the reason and returns EXIT_FAIL, or EXIT_OK. */
int cli_check_precision(const char *cmd, selfmm_precision p);
/* 1 when s ends with suffix. */
int cli_ends_with(const char *s, const char *suffix);
/* 1 for the names a reference state_dict (torch.save) goes by: .pth, .pt, .bin. */
int cli_is_pth(const char *path);
/* Parse a whole decimal int; 0 on failure. */
int cli_parse_int(const char *s, int *out);
/* v as Python's repr() writes a float: the shortest decimal that reads back as v
 * ("0.7123", "71.2", "100.0", "1e-05"; "nan", "inf"). buf holds >= 32 bytes. */
const char *cli_repr_double(char *buf, double v);
/* The reference's variant bits of a config (SELFMM_METRICS_*). */
int cli_metrics_variant(const selfmm_config *cfg);
/* Print library log messages on stderr at or above a level (set by --verbose). */
void cli_install_logger(selfmm_log_level max_level);

/* Build a config from --preset NAME | --config FILE, then --bert DIR's
 * config.json, then each "key=value" of sets[0..nsets). Prints and returns
 * EXIT_USAGE/EXIT_FAIL on error, EXIT_OK on success. */
int cli_build_config(const char *cmd, const char *preset, const char *config_file,
                     const char *bert_dir, char **sets, int nsets, selfmm_config *cfg);
/* The last step of it on any starting config: each "key=value" of sets[0..nsets),
 * then the validation of the whole. EXIT_USAGE naming the argument, or EXIT_OK. */
int cli_apply_sets(const char *cmd, char **sets, int nsets, selfmm_config *cfg);

/* Warn on stderr when a dataset's feature normalisation differs from the one the
 * model was trained with (none vs some, or other statistics). */
void cli_warn_norm_mismatch(const char *cmd, selfmm_model *model, selfmm_dataset *data,
                            const char *data_path);

#endif
