/* cmd_train.c -- `selfmm-cli train`: one run per seed with selfmm_fit, then the
 * study summary (MMSA's mean and std x100) and the files of the --out directory. */
#include "commands.h"
#include "common.h"
#include "progress.h"
#include "report.h"
#include "run_files.h"

#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/file.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: selfmm-cli train [--preset NAME | --config FILE] --data PATH [--bert DIR]\n"
        "                        --out DIR [--seeds LIST] [--threads N] [--max-epochs N]\n"
        "                        [--no-shuffle] [--init MODEL] [--set key=value]...\n"
        "                        [--save-labels] [--overwrite] [--quiet]\n"
        "       selfmm-cli train --resume DIR [--threads N] [--quiet]\n"
        "       selfmm-cli train --demo [--out DIR] [--seeds LIST] [--set key=value]... [--overwrite]\n\n"
        "Train Self-MM as the reference does (docs/MODEL.md §3): one run per seed, early\n"
        "stopping on the validation Loss, test metrics of the best weights.\n\n"
        "  --preset NAME     sims, mosi, mosei, mmsa-sims, mmsa-mosi, mmsa-mosei (default sims)\n"
        "  --config FILE     JSON config (see `selfmm-cli config`)\n"
        "  --data PATH       MMSA pickle (.pkl) or .npz dataset\n"
        "  --bert DIR        HuggingFace BERT folder: its config.json and pretrained weights;\n"
        "                    its vocab.txt is kept in the model (predict --text)\n"
        "  --out DIR         output directory (created); one run at a time: a run holds it\n"
        "                    (DIR/.selfmm.lock) until it ends\n"
        "  --overwrite       replace the run already in --out (its files only; other files stay)\n"
        "  --seeds LIST      comma-separated seeds, e.g. 1111,1112,1113,1114,1115 (default: the\n"
        "                    config's seed)\n"
        "  --threads N       threads for OpenBLAS and oneDNN together (0 = all CPUs)\n"
        "  --max-epochs N    stop after N epochs at the latest (0 = early stopping only)\n"
        "  --no-shuffle      keep the training set in order\n"
        "  --init MODEL      start from a model (native .safetensors or reference .pth) instead\n"
        "                    of a fresh model with BERT from --bert\n"
        "  --set key=value   override one config key (repeatable), e.g. --set batch_size=8;\n"
        "                    BERT's dropouts: hidden_dropout_prob, attention_probs_dropout_prob\n"
        "  --save-labels     write the generated unimodal labels after each epoch (labels.jsonl)\n"
        "  --resume DIR      continue an interrupted run in DIR; finishes exactly as an\n"
        "                    uninterrupted run would (a finished one is only summarised again)\n"
        "  --demo            the embedded demo: a generated SIMS-shaped dataset and a small model\n"
        "                    (default --out runs/demo)\n"
        "  --quiet           no progress output\n\n"
        "In DIR: model.safetensors (best run), metrics.json, results.csv, train_log.jsonl,\n"
        "report.html (charts of the run; see `selfmm-cli report`),\n"
        "labels.jsonl (with --save-labels), config.json, run.json, and seed-<s>/ per run\n"
        "(its checkpoint, best model and logs); the demo also writes its data as data.npz.\n");
}

typedef struct train_args {
    const char *preset, *config, *data, *bert, *out, *init, *resume, *seeds;
    char **sets;
    int nsets;
    int threads, max_epochs, no_shuffle, save_labels, demo, quiet, overwrite;
} train_args;

