// SPDX-License-Identifier: MIT
// The HTML report (see render_html.h). It draws a built page (report_page.h: the summary,
// leaks, fragmentation, threads and lines reports and two flame trees from the same sites) as
// tables and inline SVG; the timeline SVG is embedded as a data: URI. All text from the log is
// escaped; the only script is the flame graph's, which reads the DOM. Every figure a test or a
// script may want carries its exact integer in a data-value attribute next to the text for people.
#include "render_html.h"
#include "render_html_ptree.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json_writer.h"
#include "names.h"
#include "render.h"
#include "render_flamegraph.h"
#include "render_leaks.h"
#include "render_svg_timeline.h"
#include "render_threads.h"
#include "report_page.h"
#include "xml_escape.h"

/* Most bytes one flame graph may take in the page (see mt_flame_html). */
#define MT_HTML_FLAME_MAX_BYTES (4u << 20)
/* The flame graph that follows the window draws at most this many boxes: each carries up to
 * MT_WSERIES_BUCKETS figures of its own in the page (mt_wgroups_json). */
#define MT_HTML_WFLAME_NODES 1000u
/* Most held entries (window_series.h) the window's flame graph may carry: past it the graph
 * offers no "held at the window's end". The same for the sites table: the rows past it have no
 * "held at window end" (their lists are null). */
#define MT_HTML_WHELD_MAX 65536u
/* Most bytes of one table: rows stop there even with the longest names. */
#define MT_HTML_TABLE_MAX_BYTES (1u << 20)

/* The page is written through a counting stream, so tables can stop at their byte budget
 * whatever the output is (a pipe cannot say its position). */
typedef struct mt_counter {
    FILE *out;
    uint64_t bytes;
} mt_counter_t;

static ssize_t mt_counter_write(void *cookie, const char *buf, size_t n)
{
    mt_counter_t *c = cookie;
    size_t w = fwrite(buf, 1, n, c->out);
    c->bytes += w;
    return w == n ? (ssize_t)n : -1;
}

static uint64_t mt_written(FILE *o, const mt_counter_t *c)
{
    fflush(o);
    return c->bytes;
}

/* True when the table begun at start is full; then says so under it. */
static int mt_table_full(FILE *o, const mt_counter_t *c, uint64_t start)
{
    return mt_written(o, c) - start > MT_HTML_TABLE_MAX_BYTES;
}

static void mt_table_cut(FILE *o, size_t shown, size_t total)
{
    if (shown < total)
        fprintf(o,
                "<p class=\"muted\">%zu more rows not shown (the page keeps each table under "
                "%u MB): the reports with <code>--format json</code> have them all.</p>\n",
                total - shown, MT_HTML_TABLE_MAX_BYTES >> 20);
}

static const char *const mt_html_css[] = {
    "body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;",
    "       margin: 1.5em auto; max-width: 1240px; color: #222; padding: 0 1em; }",
    "h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; }",
    "table { border-collapse: collapse; margin: 0.5em 0; }",
    "th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left;",
    "         vertical-align: top; }",
    "td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }",
    "table.summary th { font-weight: normal; color: #555; }",
    ".muted { color: #777; } .warn { background: #fff4d6; padding: 0.5em 1em; }",
    "code, .frame { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; }",
    "details summary { cursor: pointer; color: #0645ad; }",
    "ol.stack { margin: 0.3em 0; padding-left: 2em; }",
    ".flame-box { overflow-x: auto; } input.flame-search { margin: 0.3em 0; width: 20em; }",
    "img.timeline { max-width: 100%; border: 1px solid #eee; }",
    "table.lines td.src { white-space: pre; font-family: ui-monospace, 'DejaVu Sans Mono', "
    "monospace; font-size: 12px; }",
    "table.lines tr.fn th { background: #f4f4f4; } table.lines tr.none td { color: #999; }",
    ".wide { overflow-x: auto; }",
    "input.table-filter { display: block; margin: 0.5em 0 0; width: 16em; }",
    "th.sortable { cursor: pointer; } th.sortable:hover { text-decoration: underline; }",
    "th[aria-sort=descending]::after { content: ' \\25BC'; }",
    "th[aria-sort=ascending]::after { content: ' \\25B2'; }",
    "svg.lane { vertical-align: middle; }",
    "svg.wchart { max-width: 100%; height: auto; cursor: col-resize; user-select: none; }",
    "svg.wchart .sel { fill: rgba(0, 0, 0, 0.12); stroke: #333; stroke-width: 1; }",
    ".swatch { display: inline-block; width: 10px; height: 10px; vertical-align: middle; }",
    ".wbanner { position: sticky; top: 0; z-index: 2; background: #fff4d6; padding: 0.5em 1em; "
    "border: 1px solid #e0c060; }",
    "select.wcost { margin: 0.3em 0 0.3em 1em; }",
    NULL,
};

/* Every table sorts by a click on a column's header and filters with a text box above it. The
 * script is fixed text that reads only the DOM: a cell sorts by its data-value when it has
 * one (the exact integer), else by its text. Header rows are the leading rows of <th> only
 * (the lines table has two, with spans); a row of one cell across the table (a function of
 * the lines table) starts a group, and rows sort within their group. */
static const char *const mt_html_table_js[] = {
    "(function () {",
    "'use strict';",
    "function grid(rows) {",
    "  var taken = [], out = [];",
    "  rows.forEach(function (tr, r) {",
    "    var c = 0, cells = [];",
    "    Array.prototype.forEach.call(tr.cells, function (td) {",
    "      while (taken[r] && taken[r][c]) c++;",
    "      for (var dr = 0; dr < td.rowSpan; dr++)",
    "        for (var dc = 0; dc < td.colSpan; dc++)",
    "          (taken[r + dr] = taken[r + dr] || [])[c + dc] = true;",
    "      cells.push({ td: td, col: c, span: td.colSpan });",
    "      c += td.colSpan;",
    "    });",
    "    out.push(cells);",
    "  });",
    "  return out;",
    "}",
    "function key(cell) {",
    "  if (!cell) return null;",
    "  var v = cell.td.getAttribute('data-value');",
    "  return v !== null && v !== '' ? +v : cell.td.textContent.trim().toLowerCase();",
    "}",
    "function cmp(a, b) {",
    "  if (a === b) return 0;",
    "  if (a === null) return 1;",
    "  if (b === null) return -1;",
    "  if (typeof a === typeof b) return a < b ? -1 : 1;",
    "  return typeof a === 'number' ? -1 : 1;",
    "}",
    "function setup(table, n) {",
    "  var rows = Array.prototype.slice.call(table.rows), nh = 0;",
    "  while (nh < rows.length && Array.prototype.every.call(rows[nh].cells,",
    "         function (c) { return c.tagName === 'TH'; }) && rows[nh].cells.length > 1) nh++;",
    "  var head = grid(rows.slice(0, nh)), body = rows.slice(nh), width = 0;",
    "  head.forEach(function (r) { r.forEach(function (c) { width = Math.max(width, c.col + "
    "c.span); }); });",
    "  var input = document.createElement('input');",
    "  input.type = 'search';",
    "  input.className = 'table-filter';",
    "  input.placeholder = 'filter rows';",
    "  input.setAttribute('aria-label', 'filter the rows of the table below');",
    "  table.parentNode.insertBefore(input, table);",
    "  table.setAttribute('data-rows-shown', String(body.length));",
    "  function groupRow(tr) { return tr.cells.length === 1 && width > 1 && tr.cells[0].colSpan >= "
    "width; }",
    "  input.addEventListener('input', function () {",
    "    var t = input.value.toLowerCase(), shown = 0, group = null, any = false;",
    "    function close() { if (group) group.style.display = any || t === '' ? '' : 'none'; }",
    "    body.forEach(function (tr) {",
    "      if (groupRow(tr)) { close(); group = tr; any = false; return; }",
    "      var hit = t === '' || tr.textContent.toLowerCase().indexOf(t) >= 0;",
    "      tr.style.display = hit ? '' : 'none';",
    "      if (hit) { shown++; any = true; }",
    "    });",
    "    close();",
    "    table.setAttribute('data-filter', input.value);",
    "    table.setAttribute('data-rows-shown', String(shown));",
    "  });",
    "  head.forEach(function (r) {",
    "    r.forEach(function (h) {",
    "      if (h.span !== 1 || !body.length) return;",
    "      h.td.classList.add('sortable');",
    "      h.td.title = 'sort by this column';",
    "      h.td.addEventListener('click', function () {",
    "        var cells = grid(body), groups = [[]], numeric = false;",
    "        body.forEach(function (tr, i) {",
    "          if (groupRow(tr)) { groups.push([tr]); groups.push([]); return; }",
    "          var c = cells[i].filter(function (x) {",
    "            return x.col <= h.col && h.col < x.col + x.span; })[0], k = key(c);",
    "          if (typeof k === 'number') numeric = true;",
    "          groups[groups.length - 1].push({ tr: tr, k: k, i: i });",
    "        });",
    "        /* first click: figures biggest first, text from a; then each click turns it */",
    "        var was = h.td.getAttribute('aria-sort');",
    "        var desc = was ? was === 'ascending' : numeric;",
    "        Array.prototype.forEach.call(table.querySelectorAll('th[aria-sort]'),",
    "          function (x) { x.removeAttribute('aria-sort'); });",
    "        h.td.setAttribute('aria-sort', desc ? 'descending' : 'ascending');",
    "        var parent = body.length ? body[0].parentNode : table, order = [];",
    "        groups.forEach(function (g) {",
    "          if (g.length === 1 && g[0].nodeType) { order.push(g[0]); return; }",
    "          g.sort(function (a, b) {",
    "            var r = cmp(a.k, b.k);",
    "            if (a.k !== null && b.k !== null && desc) r = -r;",
    "            return r || a.i - b.i;",
    "          });",
    "          g.forEach(function (x) { order.push(x.tr); });",
    "        });",
    "        order.forEach(function (tr) { parent.appendChild(tr); });",
    "        body = order;",
    "        table.setAttribute('data-sort-col', String(h.col));",
    "        table.setAttribute('data-sort-dir', desc ? 'descending' : 'ascending');",
    "      });",
    "    });",
    "  });",
    "}",
    "var tables = document.querySelectorAll('body table');",
    "for (var i = 0; i < tables.length; i++) setup(tables[i], i);",
    "document.documentElement.setAttribute('data-tables-ready', String(tables.length));",
    "})();",
    NULL,
};

static void mt_h(FILE *o, const char *s)
{
    mt_xml_escape(o, s, 0);
}

/* The window chart (issue 18): the top sites' held bytes as stacked bands over the run; a drag
 * across it (or #window=FROM-TO in the URL, seconds) picks a window of whole buckets, and the
 * table under it shows what `memtrace report --from --to` shows at those bounds for each site:
 * allocations in the window and what of them was still held at its end. The data is in the
 * page (data-json of #mt-wdata): no server. */
