/* show_config.c -- build a configuration from a preset plus overrides, validate
 * it, and print it as JSON.
 *
 *   show_config [PRESET] [key=value]...      e.g.  show_config mosi batch_size=8 */
#include "common.h"

#include <string.h>

int main(int argc, char **argv)
{
    selfmm_config cfg;
    selfmm_error err = {0};
    CHECK(selfmm_config_preset(&cfg, argc > 1 ? argv[1] : "sims", &err), err.message);
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "expected key=value, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        CHECK(selfmm_config_set(&cfg, argv[i], eq + 1, &err), err.message);
    }
    char *json;
    CHECK(selfmm_config_to_json(&cfg, &json, &err), err.message);
    puts(json);
    selfmm_free_string(json);
    return 0;
}
