/**
 * Test data builders and in-memory fakes of the ports in
 * functions/use-cases/ports.ts. The fakes keep what a real store would keep
 * (conditional creates, conditional transitions, copies on read and write), so
 * use-case tests exercise the same idempotency rules as DynamoDB and S3 do.
 */

import { createHash } from 'node:crypto';
import { DYNAMO_ITEM_LIMIT, dynamoItemSize } from '../../functions/domain/item-size.js';
import { LEDGER_SHARDS, shardLabel, shardOf } from '../../functions/domain/key-shards.js';
import { type ChainedLedgerEvent, chainEvent, firstOccurrences, GENESIS_HASH, LEGACY_CHAIN, type RawChainItem, type RawKeyItem } from '../../functions/domain/ledger-chain.js';
import { compareLedgerOrder, frontierOf, type LedgerFrontier, mergeLedgerChains, withinFrontier } from '../../functions/domain/ledger-merge.js';
import {
  type BatchScore,
  Case,
  type CaseAssignment,
  type CaseInput,
  LedgerEvent,
  type LedgerEventOf,
  type LedgerEventType,
  ProtocolVersion,
  type ProtocolVersionInput,
  type QuarantineRelease,
  Scorecard,
  type Shares,
  type StoredLabel,
  type Submission,
  type UploadSlot,
  Workforce,
  type WorkforceInput,
} from '../../functions/domain/model/index.js';
import { seededRandomSource } from '../../functions/domain/random.js';
import { storeBatchKey } from '../../functions/use-cases/batch-key.js';
import { InvalidInputError } from '../../functions/use-cases/errors.js';
import { uploadObject } from '../../functions/use-cases/ingest-upload.js';
import type {
  AdjudicationRecord,
  BatchRecord,
  Buckets,
  Clock,
  Deps,
  DisputeRequestRecord,
  ObjectStore,
  Page,
  PageKey,
  PageRequest,
  Repository,
  RequeueOptions,
  RoundRecord,
  TaskCallbacks,
  WorkflowStarter,
  WorkforceTermsPatch,
} from '../../functions/use-cases/ports.js';
import { LEDGER_SAMPLES } from './ledger-samples.js';

export const T0 = '2025-03-01T09:00:00.000Z';

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

/** A valid classification protocol (chest-xray@1); override any top-level field. */
export function makeProtocol(overrides: Partial<ProtocolVersionInput> = {}): ProtocolVersion {
  return ProtocolVersion.parse({
    protocolId: 'chest-xray',
    version: 1,
    title: 'Chest X-ray triage',
    task: { type: 'classification', classes: ['normal', 'abnormal'] },
    thresholds: { goldAccuracy: 0.8, minGoldItems: 5 },
    goldRate: 0.1,
    batchSize: 50,
    slaHours: 48,
    routing: { rules: [], default: { pool: 'vendor' } },
    createdBy: 'pm-alice',
    createdAt: T0,
    ...overrides,
  });
}

/** A de-identified chest X-ray case; override any field. */
export function makeCase(caseId: string, overrides: Partial<CaseInput> = {}): Case {
  return Case.parse({
    caseId,
    imageKey: `images/${caseId}.dcm`,
    modality: 'CR',
    bodyPart: 'CHEST',
    site: 'site-a',
    deidentified: true,
    ...overrides,
  });
}

/** An active vendor with ample capacity; override any field. */
export function makeWorkforce(workforceId: string, overrides: Partial<WorkforceInput> = {}): Workforce {
  return Workforce.parse({
    workforceId,
    kind: 'vendor',
    name: workforceId,
    capacityPerRound: 1000,
    pricePerCase: 2,
    slaHours: 48,
    ...overrides,
  });
}

/** A scorecard with an explicit interval (the rebalancer reads its lower bound). */
export function makeScorecard(
  workforceId: string,
  fields: { goldN: number; goldCorrect?: number; lower?: number; upper?: number; insufficient?: boolean },
): Scorecard {
  const goldCorrect = fields.goldCorrect ?? fields.goldN;
  return Scorecard.parse({
    workforceId,
    protocolId: 'chest-xray',
    batches: 1,
    batchesAccepted: 1,
    batchesRejected: 0,
    goldN: fields.goldN,
    goldCorrect,
    accuracy: fields.goldN > 0 ? goldCorrect / fields.goldN : null,
    interval: fields.goldN > 0 ? { lower: fields.lower ?? 0, upper: fields.upper ?? 1 } : null,
    insufficient: fields.insufficient ?? false,
  });
}

