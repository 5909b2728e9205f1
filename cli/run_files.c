/* run_files.c -- see run_files.h. */
#include "run_files.h"

#include "common.h"

#include "core/atomic_file.h"
#include "core/config_keys.h"
#include "core/file.h"
#include "core/json.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files here belong to `train`: its error line, and -1 for the callers. */
static int report(const char *path, const char *what)
{
    cli_fail("train", "%s: %s", path, what);
    return -1;
}

/* The library's atomic write (temp file, fsync, rename, fsync the directory). */
static int write_file(const char *path, const void *data, size_t len)
{
    selfmm_error err = {0};
    if (sm_atomic_write(path, data, len, &err) == SELFMM_OK) return 0;
    cli_fail_status("train", err.status, err.message);
    return -1;
}

static int save_json(const char *path, cJSON *root)
{
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return report(path, "out of memory");
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return report(path, "out of memory");
    }
    withnl[n] = '\n', withnl[n + 1] = '\0';
    int rc = write_file(path, withnl, n + 1);
    free(withnl);
    return rc;
}

/* NULL when the file is missing or not JSON (the callers say what they expected). */
static cJSON *load_json(const char *path)
{
    cJSON *root = NULL;
    return sm_json_read_file(path, &root, NULL) == SELFMM_OK ? root : NULL;
}

/* A double as the shortest decimal that reads back exactly (Python's repr, valid
 * JSON for finite values); NaN and infinities become null. Not cJSON's own printing:
 * it takes 15 digits when they read back within an epsilon, not exactly, so a
 * resumed study, which reads its finished seeds' results back, could differ from an
 * uninterrupted one in the last digit. */
static cJSON *number(double v)
{
    char buf[40];
    return isfinite(v) ? cJSON_CreateRaw(cli_repr_double(buf, v)) : cJSON_CreateNull();
}

/* A seed (up to 2^53) as an integer: cJSON prints integers beyond int as %g. */
static cJSON *seed_number(long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_CreateRaw(buf);
}

int run_desc_save(const char *dir, const run_desc *d)
{
    char path[SELFMM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "data", d->data);
    cJSON_AddStringToObject(o, "init", d->init);
    cJSON_AddBoolToObject(o, "demo", d->demo);
    cJSON_AddBoolToObject(o, "save_labels", d->save_labels);
    if (d->precision[0]) cJSON_AddStringToObject(o, "precision", d->precision);
    if (d->isa[0]) cJSON_AddStringToObject(o, "isa", d->isa);
    cJSON *s = cJSON_AddArrayToObject(o, "seeds");
    for (int i = 0; i < d->nseeds; i++) cJSON_AddItemToArray(s, seed_number(d->seeds[i]));
    return save_json(path, o);
}

