/* cmd_tune.c -- `selfmm-cli tune`: the reference's random search (run.py's run_tune
 * over config/config_tune.py's space, cli/tune_space.c), each trial a `train` folder.
 *
 * DIR holds:
 *   tune.json         the study: {"keys": the reference's d_paras (the CSV columns),
 *                     "trials", "seed" (of the draws), "key_eval", "seeds", "data",
 *                     "demo", "not_tuned"}; with config.json, all a rerun or --resume
 *                     needs, and what a rerun with arguments is checked against
 *   config.json       the base config the draws are applied to
 *   trial-NNN/        trial NNN's train folder (run.json, config.json, seed-<s>/, ...),
 *                     and trial.json, written last: the drawn keys and the scores. A
 *                     trial with trial.json is finished; one without is trained again
 *                     from its checkpoints (train's resume)
 *   results.csv       Trial, every key of d_paras, the validation metrics (MMSA's
 *                     names) as run_tune stores them: round(mean over seeds * 100, 2)
 *   test_results.csv  the same with the test metrics
 *   best_config.json  the best trial's config.json (lowest validation Loss)
 *   report.html       `selfmm-cli report DIR`
 *   data.npz          the demo's data (tune --demo)
 * DIR is held by one tune at a time (its lock, as train's: cli/train_run.h), each
 * trial folder by the process training it.
 *
 * Under mpirun the unfinished trials are dealt round-robin to groups of ranks (as
 * many groups as ranks, fewer when there are fewer trials), each trial trained
 * data-parallel over its group; a group's leader writes its trials' folders, world
 * rank 0 the files of DIR. How this follows the reference: docs/REFERENCE.md,
 * "Tuning". */
#include "commands.h"
#include "common.h"
#include "mpi.h"
#include "report.h"
#include "run_files.h"
#include "train_run.h"
#include "tune_space.h"

#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/file.h"
#include "core/json.h"
#include "core/rng.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CMD "tune"
#define MAX_TRIALS 10000
#define KEY_EVAL "Loss" /* every dataset's KeyEval (tune_space.c), lower is better */

static void help(void)
{
    printf(
        "usage: selfmm-cli tune [--preset NAME | --config FILE] --data PATH [--bert DIR] --out DIR\n"
        "                       [--trials N] [--seed S] [--seeds LIST] [--max-epochs N]\n"
        "                       [--set key=value]... [--threads N] [--quiet] [--precision fp32|bf16]\n"
        "       selfmm-cli tune --resume DIR [--threads N] [--quiet]\n"
        "       selfmm-cli tune --demo [--out DIR] [--trials N] [--seed S] [--seeds LIST] ...\n"
        "       selfmm-cli tune --space | --plan [the study's options]\n\n"
        "Random search over the reference's space (Self-MM's config/config_tune.py), as its\n"
        "run_tune does: each trial draws the keys, trains with each of --seeds, and is scored\n"
        "on the validation split (the best epoch's metrics); the best has the lowest Loss.\n\n"
        "  --trials N        number of trials (default 50, at most %d)\n"
        "  --seed S          seed of the draws (default 1): the same seed, the same trials\n"
        "  --seeds LIST      training seeds of every trial (default 1111)\n"
        "  --max-epochs N    stop each run after N epochs at the latest (0 = early stopping only)\n"
        "  --set key=value   override a config key of every trial (a tuned key is then drawn\n"
        "                    over it)\n"
        "  --out DIR         the study's folder (default runs/tune-demo for --demo); rerunning\n"
        "                    into it with the same settings continues it; a larger --trials\n"
        "                    extends it\n"
        "  --resume DIR      continue the study in DIR with its own settings\n"
        "  --demo            the embedded demo dataset and small model (as train --demo)\n"
        "  --space           print the search space (the reference's, as JSON) and exit\n"
        "  --plan            print the trials these settings draw (results.csv's first columns)\n"
        "                    and exit, training nothing\n"
        "  --preset, --config, --data, --bert, --threads, --quiet, --precision: as for train\n\n"
        "In DIR: results.csv (Trial, the keys, the validation metrics x100 as run_tune stores\n"
        "them), test_results.csv (the same with the test metrics), best_config.json (for\n"
        "train --config), trial-NNN/ (each a train folder), tune.json, config.json (the base\n"
        "config), report.html. Under mpirun the trials are spread over the ranks.\n",
        MAX_TRIALS);
}

typedef struct tune_args {
    const char *preset, *config, *data, *bert, *out, *resume, *seeds, *precision;
    char **sets;
    int nsets;
    int trials, threads, max_epochs, demo, quiet, space, plan;
    long long seed;
    int seed_given, trials_given;
} tune_args;

static int parse_ll(const char *s, long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+') return 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < 0 || v > 9007199254740992LL) return 0;
    *out = v;
    return 1;
}

