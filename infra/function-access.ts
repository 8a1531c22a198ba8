/**
 * What each Lambda may touch, written out per function from what its use case
 * calls (infra/goldline-stack.ts turns it into IAM statements with named actions
 * only; test/infra/api.test.ts and iam.test.ts check recorded requests and the
 * template against it), and the ledger's deny: no function may change a ledger item.
 */
import type { BUCKETS } from './definitions.js';

export type BucketName = keyof typeof BUCKETS;

/**
 * Objects a grant covers: a whole bucket, or the keys under one prefix of it
 * (`gold/batch-aliases/`: the bucket, a slash, then the prefix with its own
 * trailing slash). The gold bucket is granted by prefix only.
 */
export type ObjectScope = BucketName | `${BucketName}/${string}/`;

/**
 * What each handler's use case touches (functions/use-cases/*.ts), and nothing
 * more; test/infra/iam.test.ts runs the scenario suite on the embedded stack and
 * fails if a function makes a request its grants here do not allow.
 * `table`: read = GetItem + Query; readWrite adds PutItem, UpdateItem and
 * BatchWriteItem; `deletesItems` adds DeleteItem, `checksCaseIds` BatchGetItem. `read` = GetObject (+ ListBucket
 * on the bucket, so a missing key is NoSuchKey rather than AccessDenied: the use
 * cases treat "not there yet" as a normal answer), and GetObjectVersion in the
 * uploads bucket (every step reads the version ingest recorded); `write` = PutObject.
 *
 * The gold bucket, by prefix (functions/use-cases/batch-key.ts): `batch-aliases/`
 * (aliases and image grids: all that ingest and validation need), `batch-keys/`
 * (alias → case, flags; no answers), `batch-answers/` (the gold answers: scoring,
 * and a dispute's re-score in Api), `gold-sets/` (the program's gold pool) and
 * `gold-history/` (each version of a gold answer a dispute corrected: Api). The functions
 * that parse vendor files (IngestUpload, ValidateSubmission) read `batch-aliases/`
 * and nothing else of it.
 */
