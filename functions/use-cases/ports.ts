/**
 * The small interfaces use cases depend on. Adapters implement them over
 * DynamoDB, S3 and Step Functions; tests may implement them however they like.
 */
import type {
  Batch,
  BatchScore,
  Case,
  CaseAssignment,
  ChainedLedgerEvent,
  LedgerEvent,
  LedgerFrontier,
  ProtocolVersion,
  QuarantineRelease,
  RandomSource,
  RawChainItem,
  RawKeyItem,
  Scorecard,
  Shares,
  StoredLabel,
  Submission,
  UploadSlot,
  Workforce,
} from '../domain/index.js';

export interface BatchRecord extends Batch {
  taskToken?: string;
  slaDeadline?: string;
  acceptedUploadId?: string;
  failure?: string;
}

export interface RoundRecord {
  programId: string;
  protocolId: string;
  round: number;
  batchIds: string[];
  settledBatchIds: string[];
  createdAt: string;
  /** The SHA-256 of each chunk of the plan, in order (round-chunk-store.ts); absent on rounds dispatched before chunking. */
  chunkSha256s?: string[];
}

export interface AdjudicationNeed {
  caseId: string;
  /** `gold-dispute`: a vendor contests this gold item's answer (disputes.ts). */
  kind: 'overlap-disagreement' | 'critical-miss' | 'gold-dispute';
  reason: string;
  /** The labels in question, by who gave them (workforce/annotator → label). */
  labels: Record<string, string>;
}

export interface AdjudicationRecord {
  adjudicationId: string;
  programId: string;
  batchId: string;
  protocol: string;
  needs: AdjudicationNeed[];
  status: 'open' | 'decided' | 'expired';
  taskToken?: string;
  deadline?: string;
  decidedBy?: string;
  decidedAt?: string;
  decisions?: { caseId: string; label: string; note?: string }[];
  createdAt: string;
  /** Set when the adjudication reviews a vendor's dispute of gold items (disputes.ts). */
  dispute?: { disputeId: string; workforceId: string; alias?: string; reason: string; openedBy: string };
}

/**
 * What a vendor said when it disputed a batch (WorkApi records it; it reads no
 * gold). The Api function completes it: maps the alias to gold items and queues
 * the review as the adjudication of the same id, or declines it with a reason.
 */
export interface DisputeRequestRecord {
  disputeId: string;
  programId: string;
  batchId: string;
  workforceId: string;
  alias?: string;
  reason: string;
  openedBy: string;
  openedAt: string;
  status: 'pending' | 'queued' | 'declined';
  /** Why a declined request was not reviewed (no gold item left to review). */
  note?: string;
}

export interface Repository {
  putProtocolVersion(p: ProtocolVersion): Promise<'created' | 'exists'>;
  getProtocolVersion(protocolId: string, version: number): Promise<ProtocolVersion | undefined>;
  putWorkforce(programId: string, w: Workforce): Promise<void>;
  listWorkforces(programId: string): Promise<Workforce[]>;
  /**
   * Targeted updates (never a whole-record write): dispatch and rebalance may run
   * at the same time, and neither may undo the other's change.
   */
  updateWorkforceGold(programId: string, workforceId: string, gold: Pick<Workforce, 'recentGold' | 'goldSeen'>): Promise<void>;
  updateWorkforceStatus(programId: string, workforceId: string, status: Workforce['status']): Promise<void>;
  putCases(programId: string, cases: readonly (Case & { goldPool: boolean })[]): Promise<void>;
  /** Every case of a program with its work state and the batch that last set it. */
  listCases(programId: string): Promise<(Case & { goldPool: boolean; state: string; batchId?: string })[]>;
  /**
   * One page of the pending cases, by case id, without reading the others (a sharded,
   * sparse index that holds a case only while it is pending: docs/data-model.md; any
   * other state is refused with InvalidInputError); `next` is absent on the last page. The
   * index may lag a state change by a moment: act on a listed case with a conditional write.
   */
  listCasesByState(
    programId: string,
    state: 'pending',
    page: PageRequest,
  ): Promise<Page<Case & { goldPool: boolean; state: string; batchId?: string }>>;
  /** Case work state: pending (to plan), assigned (in a batch), labelled (accepted). */
  setCaseState(programId: string, caseIds: readonly string[], state: 'pending' | 'assigned' | 'labelled', batchId: string): Promise<void>;
  /** The ids among `caseIds` that the program has (batched gets by id: reads only those cases, never the whole list). */
  existingCaseIds(programId: string, caseIds: readonly string[]): Promise<Set<string>>;
  /** One case of a program (with the batch it was last placed in), or undefined. */
  getCase(programId: string, caseId: string): Promise<(Case & { goldPool: boolean; state: string; batchId?: string }) | undefined>;
  /**
   * Conditional: gives a pending case whose image is `from` a new image and its
   * gate findings, and drops any quarantine release (it was given on the old
   * image). False, changing nothing, when the case is not pending or its image is not `from`.
   */
  replaceCaseImage(programId: string, caseId: string, set: { from: string; imageKey: string; deidentificationFindings: string[] }): Promise<boolean>;
  /**
   * Conditional: records a PM's release on a pending case whose image is the
   * release's. False, changing nothing, otherwise (assigned meanwhile, or replaced).
   */
  releaseCase(programId: string, caseId: string, release: QuarantineRelease): Promise<boolean>;