/** A ledger event of one kind, parsed by its schema (defaults for the base fields; the kind's sample data when none is given). */
export const makeLedgerEvent = <T extends LedgerEventType>(
  e: { eventId: string; type: T; data?: LedgerEventOf<T>['data'] } & Partial<Pick<LedgerEvent, 'programId' | 'at' | 'actor' | 'protocol' | 'subject' | 'reason'>>,
): LedgerEvent =>
  LedgerEvent.parse({
    v: 1,
    programId: 'prog-1',
    at: T0,
    actor: 'test',
    protocol: 'chest-xray@1',
    subject: 'batch-1',
    reason: 'test event',
    ...e,
    data: e.data ?? LEDGER_SAMPLES[e.type],
  });

// ---------------------------------------------------------------------------
// In-memory ports
// ---------------------------------------------------------------------------

const copy = <T>(x: T): T => structuredClone(x);

/** A Repository kept in Maps, with the conditional semantics of the DynamoDB adapter. */
export class InMemoryRepository implements Repository {
  readonly protocols = new Map<string, ProtocolVersion>();
  readonly workforces = new Map<string, Workforce>();
  readonly cases = new Map<string, Case & { goldPool: boolean; state: string; batchId?: string }>();
  readonly batches = new Map<string, BatchRecord>();
  readonly slots = new Map<string, UploadSlot>();
  readonly submissions = new Map<string, Submission>();
  readonly scores = new Map<string, BatchScore>();
  readonly labels = new Map<string, StoredLabel>();
  /** Raw ledger items by `<programId>|<chain>|<sort key>`, as the DynamoDB adapter stores them. */
  readonly ledger = new Map<string, Record<string, unknown>>();
  readonly rounds = new Map<string, RoundRecord>();
  readonly scorecards = new Map<string, Scorecard>();
  readonly shares = new Map<string, Shares>();
  readonly adjudications = new Map<string, AdjudicationRecord>();
  readonly disputeRequests = new Map<string, DisputeRequestRecord>();
  readonly adjudicationClaims = new Map<string, string>();

