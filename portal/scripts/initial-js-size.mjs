// The JavaScript the first screen loads: the entry script and its modulepreload links in dist/index.html, gzipped.
// Usage: node scripts/initial-js-size.mjs [--max-kb 200] [--json]; run `npm run build` first.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const srcs = new Set();
for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) srcs.add(m[1]);
for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g))
  srcs.add(m[1]);
const files = [...srcs].map((src) => {
  const bytes = readFileSync(join(dist, src.replace(/^\//, "")));
  return { file: src, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const total = files.reduce((sum, f) => sum + f.gzip, 0);
const args = process.argv.slice(2);
const maxIndex = args.indexOf("--max-kb");
const maxKb = maxIndex >= 0 ? Number(args[maxIndex + 1]) : 200;
if (args.includes("--json")) {
  console.log(JSON.stringify({ files, initial_js_gzip_bytes: total, max_kb: maxKb }));
} else {
  for (const f of files) console.log(`${f.file}  ${f.bytes} B  gzip ${f.gzip} B`);
  console.log(`initial JS gzipped: ${(total / 1024).toFixed(1)} KB (target at most ${maxKb} KB)`);
}
if (total > maxKb * 1024) process.exit(1);