  /** Conditional create; `exists` when a batch with this id is already there. */
  createBatch(b: BatchRecord): Promise<'created' | 'exists'>;
  getBatch(batchId: string): Promise<BatchRecord | undefined>;
  listRoundBatches(programId: string, round: number): Promise<BatchRecord[]>;
  /**
   * Conditional status change: succeeds only from one of `from`. Returns false
   * (and changes nothing) when the batch is in another status.
   */
  transitionBatch(batchId: string, from: readonly Batch['status'][], to: Batch['status'], set?: Partial<BatchRecord>): Promise<boolean>;
  setTaskToken(batchId: string, token: string, slaDeadline: string): Promise<void>;

  putUploadSlot(slot: UploadSlot): Promise<void>;
  getUploadSlot(batchId: string, uploadId: string): Promise<UploadSlot | undefined>;
  /** Conditional create: `exists` returns the stored submission. */
  createSubmission(s: Submission): Promise<{ created: boolean; current: Submission }>;
  updateSubmission(batchId: string, uploadId: string, set: Partial<Submission>): Promise<void>;
  listSubmissions(batchId: string): Promise<Submission[]>;

  putScore(s: BatchScore): Promise<void>;
  getScore(batchId: string): Promise<BatchScore | undefined>;
  putLabels(labels: readonly StoredLabel[]): Promise<void>;
  listBatchLabels(batchId: string): Promise<StoredLabel[]>;
  listCaseLabels(caseId: string): Promise<StoredLabel[]>;

  /**
   * Append-only and hash-chained per program (functions/domain/ledger-chain.ts):
   * the event gets the next seq and its predecessor's hash. A second append of
   * the same eventId changes nothing ('duplicate').
   */
  appendLedger(e: LedgerEvent): Promise<'appended' | 'duplicate'>;
  /** The program's events in time order (its chains merged: functions/domain/ledger-merge.ts), each eventId once (its first occurrence). */
  listLedger(programId: string): Promise<ChainedLedgerEvent[]>;
  /**
   * Up to `limit` events after the frontier `after` (the last seq read per chain), in
   * time order; `next`, the frontier to continue from, when more may follow.
   */
  listLedgerPage(programId: string, page: { after?: LedgerFrontier; limit: number }): Promise<{ items: ChainedLedgerEvent[]; next?: LedgerFrontier }>;
  getLedgerEvent(programId: string, eventId: string): Promise<ChainedLedgerEvent | undefined>;
  /** The stored ledger items as they are, for verify: each chain's event items in seq order and its eventId key items. */
  readLedgerChain(programId: string): Promise<{ items: RawChainItem[]; keys: RawKeyItem[] }>;

  createRound(r: RoundRecord): Promise<'created' | 'exists'>;
  getRound(programId: string, round: number): Promise<RoundRecord | undefined>;
  /** Idempotent (a batch settled twice counts once); `roundComplete` when every batch of the round is settled. Refuses a batch not in the round. */
  markRoundBatchSettled(programId: string, round: number, batchId: string): Promise<{ roundComplete: boolean }>;

  /** Marks pending cases as assigned to a batch; cases in any other state are left alone (idempotent). */
  assignCases(programId: string, caseIds: readonly string[], batchId: string): Promise<void>;
  /**
   * Puts cases still assigned to `batchId` back to pending, adding `exclude` to
   * their exclusions (a string set: idempotent). Cases labelled, or assigned to
   * another batch (an overlap copy), are left alone.
   */
  /** assigned to `batchId` → pending (excluding `exclude`), or → assigned to the batch `handOver` names for the case. */
  requeueCases(programId: string, caseIds: readonly string[], opts: RequeueOptions): Promise<void>;

