/**
 * Dataset releases: the accepted labels of one protocol version, frozen in a
 * manifest written once (S3 Object Lock in AWS, `If-None-Match: *` through the S3
 * guard locally), announced by a `release.created` ledger event, and queried by
 * model teams instead of re-labelling. The manifest shape and its checks are in
 * functions/domain/release.ts.
 *
 * A release exists when its ledger event does: the manifest is written first,
 * the event is the commit point. A crash between the two leaves a manifest no
 * listing shows; the retry derives the same release id from the same labels,
 * finds the manifest (the write-once PUT answers `exists`) and records the event.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type ChainedLedgerEvent,
  LEGACY_CHAIN,
  anchorOfHeads,
  chainOf,
  Identifier,
  type LedgerAnchor,
  ReleaseContentError,
  ReleaseId,
  type ReleaseDiff,
  type ReleaseLabel,
  ReleaseManifest,
  type ReleaseProblem,
  buildReleaseManifest,
  checkReleaseManifest,
  checkSubmissionObject,
  compareReleaseLabel,
  diffReleases as diffManifests,
  releaseManifestKey,
  serializeReleaseManifest,
  verifyLedgerChain,
} from '../domain/index.js';
import { adjudicationObject } from './adjudication.js';
import { Cursor, DEFAULT_PAGE_LIMIT, PageLimit, decodeCursor, encodeCursor } from './cursor.js';
import { ConflictError, IntegrityError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { listAcceptedLabels } from './qa-queries.js';
import { parse } from './work-queries.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const releaseEventId = (releaseId: string): string => `${releaseId}:created`;
const parseJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
};

/** A release as listed: what its ledger event says. */
export interface ReleaseSummary {
  releaseId: string;
  programId: string;
  protocolId: string;
  version: number;
  labels: number;
  manifestKey: string;
  manifestSha256: string;
  ledgerHead: LedgerAnchor;
  createdAt: string;
  createdBy: string;
}

type ReleaseEvent = Extract<ChainedLedgerEvent, { type: 'release.created' }>;

const summaryOf = (e: ReleaseEvent): ReleaseSummary => ({
  releaseId: e.data.releaseId,
  programId: e.programId,
  protocolId: e.data.protocolId,
  version: e.data.version,
  labels: e.data.labels,
  manifestKey: e.data.manifestKey,
  manifestSha256: e.data.manifestSha256,
  ledgerHead: e.data.ledgerHead,
  createdAt: e.at,
  createdBy: e.actor,
});

const isReleaseEvent = (e: ChainedLedgerEvent): e is ReleaseEvent => e.type === 'release.created';

/**
 * The ledger's head (undefined for an empty ledger): for a single-chain (pre-shard)
 * ledger the last event's seq and hash; for a sharded one every chain's last event
 * (`heads`), with the event count and the heads' digest (ledger-chain.ts anchorOfHeads).
 */
export function ledgerHeadOf(events: readonly ChainedLedgerEvent[]): LedgerAnchor | undefined {
  const last = events.at(-1);
  if (!last) return undefined;
  if (events.every((e) => chainOf(e) === LEGACY_CHAIN)) return { seq: last.seq, hash: last.hash };
  const heads = new Map<string, { chain: string; seq: number; hash: string }>();
  for (const e of events) {
    const c = chainOf(e);
    if ((heads.get(c)?.seq ?? 0) < e.seq) heads.set(c, { chain: c, seq: e.seq, hash: e.hash });
  }
  return anchorOfHeads([...heads.values()], events.length);
}

export const CreateReleaseInput = z.strictObject({
  programId: Identifier,
  protocolId: Identifier,
  version: z.number().int().min(1),
  /** Who releases (the signed-in QA lead or PM). */
  actor: z.string().min(1),
  note: z.string().min(1).max(1000).optional(),
});

/**
 * Create a release — primary course:
 * 1. Select the program's accepted labels (the accepted-label export's
 *    selection) and build the manifest of this protocol version's (pure): its id
 *    is derived from the labels, so the same labels are one release.
 * 2. Already recorded (the ledger holds its event): answer it, `created: false`.
 * 3. Write the manifest once. `exists` (a retry after a crash, or a concurrent
 *    create of the same labels): the stored manifest stands.
 * 4. Record `release.created` with the stored manifest's SHA-256 (the commit point).
 */
