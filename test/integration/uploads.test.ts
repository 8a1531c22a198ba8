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
    const open = await stackWithOpenRound({ cases: 120 });
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

  it('rejects a file whose bytes differ from the size and SHA-256 declared for the slot', async () => {
    const declared = enc(goodLines.join('\n'));
    const sent = enc(goodLines.join('\n').replace('"normal"', '"abnorm"'));
    const slot = await requestUploadSlot(stack.deps, {
      workforceId: batch.workforceId,
      batchId: batch.batchId,
      sizeBytes: declared.length,
      sha256Hex: sha256Hex(declared),
    });
    // The local S3 does not check signatures (real S3 would refuse this PUT).
    const r = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body: sent });
    expect(r.status).toBe(200);
    await stack.ingestIdle();
    const sub = (await stack.deps.repo.listSubmissions(batch.batchId)).find((s) => s.uploadId === slot.uploadId)!;
    expect(sub.status).toBe('rejected');
    expect(sub.problems[0].reason).toMatch(/SHA-256 [0-9a-f]{64} differs from the declared/);
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
