// The HTML report's stylesheet and its one small script (sortable and filterable tables). Both go
// inline into the page, allowed by the page's Content-Security-Policy through their hashes.

export const PALETTE = ['#2f6db5', '#e8792b', '#2a9d8f', '#c8385a', '#7b5ea7', '#d4a72c', '#5b8c3a', '#8c564b', '#e377c2', '#6b7a8f'];

export const CSS = `
:root{--ink:#17212f;--muted:#5d6b7e;--faint:#8a96a8;--line:#e3e8ef;--row:#eef1f6;--bg:#f4f6f9;--card:#fff;--accent:#1f4fa3;
--high:#b42318;--high-bg:#fef3f2;--high-line:#fecdca;--medium:#a15c07;--medium-bg:#fffaeb;--medium-line:#fedf89;
--low:#1d4ed8;--low-bg:#eff6ff;--low-line:#bfdbfe;--ok:#067647;--ok-bg:#ecfdf3;--ok-line:#abefc6}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;color:var(--ink);background:var(--bg)}
.wrap{max-width:1360px;margin:0 auto;padding:0 28px}
header.top{background:linear-gradient(180deg,#0d2240,#123159);color:#fff;padding:26px 0 70px}
.eyebrow{text-transform:uppercase;letter-spacing:.09em;font-size:11.5px;color:#a9bdd6;font-weight:600}
h1{font-size:28px;line-height:1.2;margin:6px 0 4px;font-weight:700;letter-spacing:-.01em}
.period{font-size:16px;color:#dce6f2;margin:0 0 14px}
dl.meta{display:flex;flex-wrap:wrap;gap:4px 28px;margin:0;font-size:13px}
dl.meta div{display:flex;gap:6px;min-width:0}
dl.meta dt{color:#a9bdd6}
dl.meta dd{margin:0;color:#fff;word-break:break-all}
main.wrap{margin-top:-52px}
.kpis{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:14px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px 12px;box-shadow:0 1px 3px rgba(16,24,40,.08)}
.kpi .label{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.kpi .value{font-size:27px;line-height:1.25;font-weight:700;font-variant-numeric:tabular-nums;margin-top:2px}
.kpi .sub{font-size:12px;color:var(--muted);margin-top:2px}
.kpi.alert{border-color:var(--high-line)}
.kpi .chips{display:flex;flex-wrap:wrap;gap:4px;margin-top:8px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px 18px;margin:18px 0;box-shadow:0 1px 2px rgba(16,24,40,.05)}
h2{font-size:18px;line-height:1.3;margin:0 0 2px;font-weight:650}
h3{font-size:14px;margin:18px 0 2px;font-weight:650}
.lead{color:var(--muted);margin:0 0 12px;font-size:13px}
.toolbar{display:flex;justify-content:space-between;align-items:flex-end;gap:16px;flex-wrap:wrap;margin-bottom:8px}
.toolbar .lead{margin:0}
input.filter{font:inherit;font-size:13px;padding:6px 10px;border:1px solid #cfd6e0;border-radius:7px;min-width:240px;color:var(--ink)}
input.filter:focus{outline:2px solid #bcd0f5;border-color:#7ea2e0}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;line-height:1.3;border-bottom:1px solid var(--line);padding:8px 7px;background:var(--card);vertical-align:bottom}
th.num{max-width:84px;white-space:normal}
th button{all:unset;cursor:pointer;border-radius:4px}
th button:focus-visible{outline:2px solid #7ea2e0}
th button::after{content:"\\2195";color:#c3ccd8;margin-left:4px;font-size:11px}
th[aria-sort=ascending] button::after{content:"\\25B2";color:var(--accent);font-size:9px}
th[aria-sort=descending] button::after{content:"\\25BC";color:var(--accent);font-size:9px}
th[aria-sort] button{color:var(--ink)}
td{padding:8px 7px;border-bottom:1px solid var(--row);vertical-align:top}
tbody tr:last-child td{border-bottom:0}
tbody tr:hover td{background:#f7f9fc}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums;color:#344154}
td.when .sub{display:block}
.name{font-weight:600;overflow-wrap:anywhere}
.sub{color:var(--muted);font-size:12px}
.muted{color:var(--faint)}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
.ops{color:#344154;font-size:12.5px}
.detail{overflow-wrap:anywhere;color:#344154}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:11.5px;font-weight:600;line-height:20px;white-space:nowrap;border:1px solid transparent}
.sev-high{color:var(--high);background:var(--high-bg);border-color:var(--high-line)}
.sev-medium{color:var(--medium);background:var(--medium-bg);border-color:var(--medium-line)}
.sev-low{color:var(--low);background:var(--low-bg);border-color:var(--low-line)}
.sev-none{color:var(--ok);background:var(--ok-bg);border-color:var(--ok-line)}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;font-weight:600;line-height:17px;margin-left:4px;vertical-align:1px}
.tag.warn{color:var(--medium);background:var(--medium-bg)}
.tag.bad{color:var(--high);background:var(--high-bg)}
.tag.info{color:#475467;background:#f2f4f7}
tr.row-high td:first-child{box-shadow:inset 3px 0 0 #d92d20}
tr.row-medium td:first-child{box-shadow:inset 3px 0 0 #f79009}
tr.row-low td:first-child{box-shadow:inset 3px 0 0 #2e90fa}
tr.row-high td{background:#fffbfa}
td.finding{min-width:360px;max-width:560px}
td.finding .detail{margin:2px 0;font-size:12.5px}
th.wide{min-width:220px}
td.key .name{white-space:nowrap;font-size:11.5px}
td.strong{font-weight:600}
td.bad{color:var(--high);font-weight:600}
td.num .sub,td.when .sub{display:block}
td.callers{font-size:12.5px;color:#344154;width:210px;max-width:210px}
.caller{display:flex;gap:6px;justify-content:space-between}
.caller>span:first-child{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
.caller>span:last-child{font-variant-numeric:tabular-nums}
td .sub.block,td.state-cell .sub{display:block}
td.when .by{max-width:150px;overflow:hidden;text-overflow:ellipsis}
.state{font-weight:600;white-space:nowrap}
.state-Enabled{color:var(--ok)}
.state-Disabled,.state-PendingImport{color:var(--medium)}
.state-PendingDeletion,.state-PendingReplicaDeletion,.state-Deleted{color:var(--high)}
.state-unknown{color:var(--faint);font-weight:400}
.note{border-radius:8px;padding:10px 14px;margin:14px 0 0;font-size:13px}
.note.warn{background:var(--medium-bg);border:1px solid var(--medium-line);color:#7a2e0e}
.note.info{background:#f5f8fc;border:1px solid var(--line);color:var(--muted)}
.note.ok{background:var(--ok-bg);border:1px solid var(--ok-line);color:var(--ok)}
.empty{text-align:center;padding:56px 20px}
.empty h2{font-size:22px;margin-bottom:8px}
.empty p{color:var(--muted);max-width:640px;margin:0 auto}
.charts h3:first-of-type{margin-top:8px}
svg.chart{width:100%;height:auto;display:block;margin-top:4px}
svg.chart text{font-family:inherit}
.grid{stroke:#edf0f4;stroke-width:1}
.axis{stroke:#a7b1bf;stroke-width:1}
.tick{font-size:11px;fill:#5d6b7e}
.axis-title{font-size:11px;fill:#8a96a8;letter-spacing:.02em}
.bar{fill:#3a6fb8}
.bar-error{fill:#d92d20}
g.day:hover .bar{fill:#1f4fa3}
.line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
.pt{stroke:#fff;stroke-width:1}
.series:hover .line{stroke-width:3}
.area{stroke:none;opacity:.13}
.pt.peak{stroke-width:1.5}
.minis{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px;margin-top:6px}
figure.mini{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px 4px;background:#fcfdfe;min-width:0}
figure.mini figcaption{display:flex;flex-direction:column;min-width:0}
figure.mini figcaption .name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:13px}
svg.spark{width:100%;height:auto;display:block;margin-top:4px}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:8px 0 0 58px;font-size:12.5px;color:#344154}
ul.legend li{white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.sw.err{background:#d92d20}
.sw.all{background:#3a6fb8}
details summary{cursor:pointer;color:var(--accent);font-size:12px;margin-top:2px}
details ul{margin:4px 0 0;padding:0;list-style:none;font-size:12.5px}
ul.about{margin:8px 0 0;padding-left:18px;color:#344154;font-size:13px}
ul.about li{margin:3px 0}
footer{color:var(--faint);font-size:12px;padding:6px 0 36px}
${PALETTE.map((c, i) => `.line.s${i}{stroke:${c}}.pt.s${i},.area.s${i},.sw.s${i}{fill:${c};background:${c}}`).join('\n')}
@media (max-width:1000px){.kpis{grid-template-columns:repeat(3,minmax(0,1fr))}}
@media (max-width:640px){.kpis{grid-template-columns:repeat(2,minmax(0,1fr))}.wrap{padding:0 14px}}
@media print{
  body{background:#fff;font-size:11px}
  header.top{background:#fff;color:var(--ink);padding:0 0 12px;border-bottom:2px solid var(--ink)}
  header.top .eyebrow,dl.meta dt,.period{color:var(--muted)}
  dl.meta dd{color:var(--ink)}
  main.wrap{margin-top:12px}
  .wrap{max-width:none;padding:0}
  section.card,.kpi{box-shadow:none;break-inside:avoid-page}
  section.table{break-inside:auto}
  input.filter{display:none}
  th button::after{content:""}
  tr{break-inside:avoid}
}
`;

/** Sorting: click a column header (numbers sort busiest first); filtering: type in the box. */
export const SCRIPT = `
(function () {
  'use strict';
  function value(cell, numeric) {
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent.trim();
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    var body = table.tBodies[0];
    Array.prototype.forEach.call(body.rows, function (row, i) { row.setAttribute('data-i', String(i)); });
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button');
      if (!button) return;
      button.addEventListener('click', function () {
        var numeric = th.getAttribute('data-type') === 'num';
        var current = th.getAttribute('aria-sort');
        var dir = current ? (current === 'ascending' ? 'descending' : 'ascending') : (numeric ? 'descending' : 'ascending');
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var sign = dir === 'ascending' ? 1 : -1;
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[col], numeric), y = value(b.cells[col], numeric);
          if (x < y) return -sign;
          if (x > y) return sign;
          return Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input.filter'), function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    if (!table) return;
    var count = document.getElementById(input.getAttribute('data-count'));
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var hit = q === '' || row.textContent.toLowerCase().indexOf(q) >= 0 || (row.getAttribute('data-search') || '').indexOf(q) >= 0;
        row.hidden = !hit;
        if (hit) shown++;
      });
      if (count) count.textContent = String(shown);
    });
  });
})();
`;