/* 1: the seeds, 0: not a list of numbers, -1: *dup is given twice. */
static int parse_seeds(const char *s, run_desc *d, long long *dup)
{
    d->nseeds = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || d->nseeds >= RUN_MAX_SEEDS) return 0;
        for (int i = 0; i < d->nseeds; i++) /* one folder per seed: a repeat would share it */
            if (d->seeds[i] == v) return *dup = v, -1;
        d->seeds[d->nseeds++] = v;
        if (*end == ',') end++;
        else if (*end) return 0;
        p = end;
    }
    return d->nseeds > 0;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'},  {"config", required_argument, 0, 'c'},
        {"data", required_argument, 0, 'd'},    {"bert", required_argument, 0, 'b'},
        {"out", required_argument, 0, 'o'},     {"seeds", required_argument, 0, 'S'},
        {"threads", required_argument, 0, 't'}, {"max-epochs", required_argument, 0, 'm'},
        {"no-shuffle", no_argument, 0, 'n'},    {"init", required_argument, 0, 'i'},
        {"set", required_argument, 0, 's'},     {"save-labels", no_argument, 0, 'l'},
        {"resume", required_argument, 0, 'r'},  {"demo", no_argument, 0, 'D'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"overwrite", no_argument, 0, 'O'},     {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->threads = a->max_epochs = -1;
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    if (!a->sets) return cli_fail("train", "out of memory");
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
        case 't':
            if (!cli_parse_int(optarg, &a->threads) || a->threads < 0 || a->threads > 1024)
                return cli_usage_error("train", "--threads expects a number in [0, 1024], got '%s'", optarg);
            break;
        case 'm':
            if (!cli_parse_int(optarg, &a->max_epochs) || a->max_epochs < 0)
                return cli_usage_error("train", "--max-epochs expects a number >= 0, got '%s'", optarg);
            break;
        case 'n': a->no_shuffle = 1; break;
        case 'i': a->init = optarg; break;
        case 's': a->sets[a->nsets++] = optarg; break;
        case 'l': a->save_labels = 1; break;
        case 'r': a->resume = optarg; break;
        case 'D': a->demo = 1; break;
        case 'q': a->quiet = 1; break;
        case 'O': a->overwrite = 1; break;
        case 'h': help(); return -1;
        default: return cli_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (a->resume) {
        if (a->preset || a->config || a->data || a->bert || a->out || a->init || a->seeds ||
            a->nsets || a->max_epochs >= 0 || a->no_shuffle || a->save_labels || a->demo || a->overwrite)
            return cli_usage_error("train", "--resume DIR takes the run's settings from DIR; only "
                                            "--threads and --quiet may be given with it");
        return EXIT_OK;
    }
    if (a->demo) {
        if (a->data || a->preset || a->config || a->init || a->bert)
            return cli_usage_error("train", "--demo generates its data and model: drop --data, "
                                            "--preset, --config, --bert and --init");
        if (!a->out) a->out = "runs/demo";
        return EXIT_OK;
    }
    if (!a->data) return cli_usage_error("train", "--data PATH is required");
    if (!a->out) return cli_usage_error("train", "--out DIR is required");
    return EXIT_OK;
}

/* Config from the arguments: preset/config, BERT's config.json, flags, then --set. */
static int build_config(const train_args *a, selfmm_config *cfg)
{
    char thr[32], ep[32];
    char **sets = calloc((size_t)a->nsets + 3, sizeof *sets);
    if (!sets) return cli_fail("train", "out of memory");
    int n = 0;
    if (a->threads >= 0) snprintf(thr, sizeof thr, "threads=%d", a->threads), sets[n++] = thr;
    if (a->max_epochs >= 0) snprintf(ep, sizeof ep, "max_epochs=%d", a->max_epochs), sets[n++] = ep;
    if (a->no_shuffle) sets[n++] = "shuffle=false";
    for (int i = 0; i < a->nsets; i++) sets[n++] = a->sets[i];
    int rc;
    if (a->demo) {
        selfmm_demo_config(cfg);
        rc = cli_apply_sets("train", sets, n, cfg);
    } else {
        rc = cli_build_config("train", a->preset, a->config, a->bert, sets, n, cfg);
    }
    free(sets);
    return rc;
}

/* The model takes the data's feature widths. A preset's audio_dim / video_dim are
 * those of the real dataset, which a user's data or an --init model made for other
 * data need not have; an --init file is then checked tensor by tensor against these
 * widths when it is loaded, and a model for other widths is refused there, with the
 * config keys its shapes depend on. */
static int adopt_widths(selfmm_config *cfg, selfmm_dataset *data)
{
    selfmm_split_view v;
    if (selfmm_dataset_split(data, SELFMM_SPLIT_TRAIN, &v) != SELFMM_OK)
        return cli_fail("train", "%s", selfmm_dataset_errmsg(data));
    if (v.audio_dim == cfg->audio_dim && v.vision_dim == cfg->video_dim) return EXIT_OK;
    fprintf(stderr, "selfmm-cli train: feature widths from the data: audio_dim %d, video_dim %d\n",
            v.audio_dim, v.vision_dim);
    cfg->audio_dim = v.audio_dim;
    cfg->video_dim = v.vision_dim;
    return EXIT_OK;
}

