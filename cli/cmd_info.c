/* cmd_info.c -- `selfmm-cli info`: what a dataset or checkpoint file holds. */
#include "commands.h"
#include "common.h"

#include <getopt.h>
#include <stdlib.h>

static void help(void)
{
    printf("usage: selfmm-cli info [--json] FILE\n\n"
           "Describe a file libselfmm reads:\n"
           "  dataset (MMSA pickle or .npz): splits, shapes, source dtypes, NaN and -inf\n"
           "    counts, length and label statistics (bad values are counted, not refused);\n"
           "  checkpoint (PyTorch .pth/.bin, zip or legacy; safetensors; libselfmm model):\n"
           "    format, stored config, metadata, tensors and parameter count.\n\n"
           "  --json   one JSON object instead of the report\n");
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("info", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("info", "expects a FILE");
    if (optind + 1 < argc) return cli_usage_error("info", "unexpected argument '%s'", argv[optind + 1]);
    char *text = NULL;
    selfmm_error err = {0};
    if (selfmm_file_info(argv[optind], json ? SELFMM_INFO_JSON : SELFMM_INFO_TEXT, &text, &err) != SELFMM_OK)
        return cli_fail_status("info", err.status, err.message);
    fputs(text, stdout);
    if (json) fputc('\n', stdout);
    selfmm_free_string(text);
    return EXIT_OK;
}
