/**
 * Statements: what Goldline owes a workforce for a period, folded from the
 * ledger (functions/domain/statements.ts), issued (stored with its ledger
 * anchor and recorded), and checked against the ledger again.
 *
 * Issue — primary course:
 * 1. Read the program's ledger; its last event is the anchor.
 * 2. Fold the statement for the workforce and period.
 * 3. Store it in the exports bucket, write-once, keyed by the SHA-256 of its
 *    content (the anchor apart): the same lines are the same object.
 * 4. Append `statement.issued` (deterministic id from the content): the
 *    commit point. A crash between 3 and 4 is finished by a retry, which finds
 *    the object (and keeps the anchor stored in it) and appends the event.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, type ChainedLedgerEvent, frontierOf, type LedgerFrontier, withinFrontier, type LedgerEventOf, type Statement, STATEMENT_CSV_HEADER, statementCsvRows, statementFromLedger, statementIdOf, toCsv } from '../domain/index.js';
import { InvalidInputError, IntegrityError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';

export const StatementPeriod = z
  .object({
    from: z.iso.datetime().describe('Start of the period (inclusive), ISO 8601 UTC'),
    to: z.iso.datetime().describe('End of the period (exclusive), ISO 8601 UTC'),
  })
  .refine((p) => Date.parse(p.to) > Date.parse(p.from), { message: 'to must be after from', path: ['to'] });

/** A statement as stored: the fold and the ledger event it was folded up to. */
export interface IssuedStatement {
  statementId: string;
  statement: Statement;
  anchor: { seq: number; hash: string; frontier?: LedgerFrontier };
}

/** The stored object, parsed at the boundary (the statement's own shape is the fold's). */
const IssuedStatementObject = z.object({
  statementId: z.string(),
  statement: z.custom<Statement>((v) => typeof v === 'object' && v !== null && Array.isArray((v as { lines?: unknown }).lines), 'a statement with lines'),
  anchor: z.object({ seq: z.number().int().min(0), hash: z.string(), frontier: z.record(z.string(), z.number().int().min(0)).optional() }),
});

export type StatementIssuedEvent = LedgerEventOf<'statement.issued'>;

const sha256Hex = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

