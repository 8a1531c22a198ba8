/**
 * `npm run bench`: runs every test/bench/*.bench.ts (default export: an async
 * function that prints its figures), each in a process of its own so that its
 * memory figures are its own. Pass names to run a subset:
 * `npm run bench -- scoring`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import '../../infra/local/polyfills.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--one') {
  const mod = (await import(pathToFileURL(join(here, args[1])).href)) as { default: () => Promise<void> };
  await mod.default();
} else {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => args.length === 0 || args.some((x) => f.includes(x)))
    .sort();
  let failed = 0;
  for (const f of files) {
    console.log(`\n=== ${f.replace('.bench.ts', '')} ===`);
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', f], {
      stdio: 'inherit',
    });
    if (r.status !== 0) {
      failed++;
      console.log(`(${f} exited with ${r.status ?? r.signal})`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