/* The tokenizer a saved model keeps for raw text (predict --text): the one of the
 * BERT folder (--bert, or the run's bert_path on --resume), or the demo's
 * vocabulary. Without one the model still trains; it then takes only datasets. */
static void attach_tokenizer(selfmm_model *m, const selfmm_config *cfg, const run_desc *d)
{
    static int warned;
    selfmm_error err = {0};
    selfmm_tokenizer *tok = NULL;
    selfmm_status st;
    if (d->demo) st = selfmm_demo_tokenizer(&tok, &err);
    else if (cfg->bert_path[0]) st = selfmm_tokenizer_load(cfg->bert_path, NULL, &tok, &err);
    else return;
    if (st == SELFMM_OK && selfmm_model_set_tokenizer(m, tok) != SELFMM_OK) {
        st = SELFMM_ERR_SHAPE;
        snprintf(err.message, sizeof err.message, "%s", selfmm_model_errmsg(m));
    }
    selfmm_tokenizer_free(tok);
    if (st != SELFMM_OK && !warned++)
        fprintf(stderr, "selfmm-cli train: warning: no tokenizer kept in the model (predict --text "
                        "will not work): %s\n", err.message);
}

/* A model for one seed: fresh (BERT from --bert when given), from --init, or, when
 * the seed has a checkpoint to resume from, empty (selfmm_fit loads every weight
 * from the checkpoint). Nothing is initialised that a load overwrites next. */
static int make_model(const selfmm_config *cfg, const run_desc *d, int from_checkpoint, selfmm_model **out)
{
    selfmm_error err = {0};
    selfmm_model *m;
    const selfmm_init_mode init = from_checkpoint || d->init[0] ? SELFMM_INIT_NONE
                                  : cfg->bert_path[0]         ? SELFMM_INIT_ALL_BUT_BERT
                                                              : SELFMM_INIT_ALL;
    if (selfmm_model_create_ex(cfg, init, &m, &err) != SELFMM_OK)
        return cli_fail_status("train", err.status, err.message);
    selfmm_status st = SELFMM_OK;
    if (from_checkpoint) {
    } else if (d->init[0]) {
        st = cli_is_pth(d->init) ? selfmm_model_import_pth(m, d->init) : selfmm_model_load_weights(m, d->init);
    } else if (cfg->bert_path[0]) {
        st = selfmm_model_load_bert(m, cfg->bert_path);
    } else if (!d->demo) {
        fprintf(stderr, "selfmm-cli train: warning: no --bert and no --init: BERT starts from "
                        "random weights\n");
    }
    if (st != SELFMM_OK) {
        int rc = cli_fail_status("train", st, selfmm_model_errmsg(m));
        selfmm_model_free(m);
        return rc;
    }
    attach_tokenizer(m, cfg, d);
    *out = m;
    return EXIT_OK;
}