  /** Conditional create: the first batch to claim a case for adjudication wins. */
  claimAdjudication(protocol: string, caseId: string, adjudicationId: string): Promise<boolean>;
  createAdjudication(a: AdjudicationRecord): Promise<'created' | 'exists'>;
  getAdjudication(adjudicationId: string): Promise<AdjudicationRecord | undefined>;
  setAdjudicationToken(adjudicationId: string, token: string, deadline: string): Promise<void>;
  /** Conditional open → decided; false when already decided (a repeated callback). */
  decideAdjudication(
    adjudicationId: string,
    decision: Pick<AdjudicationRecord, 'decidedBy' | 'decidedAt' | 'decisions'>,
  ): Promise<boolean>;
  /** Conditional open → expired; false when it was decided (or expired) first. */
  expireAdjudication(adjudicationId: string): Promise<boolean>;
  /** Deletes a case claim held by this adjudication (so a later check can open a new one). */
  releaseAdjudicationClaim(protocol: string, claim: string, adjudicationId: string): Promise<void>;
  listOpenAdjudications(programId: string): Promise<AdjudicationRecord[]>;
  /** Conditional create of a vendor's dispute request (disputes.ts). */
  putDisputeRequest(r: DisputeRequestRecord): Promise<'created' | 'exists'>;
  getDisputeRequest(disputeId: string): Promise<DisputeRequestRecord | undefined>;
  listDisputeRequests(programId: string): Promise<DisputeRequestRecord[]>;
  /** pending → queued | declined (false: it was not pending). */
  closeDisputeRequest(disputeId: string, outcome: { status: 'queued' | 'declined'; note?: string }): Promise<boolean>;
  listShareRounds(programId: string, protocolId: string): Promise<{ round: number; shares: Shares }[]>;

  putScorecards(programId: string, cards: readonly Scorecard[]): Promise<void>;
  listScorecards(programId: string, protocolId: string): Promise<Scorecard[]>;
  /** Conditional create of a round's shares (computed once). */
  createShares(programId: string, protocolId: string, round: number, shares: Shares): Promise<'created' | 'exists'>;
  getShares(programId: string, protocolId: string, round: number): Promise<Shares | undefined>;

  // --- Queries behind the HTTP API (issue 9): pages, program-wide lists, targeted updates ---

  /** Program ids in the registry (a program is registered with its first workforce). */
  listPrograms(): Promise<string[]>;
  /** Every round record of a program, oldest first. */
  listRounds(programId: string): Promise<RoundRecord[]>;
  /** One page of a workforce's batches across programs, newest first (`after`: the previous page's `next`). */
  listWorkforceBatches(workforceId: string, page: PageRequest): Promise<Page<BatchRecord>>;
  /** One page of a round's batches, by batch id. */
  listRoundBatchesPage(programId: string, round: number, page: PageRequest): Promise<Page<BatchRecord>>;
  /** Every scorecard of a program, all protocols. */
  listProgramScorecards(programId: string): Promise<Scorecard[]>;
  /** Every adjudication of a program, whatever its status. */
  listAdjudications(programId: string): Promise<AdjudicationRecord[]>;
  /**
   * Targeted update of a workforce's terms and pause (never its status, gold or
   * history, which dispatch and rebalance write). Undefined when there is no such workforce.
   */
  updateWorkforceTerms(programId: string, workforceId: string, patch: WorkforceTermsPatch): Promise<Workforce | undefined>;
  /**
   * Conditional: records a PM's explicit assignment on a pending case. False,
   * changing nothing, when the case is missing or not pending.
   */
  setCaseAssignment(programId: string, caseId: string, assignment: CaseAssignment): Promise<boolean>;
}

/** The terms a PM may change on a workforce (functions/use-cases/workforces.ts). */
export type WorkforceTermsPatch = Partial<Pick<Workforce, 'pricePerCase' | 'capacityPerRound' | 'slaHours' | 'qualifications' | 'paused'>>;

/**
 * Where a page starts: the previous page's `next`, exactly as the store returned
 * it. Opaque to use cases; an adapter refuses a key that is not one of its own
 * for this listing (InvalidInputError).
 */
