// SPDX-License-Identifier: MIT
// The flame graph SVG (see render_flamegraph.h). Everything from the log (names, paths, the
// title) goes through mt_xml_escape; the script is a fixed text with no data spliced into it,
// it reads the figures back from data-* attributes. Output size is linear in the tree's nodes.
#include "render_flamegraph.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fmt.h"
#include "names.h"
#include "render_threads.h"
#include "xml_escape.h"

/* The page's script and style, kept as lines so no string passes the compilers' limits. The
 * script reads only the DOM; it is the same for the SVG document and the HTML report. */
static const char *const mt_flame_css[] = {
    ".mt-flame { font-family: Verdana, Helvetica, sans-serif; font-size: 12px; }",
    ".mt-flame .title { font-size: 16px; }",
    ".mt-flame .sub, .mt-flame .details, .mt-flame .matched { font-size: 12px; fill: #333; }",
    ".mt-flame .btn { cursor: pointer; fill: #0645ad; text-decoration: underline; }",
    ".mt-flame g.f { cursor: pointer; }",
    ".mt-flame g.f text { pointer-events: none; fill: #000; }",
    ".mt-flame g.f:hover rect { stroke: #000; stroke-width: 0.7; }",
    ".mt-flame g.faded rect { opacity: 0.55; }",
    ".mt-flame g.match rect { stroke: #7b1fa2; stroke-width: 0.7; }",
    NULL,
};