export async function createRelease(
  deps: Deps,
  input: z.input<typeof CreateReleaseInput>,
): Promise<{ release: ReleaseSummary; created: boolean }> {
  const req = parse(CreateReleaseInput, input);
  if (!(await deps.repo.getProtocolVersion(req.protocolId, req.version))) {
    throw new NotFoundError(`protocol ${req.protocolId}@${req.version} not found`);
  }
  const [labels, workforces, ledger] = await Promise.all([
    listAcceptedLabels(deps, req.programId),
    deps.repo.listWorkforces(req.programId),
    deps.repo.listLedger(req.programId),
  ]);
  const ledgerHead = ledgerHeadOf(ledger);
  if (!ledgerHead) throw new ConflictError(`program ${req.programId} has no ledger: nothing to release`);
  let manifest: ReleaseManifest;
  try {
    manifest = buildReleaseManifest({
      programId: req.programId,
      protocolId: req.protocolId,
      version: req.version,
      labels,
      workforces,
      ledgerHead,
      createdAt: deps.clock.now().toISOString(),
      createdBy: req.actor,
      ...(req.note ? { note: req.note } : {}),
    });
  } catch (e) {
    if (e instanceof ReleaseContentError) throw new ConflictError(e.message);
    throw e;
  }
  const recorded = ledger.find((e) => e.eventId === releaseEventId(manifest.releaseId));
  if (recorded && isReleaseEvent(recorded)) return { release: summaryOf(recorded), created: false };

  const key = releaseManifestKey(req.programId, manifest.releaseId);
  let bytes = serializeReleaseManifest(manifest);
  if ((await deps.objects.putOnce(deps.buckets.releases, key, bytes, 'application/json')) === 'exists') {
    const stored = await deps.objects.getBytes(deps.buckets.releases, key);
    if (!stored) throw new ConflictError(`release manifest ${key} was refused as existing but cannot be read`);
    // The stored manifest stands only if it is this release: the same labels, and sound on its own.
    const parsed = ReleaseManifest.safeParse(parseJson(stored));
    const problems = parsed.success ? checkReleaseManifest(parsed.data) : [];
    if (!parsed.success || problems.length > 0 || parsed.data.labelsSha256 !== manifest.labelsSha256) {
      throw new IntegrityError(`release manifest ${key} exists but is not this release's (${parsed.success ? (problems[0]?.detail ?? 'other labels') : 'not a manifest'}): refusing to record it`);
    }
    bytes = stored;
    manifest = parsed.data;
  }
  const manifestSha256 = sha256(bytes);
  const outcome = await record(deps, {
    eventId: releaseEventId(manifest.releaseId),
    programId: req.programId,
    type: 'release.created',
    actor: manifest.createdBy,
    protocol: `${manifest.protocolId}@${manifest.version}`,
    subject: manifest.releaseId,
    reason: `released ${manifest.labels.length} accepted labels of ${manifest.protocolId}@${manifest.version}${manifest.note ? `: ${manifest.note}` : ''}`,
    data: {
      releaseId: manifest.releaseId,
      protocolId: manifest.protocolId,
      version: manifest.version,
      labels: manifest.labels.length,
      manifestKey: key,
      manifestSha256,
      ledgerHead: manifest.ledgerHead,
    },
  });
  const event = await deps.repo.getLedgerEvent(req.programId, releaseEventId(manifest.releaseId));
  if (!event || !isReleaseEvent(event)) throw new ConflictError(`release ${manifest.releaseId}: its ledger event cannot be read back`);
  return { release: summaryOf(event), created: outcome === 'appended' };
}

export const ListReleasesInput = z.strictObject({ programId: Identifier, protocolId: Identifier.optional() });

/** The program's releases (those whose ledger event is recorded), oldest first. */
export async function listReleases(deps: Deps, input: z.input<typeof ListReleasesInput>): Promise<{ programId: string; items: ReleaseSummary[] }> {
  const req = parse(ListReleasesInput, input);
  const items = (await deps.repo.listLedger(req.programId))
    .filter(isReleaseEvent)
    .map(summaryOf)
    .filter((r) => !req.protocolId || r.protocolId === req.protocolId);
  return { programId: req.programId, items };
}

export const ShowReleaseInput = z.strictObject({ programId: Identifier, releaseId: ReleaseId });

async function releaseEvent(deps: Deps, programId: string, releaseId: string): Promise<ReleaseEvent> {
  const e = await deps.repo.getLedgerEvent(programId, releaseEventId(releaseId));
  if (!e || !isReleaseEvent(e)) throw new NotFoundError(`release ${releaseId} not found in program ${programId}`);
  return e;
}

