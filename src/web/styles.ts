/**
 * The interface's one stylesheet, as a string so that `tsc` alone builds the whole interface (no
 * copy step). System fonts, CSS variables for light and dark, layouts that hold at 375 px.
 */
export const STYLES = String.raw`
:root { --bg:#fff; --fg:#1b1f24; --muted:#5c6670; --line:#d8dee4; --card:#f6f8fa; --accent:#0b5cad; --accent-fg:#fff;
  --ok:#1a7f37; --bad:#c62828; --warn:#9a6700; --run:#0b5cad; --mark:#fff3a3; --code:#f3f4f6;
  --y-key:#0550ae; --y-string:#0a3069; --y-number:#953800; --y-bool:#8250df; --y-comment:#6e7781; --y-var:#b35900; --y-punct:#57606a;
  color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --line:#30363d; --card:#161b22; --accent:#4493f8; --accent-fg:#0d1117;
  --ok:#3fb950; --bad:#f85149; --warn:#d29922; --run:#4493f8; --mark:#6e5c00; --code:#1f242c;
  --y-key:#79c0ff; --y-string:#a5d6ff; --y-number:#ffa657; --y-bool:#d2a8ff; --y-comment:#8b949e; --y-var:#f0883e; --y-punct:#8b949e; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
a { color: var(--accent); }
code, .log, .source, .hash { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--fg); }
nav ul { display: flex; flex-wrap: wrap; gap: .1rem .9rem; list-style: none; margin: 0; padding: 0; }
nav a { text-decoration: none; padding: .3rem 0; display: inline-block; }
nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--accent); }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 .8rem; display: flex; align-items: center; gap: .5rem; flex-wrap: wrap; word-break: break-all; }
h1:focus { outline: none; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.page-head { display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: .5rem; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: .5rem 0 1rem; }
.narrow { max-width: 30rem; margin: 2rem auto; }
.row { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-start; }
.row > button, .row > .button { margin-top: 1.6rem; }
.row > .field { flex: 1 1 12rem; }
.field { display: flex; flex-direction: column; gap: .2rem; margin: 0 0 .75rem; min-width: 0; }
.field label { font-weight: 600; }
.hint { color: var(--muted); font-size: .85rem; }
.field-error, .error-inline { color: var(--bad); }
.field-error:empty { display: none; }
input, select, textarea, button, .button { font: inherit; border-radius: 6px; min-height: 2.4rem; }
input[type=text], input[type=password], input[type=search], select, textarea { padding: .35rem .5rem; border: 1px solid var(--line); background: var(--bg); color: var(--fg); width: 100%; max-width: 100%; }
input[aria-invalid="true"] { border-color: var(--bad); }
button, .button { display: inline-flex; align-items: center; justify-content: center; padding: .35rem .9rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none; white-space: nowrap; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; color: var(--accent); padding: .3rem 0; min-height: 0; }
button:disabled { opacity: .55; cursor: default; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1rem; padding: .5rem .9rem; min-width: 0; }
legend { font-weight: 600; padding: 0 .3rem; }
label.inline { display: inline-flex; align-items: center; gap: .3rem; margin-right: 1rem; min-height: 2.4rem; }
input[type=checkbox] { width: 1.1rem; height: 1.1rem; }
.filters { display: flex; gap: .75rem; flex-wrap: wrap; }
.filters .field { flex: 0 1 14rem; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding: .2rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.selected td, tr.revoked td { background: var(--card); }
tr.revoked td { color: var(--muted); }
.hash { word-break: break-all; font-size: 12px; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.state-queued, .state-idle { color: var(--muted); } .state-running, .state-busy { color: var(--run); }
.state-succeeded { color: var(--ok); } .state-failed, .state-lost { color: var(--bad); } .state-canceled, .state-draining { color: var(--warn); }
.muted { color: var(--muted); } .empty { color: var(--muted); padding: 1rem 0; }
.error { border: 1px solid var(--bad); border-left-width: 4px; border-radius: 6px; padding: .5rem .9rem; margin: .5rem 0; }
.error p { margin: .3rem 0; } .error-title { font-weight: 700; color: var(--bad); }
.ok { border-left: 4px solid var(--ok); padding: .3rem .8rem; margin: .5rem 0; }
.notice { border-left: 4px solid var(--warn); padding: .3rem .8rem; }
.diagnostics { margin: .3rem 0; padding-left: 1.2rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.stages { list-style: none; margin: 0; padding: 0; }
.stage { display: grid; grid-template-columns: minmax(6rem, 12rem) 1fr 8.5rem; gap: .5rem; align-items: center; height: 1.7rem; }
.stage-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: .9rem; }
.stage-track { position: relative; height: .8rem; background: var(--card); border-radius: 3px; }
.stage-bar { position: absolute; top: 0; bottom: 0; border-radius: 3px; background: var(--ok); }
.stage.cached .stage-bar { background: var(--muted); }
.stage-running .stage-bar { background: var(--run); } .stage-failed .stage-bar { background: var(--bad); } .stage-pending .stage-bar { background: transparent; }
.stage-time { font-size: .85rem; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.stage-pending { color: var(--muted); }
.log-tools { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; }
.log-tools .field { flex: 1 1 12rem; margin: 0; }
.log-frame { position: relative; margin-top: .5rem; }
.log { height: 60vh; min-height: 16rem; overflow: auto; background: var(--code); border: 1px solid var(--line); border-radius: 6px; line-height: 18px; overflow-anchor: none; contain: strict; }
.log-spacer { position: relative; min-width: 100%; width: max-content; }
.log-rows { position: absolute; top: 0; left: 0; right: 0; will-change: transform; }
.line { height: 18px; white-space: pre; padding: 0 .5rem; }
.line.current { background: var(--mark); }
mark { background: var(--mark); color: inherit; }
.jump { position: absolute; right: 1rem; bottom: 1rem; }
.stream-status { font-size: .8rem; font-weight: 400; }
.source { background: var(--code); border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 70vh; padding: .3rem 0; }
.src-line { display: flex; white-space: pre; min-height: 18px; line-height: 18px; }
.src-line code { padding: 0 .5rem; }
.ln { flex: none; width: 3.2rem; text-align: right; color: var(--muted); user-select: none; padding-right: .4rem; border-right: 1px solid var(--line); font-family: ui-monospace, monospace; font-size: 12px; }
.has-error { background: color-mix(in srgb, var(--bad) 14%, transparent); }
.src-note { display: flex; color: var(--bad); font-weight: 600; white-space: pre-wrap; padding: .1rem 0; }
.src-note > span:last-child { padding: 0 .5rem; }
.y-key { color: var(--y-key); } .y-string { color: var(--y-string); } .y-number, .y-null { color: var(--y-number); } .y-bool { color: var(--y-bool); }
.y-comment { color: var(--y-comment); font-style: italic; } .y-var { color: var(--y-var); font-weight: 600; } .y-punct, .y-doc { color: var(--y-punct); }
.y-anchor, .y-tag { color: var(--y-bool); }
.d-add { background: color-mix(in srgb, var(--ok) 14%, transparent); } .d-del { background: color-mix(in srgb, var(--bad) 14%, transparent); }
.d-hunk { color: var(--accent); } .d-file { font-weight: 700; }
ul.plain { list-style: none; padding-left: 0; margin: .3rem 0; }
.secret { font-family: ui-monospace, monospace; }
@media (max-width: 600px) {
  main { padding: .6rem; }
  .stage { grid-template-columns: minmax(5rem, 8rem) 1fr 6.5rem; }
  .log { height: 55vh; }
}
`;