static const char *const mt_html_window_js[] = {
    "(function () {",
    "'use strict';",
    "var el = document.getElementById('mt-wdata');",
    "if (!el) return;",
    "var d = JSON.parse(el.getAttribute('data-json')), nb = d.t.length - 1, ns = d.series.length;",
    "var svg = document.getElementById('mt-wchart'), table = document.getElementById('mt-wtable');",
    "var NS = 'http://www.w3.org/2000/svg', W = 1000, H = 200, X0 = 60, Y0 = 10, PH = 170;",
    "var held = d.series.map(function (s) {",
    "  var m = []; for (var j = 0; j <= nb; j++) { m.push(new Array(nb).fill(0)); }",
    "  s.held.forEach(function (c) { m[c[0]][c[1]] = c[2]; });",
    "  return m;",
    "});",
    "var tot = [], top = 1;",
    "for (var j = 0; j <= nb; j++) {",
    "  var sum = 0;",
    "  for (var k = 0; k < ns; k++) sum += held[k][j].reduce(function (a, b) { return a + b; }, "
    "0);",
    "  tot.push(sum); if (sum > top) top = sum;",
    "}",
    "function x(j) { return X0 + (W - X0 - 10) * j / nb; }",
    "function y(v) { return Y0 + PH - PH * v / top; }",
    "var colors = ['#e6550d', '#3182bd', '#31a354', '#756bb1', '#636363', '#fd8d3c', '#6baed6',",
    "              '#74c476', '#9e9ac8', '#969696', '#c7c7c7'];",
    "var base = new Array(nb + 1).fill(0);",
    "for (var k = 0; k < ns; k++) {",
    "  var lo = base.slice(), pts = [];",
    "  for (var j = 0; j <= nb; j++) {",
    "    base[j] += held[k][j].reduce(function (a, b) { return a + b; }, 0);",
    "    pts.push(x(j).toFixed(1) + ',' + y(base[j]).toFixed(1));",
    "  }",
    "  for (var j = nb; j >= 0; j--) pts.push(x(j).toFixed(1) + ',' + y(lo[j]).toFixed(1));",
    "  var p = document.createElementNS(NS, 'polygon');",
    "  p.setAttribute('points', pts.join(' '));",
    "  p.setAttribute('fill', colors[k % colors.length]);",
    "  p.setAttribute('class', 'band');",
    "  var t = document.createElementNS(NS, 'title');",
    "  t.textContent = d.series[k].label;",
    "  p.appendChild(t);",
    "  svg.appendChild(p);",
    "  var sw = table.rows[k + 1].cells[0].querySelector('.swatch');",
    "  if (sw) sw.style.background = colors[k % colors.length];",
    "}",
    "var sel = document.createElementNS(NS, 'rect');",
    "sel.setAttribute('class', 'sel'); sel.setAttribute('y', Y0); sel.setAttribute('height', PH);",
    "svg.appendChild(sel);",
    "function fmt(v) { return v.toLocaleString('en-US'); }",
    "function fmtB(v) {",
    "  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, x = v;",
    "  while (Math.abs(x) >= 1024 && i < 4) { x /= 1024; i++; }",
    "  return i ? x.toFixed(x >= 100 ? 0 : 1) + ' ' + u[i] + ' (' + fmt(v) + ' B)' : fmt(v) + ' "
    "B';",
    "}",
    "/* a group's flat lists (README, Time windows): what it allocated in buckets [a, b) as",
    "   [calls, bytes], and what of that it still held at t[b] */",
    "function alloc(l, a, b) {",
    "  var r = [0, 0];",
    "  for (var i = 0; i < l.length; i += 3)",
    "    if (l[i] >= a && l[i] < b) { r[0] += l[i + 1]; r[1] += l[i + 2]; }",
    "  return r;",
    "}",
    "function heldIn(l, a, b) {",
    "  var h = 0;",
    "  for (var i = 0; i < l.length; i += 3) if (l[i] >= a && l[i] < b && l[i + 1] > b) h += l[i + "
    "2];",
    "  return h;",
    "}",
    "/* the flame graph of bytes allocated: redrawn box by box for the window */",
    "var fsvg = document.querySelector('svg.mt-flame[data-cost=\"allocated\"]');",
    "var fapi = fsvg && fsvg.mtFlame, fl = d.flame, cost = 'allocated';",
    "if (!fapi || !fl || fl.a.length !== fapi.nodes.length) fl = null;",
    "var fn = fl ? fapi.nodes : [], par = [], up = [];",
    "var orig = fn.map(function (n) { return { v: n.v, info: n.info }; });",
    "fn.forEach(function (n, i) {",
    "  while (up.length && fn[up[up.length - 1]].d >= n.d) up.pop();",
    "  par.push(up.length ? up[up.length - 1] : -1); up.push(i);",
    "});",
    "var fsub = fsvg ? fsvg.querySelector('.sub') : null, fsub0 = fsub ? fsub.textContent : '';",
    "if (fl && fl.h) {",
    "  var pick = document.createElement('select');",
    "  pick.className = 'wcost'; pick.id = 'mt-wcost';",
    "  pick.setAttribute('aria-label', 'what the flame graph measures');",
    "  [['allocated', 'bytes allocated'], ['held', 'bytes of them held at the end']].forEach(",
    "    function (o) { var e = document.createElement('option'); e.value = o[0];",
    "                   e.textContent = o[1]; pick.appendChild(e); });",
    "  pick.addEventListener('change', function () { cost = pick.value; show(cur[0], cur[1]); });",
    "  fsvg.parentNode.insertBefore(pick, fsvg);",
    "}",
    "function flame(a, b, whole) {",
    "  if (!fl) return;",
    "  if (whole && cost === 'allocated') {",
    "    fapi.relayout(orig.map(function (o) { return o.v; }), orig.map(function (o) { return "
    "o.info; }));",
    "    if (fsub) fsub.textContent = fsub0;",
    "    return;",
    "  }",
    "  var v = [], c = [], info = [], i;",
    "  for (i = 0; i < fn.length; i++) {",
    "    var s = alloc(fl.a[i], a, b);",
    "    c.push(s[0]); v.push(cost === 'held' ? heldIn(fl.h[i], a, b) : s[1]);",
    "  }",
    "  for (i = fn.length - 1; i > 0; i--) { v[par[i]] += v[i]; c[par[i]] += c[i]; }",
    "  var what = (cost === 'held' ? ' held at the end of ' : ' allocated in ') +",
    "    (whole ? 'the run' : 'the window');",
    "  for (i = 0; i < fn.length; i++) {",
    "    var l = orig[i].info.split('\\n');",
    "    info.push(l[0] + '\\n' + l[1] + '\\n' + fmtB(v[i]) + what + ' (' +",
    "              (v[0] ? (100 * v[i] / v[0]).toFixed(2) : '0.00') + '%)\\n' + fmt(c[i]) +",
    "              ' allocations in ' + (whole ? 'the run' : 'the window'));",
    "  }",
    "  fapi.relayout(v, info);",
    "  if (fsub) fsub.textContent = (whole ? 'whole run' : 'window ' + d.t[a].toFixed(3) +",
    "    ' s to ' + d.t[b].toFixed(3) + ' s') + ': total ' + fmtB(v[0]) + what;",
    "}",
    "/* the top sites table: its figures for the window, the peak column stays the run's */",
    "var st = document.querySelector('table.sites'), srows = [], head0 = [];",
    "if (st && d.sites) {",
    "  srows = Array.prototype.slice.call(st.querySelectorAll('tr[data-w]'));",
    "  head0 = Array.prototype.map.call(st.rows[0].cells, function (c) { return c.textContent; });",
    "}",
    "var sorig = srows.map(function (tr) {",
    "  return [0, 1, 3].map(function (c) {",
    "    return [tr.cells[c].textContent, tr.cells[c].getAttribute('data-value')];",
    "  });",
    "});",
    "function sites(a, b, whole) {",
    "  if (!srows.length) return;",
    "  var h = whole ? head0 : ['allocated in the window', 'allocations in it', 'at the peak ' +",
    "                          '(whole run)', 'held at window end'];",
    "  for (var c = 0; c < 4; c++) st.rows[0].cells[c].textContent = h[c];",
    "  srows.forEach(function (tr, k) {",
    "    /* rows past the data (README): no figure rather than the run's */",
    "    var r = +tr.getAttribute('data-w'), l = d.sites.a[r], hl = d.sites.h[r];",
    "    var s = l ? alloc(l, a, b) : null, hv = hl ? heldIn(hl, a, b) : null;",
    "    var v = [s ? [fmtB(s[1]), s[1]] : ['\u2013', ''], s ? [fmt(s[0]), s[0]] : ['\u2013', ''],",
    "             hl ? [fmtB(hv), hv] : ['\u2013', '']];",
    "    [0, 1, 3].forEach(function (c, i) {",
    "      var x = whole ? sorig[k][i] : v[i];",
    "      tr.cells[c].textContent = x[0]; tr.cells[c].setAttribute('data-value', x[1]);",
    "    });",
    "  });",
    "  st.setAttribute('data-window', whole ? '' : d.t[a] + '-' + d.t[b]);",
    "}",
    "/* the summary, the leak totals and the threads table: the run's groups for the window "
    "(README,",
    "   Time windows); what cannot follow says it is the whole run's */",
    "var run = d.run, sum = document.querySelector('table.summary'), saved = [];",
    "function keep(el) {",
    "  if (saved.some(function (x) { return x[0] === el; })) return;",
    "  saved.push([el, el.textContent, el.getAttribute('data-value'), "
    "el.getAttribute('data-blocks')]);",
    "}",
    "function restore() {",
    "  saved.forEach(function (x) {",
    "    x[0].textContent = x[1];",
    "    [['data-value', x[2]], ['data-blocks', x[3]]].forEach(function (at) {",
    "      if (at[1] === null) x[0].removeAttribute(at[0]); else x[0].setAttribute(at[0], at[1]);",
    "    });",
    "  });",
    "  saved = [];",
    "}",
    "function put(td, v, bytes) {",
    "  if (!td) return;",
    "  keep(td);",
    "  td.textContent = v === null ? '\\u2013' : bytes ? fmtB(v) : fmt(v);",
    "  td.setAttribute('data-value', v === null ? '' : v);",
    "}",
    "/* 4 numbers an entry: bytes and blocks held at t[b] of what was allocated in [a, b) */",
    "function held4(l, a, b) {",
    "  var r = [0, 0];",
    "  for (var i = 0; i < l.length; i += 4)",
    "    if (l[i] >= a && l[i] < b && l[i + 1] > b) { r[0] += l[i + 2]; r[1] += l[i + 3]; }",
    "  return r;",
    "}",
    "/* calls, bytes, frees, bytes freed, held bytes and blocks at the end */",
    "function runFig(a, b) {",
    "  var s = [0, 0, 0, 0, 0, 0], l = run.a, h = run.h, i;",
    "  for (i = 0; i < l.length; i += 5)",
    "    if (l[i] >= a && l[i] < b) {",
    "      s[0] += l[i + 1]; s[1] += l[i + 2]; s[2] += l[i + 3]; s[3] += l[i + 4];",
    "    }",
    "  var k = held4(h, a, b);",
    "  s[4] = k[0]; s[5] = k[1];",
    "  /* frees in the window of blocks allocated before it: not the window's */",
    "  for (i = 0; i < h.length; i += 4)",
    "    if (h[i] < a && h[i + 1] > a && h[i + 1] <= b) { s[2] -= h[i + 3]; s[3] -= h[i + 2]; }",
    "  return s;",
    "}",
    "/* the peak inside the window: the heap's highest from its start (heap0[a]) on, first reached "
    "in",
    "   the first bucket that rose that high; the window's blocks held then (README, Time windows) "
    "*/",
    "function peakFig(a, b) {",
    "  var P = d.peak, best = P.heap0[a], at = -1, r = [0, 0, 0], i;",
    "  for (var j = a; j < b; j++) if (P.m[j] !== null && P.m[j] > best) { best = P.m[j]; at = j; "
    "}",
    "  if (at < 0) { r[2] = a ? Math.round(d.t[a] * 1e6) + 1 : Math.round(d.t[0] * 1e6); return r; "
    "}",
    "  var sp = P.split[at];",
    "  for (i = 0; i < sp.length; i += 3) if (sp[i] >= a) { r[0] += sp[i + 1]; r[1] += sp[i + 2]; "
    "}",
    "  r[2] = P.at[at];",
    "  return r;",
    "}",
    "function secs(us) { return (us / 1e6).toFixed(3) + ' s'; }",
    "/* the flame graph of the peak: each box's bytes at the window's peak, of the blocks "
    "allocated",
    "   since its start (README, Time windows); a site of no cost at the run's peak is the root's "
    "*/",
    "var psvg = document.querySelector('svg.mt-flame[data-cost=\"peak\"]');",
    "var papi = psvg && psvg.mtFlame, pf = d.peakflame;",
    "if (!papi || !pf || pf.length !== papi.nodes.length) pf = null;",
    "var pn = pf ? papi.nodes : [], ppar = [], pup = [];",
    "var porig = pn.map(function (n) { return { v: n.v, info: n.info }; });",
    "pn.forEach(function (n, i) {",
    "  while (pup.length && pn[pup[pup.length - 1]].d >= n.d) pup.pop();",
    "  ppar.push(pup.length ? pup[pup.length - 1] : -1); pup.push(i);",
    "});",
    "var psub = psvg ? psvg.querySelector('.sub') : null, psub0 = psub ? psub.textContent : '';",
    "function pflame(a, b, whole) {",
    "  if (!pf) return;",
    "  if (whole) {",
    "    papi.relayout(porig.map(function (o) { return o.v; }), porig.map(function (o) { return "
    "o.info; }));",
    "    if (psub) psub.textContent = psub0;",
    "    return;",
    "  }",
    "  var P = d.peak, best = P.heap0[a], at = -1, v = [], info = [], i, j, k;",
    "  for (j = a; j < b; j++) if (P.m[j] !== null && P.m[j] > best) { best = P.m[j]; at = j; }",
    "  for (i = 0; i < pn.length; i++) {",
    "    var s = 0, l = pf[i];",
    "    for (k = 0; at >= 0 && k < l.length; k += 3) if (l[k] === at && l[k + 1] >= a) s += l[k + "
    "2];",
    "    v.push(s);",
    "  }",
    "  for (i = pn.length - 1; i > 0; i--) v[ppar[i]] += v[i];",
    "  for (i = 0; i < pn.length; i++) {",
    "    var ln = porig[i].info.split('\\n');",
    "    info.push(ln[0] + '\\n' + ln[1] + '\\n' + fmtB(v[i]) + ' held at the window\\'s peak (' +",
    "              (v[0] ? (100 * v[i] / v[0]).toFixed(2) : '0.00') + '%)');",
    "  }",
    "  papi.relayout(v, info);",
    "  if (psub) psub.textContent = 'window ' + d.t[a].toFixed(3) + ' s to ' + d.t[b].toFixed(3) +",
    "    ' s: ' + fmtB(v[0]) + ' held at its peak' + (at >= 0 ? ', ' + secs(P.at[at]) : '');",
    "}",
    "var runKeys = ['duration_us', 'process_peak_heap_bytes', 'peak_rss_bytes',",
    "               'mmap_calls', 'custom_allocations'];",
    "function summary(a, b) {",
    "  if (!sum || !run) return;",
    "  var s = runFig(a, b);",
    "  [['allocations', s[0], 0], ['bytes_allocated', s[1], 1], ['frees', s[2], 0],",
    "   ['leaked_bytes', s[4], 1], ['leaked_blocks', s[5], 0]].forEach(function (x) {",
    "    put(sum.querySelector('td[data-key=\"' + x[0] + '\"]'), x[1], x[2]);",
    "  });",
    "  Array.prototype.forEach.call(sum.rows, function (tr) {",
    "    var td = tr.querySelector('td[data-key]'), th = tr.cells[0];",
    "    var k = td ? td.getAttribute('data-key') : '';",
    "    if (k === 'leaked_bytes' || k === 'leaked_blocks') {",
    "      keep(th); th.textContent = (k === 'leaked_blocks' ? 'blocks ' : '') + 'held at window "
    "end';",
    "    } else if (runKeys.indexOf(k) >= 0) {",
    "      keep(th); th.textContent += ' (whole run)';",
    "    }",
    "  });",
    "  sum.setAttribute('data-frees-bytes', s[3]);",
    "  var pk = d.peak ? peakFig(a, b) : null, pc = "
    "sum.querySelector('td[data-key=\"peak_heap_bytes\"]');",
    "  if (pk && pc) {",
    "    put(pc, pk[0], 1);",
    "    pc.setAttribute('data-blocks', pk[1]);",
    "    pc.setAttribute('data-time-us', pk[2]);",
    "    var th = pc.parentNode.cells[0], note = pc.nextElementSibling;",
    "    keep(th); th.textContent = 'peak heap in the window';",
    "    if (note) { keep(note); note.textContent = 'in ' + fmt(pk[1]) + ' blocks at ' + "
    "secs(pk[2]); }",
    "  }",
    "}",
    "var thr = document.querySelector('table.threads');",
    "function threads(a, b) {",
    "  if (!thr || !d.threads) return;",
    "  var T = d.threads;",
    "  Array.prototype.forEach.call(thr.querySelectorAll('tr.thread-lane'), function (tr) {",
    "    var i = T.tid.indexOf(+tr.getAttribute('data-tid'));",
    "    var s = i >= 0 ? alloc(T.a[i], a, b) : null, h = i >= 0 && T.h[i] ? held4(T.h[i], a, b) : "
    "null;",
    "    put(tr.querySelector('td[data-key=\"thread_allocations\"]'), s && s[0], 0);",
    "    put(tr.querySelector('td[data-key=\"thread_bytes_allocated\"]'), s && s[1], 1);",
    "    var hc = tr.querySelector('td[data-key=\"thread_held_bytes\"]');",
    "    put(hc, h && h[0], 1);",
    "    if (hc) hc.setAttribute('data-blocks', h ? h[1] : '');",
    "  });",
    "  var hd = thr.rows[0].cells;",
    "  [4, 5].forEach(function (c) { keep(hd[c]); hd[c].textContent += ' (whole run)'; });",
    "  keep(hd[6]); hd[6].textContent = 'held at window end';",
    "}",
    "var lt = document.querySelector('table.leak-totals'), lrow = null;",
    "function leaks(a, b, whole) {",
    "  if (!lt || !run) return;",
    "  if (lrow) { lrow.parentNode.removeChild(lrow); lrow = null; }",
    "  Array.prototype.slice.call(lt.rows, 1).forEach(function (tr) {",
    "    tr.style.display = whole ? '' : 'none';",
    "  });",
    "  if (whole) return;",
    "  lrow = lt.insertRow(-1);",
    "  lrow.setAttribute('data-kind', 'window');",
    "  lrow.insertCell(-1).textContent = 'held at window end (unclassified)';",
    "  var s = runFig(a, b), c = lrow.insertCell(-1);",
    "  c.className = 'n'; c.textContent = fmtB(s[4]); c.setAttribute('data-value', s[4]);",
    "  c = lrow.insertCell(-1);",
    "  c.className = 'n'; c.textContent = fmt(s[5]); c.setAttribute('data-value', s[5]);",
    "}",
    "/* the sections that stay the whole run's, and why (README, Time windows) */",
    "var notes = [",
    "  ['flame-peak', 'Whole run: the summary gives the window\\'s peak; its flame graph would ' +",
    "   'need each box\\'s share at every bucket\\'s peak, by bucket of allocation, which the page "
    "' +",
    "   'does not carry. memtrace peak --from --to shows it.'],",
    "  ['flame-leaked', 'Whole run: what the window\\'s allocations still held at its end is the ' "
    "+",
    "   'flame graph of bytes allocated with \"bytes of them held at the end\", and by site the "
    "top ' +",
    "   'sites table.'],",
    "  ['lines', 'The figures allocated and at the window\\'s end follow the window; those at the "
    "' +",
    "   'peak are the whole run\\'s.'],",
    "  ['leaks', 'The totals show what the window allocated and still held at its end, ' +",
    "   'unclassified; the leak records below are the whole run\\'s.'],",
    "  ['fragmentation', 'Whole run: memtrace fragmentation --from --to describes a window.']];",
    "function note(whole) {",
    "  notes.forEach(function (n) {",
    "    var h = document.getElementById(n[0]), p = document.getElementById(n[0] + '-wnote');",
    "    if (p) p.parentNode.removeChild(p);",
    "    if (!h || whole || (n[0] === 'flame-peak' && pf)) return;",
    "    p = document.createElement('p');",
    "    p.id = n[0] + '-wnote'; p.className = 'warn wnote'; p.textContent = n[1];",
    "    h.parentNode.insertBefore(p, h.nextSibling);",
    "  });",
    "}",
    "/* the window chart: inside the window, the held bytes of the window's own blocks (what",
    "   memtrace timeline --from --to draws), over the run's bands drawn faint */",
    "var wbands = [];",
    "function chart(a, b, whole) {",
    "  wbands.forEach(function (p) { p.parentNode.removeChild(p); });",
    "  wbands = [];",
    "  Array.prototype.forEach.call(svg.querySelectorAll('polygon.band'), function (p) {",
    "    p.style.opacity = whole ? '' : '0.25';",
    "  });",
    "  if (whole) return;",
    "  var base = new Array(nb + 1).fill(0);",
    "  for (var k = 0; k < ns; k++) {",
    "    var lo = base.slice(), pts = [], j, i;",
    "    for (j = a; j <= b; j++) {",
    "      for (i = a; i < j; i++) base[j] += held[k][j][i];",
    "      pts.push(x(j).toFixed(1) + ',' + y(base[j]).toFixed(1));",
    "    }",
    "    for (j = b; j >= a; j--) pts.push(x(j).toFixed(1) + ',' + y(lo[j]).toFixed(1));",
    "    var p = document.createElementNS(NS, 'polygon');",
    "    p.setAttribute('points', pts.join(' '));",
    "    p.setAttribute('fill', colors[k % colors.length]);",
    "    p.setAttribute('class', 'wband');",
    "    p.setAttribute('data-held-end', base[b] - lo[b]);",
    "    var t = document.createElementNS(NS, 'title');",
    "    t.textContent = d.series[k].label + ', allocated in the window';",
    "    p.appendChild(t);",
    "    svg.insertBefore(p, sel);",
    "    wbands.push(p);",
    "  }",
    "}",
    "/* the bounds of memtrace --from/--to that give the window's figures: a bucket begins just",
    "   after its bound (the events at t[a] are the bucket before's) */",
    "function cli(a, b) {",
    "  var f = a ? ((Math.round(d.t[a] * 1e6) + 1) / 1e6).toFixed(6) : d.t[0] ? d.t[0].toFixed(6) "
    ": '0';",
    "  return '--from ' + f + ' --to ' + (b === nb ? 'end' : d.t[b].toFixed(6));",
    "}",
    "/* the script line by line: what each line allocated in the window, own and incl., and held "
    "at",
    "   its end; the peak's columns stay the run's */",
    "var lt2 = document.querySelector('table.lines');",
    "function lines(a, b) {",
    "  if (!lt2 || !d.lines) return;",
    "  var L = d.lines;",
    "  Array.prototype.forEach.call(lt2.querySelectorAll('tr[data-line]'), function (tr) {",
    "    var i = L.line.indexOf(+tr.getAttribute('data-line'));",
    "    if (i < 0) return;",
    "    ['own', 'incl'].forEach(function (k) {",
    "      var s = alloc(L[k].a[i], a, b), h = L[k].h[i] ? heldIn(L[k].h[i], a, b) : null;",
    "      [[k + '_bytes_allocated', s[1], 1], [k + '_allocations', s[0], 0],",
    "       [k + '_end_bytes', h, 1]].forEach(function (x) {",
    "        var td = tr.querySelector('td[data-fig=\"' + x[0] + '\"]');",
    "        if (!td) return;",
    "        keep(td);",
    "        td.textContent = x[1] === null ? '\\u2013' : !x[1] ? '' : x[2] ? fmtB(x[1]) : "
    "fmt(x[1]);",
    "        td.setAttribute('data-value', x[1] === null ? '' : x[1]);",
    "      });",
    "    });",
    "  });",
    "  var hd = lt2.rows[0].cells;",
    "  keep(hd[2]); hd[2].textContent = 'At peak (whole run)';",
    "  keep(hd[3]); hd[3].textContent = 'At window end';",
    "}",
    "/* the banner: which window the whole page describes, and the way back */",
    "var banner = document.getElementById('mt-wbanner');",
    "function tell(a, b, whole) {",
    "  if (!banner) return;",
    "  banner.hidden = false;",
    "  banner.setAttribute('data-from', whole ? '' : d.t[a]);",
    "  banner.setAttribute('data-to', whole ? '' : d.t[b]);",
    "  if (whole) {",
    "    banner.textContent = 'This page shows the whole ' +",
    "      (document.querySelector('p[data-key=\"window\"]') ? 'window it was made for' : 'run') +",
    "      '. Drag across the window chart to see a part of it.';",
    "    return;",
    "  }",
    "  banner.setAttribute('data-cli', cli(a, b));",
    "  banner.textContent = 'This page shows the window ' + d.t[a].toFixed(3) + ' s to ' +",
    "    d.t[b].toFixed(3) + ' s (memtrace report ' + cli(a, b) + '): what was allocated in it and "
    "' +",
    "    'held at its end, in the summary, the window chart, the flame graph of bytes allocated, ' "
    "+",
    "    'the threads, the top sites, the leak totals and the script\\'s lines; the peak heap ' +",
    "    (pf ? 'and its flame graph are' : 'is') + ' the window\\'s. The flame graph' +",
    "    (pf ? ' of the leaks' : 's of the peak and of the leaks') + ', the leak records and the ' "
    "+",
    "    'fragmentation are the whole run\\'s (each says so). ';",
    "  if (d.script_end_s !== undefined && d.t[b] >= d.script_end_s)",
    "    banner.textContent += 'The window ends after the script did: what it held is taken at the "
    "' +",
    "      'window\\'s end, where memtrace report --to and lines --to take it at the script\\'s "
    "end. ';",
    "  var back = document.createElement('a');",
    "  back.href = '#'; back.id = 'mt-wback'; back.textContent = 'Back to the whole run';",
    "  back.addEventListener('click', function (e) {",
    "    e.preventDefault(); show(0, nb);",
    "    try { history.replaceState(null, '', location.pathname + location.search); } catch (x) {}",
    "  });",
    "  banner.appendChild(back);",
    "}",
    "var cur = [0, nb];",
    "function show(a, b, light) {",
    "  if (b <= a) b = Math.min(nb, a + 1);",
    "  if (b <= a) a = b - 1;",
    "  cur = [a, b];",
    "  sel.setAttribute('x', x(a)); sel.setAttribute('width', Math.max(1, x(b) - x(a)));",
    "  var ta = 0, tb = 0, th = 0;",
    "  for (var k = 0; k < ns; k++) {",
    "    var s = d.series[k], n = s.allocs[b] - s.allocs[a], by = s.bytes[b] - s.bytes[a], h = 0;",
    "    for (var i = a; i < b; i++) h += held[k][b][i];",
    "    var row = table.rows[k + 1];",
    "    [n, by, h].forEach(function (v, c) {",
    "      row.cells[c + 1].textContent = fmt(v); row.cells[c + 1].setAttribute('data-value', v);",
    "    });",
    "    ta += n; tb += by; th += h;",
    "  }",
    "  table.setAttribute('data-from', d.t[a]); table.setAttribute('data-to', d.t[b]);",
    "  table.setAttribute('data-allocations', ta); table.setAttribute('data-bytes', tb);",
    "  table.setAttribute('data-held', th);",
    "  document.getElementById('mt-wlabel').textContent = 'window ' + d.t[a].toFixed(3) + ' s to ' "
    "+",
    "    d.t[b].toFixed(3) + ' s: ' + fmt(ta) + ' allocations, ' + fmt(tb) + ' B allocated, ' +",
    "    fmt(th) + ' B of them held at its end';",
    "  if (light) return; /* while dragging: the chart's table only */",
    "  var whole = a === 0 && b === nb;",
    "  restore(); flame(a, b, whole); pflame(a, b, whole); sites(a, b, whole); tell(a, b, whole);",
    "  chart(a, b, whole);",
    "  if (!whole) { summary(a, b); threads(a, b); lines(a, b); }",
    "  leaks(a, b, whole); note(whole);",
    "  document.documentElement.setAttribute('data-window', whole ? '' : d.t[a] + '-' + d.t[b]);",
    "}",
    "function bucketAt(ev) {",
    "  var r = svg.getBoundingClientRect(), fx = (ev.clientX - r.left) * W / r.width;",
    "  return Math.max(0, Math.min(nb, (fx - X0) * nb / (W - X0 - 10)));",
    "}",
    "var start = null;",
    "svg.addEventListener('mousedown', function (ev) { start = bucketAt(ev); ev.preventDefault(); "
    "});",
    "svg.addEventListener('mousemove', function (ev) {",
    "  if (start === null) return;",
    "  var e = bucketAt(ev);",
    "  show(Math.floor(Math.min(start, e)), Math.ceil(Math.max(start, e)), true);",
    "});",
    "window.addEventListener('mouseup', function () {",
    "  if (start === null) return;",
    "  start = null;",
    "  show(cur[0], cur[1]);",
    "  try { history.replaceState(null, '', '#window=' + d.t[cur[0]] + '-' + d.t[cur[1]]); }",
    "  catch (x) {}",
    "});",
    "var m = /(?:^#|&)window=([0-9.]+)-([0-9.]+)/.exec(location.hash), a = 0, b = nb;",
    "if (m) {",
    "  var f = +m[1], t = +m[2];",
    "  while (a < nb && d.t[a + 1] <= f) a++;",
    "  b = a + 1; while (b < nb && d.t[b] < t) b++;",
    "}",
    "show(a, b);",
    "svg.setAttribute('data-ready', '1');",
    "})();",
    NULL,
};

