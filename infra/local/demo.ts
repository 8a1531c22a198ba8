/**
 * `npm start`: the whole Goldline loop on the embedded stack.
 *   --rounds N     rounds to run (default 2)
 *   --cases N      synthetic cases (default 600, 10% of them gold)
 *   --seed N       random seed (default 1)
 *   --overlap R    share of vendor cases also sent to a second workforce (0..0.5, default 0);
 *                  disagreements go to the internal expert
 *   --acceptance A sprt (default: the truncated SPRT, small batches may be held and settled
 *                  with the vendor's next batch) or single-plan (a demo-sized plan, 5 gold,
 *                  ≤ 1 wrong, β 0.19 at RQL 0.5: every batch decided within its round)
 *   --data-dir D   keep the stack's state in D (inspect it later)
 *   --serve        keep the stack and the API serving after the demo (Ctrl-C stops) and
 *                  write the profile (.goldline/local.json: endpoint + a token per demo user)
 *   --profile F    where --serve writes the profile (default .goldline/local.json)
 *
 * The simulated vendors and the internal expert act through the Goldline API
 * (infra/local/api-server.ts) with their own tokens from the embedded issuer.
 */
import './polyfills.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandomSource } from '../../functions/domain/index.js';
import type { DemoAcceptance } from './demo/example-program.js';
import { DemoResumeError, runDemo } from './demo/run-demo.js';
import { startApiServer } from './api-server.js';
import { DEMO_USERS } from './issuer.js';
import { startLocalStack } from './stack.js';

const USAGE =
  'usage: npm start -- [--rounds N>=1] [--cases N>=20] [--seed N] [--overlap 0..0.5] [--acceptance sprt|single-plan] [--data-dir DIR] [--serve [--profile FILE]] [--verbose]';
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      cases: { type: 'string', default: '600' },
      seed: { type: 'string', default: '1' },
      overlap: { type: 'string', default: '0' },
      acceptance: { type: 'string', default: 'sprt' },
      'data-dir': { type: 'string' },
      serve: { type: 'boolean', default: false },
      profile: { type: 'string', default: '.goldline/local.json' },
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
const acceptance = values.acceptance;
const wrong = [
  !(Number.isInteger(rounds) && rounds >= 1) && `--rounds must be a whole number ≥ 1 (got "${values.rounds}")`,
  !(Number.isInteger(cases) && cases >= 20) && `--cases must be a whole number ≥ 20 (got "${values.cases}")`,
  !Number.isInteger(seed) && `--seed must be a whole number (got "${values.seed}")`,
  !(overlapRate >= 0 && overlapRate <= 0.5) && `--overlap must be a number from 0 to 0.5 (got "${values.overlap}")`,
  acceptance !== 'sprt' && acceptance !== 'single-plan' && `--acceptance must be sprt or single-plan (got "${acceptance}")`,
].filter((w): w is string => typeof w === 'string');
if (wrong.length > 0) {
  console.error(`${wrong.map((w) => `error: ${w}`).join('\n')}\n${USAGE}`);
  process.exit(2);
}

const t0 = Date.now();
const stack = await startLocalStack({
  dataDir: values['data-dir'],
  random: seededRandomSource(seed),
  log: values.verbose ? (l) => console.log(`  · ${l}`) : undefined,
});
console.log('Goldline demo on the embedded stack');
const api = await startApiServer({ deps: stack.deps });
console.log(`  DynamoDB (dynalite) ${stack.endpoints.dynamodb} · S3 (s3rver) ${stack.endpoints.s3} · Goldline API ${api.url}/v1`);
console.log(`  ${cases} synthetic chest X-ray cases (10% gold), ${rounds} rounds, seed ${seed}, acceptance ${acceptance}`);
try {
  await runDemo(stack, { rounds, cases, goldFraction: 0.1, seed, overlapRate, acceptance: acceptance as DemoAcceptance, api, log: (l) => console.log(l) });
  console.log(`\nState transitions: ${stack.runner.stateTransitions} · done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  // A data directory the demo cannot resume from: say why, plainly, and fail.
  console.error(e instanceof DemoResumeError ? `cannot resume: ${e.message}` : `demo failed: ${(e as Error).stack ?? e}`);
  await api.close();
  await stack.stop();
  process.exit(1);
}
if (values.serve) {
  // One token per demo user, valid 12 h, for the CLI and curl.
  const tokens: Record<string, string> = {};
  for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user, { expiresIn: 12 * 3600 });
  const profile = values.profile;
  await mkdir(dirname(profile), { recursive: true });
  await writeFile(profile, `${JSON.stringify({ endpoint: api.url, program: 'demo-cxr', tokens }, null, 2)}\n`, { mode: 0o600 });
  console.log(`
Serving the Goldline API at ${api.url}/v1 (OpenAPI 3.1: ${api.url}/v1/openapi.json).
QA dashboard: ${api.dashboardUrl} (sign in with the qa or pm token from ${profile}).
Wrote ${profile}: the endpoint and a token (12 h) for each demo user: ${Object.keys(tokens).join(', ')}.
  npx goldline vendor batches --as vendor-a          # the CLI reads ${profile}
  npx goldline qa scorecards
  npx goldline pm round status 1
  npx goldline release list                          # then: release show|verify REL_ID
  TOKEN=$(node -p "require('./${profile.replace(/^\.\//, '')}').tokens['vendor-a']")
  curl -s -H "Authorization: Bearer $TOKEN" ${api.url}/v1/batches
Press Ctrl-C to stop.`);
  process.on('SIGINT', () => void api.close().then(() => stack.stop()).then(() => process.exit(0)));
  process.on('SIGTERM', () => void api.close().then(() => stack.stop()).then(() => process.exit(0)));
} else {
  await api.close();
  await stack.stop();
}
