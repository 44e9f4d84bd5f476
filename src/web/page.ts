/** index.html: the shell the client app fills in, with every module preloaded and the lists it offers. */
import type { WebConfig } from './config.js';

const ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M2 14h12L11 3H5z' fill='%23b35900'/%3E%3C/svg%3E";

const attr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function indexHtml(base: string, modules: readonly string[], entry: string, config: WebConfig): string {
  // `<` escaped so no value can close the script element early.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kiln</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="${attr(base)}app.css">
${modules.map((m) => `<link rel="modulepreload" href="${attr(base + m)}">`).join('\n')}
<script type="module" src="${attr(base + entry)}"></script>
</head>
<body>
<header><a class="brand" href="#/builds">kiln</a><nav id="nav" aria-label="Main"></nav></header>
<main id="main"><noscript>The kiln interface needs JavaScript. The same service is available from the command line: kiln remote --help.</noscript></main>
<script type="application/json" id="kiln-config">${json}</script>
</body>
</html>
`;
}