/* A figure: text for people, the exact integer for machines. */
static void mt_cell_bytes(FILE *o, const char *key, uint64_t v)
{
    char b[64];
    fprintf(o, "<td class=\"n\"%s%s%s data-value=\"%" PRIu64 "\">%s</td>",
            key ? " data-key=\"" : "", key ? key : "", key ? "\"" : "", v,
            mt_fmt_bytes_exact(b, sizeof b, v));
}

static void mt_cell_count(FILE *o, const char *key, uint64_t v)
{
    char b[32];
    fprintf(o, "<td class=\"n\"%s%s%s data-value=\"%" PRIu64 "\">%s</td>",
            key ? " data-key=\"" : "", key ? key : "", key ? "\"" : "", v,
            mt_fmt_count(b, sizeof b, v));
}

static void mt_frame_html(FILE *o, const mt_analysis_t *a, const mt_frame_t *f)
{
    const mt_module_t *m = mt_modules_get(a->modules, f->module);
    fputs("<span class=\"frame\">", o);
    char name[1024];
    if (f->function)
        mt_xml_escape(o, mt_name_show(f->function, name, sizeof name), 300);
    else
        fprintf(o, "0x%" PRIx64, f->address);
    if (f->inlined)
        fputs(" (inlined)", o);
    fputs("</span> <span class=\"muted\">", o);
    if (f->file) {
        mt_xml_escape(o, mt_path_show(f->file), 200);
        if (f->line)
            fprintf(o, ":%" PRIu32, f->line);
    } else if (m) {
        mt_xml_escape(o, m->basename, 200);
        fprintf(o, "+0x%" PRIx64, f->address);
    }
    if (f->python)
        fputs(" [Python]", o);
    fputs("</span>", o);
}

