/* common.c -- see common.h. */
#include "common.h"

#include "mpi.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* "selfmm-cli <cmd>: <what>message\n<tail>" on stderr; under mpirun the rank after
 * the command. */
static void vreport(const char *cmd, const char *what, const char *tail, const char *fmt, va_list ap)
{
    fprintf(stderr, "selfmm-cli %s: %s%s", cmd, cli_mpi_tag(), what);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", tail);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    if (!cli_mpi_is_writer()) { /* every rank has the same arguments: rank 0 says it */
        cli_mpi_quiet();
        return EXIT_USAGE;
    }
    char tail[128];
    snprintf(tail, sizeof tail, "(see 'selfmm-cli %s --help')\n", cmd);
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, "", tail, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, "error: ", "", fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

int cli_fail_status(const char *cmd, selfmm_status st, const char *message)
{
    return cli_fail(cmd, "%s: %s", selfmm_strerror(st), message && *message ? message : "(no detail)");
}

const char *cli_repr_double(char *buf, double v)
{
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v > 0 ? "inf" : "-inf");
    int p = 1;
    for (; p < 17; p++) { /* the fewest significant digits that read back exactly */
        snprintf(buf, 32, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    snprintf(buf, 32, "%.*e", p - 1, v);
    const int e = atoi(strchr(buf, 'e') + 1);
    if (e < -4 || e >= 16) return buf; /* Python: 1e-05, 1.5e+16 (as %e with p digits) */
    snprintf(buf, 32, "%.*f", p - 1 - e > 0 ? p - 1 - e : 0, v);
    if (!strchr(buf, '.')) strcat(buf, ".0");
    return buf;
}

int cli_metrics_variant(const selfmm_config *cfg)
{
    return (cfg->f1_truth_weighted ? SELFMM_METRICS_F1_TRUTH_WEIGHTED : 0) |
           (cfg->metrics_mae_float64 ? SELFMM_METRICS_MAE_FLOAT64 : 0);
}

int cli_parse_split(const char *s, selfmm_split *out)
{
    if (!strcmp(s, "train")) *out = SELFMM_SPLIT_TRAIN;
    else if (!strcmp(s, "valid")) *out = SELFMM_SPLIT_VALID;
    else if (!strcmp(s, "test")) *out = SELFMM_SPLIT_TEST;
    else return 0;
    return 1;
}

int cli_parse_precision(const char *s, selfmm_precision *out)
{
    if (!strcmp(s, "fp32")) *out = SELFMM_PRECISION_FP32;
    else if (!strcmp(s, "bf16")) *out = SELFMM_PRECISION_BF16;
    else return 0;
    return 1;
}

int cli_check_precision(const char *cmd, selfmm_precision p)
{
    selfmm_error err = {0};
    if (selfmm_precision_check(p, &err) == SELFMM_OK) return EXIT_OK;
    return cli_fail_status(cmd, err.status, err.message);
}

int cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cli_is_pth(const char *path)
{
    return cli_ends_with(path, ".pth") || cli_ends_with(path, ".pt") || cli_ends_with(path, ".bin");
}

int cli_parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < INT_MIN || v > INT_MAX) return 0;
    *out = (int)v;
    return 1;
}

static selfmm_log_level g_max_level;

static void log_to_stderr(selfmm_log_level level, const char *msg, void *user)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level <= g_max_level) fprintf(stderr, "selfmm: %s: %s\n", names[level], msg);
}

void cli_install_logger(selfmm_log_level max_level)
{
    g_max_level = max_level;
    selfmm_set_log_callback(log_to_stderr, NULL);
}

int cli_build_config(const char *cmd, const char *preset, const char *config_file,
                     const char *bert_dir, char **sets, int nsets, selfmm_config *cfg)
{
    selfmm_error err = {0};
    if (preset && config_file) return cli_usage_error(cmd, "--preset and --config exclude each other");
    selfmm_config_default(cfg);
    if (preset && selfmm_config_preset(cfg, preset, &err) != SELFMM_OK)
        return cli_usage_error(cmd, "%s", err.message);
    if (config_file && selfmm_config_load_json(cfg, config_file, &err) != SELFMM_OK)
        return cli_fail_status(cmd, err.status, err.message);
    if (bert_dir) {
        if (selfmm_config_load_bert_json(cfg, bert_dir, &err) != SELFMM_OK)
            return cli_fail_status(cmd, err.status, err.message);
        if (strlen(bert_dir) >= sizeof cfg->bert_path)
            return cli_usage_error(cmd, "--bert path too long");
        strcpy(cfg->bert_path, bert_dir);
    }
    return cli_apply_sets(cmd, sets, nsets, cfg);
}

int cli_apply_sets(const char *cmd, char **sets, int nsets, selfmm_config *cfg)
{
    selfmm_error err = {0};
    for (int i = 0; i < nsets; i++) {
        char key[128];
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof key)
            return cli_usage_error(cmd, "--set expects key=value, got \"%s\"", sets[i]);
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = '\0';
        selfmm_status st = selfmm_config_set(cfg, key, eq + 1, &err);
        if (st != SELFMM_OK) return cli_usage_error(cmd, "--set %s: %s", sets[i], err.message);
    }
    if (selfmm_config_validate(cfg, &err) != SELFMM_OK)
        return cli_usage_error(cmd, "%s", err.message);
    return EXIT_OK;
}

/* A model trained on normalised features expects a dataset normalised the same way. */
void cli_warn_norm_mismatch(const char *cmd, selfmm_model *model, selfmm_dataset *data,
                            const char *data_path)
{
    selfmm_config cfg;
    selfmm_model_get_config(model, &cfg);
    size_t n = 2 * ((size_t)cfg.audio_dim + (size_t)cfg.video_dim);
    float *m = malloc(n * sizeof *m);
    if (!m) return;
    float *as = m + cfg.audio_dim, *vm = as + cfg.audio_dim, *vs = vm + cfg.video_dim;
    int model_has = selfmm_model_get_norm(model, m, as, vm, vs) == SELFMM_OK;
    selfmm_norm dn;
    int data_has = selfmm_dataset_norm(data, &dn) == SELFMM_OK;
    int same = model_has && data_has && dn.audio_dim == cfg.audio_dim && dn.vision_dim == cfg.video_dim &&
               !memcmp(dn.audio_mean, m, (size_t)cfg.audio_dim * sizeof *m) &&
               !memcmp(dn.audio_std, as, (size_t)cfg.audio_dim * sizeof *m) &&
               !memcmp(dn.vision_mean, vm, (size_t)cfg.video_dim * sizeof *m) &&
               !memcmp(dn.vision_std, vs, (size_t)cfg.video_dim * sizeof *m);
    if (model_has && !data_has)
        fprintf(stderr, "selfmm-cli %s: warning: the model was trained on normalised features "
                        "but %s carries no normalisation: its features are used as they are\n", cmd, data_path);
    else if (!model_has && data_has)
        fprintf(stderr, "selfmm-cli %s: warning: %s holds normalised features but the model was "
                        "trained without normalisation\n", cmd, data_path);
    else if (model_has && !same)
        fprintf(stderr, "selfmm-cli %s: warning: %s was normalised with other statistics than "
                        "the model's training data\n", cmd, data_path);
    free(m);
}
