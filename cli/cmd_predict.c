/* cmd_predict.c -- `selfmm-cli predict`: the four heads' outputs per sample. */
#include "commands.h"
#include "common.h"

#include "core/atomic_file.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli predict --model FILE --data PATH [--split test|valid|train]\n"
           "                          [--index I]... [--out CSV] [--batch N] [--threads N]\n"
           "                          [--precision fp32|bf16]\n"
           "       selfmm-cli predict --model FILE --text TEXT --audio FILE --vision FILE\n"
           "                          [--out CSV] [--threads N] [--precision fp32|bf16]\n\n"
           "Run a model (native .safetensors) in evaluation mode and write one CSV row per\n"
           "sample: id, M (fusion), T, A, V, label (the dataset's regression label). --index\n"
           "selects samples of the split (repeatable; default all); --out - or no --out writes\n"
           "to standard output. Numbers carry 9 significant digits: they read back as the exact\n"
           "float32 values, so metrics computed from M and label (e.g. by the reference's\n"
           "utils/metricsTop.py) are the ones `selfmm-cli test` reports.\n\n"
           "With --text, --audio and --vision, predict one new sample instead and write the CSV\n"
           "header M,T,A,V and one row. The text goes through the tokenizer kept in the model\n"
           "(train --bert DIR attaches it) at the training data's text length; the features\n"
           "(.npy of shape (T, D) or numeric .csv, as build-dataset reads them) are cut to the\n"
           "training data's lengths and normalised when the model was trained on normalised\n"
           "data: the same numbers predict --data gives for that clip in a built dataset.\n\n"
           "--precision bf16 runs BERT's GEMMs in bf16 mixed precision where the CPU runs bf16\n"
           "natively (docs/PLATFORM.md); outputs then differ from fp32's in the third digit.\n");
}

/* One new sample: text and two feature files (selfmm_model_predict_one). */
static int predict_one(selfmm_model *model, const char *text, const char *audio_path,
                       const char *vision_path, float o[4])
{
    selfmm_error err = {0};
    float *x[2] = {NULL, NULL};
    int T[2], D[2], rc = EXIT_OK;
    const char *paths[2] = {audio_path, vision_path};
    for (int k = 0; k < 2 && rc == EXIT_OK; k++)
        if (selfmm_features_load(paths[k], &x[k], &T[k], &D[k], &err) != SELFMM_OK)
            rc = cli_fail_status("predict", err.status, err.message);
    if (rc == EXIT_OK) {
        selfmm_status st = selfmm_model_predict_one(model, text, x[0], T[0], D[0], x[1], T[1], D[1], o);
        if (st != SELFMM_OK) rc = cli_fail_status("predict", st, selfmm_model_errmsg(model));
    }
    selfmm_features_free(x[0]);
    selfmm_features_free(x[1]);
    return rc;
}

