// Writes <file>.br and <file>.gz next to every text asset of the build, so
// that cinema-api can answer a compressed copy without compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
const text = /\.(html|js|css|svg|json|txt|webmanifest|map)$/;

function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (text.test(name)) {
      const data = readFileSync(p);
      if (data.length < 512) continue;
      writeFileSync(`${p}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      writeFileSync(`${p}.gz`, gzipSync(data, { level: 9 }));
    }
  }
}
walk(dir);
