"""The report's look: one inline stylesheet, system fonts only (the page renders offline)."""

from __future__ import annotations

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: #1f2933;
  font-family: "DejaVu Sans", "Liberation Sans", "Segoe UI", Roboto, Arial, sans-serif;
  font-size: 15px; line-height: 1.5; }
.page { max-width: 1120px; margin: 24px auto; background: #fff; padding: 32px 44px 24px;
  border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: #52606d; }
h1 { font-size: 28px; margin: 4px 0 6px; }
h2 { font-size: 20px; margin: 30px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #e4e7eb; }
.about { color: #52606d; font-size: 13px; margin: 0 0 16px; }
.lead { font-size: 19px; line-height: 1.5; background: #f0f7ff; border-left: 6px solid #2f6fde;
  padding: 14px 18px; margin: 12px 0 18px; border-radius: 4px; }
.lead p { margin: 0 0 6px; } .lead p:last-child { margin-bottom: 0; }
.cards { display: flex; gap: 14px; margin: 8px 0 6px; }
.card { flex: 1; border: 1px solid #e4e7eb; border-radius: 8px; padding: 12px 16px; }
.card .label { font-size: 13px; color: #52606d; }
.card .big { font-size: 30px; font-weight: bold; margin: 2px 0; }
.card .unit { font-size: 13px; color: #3e4c59; }
.card .small { font-size: 12px; color: #616e7c; }
.chip { display: inline-block; font-size: 12px; font-weight: bold; padding: 1px 8px;
  border-radius: 10px; margin-top: 4px; }
.chip.better { background: #e3f9e5; color: #1f7a35; }
.chip.worse { background: #ffe3e3; color: #a61b1b; }
.chip.unclear { background: #e4e7eb; color: #3e4c59; }
.objective { font-size: 13px; color: #3e4c59; background: #f5f7fa; border-radius: 6px;
  padding: 8px 12px; margin: 10px 0 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 6px; font-size: 14px; }
th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: #52606d; border-bottom: 2px solid #cbd2d9; padding: 6px 8px; }
td { border-bottom: 1px solid #e4e7eb; padding: 7px 8px; vertical-align: top; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
table.segments { table-layout: fixed; }
table.segments th:nth-child(1) { width: 27%; } table.segments th:nth-child(2) { width: 7%; }
table.segments th:nth-child(3) { width: 17%; } table.segments th:nth-child(4) { width: 28%; }
.alert { color: #a61b1b; font-weight: bold; }
.info { background: #f5f7fa; border: 1px solid #e4e7eb; border-radius: 6px; padding: 6px 14px;
  margin: 8px 0; font-size: 13px; color: #52606d; }
.info li { margin: 2px 0; }
td.style { font-weight: bold; }
td.style .muted { font-weight: bold; }
tr.shipped td { background: #f0f7ff; }
.cond { display: block; }
.muted { color: #7b8794; font-size: 13px; }
.note { font-size: 13px; color: #52606d; margin: 4px 0 10px; }
.warn { background: #fffbea; border: 1px solid #f7d070; border-radius: 6px; padding: 8px 14px;
  margin: 8px 0; }
.warn li, .ok li { margin: 4px 0; }
.ok { background: #effcf6; border: 1px solid #8eedc7; border-radius: 6px; padding: 8px 14px;
  margin: 8px 0; }
ul { margin: 4px 0; padding-left: 20px; }
figure { margin: 14px auto; max-width: 900px; }
figure img { width: 100%; border: 1px solid #e4e7eb; border-radius: 6px; }
figcaption { font-size: 13px; color: #52606d; margin-top: 4px; }
footer { margin-top: 28px; border-top: 1px solid #e4e7eb; padding-top: 10px; font-size: 12px;
  color: #7b8794; }
footer dt { font-weight: bold; float: left; clear: left; width: 150px; }
footer dd { margin: 0 0 2px 160px; }
"""
