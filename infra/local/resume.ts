/**
 * What the embedded stack loses when its process dies, and how a resume finds
 * it again from the store. In AWS, S3 events are redelivered and Step Functions
 * executions outlive any Lambda; locally both live in the process
 * (LOCAL-STACK.md), so after a crash:
 * - upload events are re-found by listing the uploads bucket for files whose
 *   ingest never finished, and delivered to IngestUpload again;
 * - batch executions are restarted at the state the batch record says the
 *   batch reached (every lifecycle step is idempotent).
 */
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import type { ProtocolVersion } from '../../functions/domain/index.js';
import { adjudicationIdFor } from '../../functions/use-cases/adjudication.js';
import { reportObject } from '../../functions/use-cases/batch-key.js';
import { batchExecutionInput } from '../../functions/use-cases/dispatch-round.js';
import type { BatchRecord, RoundRecord } from '../../functions/use-cases/ports.js';
import { findProtocol } from '../../functions/use-cases/protocol-ref.js';
import { UPLOAD_PREFIX } from '../definitions.js';
import type { LocalStack } from './stack.js';

/** Every key under a prefix (ListObjects v1: s3rver's v2 fails above 1,000 keys). */
async function listKeys(stack: LocalStack, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await stack.s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    if (!page.IsTruncated || keys.length === 0) return keys;
    marker = page.NextMarker ?? keys[keys.length - 1];
  }
}

/**
 * Upload files whose ingest did not finish: no submission record, a submission
 * still `received`, a valid one whose batch it claimed was never resumed with it
 * (the batch still `submitted`), or a rejected one without its report. Delivers
 * each to IngestUpload again (ingest is idempotent) and waits until all are
 * handled. Returns the keys delivered.
 */
export async function redeliverPendingUploads(stack: LocalStack): Promise<string[]> {
  const { repo, objects, buckets } = stack.deps;
  const pending: string[] = [];
  const byBatch = new Map<string, Awaited<ReturnType<typeof repo.listSubmissions>>>();
  for (const key of await listKeys(stack, buckets.uploads, UPLOAD_PREFIX)) {
    const m = /^uploads\/([^/]+)\/([^/]+)\/([^/]+)\.jsonl$/.exec(key);
    if (!m) continue; // not an upload slot key: ingest would ignore it
    const [, workforceId, batchId, uploadId] = m;
    if (!byBatch.has(batchId)) byBatch.set(batchId, await repo.listSubmissions(batchId));
    const s = byBatch.get(batchId)?.find((x) => x.uploadId === uploadId);
    const unfinished =
      !s ||
      s.status === 'received' ||
      (s.status === 'valid' && !s.callbackSentAt && (await repo.getBatch(batchId))?.status === 'submitted') ||
      (s.status === 'rejected' && !(await objects.getHead(buckets.exports, reportObject(workforceId, batchId, uploadId), 1)));
    if (unfinished) pending.push(key);
  }
  for (const key of pending) void stack.deliverUploadEvent(key);
  await stack.ingestIdle();
  return pending;
}

/**
 * The state a lost execution restarts at, read from the store: the batch's
 * status, whether it was finalized (`labels.recorded`), and its adjudication.
 * A step already done is not run again where running it again would undo a
 * later one (a re-finalize would revive labels an adjudication superseded).
 */
