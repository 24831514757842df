/** The HTML report's style sheet, inline in the page (its Content-Security-Policy allows no other). */
export const CSS = `
:root{--ink:#1d2330;--muted:#5b6474;--line:#d9dde3;--bg:#f5f6f8;
--pass:#14532d;--pass-bg:#d8f0df;--pass-bd:#7fbf92;--warn:#6b4a00;--warn-bg:#ffefb8;--warn-bd:#d9b44a;
--fail:#8a1c12;--fail-bg:#fbd3cf;--fail-bd:#e0867d;--error:#ffffff;--error-bg:#5b3a8c;--error-bd:#3f2566;
--nodata:#ffffff;--nodata-bg:#4b5563;--nodata-bd:#374151}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 "Liberation Sans",Arial,Helvetica,sans-serif}
main{max-width:1380px;margin:0 auto;padding:18px 22px 40px}
h1{font-size:24px;margin:0 0 10px}
h2{font-size:18px;margin:28px 0 6px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
code{font-family:"Liberation Mono",Menlo,Consolas,monospace;font-size:12px}
header{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 18px}
.headline{display:flex;flex-wrap:wrap;gap:18px 36px;align-items:center}
.overall{font-size:16px;font-weight:600}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}
.facts div{display:flex;gap:6px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.lede{margin:10px 0 0;color:var(--muted)}
.errors{margin-top:12px;padding:8px 12px;background:#f1ebfa;border-left:4px solid var(--error-bg)}
.errors h2{font-size:14px;margin:0 0 4px;border:0;padding:0}.errors ul{margin:0;padding-left:18px}
.errors code{word-break:break-all}
.caption{color:var(--muted);margin:4px 0 10px;max-width:1100px}
.muted{color:var(--muted);font-size:12px}
.badge{display:inline-block;min-width:44px;text-align:center;padding:0 6px;border:1px solid #999;border-radius:3px;font-size:11px;font-weight:700;letter-spacing:.03em;line-height:17px}
.badge.big{font-size:15px;line-height:24px;padding:0 12px;margin-left:6px}
.s-PASS{background:var(--pass-bg);color:var(--pass);border-color:var(--pass-bd)}
.s-WARN{background:var(--warn-bg);color:var(--warn);border-color:var(--warn-bd)}
.s-FAIL{background:var(--fail-bg);color:var(--fail);border-color:var(--fail-bd)}
.s-ERROR{background:var(--error-bg);color:var(--error);border-color:var(--error-bd)}
.s-NO_DATA{background:var(--nodata-bg);color:var(--nodata);border-color:var(--nodata-bd)}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:4px}
table{border-collapse:separate;border-spacing:0;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #eceef2;white-space:nowrap}
thead th{background:#eef1f5;font-size:11.5px;text-align:right;vertical-align:bottom;white-space:normal;line-height:1.2;border-bottom:1px solid #c9ced6}
thead th[title]{cursor:help;text-decoration:underline dotted #9aa3b2}
table.matrix td{text-align:left}table.matrix th{text-align:left}
table.matrix .pct{display:inline-block;min-width:62px;text-align:right}
table.matrix tfoot th,table.matrix tfoot td{border-top:2px solid #9aa3b2;font-weight:600}
table.matrix td.all,table.matrix th.all{background:#f7f8fa}
table.day{font-size:12px}
table.day th,table.day td{padding:3px 6px}
table.day td.num{text-align:right}
table.day th[scope=row]{text-align:left;font-weight:400;background:#fff}
td.empty{color:#98a0ad;text-align:center;cursor:help}
td.txt{white-space:normal;min-width:180px;max-width:300px;font-size:11px;color:#3a4250}
.group{margin-bottom:8px;width:fit-content;max-width:100%}
thead th.txt{text-align:left}
table.day caption{caption-side:top;text-align:left;font-weight:700;font-size:12px;color:var(--muted);padding:4px 8px;position:sticky;left:0}
h3 .behind{font-weight:400;font-size:13px;color:#3a4250;margin-left:6px}
.verdicts-wrap{margin-top:12px;width:fit-content;max-width:100%}
table.verdicts{font-size:13px}table.verdicts th,table.verdicts td{text-align:left}
table.verdicts td.num{text-align:right}
table.verdicts td.behind{white-space:normal;max-width:900px}
td.err{white-space:normal;min-width:420px;max-width:760px;font-family:"Liberation Mono",Menlo,Consolas,monospace;font-size:11px;color:#4a2a7a;word-break:break-all}
.stick0{position:sticky;left:0;z-index:1;min-width:86px;max-width:86px;text-align:left!important}
.stick1{position:sticky;left:86px;z-index:1;min-width:82px;text-align:left!important;border-right:1px solid #c9ced6}
thead .stick0,thead .stick1{background:#eef1f5;z-index:2}
.edge{border-right:2px solid #c9ced6}
tr.all td,tr.all th{font-weight:700;border-top:2px solid #9aa3b2;background:#f7f8fa!important}
tr.unknown th[scope=row]{font-style:italic}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:0 0 10px;font-size:12.5px;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{vertical-align:middle}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:14px}
figure.wf{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
figcaption{font-size:15px;margin-bottom:4px;display:flex;gap:10px;align-items:center}
figcaption .site{font-weight:700;font-size:16px}
svg{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;max-width:100%;height:auto;display:block}
svg .grid{stroke:#eceef2;stroke-width:1}
svg .tick{font-size:11px;fill:#6b7280}
svg .colhead{font-size:11px;fill:#6b7280;font-style:italic}
svg .label{font-size:12.5px;fill:#2b3240}
svg .value{font-size:12.5px;fill:#1d2330;font-variant-numeric:tabular-nums}
svg .share{font-size:11px;fill:#6b7280}
svg .strong{font-weight:700}
svg .zero{fill:#9aa3b2}
svg .conn{stroke:#9aa3b2;stroke-width:1;stroke-dasharray:2 2}
.k-total{fill:#3d5a80}.k-reject{fill:#e09f3e}.k-repeat{fill:#a7b0bc}.k-loss{fill:#c0392b}.k-gain{fill:#2a9d8f}
.k-note{fill:#eef1f5;stroke:#3d5a80;stroke-width:1.2;stroke-dasharray:4 2}
.notes{margin:4px 0 0;padding-left:18px;font-size:12.5px;color:#3a4250}
.skipped{margin:4px 0 0;font-size:12px;color:#5b3a8c}
.nodata{color:var(--muted)}
.chart-wrap{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px}
svg .band-fail{fill:#fdeeec}svg .band-warn{fill:#fff8e0}
svg .frame{fill:none;stroke:#c9ced6}
svg .hundred{stroke:#6b7280;stroke-width:1}
svg .th-warn{stroke:#b8860b;stroke-width:1.5;stroke-dasharray:6 4}
svg .th-fail{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:6 4}
svg .th-label{font-size:11.5px;font-weight:700}
.warn-text{fill:#8a6100;color:#8a6100}.fail-text{fill:#a12a1f}
svg .series{fill:none;stroke-linejoin:round;stroke-linecap:round}
svg .xtick{stroke:#9aa3b2}
svg .err-band{fill:#5b3a8c;fill-opacity:.1}
svg .err-label{font-size:11px;font-weight:700;fill:#5b3a8c}
svg .pinned{font-size:11px;font-weight:700}
svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg .end-label{font-size:12.5px;font-weight:700}
svg .axis-title{font-size:12px;fill:#6b7280}
.defs{display:grid;grid-template-columns:1fr 1fr;gap:2px 28px;font-size:12.5px}
.defs div{display:flex;gap:10px;padding:2px 0;border-bottom:1px solid #eceef2}
.defs dt{min-width:190px}.defs dd{margin:0;color:#3a4250}
@media print{body{background:#fff}.table-wrap{overflow:visible}.charts{grid-template-columns:1fr}}
`.trim();