async function requireWorkforce(deps: Deps, programId: string, workforceId: string, period: { from: string; to: string }): Promise<void> {
  const p = StatementPeriod.safeParse(period);
  if (!p.success) throw new InvalidInputError(`invalid period: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (!(await deps.repo.listWorkforces(programId)).some((w) => w.workforceId === workforceId)) {
    throw new NotFoundError(`no statement: workforce ${workforceId} is not registered in program ${programId}`);
  }
}

/**
 * The statement as the ledger gives it now (not stored).
 *
 * @example await previewStatement(deps, { programId: 'demo-cxr', workforceId: 'vendor-a', from, to })
 */
export async function previewStatement(deps: Deps, input: { programId: string; workforceId: string; from: string; to: string }): Promise<Statement> {
  await requireWorkforce(deps, input.programId, input.workforceId, input);
  return statementFromLedger(await deps.repo.listLedger(input.programId), input);
}

/** Issues (stores and records) a workforce's statement for a period; the same lines again answer the stored one. */
export async function issueStatement(
  deps: Deps,
  input: { programId: string; workforceId: string; from: string; to: string; actor: string },
): Promise<{ issued: StatementIssuedEvent; statement: IssuedStatement; created: boolean }> {
  await requireWorkforce(deps, input.programId, input.workforceId, input);
  const events = await deps.repo.listLedger(input.programId);
  const last = events.at(-1);
  if (!last) throw new InvalidInputError(`program ${input.programId} has an empty ledger: nothing to state`);
  const statement = statementFromLedger(events, input);
  const contentSha = sha256Hex(canonicalJson(statement));
  const statementId = statementIdOf(input.workforceId, input.from, input.to);
  const key = `statements/${input.programId}/${input.workforceId}/${input.from}_${input.to}/${contentSha.slice(0, 16)}.json`;
  const eventId = `${input.programId}:statement:${statementId}:${contentSha.slice(0, 16)}`;
  const done = await deps.repo.getLedgerEvent(input.programId, eventId);
  if (done?.type === 'statement.issued') return { issued: done, statement: await readIssued(deps, done), created: false };

  // The anchor: the events read (their count and the last one's hash, in ledger time order) and the
  // frontier — the last seq read of each chain — which picks exactly those events again even if an
  // event lands later in an earlier place of the merged order (docs/data-model.md, sharded ledger).
  const fresh: IssuedStatement = { statementId, statement, anchor: { seq: events.length, hash: last.hash, frontier: frontierOf(events) } };
  const put = await deps.objects.putOnce(deps.buckets.exports, key, new TextEncoder().encode(canonicalJson(fresh)), 'application/json');
  // Written before a crash: keep the anchor it was stored with.
  const stored = put === 'exists' ? await readObject(deps, key) : { bytes: new TextEncoder().encode(canonicalJson(fresh)), value: fresh };
  await record(deps, {
    eventId,
    programId: input.programId,
    type: 'statement.issued',
    actor: input.actor,
    protocol: '',
    subject: input.workforceId,
    reason: `statement for ${input.from} … ${input.to}: ${statement.lines.length} line(s), total ${statement.totals.totalCents} cents, pending ${statement.totals.pendingCents} cents`,
    data: {
      statementId,
      workforceId: input.workforceId,
      from: input.from,
      to: input.to,
      key,
      sha256: sha256Hex(stored.bytes),
      currency: statement.currency,
      totalCents: statement.totals.totalCents,
      pendingCents: statement.totals.pendingCents,
      lines: statement.lines.length,
      anchor: stored.value.anchor,
    },
  });
  const issued = await deps.repo.getLedgerEvent(input.programId, eventId);
  if (issued?.type !== 'statement.issued') throw new IntegrityError(`statement ${statementId} was recorded but cannot be read back`);
  return { issued, statement: stored.value, created: true };
}

/** Issued statements of a program (one workforce's when given), oldest first. */
export async function listIssuedStatements(deps: Deps, programId: string, workforceId?: string): Promise<StatementIssuedEvent[]> {
  return (await deps.repo.listLedger(programId)).filter(
    (e): e is ChainedLedgerEvent & StatementIssuedEvent => e.type === 'statement.issued' && (!workforceId || e.data.workforceId === workforceId),
  );
}

/** The latest issued statement of a workforce for a period (404 when none was issued). */
export async function showIssuedStatement(
  deps: Deps,
  input: { programId: string; workforceId: string; from: string; to: string },
): Promise<{ issued: StatementIssuedEvent; statement: IssuedStatement }> {
  const id = statementIdOf(input.workforceId, input.from, input.to);
  const issued = (await listIssuedStatements(deps, input.programId, input.workforceId)).filter((e) => e.data.statementId === id).at(-1);
  if (!issued) throw new NotFoundError(`no statement was issued to ${input.workforceId} for ${input.from} … ${input.to}`);
  return { issued, statement: await readIssued(deps, issued) };
}

/** A statement as CSV (stable header, amounts in integer cents). */
export function statementCsv(s: Statement): string {
  return toCsv(STATEMENT_CSV_HEADER, statementCsvRows(s));
}

/** One issued statement checked against the ledger. */
export interface StatementCheck {
  statementId: string;
  eventId: string;
  /** The stored object's SHA-256 is the one recorded, and the ledger still holds its anchor event. */
  hashMatches: boolean;
  /** Folding the ledger up to the anchor gives the stored statement, to the cent. */
  recomputedMatches: boolean;
  storedTotalCents: number;
  recomputedTotalCents: number;
}

/**
 * Recomputes every issued statement of a program from the ledger up to its
 * anchor and compares it with the stored one (every line and total, in cents).
 */
export async function recomputeStatements(deps: Deps, programId: string): Promise<StatementCheck[]> {
  const events = await deps.repo.listLedger(programId);
  const out: StatementCheck[] = [];
  for (const e of events) {
    if (e.type !== 'statement.issued') continue;
    const obj = await deps.objects.getBytes(deps.buckets.exports, e.data.key);
    if (!obj) throw new NotFoundError(`statement ${e.data.statementId}: object ${e.data.key} is missing`);
    const stored = IssuedStatementObject.parse(JSON.parse(new TextDecoder().decode(obj)));
    const { frontier } = stored.anchor;
    const upTo = frontier ? events.filter((x) => withinFrontier(x, frontier)) : events.slice(0, stored.anchor.seq);
    const again = statementFromLedger(upTo, { programId, workforceId: e.data.workforceId, from: e.data.from, to: e.data.to });
    out.push({
      statementId: e.data.statementId,
      eventId: e.eventId,
      hashMatches: sha256Hex(obj) === e.data.sha256 && upTo.length === stored.anchor.seq && upTo.some((x) => x.hash === stored.anchor.hash),
      recomputedMatches: canonicalJson(again) === canonicalJson(stored.statement),
      storedTotalCents: stored.statement.totals.totalCents,
      recomputedTotalCents: again.totals.totalCents,
    });
  }
  return out;
}

async function readIssued(deps: Deps, e: StatementIssuedEvent): Promise<IssuedStatement> {
  const { bytes, value } = await readObject(deps, e.data.key);
  if (sha256Hex(bytes) !== e.data.sha256) throw new IntegrityError(`statement ${e.data.statementId}: the stored object does not match its recorded SHA-256`);
  return value;
}

async function readObject(deps: Deps, key: string): Promise<{ bytes: Uint8Array; value: IssuedStatement }> {
  const bytes = await deps.objects.getBytes(deps.buckets.exports, key);
  if (!bytes) throw new NotFoundError(`statement object ${key} is missing`);
  return { bytes, value: IssuedStatementObject.parse(JSON.parse(new TextDecoder().decode(bytes))) };
}
