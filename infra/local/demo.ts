/**
 * `npm start`: the whole Goldline loop on the embedded stack.
 *   --rounds N     rounds to run (default 2)
 *   --cases N      synthetic cases (default 600, 10% of them gold)
 *   --seed N       random seed (default 7)
 *   --overlap R    share of vendor cases also sent to a second workforce (0..0.5, default 0);
 *                  disagreements go to the internal expert
 *   --data-dir D   keep the stack's state in D (inspect it later)
 *   --serve        keep the stack running after the demo (Ctrl-C stops)
 */
import './polyfills.js';
import { parseArgs } from 'node:util';
import { seededRandomSource } from '../../functions/domain/index.js';
import { DemoResumeError, runDemo } from './demo/run-demo.js';
import { startLocalStack } from './stack.js';

const USAGE =
  'usage: npm start -- [--rounds N>=1] [--cases N>=20] [--seed N] [--overlap 0..0.5] [--data-dir DIR] [--serve] [--verbose]';
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      cases: { type: 'string', default: '600' },
      seed: { type: 'string', default: '7' },
      overlap: { type: 'string', default: '0' },
      'data-dir': { type: 'string' },
      serve: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
}
try {
  parsed = parse();
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rounds = Number(values.rounds);
const cases = Number(values.cases);
const seed = Number(values.seed);
const overlapRate = Number(values.overlap);
if (
  !Number.isInteger(rounds) ||
  rounds < 1 ||
  !Number.isInteger(cases) ||
  cases < 20 ||
  !Number.isInteger(seed) ||
  !(overlapRate >= 0 && overlapRate <= 0.5)
) {
  console.error(USAGE);
  process.exit(2);
}

const t0 = Date.now();
const stack = await startLocalStack({
  dataDir: values['data-dir'],
  random: seededRandomSource(seed),
  log: values.verbose ? (l) => console.log(`  · ${l}`) : undefined,
});
console.log('Goldline demo on the embedded stack');
console.log(`  DynamoDB (dynalite) ${stack.endpoints.dynamodb} · S3 (s3rver) ${stack.endpoints.s3}`);
console.log(`  ${cases} synthetic chest X-ray cases (10% gold), ${rounds} rounds, seed ${seed}`);
try {
  await runDemo(stack, { rounds, cases, goldFraction: 0.1, seed, overlapRate, log: (l) => console.log(l) });
  console.log(`\nState transitions: ${stack.runner.stateTransitions} · done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  // A data directory the demo cannot resume from: say why, plainly, and fail.
  console.error(e instanceof DemoResumeError ? `cannot resume: ${e.message}` : `demo failed: ${(e as Error).stack ?? e}`);
  await stack.stop();
  process.exit(1);
}
if (values.serve) {
  console.log('Serving; press Ctrl-C to stop.');
  process.on('SIGINT', () => void stack.stop().then(() => process.exit(0)));
} else {
  await stack.stop();
}