static int parse_args(int argc, char **argv, tune_args *a)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'},  {"config", required_argument, 0, 'c'},
        {"data", required_argument, 0, 'd'},    {"bert", required_argument, 0, 'b'},
        {"out", required_argument, 0, 'o'},     {"seeds", required_argument, 0, 'S'},
        {"seed", required_argument, 0, 'e'},    {"trials", required_argument, 0, 'T'},
        {"threads", required_argument, 0, 't'}, {"max-epochs", required_argument, 0, 'm'},
        {"set", required_argument, 0, 's'},     {"resume", required_argument, 0, 'r'},
        {"demo", no_argument, 0, 'D'},          {"quiet", no_argument, 0, 'q'},
        {"space", no_argument, 0, 'P'},         {"help", no_argument, 0, 'h'},
        {"plan", no_argument, 0, 'L'},          {"precision", required_argument, 0, 'R'},
        {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->threads = a->max_epochs = -1;
    a->trials = 50;
    a->seed = 1;
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    if (!a->sets) return cli_fail(CMD, "out of memory");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a->preset = optarg; break;
        case 'c': a->config = optarg; break;
        case 'd': a->data = optarg; break;
        case 'b': a->bert = optarg; break;
        case 'o': a->out = optarg; break;
        case 'S': a->seeds = optarg; break;
        case 'e':
            if (!parse_ll(optarg, &a->seed))
                return cli_usage_error(CMD, "--seed expects a number in [0, 2^53], got '%s'", optarg);
            a->seed_given = 1;
            break;
        case 'T':
            if (!cli_parse_int(optarg, &a->trials) || a->trials < 1 || a->trials > MAX_TRIALS)
                return cli_usage_error(CMD, "--trials expects a number in [1, %d], got '%s'", MAX_TRIALS, optarg);
            a->trials_given = 1;
            break;
        case 't':
            if (!cli_parse_int(optarg, &a->threads) || a->threads < 0 || a->threads > 1024)
                return cli_usage_error(CMD, "--threads expects a number in [0, 1024], got '%s'", optarg);
            break;
        case 'm':
            if (!cli_parse_int(optarg, &a->max_epochs) || a->max_epochs < 0)
                return cli_usage_error(CMD, "--max-epochs expects a number >= 0, got '%s'", optarg);
            break;
        case 's': a->sets[a->nsets++] = optarg; break;
        case 'r': a->resume = optarg; break;
        case 'D': a->demo = 1; break;
        case 'q': a->quiet = 1; break;
        case 'P': a->space = 1; break;
        case 'L': a->plan = 1; break;
        case 'R': {
            selfmm_precision p;
            if (!cli_parse_precision(optarg, &p))
                return cli_usage_error(CMD, "--precision expects fp32 or bf16, got '%s'", optarg);
            a->precision = optarg;
            break;
        }
        case 'h':
            if (cli_mpi_is_writer()) help();
            return -1;
        default: return cli_usage_error(CMD, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (a->space) {
        if (argc > 2) return cli_usage_error(CMD, "--space takes no other option");
        return EXIT_OK;
    }
    if (a->plan && a->resume) return cli_usage_error(CMD, "--plan takes the study's arguments, not --resume");
    if (a->resume) {
        if (a->preset || a->config || a->data || a->bert || a->out || a->seeds || a->nsets || a->max_epochs >= 0 ||
            a->demo || a->seed_given || a->trials_given || a->precision)
            return cli_usage_error(CMD, "--resume DIR takes the study's settings from DIR; only --threads and "
                                        "--quiet may be given with it");
        return EXIT_OK;
    }
    if (a->demo) {
        if (a->data || a->preset || a->config || a->bert)
            return cli_usage_error(CMD, "--demo generates its data and model: drop --data, --preset, --config "
                                        "and --bert");
        if (!a->out) a->out = "runs/tune-demo";
        return EXIT_OK;
    }
    if (a->plan) return EXIT_OK; /* (trains nothing: neither --data nor --out needed) */
    if (!a->data) return cli_usage_error(CMD, "--data PATH is required");
    if (!a->out) return cli_usage_error(CMD, "--out DIR is required");
    return EXIT_OK;
}

/* ---- the draws ---- */

/* The keys of d_paras that are drawn (random.choice in the reference), in order. */
typedef struct space {
    int n;
    const tune_value *v[64];
} space;

static void space_init(space *s)
{
    s->n = 0;
    for (int i = 0; i < tune_n_d_paras; i++) {
        const tune_value *v = tune_value_of(tune_d_paras[i]);
        if (v && v->drawn) s->v[s->n++] = v;
    }
}

/* Drawn but not a key of libselfmm (docs/REFERENCE.md, "Tuning"): recorded only. */
static int applies(const char *key) { return strcmp(key, "t_bert_dropout") != 0; }

/* draws[t * s->n + j]: trial t's choice of key j. Trial t, attempt a draws every key
 * from Philox keyed by (seed, SM_RNG_TUNE, t, a); a combination drawn before is
 * drawn again with a + 1 (the reference skips a repeat and so runs fewer trials).
 * So trial t depends on the seed and trials < t only: a longer study begins with
 * the trials of a shorter one. */
static int draw_trials(const space *s, uint64_t seed, int trials, int *draws)
{
    uint64_t size = 1;
    for (int j = 0; j < s->n; j++) size *= (uint64_t)s->v[j]->n;
    if ((uint64_t)trials > size) return cli_fail(CMD, "--trials %d: the space holds %llu combinations", trials,
                                                 (unsigned long long)size);
    unsigned char *seen = calloc((size_t)(size / 8 + 1), 1);
    if (!seen) return cli_fail(CMD, "out of memory");
    for (int t = 0; t < trials; t++) {
        for (uint32_t a = 0;; a++) {
            sm_rng_key k = sm_rng_make(seed, SM_RNG_TUNE, (uint64_t)t, a);
            uint64_t code = 0;
            uint32_t w[4];
            for (int j = 0; j < s->n; j++) {
                if (j % 4 == 0) sm_rng_block(&k, (uint32_t)(j / 4), w);
                int c = (int)(((uint64_t)w[j % 4] * (uint64_t)s->v[j]->n) >> 32);
                draws[t * s->n + j] = c;
                code = code * (uint64_t)s->v[j]->n + (uint64_t)c;
            }
            if (!(seen[code / 8] & (1u << (code % 8)))) {
                seen[code / 8] |= (unsigned char)(1u << (code % 8));
                break;
            }
        }
    }
    free(seen);
    return EXIT_OK;
}

/* The value trial ran with of each key of d_paras, as Python prints it: the draw;
 * text_out, the BERT width it stands for; H, the base config's (never drawn). */
static void trial_values(const space *s, const int *draw, const selfmm_config *cfg, char (*text)[32])
{
    for (int i = 0; i < tune_n_d_paras; i++) {
        const char *k = tune_d_paras[i];
        int j = 0;
        while (j < s->n && strcmp(s->v[j]->name, k)) j++;
        if (j < s->n) tune_value_text(text[i], s->v[j], draw[j]);
        else if (!strcmp(k, "text_out")) snprintf(text[i], 32, "%d", cfg->hidden_size);
        else if (!strcmp(k, "H")) cli_repr_double(text[i], cfg->H);
        else snprintf(text[i], 32, "null");
    }
}

/* The base config with the trial's draws. */
static int trial_config(const space *s, const int *draw, const selfmm_config *base, selfmm_config *cfg)
{
    selfmm_error err = {0};
    *cfg = *base;
    char b[32];
    for (int j = 0; j < s->n; j++) {
        if (!applies(s->v[j]->name)) continue;
        if (selfmm_config_set(cfg, s->v[j]->name, tune_value_text(b, s->v[j], draw[j]), &err) != SELFMM_OK)
            return cli_fail_status(CMD, err.status, err.message);
    }
    if (selfmm_config_validate(cfg, &err) != SELFMM_OK) return cli_fail_status(CMD, err.status, err.message);
    return EXIT_OK;
}

/* ---- the study's settings ---- */

typedef struct study {
    run_desc d;             /* data, demo, seeds (every trial's run.json) */
    selfmm_config base;
    int trials;
    long long seed;
    int existing;           /* DIR holds this study already (tune.json) */
    int old_trials;         /* its trials */
} study;

/* A config's JSON with the settings of the process (threads, fsync) left out: what
 * two configs are compared on. NULL on failure (printed). */
static cJSON *config_object(const selfmm_config *cfg)
{
    selfmm_config c = *cfg;
    c.threads = 0;
    c.fsync = 1;
    char *text = NULL;
    selfmm_error err = {0};
    if (selfmm_config_to_json(&c, &text, &err) != SELFMM_OK) return cli_fail_status(CMD, err.status, err.message), NULL;
    cJSON *o = cJSON_Parse(text);
    selfmm_free_string(text);
    if (!o) cli_fail(CMD, "out of memory");
    return o;
}

/* EXIT_OK when a and b agree on every key; else names the first key that differs
 * (what: the file holding a). */
static int same_config(const selfmm_config *a, const selfmm_config *b, const char *what, const char *advice)
{
    cJSON *oa = config_object(a), *ob = config_object(b);
    int rc = oa && ob ? EXIT_OK : EXIT_FAIL;
    const cJSON *va;
    if (rc == EXIT_OK) cJSON_ArrayForEach(va, oa)
        {
            const cJSON *vb = cJSON_GetObjectItemCaseSensitive(ob, va->string);
            if (vb && cJSON_Compare(va, vb, 1)) continue;
            char *ta = cJSON_PrintUnformatted(va), *tb = vb ? cJSON_PrintUnformatted(vb) : NULL;
            rc = cli_fail(CMD, "%s has %s = %s, these settings give %s: %s", what, va->string, ta ? ta : "?",
                          tb ? tb : "?", advice);
            free(ta), free(tb);
            break;
        }
    cJSON_Delete(oa), cJSON_Delete(ob);
    return rc;
}

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap) return cli_fail(CMD, "%s: path too long", dir);
    return EXIT_OK;
}

