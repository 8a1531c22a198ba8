/**
 * Vendor uploads through presigned URLs (real HTTP PUTs to the local S3), their
 * S3 events delivered to the ingest handler as EventBridge would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { getUploadReport, requestUploadSlot, sha256Hex } from '../../functions/use-cases/vendor-portal.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { uploadLabelFile } from '../../infra/local/demo/simulated-workforce.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound, until } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('Uploads: validation, raw files kept, idempotent events', () => {
  let stack: LocalStack;
  let batch: BatchRecord;
  let aliases: string[];
  let goodLines: string[];

  beforeAll(async () => {
    // The demo's single plan decides the batch within its round, so its finalize (labels.recorded once) runs too.
    const open = await stackWithOpenRound({ cases: 120, acceptance: 'single-plan' });
    stack = open.stack;
    batch = open.batches.find((b) => b.workforceKind === 'vendor')!;
    const key = await loadBatchKey(stack.deps, batch.batchId);
    aliases = key.items.map((i) => i.alias);
    goodLines = aliases.map((alias) => JSON.stringify({ alias, label: 'normal', annotator: 'ann-1' }));
  });
  afterAll(async () => stack?.stop());

  const upload = async (text: string) => {
    const bytes = enc(text);
    const { uploadId } = await uploadLabelFile(stack.deps, batch.workforceId, batch.batchId, bytes);
    await stack.ingestIdle();
    const key = `uploads/${batch.workforceId}/${batch.batchId}/${uploadId}.jsonl`;
    return { uploadId, key, bytes };
  };

  const cases: [string, () => string, RegExp][] = [
    ['a line that is not JSON', () => [...goodLines.slice(1), '{alias: nope'].join('\n'), /line \d+: not valid JSON/],
    ['an unknown alias', () => [...goodLines, JSON.stringify({ alias: 'zzzzzzzzzzzz', label: 'normal', annotator: 'a' })].join('\n'), /unknown alias "zzzzzzzzzzzz"/],
    ['a label outside the schema', () => [JSON.stringify({ alias: aliases[0], label: 'pneumonia', annotator: 'a' }), ...goodLines.slice(1)].join('\n'), /label "pneumonia" is not in the protocol's classes/],
    ['a field outside the schema', () => [JSON.stringify({ alias: aliases[0], label: 'normal', annotator: 'a', patient: 'x' }), ...goodLines.slice(1)].join('\n'), /outside the label schema/],
    ['a duplicate alias', () => [...goodLines, goodLines[0]].join('\n'), /duplicate alias ".+" \(first labelled on line 1\)/],
    ['missing aliases', () => goodLines.slice(2).join('\n'), /2 alias\(es\) have no label/],
    ['an empty file', () => '\n', /file is empty/],
  ];

  it.each(cases)('rejects %s with a clear per-line reason, keeps the raw file, and keeps the batch waiting', async (_name, body, reason) => {
    const text = body();
    const { uploadId, key, bytes } = await upload(text);
    const subs = await stack.deps.repo.listSubmissions(batch.batchId);
    const sub = subs.find((s) => s.uploadId === uploadId)!;
    expect(sub.status).toBe('rejected');
    expect(sub.problems.map((p) => (p.line ? `line ${p.line}: ` : '') + p.reason).join('\n')).toMatch(reason);
    // The raw upload is kept, byte for byte.
    const stored = await stack.deps.objects.getBytes(stack.deps.buckets.uploads, key);
    expect(Buffer.from(stored!).equals(Buffer.from(bytes))).toBe(true);
    // The vendor's report says why, and never carries gold answers.
    const report = await getUploadReport(stack.deps, { workforceId: batch.workforceId, batchId: batch.batchId, uploadId });
    expect(report.status).toBe('rejected');
    expect(JSON.stringify(report)).not.toMatch(/case-\d+|gold/);
    expect((await stack.deps.repo.getBatch(batch.batchId))!.status).toBe('awaiting-submission');
  });

  // Issue 7 finding 6: the checksum was hoisted into the query string and nothing checked it, so any bytes were stored.
  it('refuses a PUT whose body does not match the declared checksum (400 BadDigest) and stores nothing', async () => {
    const declared = enc(goodLines.join('\n'));
    const sent = enc(goodLines.join('\n').replace('"normal"', '"abnorm"'));
    expect(sent.length).toBe(declared.length);
    const slot = await requestUploadSlot(stack.deps, {
      workforceId: batch.workforceId,
      batchId: batch.batchId,
      sizeBytes: declared.length,
      sha256Hex: sha256Hex(declared),
    });
    const r = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body: sent });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/<Code>BadDigest<\/Code>/);
    await stack.ingestIdle();
    const key = `uploads/${batch.workforceId}/${batch.batchId}/${slot.uploadId}.jsonl`;
    expect(await stack.deps.objects.getBytes(stack.deps.buckets.uploads, key)).toBeUndefined();
    expect((await stack.deps.repo.listSubmissions(batch.batchId)).some((x) => x.uploadId === slot.uploadId)).toBe(false);
  });

  it('refuses a PUT that leaves out or changes a header the slot signed (403), and stores nothing', async () => {
    const body = enc(goodLines.join('\n'));
    const slot = await requestUploadSlot(stack.deps, {
      workforceId: batch.workforceId,
      batchId: batch.batchId,
      sizeBytes: body.length,
      sha256Hex: sha256Hex(body),
    });
    const without = (name: string) => Object.fromEntries(Object.entries(slot.headers).filter(([k]) => k !== name));
    for (const headers of [
      without('if-none-match'),
      without('x-amz-checksum-sha256'),
      { ...slot.headers, 'content-type': 'text/plain' },
      { ...slot.headers, 'x-amz-checksum-sha256': Buffer.from(sha256Hex(enc('other')), 'hex').toString('base64') },
    ]) {
      const r = await fetch(slot.url, { method: 'PUT', headers, body });
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    }
    // An x-amz header the URL did not sign is refused too.
    const extra = await fetch(slot.url, { method: 'PUT', headers: { ...slot.headers, 'x-amz-meta-note': 'hi' }, body });
    expect(extra.status).toBe(403);
    const key = `uploads/${batch.workforceId}/${batch.batchId}/${slot.uploadId}.jsonl`;
    expect(await stack.deps.objects.getBytes(stack.deps.buckets.uploads, key)).toBeUndefined();
  });

  it('scores a later good upload, once, even when its S3 event is delivered twice', async () => {
    const { key, uploadId } = await upload(goodLines.join('\n') + '\n');
    await stack.runner.finished(batch.batchId);
    const after = (await stack.deps.repo.getBatch(batch.batchId))!;
    expect(['accepted', 'rejected']).toContain(after.status);
    expect(after.acceptedUploadId).toBe(uploadId);
    const score = await stack.deps.repo.getScore(batch.batchId);
    expect(score?.goldN).toBe(batch.goldCount);

    const again = await stack.deliverUploadEvent(key);
    await stack.ingestIdle();
    expect(again).toEqual({ status: 'duplicate', uploadId });
    const ledger = (await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.subject === batch.batchId);
    expect(ledger.filter((e) => e.type === 'batch.scored')).toHaveLength(1);
    expect(ledger.filter((e) => e.type === 'submission.accepted')).toHaveLength(1);
    expect(ledger.filter((e) => e.type === 'labels.recorded')).toHaveLength(1);
    expect(stack.callbacks.calls.filter((c) => c.kind === 'success' && c.result === 'sent')).toHaveLength(1);
    const execution = stack.runner.executions.get(batch.batchId)!;
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.events.filter((e) => e.type === 'StateEntered' && e.state === 'ScoreSubmission')).toHaveLength(1);
  });

  it('refuses an upload slot once the batch is closed', async () => {
    await until('batch settled', async () => (await stack.deps.repo.getBatch(batch.batchId))!.status !== 'submitted');
    await expect(
      requestUploadSlot(stack.deps, { workforceId: batch.workforceId, batchId: batch.batchId, sizeBytes: 10, sha256Hex: 'a'.repeat(64) }),
    ).rejects.toThrow(/does not take uploads/);
  });
});

describe('Upload slots: write-once and bound to the declared bytes', () => {
  let stack: LocalStack;
  let batch: BatchRecord;
  let original: Uint8Array;
  let forged: Uint8Array;
  let slot: Awaited<ReturnType<typeof requestUploadSlot>>;
  let key: string;

  beforeAll(async () => {
    // The demo's single plan decides the batch within its round, so its labels are recorded from the ingested file.
    const open = await stackWithOpenRound({ cases: 120, seed: 5, acceptance: 'single-plan' });
    stack = open.stack;
    batch = open.batches.find((b) => b.workforceKind === 'vendor')!;
    const aliases = (await loadBatchKey(stack.deps, batch.batchId)).items.map((i) => i.alias);
    const file = (annotator: string) =>
      enc(`${aliases.map((alias) => JSON.stringify({ alias, label: 'normal', annotator })).join('\n')}\n`);
    original = file('ann-1');
    forged = file('ann-2');
    expect(forged.length).toBe(original.length);
    slot = await requestUploadSlot(stack.deps, {
      workforceId: batch.workforceId,
      batchId: batch.batchId,
      sizeBytes: original.length,
      sha256Hex: sha256Hex(original),
    });
    key = `uploads/${batch.workforceId}/${batch.batchId}/${slot.uploadId}.jsonl`;
  });
  afterAll(async () => stack?.stop());

  const stored = async () => Buffer.from((await stack.deps.objects.getBytes(stack.deps.buckets.uploads, key))!);
  /** A second PUT to the used slot URL: the same signed headers, another file of the same size. */
  const putAgain = async (body: Uint8Array) => {
    const r = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body });
    return { status: r.status, text: await r.text() };
  };

  // Issue 7 finding 6: re-uploading right after acceptance replaced the object, and ValidateSubmission failed the batch with an integrity error.
  it('refuses a second PUT to the slot right after acceptance (412); validation, scoring and the labels see the ingested file', async () => {
    const first = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body: original });
    expect(first.status).toBe(200);
    await stack.ingestIdle();
    expect((await stack.deps.repo.getBatch(batch.batchId))!.acceptedUploadId).toBe(slot.uploadId);

    const again = await putAgain(forged);
    expect(again.status).toBe(412);
    expect(again.text).toMatch(/<Code>PreconditionFailed<\/Code>/);
    expect((await stored()).equals(Buffer.from(original))).toBe(true);

    await stack.runner.finished(batch.batchId);
    const after = (await stack.deps.repo.getBatch(batch.batchId))!;
    expect(['accepted', 'rejected']).toContain(after.status);
    expect(stack.runner.executions.get(batch.batchId)!.status).toBe('SUCCEEDED');
    const labels = await stack.deps.repo.listBatchLabels(batch.batchId);
    expect(labels).toHaveLength(batch.itemCount);
    for (const l of labels) expect(l).toMatchObject({ submissionKey: key, submissionSha256: sha256Hex(original), annotatorId: 'ann-1' });
  });

  // Issue 7 finding 6: a same-size different file PUT after finalize returned 200 and replaced the file the labels' SHA-256 describes.
  it('refuses a second PUT to the slot after finalize (412), the same bytes or others, and the object and labels stay as ingested', async () => {
    expect((await putAgain(forged)).status).toBe(412);
    expect((await putAgain(original)).status).toBe(412);
    expect((await stored()).equals(Buffer.from(original))).toBe(true);
    await stack.ingestIdle();
    expect(stack.ingests.filter((i) => i.key === key)).toHaveLength(1);
    const labels = await stack.deps.repo.listBatchLabels(batch.batchId);
    expect(new Set(labels.map((l) => l.submissionSha256))).toEqual(new Set([sha256Hex(original)]));
  });

  it('serializes racing PUTs to one fresh slot: exactly one is stored, the others get 412', async () => {
    const other = (await stack.deps.repo.listRoundBatches(batch.programId, 1)).find(
      (b) => b.workforceKind === 'vendor' && b.batchId !== batch.batchId && b.status === 'awaiting-submission',
    )!;
    const body = enc('{"alias":"zzzzzzzzzzzz","label":"normal","annotator":"a"}\n');
    const race = await requestUploadSlot(stack.deps, { workforceId: other.workforceId, batchId: other.batchId, sizeBytes: body.length, sha256Hex: sha256Hex(body) });
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () => fetch(race.url, { method: 'PUT', headers: race.headers, body }).then((r) => r.status)),
    );
    expect(statuses.sort()).toEqual([200, 412, 412, 412]);
    await stack.ingestIdle();
  });
});