static void csv_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"split", required_argument, 0, 's'}, {"index", required_argument, 0, 'i'},
        {"out", required_argument, 0, 'o'},   {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {"text", required_argument, 0, 'T'},    {"audio", required_argument, 0, 'A'},
        {"vision", required_argument, 0, 'V'},  {"precision", required_argument, 0, 'P'},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL;
    const char *text = NULL, *audio_path = NULL, *vision_path = NULL;
    int split_given = 0;
    selfmm_precision precision = SELFMM_PRECISION_FP32;
    int batch = 0, threads = -1, c, nidx = 0;
    int *idx = calloc((size_t)argc + 1, sizeof *idx);
    selfmm_split split = SELFMM_SPLIT_TEST;
    if (!idx) return cli_fail("predict", "out of memory");
    opterr = 0;
    optind = 1;
    int rc = EXIT_OK;
    while (rc == EXIT_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'd': data_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'T': text = optarg; break;
        case 'A': audio_path = optarg; break;
        case 'V': vision_path = optarg; break;
        case 's':
            split_given = 1;
            if (!cli_parse_split(optarg, &split))
                rc = cli_usage_error("predict", "--split expects test, valid or train, got '%s'", optarg);
            break;
        case 'i':
            if (!cli_parse_int(optarg, &idx[nidx]) || idx[nidx] < 0)
                rc = cli_usage_error("predict", "--index expects a number >= 0, got '%s'", optarg);
            nidx++;
            break;
        case 'b':
            if (!cli_parse_int(optarg, &batch) || batch < 1)
                rc = cli_usage_error("predict", "--batch expects a number >= 1, got '%s'", optarg);
            break;
        case 't':
            if (!cli_parse_int(optarg, &threads) || threads < 0 || threads > 1024)
                rc = cli_usage_error("predict", "--threads expects a number in [0, 1024], got '%s'", optarg);
            break;
        case 'P':
            if (!cli_parse_precision(optarg, &precision))
                rc = cli_usage_error("predict", "--precision expects fp32 or bf16, got '%s'", optarg);
            break;
        case 'h': help(); free(idx); return EXIT_OK;
        default: rc = cli_usage_error("predict", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (rc == EXIT_OK && optind < argc) rc = cli_usage_error("predict", "unexpected argument '%s'", argv[optind]);
    const int one = text || audio_path || vision_path;
    if (rc == EXIT_OK && one && (!text || !audio_path || !vision_path))
        rc = cli_usage_error("predict", "one sample needs all of --text, --audio and --vision");
    if (rc == EXIT_OK && one && (data_path || split_given || nidx || batch))
        rc = cli_usage_error("predict", "--text/--audio/--vision predict one new sample: drop --data, "
                                        "--split, --index and --batch");
    if (rc == EXIT_OK && (!model_path || (!data_path && !one)))
        rc = cli_usage_error("predict", "--model and either --data or --text, --audio and --vision "
                                        "are required");
    if (rc == EXIT_OK) rc = cli_check_precision("predict", precision);
    if (rc != EXIT_OK) {
        free(idx);
        return rc;
    }
    if (threads >= 0) selfmm_set_threads(threads, NULL); /* in range: checked above */
    cli_install_logger(SELFMM_LOG_WARN);
    selfmm_error err = {0};
    selfmm_model *model = NULL;
    selfmm_dataset *data = NULL;
    selfmm_split_view v;
    /* The CSV is collected in memory and written at the end (atomically to a file):
     * a failure half-way leaves no partial output. */
    char *csv = NULL;
    size_t csv_len = 0;
    FILE *out = open_memstream(&csv, &csv_len);
    if (!out) {
        rc = cli_fail("predict", "out of memory");
        goto done;
    }
    if (selfmm_model_load(model_path, &model, &err) != SELFMM_OK) {
        rc = cli_fail_status("predict", err.status, err.message);
        goto done;
    }
    if (selfmm_model_set_precision(model, precision) != SELFMM_OK) {
        rc = cli_fail("predict", "%s", selfmm_model_errmsg(model));
        goto done;
    }
    if (one) {
        float o[4];
        rc = predict_one(model, text, audio_path, vision_path, o);
        if (rc == EXIT_OK) fprintf(out, "M,T,A,V\n%.9g,%.9g,%.9g,%.9g\n", o[0], o[1], o[2], o[3]);
        goto done;
    }
    selfmm_config cfg;
    selfmm_model_get_config(model, &cfg);
    selfmm_data_options dopt = {.nan_to_zero = cfg.nan_to_zero, .clamp_lengths = cfg.clamp_lengths};
    if (selfmm_dataset_load(data_path, &dopt, &data, &err) != SELFMM_OK) {
        rc = cli_fail_status("predict", err.status, err.message);
        goto done;
    }
    cli_warn_norm_mismatch("predict", model, data, data_path);
    if (selfmm_dataset_split(data, split, &v) != SELFMM_OK) {
        rc = cli_fail("predict", "%s", selfmm_dataset_errmsg(data));
        goto done;
    }
    if (nidx == 0) {
        int *all = realloc(idx, (size_t)(v.n ? v.n : 1) * sizeof *idx);
        if (!all) {
            rc = cli_fail("predict", "out of memory");
            goto done;
        }
        idx = all;
        for (int i = 0; i < v.n; i++) idx[i] = i;
        nidx = v.n;
    }
    for (int i = 0; i < nidx; i++)
        if (idx[i] >= v.n) {
            rc = cli_usage_error("predict", "--index %d: the split has %d samples", idx[i], v.n);
            goto done;
        }
    fprintf(out, "id,M,T,A,V,label\n");
    const int bs = batch ? batch : cfg.batch_size;
    for (int start = 0; start < nidx && rc == EXIT_OK; start += bs) {
        int b = nidx - start < bs ? nidx - start : bs;
        selfmm_batch in;
        selfmm_outputs o;
        if (selfmm_dataset_batch(data, split, idx + start, b, &in, NULL) != SELFMM_OK) {
            rc = cli_fail("predict", "%s", selfmm_dataset_errmsg(data));
            break;
        }
        selfmm_status st = selfmm_model_forward(model, &in, SELFMM_MODE_EVAL, &o);
        if (st != SELFMM_OK) {
            rc = cli_fail_status("predict", st, selfmm_model_errmsg(model));
            break;
        }
        for (int j = 0; j < b; j++) {
            char id[32];
            const char *sid = v.ids ? v.ids[idx[start + j]] : NULL;
            if (!sid) snprintf(id, sizeof id, "%d", idx[start + j]), sid = id;
            csv_field(out, sid);
            fprintf(out, ",%.9g,%.9g,%.9g,%.9g,%.9g\n", o.M[j], o.T[j], o.A[j], o.V[j],
                    (double)v.labels[idx[start + j]]);
        }
    }
done:
    if (out && fclose(out) != 0 && rc == EXIT_OK) rc = cli_fail("predict", "out of memory");
    if (rc == EXIT_OK) {
        if (out_path && strcmp(out_path, "-") != 0) {
            if (sm_atomic_write(out_path, csv, csv_len, &err) != SELFMM_OK)
                rc = cli_fail_status("predict", err.status, err.message);
        } else if (fwrite(csv, 1, csv_len, stdout) != csv_len || fflush(stdout) != 0) {
            rc = cli_fail("predict", "standard output: write failed");
        }
    }
    free(csv);
    free(idx);
    selfmm_dataset_free(data);
    selfmm_model_free(model);
    return rc;
}