/* The frame a person looks at first (the first in their own code, else the innermost), then
 * the whole stack folded away. */
static void mt_stack_cell(FILE *o, const mt_analysis_t *a, const mt_frame_t *fr, size_t n,
                          long first, size_t max)
{
    fputs("<td>", o);
    if (!n) {
        fputs("<span class=\"muted\">no stack</span></td>", o);
        return;
    }
    mt_frame_html(o, a, &fr[first >= 0 ? (size_t)first : 0]);
    fputs("<details><summary>stack</summary><ol class=\"stack\">", o);
    for (size_t i = 0; i < n && i < max; i++) {
        fputs("<li>", o);
        mt_frame_html(o, a, &fr[i]);
        fputs("</li>", o);
    }
    fputs("</ol>", o);
    if (n > max)
        fprintf(o, "<span class=\"muted\">... %zu more frames</span>", n - max);
    fputs("</details></td>", o);
}

static int mt_b64_timeline(FILE *o, const mt_analysis_t *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -ENOMEM;
    int rc = mt_timeline_svg(a, m);
    if (fclose(m) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)buf;
    fputs("<img class=\"timeline\" alt=\"heap, RSS and allocator footprint over time\" "
          "src=\"data:image/svg+xml;base64,",
          o);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        fputc(tab[v >> 18 & 63], o);
        fputc(tab[v >> 12 & 63], o);
        fputc(i + 1 < len ? tab[v >> 6 & 63] : '=', o);
        fputc(i + 2 < len ? tab[v & 63] : '=', o);
    }
    fputs("\">\n", o);
    free(buf);
    return 0;
}

static void mt_summary_html(FILE *o, const mt_report_summary_t *rep)
{
    const mt_analysis_t *a = rep->a;
    const mt_replay_t *r = &a->replay;
    char b[64], c[64];
    fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\">\n", o);
    fputs("<tr><th>command</th><td data-key=\"command\"><code>", o);
    mt_h(o, rep->command);
    fputs("</code></td></tr>\n", o);
    fputs("<tr><th>pid</th>", o);
    mt_cell_count(o, "pid", a->process.present ? a->process.pid : a->header_pid);
    fputs("</tr>\n<tr><th>exit</th><td data-key=\"exit\">", o);
    if (r->has_exit)
        fprintf(o, "%s %" PRIu64, mt_render_exit_reason(r->exit_reason), r->exit_status);
    else
        fputs("none (the log ends early)", o);
    fprintf(o,
            "</td></tr>\n<tr><th>duration</th><td class=\"n\" data-key=\"duration_us\" "
            "data-value=\"%" PRIu64 "\">%s</td></tr>\n",
            r->last_time_us, mt_fmt_seconds(b, sizeof b, r->last_time_us));
    fputs("<tr><th>allocations</th>", o);
    mt_cell_count(o, "allocations", r->allocations);
    fputs("</tr>\n<tr><th>frees</th>", o);
    mt_cell_count(o, "frees", r->frees);
    fputs("</tr>\n<tr><th>bytes allocated</th>", o);
    mt_cell_bytes(o, "bytes_allocated", r->bytes_allocated);
    fputs("</tr>\n<tr><th>peak heap</th>", o);
    mt_cell_bytes(o, "peak_heap_bytes", r->peak_heap_bytes);
    fprintf(o, "<td class=\"muted\">in %s blocks at %s</td></tr>\n",
            mt_fmt_count(b, sizeof b, r->peak_heap_blocks),
            mt_fmt_seconds(c, sizeof c, r->peak_time_us));
    if (a->thread_filter) { /* replay.h: these threads' part of the process's peak */
        fputs("<tr><th>process peak</th>", o);
        mt_cell_bytes(o, "process_peak_heap_bytes", r->all_peak_bytes);
        fputs("<td class=\"muted\">all threads; the figures on this page are those of the "
              "threads below</td></tr>\n<tr><th>threads</th><td data-key=\"thread_filter\">",
              o);
        mt_render_thread_list(o, a, mt_h, SIZE_MAX);
        fputs(r->nsel ? " only" : "none", o);
        fputs("</td></tr>\n", o);
    }
    fputs("<tr><th>peak RSS</th>", o);
    if (r->nsamples_total)
        mt_cell_bytes(o, "peak_rss_bytes", r->peak_rss_bytes);
    else
        fputs("<td class=\"n\" data-key=\"peak_rss_bytes\" data-value=\"0\">not sampled</td>", o);
    mt_held_t held = mt_analysis_held(a);
    fprintf(o, "</tr>\n<tr><th>%s</th>",
            held.at_script_end ? "held at script end" : "not freed at exit");
    mt_cell_bytes(o, "leaked_bytes", held.bytes);
    fprintf(o, "</tr>\n<tr><th>blocks %s</th>",
            held.at_script_end ? "held at script end" : "not freed at exit");
    mt_cell_count(o, "leaked_blocks", held.blocks);
    fputs("</tr>\n<tr><th>anonymous mmap calls</th>", o);
    mt_cell_count(o, "mmap_calls", r->mmap_calls);
    if (r->allocs_by_kind[MT_ALLOC_CUSTOM] || r->custom_blocks) { /* memtrace.h's blocks */
        fputs("</tr>\n<tr><th>custom blocks</th>", o);
        mt_cell_count(o, "custom_allocations", r->allocs_by_kind[MT_ALLOC_CUSTOM]);
        char d[64];
        fprintf(o, "<td class=\"muted\">%s allocated; %s not freed (%s)</td>",
                mt_fmt_bytes(b, sizeof b, r->custom_bytes_allocated),
                mt_fmt_count(c, sizeof c, r->custom_blocks),
                mt_fmt_bytes(d, sizeof d, r->custom_bytes));
    }
    if (a->marks.n) { /* memtrace_mark, in order; the timeline draws them too */
        fputs("</tr>\n<tr><th>marks</th><td data-key=\"marks\">", o);
        for (size_t i = 0; i < a->marks.n; i++) {
            fputs(i ? ", " : "", o);
            mt_h(o, a->marks.v[i].name);
            fprintf(o, " at %s", mt_fmt_seconds(c, sizeof c, a->marks.v[i].time_us));
        }
        fputs("</td>", o);
    }
    fputs("</tr>\n</table>\n", o);
}