int run_desc_load(const char *dir, run_desc *d)
{
    char path[SELFMM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cJSON *o = load_json(path);
    if (!o) return report(path, "missing or not JSON: is this a `train --out` directory?");
    memset(d, 0, sizeof *d);
    const cJSON *data = cJSON_GetObjectItem(o, "data"), *init = cJSON_GetObjectItem(o, "init");
    const cJSON *seeds = cJSON_GetObjectItem(o, "seeds");
    int ok = cJSON_IsString(data) && cJSON_IsString(init) && cJSON_IsArray(seeds) &&
             strlen(data->valuestring) < sizeof d->data && strlen(init->valuestring) < sizeof d->init;
    if (ok) {
        strcpy(d->data, data->valuestring);
        strcpy(d->init, init->valuestring);
        d->demo = cJSON_IsTrue(cJSON_GetObjectItem(o, "demo"));
        d->save_labels = cJSON_IsTrue(cJSON_GetObjectItem(o, "save_labels"));
        const cJSON *v;
        cJSON_ArrayForEach(v, seeds)
        {
            if (!cJSON_IsNumber(v) || d->nseeds >= RUN_MAX_SEEDS) {
                ok = 0;
                break;
            }
            long long seed = (long long)v->valuedouble;
            for (int i = 0; i < d->nseeds; i++) ok = ok && d->seeds[i] != seed; /* one folder each */
            d->seeds[d->nseeds++] = seed;
        }
        ok = ok && d->nseeds > 0;
    }
    cJSON_Delete(o);
    return ok ? 0 : report(path, "malformed run description");
}


/* m's metrics (rounded as cfg says), then "Loss" as do_test returns it:
 * eval_results['Loss'] = eval_loss (Self-MM) or round(eval_loss, 4) (MMSA). */
static int fill_set(char (*name)[32], double *value, double *raw, const selfmm_metrics *m, double loss,
                    const selfmm_config *cfg)
{
    int n = 0;
    for (int k = 0; k < m->count && k < SELFMM_MAX_METRICS - 1; k++, n++) {
        snprintf(name[k], sizeof name[k], "%s", m->name[k]);
        value[k] = m->value[k];
        raw[k] = m->raw[k];
    }
    strcpy(name[n], "Loss");
    value[n] = cfg->valid_loss_decimals >= 0 ? selfmm_round(loss, cfg->valid_loss_decimals) : loss;
    raw[n] = loss;
    return n + 1;
}

void seed_result_fill(seed_result *r, const selfmm_metrics *m, double test_loss, const selfmm_config *cfg)
{
    r->test_loss = test_loss;
    r->count = fill_set(r->name, r->value, r->raw, m, test_loss, cfg);
}

void seed_result_fill_valid(seed_result *r, const selfmm_metrics *m, double valid_loss, const selfmm_config *cfg)
{
    r->valid.count = fill_set(r->valid.name, r->valid.value, r->valid.raw, m, valid_loss, cfg);
}

/* "test": reported values, "raw": unrounded ones, both in the reference's order. */
static void add_values(cJSON *o, const seed_result *r)
{
    cJSON *t = cJSON_AddObjectToObject(o, "test"), *raw = cJSON_AddObjectToObject(o, "raw");
    for (int i = 0; i < r->count; i++) {
        cJSON_AddItemToObject(t, r->name[i], number(r->value[i]));
        cJSON_AddItemToObject(raw, r->name[i], number(r->raw[i]));
    }
}

int seed_result_save(const char *path, const seed_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "seed", seed_number(r->seed));
    cJSON_AddNumberToObject(o, "epochs", r->epochs);
    cJSON_AddNumberToObject(o, "best_epoch", r->best_epoch);
    cJSON_AddItemToObject(o, "valid_loss", number(r->best_valid_loss));
    cJSON_AddItemToObject(o, "test_loss", number(r->test_loss));
    add_values(o, r);
    if (r->valid.count) { /* "valid" and "valid_raw", as "test" and "raw" */
        cJSON *v = cJSON_AddObjectToObject(o, "valid"), *vr = cJSON_AddObjectToObject(o, "valid_raw");
        for (int i = 0; i < r->valid.count; i++) {
            cJSON_AddItemToObject(v, r->valid.name[i], number(r->valid.value[i]));
            cJSON_AddItemToObject(vr, r->valid.name[i], number(r->valid.raw[i]));
        }
    }
    return save_json(path, o);
}