static int save_text(const char *path, const char *text)
{
    selfmm_error err = {0};
    if (sm_atomic_write(path, text, strlen(text), &err) != SELFMM_OK)
        return cli_fail_status(CMD, err.status, err.message);
    return EXIT_OK;
}

static int save_json_obj(const char *path, cJSON *o)
{
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) return cli_fail(CMD, "%s: out of memory", path);
    size_t n = strlen(text);
    char *t = realloc(text, n + 2);
    if (!t) return free(text), cli_fail(CMD, "%s: out of memory", path);
    t[n] = '\n', t[n + 1] = '\0';
    int rc = save_text(path, t);
    free(t);
    return rc;
}

static cJSON *raw_number(const char *text) { return cJSON_CreateRaw(text); }

static int save_tune_json(const char *dir, const study *st)
{
    char path[SELFMM_PATH_MAX + 32], b[32];
    if (path_in(path, sizeof path, dir, "tune.json") != EXIT_OK) return EXIT_FAIL;
    cJSON *o = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(o, "keys");
    for (int i = 0; i < tune_n_d_paras; i++) cJSON_AddItemToArray(keys, cJSON_CreateString(tune_d_paras[i]));
    cJSON_AddNumberToObject(o, "trials", st->trials);
    snprintf(b, sizeof b, "%lld", st->seed);
    cJSON_AddItemToObject(o, "seed", raw_number(b));
    cJSON_AddStringToObject(o, "key_eval", KEY_EVAL);
    cJSON *seeds = cJSON_AddArrayToObject(o, "seeds");
    for (int i = 0; i < st->d.nseeds; i++) {
        snprintf(b, sizeof b, "%lld", st->d.seeds[i]);
        cJSON_AddItemToArray(seeds, raw_number(b));
    }
    cJSON_AddStringToObject(o, "data", st->d.data);
    cJSON_AddBoolToObject(o, "demo", st->d.demo);
    cJSON *nt = cJSON_AddObjectToObject(o, "not_tuned");
    cJSON_AddStringToObject(nt, "text_out", "BERT's hidden_size (the width of its output); not drawn by the reference");
    cJSON_AddStringToObject(nt, "t_bert_dropout", "drawn and recorded; the reference's model never reads it");
    cJSON_AddStringToObject(nt, "H", "in d_paras but given no value by the reference; the base config's");
    return save_json_obj(path, o);
}

/* tune.json of DIR into st (d, trials, seed); -1 when absent, EXIT_FAIL when bad. */
static int load_tune_json(const char *dir, study *st)
{
    char path[SELFMM_PATH_MAX + 32];
    if (path_in(path, sizeof path, dir, "tune.json") != EXIT_OK) return EXIT_FAIL;
    if (!sm_exists(path)) return -1;
    cJSON *o = NULL;
    selfmm_error err = {0};
    if (sm_json_read_file(path, &o, &err) != SELFMM_OK) return cli_fail_status(CMD, err.status, err.message);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(o, "keys"), *tr = cJSON_GetObjectItemCaseSensitive(o, "trials");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed"), *seeds = cJSON_GetObjectItemCaseSensitive(o, "seeds");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data"), *k;
    int ok = cJSON_IsArray(keys) && cJSON_GetArraySize(keys) == tune_n_d_paras && cJSON_IsNumber(tr) &&
             tr->valuedouble >= 1 && tr->valuedouble <= MAX_TRIALS && cJSON_IsNumber(seed) && seed->valuedouble >= 0 &&
             cJSON_IsArray(seeds) && cJSON_IsString(data) && strlen(data->valuestring) < sizeof st->d.data;
    int i = 0;
    if (ok) cJSON_ArrayForEach(k, keys) ok = ok && cJSON_IsString(k) && !strcmp(k->valuestring, tune_d_paras[i++]);
    memset(&st->d, 0, sizeof st->d);
    if (ok) {
        st->trials = st->old_trials = (int)tr->valuedouble;
        st->seed = (long long)seed->valuedouble;
        strcpy(st->d.data, data->valuestring);
        st->d.demo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "demo"));
        cJSON_ArrayForEach(k, seeds)
        {
            if (!cJSON_IsNumber(k) || k->valuedouble < 0 || st->d.nseeds >= RUN_MAX_SEEDS) {
                ok = 0;
                break;
            }
            for (int j = 0; j < st->d.nseeds; j++) ok = ok && st->d.seeds[j] != (long long)k->valuedouble;
            st->d.seeds[st->d.nseeds++] = (long long)k->valuedouble;
        }
        ok = ok && st->d.nseeds > 0;
    }
    cJSON_Delete(o);
    if (!ok) return cli_fail(CMD, "%s: not the description of a study of this version's search space", path);
    return EXIT_OK;
}