  async putProtocolVersion(p: ProtocolVersion) {
    const k = `${p.protocolId}@${p.version}`;
    if (this.protocols.has(k)) return 'exists' as const;
    this.protocols.set(k, copy(p));
    return 'created' as const;
  }
  async getProtocolVersion(protocolId: string, version: number) {
    const p = this.protocols.get(`${protocolId}@${version}`);
    return p && copy(p);
  }
  async putWorkforce(programId: string, w: Workforce) {
    this.workforces.set(`${programId}/${w.workforceId}`, copy(w));
  }
  async updateWorkforceGold(programId: string, workforceId: string, gold: Pick<Workforce, 'recentGold' | 'goldSeen'>) {
    const w = [...this.workforces.entries()].find(([k]) => k === `${programId}/${workforceId}`);
    if (w) this.workforces.set(w[0], { ...w[1], ...copy(gold) });
  }
  async updateWorkforceStatus(programId: string, workforceId: string, status: Workforce['status']) {
    const w = [...this.workforces.entries()].find(([k]) => k === `${programId}/${workforceId}`);
    if (w) this.workforces.set(w[0], { ...w[1], status });
  }
  async listWorkforces(programId: string) {
    return [...this.workforces.entries()].filter(([k]) => k.startsWith(`${programId}/`)).map(([, w]) => copy(w));
  }
  async putCases(programId: string, cases: readonly (Case & { goldPool: boolean })[]) {
    // As the adapter: new cases only; an existing case keeps its state and exclusions.
    for (const c of cases) {
      const k = `${programId}/${c.caseId}`;
      if (!this.cases.has(k)) this.cases.set(k, { ...copy(c), state: 'pending' });
    }
  }
  async assignCases(programId: string, caseIds: readonly string[], batchId: string) {
    for (const id of caseIds) {
      const c = this.cases.get(`${programId}/${id}`);
      if (c && c.state === 'pending') this.cases.set(`${programId}/${id}`, { ...c, state: 'assigned', batchId });
    }
  }
  async listCases(programId: string) {
    return [...this.cases.entries()].filter(([k]) => k.startsWith(`${programId}/`)).map(([, c]) => copy(c));
  }
  async listCasesByState(programId: string, state: string, page: PageRequest) {
    // As the adapter: its index is sparse (pending cases only), so any other state is refused.
    if (state !== 'pending') throw new InvalidInputError(`cases are listed by state only while pending (the index holds no '${state}' cases)`);
    // As the adapter: case-id order, a page after the cursor's case id.
    const after = page.after === undefined ? undefined : String(page.after.caseId);
    // Not through this.listCases: a test counting whole-list reads sees only the caller's.
    const all = [...this.cases.entries()]
      .filter(([k, c]) => k.startsWith(`${programId}/`) && c.state === state && (after === undefined || c.caseId > after))
      .map(([, c]) => copy(c))
      .sort((a, b) => (a.caseId < b.caseId ? -1 : 1));
    const items = all.slice(0, page.limit);
    return { items, ...(all.length > page.limit ? { next: { caseId: items.at(-1)!.caseId } } : {}) };
  }
  async existingCaseIds(programId: string, caseIds: readonly string[]) {
    return new Set(caseIds.filter((id) => this.cases.has(`${programId}/${id}`)));
  }
  async getCase(programId: string, caseId: string) {
    const c = this.cases.get(`${programId}/${caseId}`);
    return c && copy(c);
  }
  async replaceCaseImage(programId: string, caseId: string, set: { from: string; imageKey: string; deidentificationFindings: string[] }) {
    const k = `${programId}/${caseId}`;
    const c = this.cases.get(k);
    if (c?.state !== 'pending' || c.imageKey !== set.from) return false;
    const { quarantineRelease: _dropped, ...rest } = c;
    this.cases.set(k, { ...rest, imageKey: set.imageKey, deidentificationFindings: [...set.deidentificationFindings] });
    return true;
  }
  async releaseCase(programId: string, caseId: string, release: QuarantineRelease) {
    const k = `${programId}/${caseId}`;
    const c = this.cases.get(k);
    if (c?.state !== 'pending' || c.imageKey !== release.imageKey) return false;
    this.cases.set(k, { ...c, quarantineRelease: copy(release) });
    return true;
  }
  async setCaseState(programId: string, caseIds: readonly string[], state: 'pending' | 'assigned' | 'labelled', batchId: string) {
    for (const id of caseIds) {
      const c = this.cases.get(`${programId}/${id}`);
      if (c) this.cases.set(`${programId}/${id}`, { ...c, state, batchId });
    }
  }
  async createBatch(b: BatchRecord) {
    if (this.batches.has(b.batchId)) return 'exists' as const;
    this.batches.set(b.batchId, copy(b));
    return 'created' as const;
  }
  async getBatch(batchId: string) {
    const b = this.batches.get(batchId);
    return b && copy(b);
  }
  async listRoundBatches(programId: string, round: number) {
    return [...this.batches.values()].filter((b) => b.programId === programId && b.round === round).map(copy);
  }
  async transitionBatch(batchId: string, from: readonly BatchRecord['status'][], to: BatchRecord['status'], set: Partial<BatchRecord> = {}) {
    const b = this.batches.get(batchId);
    if (!b || !from.includes(b.status)) return false;
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    this.batches.set(batchId, { ...b, ...copy(defined), status: to });
    return true;
  }
  async setTaskToken(batchId: string, token: string, slaDeadline: string) {
    const b = this.batches.get(batchId);
    if (!b) throw new Error(`batch ${batchId} not found`);
    this.batches.set(batchId, { ...b, taskToken: token, slaDeadline });
  }
  async putUploadSlot(slot: UploadSlot) {
    const k = `${slot.batchId}/${slot.uploadId}`;
    if (this.slots.has(k)) throw new Error(`upload slot ${slot.uploadId} already exists`);
    this.slots.set(k, copy(slot));
  }
  async getUploadSlot(batchId: string, uploadId: string) {
    const s = this.slots.get(`${batchId}/${uploadId}`);
    return s && copy(s);
  }
  async createSubmission(s: Submission) {
    const k = `${s.batchId}/${s.uploadId}`;
    const existing = this.submissions.get(k);
    if (existing) return { created: false, current: copy(existing) };
    this.submissions.set(k, copy(s));
    return { created: true, current: copy(s) };
  }
  async updateSubmission(batchId: string, uploadId: string, set: Partial<Submission>) {
    const k = `${batchId}/${uploadId}`;
    const s = this.submissions.get(k);
    if (!s) throw new Error(`submission ${uploadId} not found`);
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    this.submissions.set(k, { ...s, ...copy(defined) });
  }
  async listSubmissions(batchId: string) {
    return [...this.submissions.values()].filter((s) => s.batchId === batchId).map(copy);
  }
  async putScore(s: BatchScore) {
    this.scores.set(s.batchId, copy(s));
  }
  async getScore(batchId: string) {
    const s = this.scores.get(batchId);
    return s && copy(s);
  }
  async putLabels(labels: readonly StoredLabel[]) {
    for (const l of labels) this.labels.set(`${l.caseId}/${l.batchId}`, copy(l));
  }
  async listBatchLabels(batchId: string) {
    return [...this.labels.values()].filter((l) => l.batchId === batchId).map(copy);
  }
  async listCaseLabels(caseId: string) {
    return [...this.labels.values()].filter((l) => l.caseId === caseId).map(copy);
  }
  // The ledger as the DynamoDB adapter stores it (functions/adapters/dynamo-ledger.ts): raw items by
  // `<programId>|<chain>|<sk>`, the chain the event's shard (`00`…`07`, fixed by its eventId; `legacy` for a
  // pre-shard ledger), event items at `SEQ#<12-digit seq>` (hash-chained per chain, `shard` and `ord` in
  // the item), key items at `KEY#<eventId>`.
  private ord = 0;
  async appendLedger(e: LedgerEvent) {
    const shard = shardOf(e.eventId, LEDGER_SHARDS);
    const chain = shardLabel(shard);
    const key = `${e.programId}|${chain}|KEY#${e.eventId}`;
    if (this.ledger.has(key) || this.ledger.has(`${e.programId}|${LEGACY_CHAIN}|KEY#${e.eventId}`)) return 'duplicate' as const;
    const head = this.chainItems(e.programId, chain, 'SEQ#').at(-1);
    this.ord = Math.max(this.ord + 1, Number(head?.ord ?? 0) + 1);
    const stored = chainEvent(e, head ? Number(head.seq) + 1 : 1, head ? String(head.hash) : GENESIS_HASH, { shard, ord: this.ord });
    // DynamoDB (and dynalite) refuse an item over 400 KB: so does the fake, with their error.
    const sk = `SEQ#${String(stored.seq).padStart(12, '0')}`;
    if (dynamoItemSize({ pk: `LEDGER#${e.programId}#${chain}`, sk, ...stored }) > DYNAMO_ITEM_LIMIT) {
      throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' });
    }
    this.ledger.set(`${e.programId}|${chain}|${sk}`, copy(stored));
    this.ledger.set(key, { eventId: e.eventId, seq: stored.seq, hash: stored.hash });
    return 'appended' as const;
  }
  async getLedgerEvent(programId: string, eventId: string) {
    for (const chain of [shardLabel(shardOf(eventId, LEDGER_SHARDS)), LEGACY_CHAIN]) {
      const k = this.ledger.get(`${programId}|${chain}|KEY#${eventId}`);
      const item = k && this.ledger.get(`${programId}|${chain}|SEQ#${String(k.seq).padStart(12, '0')}`);
      if (item && item.eventId === eventId) return copy(item) as ChainedLedgerEvent;
    }
    return undefined;
  }
  async listLedger(programId: string) {
    return mergeLedgerChains([this.events(programId)]);
  }
  async listLedgerPage(programId: string, page: { after?: LedgerFrontier; limit: number }) {
    const rest = this.events(programId)
      .filter((e) => !withinFrontier(e, page.after ?? {}))
      .sort(compareLedgerOrder);
    const read = rest.slice(0, page.limit);
    const items = firstOccurrences(read);
    return { items, ...(rest.length > page.limit ? { next: frontierOf(read, page.after) } : {}) };
  }
  async readLedgerChain(programId: string) {
    const entries = [...this.ledger.entries()].filter(([k]) => k.startsWith(`${programId}|`)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items: RawChainItem[] = [];
    const keys: RawKeyItem[] = [];
    for (const [k, v] of entries) {
      const [, chain, sk] = k.split('|');
      if (sk.startsWith('SEQ#')) items.push({ chain, keySeq: Number(sk.slice(4)), body: copy(v) });
      else if (sk.startsWith('KEY#')) keys.push({ chain, eventId: sk.slice(4), body: copy(v) });
    }
    return { items, keys };
  }
  /** The stored (mutable) event item of an eventId's first append, for tests that tamper with it. */
  ledgerItem(programId: string, eventId: string): Record<string, unknown> {
    const chain = shardLabel(shardOf(eventId, LEDGER_SHARDS));
    const found = this.chainItems(programId, chain, 'SEQ#').find((i) => i.eventId === eventId);
    if (!found) throw new Error(`no ledger event ${eventId} in ${programId}`);
    return found;
  }
  /** The map key of a stored ledger item (`KEY#<eventId>` or `SEQ#<seq>`) in an eventId's chain. */
  ledgerMapKey(programId: string, eventId: string, sk: string): string {
    return `${programId}|${shardLabel(shardOf(eventId, LEDGER_SHARDS))}|${sk}`;
  }
  /** Every stored event of a program, each chain in seq order (copies). */
  private events(programId: string): ChainedLedgerEvent[] {
    return [...this.ledger.entries()]
      .filter(([k]) => k.startsWith(`${programId}|`) && k.split('|')[2].startsWith('SEQ#'))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => copy(v) as ChainedLedgerEvent);
  }
  /** Raw ledger items of one chain of a program under a sort-key prefix, in sort-key order. */
  private chainItems(programId: string, chain: string, prefix: string): Record<string, unknown>[] {
    return [...this.ledger.entries()]
      .filter(([k]) => k.startsWith(`${programId}|${chain}|${prefix}`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => v);
  }
  async createRound(r: RoundRecord) {
    const k = `${r.programId}/${r.round}`;
    if (this.rounds.has(k)) return 'exists' as const;
    this.rounds.set(k, { ...copy(r), settledBatchIds: [] });
    return 'created' as const;
  }
  async getRound(programId: string, round: number) {
    const r = this.rounds.get(`${programId}/${round}`);
    return r && copy(r);
  }
  async markRoundBatchSettled(programId: string, round: number, batchId: string) {
    const k = `${programId}/${round}`;
    const r = this.rounds.get(k);
    if (!r) throw new Error(`round ${round} not found`);
    if (!r.batchIds.includes(batchId)) throw new Error(`batch ${batchId} is not in round ${round} of program ${programId}`);
    const settled = [...new Set([...r.settledBatchIds, batchId])].sort();
    this.rounds.set(k, { ...r, settledBatchIds: settled });
    return { roundComplete: r.batchIds.every((id) => settled.includes(id)) };
  }
  async requeueCases(programId: string, caseIds: readonly string[], opts: RequeueOptions) {
    const to = new Map((opts.handOver ?? []).map((h) => [h.caseId, h.batchId]));
    for (const id of caseIds) {
      const k = `${programId}/${id}`;
      const c = this.cases.get(k);
      if (c?.state !== 'assigned' || c.batchId !== opts.batchId) continue;
      const excludedWorkforces = opts.exclude ? [...new Set([...c.excludedWorkforces, opts.exclude])].sort() : c.excludedWorkforces;
      const handed = to.get(id);
      this.cases.set(k, handed ? { ...c, batchId: handed, excludedWorkforces } : { ...c, state: 'pending', excludedWorkforces });
    }
  }
  async expireAdjudication(id: string) {
    const a = this.adjudications.get(id);
    if (a?.status !== 'open') return false;
    this.adjudications.set(id, { ...a, status: 'expired' });
    return true;
  }
  async releaseAdjudicationClaim(protocol: string, claim: string, adjudicationId: string) {
    const k = `${protocol}/${claim}`;
    if (this.adjudicationClaims.get(k) === adjudicationId) this.adjudicationClaims.delete(k);
  }
  async claimAdjudication(protocol: string, caseId: string, adjudicationId: string) {
    const k = `${protocol}/${caseId}`;
    const holder = this.adjudicationClaims.get(k);
    if (holder === undefined) this.adjudicationClaims.set(k, adjudicationId);
    return (holder ?? adjudicationId) === adjudicationId;
  }
  async createAdjudication(a: AdjudicationRecord) {
    if (this.adjudications.has(a.adjudicationId)) return 'exists' as const;
    this.adjudications.set(a.adjudicationId, copy(a));
    return 'created' as const;
  }
  async getAdjudication(adjudicationId: string) {
    const a = this.adjudications.get(adjudicationId);
    return a && copy(a);
  }
  async setAdjudicationToken(adjudicationId: string, token: string, deadline: string) {
    const a = this.adjudications.get(adjudicationId);
    if (!a) throw new Error(`adjudication ${adjudicationId} not found`);
    this.adjudications.set(adjudicationId, { ...a, taskToken: token, deadline });
  }
  async decideAdjudication(adjudicationId: string, decision: Pick<AdjudicationRecord, 'decidedBy' | 'decidedAt' | 'decisions'>) {
    const a = this.adjudications.get(adjudicationId);
    if (a?.status !== 'open') return false;
    this.adjudications.set(adjudicationId, { ...a, ...copy(decision), status: 'decided' });
    return true;
  }
  async putDisputeRequest(r: DisputeRequestRecord) {
    if (this.disputeRequests.has(r.disputeId)) return 'exists' as const;
    this.disputeRequests.set(r.disputeId, copy(r));
    return 'created' as const;
  }
  async getDisputeRequest(id: string) {
    const r = this.disputeRequests.get(id);
    return r && copy(r);
  }
  async listDisputeRequests(programId: string) {
    return [...this.disputeRequests.values()].filter((r) => r.programId === programId).map(copy);
  }
  async closeDisputeRequest(id: string, outcome: { status: 'queued' | 'declined'; note?: string }) {
    const r = this.disputeRequests.get(id);
    if (r?.status !== 'pending') return false;
    this.disputeRequests.set(id, { ...r, ...outcome });
    return true;
  }
  async listOpenAdjudications(programId: string) {
    return [...this.adjudications.values()].filter((a) => a.programId === programId && a.status === 'open').map(copy);
  }
  async listShareRounds(programId: string, protocolId: string) {
    const prefix = `${programId}/${protocolId}/`;
    return [...this.shares.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, shares]) => ({ round: Number(k.slice(prefix.length)), shares: copy(shares) }))
      .sort((x, y) => x.round - y.round);
  }
  async putScorecards(programId: string, cards: readonly Scorecard[]) {
    for (const c of cards) this.scorecards.set(`${programId}/${c.protocolId}/${c.workforceId}`, copy(c));
  }
  async listScorecards(programId: string, protocolId: string) {
    return [...this.scorecards.entries()].filter(([k]) => k.startsWith(`${programId}/${protocolId}/`)).map(([, c]) => copy(c));
  }
  async createShares(programId: string, protocolId: string, round: number, shares: Shares) {
    const k = `${programId}/${protocolId}/${round}`;
    if (this.shares.has(k)) return 'exists' as const;
    this.shares.set(k, copy(shares));
    return 'created' as const;
  }
  async getShares(programId: string, protocolId: string, round: number) {
    const s = this.shares.get(`${programId}/${protocolId}/${round}`);
    return s && copy(s);
  }
  async listPrograms() {
    // As the adapter's registry: a program is registered with its first workforce.
    return [...new Set([...this.workforces.keys()].map((k) => k.split('/')[0]))].sort();
  }
  async listRounds(programId: string) {
    return [...this.rounds.values()].filter((r) => r.programId === programId).sort((a, b) => a.round - b.round).map(copy);
  }
  async listWorkforceBatches(workforceId: string, page: PageRequest): Promise<Page<BatchRecord>> {
    // The adapter's keys and order (newest first), so cursors behave alike.
    const pk = `WORKFORCE#${workforceId}`;
    const all = [...this.batches.values()]
      .filter((b) => b.workforceId === workforceId)
      .map((b) => ({ b, key: { pk, sk: `BATCH#${b.createdAt}#${b.batchId}` } }))
      .sort((x, y) => (x.key.sk < y.key.sk ? 1 : x.key.sk > y.key.sk ? -1 : 0));
    const after = fakePageKey(page.after, ['pk', 'sk'], (k) => k.pk === pk && k.sk.startsWith('BATCH#'));
    const rest = after ? all.filter((x) => x.key.sk < after.sk) : all;
    const items = rest.slice(0, page.limit);
    return { items: items.map((x) => copy(x.b)), ...(rest.length > page.limit ? { next: items.at(-1)!.key } : {}) };
  }
  async listRoundBatchesPage(programId: string, round: number, page: PageRequest): Promise<Page<BatchRecord>> {
    const gsi1pk = `PROGRAM#${programId}#ROUND#${String(round).padStart(4, '0')}`;
    const all = [...this.batches.values()]
      .filter((b) => b.programId === programId && b.round === round)
      .map((b) => ({ b, key: { pk: `BATCH#${b.batchId}`, sk: 'BATCH', gsi1pk, gsi1sk: `BATCH#${b.batchId}` } }))
      .sort((x, y) => (x.key.gsi1sk < y.key.gsi1sk ? -1 : 1));
    const after = fakePageKey(page.after, ['gsi1pk', 'gsi1sk', 'pk', 'sk'], (k) => k.gsi1pk === gsi1pk && k.sk === 'BATCH');
    const rest = after ? all.filter((x) => x.key.gsi1sk > after.gsi1sk) : all;
    const items = rest.slice(0, page.limit);
    return { items: items.map((x) => copy(x.b)), ...(rest.length > page.limit ? { next: items.at(-1)!.key } : {}) };
  }
  async listProgramScorecards(programId: string) {
    return [...this.scorecards.entries()].filter(([k]) => k.startsWith(`${programId}/`)).map(([, c]) => copy(c));
  }
  async listAdjudications(programId: string) {
    return [...this.adjudications.values()].filter((a) => a.programId === programId).map(copy);
  }
  async updateWorkforceTerms(programId: string, workforceId: string, patch: WorkforceTermsPatch) {
    const k = `${programId}/${workforceId}`;
    const w = this.workforces.get(k);
    if (!w) return undefined;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    this.workforces.set(k, { ...w, ...copy(defined) });
    return copy(this.workforces.get(k)!);
  }
  async setCaseAssignment(programId: string, caseId: string, assignment: CaseAssignment) {
    const k = `${programId}/${caseId}`;
    const c = this.cases.get(k);
    if (c?.state !== 'pending') return false;
    this.cases.set(k, { ...c, assignment: copy(assignment) });
    return true;
  }
}