static void mt_sites_html(FILE *o, const mt_counter_t *cnt, const mt_report_summary_t *rep,
                          size_t frames)
{
    fputs("<h2 id=\"sites\">Top allocation sites by bytes allocated</h2>\n", o);
    if (!rep->nby_bytes) {
        fputs("<p class=\"muted\">no allocations</p>\n", o);
        return;
    }
    fputs("<table class=\"sites\">\n<tr><th>bytes allocated</th><th>allocations</th>"
          "<th>at the peak</th><th>not freed</th><th>thread</th><th>where</th></tr>\n",
          o);
    uint64_t start = mt_written(o, cnt);
    size_t i = 0;
    for (; i < rep->nby_bytes && !mt_table_full(o, cnt, start); i++) {
        const mt_site_t *s = &rep->sites.v[rep->by_bytes[i]];
        fprintf(o, "<tr data-w=\"%zu\">", i); /* its figures in a window: sites.a[i], h[i] */
        mt_cell_bytes(o, NULL, s->bytes_allocated);
        mt_cell_count(o, NULL, s->allocations);
        mt_cell_bytes(o, NULL, s->peak_bytes);
        mt_cell_bytes(o, NULL, s->leaked_bytes);
        char threads[256];
        fprintf(o, "<td data-key=\"site_thread_count\" data-value=\"%" PRIu32 "\">", s->nthreads);
        mt_h(o, mt_site_threads_label(threads, sizeof threads, rep->a, s));
        fputs("</td>", o);
        mt_stack_cell(o, rep->a, s->frames, s->nframes, 0, frames);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n", o);
    mt_table_cut(o, i, rep->nby_bytes);
}

/* Groups g[from..to) of the window series as {"a": [...], "h": [...]}: per group a flat list,
 * a: (bucket, calls, bytes) of the buckets it allocated in, h: its held entries (b, f, bytes).
 * held 0: no "h" key; else the groups' lists while their entries fit in MT_HTML_WHELD_MAX,
 * then null. */
static void mt_wgroups_json(mt_json_t *j, const mt_wseries_t *w, size_t from, size_t to, int held)
{
    size_t budget = MT_HTML_WHELD_MAX;
    mt_json_object_begin(j);
    mt_json_key(j, "a");
    mt_json_array_begin(j);
    for (size_t i = from; i < to; i++) {
        mt_json_array_begin(j);
        for (unsigned b = 0; b < w->nb; b++) {
            if (!w->g[i].calls[b] && !w->g[i].bytes[b])
                continue;
            mt_json_u64(j, b);
            mt_json_u64(j, w->g[i].calls[b]);
            mt_json_u64(j, w->g[i].bytes[b]);
        }
        mt_json_array_end(j);
    }
    mt_json_array_end(j);
    if (held) {
        mt_json_key(j, "h");
        mt_json_array_begin(j);
        for (size_t i = from; i < to; i++) {
            if (w->g[i].nheld > budget) { /* this one and the rest: the page stays bounded */
                budget = 0;
                mt_json_null(j);
                continue;
            }
            budget -= w->g[i].nheld;
            mt_json_array_begin(j);
            for (size_t e = 0; e < w->g[i].nheld; e++) {
                mt_json_u64(j, w->g[i].held[e].b);
                mt_json_u64(j, w->g[i].held[e].f);
                mt_json_i64(j, w->g[i].held[e].bytes);
            }
            mt_json_array_end(j);
        }
        mt_json_array_end(j);
    }
    mt_json_object_end(j);
}

/* The run's group (window_series.h) as {"a": [...], "h": [...]}: a, per bucket with any figure,
 * (bucket, calls, bytes, frees, bytes freed); h, its held entries (b, f, bytes, blocks). At most
 * nb and nb * (nb + 1) / 2 of them: the summary's and the leak totals' figures in any window. */
static void mt_wrun_json(mt_json_t *j, const mt_wseries_t *w)
{
    const mt_wgroup_t *g = &w->g[w->nspec];
    mt_json_object_begin(j);
    mt_json_key(j, "a");
    mt_json_array_begin(j);
    for (unsigned b = 0; b < w->nb; b++) {
        if (!g->calls[b] && !g->bytes[b] && !g->frees[b] && !g->freed[b])
            continue;
        mt_json_u64(j, b);
        mt_json_u64(j, g->calls[b]);
        mt_json_u64(j, g->bytes[b]);
        mt_json_i64(j, g->frees[b]);
        mt_json_i64(j, g->freed[b]);
    }
    mt_json_array_end(j);
    mt_json_key(j, "h");
    mt_json_array_begin(j);
    for (size_t e = 0; e < g->nheld; e++) {
        mt_json_u64(j, g->held[e].b);
        mt_json_u64(j, g->held[e].f);
        mt_json_i64(j, g->held[e].bytes);
        mt_json_i64(j, g->held[e].blocks);
    }
    mt_json_array_end(j);
    mt_json_object_end(j);
}

/* The threads' groups as {"tid": [...], "a": [...], "h": [...]}, one entry per thread in the
 * order of the replay: a as the sites' (bucket, calls, bytes), h (b, f, bytes, blocks), null
 * for the thread whose entries pass MT_HTML_WHELD_MAX in all and those after it. */
static void mt_wthreads_json(mt_json_t *j, const mt_wseries_t *w)
{
    const mt_wgroup_t *g = &w->g[w->nspec + 1];
    size_t budget = MT_HTML_WHELD_MAX;
    mt_json_object_begin(j);
    mt_json_key(j, "tid");
    mt_json_array_begin(j);
    for (size_t t = 0; t < w->nthr; t++)
        mt_json_u64(j, w->tid[t]);
    mt_json_array_end(j);
    mt_json_key(j, "a");
    mt_json_array_begin(j);
    for (size_t t = 0; t < w->nthr; t++) {
        mt_json_array_begin(j);
        for (unsigned b = 0; b < w->nb; b++) {
            if (!g[t].calls[b] && !g[t].bytes[b])
                continue;
            mt_json_u64(j, b);
            mt_json_u64(j, g[t].calls[b]);
            mt_json_u64(j, g[t].bytes[b]);
        }
        mt_json_array_end(j);
    }
    mt_json_array_end(j);
    mt_json_key(j, "h");
    mt_json_array_begin(j);
    for (size_t t = 0; t < w->nthr; t++) {
        if (g[t].nheld > budget) {
            budget = 0;
            mt_json_null(j);
            continue;
        }
        budget -= g[t].nheld;
        mt_json_array_begin(j);
        for (size_t e = 0; e < g[t].nheld; e++) {
            mt_json_u64(j, g[t].held[e].b);
            mt_json_u64(j, g[t].held[e].f);
            mt_json_i64(j, g[t].held[e].bytes);
            mt_json_i64(j, g[t].held[e].blocks);
        }
        mt_json_array_end(j);
    }
    mt_json_array_end(j);
    mt_json_object_end(j);
}

/* The heap's peak inside each bucket (window_series.h) as {"heap0": [...], "m": [...], "at":
 * [...], "split": [...]}, one entry per bucket: the process's heap at its start; its highest
 * inside it and when, in microseconds (null when it did not rise); the blocks that count then,
 * as flat triples (bucket of allocation, bytes, blocks), buckets of none left out. At most
 * nb * (nb + 1) / 2 triples. */
static void mt_wpeak_json(mt_json_t *j, const mt_wseries_t *w)
{
    mt_json_object_begin(j);
    mt_json_key(j, "heap0");
    mt_json_array_begin(j);
    for (unsigned b = 0; b < w->nb; b++)
        mt_json_u64(j, w->heap0[b]);
    mt_json_array_end(j);
    static const char *const keys[] = {"m", "at"};
    for (int k = 0; k < 2; k++) {
        mt_json_key(j, keys[k]);
        mt_json_array_begin(j);
        for (unsigned b = 0; b < w->nb; b++) {
            if (w->rose[b])
                mt_json_u64(j, k ? w->pk_us[b] : w->pk_bytes[b]);
            else
                mt_json_null(j);
        }
        mt_json_array_end(j);
    }
    mt_json_key(j, "split");
    mt_json_array_begin(j);
    for (unsigned b = 0; b < w->nb; b++) {
        if (!w->rose[b]) {
            mt_json_null(j);
            continue;
        }
        mt_json_array_begin(j);
        const uint64_t *v = w->pk_split + (size_t)b * w->nb * 2;
        for (unsigned k = 0; k <= b; k++) {
            if (!v[2 * k] && !v[2 * k + 1])
                continue;
            mt_json_u64(j, k);
            mt_json_u64(j, v[2 * k]);
            mt_json_u64(j, v[2 * k + 1]);
        }
        mt_json_array_end(j);
    }
    mt_json_array_end(j);
    mt_json_object_end(j);
}

/* The window chart and its table (see mt_html_window_js): the series as JSON in an attribute,
 * the table's rows with the site labels, the figures filled in by the script. */
static int mt_windows_html(FILE *o, const mt_report_page_t *page)
{
    const mt_wseries_t *w = &page->wseries;
    const mt_report_summary_t *rep = &page->summary;
    if (!w->nb)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -ENOMEM;
    mt_json_t j;
    mt_json_init(&j, m, 0);
    mt_json_object_begin(&j);
    mt_json_key(&j, "t");
    mt_json_array_begin(&j);
    for (unsigned i = 0; i <= w->nb; i++)
        mt_json_double(&j, (double)w->t_us[i] / 1e6);
    mt_json_array_end(&j);
    mt_json_key(&j, "series");
    mt_json_array_begin(&j);
    char label[512], name[1024];
    for (size_t k = 0; k < w->nk; k++) {
        mt_json_object_begin(&j);
        mt_json_key(&j, "label");
        const mt_site_t *st = k + 1 < w->nk ? &rep->sites.v[w->site[k]] : NULL;
        if (!st)
            snprintf(label, sizeof label, "other sites");
        else if (st->nframes && st->frames && st->frames[0].function)
            /* shortened as every name the page shows (--full-names: names.h) */
            snprintf(label, sizeof label, "%.300s %.150s:%u",
                     mt_name_show(st->frames[0].function, name, sizeof name),
                     st->frames[0].file ? mt_path_show(st->frames[0].file) : "?",
                     (unsigned)st->frames[0].line);
        else
            snprintf(label, sizeof label, "site %zu", k + 1);
        mt_json_string(&j, label);
        static const char *const keys[] = {"allocs", "bytes"};
        for (int f = 0; f < 2; f++) {
            const uint64_t *v = f ? w->bytes : w->allocs;
            mt_json_key(&j, keys[f]);
            mt_json_array_begin(&j);
            for (unsigned i = 0; i <= w->nb; i++)
                mt_json_u64(&j, v[i * w->nk + k]);
            mt_json_array_end(&j);
        }
        mt_json_key(&j, "held"); /* [j, b, bytes], the non-zero ones */
        mt_json_array_begin(&j);
        for (unsigned t = 1; t <= w->nb; t++)
            for (unsigned b = 0; b < t; b++) {
                uint64_t v = w->held[((size_t)t * w->nk + k) * w->nb + b];
                if (!v)
                    continue;
                mt_json_array_begin(&j);
                mt_json_u64(&j, t);
                mt_json_u64(&j, b);
                mt_json_u64(&j, v);
                mt_json_array_end(&j);
            }
        mt_json_array_end(&j);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    /* the flame graph that follows the window, box by box, and the rows of the sites table */
    size_t nf = page->flame[MT_PAGE_FLAME_WINDOW].n;
    size_t nrows = rep->nby_bytes < MT_PAGE_WSITES ? rep->nby_bytes : MT_PAGE_WSITES;
    if (w->nspec == nf + nrows + 2 * page->wlines + page->wpeak) { /* report_page.h's order */
        size_t nheld = 0;
        for (size_t i = 0; i < nf; i++)
            nheld += w->g[i].nheld;
        mt_json_key(&j, "flame");
        mt_wgroups_json(&j, w, 0, nf, nheld <= MT_HTML_WHELD_MAX);
        mt_json_key(&j, "sites");
        mt_wgroups_json(&j, w, nf, nf + nrows, 1);
    }
    if (w->ng > w->nspec) { /* the summary, leak totals and threads table follow the window */
        mt_json_key(&j, "run");
        mt_wrun_json(&j, w);
        mt_json_key(&j, "threads");
        mt_wthreads_json(&j, w);
    }
    /* the peak inside each bucket, from which the page takes a window's (mt_wpeak_json) */
    mt_json_key(&j, "peak");
    mt_wpeak_json(&j, w);
    /* the boxes of the peak's flame graph at each bucket's peak, while they fit MT_HTML_WHELD_MAX
     * entries in all: per box, flat (peak bucket, bucket of allocation, bytes) */
    size_t npk = 0;
    for (size_t i = 0; i < page->wpeak && page->wpeak_at + page->wpeak <= w->nspec; i++)
        npk += w->g[page->wpeak_at + i].npk;
    if (page->wpeak && page->wpeak_at + page->wpeak <= w->nspec && npk <= MT_HTML_WHELD_MAX) {
        mt_json_key(&j, "peakflame");
        mt_json_array_begin(&j);
        for (size_t i = 0; i < page->wpeak; i++) {
            const mt_wgroup_t *g = &w->g[page->wpeak_at + i];
            mt_json_array_begin(&j);
            for (size_t e = 0; e < g->npk; e++) {
                mt_json_u64(&j, g->pk[e].f);
                mt_json_u64(&j, g->pk[e].b);
                mt_json_i64(&j, g->pk[e].bytes);
            }
            mt_json_array_end(&j);
        }
        mt_json_array_end(&j);
    }
    if (page->a->python.script_end) { /* past it, the commands hold at the script's end */
        mt_json_key(&j, "script_end_s");
        mt_json_double(&j, (double)page->a->python.script_end_us / 1e6);
    }
    if (page->wlines && w->nspec == page->wlines_at + 2 * page->wlines + page->wpeak) {
        mt_json_key(&j, "lines");
        mt_json_object_begin(&j);
        mt_json_key(&j, "line");
        mt_json_array_begin(&j);
        for (size_t i = 0; i < page->wlines; i++)
            mt_json_u64(&j, page->lines.stats[i].line);
        mt_json_array_end(&j);
        mt_json_key(&j, "own");
        mt_wgroups_json(&j, w, page->wlines_at, page->wlines_at + page->wlines, 1);
        mt_json_key(&j, "incl");
        mt_wgroups_json(&j, w, page->wlines_at + page->wlines, page->wlines_at + 2 * page->wlines,
                        1);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    int rc = mt_json_finish(&j);
    if (fclose(m) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc < 0) {
        free(buf);
        return rc == -EIO ? -ENOMEM : rc;
    }
    fputs("<h2 id=\"windows\">Windows</h2>\n<p class=\"muted\">The top sites' held bytes over "
          "the run, stacked. Drag across the chart to choose a window (or add "
          "<code>#window=FROM-TO</code>, in seconds, to the address): the table shows, for "
          "each site, what was allocated in it and what of that was still held at its end, as "
          "<code>memtrace report --from FROM --to TO</code> does at the bounds shown, which "
          "snap to 1/64 of the run. The flame graph of bytes allocated and the top sites table "
          "follow the window too; the summary, the peak and leak flame graphs and the other "
          "tables stay the whole run's.</p>\n<div id=\"mt-wdata\" data-json=\"",
          o);
    while (len && buf[len - 1] == '\n') /* mt_json_finish's: no control byte in an attribute */
        buf[--len] = '\0';
    mt_h(o, buf);
    free(buf);
    fputs("\"></div>\n<svg id=\"mt-wchart\" class=\"wchart\" viewBox=\"0 0 1000 200\" "
          "width=\"1000\" height=\"200\"><rect x=\"60\" y=\"10\" width=\"930\" height=\"170\" "
          "fill=\"none\" stroke=\"#ccc\"/></svg>\n<p id=\"mt-wlabel\" class=\"muted\"></p>\n"
          "<table id=\"mt-wtable\" class=\"wtable\">\n<tr><th>site</th><th>allocations</th>"
          "<th>allocated</th><th>held at window end</th></tr>\n",
          o);
    for (size_t k = 0; k < w->nk; k++) {
        fputs("<tr><td><span class=\"swatch\"></span> ", o);
        const mt_site_t *st = k + 1 < w->nk ? &rep->sites.v[w->site[k]] : NULL;
        if (st && st->nframes && st->frames)
            mt_frame_html(o, page->a, &st->frames[0]);
        else
            fputs("other sites", o);
        fputs("</td><td class=\"n\"></td><td class=\"n\"></td><td class=\"n\"></td></tr>\n", o);
    }
    fputs("</table>\n", o);
    return 0;
}

/* A figure of the line view: blank when zero, so the lines that matter stand out. */
static void mt_line_cell(FILE *o, const char *fig, uint64_t v, int bytes)
{
    char b[64];
    fprintf(o, "<td class=\"n\" data-fig=\"%s\" data-value=\"%" PRIu64 "\">%s</td>", fig, v,
            !v      ? ""
            : bytes ? mt_fmt_bytes(b, sizeof b, v)
                    : mt_fmt_count(b, sizeof b, v));
}

static void mt_line_row_html(FILE *o, const mt_report_lines_t *rep, const mt_lines_row_t *row)
{
    const mt_line_stats_t *s = row->stats;
    if (row->gap_before)
        fputs("<tr class=\"none\"><td class=\"n\">...</td><td colspan=\"9\"></td></tr>\n", o);
    fprintf(o, "<tr%s data-line=\"%" PRIu32 "\"><td class=\"n\">%" PRIu32 "</td>",
            s ? "" : " class=\"none\"", row->line, row->line);
    if (s) {
        mt_line_cell(o, "own_bytes_allocated", s->own.bytes_allocated, 1);
        mt_line_cell(o, "incl_bytes_allocated", s->incl.bytes_allocated, 1);
        mt_line_cell(o, "own_peak_bytes", s->own.peak_bytes, 1);
        mt_line_cell(o, "incl_peak_bytes", s->incl.peak_bytes, 1);
        mt_line_cell(o, "own_end_bytes", s->own.end_bytes, 1);
        mt_line_cell(o, "incl_end_bytes", s->incl.end_bytes, 1);
        mt_line_cell(o, "own_allocations", s->own.allocations, 0);
        mt_line_cell(o, "incl_allocations", s->incl.allocations, 0);
    } else {
        fputs("<td colspan=\"8\"></td>", o);
    }
    fputs("<td class=\"src\">", o);
    mt_xml_escape(o, mt_report_lines_text(rep, row->line), 2000);
    fputs("</td></tr>\n", o);
}

/* The script line by line (memtrace lines): only for a log with Python frames. */
static void mt_lines_html(FILE *o, const mt_counter_t *cnt, const mt_report_page_t *page)
{
    if (!page->has_lines) /* not a Python program: no section */
        return;
    fputs("<h2 id=\"lines\">The script line by line</h2>\n", o);
    if (page->lines_rc < 0) {
        fputs("<p class=\"muted\">", o);
        mt_h(o, page->lines_err);
        fputs("</p>\n", o);
        return;
    }
    const mt_report_lines_t *rep = &page->lines;
    fputs("<p><code>", o);
    mt_h(o, rep->file);
    fprintf(o,
            "</code>: what each line allocated, held at the heap peak and %s, and its "
            "allocation calls; <em>own</em>: the line is the innermost Python frame of the "
            "allocation, <em>incl.</em>: anywhere in its Python stack (callees included). "
            "<code>memtrace lines</code> shows any file or function.</p>\n",
            rep->held.at_script_end ? "when the script ended" : "at exit");
    if (rep->source_errno) {
        fputs("<p class=\"muted\">source not read: ", o);
        mt_h(o, strerror(rep->source_errno));
        fputs("; figures by line number only</p>\n", o);
    }
    if (rep->source_changed)
        fputs("<p class=\"muted\">the source file was modified after the run was recorded: "
              "the text shown may not be the code that ran</p>\n",
              o);
    fprintf(o,
            "<div class=\"wide\"><table class=\"lines\">\n<tr><th rowspan=\"2\">Line</th><th "
            "colspan=\"2\">"
            "Allocated</th><th colspan=\"2\">At peak</th><th colspan=\"2\">%s</th>"
            "<th colspan=\"2\">Allocations</th><th rowspan=\"2\">Line Contents</th></tr>\n"
            "<tr><th>own</th><th>incl.</th><th>own</th><th>incl.</th><th>own</th><th>incl.</th>"
            "<th>own</th><th>incl.</th></tr>\n",
            rep->held.at_script_end ? "At script end" : "At exit");
    uint64_t start = mt_written(o, cnt);
    size_t shown = 0;
    for (size_t i = 0; i < rep->nblocks && !mt_table_full(o, cnt, start); i++) {
        const mt_lines_block_t *b = &rep->blocks[i];
        fputs("<tr class=\"fn\"><th colspan=\"10\">", o);
        mt_h(o, b->name);
        fprintf(o, " <span class=\"muted\">lines %" PRIu32 "-%" PRIu32 "</span></th></tr>\n",
                b->first, b->last);
        for (size_t k = 0; k < b->nrows && !mt_table_full(o, cnt, start); k++, shown++)
            mt_line_row_html(o, rep, &rep->rows[b->row0 + k]);
    }
    fputs("</table></div>\n", o);
    mt_table_cut(o, shown, rep->nrows);
}

/* Threads drawn as lanes at most (the JSON reports list them all). */
#define MT_HTML_LANES_MAX 100u

/* One lane: the run's duration as a bar, the thread's first to last heap event on it, a mark
 * at its own peak (dark) and at the process's heap peak (red). */
static void mt_lane_svg(FILE *o, const mt_replay_t *r, const mt_thread_row_t *t)
{
    const double w = 240, h = 14;
    double span = r->last_time_us ? (double)r->last_time_us : 1;
#define MT_LANE_X(us) ((double)(us) / span * w)
    double x0 = MT_LANE_X(t->st.first_us), x1 = MT_LANE_X(t->st.last_us);
    fprintf(o,
            "<td><svg class=\"lane\" width=\"%.0f\" height=\"%.0f\" role=\"img\">"
            "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#f0f0f0\"/>"
            "<rect x=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"#9ecae1\"/>"
            "<rect x=\"%.1f\" width=\"2\" height=\"%.0f\" fill=\"#08519c\"/>"
            "<rect x=\"%.1f\" width=\"1\" height=\"%.0f\" fill=\"#d62728\"/></svg></td>",
            w, h, w, h, x0, x1 - x0 < 1 ? 1 : x1 - x0, h, MT_LANE_X(t->st.own_peak_us), h,
            MT_LANE_X(r->peak_time_us), h);
#undef MT_LANE_X
}

/* The per-thread lanes: figures by thread, in the order the threads started. Their data-key
 * names start with thread_ (the summary's keys are the process's). */
static void mt_threads_html(FILE *o, const mt_counter_t *cnt, const mt_report_threads_t *t)
{
    const mt_analysis_t *a = t->a;
    fputs("<h2 id=\"threads\">Threads</h2>\n", o);
    if (!t->n) {
        fputs("<p class=\"muted\">no thread allocated</p>\n", o);
        return;
    }
    fprintf(o,
            "<p class=\"muted\">Each lane spans the run: light blue from the thread's first to "
            "its last heap event, a dark mark at its own peak, a red one at the heap peak.</p>\n"
            "<table class=\"threads\">\n<tr><th>thread</th><th>tid</th><th>allocations</th>"
            "<th>bytes allocated</th><th>own peak</th><th>at the heap peak</th><th>%s</th>"
            "<th>lane</th></tr>\n",
            a->python.script_end ? "held at script end" : "not freed at exit");
    uint64_t start = mt_written(o, cnt);
    size_t i = 0;
    for (; i < t->n && i < MT_HTML_LANES_MAX && !mt_table_full(o, cnt, start); i++) {
        const mt_thread_row_t *row = &t->v[i];
        fprintf(o, "<tr class=\"thread-lane\" data-tid=\"%" PRIu64 "\" data-name=\"", row->st.tid);
        mt_h(o, row->label);
        fputs("\"><td>", o);
        mt_h(o, row->label);
        fputs("</td>", o);
        mt_cell_count(o, "thread_tid", row->st.tid);
        mt_cell_count(o, "thread_allocations", row->st.allocations);
        mt_cell_bytes(o, "thread_bytes_allocated", row->st.bytes_allocated);
        mt_cell_bytes(o, "thread_own_peak_bytes", row->st.own_peak_bytes);
        mt_cell_bytes(o, "thread_bytes_at_heap_peak", row->st.peak_bytes);
        mt_cell_bytes(o, "thread_held_bytes", row->held_bytes);
        mt_lane_svg(o, &a->replay, row);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n", o);
    mt_table_cut(o, i, t->n);
}

/* The SVG options and the byte budget of one flame graph of the page: its tree is built to fit
 * them (mt_flame_svg_size measures the SVG drawn with exactly these options). */
typedef struct mt_html_flame {
    mt_flame_svg_opts_t so;
    mt_flame_budget_t budget;
    const char *id;
} mt_html_flame_t;

static int mt_flame_html(FILE *o, const mt_analysis_t *a, const mt_flame_tree_t *t,
                         const mt_html_flame_t *hf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -ENOMEM;
    int rc = mt_render_flamegraph_svg(t, a, m, &hf->so);
    if (fclose(m) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc < 0) {
        free(buf);
        return rc == -EIO ? -ENOMEM : rc;
    }
    const char *id = hf->id, *heading = hf->so.title;
    fprintf(o,
            "<h2 id=\"%s\">%s</h2>\n<div class=\"flame-box\"><input class=\"flame-search\" "
            "type=\"search\" placeholder=\"search frames\" aria-label=\"search frames\">\n",
            id, heading);
    fwrite(buf, 1, len, o);
    fputs("</div>\n", o);
    free(buf);
    return 0;
}

/* One row of the leak totals; data-kind names it for scripts. */
static void mt_leak_total_row(FILE *o, const char *key, const char *label, uint64_t bytes,
                              uint64_t blocks)
{
    fprintf(o, "<tr data-kind=\"%s\"><td>%s</td>", key, label);
    mt_cell_bytes(o, NULL, bytes);
    mt_cell_count(o, NULL, blocks);
    fputs("</tr>\n", o);
}

/* The totals add up to the summary's figure (not freed at exit, or for a Python script held
 * at its end): every block counted there is in exactly one row. */
static void mt_leaks_html(FILE *o, const mt_counter_t *cnt, const mt_leaks_t *l, size_t top,
                          size_t frames)
{
    fputs("<h2 id=\"leaks\">Leaks</h2>\n", o);
    if (l->python_end)
        fputs("<p class=\"muted\">Python script: the blocks still allocated when the script "
              "ended (before interpreter finalization) by a line of its own code are listed as "
              "held at script end; those of the standard library, site-packages and imports are "
              "counted as still reachable, the interpreter's own (no Python frame) apart.</p>\n",
              o);
    else if (!l->classified)
        fputs("<p class=\"muted\">recorded without <code>--leak-check</code>: the blocks not "
              "freed at exit are listed, not classified.</p>\n",
              o);
    fputs("<table class=\"leak-totals\">\n<tr><th>kind</th><th>bytes</th><th>blocks</th></tr>\n",
          o);
    uint64_t all_bytes = l->suppressed_bytes, all_blocks = l->suppressed_blocks;
    if (l->python_end) {
        mt_leak_total_row(o, "script", "held at script end (the script's own lines)",
                          l->bytes[MT_LEAKS_UNCLASSIFIED], l->blocks[MT_LEAKS_UNCLASSIFIED]);
        mt_leak_total_row(o, "reachable", "still reachable (libraries, imports)",
                          l->bytes[MT_LEAKS_REACHABLE], l->blocks[MT_LEAKS_REACHABLE]);
        mt_leak_total_row(o, "interpreter", "the interpreter's own (no Python frame)",
                          l->interp_bytes, l->interp_blocks);
        all_bytes += l->interp_bytes;
        all_blocks += l->interp_blocks;
    }
    for (unsigned k = 0; k < MT_LEAKS_NKINDS; k++) {
        all_bytes += l->bytes[k];
        all_blocks += l->blocks[k];
        /* a classified log has the four kinds (0 too), an unclassified one only its own */
        if (l->python_end ||
            (l->classified ? k == MT_LEAKS_UNCLASSIFIED : k != MT_LEAKS_UNCLASSIFIED))
            continue;
        mt_leak_total_row(o, mt_leakclass_kind_name(k), mt_leakclass_kind_name(k), l->bytes[k],
                          l->blocks[k]);
    }
    if (l->suppressed_blocks)
        mt_leak_total_row(o, "suppressed", "suppressed", l->suppressed_bytes, l->suppressed_blocks);
    mt_leak_total_row(o, "total",
                      l->python_end ? "total held at script end" : "total not freed at exit",
                      all_bytes, all_blocks);
    fputs("</table>\n", o);
    size_t shown = 0, listed = 0;
    for (size_t i = 0; i < l->n; i++)
        listed += mt_leaks_listed(l, &l->v[i]) != 0;
    if (!listed) {
        fputs("<p class=\"muted\">no leaks listed</p>\n", o);
        return;
    }
    fputs("<table class=\"leaks\">\n<tr><th>kind</th><th>bytes</th><th>blocks</th>"
          "<th>allocated in</th></tr>\n",
          o);
    uint64_t start = mt_written(o, cnt);
    for (size_t i = 0; i < l->n && shown < top && !mt_table_full(o, cnt, start); i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k))
            continue;
        shown++;
        fprintf(o, "<tr><td>%s</td>",
                l->python_end && k->kind == MT_LEAKS_UNCLASSIFIED
                    ? "held at script end"
                    : mt_leakclass_kind_name(k->kind));
        mt_cell_bytes(o, NULL, mt_leak_total_bytes(k));
        mt_cell_count(o, NULL, k->blocks);
        mt_stack_cell(o, l->a, k->frames, k->nframes, mt_render_leaks_user_frame(l, k), frames);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n", o);
    if (listed > shown)
        fprintf(o,
                "<p class=\"muted\">%zu more leak records: <code>memtrace leaks</code> "
                "lists them all.</p>\n",
                listed - shown);
}

/* arenas: the column of the live bytes that are pymalloc's (a Python program) */
static void mt_moment_row(FILE *o, const char *name, const mt_frag_moment_t *m, int arenas)
{
    fprintf(o, "<tr><th>%s</th>", name);
    mt_cell_bytes(o, NULL, m->live_bytes);
    if (arenas) {
        char b[64];
        fprintf(o,
                "<td class=\"n\" data-fig=\"pymalloc_object_bytes\" data-value=\"%" PRIu64
                "\">%s</td>",
                m->arena_obj_bytes, mt_fmt_bytes_exact(b, sizeof b, m->arena_obj_bytes));
    }
    if (m->sampled) {
        mt_cell_bytes(o, NULL, m->footprint_bytes);
        mt_cell_bytes(o, NULL, m->free_held_bytes);
        fprintf(o, "<td class=\"n\">%.1f%%</td>", 100 * m->fragmentation_ratio);
    } else {
        fputs("<td colspan=\"3\" class=\"muted\">not sampled</td>", o);
    }
    fputs("</tr>\n", o);
}

/* Python: the small objects live outside glibc's heap, in pymalloc's arenas. */
static void mt_frag_arenas_html(FILE *o, const mt_report_fragmentation_t *f)
{
    const mt_pyarena_usage_t *u = &f->py_arenas;
    if (!u->valid)
        return;
    char b[64], c[64], d[64], e[64];
    fprintf(o,
            "<p>pymalloc arenas at %s: %s held (%s), %s used by %s live small objects "
            "(%.0f%%); peak %s arenas (%s). By fullness: %" PRIu64 " under 25%%, %" PRIu64
            " under 50%%, %" PRIu64 " under 75%%, %" PRIu64 " at least 75%% "
            "<span class=\"muted\">(small objects live there, outside glibc's heap: an arena "
            "is returned only when all its objects are freed)</span></p>\n",
            f->py_arenas_at_script_end ? "the end of the script" : "exit",
            mt_fmt_count(b, sizeof b, u->arenas), mt_fmt_bytes(c, sizeof c, u->arena_bytes),
            mt_fmt_bytes(d, sizeof d, u->used_bytes), mt_fmt_count(e, sizeof e, u->blocks),
            u->arena_bytes ? 100.0 * (double)u->used_bytes / (double)u->arena_bytes : 0.0,
            mt_fmt_count(b, sizeof b, f->a->python.arena_peak_count),
            mt_fmt_bytes(c, sizeof c, f->a->python.arena_peak_bytes), u->fullness[0],
            u->fullness[1], u->fullness[2], u->fullness[3]);
}

static void mt_frag_html(FILE *o, const mt_counter_t *cnt, const mt_report_fragmentation_t *f,
                         size_t top, size_t frames)
{
    char b[64], c[64], d[64];
    /* As the CLI says: without it, a Python heap reads as more live bytes than glibc holds. */
    int arenas = f->at_peak.arena_obj_bytes || f->at_exit.arena_obj_bytes ||
                 (f->has_script_end && f->at_script_end.arena_obj_bytes);
    fprintf(o,
            "<h2 id=\"fragmentation\">Fragmentation</h2>\n<table class=\"frag\">\n"
            "<tr><th></th><th>live bytes</th>%s<th>allocator footprint</th><th>free but held</th>"
            "<th>fragmentation</th></tr>\n",
            arenas ? "<th>of which in pymalloc's arenas</th>" : "");
    mt_moment_row(o, "at the peak", &f->at_peak, arenas);
    if (f->has_script_end)
        mt_moment_row(o, "at the end of the script", &f->at_script_end, arenas);
    mt_moment_row(o, f->has_script_end ? "after finalization" : "at exit", &f->at_exit, arenas);
    fputs("</table>\n", o);
    if (arenas)
        fputs("<p class=\"note pymalloc\">Live bytes include small Python objects in "
              "pymalloc's arenas, outside glibc's heap: the allocator footprint does not "
              "count them, so live bytes may exceed it.</p>\n",
              o);
    fprintf(o,
            "<p>holes between live blocks at %s: %s, %s in total, the largest %s "
            "<span class=\"muted\">(estimated for glibc's chunk layout)</span></p>\n",
            f->has_script_end ? "the end of the script" : "exit",
            mt_fmt_count(b, sizeof b, f->nholes), mt_fmt_bytes_exact(c, sizeof c, f->holes_total),
            mt_fmt_bytes(d, sizeof d, f->largest_hole));
    mt_frag_arenas_html(o, f);
    if (f->npinning) {
        fputs("<h3>Sites pinning freed memory</h3>\n<table class=\"pinning\">\n<tr>"
              "<th>freed bytes pinned</th><th>live bytes</th><th>blocks</th><th>where</th></tr>\n",
              o);
        uint64_t start = mt_written(o, cnt);
        size_t i = 0;
        for (; i < f->npinning && i < top && !mt_table_full(o, cnt, start); i++) {
            const mt_site_t *s = &f->pinning[i];
            fputs("<tr>", o);
            mt_cell_bytes(o, NULL, f->pinned[i]);
            mt_cell_bytes(o, NULL, s->leaked_bytes);
            mt_cell_count(o, NULL, s->leaked_blocks);
            mt_stack_cell(o, f->a, s->frames, s->nframes, 0, frames);
            fputs("</tr>\n", o);
        }
        fputs("</table>\n", o);
        mt_table_cut(o, i, f->npinning < top ? f->npinning : top);
    }
    if (f->nchurn) {
        fputs("<h3>Sites churning the allocator</h3>\n<table class=\"churn\">\n<tr>"
              "<th>temporary allocations</th><th>allocations</th><th>bytes allocated</th>"
              "<th>where</th></tr>\n",
              o);
        uint64_t start = mt_written(o, cnt);
        size_t i = 0;
        for (; i < f->nchurn && i < top && !mt_table_full(o, cnt, start); i++) {
            const mt_site_t *s = &f->sites.v[f->churn[i]];
            fputs("<tr>", o);
            mt_cell_count(o, NULL, s->temporary);
            mt_cell_count(o, NULL, s->allocations);
            mt_cell_bytes(o, NULL, s->bytes_allocated);
            mt_stack_cell(o, f->a, s->frames, s->nframes, 0, frames);
            fputs("</tr>\n", o);
        }
        fputs("</table>\n", o);
        mt_table_cut(o, i, f->nchurn < top ? f->nchurn : top);
    }
}

/* Draws a built page; builds nothing. */
static int mt_render_page(const mt_report_page_t *page, FILE *o, const mt_counter_t *cnt,
                          const mt_html_flame_t flames[MT_PAGE_FLAMES], const mt_html_opts_t opt)
{
    const mt_analysis_t *a = page->a;
    const mt_report_summary_t *rep = &page->summary;
    int rc = 0;
    fputs(
        "<!DOCTYPE html>\n<html lang=\"en\" data-errors=\"0\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"memtrace\">\n<title>",
        o);
    if (opt.title) {
        mt_h(o, opt.title);
    } else {
        fputs("memtrace report: ", o);
        mt_h(o, a->path);
    }
    fputs("</title>\n<style>\n", o);
    for (const char *const *l = mt_html_css; *l; l++)
        fprintf(o, "%s\n", *l);
    mt_flame_write_css(o);
    fputs("</style>\n</head>\n<body>\n<h1>", o);
    if (opt.title) {
        mt_h(o, opt.title);
    } else {
        fputs("memtrace report: <code>", o);
        mt_h(o, a->path);
        fputs("</code>", o);
    }
    fputs("</h1>\n<p class=\"muted\">", o);
    if (opt.processes)
        fputs("<a href=\"#processes\">processes</a> \xc2\xb7 ", o);
    fputs("<a href=\"#summary\">summary</a> \xc2\xb7 "
          "<a href=\"#timeline\">timeline</a> \xc2\xb7 <a href=\"#threads\">threads</a> "
          "\xc2\xb7 <a href=\"#flame-window\">allocated</a> \xc2\xb7 "
          "<a href=\"#flame-peak\">peak</a> \xc2\xb7 "
          "<a href=\"#flame-leaked\">leaks flame graph</a> \xc2\xb7 <a href=\"#sites\">sites</a>",
          o);
    if (page->has_lines)
        fputs(" \xc2\xb7 <a href=\"#lines\">lines</a>", o);
    fputs(" \xc2\xb7 <a href=\"#leaks\">leaks</a> \xc2\xb7 <a href=\"#fragmentation\">"
          "fragmentation</a></p>\n",
          o);
    /* the window the page describes, chosen on the page (mt_html_window_js fills it in) */
    fputs("<p id=\"mt-wbanner\" class=\"wbanner\" data-key=\"page_window\" hidden></p>\n", o);
    char wnote[96];
    if (mt_window_note(wnote, sizeof wnote, a)) { /* --from/--to: what every table describes */
        fputs("<p class=\"note\" data-key=\"window\">", o);
        mt_h(o, wnote);
        fputs("</p>\n", o);
    }
    if (a->aggregated) {
        fputs("<p class=\"note\" data-key=\"aggregated\">Log: ", o);
        mt_h(o, MT_RENDER_AGGREGATED);
        fputs("</p>\n", o);
    }
    if (a->truncated) {
        fputs("<p class=\"warn\" data-key=\"truncated\">The log ends early: ", o);
        mt_h(o, a->truncation);
        fputs(" (", o);
        mt_h(o, a->cut_reason);
        fputs(")</p>\n", o);
    }
    if (opt.processes)
        mt_render_html_ptree(o, opt.processes);
    mt_summary_html(o, rep);
    fputs("<h2 id=\"timeline\">Timeline</h2>\n", o);
    if (a->aggregated) { /* no events: no heap over time, no windows, no thread's figures */
        fputs("<p class=\"muted\">Not in an aggregated log.</p>\n", o);
    } else {
        rc = mt_b64_timeline(o, a);
        if (rc == 0)
            rc = mt_windows_html(o, page);
    }
    /* under the window chart: the flame graph that follows its window */
    if (rc == 0)
        rc = mt_flame_html(o, a, &page->flame[MT_PAGE_FLAME_WINDOW], &flames[MT_PAGE_FLAME_WINDOW]);
    if (rc == 0 && !a->aggregated)
        mt_threads_html(o, cnt, &page->threads);
    for (size_t k = MT_PAGE_FLAME_WINDOW + 1; k < MT_PAGE_FLAMES && rc == 0; k++)
        rc = mt_flame_html(o, a, &page->flame[k], &flames[k]);
    if (rc == 0) {
        mt_sites_html(o, cnt, rep, opt.frames);
        mt_lines_html(o, cnt, page);
        mt_leaks_html(o, cnt, &page->leaks, opt.top, opt.frames);
        if (a->aggregated)
            fputs("<h2 id=\"fragmentation\">Fragmentation</h2>\n<p class=\"muted\">Not in an "
                  "aggregated log.</p>\n",
                  o);
        else
            mt_frag_html(o, cnt, &page->frag, opt.top, opt.frames);
        char rows[48] = "every row"; /* --top 0: no limit but the tables' byte budget */
        if (opt.top != SIZE_MAX)
            snprintf(rows, sizeof rows, "the top %zu rows", opt.top);
        fprintf(o,
                "<hr><p class=\"muted\">memtrace %s \xc2\xb7 tables show %s; "
                "flame graphs merge frames below %.2g%% of their total into \"other\" and draw "
                "at most %zu frames; the complete data: <code>memtrace report|leaks|peak|"
                "fragmentation --format json</code>.</p>\n<script>\n",
                opt.version ? opt.version : "", rows, opt.min_share * 100, opt.max_nodes);
        mt_flame_write_js(o);
        for (const char *const *l = mt_html_table_js; *l; l++) {
            fputs(*l, o);
            fputc('\n', o);
        }
        for (const char *const *l = mt_html_window_js; *l; l++) {
            fputs(*l, o);
            fputc('\n', o);
        }
        fputs("</script>\n</body>\n</html>\n", o);
    }
    if (rc < 0)
        return rc;
    return ferror(o) ? -EIO : 0;
}

int mt_render_html(const mt_analysis_t *a, mt_symbolizer_t *sym, FILE *out,
                   const mt_html_opts_t *opt_in)
{
    mt_html_opts_t opt = *opt_in;
    if (!opt.top)
        opt.top = 20;
    if (!opt.frames)
        opt.frames = 30;
    if (opt.min_share <= 0)
        opt.min_share = 0.001;
    if (!opt.max_nodes)
        opt.max_nodes = 3000;
    /* The node cap bounds a flame graph for ordinary names; the byte budget for any names (a
     * C++ program's escaped templates): over it, the cap shrinks until the graph fits. */
    mt_html_flame_t flames[MT_PAGE_FLAMES] = {
        [MT_PAGE_FLAME_WINDOW] = {.so = {.title = "Flame graph: bytes allocated (follows the "
                                                  "window)"},
                                  .id = "flame-window"},
        [MT_PAGE_FLAME_PEAK] = {.so = {.title = "Flame graph: bytes held at the heap peak"},
                                .id = "flame-peak"},
        [MT_PAGE_FLAME_LEAKED] = {.so = {.title = mt_analysis_held(a).at_script_end
                                                      ? "Flame graph: bytes held at the end of "
                                                        "the script"
                                                      : "Flame graph: bytes not freed at exit"},
                                  .id = "flame-leaked"},
    };
    mt_flame_opts_t fo[MT_PAGE_FLAMES];
    for (size_t k = 0; k < MT_PAGE_FLAMES; k++) {
        flames[k].so.embedded = 1;
        flames[k].budget = (mt_flame_budget_t){.a = a, .svg = &flames[k].so};
        fo[k] = (mt_flame_opts_t){.min_share = opt.min_share,
                                  .max_nodes = opt.max_nodes,
                                  .size = mt_flame_svg_size,
                                  .size_arg = &flames[k].budget,
                                  .max_size = MT_HTML_FLAME_MAX_BYTES};
    }
    if (fo[MT_PAGE_FLAME_WINDOW].max_nodes > MT_HTML_WFLAME_NODES) /* its data: see the cap */
        fo[MT_PAGE_FLAME_WINDOW].max_nodes = MT_HTML_WFLAME_NODES;
    mt_report_page_t page;
    int rc = mt_report_page_build(&page, a, sym, opt.top, fo);
    if (rc < 0)
        return rc;
    mt_counter_t cnt = {.out = out};
    FILE *o = fopencookie(&cnt, "w", (cookie_io_functions_t){.write = mt_counter_write});
    if (!o) {
        mt_report_page_destroy(&page);
        return -ENOMEM;
    }
    rc = mt_render_page(&page, o, &cnt, flames, opt);
    if (fclose(o) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && ferror(out))
        rc = -EIO;
    mt_report_page_destroy(&page);
    return rc;
}
