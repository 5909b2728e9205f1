/* report.h -- `selfmm-cli report`: one self-contained HTML page (inline CSS and
 * SVG, no script, no network) for a `train --out` folder or a tune folder.
 * `train` (and `tune`) call report_write at the end of a run. */
#ifndef SELFMM_CLI_REPORT_H
#define SELFMM_CLI_REPORT_H

#include <stddef.h>

/* Render DIR's report into out (NULL: DIR/report.html), written atomically (temp
 * file in the same directory, fsync, rename, fsync of the directory). Returns 0, or
 * -1 with the reason in msg[0..cap) (naming the file); prints nothing. */
int report_write(const char *dir, const char *out, char *msg, size_t cap);

#endif