int seed_result_load(const char *path, const selfmm_config *cfg, seed_result *r)
{
    if (!sm_exists(path)) return 0;
    cJSON *o = load_json(path);
    if (!o) return report(path, "unreadable"), -1;
    memset(r, 0, sizeof *r);
    const cJSON *t = cJSON_GetObjectItem(o, "test"), *raw = cJSON_GetObjectItem(o, "raw");
    int ok = cJSON_IsObject(t) && cJSON_IsNumber(cJSON_GetObjectItem(o, "seed"));
    if (ok) {
        r->seed = (long long)cJSON_GetObjectItem(o, "seed")->valuedouble;
        const cJSON *v;
        if ((v = cJSON_GetObjectItem(o, "epochs")) && cJSON_IsNumber(v)) r->epochs = (int)v->valuedouble;
        if ((v = cJSON_GetObjectItem(o, "best_epoch")) && cJSON_IsNumber(v)) r->best_epoch = (int)v->valuedouble;
        v = cJSON_GetObjectItem(o, "valid_loss");
        r->best_valid_loss = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        v = cJSON_GetObjectItem(o, "test_loss");
        r->test_loss = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        int has_loss = 0;
        cJSON_ArrayForEach(v, t)
        {
            if (r->count >= SELFMM_MAX_METRICS || strlen(v->string) >= sizeof r->name[0]) break;
            strcpy(r->name[r->count], v->string);
            r->value[r->count] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
            /* files of libselfmm < 0.2 have no "raw" (their values were not rounded) */
            const cJSON *w = cJSON_IsObject(raw) ? cJSON_GetObjectItem(raw, v->string) : NULL;
            r->raw[r->count] = w ? (cJSON_IsNumber(w) ? w->valuedouble : NAN) : r->value[r->count];
            has_loss |= strcmp(v->string, "Loss") == 0;
            r->count++;
        }
        const cJSON *vv = cJSON_GetObjectItem(o, "valid"), *vraw = cJSON_GetObjectItem(o, "valid_raw");
        if (cJSON_IsObject(vv)) /* (older files have none) */
            cJSON_ArrayForEach(v, vv)
            {
                if (r->valid.count >= SELFMM_MAX_METRICS || strlen(v->string) >= sizeof r->valid.name[0]) break;
                int k = r->valid.count++;
                strcpy(r->valid.name[k], v->string);
                r->valid.value[k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
                const cJSON *w = cJSON_IsObject(vraw) ? cJSON_GetObjectItem(vraw, v->string) : NULL;
                r->valid.raw[k] = cJSON_IsNumber(w) ? w->valuedouble : r->valid.value[k];
            }
        if (!has_loss && r->count < SELFMM_MAX_METRICS) { /* < 0.2: Loss only as test_loss */
            strcpy(r->name[r->count], "Loss");
            r->raw[r->count] = r->test_loss;
            r->value[r->count] = cfg->valid_loss_decimals >= 0 ? selfmm_round(r->test_loss, cfg->valid_loss_decimals)
                                                               : r->test_loss;
            r->count++;
        }
    }
    cJSON_Delete(o);
    return ok ? 1 : (report(path, "malformed seed result"), -1);
}

/* run.py run_normal over the runs' reported values: mean and std x100, round(., 2). */
static int summarise(const selfmm_config *cfg, const seed_result *r, int n, selfmm_metrics *mean,
                     selfmm_metrics *std)
{
    selfmm_metrics *runs = calloc((size_t)(n > 0 ? n : 1), sizeof *runs);
    if (!runs) return -1;
    for (int i = 0; i < n; i++) {
        runs[i].count = r[i].count;
        for (int k = 0; k < r[i].count; k++) {
            runs[i].name[k] = r[i].name[k];
            runs[i].value[k] = runs[i].raw[k] = r[i].value[k];
        }
    }
    selfmm_error err = {0};
    selfmm_status st = selfmm_metrics_summary(runs, n, cli_metrics_variant(cfg), mean, std, &err);
    free(runs);
    if (st != SELFMM_OK) return cli_fail("train", "summary: %s", err.message), -1;
    return 0;
}

int write_summary(const char *dir, const selfmm_config *cfg, const seed_result *r, int n)
{
    char path[SELFMM_PATH_MAX + 32];
    selfmm_metrics mean, std;
    if (n < 1 || summarise(cfg, r, n, &mean, &std) != 0) return report(dir, "no results to summarise");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", "self_mm");
    cJSON_AddStringToObject(o, "dataset", sm_dataset_kind_name(cfg->dataset));
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < n; i++) {
        cJSON *ri = cJSON_CreateObject();
        cJSON_AddItemToObject(ri, "seed", seed_number(r[i].seed));
        cJSON_AddNumberToObject(ri, "epochs", r[i].epochs);
        cJSON_AddNumberToObject(ri, "best_epoch", r[i].best_epoch);
        cJSON_AddItemToObject(ri, "valid_loss", number(r[i].best_valid_loss));
        cJSON_AddItemToObject(ri, "test_loss", number(r[i].test_loss));
        add_values(ri, &r[i]);
        cJSON_AddItemToArray(runs, ri);
    }
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    for (int k = 0; k < mean.count; k++) {
        cJSON *e = cJSON_AddObjectToObject(sum, mean.name[k]);
        cJSON_AddItemToObject(e, "mean", number(mean.value[k]));
        cJSON_AddItemToObject(e, "std", number(std.value[k]));
    }
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (save_json(path, o) != 0) return -1;

    /* results.csv: one row per run, then run_normal's "(mean, std)" row, each number
     * as Python prints it (repr: the shortest exact decimal). */
    char *csv = NULL, a[32], b[32];
    size_t cap = 0;
    FILE *mem = open_memstream(&csv, &cap);
    if (!mem) return report(dir, "out of memory");
    fprintf(mem, "Model,Seed");
    for (int k = 0; k < r[0].count; k++) fprintf(mem, ",%s", r[0].name[k]);
    fputc('\n', mem);
    for (int i = 0; i < n; i++) {
        fprintf(mem, "self_mm,%lld", r[i].seed);
        for (int k = 0; k < r[i].count; k++) fprintf(mem, ",%s", cli_repr_double(a, r[i].value[k]));
        fputc('\n', mem);
    }
    fprintf(mem, "self_mm,mean_std");
    for (int k = 0; k < mean.count; k++)
        fprintf(mem, ",\"(%s, %s)\"", cli_repr_double(a, mean.value[k]), cli_repr_double(b, std.value[k]));
    fputc('\n', mem);
    fclose(mem);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    int rc = write_file(path, csv, strlen(csv));
    free(csv);
    return rc;
}