/* Config from the arguments: preset/config, BERT's config.json, flags, then --set. */
static int build_config(const tune_args *a, selfmm_config *cfg)
{
    char thr[32], ep[32], prec[32];
    char **sets = calloc((size_t)a->nsets + 4, sizeof *sets);
    if (!sets) return cli_fail(CMD, "out of memory");
    int n = 0;
    if (a->threads >= 0) snprintf(thr, sizeof thr, "threads=%d", a->threads), sets[n++] = thr;
    if (a->max_epochs >= 0) snprintf(ep, sizeof ep, "max_epochs=%d", a->max_epochs), sets[n++] = ep;
    if (a->precision) snprintf(prec, sizeof prec, "precision=%s", a->precision), sets[n++] = prec;
    for (int i = 0; i < a->nsets; i++) sets[n++] = a->sets[i];
    int rc;
    if (a->demo) {
        selfmm_demo_config(cfg);
        rc = cli_apply_sets(CMD, sets, n, cfg);
    } else {
        rc = cli_build_config(CMD, a->preset, a->config, a->bert, sets, n, cfg);
    }
    free(sets);
    return rc;
}

/* Refuse a precision this process cannot compute in; else note it and oneDNN's ISA for
 * every trial's run.json (with bf16 the bits depend on the ISA too). */
static int record_precision(study *st)
{
    if (cli_check_precision(CMD, (selfmm_precision)st->base.precision) != EXIT_OK) return EXIT_FAIL;
    snprintf(st->d.precision, sizeof st->d.precision, "%s",
             st->base.precision == SELFMM_PRECISION_BF16 ? "bf16" : "fp32");
    snprintf(st->d.isa, sizeof st->d.isa, "%s", selfmm_cpu_isa());
    return EXIT_OK;
}

/* Rank 0: the study's settings, from DIR (--resume) or the arguments; takes DIR. */
static int describe(const tune_args *a, const char *dir, study *st, sm_lockfile *lock)
{
    selfmm_error err = {0};
    memset(st, 0, sizeof *st);
    char path[SELFMM_PATH_MAX + 32];
    if (a->resume) {
        if (path_in(path, sizeof path, dir, "tune.json") != EXIT_OK) return EXIT_FAIL;
        if (!sm_exists(path)) return cli_fail(CMD, "%s: no tune.json: is this a `tune --out` folder?", dir);
        if (train_own_dir(CMD, dir, lock, a->quiet) != EXIT_OK || load_tune_json(dir, st) != EXIT_OK) return EXIT_FAIL;
        path_in(path, sizeof path, dir, "config.json");
        selfmm_config_default(&st->base);
        if (selfmm_config_load_json(&st->base, path, &err) != SELFMM_OK)
            return cli_fail_status(CMD, err.status, err.message);
        if (a->threads >= 0) st->base.threads = a->threads;
        st->existing = 1;
        return record_precision(st);
    }
    int rc = build_config(a, &st->base);
    if (rc != EXIT_OK) return rc;
    /* before the folder is made: a refused precision leaves nothing behind */
    if (record_precision(st) != EXIT_OK) return EXIT_FAIL;
    st->trials = a->trials;
    st->seed = a->seed;
    st->d.demo = a->demo;
    if (a->data && snprintf(st->d.data, sizeof st->d.data, "%s", a->data) >= (int)sizeof st->d.data)
        return cli_usage_error(CMD, "--data path too long");
    long long dup = 0;
    int ok = train_parse_seeds(a->seeds ? a->seeds : "1111", &st->d, &dup);
    if (ok < 0) return cli_usage_error(CMD, "--seeds: seed %lld is given twice", dup);
    if (!ok) return cli_usage_error(CMD, "--seeds expects numbers separated by commas, got '%s'", a->seeds);
    if (sm_mkdirs(dir, &err) != SELFMM_OK) return cli_fail_status(CMD, err.status, err.message);
    if (train_own_dir(CMD, dir, lock, a->quiet) != EXIT_OK) return EXIT_FAIL;
    study old;
    rc = load_tune_json(dir, &old);
    if (rc == EXIT_FAIL) return rc;
    if (rc < 0) { /* no study here: nor a train run */
        char what[64];
        int found = run_dir_find(dir, what, sizeof what);
        if (found < 0) return EXIT_FAIL;
        if (found)
            return cli_fail(CMD, "%s holds a run's files (%s) but no tune.json, so no study: tune into another --out",
                            dir, what);
        return EXIT_OK;
    }
    /* the same study, or a longer one */
    const char *advice = "continue it with the same settings (or --resume DIR), or tune into another --out";
    if (old.seed != st->seed)
        return cli_fail(CMD, "%s holds the study of --seed %lld, not %lld: %s", dir, old.seed, st->seed, advice);
    int same_seeds = old.d.nseeds == st->d.nseeds;
    for (int i = 0; same_seeds && i < st->d.nseeds; i++) same_seeds = old.d.seeds[i] == st->d.seeds[i];
    if (!same_seeds) return cli_fail(CMD, "%s holds a study with other --seeds: %s", dir, advice);
    if (old.d.demo != st->d.demo || strcmp(old.d.data, st->d.data))
        return cli_fail(CMD, "%s holds a study of %s, not %s: %s", dir, old.d.demo ? "the demo" : old.d.data,
                        st->d.demo ? "the demo" : st->d.data, advice);
    if (st->trials < old.trials)
        return cli_fail(CMD, "%s holds a study of %d trials: give --trials %d or more (or --resume %s)", dir,
                        old.trials, old.trials, dir);
    st->existing = 1;
    st->old_trials = old.trials;
    return EXIT_OK;
}

