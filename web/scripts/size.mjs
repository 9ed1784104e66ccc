// The initial JavaScript of the app, gzipped: every script and modulepreload
// that dist/index.html names. Fails above the budget (60 KB, issue 13).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
const budget = 60 * 1024;
const html = readFileSync(join(dir, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const f of files) {
  const gz = gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(6)} KB  ${f}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(6)} KB  initial JavaScript, gzipped (budget ${budget / 1024} KB)`);
if (total > budget) process.exit(1);