static const char *const mt_flame_js[] = {
    "(function () {",
    "'use strict';",
    "var errors = 0;",
    "window.addEventListener('error', function () {",
    "  errors++;",
    "  document.documentElement.setAttribute('data-errors', String(errors));",
    "});",
    "function fmtCount(v) {",
    "  return String(Math.round(v)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');",
    "}",
    "function fmtValue(v, unit) {",
    "  if (unit !== 'bytes') return fmtCount(v) + ' ' + unit;",
    "  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], i = 0, x = v;",
    "  while (x >= 1024 && i < 5) { x /= 1024; i++; }",
    "  if (i === 0) return fmtCount(v) + ' B';",
    "  var s = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);",
    "  return s + ' ' + u[i] + ' (' + fmtCount(v) + ' B)';",
    "}",
    "function mtFlame(svg, keys) {",
    "  var unit = svg.getAttribute('data-unit') || 'bytes';",
    "  var X0 = +svg.getAttribute('data-x0'), FW = +svg.getAttribute('data-fw'), CW = 7;",
    "  var details = svg.querySelector('.details'), matched = svg.querySelector('.matched');",
    "  var gs = svg.querySelectorAll('g.f'), nodes = [], i;",
    "  var box = svg.parentNode && svg.parentNode.querySelector ?",
    "    svg.parentNode.querySelector('input.flame-search') : null;",
    "  function say(el, s) { if (el) el.textContent = s; }",
    "  function cut(s, w) {",
    "    var max = Math.floor((w - 6) / CW);",
    "    if (max < 3) return '';",
    "    return s.length <= max ? s : s.slice(0, max - 3) + '...';",
    "  }",
    "  function fit(n, w) { return cut(n.name, w); }",
    "  /* the details line, cut to the graph's width as the browser measures it */",
    "  function tell(s) {",
    "    if (!details) return;",
    "    details.textContent = s;",
    "    for (var k = 0; k < 8 && s.length > 3; k++) {",
    "      var w = details.getComputedTextLength ? details.getComputedTextLength() : 0;",
    "      if (w <= FW) break;",
    "      s = s.slice(0, Math.max(Math.floor(s.length * FW / w) - 4, 0)) + '...';",
    "      details.textContent = s;",
    "    }",
    "  }",
    "  function place(n, x, w, faded) {",
    "    n.g.style.display = '';",
    "    n.rect.setAttribute('x', x.toFixed(2));",
    "    n.rect.setAttribute('width', Math.max(w, 0).toFixed(2));",
    "    n.text.setAttribute('x', (x + 3).toFixed(2));",
    "    n.text.textContent = fit(n, w);",
    "    n.g.classList.toggle('faded', !!faded);",
    "  }",
    "  function zoom(z) {",
    "    nodes.forEach(function (n) {",
    "      if (n.d < z.d) {",
    "        if (n.x <= z.x && n.x + n.v >= z.x + z.v) place(n, X0, FW, true);",
    "        else n.g.style.display = 'none';",
    "      } else if (n.x >= z.x && n.x + n.v <= z.x + z.v && z.v > 0 && n.v > 0) {",
    "        place(n, X0 + (n.x - z.x) / z.v * FW, n.v / z.v * FW, false);",
    "      } else {",
    "        n.g.style.display = 'none';",
    "      }",
    "    });",
    "    svg.setAttribute('data-zoom', String(z.i));",
    "  }",
    "  function search(term) {",
    "    var t = (term || '').toLowerCase(), iv = [], count = 0, sum = 0, end = -1;",
    "    nodes.forEach(function (n) {",
    "      var hit = t !== '' && n.i > 0 && n.name.toLowerCase().indexOf(t) >= 0;",
    "      n.rect.setAttribute('fill', hit ? '#e040fb' : n.fill);",
    "      n.g.classList.toggle('match', hit);",
    "      if (hit) { count++; iv.push([n.x, n.x + n.v]); }",
    "    });",
    "    iv.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });",
    "    iv.forEach(function (p) {",
    "      if (p[0] >= end) { sum += p[1] - p[0]; end = p[1]; }",
    "      else if (p[1] > end) { sum += p[1] - end; end = p[1]; }",
    "    });",
    "    var total = nodes.length ? nodes[0].v : 0;",
    "    var pct = total > 0 ? (100 * sum / total).toFixed(2) : '0.00';",
    "    svg.setAttribute('data-search', term || '');",
    "    svg.setAttribute('data-matched-frames', String(count));",
    "    svg.setAttribute('data-matched-value', String(sum));",
    "    say(matched, t === '' ? '' : 'Matched: ' + pct + '% (' + fmtValue(sum, unit) + ') in ' +",
    "        count + (count === 1 ? ' frame' : ' frames'));",
    "    if (box && box.value !== (term || '')) box.value = term || '';",
    "  }",
    "  function ask() {",
    "    var t = window.prompt('Search frames (substring, any case; empty clears)',",
    "                          svg.getAttribute('data-search') || '');",
    "    if (t !== null) search(t);",
    "  }",
    "  for (i = 0; i < gs.length; i++) {",
    "    var g = gs[i], title = g.firstElementChild;",
    "    var n = { g: g, i: i, x: +g.getAttribute('data-x'), v: +g.getAttribute('data-v'),",
    "              d: +g.getAttribute('data-d'), info: title ? title.textContent : '',",
    "              rect: title.nextElementSibling, text: g.lastElementChild };",
    "    n.name = n.info.split('\\n')[0];",
    "    n.fill = n.rect.getAttribute('fill');",
    "    g.mtIndex = i;",
    "    nodes.push(n);",
    "  }",
    "  /* one listener for all the frames: a large graph opens without thousands of closures */",
    "  function hit(e) {",
    "    for (var el = e.target; el && el !== svg; el = el.parentNode)",
    "      if (el.mtIndex !== undefined) return nodes[el.mtIndex];",
    "    return null;",
    "  }",
    "  svg.addEventListener('click', function (e) {",
    "    var n = hit(e);",
    "    if (n) { zoom(n); e.stopPropagation(); }",
    "  });",
    "  svg.addEventListener('mouseover', function (e) {",
    "    var n = hit(e);",
    "    tell(n ? n.info.replace(/\\n/g, ' | ') : ' ');",
    "  });",
    "  var acts = svg.querySelectorAll('.btn');",
    "  for (i = 0; i < acts.length; i++) {",
    "    acts[i].addEventListener('click', function (e) {",
    "      var a = e.currentTarget.getAttribute('data-act');",
    "      if (a === 'reset' && nodes.length) zoom(nodes[0]);",
    "      if (a === 'search') ask();",
    "      if (a === 'clear') search('');",
    "    });",
    "  }",
    "  if (box) box.addEventListener('input', function () { search(box.value); });",
    "  if (keys) {",
    "    document.addEventListener('keydown', function (e) {",
    "      var find = (e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F');",
    "      if (find) { e.preventDefault(); ask(); }",
    "      else if (e.key === 'Escape') { search(''); if (nodes.length) zoom(nodes[0]); }",
    "    });",
    "  }",
    "  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {",
    "    var k = kv.split('=')[0], v = decodeURIComponent(kv.slice(k.length + 1));",
    "    if (k === 'search') search(v);",
    "    if (k === 'zoom' && nodes[+v]) zoom(nodes[+v]);",
    "  });",
    "  svg.setAttribute('data-ready', '1');",
    "  svg.setAttribute('data-ready-ms', String(Math.round(performance.now())));",
    "  /* new figures for every box (an HTML page's window): v[i] the subtree's value, info[i]",
    "     its tooltip; boxes keep their order, each child starts where its sibling ends */",
    "  function relayout(v, info) {",
    "    var end = [];",
    "    nodes.forEach(function (n, k) {",
    "      while (end.length && end[end.length - 1].d >= n.d) end.pop();",
    "      var p = end[end.length - 1];",
    "      n.x = p ? p.c : 0; n.v = v[k]; n.c = n.x;",
    "      if (p) p.c += n.v;",
    "      end.push(n);",
    "      n.g.setAttribute('data-x', String(n.x)); n.g.setAttribute('data-v', String(n.v));",
    "      n.info = info[k]; n.g.firstElementChild.textContent = info[k];",
    "    });",
    "    svg.setAttribute('data-total', String(nodes.length ? nodes[0].v : 0));",
    "    if (nodes.length) zoom(nodes[0]);",
    "  }",
    "  return { search: search, zoom: function (k) { if (nodes[k]) zoom(nodes[k]); },",
    "           relayout: relayout, nodes: nodes };",
    "}",
    "var all = document.querySelectorAll('svg.mt-flame');",
    "var alone = all.length === 1 && all[0] === document.documentElement;",
    "for (var k = 0; k < all.length; k++) all[k].mtFlame = mtFlame(all[k], alone);",
    "})();",
    NULL,
};