/* ---- trials ---- */

/* A finished trial's scores: the validation and test metrics as run_tune stores them,
 * round(sum over seeds * 100 / seeds, 2), in the reference's order (Loss last). */
typedef struct trial_score {
    int done;
    int count;
    char name[SELFMM_MAX_METRICS][32];
    double valid[SELFMM_MAX_METRICS], test[SELFMM_MAX_METRICS];
} trial_score;

static double run_tune_mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return selfmm_round(s * 100 / n, 2);
}

static int score_of(const seed_result *r, int n, trial_score *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->count = r[0].valid.count;
    if (!sc->count) return cli_fail(CMD, "seed %lld: no validation metrics in its result.json", r[0].seed);
    double v[RUN_MAX_SEEDS], t[RUN_MAX_SEEDS];
    for (int k = 0; k < sc->count; k++) {
        snprintf(sc->name[k], sizeof sc->name[k], "%s", r[0].valid.name[k]);
        for (int i = 0; i < n; i++) {
            v[i] = NAN, t[i] = NAN;
            for (int m = 0; m < r[i].valid.count; m++)
                if (!strcmp(r[i].valid.name[m], sc->name[k])) v[i] = r[i].valid.value[m];
            for (int m = 0; m < r[i].count; m++)
                if (!strcmp(r[i].name[m], sc->name[k])) t[i] = r[i].value[m];
        }
        sc->valid[k] = run_tune_mean(v, n);
        sc->test[k] = run_tune_mean(t, n);
    }
    sc->done = 1;
    return EXIT_OK;
}

static void trial_dir(char *out, size_t cap, const char *dir, int t) { snprintf(out, cap, "%s/trial-%03d", dir, t + 1); }

/* trial.json: the trial's number, its values of d_paras, its scores. */
static int save_trial_json(const char *tdir, int t, char (*values)[32], const trial_score *sc)
{
    char path[SELFMM_PATH_MAX + 64], b[32];
    snprintf(path, sizeof path, "%s/trial.json", tdir);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "trial", t + 1);
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    for (int i = 0; i < tune_n_d_paras; i++) cJSON_AddItemToObject(p, tune_d_paras[i], raw_number(values[i]));
    cJSON *v = cJSON_AddObjectToObject(o, "valid"), *ts = cJSON_AddObjectToObject(o, "test");
    for (int k = 0; k < sc->count; k++) {
        cJSON_AddItemToObject(v, sc->name[k], isfinite(sc->valid[k]) ? raw_number(cli_repr_double(b, sc->valid[k]))
                                                                     : cJSON_CreateNull());
        cJSON_AddItemToObject(ts, sc->name[k], isfinite(sc->test[k]) ? raw_number(cli_repr_double(b, sc->test[k]))
                                                                     : cJSON_CreateNull());
    }
    return save_json_obj(path, o);
}

/* 1: trial t is finished (its trial.json is there and holds values), 0: not, or
 * -1 (printed) when it holds another trial's values. */
static int load_trial_json(const char *tdir, int t, char (*values)[32], trial_score *sc)
{
    char path[SELFMM_PATH_MAX + 64], b[32];
    snprintf(path, sizeof path, "%s/trial.json", tdir);
    memset(sc, 0, sizeof *sc);
    if (!sm_exists(path)) return 0;
    cJSON *o = NULL;
    if (sm_json_read_file(path, &o, NULL) != SELFMM_OK) return 0; /* unreadable: train it again */
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params"), *tr = cJSON_GetObjectItemCaseSensitive(o, "trial");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "valid"), *ts = cJSON_GetObjectItemCaseSensitive(o, "test");
    int ok = cJSON_IsObject(p) && cJSON_IsObject(v) && cJSON_IsObject(ts) && cJSON_IsNumber(tr);
    int rc = EXIT_OK;
    for (int i = 0; ok && i < tune_n_d_paras; i++) { /* compared as numbers: 16 and 16.0 are one value */
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(p, tune_d_paras[i]);
        if (cJSON_IsNumber(x) && x->valuedouble == strtod(values[i], NULL)) continue;
        rc = cli_fail(CMD, "%s holds a trial with %s = %s, where trial %d of this study has %s: not this study's "
                           "(move it away, or tune into another --out)",
                      path, tune_d_paras[i], cJSON_IsNumber(x) ? cli_repr_double(b, x->valuedouble) : "?", t + 1,
                      values[i]);
        ok = 0;
    }
    if (ok && (int)tr->valuedouble != t + 1) ok = 0;
    const cJSON *x;
    if (ok) cJSON_ArrayForEach(x, v)
        {
            if (sc->count >= SELFMM_MAX_METRICS || strlen(x->string) >= sizeof sc->name[0]) break;
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(ts, x->string);
            snprintf(sc->name[sc->count], sizeof sc->name[0], "%s", x->string);
            sc->valid[sc->count] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
            sc->test[sc->count] = cJSON_IsNumber(y) ? y->valuedouble : NAN;
            sc->count++;
        }
    cJSON_Delete(o);
    if (rc == EXIT_FAIL) return -1;
    sc->done = ok && sc->count > 0;
    return sc->done;
}

/* The Loss in a score (NaN when absent). */
static double eval_of(const trial_score *sc)
{
    for (int k = 0; k < sc->count; k++)
        if (!strcmp(sc->name[k], KEY_EVAL)) return sc->valid[k];
    return NAN;
}

/* The best finished trial (lowest Loss as results.csv holds it; the first on ties, as
 * the report ranks them), -1 when none. */
static int best_trial(const trial_score *sc, int trials)
{
    int best = -1;
    for (int t = 0; t < trials; t++) {
        if (!sc[t].done || !isfinite(eval_of(&sc[t]))) continue;
        if (best < 0 || eval_of(&sc[t]) < eval_of(&sc[best])) best = t;
    }
    return best;
}

