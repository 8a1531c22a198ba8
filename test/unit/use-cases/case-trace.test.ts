import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LedgerEvent, type StoredLabel, type Submission } from '../../../functions/domain/model/index.js';
import { applyAdjudication } from '../../../functions/use-cases/adjudication.js';
import { traceCase } from '../../../functions/use-cases/case-trace.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { ingestUpload } from '../../../functions/use-cases/ingest-upload.js';
import type { BatchRecord } from '../../../functions/use-cases/ports.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { settleBatch } from '../../../functions/use-cases/settle-batch.js';
import { type FakeDeps, T0, makeCase, makeFakeDeps, makeProtocol, makeWorkforce, seedUploadScenario } from '../fakes.js';

const P = 'prog-1';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const batch = (batchId: string, workforceId: string, overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  batchId,
  programId: P,
  round: 1,
  protocol: 'chest-xray@1',
  workforceId,
  workforceKind: workforceId === 'radiology' ? 'internal' : 'vendor',
  itemCount: 10,
  goldCount: 1,
  slaHours: 48,
  status: 'accepted',
  createdAt: T0,
  ...overrides,
});

/**
 * A workforce's upload holding one line for the case, kept as S3 would keep it
 * (with the submission record ingest writes), and the label finalize stores.
 */
async function upload(
  deps: FakeDeps,
  b: BatchRecord,
  caseId: string,
  label: string,
  opts: { minutes: number; status?: StoredLabel['status']; gold?: boolean; versioned?: boolean },
): Promise<StoredLabel> {
  const uploadId = `up${b.batchId.replace(/[^a-z0-9]/g, '')}00`;
  const key = `uploads/${b.workforceId}/${b.batchId}/${uploadId}.jsonl`;
  const bytes = new TextEncoder().encode(`${JSON.stringify({ alias: 'k3v9x2m7qa8d', label, annotator: 'reader-1' })}\n`);
  await deps.objects.putBytes(deps.buckets.uploads, key, bytes, 'application/x-ndjson');
  const versionId = opts.versioned ? (await deps.objects.getObject(deps.buckets.uploads, key))?.versionId : undefined;
  const s: Submission = {
    batchId: b.batchId,
    uploadId,
    key,
    sha256Hex: sha(bytes),
    sizeBytes: bytes.length,
    ...(versionId ? { versionId } : {}),
    status: 'valid',
    problems: [],
    receivedAt: at(opts.minutes - 1),
  };
  await deps.repo.createSubmission(s);
  const l: StoredLabel = {
    caseId,
    batchId: b.batchId,
    label,
    workforceId: b.workforceId,
    annotatorId: 'reader-1',
    protocol: b.protocol,
    submissionKey: key,
    submissionSha256: s.sha256Hex,
    ...(versionId ? { submissionVersionId: versionId } : {}),
    gold: opts.gold ?? false,
    status: opts.status ?? 'accepted',
    createdAt: at(opts.minutes),
  };
  await deps.repo.putLabels([l]);
  return l;
}

/** Program prog-1: vendor-a and vendor-b both labelled the overlap case c-1 and disagreed; the expert decided. */
async function overlapAdjudicated(deps: FakeDeps, opts: { versioned?: boolean } = {}) {
  await deps.repo.putProtocolVersion(makeProtocol());
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-b'));
  await deps.repo.putWorkforce(P, makeWorkforce('radiology', { kind: 'internal', qualifications: ['adjudicator'] }));
  await deps.repo.putCases(P, [{ ...makeCase('c-1'), goldPool: false }]);
  const a = batch('b-a', 'vendor-a');
  const b = batch('b-b', 'vendor-b');
  for (const x of [a, b]) await deps.repo.createBatch(x);
  await deps.repo.assignCases(P, ['c-1'], 'b-a');
  await upload(deps, a, 'c-1', 'normal', { minutes: 10, versioned: opts.versioned });
  await upload(deps, b, 'c-1', 'abnormal', { minutes: 20, versioned: opts.versioned });
  await deps.repo.createAdjudication({
    adjudicationId: 'b-b-adj',
    programId: P,
    batchId: 'b-b',
    protocol: 'chest-xray@1',
    needs: [{ caseId: 'c-1', kind: 'overlap-disagreement', reason: 'overlap labels disagree', labels: { 'vendor-a/reader-1': 'normal', 'vendor-b/reader-1': 'abnormal' } }],
    status: 'open',
    createdAt: at(25),
  });
  await deps.repo.decideAdjudication('b-b-adj', { decidedBy: 'radiology/dr-lead', decidedAt: at(30), decisions: [{ caseId: 'c-1', label: 'abnormal', note: 'opacity in the left lower lobe' }] });
  await deps.repo.appendLedger(
    LedgerEvent.parse({
      eventId: 'b-b-adj:decided',
      programId: P,
      type: 'adjudication.decided',
      at: at(30),
      actor: 'radiology/dr-lead',
      protocol: 'chest-xray@1',
      subject: 'b-b-adj',
      reason: 'c-1 → "abnormal"',
      data: { batchId: 'b-b', workforceId: 'radiology', expertId: 'dr-lead', decisions: [{ caseId: 'c-1', label: 'abnormal' }] },
    }),
  );
  await applyAdjudication(deps, { batchId: 'b-b', adjudicationId: 'b-b-adj' });
}

