/**
 * The embedded AWS stack: dynalite (DynamoDB) and s3rver (S3) on loopback ports,
 * tables and buckets from the same definitions as the CDK stack, the batch
 * lifecycle run from its ASL file with every Task bound to the Lambda handler
 * code, task-token callbacks, and S3 upload events delivered to the same ingest
 * handler EventBridge triggers in AWS.
 */
import './polyfills.js';
import './dynalite-iterators.js'; // dynalite never closed its LevelDB iterators: memory grew with every Query
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { DynamoRepository } from '../../functions/adapters/dynamo-repository.js';
import type { Handler } from '../../functions/adapters/handler.js';
import { RequestCounter } from '../../functions/adapters/request-counter.js';
import { RequestRecorder } from '../../functions/adapters/request-recorder.js';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.js';
import { cryptoRandomSource, type RandomSource } from '../../functions/domain/index.js';
import type { Buckets, Deps } from '../../functions/use-cases/ports.js';
import { BUCKETS, FUNCTIONS, STATE_MACHINES, TABLES, type TableDefinition, UPLOAD_PREFIX } from '../definitions.js';
import { LocalClock, LocalTaskCallbacks } from './callbacks.js';
import { CrashPoints, crashPlanFromEnv, stepOfFunction } from './crash-points.js';
import { createActiveTable } from './dynalite-tables.js';
import { startS3Guard } from './s3-guard.js';
import { atomicObjectWrites } from './s3rver-atomic.js';
import { type FunctionPartRunner, LocalWorkflowRunner, loadAsl, loadHandlers } from './workflow-runner.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

export interface LocalStackOptions {
  /** Keep state here (inspect or resume later). Default: a temp dir removed on stop. */
  dataDir?: string;
  random?: RandomSource;
  /** Log ingest outcomes and failures. */
  log?: (line: string) => void;
  /** Wraps each function's handler last (benchmarks time every invocation this way). */
  instrument?: (fn: string, handler: Handler<unknown>) => Handler<unknown>;
  /** Runs each part of a function made of parts (CompleteBatch's SettleBatch, FinalizeBatch, CheckAgreement, Rebalance), inside `instrument`. */
  instrumentPart?: FunctionPartRunner;
}