/* results.csv or test_results.csv over the finished trials. */
static int write_table(const char *dir, const char *name, const space *s, const int *draws, const selfmm_config *base,
                       const trial_score *sc, int trials, int test)
{
    char path[SELFMM_PATH_MAX + 32], b[32];
    if (path_in(path, sizeof path, dir, name) != EXIT_OK) return EXIT_FAIL;
    int first = 0;
    while (first < trials && !sc[first].done) first++;
    if (first == trials) return EXIT_OK;
    char *csv = NULL;
    size_t cap = 0;
    FILE *mem = open_memstream(&csv, &cap);
    if (!mem) return cli_fail(CMD, "out of memory");
    fputs("Trial", mem);
    for (int i = 0; i < tune_n_d_paras; i++) fprintf(mem, ",%s", tune_d_paras[i]);
    for (int k = 0; k < sc[first].count; k++) fprintf(mem, ",%s", sc[first].name[k]);
    fputc('\n', mem);
    char(*values)[32] = malloc(sizeof *values * (size_t)tune_n_d_paras);
    for (int t = 0; t < trials && values; t++) {
        if (!sc[t].done) continue;
        selfmm_config cfg;
        if (trial_config(s, draws + t * s->n, base, &cfg) != EXIT_OK) break;
        trial_values(s, draws + t * s->n, &cfg, values);
        fprintf(mem, "%d", t + 1);
        for (int i = 0; i < tune_n_d_paras; i++) fprintf(mem, ",%s", values[i]);
        for (int k = 0; k < sc[first].count; k++) { /* in the first's order */
            double v = NAN;
            for (int m = 0; m < sc[t].count; m++)
                if (!strcmp(sc[t].name[m], sc[first].name[k])) v = test ? sc[t].test[m] : sc[t].valid[m];
            fprintf(mem, ",%s", isfinite(v) ? cli_repr_double(b, v) : "");
        }
        fputc('\n', mem);
    }
    fclose(mem);
    int rc = values ? save_text(path, csv) : cli_fail(CMD, "out of memory");
    free(values);
    free(csv);
    return rc;
}

/* Rank 0: results.csv, test_results.csv and best_config.json from the finished trials. */
static int write_tables(const char *dir, const space *s, const int *draws, const selfmm_config *base,
                        const trial_score *sc, int trials)
{
    if (write_table(dir, "results.csv", s, draws, base, sc, trials, 0) != EXIT_OK ||
        write_table(dir, "test_results.csv", s, draws, base, sc, trials, 1) != EXIT_OK)
        return EXIT_FAIL;
    int best = best_trial(sc, trials);
    if (best < 0) return EXIT_OK;
    char from[SELFMM_PATH_MAX + 64], to[SELFMM_PATH_MAX + 32];
    trial_dir(from, sizeof from, dir, best);
    strcat(from, "/config.json");
    if (path_in(to, sizeof to, dir, "best_config.json") != EXIT_OK) return EXIT_FAIL;
    selfmm_error err = {0};
    if (sm_atomic_copy(from, to, &err) != SELFMM_OK) return cli_fail_status(CMD, err.status, err.message);
    return EXIT_OK;
}

/* Rank 0: every trial's state on disk. */
static int scan_trials(const char *dir, const space *s, const int *draws, const selfmm_config *base,
                       trial_score *sc, int trials)
{
    char(*values)[32] = malloc(sizeof *values * (size_t)tune_n_d_paras);
    if (!values) return cli_fail(CMD, "out of memory");
    int rc = EXIT_OK;
    for (int t = 0; t < trials && rc == EXIT_OK; t++) {
        char tdir[SELFMM_PATH_MAX + 32];
        trial_dir(tdir, sizeof tdir, dir, t);
        selfmm_config cfg;
        rc = trial_config(s, draws + t * s->n, base, &cfg);
        if (rc != EXIT_OK) break;
        trial_values(s, draws + t * s->n, &cfg, values);
        if (load_trial_json(tdir, t, values, &sc[t]) < 0) rc = EXIT_FAIL;
    }
    free(values);
    return rc;
}

typedef struct job {
    const char *dir;
    const study *st;
    const space *s;
    const int *draws;
    selfmm_dataset *data;
    const selfmm_collectives *group; /* the ranks of this trial (NULL: this process) */
    int quiet;
} job;

/* Trial t over the group: its folder set up (or continued), the train study, then
 * trial.json. The group's leader writes the folder and holds its lock. */