/** A page start key as the adapter checks it: exactly these string attributes, of this listing. */
function fakePageKey(after: PageKey | undefined, names: string[], belongs: (k: Record<string, string>) => boolean) {
  if (after === undefined) return undefined;
  const given = Object.keys(after).sort();
  const ok = given.length === names.length && given.every((n, i) => n === names[i] && typeof after[n] === 'string');
  if (!ok || !belongs(after as Record<string, string>)) throw new InvalidInputError('the cursor does not belong to this listing');
  return after as Record<string, string>;
}

/** An ObjectStore kept in a Map of `bucket/key` → bytes, versioned like an S3 bucket with versioning on. */
export class InMemoryObjectStore implements ObjectStore {
  /** The latest version of each object. */
  readonly objects = new Map<string, Uint8Array>();

  /** Every version of each object, oldest first. */
  readonly versions = new Map<string, { versionId: string; bytes: Uint8Array }[]>();

  readonly contentTypes = new Map<string, string>();

  private nextVersion = 1;

  async putBytes(bucket: string, key: string, body: Uint8Array, contentType: string) {
    const k = `${bucket}/${key}`;
    this.objects.set(k, new Uint8Array(body));
    this.contentTypes.set(k, contentType);
    this.versions.set(k, [...(this.versions.get(k) ?? []), { versionId: `v${this.nextVersion++}`, bytes: new Uint8Array(body) }]);
  }
  async putOnce(bucket: string, key: string, body: Uint8Array, contentType: string) {
    if (this.objects.has(`${bucket}/${key}`)) return 'exists' as const;
    await this.putBytes(bucket, key, body, contentType);
    return 'created' as const;
  }
  async getBytes(bucket: string, key: string, versionId?: string) {
    return (await this.getObject(bucket, key, versionId))?.bytes;
  }
  async getObject(bucket: string, key: string, versionId?: string) {
    const all = this.versions.get(`${bucket}/${key}`) ?? [];
    const v = versionId === undefined ? all.at(-1) : all.find((x) => x.versionId === versionId);
    return v && { bytes: new Uint8Array(v.bytes), versionId: v.versionId };
  }
  async getHead(bucket: string, key: string, length: number) {
    const b = this.objects.get(`${bucket}/${key}`);
    return b && new Uint8Array(b.subarray(0, length));
  }
  async putJson(bucket: string, key: string, value: unknown) {
    await this.putBytes(bucket, key, new TextEncoder().encode(JSON.stringify(value)), 'application/json');
  }
  async getJson<T>(bucket: string, key: string) {
    const b = await this.getBytes(bucket, key);
    return b === undefined ? undefined : (JSON.parse(new TextDecoder().decode(b)) as T);
  }
  async copy(fromBucket: string, fromKey: string, toBucket: string, toKey: string) {
    const b = this.objects.get(`${fromBucket}/${fromKey}`);
    if (!b) throw new Error(`no object ${fromBucket}/${fromKey}`);
    await this.putBytes(toBucket, toKey, b, 'application/octet-stream');
  }
  async presignGet(bucket: string, key: string, expiresSeconds: number, versionId?: string) {
    return `memory://${bucket}/${key}?get&expires=${expiresSeconds}${versionId ? `&versionId=${versionId}` : ''}`;
  }
  async presignPut(bucket: string, key: string, opts: { sizeBytes: number; sha256Base64: string; contentType: string; expiresSeconds: number }) {
    return {
      url: `memory://${bucket}/${key}?put&expires=${opts.expiresSeconds}`,
      headers: {
        'content-length': String(opts.sizeBytes),
        'content-type': opts.contentType,
        'if-none-match': '*',
        'x-amz-checksum-sha256': opts.sha256Base64,
      },
    };
  }
}

