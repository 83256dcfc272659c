import type { MemoryReportData } from './report.js';

/**
 * One self-contained HTML page for a person: the report as JSON inside the page, drawn by a little
 * inline script (a squarified treemap of the key prefixes, bars by type, encoding and db, the top
 * keys, TTLs and big keys). No fonts, images, scripts or styles from anywhere else: it opens from a
 * file on a machine with no network, and a Content-Security-Policy forbids any request.
 */
export function formatHtml(r: MemoryReportData): string {
  // Inside <script>, "<" is escaped so no key can close the element or open a comment.
  const data = JSON.stringify(r).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const title = `rdb-memory: ${r.source}`.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px 24px;color:#1d2330;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.sub{color:#5a6270}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 14px}.card b{display:block;font-size:18px}
#treemap{position:relative;height:460px;background:#fff;border:1px solid #dde1e7;border-radius:6px;overflow:hidden}
.tm{position:absolute;box-sizing:border-box;border:1px solid #fff;overflow:hidden;font-size:11px;color:#fff;padding:2px 3px;white-space:nowrap;text-overflow:ellipsis}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
.bars{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px}
.bar{display:grid;grid-template-columns:130px 1fr 130px;gap:8px;align-items:center;margin:3px 0}
.bar span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar i{display:block;height:14px;background:#3b6fd8;border-radius:2px}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid #dde1e7}
th,td{padding:4px 8px;border-bottom:1px solid #eceff3;text-align:left;font-size:13px}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.k{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-family:ui-monospace,monospace}
.note{color:#5a6270;font-size:12px}
</style>
</head>
<body>
<h1>Redis memory report</h1>
<div class="sub" id="sub"></div>
<div class="cards" id="cards"></div>
<h2>Key prefixes</h2>
<div id="treemap" role="img" aria-label="treemap of key prefixes by memory"></div>
<div class="note" id="tmnote"></div>
<h2>Where the memory is</h2>
<div class="grid"><div class="bars" id="bytype"></div><div class="bars" id="byenc"></div><div class="bars" id="bydb"></div></div>
<h2>Top keys by memory</h2>
<table id="topkeys"></table>
<h2>Top keys by elements</h2>
<table id="topelems"></table>
<h2>TTL</h2>
<table id="ttl"></table>
<h2>Big keys</h2>
<table id="bigkeys"></table>
<script id="report" type="application/json">${data}</script>
<script>
(function () {
  'use strict';
  var r = JSON.parse(document.getElementById('report').textContent);
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function human(n) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }
  function pct(x) { return (x * 100).toFixed(1) + '%'; }
  function ttl(ms) {
    if (ms === null) return '-';
    if (ms <= 0) return 'expired';
    var s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd' + Math.floor((s % 86400) / 3600) + 'h';
  }
  document.getElementById('sub').textContent = r.source + ' \\u2014 RDB ' + r.rdbVersion + (r.redisVersion ? ', written by Redis ' + r.redisVersion : '') + '; estimated as Redis ' + r.model + ' MEMORY USAGE';
  var cards = [['keys', r.keys.toLocaleString('en-US')], ['keys and values', human(r.bytes)], ['keyspace overhead', human(r.keyspaceOverhead)], ['will expire', human(r.expiringBytes)], ['big keys', String(r.bigKeysTotal)]];
  cards.forEach(function (c) { var d = el('div', { class: 'card' }, c[0]); d.insertBefore(el('b', {}, c[1]), d.firstChild); document.getElementById('cards').appendChild(d); });

  // Squarified treemap (Bruls, Huizing, van Wijk): rows of rectangles with aspect ratios near 1.
  var palette = ['#3b6fd8', '#d8573b', '#2f9e6e', '#9b59b6', '#e0a21b', '#16a2b8', '#c2417b', '#6b7a8f', '#7cb342', '#8d6e63'];
  var box = document.getElementById('treemap');
  // The worst aspect ratio of a row laid along a side: its thickness t = area / side.
  function worst(row, side) {
    var s = 0, mx = 0, mn = Infinity;
    row.forEach(function (n) { s += n.area; mx = Math.max(mx, n.area); mn = Math.min(mn, n.area); });
    var t = s / side;
    return Math.max((t * t) / mn, mx / (t * t)) || Infinity;
  }
  function layout(items, x, y, w, h, out) {
    var rest = items.slice();
    while (rest.length) {
      var side = Math.min(w, h), row = [rest.shift()];
      while (rest.length && worst(row.concat([rest[0]]), side) <= worst(row, side)) row.push(rest.shift());
      var s = 0; row.forEach(function (n) { s += n.area; });
      var thick = s / side, off = 0;
      row.forEach(function (n) {
        var len = n.area / thick;
        if (w >= h) out.push({ n: n, x: x, y: y + off, w: thick, h: len }); else out.push({ n: n, x: x + off, y: y, w: len, h: thick });
        off += len;
      });
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
  }
  function draw(node, x, y, w, h, depth, color) {
    var kids = node.children.slice();
    var inKids = 0; kids.forEach(function (c) { inKids += c.bytes; });
    var items = kids.map(function (c) { return { node: c, bytes: c.bytes }; });
    if (node.bytes - inKids > 0) items.push({ node: null, bytes: node.bytes - inKids, label: depth === 0 ? '(keys without prefix)' : node.prefix + '* (rest)' });
    items = items.filter(function (i) { return i.bytes > 0; }).sort(function (a, b) { return b.bytes - a.bytes; });
    var sum = 0; items.forEach(function (i) { sum += i.bytes; });
    if (!sum || w < 2 || h < 2) return;
    items.forEach(function (i) { i.area = (i.bytes / sum) * w * h; });
    var out = []; layout(items, x, y, w, h, out);
    out.forEach(function (o, idx) {
      var c = depth === 0 ? palette[idx % palette.length] : color;
      var name = o.n.node ? o.n.node.prefix : o.n.label;
      var leaf = !o.n.node || !o.n.node.children.length || o.w < 40 || o.h < 30 || depth >= 3;
      if (leaf) {
        var d = el('div', { class: 'tm', title: name + '\\n' + human(o.n.bytes) + ' (' + pct(o.n.bytes / r.bytes) + ')' + (o.n.node ? ', ' + o.n.node.keys + ' keys' : '') }, o.w > 30 && o.h > 14 ? name : '');
        d.style.left = o.x + 'px'; d.style.top = o.y + 'px'; d.style.width = o.w + 'px'; d.style.height = o.h + 'px';
        d.style.background = c; d.style.opacity = String(1 - Math.min(depth, 3) * 0.15);
        box.appendChild(d);
      } else {
        draw(o.n.node, o.x, o.y, o.w, o.h, depth + 1, c);
      }
    });
  }
  draw(r.prefixTree, 0, 0, box.clientWidth, box.clientHeight, 0, palette[0]);
  var f = r.prefixesFolded;
  document.getElementById('tmnote').textContent = 'Area = estimated bytes; separators ' + JSON.stringify(r.options.separators) + ', depth ' + r.options.depth + '.' + (f.branches ? ' ' + f.branches + ' smallest branches (' + human(f.bytes) + ') were folded into their parents to keep memory bounded.' : '');

  function bars(id, title, list) {
    var b = document.getElementById(id);
    b.appendChild(el('b', {}, title));
    var max = Math.max.apply(null, list.map(function (s) { return s.bytes; }).concat([1]));
    list.forEach(function (s) {
      var row = el('div', { class: 'bar', title: s.keys + ' keys, ' + s.bytes + ' bytes' });
      row.appendChild(el('span', {}, s.name));
      var i = el('i'); i.style.width = (100 * s.bytes / max) + '%'; var wrap = el('span'); wrap.appendChild(i); row.appendChild(wrap);
      row.appendChild(el('span', {}, human(s.bytes) + ' ' + pct(s.share)));
      b.appendChild(row);
    });
  }
  bars('bytype', 'By type', r.byType);
  bars('byenc', 'By encoding', r.byEncoding);
  bars('bydb', 'By database', r.byDb.map(function (s) { return { name: 'db ' + s.name, keys: s.keys, bytes: s.bytes, share: s.share }; }));

  function table(id, head, rows, numeric) {
    var t = document.getElementById(id), tr = el('tr');
    head.forEach(function (h, i) { tr.appendChild(el('th', numeric.indexOf(i) >= 0 ? { class: 'n' } : {}, h)); });
    var th = el('thead'); th.appendChild(tr); t.appendChild(th);
    var tb = el('tbody');
    if (!rows.length) { var e = el('tr'); e.appendChild(el('td', { colspan: String(head.length) }, '(none)')); tb.appendChild(e); }
    rows.forEach(function (row) {
      var tr2 = el('tr');
      row.forEach(function (c, i) { tr2.appendChild(el('td', numeric.indexOf(i) >= 0 ? { class: 'n' } : i === 1 ? { class: 'k', title: c } : {}, c)); });
      tb.appendChild(tr2);
    });
    t.appendChild(tb);
  }
  function keyRows(list) { return list.map(function (k) { return [String(k.db), k.key, k.type, k.encoding, human(k.bytes), k.elements.toLocaleString('en-US'), k.largest.toLocaleString('en-US'), ttl(k.ttlMs)]; }); }
  var kh = ['db', 'key', 'type', 'encoding', 'memory', 'elements', 'largest', 'ttl'];
  table('topkeys', kh, keyRows(r.topByBytes), [0, 4, 5, 6]);
  table('topelems', kh, keyRows(r.topByElements), [0, 4, 5, 6]);
  table('ttl', ['ttl', 'keys', 'memory', 'share'], r.ttl.map(function (t) { return [t.bucket, t.keys.toLocaleString('en-US'), human(t.bytes), pct(r.bytes ? t.bytes / r.bytes : 0)]; }), [1, 2, 3]);
  table('bigkeys', ['db', 'key', 'type', 'memory', 'why'], r.bigKeys.map(function (b) { return [String(b.db), b.key, b.type + '/' + b.encoding, human(b.bytes), b.reasons.join('; ')]; }), [0, 3]);
})();
</script>
</body>
</html>
`;
}