static int run_trial(const job *j, int t, trial_score *sc)
{
    const int leader = !j->group || j->group->rank == 0;
    const study *st = j->st;
    char tdir[SELFMM_PATH_MAX + 32], path[SELFMM_PATH_MAX + 64];
    trial_dir(tdir, sizeof tdir, j->dir, t);
    selfmm_config cfg;
    int rc = trial_config(j->s, j->draws + t * j->s->n, &st->base, &cfg);
    if (rc != EXIT_OK) return rc;
    sm_lockfile lock;
    sm_lockfile_init(&lock);
    int resume = 0;
    if (leader) {
        selfmm_error err = {0};
        snprintf(path, sizeof path, "%s/run.json", tdir);
        if (sm_mkdirs(tdir, &err) != SELFMM_OK) rc = cli_fail_status(CMD, err.status, err.message);
        if (rc == EXIT_OK) rc = train_own_dir(CMD, tdir, &lock, j->quiet);
        if (rc == EXIT_OK) { /* the temp files of trial.json too */
            char tj[SELFMM_PATH_MAX + 64];
            snprintf(tj, sizeof tj, "%s/trial.json", tdir);
            if (sm_atomic_remove_stale(tj, NULL, &err) != SELFMM_OK) rc = cli_fail_status(CMD, err.status, err.message);
        }
        if (rc == EXIT_OK && sm_exists(path)) { /* interrupted: continue it, if it is this trial */
            selfmm_config had;
            char cpath[SELFMM_PATH_MAX + 64];
            snprintf(cpath, sizeof cpath, "%s/config.json", tdir);
            selfmm_config_default(&had);
            if (selfmm_config_load_json(&had, cpath, &err) != SELFMM_OK) {
                rc = cli_fail_status(CMD, err.status, err.message);
            } else {
                char what[SELFMM_PATH_MAX + 160];
                snprintf(what, sizeof what, "%s (trial %d, interrupted)", cpath, t + 1);
                rc = same_config(&had, &cfg, what, "not this study's trial: move it away, or tune into another --out");
            }
            resume = 1;
        } else if (rc == EXIT_OK) { /* new, or killed before its run.json: start it */
            if (run_dir_clear(tdir) != 0) rc = EXIT_FAIL;
            snprintf(path, sizeof path, "%s/config.json", tdir);
            if (rc == EXIT_OK && selfmm_config_save_json(&cfg, path, &err) != SELFMM_OK)
                rc = cli_fail_status(CMD, err.status, err.message);
            if (rc == EXIT_OK && run_desc_save(tdir, &st->d) != 0) rc = EXIT_FAIL;
        }
    }
    struct {
        int rc, resume;
    } m = {rc, resume};
    if (train_share(CMD, j->group, &m, sizeof m) != EXIT_OK) m.rc = EXIT_FAIL;
    if (m.rc != EXIT_OK) {
        sm_dir_unlock(&lock);
        return leader ? m.rc : (cli_mpi_quiet(), m.rc);
    }
    seed_result *results = calloc(RUN_MAX_SEEDS, sizeof *results);
    if (!results) return sm_dir_unlock(&lock), cli_fail(CMD, "out of memory");
    const train_study ts = {.cmd = CMD, .dir = tdir, .cfg = &cfg, .d = &st->d, .data = j->data,
                            .resume = m.resume, .ranks = j->group, .quiet = j->quiet};
    rc = train_study_run(&ts, results);
    if (rc == EXIT_OK) rc = score_of(results, st->d.nseeds, sc);
    if (rc == EXIT_OK && leader) {
        char(*values)[32] = malloc(sizeof *values * (size_t)tune_n_d_paras);
        if (!values) rc = cli_fail(CMD, "out of memory");
        else {
            trial_values(j->s, j->draws + t * j->s->n, &cfg, values);
            rc = save_trial_json(tdir, t, values, sc);
        }
        free(values);
    }
    free(results);
    sm_dir_unlock(&lock);
    return rc;
}

/* Progress: the trial just finished and the best so far (of those this process knows). */
static void say_trial(const study *st, int t, const trial_score *sc, const trial_score *all, int best)
{
    char a[32], b[32];
    fprintf(stderr, "selfmm-cli tune: %strial %d/%d: valid %s %s", cli_mpi_tag(), t + 1, st->trials, KEY_EVAL,
            cli_repr_double(a, eval_of(sc)));
    if (best >= 0)
        fprintf(stderr, " | best so far: trial %d, %s %s\n", best + 1, KEY_EVAL, cli_repr_double(b, eval_of(&all[best])));
    else fputc('\n', stderr);
}

/* --plan: the trials of these settings, as results.csv's first columns. */
static int plan(const tune_args *a)
{
    selfmm_config base;
    space s;
    space_init(&s);
    int rc = build_config(a, &base);
    int *draws = rc == EXIT_OK ? calloc((size_t)a->trials * (size_t)s.n, sizeof *draws) : NULL;
    char(*values)[32] = malloc(sizeof *values * (size_t)tune_n_d_paras);
    if (rc == EXIT_OK && (!draws || !values)) rc = cli_fail(CMD, "out of memory");
    if (rc == EXIT_OK) rc = draw_trials(&s, (uint64_t)a->seed, a->trials, draws);
    if (rc == EXIT_OK) {
        fputs("Trial", stdout);
        for (int i = 0; i < tune_n_d_paras; i++) printf(",%s", tune_d_paras[i]);
        putchar('\n');
    }
    for (int t = 0; t < a->trials && rc == EXIT_OK; t++) {
        selfmm_config cfg;
        if ((rc = trial_config(&s, draws + t * s.n, &base, &cfg)) != EXIT_OK) break;
        trial_values(&s, draws + t * s.n, &cfg, values);
        printf("%d", t + 1);
        for (int i = 0; i < tune_n_d_paras; i++) printf(",%s", values[i]);
        putchar('\n');
    }
    free(draws), free(values);
    return rc;
}