/** TaskCallbacks that record every call; a token is live until its first success. */
export class RecordingCallbacks implements TaskCallbacks {
  readonly calls: { kind: 'success' | 'heartbeat'; token: string; output?: unknown }[] = [];

  async success(token: string, output: unknown) {
    this.calls.push({ kind: 'success', token, output });
    return 'sent' as const;
  }
  async heartbeat(token: string) {
    this.calls.push({ kind: 'heartbeat', token });
    return 'sent' as const;
  }
  get successes() {
    return this.calls.filter((c) => c.kind === 'success');
  }
}

export class RecordingWorkflows implements WorkflowStarter {
  readonly started: { name: string; input: unknown }[] = [];
  async startBatch(name: string, input: unknown) {
    if (!this.started.some((s) => s.name === name)) this.started.push({ name, input });
  }
}

export const fixedClock = (iso = T0): Clock => ({ now: () => new Date(iso) });

export const BUCKETS: Buckets = { images: 'images', uploads: 'uploads', gold: 'gold', exports: 'exports', releases: 'releases' };

export interface FakeDeps extends Deps {
  repo: InMemoryRepository;
  objects: InMemoryObjectStore;
  callbacks: RecordingCallbacks;
  workflows: RecordingWorkflows;
}

/** Deps over the in-memory fakes, a fixed clock and a seeded random source. */
export function makeFakeDeps(): FakeDeps {
  return {
    repo: new InMemoryRepository(),
    objects: new InMemoryObjectStore(),
    callbacks: new RecordingCallbacks(),
    workflows: new RecordingWorkflows(),
    clock: fixedClock(),
    random: seededRandomSource(7),
    buckets: BUCKETS,
  };
}