describe('SLA: a batch with no valid upload by its deadline', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];

  beforeAll(async () => {
    ({ stack, batches } = await stackWithOpenRound({ cases: 80, seed: 3 }));
  });
  afterAll(async () => stack?.stop());

  it('is marked overdue, its SLA miss recorded and its cases re-queued', async () => {
    const b = batches.find((x) => x.workforceKind === 'vendor')!;
    stack.clock.advance((b.slaHours + 1) * 3600 * 1000);
    stack.callbacks.expire();
    await stack.runner.finished(b.batchId);
    expect((await stack.deps.repo.getBatch(b.batchId))!.status).toBe('overdue');
    const ledger = await stack.deps.repo.listLedger(PROGRAM_ID);
    const miss = ledger.find((e) => e.type === 'batch.overdue' && e.subject === b.batchId);
    expect(miss?.reason).toMatch(/no valid submission within the SLA of 48 h/);
    const key = await loadBatchKey(stack.deps, b.batchId);
    const cases = await stack.deps.repo.listCases(PROGRAM_ID);
    const state = new Map(cases.map((c) => [c.caseId, c.state]));
    for (const i of key.items.filter((x) => !x.gold)) expect(state.get(i.caseId)).toBe('pending');
    expect(stack.runner.executions.get(b.batchId)!.status).toBe('SUCCEEDED');
  });
});
