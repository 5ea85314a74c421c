// SPDX-License-Identifier: MIT
// The "Processes" section of `memtrace html` over several logs: the run's processes by peak,
// with totals, above the page of the process with the highest peak. Strings from the logs are
// escaped for HTML (xml_escape.h); figures carry their exact values in data-value.
#ifndef MT_RENDER_HTML_PTREE_H
#define MT_RENDER_HTML_PTREE_H

#include <stdio.h>

#include "process_tree.h"

void mt_render_html_ptree(FILE *o, const mt_ptree_t *t);

#endif
