#!/usr/bin/env bash
# Regenerates web/static/editor.js (CodeMirror 6, bundled once and committed) and
# packaging/editor/LICENSES.txt from the pinned versions in package.json / package-lock.json.
# Needs node and npm; run it in a scratch copy so no node_modules lands in the repo:
#   bash packaging/editor/build.sh
# The bundle is minified ES2020, one file, no source map; nothing is loaded from a CDN.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/entry.mjs" "$work/"
[ -f "$here/package-lock.json" ] && cp "$here/package-lock.json" "$work/"
cd "$work"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; cp package-lock.json "$here/"; fi
banner='/* lambdabox code editor: CodeMirror 6 and Lezer (MIT, (c) Marijn Haverbeke and others); versions and licence texts in packaging/editor/LICENSES.txt; rebuilt by packaging/editor/build.sh */'
./node_modules/.bin/esbuild entry.mjs --bundle --minify --format=iife --target=es2020 \
  --charset=ascii --legal-comments=none --banner:js="$banner" --outfile="$root/web/static/editor.js"
# every package in the bundle with its version and licence text
node -e '
const fs = require("fs"), path = require("path");
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
let out = "Third-party code in web/static/editor.js (bundled by packaging/editor/build.sh)\n\n";
for (const [p, meta] of Object.entries(lock.packages)) {
  if (!p || meta.dev || !p.startsWith("node_modules/")) continue;
  const dir = p;
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const lic = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  out += `== ${pkg.name} ${pkg.version} (${pkg.license})\n\n`;
  out += lic ? fs.readFileSync(path.join(dir, lic), "utf8").trim() + "\n\n" : "(no licence file in the package)\n\n";
}
fs.writeFileSync(process.argv[1], out);
' "$here/LICENSES.txt"
ls -l "$root/web/static/editor.js"