static void mt_write_lines(FILE *o, const char *const *lines)
{
    for (; *lines; lines++) {
        fputs(*lines, o);
        fputc('\n', o);
    }
}

void mt_flame_write_css(FILE *o)
{
    mt_write_lines(o, mt_flame_css);
}

void mt_flame_write_js(FILE *o)
{
    mt_write_lines(o, mt_flame_js);
}

static ssize_t mt_count_write(void *cookie, const char *buf, size_t size)
{
    (void)buf;
    *(size_t *)cookie += size;
    return (ssize_t)size;
}

size_t mt_flame_svg_size(const mt_flame_tree_t *t, void *arg)
{
    const mt_flame_budget_t *b = arg;
    size_t n = 0;
    FILE *f = fopencookie(&n, "w", (cookie_io_functions_t){.write = mt_count_write});
    if (!f)
        return 0; /* no way to measure: draw what the cap allows */
    int rc = mt_render_flamegraph_svg(t, b->a, f, b->svg);
    fclose(f);
    return rc < 0 ? 0 : n;
}

const char *mt_flame_cost_caption(enum mt_cost cost)
{
    switch (cost) {
    case MT_COST_PEAK:
        return "bytes held at the heap peak";
    case MT_COST_LEAKED:
        return "bytes not freed at exit";
    case MT_COST_ALLOCATIONS:
        return "allocation calls";
    case MT_COST_TEMPORARY:
        return "temporary allocations (freed before the thread's next allocation)";
    case MT_COST_ALLOCATED:
        return "bytes allocated in total";
    }
    return "?";
}