export interface LocalStack {
  deps: Deps;
  dynamo: DynamoDBClient;
  s3: S3Client;
  clock: LocalClock;
  callbacks: LocalTaskCallbacks;
  runner: LocalWorkflowRunner;
  /** The round-dispatch state machine's runner (workflows/round-dispatch.asl.json): PlanRound, then a Map over chunks. */
  roundRunner: LocalWorkflowRunner;
  handlers: Record<string, Handler<unknown>>;
  /** `s3Presigned`: the S3 guard in front of s3rver, where presigned URLs point (s3-guard.ts). */
  endpoints: { dynamodb: string; s3: string; s3Presigned: string };
  /** AWS requests made through the stack's clients, by service and operation. */
  requests: RequestCounter;
  /**
   * Which function made which S3 and DynamoDB request (IAM action and resource),
   * and what it presigned: compared with the synthesized grants in test/infra/iam.test.ts.
   */
  accesses: RequestRecorder;
  tableName: string;
  /** Ingest outcomes, in delivery order (tests read them). */
  ingests: { key: string; outcome: unknown }[];
  /** Delivers an S3 "Object Created" event for a key, as EventBridge would (again). */
  deliverUploadEvent(key: string): Promise<unknown>;
  /** Waits until no upload event is being handled and no execution is running. */
  idle(): Promise<void>;
  /**
   * Runs work the demo does itself (setup, dispatch, a vendor's labelling) as a
   * named step: the crash points (GOLDLINE_CRASH_AT, crash-points.ts) count its writes.
   */
  step<T>(step: string, work: () => Promise<T>): Promise<T>;
  /** Waits until all upload events delivered so far have been handled. */
  ingestIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** CreateTable input from the shared definition: local schema = deployed schema. */
export function createTableInput(def: TableDefinition, name: string) {
  const attrs = new Map<string, 'S' | 'N'>();
  for (const k of [def.partitionKey, def.sortKey, ...def.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])]) {
    attrs.set(k.name, k.type);
  }
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey.name, KeyType: 'HASH' as const },
        { AttributeName: g.sortKey.name, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

/** Local physical names: `goldline-<id>` (CDK generates its own in AWS). */
export const localName = (id: string): string => `goldline-${id.toLowerCase()}`;

interface S3Record {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

/** The EventBridge "Object Created" event S3 sends in AWS, for a local put. */
export function objectCreatedEvent(bucket: string, key: string, size: number, etag = ''): unknown {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size, etag, sequencer: Date.now().toString(16) },
      'request-id': randomUUID(),
      requester: '000000000000',
      reason: 'PutObject',
    },
  };
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const ephemeral = !opts.dataDir;
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(tmpdir(), 'goldline-'));
  mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
  mkdirSync(join(dataDir, 's3'), { recursive: true });
  const log = opts.log ?? (() => undefined);

  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: join(dataDir, 'dynamodb') });
  await new Promise<void>((res, rej) => dyn.listen(0, '127.0.0.1', (e?: Error) => (e ? rej(e) : res())));
  const dynamoEndpoint = `http://127.0.0.1:${(dyn.address() as AddressInfo).port}`;

  const bucketNames: Buckets = {
    images: localName(BUCKETS.images.id),
    uploads: localName(BUCKETS.uploads.id),
    gold: localName(BUCKETS.gold.id),
    exports: localName(BUCKETS.exports.id),
    releases: localName(BUCKETS.releases.id),
  };
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(dataDir, 's3'),
    configureBuckets: Object.values(bucketNames).map((name) => ({ name })),
  });
  atomicObjectWrites(s3rver); // s3rver writes in place: a GET beside a PUT could read half an object
  const s3Address = (await s3rver.run()) as AddressInfo;
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  // Presigned URLs point at the guard, which enforces what s3rver does not:
  // signatures, signed checksums, If-None-Match (docs/local-stack.md).
  const s3Guard = await startS3Guard({ upstream: s3Endpoint, credentials: CREDENTIALS, log });

  // Rounds of 10,000 cases put hundreds of requests in flight: more sockets than the SDK's 50.
  const requestHandler = { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) };
  const dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, region: REGION, credentials: CREDENTIALS, requestHandler });
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestHandler,
    // s3rver stores aws-chunked (streaming checksum) uploads corrupted.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Signs the URLs vendors use (it sends nothing itself).
  const presigner = new S3Client({
    endpoint: s3Guard.endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const requests = new RequestCounter();
  requests.attach(dynamo, 'dynamodb');
  requests.attach(s3, 's3');
  // Off unless GOLDLINE_CRASH_AFTER_WRITES / GOLDLINE_CRASH_AT is set (the crash-point test).
  const crashPoints = new CrashPoints(crashPlanFromEnv(process.env), process.env.GOLDLINE_CRASH_TRACE === '1');
  crashPoints.attach(dynamo, 'dynamodb');
  crashPoints.attach(s3, 's3');
  const tableName = localName(TABLES[0].id);
  const accesses = new RequestRecorder({
    buckets: Object.fromEntries(Object.entries(bucketNames).map(([logical, physical]) => [physical, logical])),
    tables: Object.fromEntries(TABLES.map((t) => [localName(t.id), t.id])),
  });
  accesses.attach(dynamo, 'dynamodb');
  accesses.attach(s3, 's3');
  accesses.attach(presigner, 's3'); // presigns are made with the presigner client

  for (const def of TABLES) {
    await createActiveTable(dynamo, createTableInput(def, localName(def.id)));
  }

  const clock = new LocalClock();
  const callbacks = new LocalTaskCallbacks(clock);
  let runner!: LocalWorkflowRunner;
  let roundRunner!: LocalWorkflowRunner;
  const roundStarter = accesses.recordingStarter({ startBatch: (name, input) => roundRunner.startBatch(name, input) }, 'roundDispatch');
  const repo = new DynamoRepository(dynamo, tableName);
  // A data dir written before the case shards: move its case items (idempotent; nothing to do on a fresh one).
  if (!ephemeral) for (const programId of await repo.listPrograms()) await repo.migrateLegacyKeys(programId);
  const deps: Deps = {
    repo,
    objects: new S3ObjectStore(s3, presigner),
    // Recorded as states:SendTask* / StartExecution of the function that calls them.
    callbacks: accesses.recordingCallbacks(callbacks, 'batchLifecycle'),
    workflows: accesses.recordingStarter({ startBatch: (name, input) => runner.startBatch(name, input) }, 'batchLifecycle'),
    rounds: {
      startRound: (name, input) => roundStarter.startBatch(name, input),
      roundExecution: (name, waitSeconds) => roundRunner.execution(name, waitSeconds),
    },
    clock,
    random: opts.random ?? cryptoRandomSource,
    buckets: bucketNames,
  };
  // Each handler runs as its function, so the requests it makes are recorded under its name.
  // A part of a function made of parts (CompleteBatch) counts for the crash points under its own step (settle: score, finalize…).
  const part: FunctionPartRunner = (fn, name, work) =>
    crashPoints.within(stepOfFunction(name), fn, () => (opts.instrumentPart ? opts.instrumentPart(fn, name, work) : work()));
  const handlers = await loadHandlers(ROOT, () => deps, part);
  for (const f of FUNCTIONS) handlers[f.name] = accesses.bind(f.name, handlers[f.name]);
  for (const f of FUNCTIONS) handlers[f.name] = crashPoints.bind(f.name, handlers[f.name]);
  if (opts.instrument) for (const f of FUNCTIONS) handlers[f.name] = opts.instrument(f.name, handlers[f.name]);
  runner = new LocalWorkflowRunner(loadAsl(ROOT, STATE_MACHINES.batchLifecycle.file), handlers, callbacks);
  roundRunner = new LocalWorkflowRunner(loadAsl(ROOT, STATE_MACHINES.roundDispatch.file), handlers, callbacks);

  // S3 → EventBridge → IngestUpload: the rule matches Object Created in the
  // uploads bucket under the uploads/ prefix (as the CDK rule does). Lambda's
  // async invocation retries twice; so does this.
  const ingests: { key: string; outcome: unknown }[] = [];
  const pending = new Set<Promise<unknown>>();
  const deliver = async (key: string, size = 0, etag = ''): Promise<unknown> => {
    const event = objectCreatedEvent(bucketNames.uploads, key, size, etag);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const outcome = await handlers.IngestUpload(event);
        ingests.push({ key, outcome });
        log(`ingest ${key}: ${JSON.stringify(outcome).slice(0, 300)}`);
        return outcome;
      } catch (e) {
        lastError = e;
        log(`ingest ${key} attempt ${attempt + 1} failed: ${(e as Error).message}`);
      }
    }
    ingests.push({ key, outcome: { status: 'error', error: String(lastError) } });
    return { status: 'error', error: String(lastError) };
  };
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    p.finally(() => pending.delete(p));
    return p;
  };
  s3rver.on('event', (e: { Records: S3Record[] }) => {
    for (const r of e.Records ?? []) {
      const { name } = r.s3.bucket;
      const key = decodeURIComponent(r.s3.object.key);
      if (!r.eventName.startsWith('ObjectCreated') || name !== bucketNames.uploads || !key.startsWith(UPLOAD_PREFIX)) continue;
      track(deliver(key, r.s3.object.size ?? 0, r.s3.object.eTag ?? ''));
    }
  });

  const ingestIdle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return {
    deps,
    dynamo,
    s3,
    clock,
    callbacks,
    runner,
    roundRunner,
    handlers,
    endpoints: { dynamodb: dynamoEndpoint, s3: s3Endpoint, s3Presigned: s3Guard.endpoint },
    requests,
    accesses,
    tableName,
    ingests,
    deliverUploadEvent: (key) => track(deliver(key)),
    step: (step, work) => crashPoints.within(step, step, work),
    ingestIdle,
    async idle() {
      await ingestIdle();
      await roundRunner.idle();
      await runner.idle();
    },
    async stop() {
      await ingestIdle();
      await roundRunner.abortAll();
      await runner.abortAll();
      dynamo.destroy();
      s3.destroy();
      presigner.destroy();
      await s3Guard.close();
      await s3rver.close();
      await new Promise<void>((res) => dyn.close(() => res()));
      if (ephemeral) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