export const ACCESS: Readonly<Record<string, FunctionAccess>> = {
  // Plans from the gold pool, writes the three parts of each batch key; on a retry
  // rebuilds from the stored keys; reads NIfTI image headers for each item's grid.
  // Starts the round's dispatch execution (workflows/round-dispatch.asl.json) and waits for it; answers with the
  // round record's batches. Plans nothing and starts no batch itself.
  DispatchRound: {
    table: 'read',
    startsRounds: true,
    caller: "an operator starting a round, or the API's dispatch route",
  },
  // Plans a round page by page from the gold pool into chunk objects (round-plans/), re-read on a retry past its event.
  PlanRound: { table: 'readWrite', read: ['gold/gold-sets/', 'gold/round-plans/'], write: ['gold/round-plans/'] },
  // Writes the three parts of each batch key of its chunk, reads NIfTI image headers for each item's grid, starts the batches.
  DispatchChunk: {
    table: 'readWrite',
    read: ['gold/round-plans/', 'gold/batch-keys/', 'images'],
    write: ['gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/'],
    startsBatches: true,
  },
  PrepareManifest: { table: 'read', read: ['gold/batch-keys/', 'images'], write: ['images/batches/'] },
  // Resumes at once when the batch already holds its valid upload (a re-driven execution).
  AwaitSubmission: { table: 'readWrite', resumesBatches: ['SendTaskSuccess'] },
  // Parses untrusted vendor files: the batch's aliases only, never a case id or an answer.
  IngestUpload: {
    table: 'readWrite',
    read: ['uploads/uploads/', 'gold/batch-aliases/', 'exports/reports/'],
    write: ['exports/reports/'],
    resumesBatches: ['SendTaskSuccess', 'SendTaskHeartbeat'],
  },
  ValidateSubmission: { table: 'read', read: ['gold/batch-aliases/', 'uploads/uploads/'] },
  ScoreSubmission: { table: 'readWrite', read: ['gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/', 'uploads/uploads/'] },
  // The union of its parts' grants, nothing more: settle (the table), finalize (the batch's aliases and key, its
  // accepted upload), the agreement check (overlap items from the batch key; masks of overlap labels from their
  // uploads), rebalance (the table). No gold answers: scoring stays ScoreSubmission's.
  CompleteBatch: { table: 'readWrite', read: ['gold/batch-aliases/', 'gold/batch-keys/', 'uploads/uploads/'] },
  // Resumes at once when the expert decided before the token was stored.
  RequestAdjudication: { table: 'readWrite', resumesBatches: ['SendTaskSuccess'] },
  DecideAdjudication: {
    table: 'readWrite',
    resumesBatches: ['SendTaskSuccess'],
    caller: 'an internal expert deciding an adjudication (expert tool or API)',
  },
  // Keeps the decision record in the exports bucket.
  ApplyAdjudication: { table: 'readWrite', write: ['exports/adjudications/'] },
  // Releases the cases' adjudication claims (deletes the claim items).
  ExpireAdjudication: { table: 'readWrite', deletesItems: true },
  Rebalance: { table: 'readWrite' },
  MarkOverdue: { table: 'readWrite', read: ['gold/batch-keys/'] },
  RecordFailure: { table: 'readWrite', read: ['gold/batch-keys/'] },
  // The HTTP API's PM, QA and expert routes (functions/api/routes/pm.ts, qa.ts, adjudications.ts): case and gold
  // ingest (the gate reads case images; gold labels merge into the gold pool; a manifest's pending ingest waits under
  // case-ingests/ while its images arrive through presigned PUT slots under images/), an adjudication's competing
  // uploads (by version) and images by presigned GET, an expert's decision (resumes the batch). Dispatch runs in
  // DispatchRound, which the route invokes (infra/api-construct.ts): no production batch key or start here (exams: below).
  // No vendor request reaches it past the role check (vendors' routes go to WorkApi: API.workRoutes).
  // Dataset releases (routes/releases.ts): writes each manifest once under releases/, and verify re-reads it with
  // every label's submission object (uploads by version; an expert's class: its decision record under adjudications/).
  // The case trace with verify=true (routes/qa.ts) re-reads the same objects. A release's dossier (routes/dossier.ts)
  // reads the manifest and each decision record's bytes (their SHA-256), and writes and reads back dossiers/ in exports.
  // The quality report (routes/quality.ts) reads gold findings from gold-sets/ and masks from uploads/; its exports
  // are written once under exports/ in the exports bucket and handed out by presigned GET.
  // Statements (routes/statements.ts): a PM's issue writes each once under statements/ in exports and reads it back.
  // Qualification exams (routes/qualification.ts, use-cases/exams.ts): a PM's exam start draws the exam's gold from
  // gold-sets/ (which this function reads and writes already), writes the exam batch's three key objects as
  // DispatchChunk does for a round's batches, and starts its lifecycle; an exam resumed after a crash re-reads its key.
  // Production batch keys stay DispatchChunk's: an exam key's id ends in -q<attempt> (functions/use-cases/exams.ts).
  // Disputes of gold (routes/adjudications.ts → use-cases/disputes.ts resolveDispute): an expert's decision on a dispute
  // writes the corrected answer's versions under gold-history/ (read back on a re-run) and the pool in gold-sets/, then
  // re-scores every batch that held the item: its key (batch-keys/) to find it, its hidden answers (batch-answers/) read
  // and rewritten, its aliases (batch-aliases/) and accepted upload to score it again as ScoreSubmission does.
  Api: {
    table: 'readWrite',
    checksCaseIds: true,
    // An overdue dispute expires when the Api reads it (completion, the expert's and the PM's reads): its claim items are deleted.
    deletesItems: true,
    startsBatches: true,
    read: ['gold/gold-sets/', 'gold/batch-keys/', 'gold/batch-aliases/', 'gold/batch-answers/', 'gold/gold-history/', 'gold/case-ingests/', 'images', 'uploads/uploads/', 'releases/releases/', 'exports/adjudications/', 'exports/dossiers/', 'exports/exports/', 'exports/statements/'],
    write: ['gold/gold-sets/', 'gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/', 'gold/gold-history/', 'gold/case-ingests/', 'images/images/', 'images/opaque/', 'releases/releases/', 'exports/dossiers/', 'exports/exports/', 'exports/statements/'],
    resumesBatches: ['SendTaskSuccess'],
    caller: 'API Gateway (the HTTP API, for a signed-in PM, QA lead or expert who waits for the answer)',
  },
  // The HTTP API's vendor and expert batch routes (functions/api/routes/work.ts over vendor-portal.ts): manifests,
  // images under their opaque keys and legacy aliased copies (presigned GET), upload slots (presigned PUT), reports;
  // a request on a waiting batch is its heartbeat. Nothing of the gold bucket, nor images under the PM's own keys.
  // A vendor's own statements (routes/statements.ts, /v1/statements): the ledger fold and the issued ones under statements/.
  // test/infra/api.test.ts checks both API functions against their requests.
  WorkApi: {
    table: 'readWrite',
    read: ['images/batches/', 'images/opaque/', 'exports/reports/', 'exports/statements/'],
    write: ['uploads/uploads/'],
    resumesBatches: ['SendTaskHeartbeat'],
    caller: 'API Gateway (the HTTP API, for a signed-in vendor or expert who waits for the answer)',
  },
};

export interface FunctionAccess {
  table: 'read' | 'readWrite';
  /** dynamodb:DeleteItem as well (with readWrite). */
  deletesItems?: boolean;
  /** dynamodb:BatchGetItem as well: it ingests cases, and putCases asks which ids exist in batch reads (adapters/dynamo-cases.ts). */
  checksCaseIds?: boolean;
  read?: readonly ObjectScope[];
  write?: readonly ObjectScope[];
  /** states:StartExecution on the batch lifecycle (and its ARN in the environment). */
  startsBatches?: boolean;
  /** states:StartExecution on the round dispatch, DescribeExecution on its executions (and its ARN in the environment). */
  startsRounds?: boolean;
  /** Task-token callbacks it sends to the batch lifecycle. */
  resumesBatches?: readonly ('SendTaskSuccess' | 'SendTaskHeartbeat')[];
  /** Who invokes it synchronously, for a function no workflow state or event rule invokes. */
  caller?: string;
}

/** The bucket and key prefix ('' = every key) of a scope. */
export function parseScope(scope: ObjectScope): { bucket: BucketName; prefix: string } {
  const slash = scope.indexOf('/');
  return slash < 0 ? { bucket: scope as BucketName, prefix: '' } : { bucket: scope.slice(0, slash) as BucketName, prefix: scope.slice(slash + 1) };
}

/** What no function may do to a ledger item (docs/data-model.md, "ledger rows"): only appends (PutItem) are left. */
export const LEDGER_DENIED_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
/** The partition keys of the ledger (`LEDGER#<programId>`), as IAM's `dynamodb:LeadingKeys` pattern. */
export const LEDGER_LEADING_KEYS = 'LEDGER#*';
