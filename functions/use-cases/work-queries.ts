/**
 * Queries on work: a workforce's own batches (vendors and internal experts),
 * a round's status, and a program's batches with their scores (PMs, QA leads).
 * Read-only; pages are cursor-paginated (cursor.ts).
 */
import { z } from 'zod';
import { type BatchScore, Identifier } from '../domain/index.js';
import { Cursor, PageLimit, encodeCursor, pageRequest } from './cursor.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import type { BatchRecord, Deps, PageKey } from './ports.js';

export const ListWorkforceBatchesInput = z.strictObject({
  /** From the caller's token, never from the request. */
  workforceId: Identifier,
  cursor: Cursor.optional(),
  limit: PageLimit.optional(),
});

/** A batch as the workforce that labels it sees it: no gold count, no case ids. */
export interface WorkBatchSummary {
  batchId: string;
  status: string;
  protocol: string;
  round: number;
  items: number;
  createdAt: string;
  slaDeadline?: string;
}

export interface PageResult<T> {
  items: T[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

/**
 * The caller's own batches, newest first, across programs. Only batches whose
 * workforce is the caller's are listed; a cursor from another workforce's
 * listing is refused.
 *
 * @example await listWorkforceBatches(deps, { workforceId: 'vendor-a', limit: 20 })
 */
export async function listWorkforceBatches(
  deps: Deps,
  input: z.input<typeof ListWorkforceBatchesInput>,
): Promise<PageResult<WorkBatchSummary>> {
  const req = parse(ListWorkforceBatchesInput, input);
  const page = await deps.repo.listWorkforceBatches(req.workforceId, pageRequest(req));
  return {
    items: page.items.map((b) => ({
      batchId: b.batchId,
      status: b.status,
      protocol: b.protocol,
      round: b.round,
      items: b.itemCount,
      createdAt: b.createdAt,
      ...(b.slaDeadline ? { slaDeadline: b.slaDeadline } : {}),
    })),
    ...(page.next ? { next: encodeCursor(page.next) } : {}),
  };
}

export const RoundStatusInput = z.strictObject({ programId: Identifier, round: z.coerce.number().int().min(1).max(100_000) });

export interface RoundStatus {
  programId: string;
  round: number;
  protocolId: string;
  createdAt: string;
  batches: { batchId: string; workforceId: string; status: string; items: number; gold: number; slaDeadline?: string }[];
  /** Batches per status. */
  byStatus: Record<string, number>;
  settled: number;
  /** Every batch of the round has settled (accepted, rejected, overdue or failed, and rebalanced). */
  complete: boolean;
}

/** A round's batches and how far each has come. */
export async function getRoundStatus(deps: Deps, input: z.input<typeof RoundStatusInput>): Promise<RoundStatus> {
  const req = parse(RoundStatusInput, input);
  const round = await deps.repo.getRound(req.programId, req.round);
  if (!round) throw new NotFoundError(`round ${req.round} of program ${req.programId} not found`);
  const batches = (await deps.repo.listRoundBatches(req.programId, req.round)).sort((a, b) => a.batchId.localeCompare(b.batchId));
  const byStatus: Record<string, number> = {};
  for (const b of batches) byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
  const settled = new Set(round.settledBatchIds);
  return {
    programId: round.programId,
    round: round.round,
    protocolId: round.protocolId,
    createdAt: round.createdAt,
    batches: batches.map((b) => ({
      batchId: b.batchId,
      workforceId: b.workforceId,
      status: b.status,
      items: b.itemCount,
      gold: b.goldCount,
      ...(b.slaDeadline ? { slaDeadline: b.slaDeadline } : {}),
    })),
    byStatus,
    settled: round.batchIds.filter((id) => settled.has(id)).length,
    complete: round.batchIds.every((id) => settled.has(id)),
  };
}

export const ListProgramBatchesInput = z.strictObject({
  programId: Identifier,
  round: z.coerce.number().int().min(1).max(100_000).optional(),
  cursor: Cursor.optional(),
  limit: PageLimit.optional(),
});

/** A batch with its score against hidden gold (absent until scored). */
export interface ScoredBatch {
  batchId: string;
  round: number;
  protocol: string;
  workforceId: string;
  workforceKind: 'internal' | 'vendor';
  status: string;
  items: number;
  gold: number;
  createdAt: string;
  score?: Pick<BatchScore, 'goldN' | 'goldCorrect' | 'accuracy' | 'interval' | 'kappa' | 'summary' | 'verdict' | 'notes' | 'items'>;
}

/**
 * A program's batches with their scores (accuracy, Wilson interval, κ, per-gold-item
 * results), round by round, by batch id within a round. With `round`: that round only.
 */
export async function listProgramBatches(
  deps: Deps,
  input: z.input<typeof ListProgramBatchesInput>,
): Promise<PageResult<ScoredBatch>> {
  const req = parse(ListProgramBatchesInput, input);
  const { limit, after } = pageRequest(req);
  const rounds = (await deps.repo.listRounds(req.programId)).map((r) => r.round).filter((r) => req.round === undefined || r === req.round);
  // The cursor carries the round it stopped in (`r`) beside the store's key.
  let round = rounds[0];
  let start: PageKey | undefined;
  if (after) {
    const { r, ...rest } = after;
    if (typeof r !== 'number' || !rounds.includes(r)) throw new InvalidInputError('cursor: not a cursor of this listing');
    round = r;
    start = Object.keys(rest).length ? rest : undefined;
  }
  const batches: BatchRecord[] = [];
  let next: PageKey | undefined;
  for (let i = rounds.indexOf(round); round !== undefined && i >= 0 && i < rounds.length; ) {
    const page = await deps.repo.listRoundBatchesPage(req.programId, round, { limit: limit - batches.length, ...(start ? { after: start } : {}) });
    batches.push(...page.items);
    if (page.next) {
      next = { ...page.next, r: round };
      break;
    }
    i += 1;
    round = rounds[i];
    start = undefined;
    if (round !== undefined && batches.length >= limit) {
      next = { r: round };
      break;
    }
  }
  const scores = await Promise.all(batches.map((b) => deps.repo.getScore(b.batchId)));
  return {
    items: batches.map((b, i) => {
      const s = scores[i];
      return {
        batchId: b.batchId,
        round: b.round,
        protocol: b.protocol,
        workforceId: b.workforceId,
        workforceKind: b.workforceKind,
        status: b.status,
        items: b.itemCount,
        gold: b.goldCount,
        createdAt: b.createdAt,
        ...(s
          ? {
              score: {
                goldN: s.goldN,
                goldCorrect: s.goldCorrect,
                accuracy: s.accuracy,
                interval: s.interval,
                kappa: s.kappa,
                summary: s.summary,
                verdict: s.verdict,
                notes: s.notes,
                items: s.items,
              },
            }
          : {}),
      };
    }),
    ...(next ? { next: encodeCursor(next) } : {}),
  };
}

/** Parses a use case's input; a refusal names each field. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw new InvalidInputError(r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return r.data;
}
