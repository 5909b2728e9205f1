/* cmd_build_dataset.c -- `selfmm-cli build-dataset`: MMSA's label.csv and the
 * user's per-clip feature files to a .npz dataset (selfmm_dataset_build). */
#include "commands.h"
#include "common.h"

#include "core/file.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "usage: selfmm-cli build-dataset --labels label.csv --audio DIR --vision DIR --bert DIR\n"
        "                                --out data.npz [--max-len L|auto] [--audio-len T|auto]\n"
        "                                [--vision-len T|auto] [--normalize] [--max-problems N]\n"
        "                                [--quiet]\n\n"
        "Build a dataset from your own clips: MMSA's label.csv (columns video_id, clip_id, text,\n"
        "label, mode; optional label_T, label_A, label_V, annotation) and per-clip features in\n"
        "DIR/<video_id>/<clip_id>.npy ((T, D) float32 or float64) or .csv (one row of D numbers\n"
        "per time step, an optional header). The result loads, trains and predicts like a\n"
        "released MMSA pickle.\n\n"
        "  --labels FILE       label.csv; mode is train, valid or test\n"
        "  --audio DIR         audio features, DIR/<video_id>/<clip_id>.npy or .csv\n"
        "  --vision DIR        vision features, the same layout\n"
        "  --bert DIR          BERT folder whose vocab.txt (and tokenizer_config.json) turn the\n"
        "                      text into token ids; its config.json caps the text length\n"
        "  --out FILE          the .npz to write (atomically; nothing is written on failure)\n"
        "  --max-len L|auto    padded text length, [CLS] and [SEP] included (default auto)\n"
        "  --audio-len T|auto  padded audio length (default auto)\n"
        "  --vision-len T|auto padded vision length (default auto)\n"
        "                      auto: int(mean + 3 x std) of the lengths over all rows, as\n"
        "                      MMSA-FET; longer sequences are cut, shorter ones zero-padded\n"
        "  --normalize         standardise each feature with the training split's mean and std\n"
        "                      (kept in the file; a model trained on it applies them to new\n"
        "                      samples)\n"
        "  --max-problems N    problems listed before a count of the rest (default 50)\n"
        "  --quiet             no summary on success\n\n"
        "Every bad row is reported at once (file, line, problem) and nothing is written.\n"
        "Exit status: 0 ok, 1 bad input or failure, 2 usage error.\n");
}

/* "auto" -> 0, a number >= min -> it; -1 otherwise. */
static int parse_len(const char *s, int min)
{
    if (!strcmp(s, "auto")) return 0;
    int v;
    return cli_parse_int(s, &v) && v >= min ? v : -1;
}

int cmd_build_dataset(int argc, char **argv)
{
    static const struct option opts[] = {
        {"labels", required_argument, 0, 'l'},     {"audio", required_argument, 0, 'a'},
        {"vision", required_argument, 0, 'v'},     {"bert", required_argument, 0, 'b'},
        {"out", required_argument, 0, 'o'},        {"max-len", required_argument, 0, 'L'},
        {"audio-len", required_argument, 0, 'A'},  {"vision-len", required_argument, 0, 'V'},
        {"normalize", no_argument, 0, 'n'},        {"max-problems", required_argument, 0, 'p'},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *bert = NULL, *out_path = NULL;
    int quiet = 0, c;
    selfmm_build_options bo;
    selfmm_build_options_default(&bo);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': bo.labels = optarg; break;
        case 'a': bo.audio_dir = optarg; break;
        case 'v': bo.vision_dir = optarg; break;
        case 'b': bert = optarg; break;
        case 'o': out_path = optarg; break;
        case 'L':
            if ((bo.max_len = parse_len(optarg, 2)) < 0)
                return cli_usage_error("build-dataset", "--max-len expects auto or a number >= 2, got '%s'", optarg);
            break;
        case 'A':
            if ((bo.audio_len = parse_len(optarg, 1)) < 0)
                return cli_usage_error("build-dataset", "--audio-len expects auto or a number >= 1, got '%s'", optarg);
            break;
        case 'V':
            if ((bo.vision_len = parse_len(optarg, 1)) < 0)
                return cli_usage_error("build-dataset", "--vision-len expects auto or a number >= 1, got '%s'", optarg);
            break;
        case 'n': bo.normalize = 1; break;
        case 'p':
            if (!cli_parse_int(optarg, &bo.max_problems) || bo.max_problems < 1)
                return cli_usage_error("build-dataset", "--max-problems expects a number >= 1, got '%s'", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': help(); return EXIT_OK;
        default:
            return cli_usage_error("build-dataset", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("build-dataset", "unexpected argument '%s'", argv[optind]);
    if (!bo.labels || !bo.audio_dir || !bo.vision_dir || !bert || !out_path)
        return cli_usage_error("build-dataset", "--labels, --audio, --vision, --bert and --out are required");
    cli_install_logger(SELFMM_LOG_WARN);

    selfmm_error err = {0};
    selfmm_tokenizer *tok = NULL;
    if (selfmm_tokenizer_load(bert, NULL, &tok, &err) != SELFMM_OK)
        return cli_fail_status("build-dataset", err.status, err.message);
    bo.tokenizer = tok;
    /* BERT's position table bounds the text length, when the folder says how large it is */
    char cfg_path[SELFMM_PATH_MAX + 16];
    if (sm_path_join(cfg_path, sizeof cfg_path, bert, "config.json", NULL) == SELFMM_OK && sm_exists(cfg_path)) {
        selfmm_config cfg;
        selfmm_config_default(&cfg);
        if (selfmm_config_load_bert_json(&cfg, bert, &err) != SELFMM_OK) {
            selfmm_tokenizer_free(tok);
            return cli_fail_status("build-dataset", err.status, err.message);
        }
        bo.max_positions = cfg.max_position_embeddings;
    }
    selfmm_dataset *data = NULL;
    char *report = NULL;
    selfmm_status st = selfmm_dataset_build(&bo, &data, &report, &err);
    selfmm_tokenizer_free(tok);
    int rc = EXIT_OK;
    if (st != SELFMM_OK) {
        if (report) fputs(report, stderr);
        rc = cli_fail_status("build-dataset", st, err.message);
    } else if (selfmm_dataset_save_npz(data, out_path) != SELFMM_OK) {
        rc = cli_fail("build-dataset", "%s", selfmm_dataset_errmsg(data));
    } else if (!quiet) {
        if (report) fputs(report, stderr);
        fprintf(stderr, "selfmm-cli build-dataset: wrote %s\n", out_path);
    }
    selfmm_free_string(report);
    selfmm_dataset_free(data);
    return rc;
}