/** How a rejected (or closed) batch gives its cases back: `handOver` keeps a case assigned, to the batch holding its overlap second copy. */
export interface RequeueOptions {
  batchId: string;
  exclude?: string;
  handOver?: readonly { caseId: string; batchId: string }[];
}

export type PageKey = Record<string, string | number>;
export interface PageRequest {
  limit: number;
  after?: PageKey;
}
export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  next?: PageKey;
}

/** An object as read, with the version that was read (undefined where the store keeps no versions). */
export interface StoredObject {
  bytes: Uint8Array;
  versionId?: string;
}

/** A write-once PUT URL and the exact headers the PUT must carry (they are signed into it). */
export interface PresignedPut {
  url: string;
  headers: Record<string, string>;
}

export interface ObjectStore {
  putBytes(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void>;
  /**
   * Writes an object only where the key has none (`If-None-Match: *`, with the
   * body's MD5 and SHA-256): `exists`, changing nothing, when the key was written before.
   */
  putOnce(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<'created' | 'exists'>;
  /** The object's bytes; with `versionId`, exactly that version (undefined if it is missing). */
  getBytes(bucket: string, key: string, versionId?: string): Promise<Uint8Array | undefined>;
  /** The object (or the given version) with the version id it has in a versioned bucket. */
  getObject(bucket: string, key: string, versionId?: string): Promise<StoredObject | undefined>;
  /** The first `length` bytes of an object (a header), or undefined if it is missing. */
  getHead(bucket: string, key: string, length: number): Promise<Uint8Array | undefined>;
  putJson(bucket: string, key: string, value: unknown): Promise<void>;
  getJson<T>(bucket: string, key: string): Promise<T | undefined>;
  copy(fromBucket: string, fromKey: string, toBucket: string, toKey: string): Promise<void>;
  /**
   * A presigned GET; with `versionId`, of exactly that version (a versioned bucket).
   * With `neutralHeaders`, S3 answers Content-Type application/octet-stream and
   * Content-Disposition attachment whatever the object was stored with (an image's
   * uploader could have set a file name there: docs/blinding.md).
   */
  presignGet(bucket: string, key: string, expiresSeconds: number, versionId?: string, opts?: { neutralHeaders?: boolean }): Promise<string>;
  /**
   * A write-once PUT URL bound to size and SHA-256: content-length,
   * x-amz-checksum-sha256 and `if-none-match: *` are signed headers, so S3
   * refuses other bytes (400 BadDigest) and a second PUT to the key (412).
   * Ingest re-checks size and hash.
   */
  presignPut(
    bucket: string,
    key: string,
    opts: { sizeBytes: number; sha256Base64: string; contentType: string; expiresSeconds: number },
  ): Promise<PresignedPut>;
}

export interface TaskCallbacks {
  success(token: string, output: unknown): Promise<'sent' | 'stale'>;
  heartbeat(token: string): Promise<'sent' | 'stale'>;
}

export interface WorkflowStarter {
  /** Idempotent by name: starting the same batch twice starts one execution. */
  startBatch(name: string, input: unknown): Promise<void>;
}

/** Where a round's dispatch execution (workflows/round-dispatch.asl.json) stands. */
export interface RoundExecution {
  status: 'MISSING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  /** The error name (a use case's error class travels as Step Functions' `Error`) and its message. */
  error?: { name: string; message: string };
}

/** The round-dispatch state machine, for the function that starts it and waits (DispatchRound). */
export interface RoundWorkflow {
  /** Idempotent by name: starting a running or finished execution again starts nothing. */
  startRound(name: string, input: unknown): Promise<void>;
  /** Waits up to `waitSeconds` (0: just looks) for the named execution to finish. */
  roundExecution(name: string, waitSeconds: number): Promise<RoundExecution>;
}

export interface Clock {
  now(): Date;
}

export interface Buckets {
  images: string;
  uploads: string;
  gold: string;
  exports: string;
  /** Dataset release manifests: write-once (Object Lock in AWS). */
  releases: string;
}

export interface Deps {
  repo: Repository;
  objects: ObjectStore;
  callbacks: TaskCallbacks;
  workflows: WorkflowStarter;
  /** The round-dispatch state machine (DispatchRound only; absent where rounds are dispatched in process). */
  rounds?: RoundWorkflow;
  clock: Clock;
  random: RandomSource;
  buckets: Buckets;
}

export const systemClock: Clock = { now: () => new Date() };