void print_table(const selfmm_config *cfg, const seed_result *r, int n)
{
    selfmm_metrics mean, std;
    if (n <= 0 || summarise(cfg, r, n, &mean, &std) != 0) return;
    printf("%-14s", "test metric");
    for (int i = 0; i < n; i++) printf(" %10lld", r[i].seed);
    if (n > 1) printf("  %16s", "mean±std (x100)");
    printf("\n");
    for (int k = 0; k < r[0].count; k++) {
        printf("%-14s", r[0].name[k]);
        for (int i = 0; i < n; i++) printf(" %10.4f", r[i].value[k]);
        if (n > 1) printf("  %9.2f ± %-5.2f", mean.value[k], std.value[k]);
        printf("\n");
    }
}

int concat_seed_files(const char *dir, const run_desc *d, const char *name)
{
    char *all = NULL;
    size_t cap = 0;
    FILE *mem = open_memstream(&all, &cap);
    if (!mem) return report(dir, "out of memory");
    for (int i = 0; i < d->nseeds; i++) {
        char path[SELFMM_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/seed-%lld/%s", dir, d->seeds[i], name);
        size_t len;
        char *part = NULL; /* a seed without the file (yet) adds nothing */
        if (sm_read_file(path, SIZE_MAX, &part, &len, NULL) == SELFMM_OK) fwrite(part, 1, len, mem);
        free(part);
    }
    fclose(mem);
    char out[SELFMM_PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    int rc = write_file(out, all, strlen(all));
    free(all);
    return rc;
}

/* ---- the run layout ---- */

/* What train writes at the top of --out (cmd_train.c, this file, report_common.c)
 * and what selfmm_fit writes in each seed-<n>/ (lib/train/fit.c, the files of
 * selfmm_fit_options.out_dir). tests/test_cli_runs.sh checks that a run leaves no
 * other file, so a new file must be added here. */
const char *const run_top_names[] = {"run.json",        "config.json", "metrics.json",
                                     "results.csv",     "train_log.jsonl", "labels.jsonl",
                                     "model.safetensors", "report.html", "data.npz", NULL};
const char *const run_seed_names[] = {"checkpoint.safetensors", "checkpoint-best.safetensors",
                                      "model.safetensors", "train_log.jsonl", "labels.jsonl",
                                      "result.json", NULL};

/* seed-<digits>: the folder of one seed (seeds are >= 0). */
static int is_seed_dir_name(const char *name)
{
    if (strncmp(name, "seed-", 5) != 0 || !name[5]) return 0;
    for (const char *p = name + 5; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
}

/* The seed-<n> folders of dir (real directories, not links), in dir order: calls
 * fn(path) for each until one fails. 0, or -1 (printed). */
static int for_each_seed_dir(const char *dir, int (*fn)(const char *path, void *user), void *user)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : report(dir, strerror(errno));
    int rc = 0;
    const struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat sb;
        if (!is_seed_dir_name(e->d_name) || fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(sb.st_mode))
            continue;
        char path[SELFMM_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = fn(path, user);
    }
    closedir(d);
    return rc;
}

typedef struct found {
    char *what;
    size_t cap;
    int n;
} found;

static int note_seed_dir(const char *path, void *user)
{
    found *f = user;
    if (!f->n++) snprintf(f->what, f->cap, "%s", strrchr(path, '/') + 1);
    return 0;
}

int run_dir_find(const char *dir, char *what, size_t cap)
{
    char path[SELFMM_PATH_MAX + 64];
    for (int i = 0; run_top_names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, run_top_names[i]);
        struct stat sb;
        if (lstat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) /* (a folder of that name is not ours) */
            return snprintf(what, cap, "%s", run_top_names[i]), 1;
    }
    found f = {what, cap, 0};
    if (for_each_seed_dir(dir, note_seed_dir, &f) != 0) return -1;
    return f.n > 0;
}

/* Remove dir/name (absent is fine) and the temp files of writes to it. */
static int remove_owned(const char *dir, const char *name, int file_too, int *removed)
{
    char path[SELFMM_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    selfmm_error err = {0};
    int n = 0;
    if (sm_atomic_remove_stale(path, &n, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message), -1;
    if (removed) *removed += n;
    struct stat sb; /* files and links; a folder of that name is not the run's */
    if (file_too && lstat(path, &sb) == 0 && !S_ISDIR(sb.st_mode) && unlink(path) != 0 && errno != ENOENT)
        return report(path, strerror(errno));
    return 0;
}

typedef struct sweep {
    int file_too; /* remove the files themselves (overwrite), not only temp files */
    int removed;
} sweep;

static int sweep_seed_dir(const char *path, void *user)
{
    sweep *s = user;
    for (int i = 0; run_seed_names[i]; i++)
        if (remove_owned(path, run_seed_names[i], s->file_too, &s->removed) != 0) return -1;
    if (s->file_too && rmdir(path) != 0 && errno != ENOTEMPTY && errno != EEXIST)
        return report(path, strerror(errno));
    return 0;
}

static int sweep_dir(const char *dir, sweep *s)
{
    for (int i = 0; run_top_names[i]; i++)
        if (remove_owned(dir, run_top_names[i], s->file_too, &s->removed) != 0) return -1;
    return for_each_seed_dir(dir, sweep_seed_dir, s);
}

int run_dir_clear(const char *dir)
{
    sweep s = {1, 0};
    return sweep_dir(dir, &s);
}

int run_dir_remove_stale(const char *dir, int *removed)
{
    sweep s = {0, 0};
    int rc = sweep_dir(dir, &s);
    if (removed) *removed = s.removed;
    return rc;
}