describe('Use case: traceCase', () => {
  it("shows both vendors' labels, the expert's decision and the accepted label, each object verified against the store", async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps, { versioned: true });

    const trace = await traceCase(deps, { caseId: 'c-1', verify: true });

    expect(trace.programId).toBe(P);
    expect(trace.labels.map((v) => [v.version, v.workforce.id, v.workforce.kind, v.label, v.status])).toEqual([
      [1, 'vendor-a', 'vendor', 'normal', 'superseded'],
      [2, 'vendor-b', 'vendor', 'abnormal', 'superseded'],
      [3, 'radiology', 'internal', 'abnormal', 'accepted'],
    ]);
    expect(trace.accepted).toEqual([3]);
    const [v1, , v3] = trace.labels;
    expect(v1.supersededBy).toEqual({ kind: 'adjudication', id: 'b-b-adj', at: at(30), detail: 'radiology/dr-lead decided "abnormal"' });
    expect(v1.submission).toMatchObject({ bucket: 'uploads', key: 'uploads/vendor-a/b-a/upba00.jsonl', versionId: 'v1', uploadId: 'upba00', verification: { verified: true } });
    expect(v1.round).toBe(1);
    expect(v1.protocol).toBe('chest-xray@1');
    expect(v3.annotatorId).toBe('dr-lead');
    expect(v3.submission).toMatchObject({ bucket: 'exports', key: 'adjudications/b-b-adj.json', verification: { verified: true } });
    const [adj] = trace.adjudications;
    expect(adj).toMatchObject({
      adjudicationId: 'b-b-adj',
      status: 'decided',
      expert: { workforceId: 'radiology', expertId: 'dr-lead' },
      decidedAt: at(30),
      decision: { label: 'abnormal', note: 'opacity in the left lower lobe' },
      record: { key: 'adjudications/b-b-adj.json', sha256: v3.submission.sha256, verification: { verified: true } },
    });
    expect(adj.needs).toEqual([{ kind: 'overlap-disagreement', reason: 'overlap labels disagree', labels: { 'vendor-a/reader-1': 'normal', 'vendor-b/reader-1': 'abnormal' } }]);
    expect(trace.verification).toEqual({ requested: true, allVerified: true, objects: 4 });
    expect(trace.events.map((e) => e.eventId)).toEqual(['b-b-adj:decided']);
    expect(trace.timeline.map((s) => s.step)).toEqual([
      'upload received',
      'label recorded',
      'upload received',
      'label recorded',
      'adjudication opened',
      'adjudication.decided',
      'label recorded',
    ]);
  });

  it('reports a tampered upload object as verified: false with why, and the intact ones as verified', async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps);
    // The embedded S3 keeps no versions: the key's bytes are overwritten in place.
    await deps.objects.putBytes(deps.buckets.uploads, 'uploads/vendor-b/b-b/upbb00.jsonl', new TextEncoder().encode('{"alias":"k3v9x2m7qa8d","label":"normal","annotator":"reader-1"}\n'), 'application/x-ndjson');

    const trace = await traceCase(deps, { programId: P, caseId: 'c-1', verify: true });

    const [v1, v2, v3] = trace.labels;
    expect(v1.submission.verification).toEqual({ verified: true });
    expect(v2.submission.verification?.verified).toBe(false);
    expect(v2.submission.verification?.why).toMatch(/^uploads\/vendor-b\/b-b\/upbb00\.jsonl: SHA-256 is now [0-9a-f]{64}, the record says [0-9a-f]{64}$/);
    expect(v3.submission.verification).toEqual({ verified: true });
    expect(trace.verification).toEqual({ requested: true, allVerified: false, objects: 4 });
  });

  it('reports a recorded object version whose bytes changed, or that is gone, as verified: false', async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps, { versioned: true });
    const a = deps.objects.versions.get('uploads/uploads/vendor-a/b-a/upba00.jsonl')!;
    a[0] = { ...a[0], bytes: new TextEncoder().encode('tampered\n') };
    deps.objects.versions.delete('uploads/uploads/vendor-b/b-b/upbb00.jsonl');

    const trace = await traceCase(deps, { caseId: 'c-1', verify: true });

    expect(trace.labels[0].submission.verification).toEqual({
      verified: false,
      why: expect.stringMatching(/^uploads\/vendor-a\/b-a\/upba00\.jsonl \(version v1\): SHA-256 is now/),
    });
    expect(trace.labels[1].submission.verification).toEqual({
      verified: false,
      why: 'uploads/vendor-b/b-b/upbb00.jsonl (version v2) is missing from the uploads bucket',
    });
  });

  it('lists the ledger events of the case in ledger (append) order, and the timeline in time order', async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps);
    // Appended after the decision, stamped earlier (a clock behind): the chain keeps the append order.
    await deps.repo.appendLedger(
      LedgerEvent.parse({
        eventId: 'b-b-adj:requested',
        programId: P,
        type: 'adjudication.requested',
        at: at(25),
        actor: 'agreement-check',
        protocol: 'chest-xray@1',
        subject: 'b-b-adj',
        reason: 'c-1: overlap labels disagree',
        data: { batchId: 'b-b', cases: ['c-1'], kinds: ['overlap-disagreement'] },
      }),
    );

    const trace = await traceCase(deps, { caseId: 'c-1' });

    expect(trace.events.map((e) => e.eventId)).toEqual(['b-b-adj:decided', 'b-b-adj:requested']);
    expect(trace.events.map((e) => e.eventId)).toEqual((await deps.repo.listLedger(P)).map((e) => e.eventId).filter((id) => id.startsWith('b-b-adj')));
    expect(trace.events.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect(trace.timeline.filter((s) => s.step.startsWith('adjudication')).map((s) => s.step)).toEqual(['adjudication.requested', 'adjudication.decided']);
  });

  it("says a gold review's decision record cannot be checked: no label records its SHA-256", async () => {
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await deps.repo.putCases(P, [{ ...makeCase('g-2'), goldPool: true }]);
    await deps.repo.createBatch(batch('b-g', 'vendor-a'));
    await deps.repo.createAdjudication({
      adjudicationId: 'b-g-adj',
      programId: P,
      batchId: 'b-g',
      protocol: 'chest-xray@1',
      needs: [{ caseId: 'g-2', kind: 'critical-miss', reason: 'gold item failed with a critical miss', labels: {} }],
      status: 'open',
      createdAt: at(1),
    });
    await deps.repo.decideAdjudication('b-g-adj', { decidedBy: 'radiology/dr-lead', decidedAt: at(2), decisions: [{ caseId: 'g-2', label: 'uphold-reference' }] });
    await applyAdjudication(deps, { batchId: 'b-g', adjudicationId: 'b-g-adj' });

    const trace = await traceCase(deps, { caseId: 'g-2', verify: true });

    expect(trace.adjudications[0].record).toEqual({
      key: 'adjudications/b-g-adj.json',
      verification: {
        verified: false,
        why: expect.stringMatching(/^adjudications\/b-g-adj\.json: no SHA-256 of it is recorded, so there is nothing to check it against \(it hashes to [0-9a-f]{64} now\)$/),
      },
    });
    expect(trace.labels).toEqual([]);
  });

  it('reads no object without verify', async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps);
    await deps.objects.putBytes(deps.buckets.uploads, 'uploads/vendor-b/b-b/upbb00.jsonl', new TextEncoder().encode('x'), 'text/plain');

    const trace = await traceCase(deps, { caseId: 'c-1' });

    expect(trace.verification).toEqual({ requested: false, objects: 0 });
    expect(trace.labels.every((v) => v.submission.verification === undefined)).toBe(true);
  });

  it('traces a case with no labels: its record, the gate verdict and its quarantine, and no versions', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await deps.repo.putCases(P, [{ ...makeCase('c-9', { deidentificationFindings: ["header still carries Patient's Name (0010,0010)"] }), goldPool: false }]);

    const trace = await traceCase(deps, { caseId: 'c-9', verify: true });

    expect(trace.case).toMatchObject({ caseId: 'c-9', state: 'pending' });
    expect(trace.labels).toEqual([]);
    expect(trace.accepted).toEqual([]);
    expect(trace.batches).toEqual([]);
    expect(trace.adjudications).toEqual([]);
    expect(trace.gold).toEqual([]);
    expect(trace.gate).toMatchObject({ verdict: 'held', attested: true, problems: ["header still carries Patient's Name (0010,0010)"] });
    expect(trace.verification).toEqual({ requested: true, allVerified: true, objects: 0 });
    expect(trace.timeline).toEqual([]);
  });

  it('shows a released quarantine as vendor-safe with the release', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    const finding = 'private attribute (0009,0010) present';
    await deps.repo.putCases(P, [{ ...makeCase('c-8', { deidentificationFindings: [finding] }), goldPool: false }]);
    const release = { by: 'pm:alice', reason: 'a scanner stamp, nothing identifying', at: at(5), imageKey: 'images/c-8.dcm', overrides: [finding] };
    expect(await deps.repo.releaseCase(P, 'c-8', release)).toBe(true);

    const trace = await traceCase(deps, { caseId: 'c-8' });

    expect(trace.gate).toMatchObject({ verdict: 'vendor-safe', findings: [finding], problems: [], release });
    expect(trace.timeline).toEqual([{ at: at(5), step: 'quarantine released', detail: 'pm:alice: a scanner stamp, nothing identifying' }]);
  });

  it("gives a gold case's result per batch from the stored score; no label on it counts as the accepted one", async () => {
    const deps = makeFakeDeps();
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-b'));
    await deps.repo.putCases(P, [{ ...makeCase('g-1'), goldPool: true }]);
    const b1 = batch('b-1', 'vendor-b', { status: 'rejected' });
    const b2 = batch('b-2', 'vendor-a', { round: 2 });
    for (const b of [b1, b2]) await deps.repo.createBatch(b);
    await upload(deps, b1, 'g-1', 'normal', { minutes: 10, gold: true, status: 'rejected' });
    await upload(deps, b2, 'g-1', 'abnormal', { minutes: 20, gold: true });
    const score = (b: BatchRecord, got: string) => ({
      batchId: b.batchId,
      workforceId: b.workforceId,
      protocol: 'chest-xray@1',
      taskType: 'classification' as const,
      goldN: 1,
      goldCorrect: got === 'abnormal' ? 1 : 0,
      accuracy: got === 'abnormal' ? 1 : 0,
      interval: null,
      kappa: null,
      summary: {},
      verdict: got === 'abnormal' ? ('accepted' as const) : ('rejected' as const),
      notes: [],
      items: [{ caseId: 'g-1', correct: got === 'abnormal', expected: 'abnormal', got }],
    });
    await deps.repo.putScore(score(b1, 'normal'));
    await deps.repo.putScore(score(b2, 'abnormal'));

    const trace = await traceCase(deps, { caseId: 'g-1' });

    expect(trace.gold).toEqual([
      { batchId: 'b-1', workforceId: 'vendor-b', round: 1, correct: false, expected: 'abnormal', got: 'normal' },
      { batchId: 'b-2', workforceId: 'vendor-a', round: 2, correct: true, expected: 'abnormal', got: 'abnormal' },
    ]);
    // Labels on gold items never enter the dataset: none is "the accepted label".
    expect(trace.accepted).toEqual([]);
    expect(trace.labels.map((v) => [v.gold, v.status, v.supersededBy])).toEqual([
      [true, 'rejected', undefined],
      [true, 'accepted', undefined],
    ]);
  });

  it('marks a rejected label as re-done by the batch that labelled the case next', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-b'));
    await deps.repo.putCases(P, [{ ...makeCase('c-2'), goldPool: false }]);
    const b1 = batch('b-1', 'vendor-b', { status: 'rejected' });
    const b2 = batch('b-2', 'vendor-a', { round: 2 });
    for (const b of [b1, b2]) await deps.repo.createBatch(b);
    await upload(deps, b1, 'c-2', 'normal', { minutes: 10, status: 'rejected' });
    await upload(deps, b2, 'c-2', 'abnormal', { minutes: 20 });

    const trace = await traceCase(deps, { caseId: 'c-2' });

    expect(trace.labels[0].supersededBy).toEqual({ kind: 'redo', id: 'b-2', at: at(20), detail: 'batch b-1 was rejected; the case was re-done by vendor-a' });
    expect(trace.accepted).toEqual([2]);
  });

  it("keeps labels of another program's batch with the same case id out, and finds the case's program", async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps);
    await deps.repo.putWorkforce('prog-2', makeWorkforce('vendor-a'));
    await deps.repo.createBatch(batch('other', 'vendor-a', { programId: 'prog-2' }));
    await upload(deps, batch('other', 'vendor-a', { programId: 'prog-2' }), 'c-1', 'normal', { minutes: 1 });

    const trace = await traceCase(deps, { caseId: 'c-1' });

    expect(trace.programId).toBe(P);
    expect(trace.labels.map((v) => v.batchId)).toEqual(['b-a', 'b-b', 'b-b-adj']);
    expect(trace.batches.map((b) => b.batchId)).toEqual(['b-a', 'b-b']);
  });

  it('answers not found for a case no program has, naming the program asked', async () => {
    const deps = makeFakeDeps();
    await overlapAdjudicated(deps);
    await expect(traceCase(deps, { caseId: 'c-404' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(traceCase(deps, { programId: 'prog-2', caseId: 'c-1' })).rejects.toThrow('case c-1 not found in program prog-2');
  });
});

describe('Use case: traceCase — pre-label model', () => {
  it('shows the pre-label model a label line declared, carried from the upload through finalize', async () => {
    const deps = makeFakeDeps();
    const lines = [
      { alias: 'k3v9x2m7qa8d', label: 'normal', annotator: 'reader-07', preLabel: { model: 'cxr-triage', version: '2.1.0' } },
      { alias: 'p4w8h2n6tr5e', label: 'normal', annotator: 'reader-07' },
      { alias: 'z7c3b9f2gu4s', label: 'normal', annotator: 'reader-07' },
    ];
    // One gold item cannot decide by the default SPRT (issue 11): a single plan n=1, c=0 lets this batch be accepted and finalized.
    const protocol = makeProtocol({ acceptance: { rule: 'single-plan', aql: 0.9, rql: 0.1, alpha: 0.2, beta: 0.2 } });
    const s = await seedUploadScenario(deps, { file: new TextEncoder().encode(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`), protocol });
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await deps.repo.putCases(P, [0, 1].map((i) => ({ ...makeCase(`case-${i}`), goldPool: false })));
    await deps.repo.putCases(P, [{ ...makeCase('case-2'), goldPool: true }]);
    await deps.repo.assignCases(P, ['case-0', 'case-1'], s.batchId);
    await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
    const { verdict } = await scoreSubmission(deps, { batchId: s.batchId });
    await settleBatch(deps, { batchId: s.batchId, verdict });
    await finalizeBatch(deps, { batchId: s.batchId });

    const declared = await traceCase(deps, { caseId: 'case-0', verify: true });
    const other = await traceCase(deps, { caseId: 'case-1' });

    expect(declared.labels).toHaveLength(1);
    expect(declared.labels[0]).toMatchObject({ preLabel: { model: 'cxr-triage', version: '2.1.0' }, annotatorId: 'reader-07', submission: { key: s.key, sha256: s.sha256Hex, verification: { verified: true } } });
    expect(other.labels[0].preLabel).toBeUndefined();
  });
});
