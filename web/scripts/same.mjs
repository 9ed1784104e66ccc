// Exits 1 when the two files differ: the committed API types are stale.
import { readFileSync, rmSync } from 'node:fs';

const [a, b] = process.argv.slice(2);
const same = readFileSync(a, 'utf8') === readFileSync(b, 'utf8');
rmSync(b, { force: true });
if (!same) {
  console.error(`${a} is stale: run \`npm run gen:api\` in web/ and commit it.`);
  process.exit(1);
}
