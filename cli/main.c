/* main.c -- selfmm-cli: git-style dispatch to the subcommands. */
#include "commands.h"
#include "common.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train Self-MM (one run per seed) or the embedded demo"},
    {"report", cmd_report, "an HTML report (charts, tables) of a train or tune folder"},
    {"test", cmd_test, "metrics of a model on a dataset split"},
    {"predict", cmd_predict, "per-sample outputs M, T, A, V of a model as CSV"},
    {"build-dataset", cmd_build_dataset, "a dataset from label.csv and your own feature files"},
    {"config", cmd_config, "print a configuration (preset, file, --set) as JSON"},
    {"tokenize", cmd_tokenize, "text to BERT token ids (as HuggingFace's BertTokenizer)"},
    {"info", cmd_info, "describe a dataset or checkpoint file"},
    {"convert", cmd_convert, "datasets to .npz; .pth <-> libselfmm model files"},
    {"bench", cmd_bench, "time training and evaluation steps of a bert-base model"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: selfmm-cli <command> [options]\n"
            "       selfmm-cli --help | --version\n\n"
            "Self-MM multimodal sentiment analysis (libselfmm %s).\n\ncommands:\n",
            selfmm_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'selfmm-cli <command> --help' describes a command; 'man selfmm-cli' all of them.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
        printf("selfmm-cli %s\n", selfmm_version_string());
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "selfmm-cli: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
