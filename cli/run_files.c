/* run_files.c -- see run_files.h. */
#include "run_files.h"

#include "common.h"
#include "files.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The files here belong to `train`: its error line, and -1 for the callers. */
static int report(const char *path, const char *what)
{
    cli_fail("train", "%s: %s", path, what);
    return -1;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf), fclose(fp);
                return NULL;
            }
            buf = g;
        }
        size_t r = fread(buf + n, 1, 65536, fp);
        n += r;
        if (r < 65536) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
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
    int rc = cli_write_file_atomic("train", path, withnl, n + 1);
    free(withnl);
    return rc;
}

static cJSON *load_json(const char *path)
{
    char *text = read_all(path, NULL);
    if (!text) return NULL;
    cJSON *root = cJSON_Parse(text);
    free(text);
    return root;
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
    cJSON *s = cJSON_AddArrayToObject(o, "seeds");
    for (int i = 0; i < d->nseeds; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)d->seeds[i]));
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
            d->seeds[d->nseeds++] = (long long)v->valuedouble;
        }
        ok = ok && d->nseeds > 0;
    }
    cJSON_Delete(o);
    return ok ? 0 : report(path, "malformed run description");
}

/* %.17g keeps doubles exact in our own files; NaN becomes null. */
static cJSON *number(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

int seed_result_save(const char *path, const seed_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "seed", cJSON_CreateNumber((double)r->seed));
    cJSON_AddNumberToObject(o, "epochs", r->epochs);
    cJSON_AddNumberToObject(o, "best_epoch", r->best_epoch);
    cJSON_AddItemToObject(o, "valid_loss", number(r->best_valid_loss));
    cJSON_AddItemToObject(o, "test_loss", number(r->test_loss));
    cJSON *t = cJSON_AddObjectToObject(o, "test");
    for (int i = 0; i < r->count; i++) cJSON_AddItemToObject(t, r->name[i], number(r->value[i]));
    return save_json(path, o);
}

int seed_result_load(const char *path, seed_result *r)
{
    if (access(path, F_OK) != 0) return 0;
    cJSON *o = load_json(path);
    if (!o) return report(path, "unreadable"), -1;
    memset(r, 0, sizeof *r);
    const cJSON *t = cJSON_GetObjectItem(o, "test");
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
        cJSON_ArrayForEach(v, t)
        {
            if (r->count >= SELFMM_MAX_METRICS || strlen(v->string) >= sizeof r->name[0]) break;
            strcpy(r->name[r->count], v->string);
            r->value[r->count++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        }
    }
    cJSON_Delete(o);
    return ok ? 1 : (report(path, "malformed seed result"), -1);
}

/* MMSA: round(np.mean(values) * 100, 2), round(np.std(values) * 100, 2). */
static void mean_std(const seed_result *r, int n, int k, double *mean, double *std)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += r[i].value[k];
    m /= n;
    for (int i = 0; i < n; i++) v += (r[i].value[k] - m) * (r[i].value[k] - m);
    *mean = m * 100.0;
    *std = sqrt(v / n) * 100.0;
}

static double round2(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", x);
    return strtod(buf, NULL);
}

int write_summary(const char *dir, const char *dataset, const seed_result *r, int n)
{
    char path[SELFMM_PATH_MAX + 32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", "self_mm");
    cJSON_AddStringToObject(o, "dataset", dataset);
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; i < n; i++) {
        cJSON *ri = cJSON_CreateObject();
        cJSON_AddItemToObject(ri, "seed", cJSON_CreateNumber((double)r[i].seed));
        cJSON_AddNumberToObject(ri, "epochs", r[i].epochs);
        cJSON_AddNumberToObject(ri, "best_epoch", r[i].best_epoch);
        cJSON_AddItemToObject(ri, "valid_loss", number(r[i].best_valid_loss));
        cJSON_AddItemToObject(ri, "test_loss", number(r[i].test_loss));
        cJSON *t = cJSON_AddObjectToObject(ri, "test");
        for (int k = 0; k < r[i].count; k++) cJSON_AddItemToObject(t, r[i].name[k], number(r[i].value[k]));
        cJSON_AddItemToArray(runs, ri);
    }
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    for (int k = 0; n > 0 && k < r[0].count; k++) {
        double m, s;
        mean_std(r, n, k, &m, &s);
        cJSON *e = cJSON_AddObjectToObject(sum, r[0].name[k]);
        cJSON_AddItemToObject(e, "mean", number(round2(m)));
        cJSON_AddItemToObject(e, "std", number(round2(s)));
    }
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (save_json(path, o) != 0) return -1;

    /* results.csv: one row per run, then MMSA's "(mean, std)" row. */
    char *csv = NULL;
    size_t cap = 0;
    FILE *mem = open_memstream(&csv, &cap);
    if (!mem) return report(dir, "out of memory");
    fprintf(mem, "Model,Seed");
    for (int k = 0; n > 0 && k < r[0].count; k++) fprintf(mem, ",%s", r[0].name[k]);
    fputc('\n', mem);
    for (int i = 0; i < n; i++) {
        fprintf(mem, "self_mm,%lld", r[i].seed);
        for (int k = 0; k < r[i].count; k++) fprintf(mem, ",%.4f", r[i].value[k]);
        fputc('\n', mem);
    }
    fprintf(mem, "self_mm,mean_std");
    for (int k = 0; n > 0 && k < r[0].count; k++) {
        double m, s;
        mean_std(r, n, k, &m, &s);
        fprintf(mem, ",\"(%.2f, %.2f)\"", round2(m), round2(s));
    }
    fputc('\n', mem);
    fclose(mem);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    int rc = cli_write_file_atomic("train", path, csv, strlen(csv));
    free(csv);
    return rc;
}

void print_table(const seed_result *r, int n)
{
    if (n <= 0) return;
    printf("%-14s", "test metric");
    for (int i = 0; i < n; i++) printf(" %10lld", r[i].seed);
    if (n > 1) printf("  %16s", "mean±std (x100)");
    printf("\n");
    for (int k = 0; k < r[0].count; k++) {
        printf("%-14s", r[0].name[k]);
        for (int i = 0; i < n; i++) printf(" %10.4f", r[i].value[k]);
        if (n > 1) {
            double m, s;
            mean_std(r, n, k, &m, &s);
            printf("  %9.2f ± %-5.2f", round2(m), round2(s));
        }
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
        char *part = read_all(path, &len);
        if (part) fwrite(part, 1, len, mem);
        free(part);
    }
    fclose(mem);
    char out[SELFMM_PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    int rc = cli_write_file_atomic("train", out, all, strlen(all));
    free(all);
    return rc;
}