static int tune(int argc, char **argv, sm_lockfile *lock)
{
    tune_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK || a.space || a.plan) {
        if (rc == EXIT_OK && a.space && cli_mpi_is_writer()) tune_space_print(stdout);
        if (rc == EXIT_OK && a.plan && cli_mpi_is_writer()) rc = plan(&a);
        free(a.sets);
        return rc < 0 ? EXIT_OK : rc;
    }
    const char *dir = a.resume ? a.resume : a.out;
    const selfmm_collectives *world = cli_mpi_world();
    const int writer = cli_mpi_is_writer();
    study *st = calloc(1, sizeof *st);
    if (!st) return free(a.sets), cli_fail(CMD, "out of memory");
    /* rank 0 reads the settings and takes DIR; every rank gets them */
    struct {
        int rc;
        study st;
    } *msg = calloc(1, sizeof *msg);
    rc = msg ? EXIT_OK : cli_fail(CMD, "out of memory");
    if (rc == EXIT_OK && writer) rc = describe(&a, dir, st, lock);
    free(a.sets);
    if (msg) {
        msg->rc = rc;
        if (writer && rc == EXIT_OK) msg->st = *st;
        if (train_share(CMD, world, msg, sizeof *msg) != EXIT_OK) rc = EXIT_FAIL;
        else if ((rc = msg->rc) == EXIT_OK) *st = msg->st;
        else if (!writer) cli_mpi_quiet();
        free(msg);
    }
    selfmm_dataset *data = NULL;
    space s;
    space_init(&s);
    int *draws = NULL, *pending = NULL, npending = 0;
    trial_score *sc = NULL;
    if (rc == EXIT_OK) rc = train_set_threads(CMD, &st->base);
    if (rc == EXIT_OK) rc = train_load_data(CMD, &st->d, &st->base, &data);
    if (rc == EXIT_OK && !a.resume) rc = train_adopt_widths(CMD, &st->base, data);
    if (rc == EXIT_OK) {
        draws = calloc((size_t)st->trials * (size_t)s.n, sizeof *draws);
        sc = calloc((size_t)st->trials, sizeof *sc);
        pending = calloc((size_t)st->trials + 1, sizeof *pending);
        rc = draws && sc && pending ? draw_trials(&s, (uint64_t)st->seed, st->trials, draws)
                                    : cli_fail(CMD, "out of memory");
    }
    /* rank 0: the study's files, or the check that DIR holds this study; then which
     * trials are left */
    if (rc == EXIT_OK && writer) {
        char path[SELFMM_PATH_MAX + 32];
        selfmm_error err = {0};
        path_in(path, sizeof path, dir, "config.json");
        const int have_config = sm_exists(path);
        if (st->existing && have_config && !a.resume) { /* the arguments' base config against the study's */
            selfmm_config had;
            selfmm_config_default(&had);
            if (selfmm_config_load_json(&had, path, &err) != SELFMM_OK)
                rc = cli_fail_status(CMD, err.status, err.message);
            else
                rc = same_config(&had, &st->base, path,
                                 "another study's base config: continue it with the same settings (or --resume "
                                 "DIR), or tune into another --out");
        } else if (a.resume && !have_config) {
            rc = cli_fail(CMD, "%s: missing; the study cannot be continued", path);
        }
        /* tune.json first: with it the folder is a study, whatever else a kill left */
        if (rc == EXIT_OK && (!st->existing || st->trials != st->old_trials)) rc = save_tune_json(dir, st);
        if (rc == EXIT_OK && !have_config && selfmm_config_save_json(&st->base, path, &err) != SELFMM_OK)
            rc = cli_fail_status(CMD, err.status, err.message);
        if (rc == EXIT_OK && st->d.demo) { /* the demo's data, for train --config, test, predict */
            path_in(path, sizeof path, dir, "data.npz");
            if (!sm_exists(path) && selfmm_dataset_save_npz(data, path) != SELFMM_OK)
                rc = cli_fail(CMD, "%s", selfmm_dataset_errmsg(data));
        }
        if (rc == EXIT_OK) rc = scan_trials(dir, &s, draws, &st->base, sc, st->trials);
        if (rc == EXIT_OK) {
            int done = 0;
            for (int t = 0; t < st->trials; t++)
                if (!sc[t].done) pending[npending++] = t;
                else done++;
            if (!a.quiet && st->existing && done)
                fprintf(stderr, "selfmm-cli tune: %d of %d trials finished before; %d to go\n", done, st->trials,
                        npending);
        }
    }
    if (world && draws) { /* everyone: rc, the base config (its widths) and the trials left */
        struct {
            int rc, n;
            selfmm_config base;
        } m = {rc, npending, st->base};
        if (train_share(CMD, world, &m, sizeof m) != EXIT_OK) m.rc = EXIT_FAIL;
        if (!writer && m.rc != EXIT_OK) cli_mpi_quiet();
        rc = m.rc;
        st->base = m.base;
        npending = m.n;
        if (rc == EXIT_OK && train_share(CMD, world, pending, sizeof *pending * (size_t)(npending + 1)) != EXIT_OK)
            rc = EXIT_FAIL;
    }
    /* Who trains which trial: group g of G contiguous ranks the g-th, (g + G)-th, ...
     * trial left. */
    const selfmm_collectives *group = world;
    selfmm_collectives group_table;
    int groups = 1, color = 0;
    if (rc == EXIT_OK && world && npending > 0) {
        groups = npending < world->size ? npending : world->size;
        color = (int)((long long)world->rank * groups / world->size);
        rc = train_check_shared_dir(CMD, dir, "tune under mpirun");
        if (rc == EXIT_OK) rc = cli_mpi_split(color, &group_table);
        if (rc == EXIT_OK) group = group_table.size > 1 ? &group_table : NULL;
    }
    cli_install_logger(SELFMM_LOG_WARN);
    const job j = {.dir = dir, .st = st, .s = &s, .draws = draws, .data = data, .group = group, .quiet = a.quiet};
    const int leader = !group || group->rank == 0;
    for (int i = 0; i < npending && rc == EXIT_OK; i++) {
        if (i % groups != color) continue;
        const int t = pending[i];
        if (leader && !a.quiet)
            fprintf(stderr, "selfmm-cli tune: %strial %d/%d (trial-%03d)\n", cli_mpi_tag(), t + 1, st->trials, t + 1);
        rc = run_trial(&j, t, &sc[t]);
        if (rc != EXIT_OK) break;
        if (writer) { /* what has finished so far, on disk (other groups' trials too) */
            rc = scan_trials(dir, &s, draws, &st->base, sc, st->trials);
            if (rc == EXIT_OK) rc = write_tables(dir, &s, draws, &st->base, sc, st->trials);
        }
        if (leader && !a.quiet) say_trial(st, t, &sc[t], sc, best_trial(sc, st->trials));
    }
    selfmm_dataset_free(data);
    if (rc == EXIT_OK && groups > 1) { /* every group has finished (a failed one has ended the job) */
        int one = 1, *all = calloc((size_t)world->size, sizeof *all);
        if (!all || world->allgather(&one, sizeof one, all, world->user) != 0) rc = cli_fail(CMD, "allgather failed");
        free(all);
    }
    if (rc == EXIT_OK && writer) {
        rc = scan_trials(dir, &s, draws, &st->base, sc, st->trials);
        if (rc == EXIT_OK) rc = write_tables(dir, &s, draws, &st->base, sc, st->trials);
        if (rc == EXIT_OK) {
            char m[SELFMM_PATH_MAX + 256];
            if (report_write(dir, NULL, m, sizeof m) != 0)
                fprintf(stderr, "selfmm-cli tune: warning: report.html not written: %s\n", m);
            int best = best_trial(sc, st->trials);
            char v[32];
            if (best >= 0)
                printf("best trial %d of %d: valid %s %s (%s/trial-%03d, %s/best_config.json)\n", best + 1, st->trials,
                       KEY_EVAL, cli_repr_double(v, eval_of(&sc[best])), dir, best + 1, dir);
            if (!a.quiet) fprintf(stderr, "selfmm-cli tune: results in %s\n", dir);
        }
    }
    free(draws), free(sc), free(pending), free(st);
    return rc;
}

int cmd_tune(int argc, char **argv)
{
    return train_with_lock(tune, argc, argv);
}