const char *mt_flame_cost_caption_of(enum mt_cost cost, const mt_analysis_t *a)
{
    /* a Python script's leaked figure is what it held when it ended (mt_analysis_held) */
    if (cost == MT_COST_LEAKED && a && mt_analysis_held(a).at_script_end)
        return "bytes held at the end of the script";
    return mt_flame_cost_caption(cost);
}

static int mt_cost_is_bytes(enum mt_cost cost)
{
    return cost == MT_COST_PEAK || cost == MT_COST_LEAKED || cost == MT_COST_ALLOCATED;
}

/* "94.0 KiB (96,256 B)" or "4,000 allocations" */
static const char *mt_value_text(char *b, size_t len, enum mt_cost cost, uint64_t v)
{
    if (mt_cost_is_bytes(cost))
        return mt_fmt_bytes_exact(b, len, v);
    char c[32];
    snprintf(b, len, "%s %s", mt_fmt_count(c, sizeof c, v),
             cost == MT_COST_ALLOCATIONS ? "allocations" : "temporary allocations");
    return b;
}

/* The frame's name as shown: the function, else module+offset, else the address. A Python
 * frame is a line of its function: "main (app.py:12)", as py-spy labels it (the tooltip has
 * the whole path). */
static void mt_node_name(char *b, size_t len, const mt_flame_node_t *n, const mt_analysis_t *a)
{
    const mt_module_t *m = mt_modules_get(a->modules, n->frame.module);
    switch (n->kind) {
    case MT_FLAME_ROOT:
        snprintf(b, len, "all");
        return;
    case MT_FLAME_OTHER:
        snprintf(b, len, "other (%" PRIu32 " small frames)", n->merged);
        return;
    default:
        break;
    }
    if (n->frame.function && n->frame.python && n->frame.file) {
        const char *slash = strrchr(n->frame.file, '/');
        snprintf(b, len, "%s (%s:%" PRIu32 ")", n->frame.function,
                 slash ? slash + 1 : n->frame.file, n->frame.line);
    } else if (n->frame.function) {
        char full[2048];
        snprintf(b, len, "%s", mt_name_show(n->frame.function, full, sizeof full));
    } else if (m) {
        snprintf(b, len, "%s+0x%" PRIx64, m->basename, n->frame.address);
    } else {
        snprintf(b, len, "0x%" PRIx64, n->frame.address);
    }
}

static size_t mt_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static uint32_t mt_name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* hsl -> #rrggbb; h in degrees, s and l in [0, 1]. */
static void mt_hsl(char *b, size_t len, double h, double s, double l)
{
    double c = (1 - fabs(2 * l - 1)) * s;
    double hp = h / 60, x = c * (1 - fabs(fmod(hp, 2) - 1));
    double r = 0, g = 0, bl = 0;
    if (hp < 1)
        r = c, g = x;
    else if (hp < 2)
        r = x, g = c;
    else if (hp < 3)
        g = c, bl = x;
    else if (hp < 4)
        g = x, bl = c;
    else if (hp < 5)
        r = x, bl = c;
    else
        r = c, bl = x;
    double m = l - c / 2;
    snprintf(b, len, "#%02x%02x%02x", (unsigned)((r + m) * 255 + 0.5),
             (unsigned)((g + m) * 255 + 0.5), (unsigned)((bl + m) * 255 + 0.5));
}

/* Warm colours for native code (red-orange for the program, yellow for libraries), blue-green
 * for Python, greys for what has no code of its own; the shade comes from the name, so a
 * function keeps its colour from one graph to the next. */
