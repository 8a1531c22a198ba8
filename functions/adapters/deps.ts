/**
 * Production wiring: clients are created once per Lambda container, from the
 * environment the CDK stack sets. Handlers accept injected deps instead (tests,
 * the embedded stack), so nothing here is patched.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { BUCKETS, MAIN_TABLE, STATE_MACHINES } from '../../infra/definitions.js';
import { cryptoRandomSource } from '../domain/index.js';
import { type Deps, systemClock } from '../use-cases/ports.js';
import { DynamoRepository } from './dynamo-repository.js';
import { S3ObjectStore } from './s3-object-store.js';
import { SfnRoundWorkflow, SfnTaskCallbacks, SfnWorkflowStarter } from './sfn.js';

const Env = z.object({
  [MAIN_TABLE.envVar]: z.string().min(1),
  [BUCKETS.images.envVar]: z.string().min(1),
  [BUCKETS.uploads.envVar]: z.string().min(1),
  [BUCKETS.gold.envVar]: z.string().min(1),
  [BUCKETS.exports.envVar]: z.string().min(1),
  [BUCKETS.releases.envVar]: z.string().min(1),
  [STATE_MACHINES.batchLifecycle.envVar]: z.string().default(''),
  [STATE_MACHINES.roundDispatch.envVar]: z.string().default(''),
});

let cached: Deps | undefined;

/** Deps from the Lambda environment; built on first use, then reused. */
export function defaultDeps(): Deps {
  if (cached) return cached;
  const env = Env.parse(process.env);
  const sfn = new SFNClient({});
  cached = {
    repo: new DynamoRepository(new DynamoDBClient({}), env[MAIN_TABLE.envVar]),
    objects: new S3ObjectStore(new S3Client({})),
    callbacks: new SfnTaskCallbacks(sfn),
    workflows: new SfnWorkflowStarter(sfn, env[STATE_MACHINES.batchLifecycle.envVar]),
    // Only DispatchRound has the round-dispatch ARN (ACCESS.startsRounds).
    ...(env[STATE_MACHINES.roundDispatch.envVar] ? { rounds: new SfnRoundWorkflow(sfn, env[STATE_MACHINES.roundDispatch.envVar]) } : {}),
    clock: systemClock,
    random: cryptoRandomSource,
    buckets: {
      images: env[BUCKETS.images.envVar],
      uploads: env[BUCKETS.uploads.envVar],
      gold: env[BUCKETS.gold.envVar],
      exports: env[BUCKETS.exports.envVar],
      releases: env[BUCKETS.releases.envVar],
    },
  };
  return cached;
}