// ---------------------------------------------------------------------------
// Scenario: a vendor batch waiting for its label file
// ---------------------------------------------------------------------------

export interface UploadScenario {
  batchId: string;
  workforceId: string;
  uploadId: string;
  key: string;
  aliases: string[];
  token: string;
  file: Uint8Array;
  sha256Hex: string;
}

/** A label file labelling every alias `normal`, one JSON line each. */
export const labelFile = (aliases: readonly string[], label = 'normal'): Uint8Array =>
  new TextEncoder().encode(aliases.map((alias) => JSON.stringify({ alias, label, annotator: 'reader-07' })).join('\n') + '\n');

/**
 * Seeds a vendor batch in `awaiting-submission` with its task token, answer key,
 * protocol, an upload slot and the uploaded object (a valid file unless `file`).
 */
export async function seedUploadScenario(
  deps: FakeDeps,
  opts: { uploadId?: string; file?: Uint8Array; declared?: { sizeBytes: number; sha256Hex: string }; protocol?: ProtocolVersion } = {},
): Promise<UploadScenario> {
  const batchId = 'batch-0001';
  const workforceId = 'vendor-a';
  const uploadId = opts.uploadId ?? 'up12345678';
  const aliases = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
  const token = 'task-token-batch-0001';
  const protocol = opts.protocol ?? makeProtocol();
  await deps.repo.putProtocolVersion(protocol);
  await deps.repo.createBatch({
    batchId,
    programId: 'prog-1',
    round: 1,
    protocol: 'chest-xray@1',
    workforceId,
    workforceKind: 'vendor',
    itemCount: 3,
    goldCount: 1,
    slaHours: 48,
    status: 'awaiting-submission',
    createdAt: T0,
    taskToken: token,
  });
  await storeBatchKey(deps, {
    batchId,
    round: 1,
    protocol: 'chest-xray@1',
    workforceId,
    workforceKind: 'vendor',
    slaHours: 48,
    createdAt: T0,
    items: aliases.map((alias, i) => ({ alias, caseId: `case-${i}`, gold: i === 2, imageKey: `images/case-${i}.dcm` })),
    answers: { 'case-2': 'normal' },
  });
  const file = opts.file ?? labelFile(aliases);
  const sha256Hex = createHash('sha256').update(file).digest('hex');
  const key = uploadObject(workforceId, batchId, uploadId);
  await deps.repo.putUploadSlot({
    batchId,
    uploadId,
    key,
    workforceId,
    sizeBytes: opts.declared?.sizeBytes ?? file.length,
    sha256Hex: opts.declared?.sha256Hex ?? sha256Hex,
    expiresAt: '2025-03-01T10:00:00.000Z',
  });
  await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
  return { batchId, workforceId, uploadId, key, aliases, token, file, sha256Hex };
}