/* One seed: train (or resume), then record its result. */
static int run_seed(const char *dir, const selfmm_config *base, const run_desc *d,
                    selfmm_dataset *data, int resume, progress *prog, seed_result *res)
{
    char sdir[SELFMM_PATH_MAX + 32], rpath[SELFMM_PATH_MAX + 64];
    snprintf(sdir, sizeof sdir, "%s/seed-%lld", dir, res->seed);
    snprintf(rpath, sizeof rpath, "%s/result.json", sdir);
    int have = seed_result_load(rpath, base, res);
    if (have < 0) return EXIT_FAIL;
    if (have > 0) return EXIT_OK; /* finished before the interruption */
    selfmm_config cfg = *base;
    cfg.seed = res->seed;
    selfmm_model *model = NULL;
    char ckpt[SELFMM_PATH_MAX + 64];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", sdir);
    int rc = make_model(&cfg, d, resume && sm_exists(ckpt), &model);
    if (rc != EXIT_OK) return rc;
    selfmm_fit_options fo = {.out_dir = sdir, .resume = resume, .save_labels = d->save_labels,
                             .callback = progress_event, .user = prog};
    selfmm_fit_result fr;
    selfmm_error err = {0};
    selfmm_status st = selfmm_fit(model, data, &fo, &fr, &err);
    progress_done(prog);
    selfmm_model_free(model);
    if (st != SELFMM_OK) return cli_fail_status("train", st, err.message);
    res->epochs = fr.epochs;
    res->best_epoch = fr.best_epoch;
    res->best_valid_loss = fr.best_valid_loss;
    seed_result_fill(res, &fr.test, fr.test_loss, &cfg);
    return seed_result_save(rpath, res) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Own dir for the whole run (core/dir_lock.h): a second run into it fails here,
 * at once, naming the holder. Then clear what a killed write left behind. */
static int own_dir(const char *dir, sm_lockfile *lock, int quiet)
{
    selfmm_error err = {0};
    if (sm_dir_lock(dir, lock, &err) != SELFMM_OK) /* the message says it all */
        return err.status == SELFMM_ERR_STATE ? cli_fail("train", "%s", err.message)
                                              : cli_fail_status("train", err.status, err.message);
    int removed = 0;
    if (run_dir_remove_stale(dir, &removed) != 0) return EXIT_FAIL;
    if (removed && !quiet)
        fprintf(stderr, "selfmm-cli train: removed %d temp file%s of writes interrupted in %s\n", removed,
                removed > 1 ? "s" : "", dir);
    return EXIT_OK;
}

/* A new run goes into a folder without one, or replaces it with --overwrite. */
static int check_fresh(const char *dir, int overwrite, int *found)
{
    char what[64];
    *found = run_dir_find(dir, what, sizeof what);
    if (*found < 0) return EXIT_FAIL;
    if (*found && !overwrite)
        return cli_fail("train", "%s already holds a run (%s): continue it with --resume %s, train into "
                                 "another --out, or replace it with --overwrite", dir, what, dir);
    return EXIT_OK;
}

static int train(int argc, char **argv, sm_lockfile *lock)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK) {
        free(a.sets);
        return rc < 0 ? EXIT_OK : rc;
    }
    run_desc d = {0};
    selfmm_config cfg;
    selfmm_error err = {0};
    const char *dir = a.resume ? a.resume : a.out;
    char cfg_path[SELFMM_PATH_MAX + 32], run_path[SELFMM_PATH_MAX + 32];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    snprintf(run_path, sizeof run_path, "%s/run.json", dir);
    int found = 0;
    if (a.resume) {
        /* (no run.json: no run to lock; run_desc_load says so) */
        if (sm_exists(run_path) && own_dir(dir, lock, a.quiet) != EXIT_OK) return free(a.sets), EXIT_FAIL;
        if (run_desc_load(dir, &d) != 0) return free(a.sets), EXIT_FAIL;
        selfmm_config_default(&cfg);
        if (selfmm_config_load_json(&cfg, cfg_path, &err) != SELFMM_OK)
            return free(a.sets), cli_fail_status("train", err.status, err.message);
        if (a.threads >= 0) cfg.threads = a.threads;
    } else {
        rc = build_config(&a, &cfg);
        if (rc != EXIT_OK) return free(a.sets), rc;
        d.demo = a.demo;
        d.save_labels = a.save_labels;
        if (a.data && snprintf(d.data, sizeof d.data, "%s", a.data) >= (int)sizeof d.data)
            return free(a.sets), cli_usage_error("train", "--data path too long");
        if (a.init && snprintf(d.init, sizeof d.init, "%s", a.init) >= (int)sizeof d.init)
            return free(a.sets), cli_usage_error("train", "--init path too long");
        if (a.seeds) {
            long long dup = 0;
            int ok = parse_seeds(a.seeds, &d, &dup);
            if (ok < 0)
                return free(a.sets), cli_usage_error("train", "--seeds: seed %lld is given twice (each "
                                                              "seed is one run, in seed-%lld/)", dup, dup);
            if (!ok)
                return free(a.sets), cli_usage_error("train", "--seeds expects numbers separated by "
                                                              "commas, got '%s'", a.seeds);
        } else {
            d.nseeds = 1;
            d.seeds[0] = cfg.seed;
        }
        if (sm_mkdirs(dir, &err) != SELFMM_OK) return free(a.sets), cli_fail_status("train", err.status, err.message);
        if (own_dir(dir, lock, a.quiet) != EXIT_OK || check_fresh(dir, a.overwrite, &found) != EXIT_OK)
            return free(a.sets), EXIT_FAIL;
    }
    free(a.sets);
    if (selfmm_set_threads(cfg.threads, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message);
    selfmm_set_fsync(cfg.fsync);

    selfmm_dataset *data = NULL;
    selfmm_status st;
    if (d.demo) st = selfmm_demo_dataset((uint64_t)cfg.seed, &data, &err);
    else {
        selfmm_data_options dopt = {.nan_to_zero = cfg.nan_to_zero, .clamp_lengths = cfg.clamp_lengths};
        st = selfmm_dataset_load(d.data, &dopt, &data, &err);
    }
    if (st != SELFMM_OK) return cli_fail_status("train", st, err.message);
    if (!a.resume) {
        rc = adopt_widths(&cfg, data);
        /* the old run goes once the new one has its data: a bad --data replaces nothing */
        if (rc == EXIT_OK && found && run_dir_clear(dir) != 0) rc = EXIT_FAIL;
        if (rc == EXIT_OK && selfmm_config_save_json(&cfg, cfg_path, &err) != SELFMM_OK)
            rc = cli_fail_status("train", err.status, err.message);
        if (rc == EXIT_OK && run_desc_save(dir, &d) != 0) rc = EXIT_FAIL;
        if (rc == EXIT_OK && d.demo) { /* keep the generated data for test/predict/info */
            char npz[SELFMM_PATH_MAX + 32];
            snprintf(npz, sizeof npz, "%s/data.npz", dir);
            if (selfmm_dataset_save_npz(data, npz) != SELFMM_OK)
                rc = cli_fail("train", "%s", selfmm_dataset_errmsg(data));
        }
        if (rc != EXIT_OK) {
            selfmm_dataset_free(data);
            return rc;
        }
    }
    cli_install_logger(SELFMM_LOG_WARN);
    progress prog;
    progress_init(&prog, a.quiet);
    seed_result results[RUN_MAX_SEEDS];
    memset(results, 0, sizeof results);
    for (int i = 0; i < d.nseeds && rc == EXIT_OK; i++) {
        results[i].seed = d.seeds[i];
        rc = run_seed(dir, &cfg, &d, data, a.resume != NULL, &prog, &results[i]);
    }
    selfmm_dataset_free(data);
    if (rc != EXIT_OK) return rc;

    /* The best run's model (lowest validation Loss; the first on ties) at the top. */
    int best = 0;
    for (int i = 1; i < d.nseeds; i++)
        if (results[i].best_valid_loss < results[best].best_valid_loss) best = i;
    char from[SELFMM_PATH_MAX + 64], to[SELFMM_PATH_MAX + 32];
    snprintf(from, sizeof from, "%s/seed-%lld/model.safetensors", dir, d.seeds[best]);
    snprintf(to, sizeof to, "%s/model.safetensors", dir);
    /* a second name for the seed's file, not a copy (0.4 GB for bert-base): nothing
     * rewrites either in place (core/atomic_file.h) */
    if (sm_atomic_link(from, to, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message);
    if (write_summary(dir, &cfg, results, d.nseeds) != 0 ||
        concat_seed_files(dir, &d, "train_log.jsonl") != 0 ||
        (d.save_labels && concat_seed_files(dir, &d, "labels.jsonl") != 0))
        return EXIT_FAIL;
    print_table(&cfg, results, d.nseeds);
    /* the run is done and saved: a report that cannot be written is only a warning */
    char msg[SELFMM_PATH_MAX + 256];
    if (report_write(dir, NULL, msg, sizeof msg) != 0)
        fprintf(stderr, "selfmm-cli train: warning: report.html not written: %s\n", msg);
    if (!a.quiet) fprintf(stderr, "selfmm-cli train: results in %s\n", dir);
    return EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    sm_lockfile lock;
    sm_lockfile_init(&lock);
    int rc = train(argc, argv, &lock);
    sm_dir_unlock(&lock); /* after the last write into the folder */
    return rc;
}