static void mt_node_colour(char *b, size_t len, const mt_flame_node_t *n, const char *name)
{
    double v = (double)(mt_name_hash(name) % 1000) / 1000.0;
    switch (n->kind) {
    case MT_FLAME_PROGRAM:
        mt_hsl(b, len, 5 + 30 * v, 0.80, 0.60);
        return;
    case MT_FLAME_LIBRARY:
        mt_hsl(b, len, 45 + 15 * v, 0.70, 0.62);
        return;
    case MT_FLAME_PYTHON:
        mt_hsl(b, len, 150 + 60 * v, 0.55, 0.55);
        return;
    case MT_FLAME_UNKNOWN:
        snprintf(b, len, "#b8b8b8");
        return;
    case MT_FLAME_OTHER:
        snprintf(b, len, "#dddddd");
        return;
    default:
        snprintf(b, len, "#e8e8e8");
        return;
    }
}

static const char *mt_kind_name(unsigned kind)
{
    switch (kind) {
    case MT_FLAME_PROGRAM:
        return "program";
    case MT_FLAME_LIBRARY:
        return "library";
    case MT_FLAME_PYTHON:
        return "Python";
    case MT_FLAME_UNKNOWN:
        return "unknown module";
    default:
        return NULL;
    }
}

/* The class of a frame's group: k-program, k-library, k-python, k-unknown, k-root, k-other. */
static const char *mt_kind_class(unsigned kind)
{
    static const char *const names[] = {"root", "program", "library", "python", "unknown", "other"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

/* The tooltip: name, where, the cost with its share, the other figures. */
static void mt_node_title(FILE *o, const mt_flame_tree_t *t, const mt_flame_node_t *n,
                          const char *name, const mt_analysis_t *a, int embedded)
{
    /* a page holds several graphs and tables: shorter names there */
    size_t cap = embedded ? 500 : 2000;
    char b[96], c[64], d[64];
    const mt_flame_figures_t *f = &n->fig;
    mt_xml_escape(o, name, cap);
    if (n->frame.inlined)
        fputs(" (inlined)", o);
    fputc('\n', o);
    const mt_module_t *m = mt_modules_get(a->modules, n->frame.module);
    if (n->kind == MT_FLAME_ROOT) {
        char *cmd = mt_analysis_command(a);
        fputs("every stack of ", o);
        mt_xml_escape(o, cmd && cmd[0] ? cmd : a->path, 500);
        free(cmd);
    } else if (n->kind == MT_FLAME_OTHER) {
        fputs("frames each below the cut, merged", o);
    } else {
        if (n->frame.file) {
            mt_xml_escape(o, mt_path_show(n->frame.file), cap / 2);
            if (n->frame.line)
                fprintf(o, ":%" PRIu32, n->frame.line);
            else
                fputs(" (several lines)", o);
        }
        if (m && n->kind != MT_FLAME_PYTHON) {
            fputs(n->frame.file ? " in " : "", o);
            mt_xml_escape(o, m->basename, 200);
        }
        fprintf(o, " [%s]", mt_kind_name(n->kind));
    }
    fputc('\n', o);
    uint64_t total = t->n ? t->v[0].value : 0;
    double pct = total ? 100.0 * (double)n->value / (double)total : 0;
    switch (t->cost) {
    case MT_COST_PEAK:
        fprintf(o, "%s in %s blocks held at the peak (%.2f%%)",
                mt_fmt_bytes_exact(b, sizeof b, n->value),
                mt_fmt_count(c, sizeof c, f->peak_blocks), pct);
        break;
    case MT_COST_LEAKED:
        fprintf(o, "%s in %s blocks %s (%.2f%%)", mt_fmt_bytes_exact(b, sizeof b, n->value),
                mt_fmt_count(c, sizeof c, f->leaked_blocks),
                mt_analysis_held(a).at_script_end ? "held at the end of the script"
                                                  : "not freed at exit",
                pct);
        break;
    case MT_COST_ALLOCATIONS:
    case MT_COST_TEMPORARY:
        fprintf(o, "%s (%.2f%%)", mt_value_text(b, sizeof b, t->cost, n->value), pct);
        break;
    case MT_COST_ALLOCATED:
        fprintf(o, "%s allocated (%.2f%%)", mt_fmt_bytes_exact(b, sizeof b, n->value), pct);
        break;
    }
    fprintf(o, "\n%s allocations, %s allocated in total", mt_fmt_count(c, sizeof c, f->allocations),
            mt_fmt_bytes_exact(b, sizeof b, f->bytes_allocated));
    if (n->self && n->end > (uint32_t)(n - t->v) + 1)
        fprintf(o, "\nself: %s", mt_value_text(d, sizeof d, t->cost, n->self));
}

#define MT_FG_FH 17.0   /* frame height */
#define MT_FG_TOP 60.0  /* title, subtitle, buttons */
#define MT_FG_BOTTOM 56 /* details line, then the legend on a line of its own */
#define MT_FG_X0 10.0
#define MT_FG_CW 7.0 /* average character width at 12px, as the script assumes */

int mt_render_flamegraph_svg(const mt_flame_tree_t *t, const mt_analysis_t *a, FILE *o,
                             const mt_flame_svg_opts_t *opt)
{
    double W = opt->width ? opt->width : 1200, FW = W - 2 * MT_FG_X0;
    double H = MT_FG_TOP + (t->max_depth + 1) * MT_FG_FH + MT_FG_BOTTOM;
    uint64_t total = t->n ? t->v[0].value : 0;
    double denom = total ? (double)total : 1;
    char b[96], c[96];
    if (!opt->embedded)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", o);
    fprintf(o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mt-flame\" version=\"1.1\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" data-cost=\"%s\" "
            "data-unit=\"%s\" data-total=\"%" PRIu64 "\" data-x0=\"%.0f\" data-fw=\"%.0f\" "
            "data-ready=\"0\" data-errors=\"0\">\n",
            W, H, W, H, mt_cost_name(t->cost),
            mt_cost_is_bytes(t->cost)        ? "bytes"
            : t->cost == MT_COST_ALLOCATIONS ? "allocations"
                                             : "temporary allocations",
            total, MT_FG_X0, FW);
    if (!opt->embedded) {
        fputs("<style type=\"text/css\"><![CDATA[\n", o);
        mt_flame_write_css(o);
        fputs("]]></style>\n", o);
    }
    fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fdfdf8\"/>\n", W, H);
    fprintf(o, "<text class=\"title\" x=\"%.0f\" y=\"24\">", MT_FG_X0);
    if (opt->title) {
        mt_xml_escape(o, opt->title, 300);
    } else {
        fprintf(o, "memtrace flame graph: %s", mt_flame_cost_caption_of(t->cost, a));
    }
    fprintf(o, "</text>\n<text class=\"sub\" x=\"%.0f\" y=\"44\">total %s", MT_FG_X0,
            mt_value_text(b, sizeof b, t->cost, total));
    if (opt->title) /* the default title says what the widths measure; a custom one may not */
        fprintf(o, " of %s", mt_flame_cost_caption_of(t->cost, a));
    fputs(" \xc2\xb7 ", o);
    mt_xml_escape(o, a->path, 200);
    char wnote[96];
    if (mt_window_note(wnote, sizeof wnote, a)) { /* --from/--to */
        fputs(" \xc2\xb7 ", o);
        mt_xml_escape(o, wnote, sizeof wnote);
    }
    if (a->aggregated) /* the subtitle is the SVG's header */
        fputs(" \xc2\xb7 aggregated log (memtrace run --aggregate)", o);
    if (t->pruned_frames)
        fprintf(o, " \xc2\xb7 %zu small frames (%s) merged into \"other\"", t->pruned_frames,
                mt_value_text(c, sizeof c, t->cost, t->pruned_value));
    if (opt->note) {
        fputs(" \xc2\xb7 ", o);
        mt_xml_escape(o, opt->note, 300);
    }
    fputs("</text>\n", o);
    fprintf(o,
            "<text class=\"btn\" data-act=\"reset\" x=\"%.0f\" y=\"24\" "
            "text-anchor=\"end\">Reset zoom</text>\n"
            "<text class=\"btn\" data-act=\"search\" x=\"%.0f\" y=\"24\" "
            "text-anchor=\"end\">Search</text>\n"
            "<text class=\"matched\" x=\"%.0f\" y=\"44\" text-anchor=\"end\"> </text>\n",
            W - MT_FG_X0, W - MT_FG_X0 - 100, W - MT_FG_X0);
    fputs("<g class=\"frames\">\n", o);
    char name[2048], fill[16];
    for (size_t i = 0; i < t->n; i++) {
        const mt_flame_node_t *n = &t->v[i];
        double x = MT_FG_X0 + FW * (double)n->offset / denom;
        double w = total ? FW * (double)n->value / denom : (i == 0 ? FW : 0);
        double y = MT_FG_TOP + n->depth * MT_FG_FH;
        mt_node_name(name, sizeof name, n, a);
        /* by function, so that the lines of one Python function share its colour */
        mt_node_colour(fill, sizeof fill, n, n->frame.function ? n->frame.function : name);
        fprintf(o,
                "<g class=\"f k-%s\" data-x=\"%" PRIu64 "\" data-v=\"%" PRIu64 "\" "
                "data-d=\"%" PRIu32 "\"><title>",
                mt_kind_class(n->kind), n->offset, n->value, n->depth);
        mt_node_title(o, t, n, name, a, opt->embedded);
        fprintf(o,
                "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                "fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
                x, y, w, MT_FG_FH - 1, fill, x + 3, y + MT_FG_FH - 5);
        size_t fit = w > 6 ? (size_t)((w - 6) / MT_FG_CW) : 0;
        if (fit >= 3)
            mt_xml_escape(o, name, mt_utf8_chars(name) <= fit ? 0 : fit - 3);
        fputs("</text></g>\n", o);
    }
    fputs("</g>\n", o);
    if (!total)
        fprintf(o, "<text class=\"sub\" x=\"%.0f\" y=\"%.0f\">nothing to show: no %s</text>\n",
                MT_FG_X0, MT_FG_TOP + MT_FG_FH * 2, mt_flame_cost_caption_of(t->cost, a));
    /* The details line may be as wide as the graph (the script cuts it there): the legend
     * goes under it, never beside it. */
    double yb = H - MT_FG_BOTTOM + 20;
    fprintf(o, "<text class=\"details\" x=\"%.0f\" y=\"%.0f\"> </text>\n", MT_FG_X0, yb);
    yb += 22;
    static const struct {
        const char *label, *fill;
    } legend[] = {{"program", "#eb6e47"},
                  {"libraries", "#e9c25e"},
                  {"Python", "#4cb89b"},
                  {"unknown / other", "#cccccc"}};
    double lx = W - MT_FG_X0 - 380;
    for (size_t i = 0; i < sizeof legend / sizeof legend[0]; i++) {
        fprintf(o,
                "<rect class=\"legend\" x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" "
                "fill=\"%s\"/><text class=\"sub legend\" x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                lx, yb - 9, legend[i].fill, lx + 14, yb, legend[i].label);
        lx += 14 + 7.0 * (double)strlen(legend[i].label) + 16;
    }
    if (!opt->embedded) {
        fputs("<script type=\"text/ecmascript\"><![CDATA[\n", o);
        mt_flame_write_js(o);
        fputs("]]></script>\n", o);
    }
    fputs("</svg>\n", o);
    return ferror(o) ? -EIO : 0;
}
