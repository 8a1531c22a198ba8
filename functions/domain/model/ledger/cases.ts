/** Ledger events of protocols, cases and round plans. */
import { z } from 'zod';
import { count, ids, ledgerKind } from './base.js';

/** The de-identification gate's verdict on one ingested case. */
export const IngestVerdict = z.object({
  caseId: z.string(),
  /** clear: no finding; quarantined: held from vendors (with `findings` of them); attested: passed on a PM's attestation instead of an inspection. */
  verdict: z.enum(['clear', 'quarantined', 'attested']),
  findings: count(),
});
export type IngestVerdict = z.infer<typeof IngestVerdict>;

export const caseEvents = [
  ledgerKind('protocol.registered', {
    protocolId: z.string(),
    version: z.number().int().min(1),
    taskType: z.enum(['classification', 'detection', 'segmentation']),
    /** SHA-256 hex of the version's canonical JSON: what exactly was registered. */
    sha256: z.string(),
  }),
  ledgerKind('cases.ingested', {
    /** The API ingest it came from (absent for a setup ingest). */
    ingestId: z.string().optional(),
    /** Cases stored by this ingest (new to the program). */
    cases: ids(),
    /** Of those, the ones the gate holds from vendors. */
    gated: ids(),
    /** API ingest: cases whose image was not uploaded yet. */
    awaitingImage: ids().optional(),
    verdicts: z.array(IngestVerdict),
    /** A large ingest is recorded in chunks (each event fits DynamoDB's item limit): this event's, 0-based, of `chunks` (absent: one event). */
    chunk: count().optional(),
    chunks: z.number().int().min(1).optional(),
  }),
  ledgerKind('case.quarantine-released', {
    caseId: z.string(),
    imageKey: z.string(),
    overrides: z.array(z.string()),
    goldPool: z.boolean(),
    mayReachVendors: z.boolean(),
  }),
  ledgerKind('case.image-replaced', {
    caseId: z.string(),
    from: z.string(),
    to: z.string(),
    sha256: z.string(),
    findings: z.array(z.string()),
    quarantined: z.boolean(),
  }),
  ledgerKind('case.format-attested', { caseId: z.string(), imageKey: z.string(), uninspected: z.array(z.string()) }),
  ledgerKind('case.assigned', { caseId: z.string(), workforceId: z.string(), previous: z.string().optional() }),
  ledgerKind('round.planned', {
    round: count(),
    /** Rounds planned before chunking: the round's batches, listed here (an event that grew with the round). */
    batches: z.array(z.object({ batchId: z.string(), workforceId: z.string(), items: count(), gold: count() })).optional(),
    /** Real cases per workforce, and excluded / deferred / overlap / overflow counts. */
    routing: z.record(z.string(), count()),
    /** The plan as chunks (functions/use-cases/plan-round.ts): batches, items and gold items in all, the chunk count and the plan's SHA-256 (of its chunks' digests); each batch is in its `batch.dispatched`. */
    batchCount: count().optional(),
    items: count().optional(),
    gold: count().optional(),
    chunks: count().optional(),
    planSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
] as const;