export async function redriveState(
  stack: LocalStack,
  b: BatchRecord,
  protocol: ProtocolVersion,
): Promise<{ startAt?: string; extra?: Record<string, unknown> }> {
  const { repo } = stack.deps;
  switch (b.status) {
    case 'planned':
    case 'awaiting-submission':
      return {}; // from the start: the manifest step skips work already done, the task parks again
    case 'overdue':
      return { startAt: 'MarkOverdue', extra: { timeout: { Error: 'States.Timeout', Cause: 'SLA missed (restarted after a stop)' } } };
    case 'failed':
      return { startAt: 'RecordFailure', extra: { error: { Error: 'ExecutionLost', Cause: 'restarted after a stop' } } };
    case 'submitted':
      return { startAt: 'ValidateSubmission' };
    case 'inconclusive':
      // Held: CompleteBatch finds it settled and rebalances (settled for its round); a later decision settles it.
      return { startAt: 'CompleteBatch', extra: { score: { verdict: 'inconclusive' } } };
    case 'accepted':
    case 'rejected': {
      // Finalize appends `labels.recorded` (and `cases.requeued`) before it writes the labels and the
      // case states: it is done once all are there — a case the events name still assigned to this batch is not.
      const recorded = await repo.getLedgerEvent(b.programId, `${b.batchId}:labels`);
      if (recorded?.type !== 'labels.recorded' || (await repo.listBatchLabels(b.batchId)).length < recorded.data.labels) {
        return { startAt: 'ValidateSubmission' };
      }
      const requeued = await repo.getLedgerEvent(b.programId, `${b.batchId}:requeued`);
      const named = new Set([...recorded.data.caseIds, ...(requeued?.type === 'cases.requeued' ? requeued.data.caseIds : [])]);
      // Those cases only, not the program's case list (read per redriven batch, that grew with the program times the round).
      const cases = await Promise.all([...named].map((id) => repo.getCase(b.programId, id)));
      if (cases.some((c) => c?.state === 'assigned' && c.batchId === b.batchId)) {
        return { startAt: 'ValidateSubmission' };
      }
      const adjudicationId = adjudicationIdFor(b.batchId);
      const a = await repo.getAdjudication(adjudicationId);
      // CompleteBatch finds it settled and finalized, and checks agreement: opens the adjudication, or parks on the open one again.
      if (!a || a.status === 'open') return { startAt: 'CompleteBatch', extra: { score: { verdict: b.status } } };
      const agreement = { needed: a.needs.length, adjudicationId, timeoutSeconds: Math.round(protocol.adjudication.slaHours * 3600) };
      return { startAt: a.status === 'decided' ? 'ApplyAdjudication' : 'ExpireAdjudication', extra: { agreement } };
    }
  }
}

/**
 * Restarts the executions of a round's batches that were lost with the process:
 * every batch not yet settled in its round, at the state its status says it
 * reached; and, when every batch settled but the round's rebalancing did not
 * finish (no shares for the next round), the last step of one of them.
 * Returns the batch ids restarted.
 */
export async function redriveRound(stack: LocalStack, round: RoundRecord): Promise<string[]> {
  const { repo } = stack.deps;
  const settled = new Set(round.settledBatchIds);
  const restarted: string[] = [];
  const start = async (b: BatchRecord, startAt: string | undefined, extra: Record<string, unknown> = {}) => {
    if (stack.runner.executions.has(b.batchId)) return; // running (or ran) in this process
    const protocol = await findProtocol(stack.deps, b.protocol);
    if (!protocol) throw new Error(`protocol ${b.protocol} of batch ${b.batchId} not found`);
    await stack.runner.startBatch(b.batchId, { ...batchExecutionInput(b, protocol), ...extra }, { startAt });
    restarted.push(b.batchId);
  };
  const batches: BatchRecord[] = [];
  for (const id of round.batchIds) {
    const b = await repo.getBatch(id);
    if (!b) throw new Error(`round ${round.round} lists batch ${id}, which has no batch record: reconcile the round first`);
    batches.push(b);
  }
  for (const b of batches) {
    if (settled.has(b.batchId)) continue;
    const protocol = await findProtocol(stack.deps, b.protocol);
    if (!protocol) throw new Error(`protocol ${b.protocol} of batch ${b.batchId} not found`);
    const { startAt, extra } = await redriveState(stack, b, protocol);
    await start(b, startAt, extra);
  }
  const last = batches[batches.length - 1];
  if (last && batches.every((b) => settled.has(b.batchId)) && !(await repo.getShares(round.programId, round.protocolId, round.round + 1))) {
    await start(last, 'Rebalance');
  }
  return restarted;
}