async function loadManifest(deps: Deps, e: ReleaseEvent): Promise<{ bytes?: Uint8Array; manifest?: ReleaseManifest; problem?: string }> {
  const bytes = await deps.objects.getBytes(deps.buckets.releases, e.data.manifestKey);
  if (!bytes) return { problem: `manifest ${e.data.manifestKey} is missing` };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { bytes, problem: `manifest ${e.data.manifestKey} is not JSON` };
  }
  const m = ReleaseManifest.safeParse(json);
  if (!m.success) return { bytes, problem: `manifest ${e.data.manifestKey} is not a release manifest: ${m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { bytes, manifest: m.data };
}

/** A recorded release's manifest, as stored (labels included). */
export async function showRelease(deps: Deps, input: z.input<typeof ShowReleaseInput>): Promise<ReleaseManifest & { manifestSha256: string }> {
  const req = parse(ShowReleaseInput, input);
  const e = await releaseEvent(deps, req.programId, req.releaseId);
  const { bytes, manifest, problem } = await loadManifest(deps, e);
  if (!manifest || !bytes) throw new NotFoundError(`release ${req.releaseId}: ${problem}`);
  return { ...manifest, manifestSha256: sha256(bytes) };
}

export const DiffReleasesInput = z.strictObject({ programId: Identifier, from: ReleaseId, to: ReleaseId });

/** What changed between two releases of a program, by case (added, removed, changed with the fields). */
export async function diffReleases(deps: Deps, input: z.input<typeof DiffReleasesInput>): Promise<ReleaseDiff> {
  const req = parse(DiffReleasesInput, input);
  const [a, b] = await Promise.all([
    showRelease(deps, { programId: req.programId, releaseId: req.from }),
    showRelease(deps, { programId: req.programId, releaseId: req.to }),
  ]);
  return diffManifests(a, b);
}

export const ReleaseLabelsInput = z.strictObject({
  programId: Identifier,
  releaseId: ReleaseId,
  caseId: Identifier.optional(),
  cursor: Cursor.optional(),
  limit: PageLimit.optional(),
});

const LabelsCursor = z.strictObject({ caseId: z.string().min(1).max(1024), batchId: z.string().min(1).max(1024) });

/**
 * A release's labels, by case (one case's with `caseId`), a page at a time: what
 * a model team trains on, with each label's lineage, instead of re-labelling.
 */
export async function releaseLabels(
  deps: Deps,
  input: z.input<typeof ReleaseLabelsInput>,
): Promise<{ releaseId: string; protocol: string; items: ReleaseLabel[]; next?: string }> {
  const req = parse(ReleaseLabelsInput, input);
  const m = await showRelease(deps, { programId: req.programId, releaseId: req.releaseId });
  let after: z.infer<typeof LabelsCursor> | undefined;
  if (req.cursor) {
    const key = LabelsCursor.safeParse(decodeCursor(req.cursor));
    if (!key.success) throw new InvalidInputError('cursor: not a cursor of this listing');
    after = key.data;
  }
  const limit = req.limit ?? DEFAULT_PAGE_LIMIT;
  const rest = m.labels
    .filter((l) => !req.caseId || l.caseId === req.caseId)
    .filter((l) => !after || l.caseId > after.caseId || (l.caseId === after.caseId && l.batchId > after.batchId));
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return {
    releaseId: m.releaseId,
    protocol: `${m.protocolId}@${m.version}`,
    items,
    ...(rest.length > limit && last ? { next: encodeCursor({ caseId: last.caseId, batchId: last.batchId }) } : {}),
  };
}

export interface ReleaseVerdict {
  releaseId: string;
  programId: string;
  /** True when no check found a problem. */
  ok: boolean;
  manifestSha256?: string;
  labels: number;
  /** Label submission objects re-read from S3 and re-hashed. */
  objectsChecked: number;
  ledgerHead?: LedgerAnchor;
  problems: ReleaseProblem[];
}

/**
 * Verify a release — primary course:
 * 1. Its `release.created` event is in the ledger; the manifest it names is
 *    there, hashes to the recorded SHA-256 and parses.
 * 2. The manifest's own checks (labels hash, id, order, one protocol version),
 *    and it agrees with its event (label count, ledger head).
 * 3. Each label: the stored label still says what the release says, and its
 *    submission object (by version id) still has the recorded SHA-256.
 * 4. The ledger chain still holds the anchor: event #seq with that hash, whose
 *    content still hashes to it.
 * Every problem names what failed (the case and batch for a label).
 */
export async function verifyRelease(deps: Deps, input: z.input<typeof ShowReleaseInput>): Promise<ReleaseVerdict> {
  const req = parse(ShowReleaseInput, input);
  const problems: ReleaseProblem[] = [];
  const events = await deps.repo.listLedger(req.programId);
  const e = events.find((x): x is ReleaseEvent => x.eventId === releaseEventId(req.releaseId) && isReleaseEvent(x));
  const verdict = (extra: Partial<ReleaseVerdict> = {}): ReleaseVerdict => ({
    releaseId: req.releaseId,
    programId: req.programId,
    ok: problems.length === 0,
    labels: 0,
    objectsChecked: 0,
    problems,
    ...extra,
  });
  if (!e) {
    // Without its event a manifest is not a release (a crashed create, or a deleted event).
    const orphan = await deps.objects.getBytes(deps.buckets.releases, releaseManifestKey(req.programId, req.releaseId));
    if (!orphan) throw new NotFoundError(`release ${req.releaseId} not found in program ${req.programId}`);
    problems.push({ check: 'ledger-event', detail: `the ledger holds no release.created event for ${req.releaseId} (its manifest is stored)` });
    return verdict();
  }
  const { bytes, manifest, problem } = await loadManifest(deps, e);
  const manifestSha256 = bytes ? sha256(bytes) : undefined;
  if (problem) problems.push({ check: 'manifest', detail: problem });
  if (manifestSha256 && manifestSha256 !== e.data.manifestSha256) {
    problems.push({ check: 'manifest', detail: `manifest hashes to ${manifestSha256}, the ledger records ${e.data.manifestSha256}` });
  }
  if (!manifest) return verdict({ ...(manifestSha256 ? { manifestSha256 } : {}) });

  problems.push(...checkReleaseManifest(manifest));
  if (manifest.releaseId !== req.releaseId) problems.push({ check: 'manifest', detail: `the manifest is of release ${manifest.releaseId}` });
  if (manifest.labels.length !== e.data.labels) {
    problems.push({ check: 'ledger-event', detail: `the manifest has ${manifest.labels.length} labels, the ledger event says ${e.data.labels}` });
  }
  if (manifest.ledgerHead.seq !== e.data.ledgerHead.seq || manifest.ledgerHead.hash !== e.data.ledgerHead.hash) {
    problems.push({ check: 'ledger-event', detail: 'the manifest and its ledger event record different ledger heads' });
  }

  const kinds = new Map((await deps.repo.listWorkforces(req.programId)).map((w) => [w.workforceId, w.kind]));
  let objectsChecked = 0;
  // A label file holds many labels: each object (at its version) is read once and re-hashed for every label of it.
  const reads = new Map<string, Promise<Uint8Array | undefined>>();
  const read = (bucket: string, key: string, versionId?: string) => {
    const id = `${bucket}\n${key}\n${versionId ?? ''}`;
    if (!reads.has(id)) reads.set(id, deps.objects.getBytes(bucket, key, versionId));
    return reads.get(id)!;
  };
  for (const l of manifest.labels) {
    const stored = (await deps.repo.listCaseLabels(l.caseId)).find((s) => s.batchId === l.batchId && s.protocol === l.protocol);
    problems.push(...compareReleaseLabel(l, stored, kinds.get(l.workforceId)));
    // An expert's class points at the adjudication's decision record (exports); every other label at its upload.
    const bucket = l.adjudicationId && l.submissionKey === adjudicationObject(l.adjudicationId) ? deps.buckets.exports : deps.buckets.uploads;
    problems.push(...checkSubmissionObject(l, await read(bucket, l.submissionKey, l.submissionVersionId)));
    objectsChecked++;
  }

  problems.push(...(await checkAnchor(deps, req.programId, manifest.ledgerHead, e)));
  return verdict({ manifestSha256, labels: manifest.labels.length, objectsChecked, ledgerHead: manifest.ledgerHead });
}

/**
 * The chains (functions/domain/ledger-chain.ts) still hold the anchor: event #seq
 * with that hash (a sharded ledger's: each chain's head). Chain problems at or
 * before the anchor in their chain, or at the release's own event, are the
 * release's too (its history or its record was touched); a benign duplicate (a
 * retried append) is not a problem.
 */
async function checkAnchor(deps: Deps, programId: string, anchor: LedgerAnchor, release: ChainedLedgerEvent): Promise<ReleaseProblem[]> {
  const { items, keys } = await deps.repo.readLedgerChain(programId);
  const heads = anchor.heads ?? [{ chain: LEGACY_CHAIN, seq: anchor.seq, hash: anchor.hash }];
  const before = (p: { chain?: string; seq: number }) => p.seq <= (heads.find((h) => h.chain === (p.chain ?? LEGACY_CHAIN))?.seq ?? 0);
  const own = (p: { chain?: string; seq: number }) => (p.chain ?? LEGACY_CHAIN) === chainOf(release) && p.seq === release.seq;
  return verifyLedgerChain(items, keys, [anchor])
    .problems.filter((p) => p.kind !== 'duplicate' && (p.kind === 'anchor-mismatch' || before(p) || own(p)))
    .map((p) => ({ check: 'ledger-anchor' as const, detail: p.message }));
}
