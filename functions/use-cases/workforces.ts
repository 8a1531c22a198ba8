/**
 * A PM's view and changes of a program's workforces: terms (price, capacity,
 * SLA, qualifications) and pause / resume. Every change is recorded in the
 * ledger with who made it and what it was before. Status earned by quality
 * (probation, suspension) stays the rebalancer's: a pause is apart from it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, type LedgerEventInput, type LedgerEventOf, type Workforce, workforceTermsFromLedger } from '../domain/index.js';
import { NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps, WorkforceTermsPatch } from './ports.js';
import { currentProtocolRef } from './quarantine.js';
import { parse } from './work-queries.js';

export const ListWorkforcesInput = z.strictObject({ programId: Identifier });

/** A workforce as a PM sees it (without the gold history dispatch keeps). */
export type WorkforceView = Pick<
  Workforce,
  'workforceId' | 'kind' | 'name' | 'capacityPerRound' | 'pricePerCase' | 'slaHours' | 'qualifications' | 'status' | 'paused'
>;

const view = (w: Workforce): WorkforceView => ({
  workforceId: w.workforceId,
  kind: w.kind,
  name: w.name,
  capacityPerRound: w.capacityPerRound,
  pricePerCase: w.pricePerCase,
  slaHours: w.slaHours,
  qualifications: w.qualifications,
  status: w.status,
  paused: w.paused,
});

/** The program's workforces, by id. */
export async function listWorkforces(deps: Deps, input: z.input<typeof ListWorkforcesInput>): Promise<{ items: WorkforceView[] }> {
  const req = parse(ListWorkforcesInput, input);
  const items = (await deps.repo.listWorkforces(req.programId)).sort((a, b) => a.workforceId.localeCompare(b.workforceId));
  return { items: items.map(view) };
}

export const WorkforcePatch = z
  .strictObject({
    pricePerCase: z.number().finite().min(0).max(1_000_000).optional(),
    capacityPerRound: z.number().int().min(0).max(1_000_000).optional(),
    slaHours: z.number().positive().max(24 * 365).optional(),
    qualifications: z.array(Identifier).max(50).optional(),
    /** `paused`: no new work from the next round on; `active`: resumed. */
    status: z.enum(['active', 'paused']).optional(),
    /** Why (recorded with a pause or resume; issue 13, manual control). */
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .refine(
    ({ reason: _why, ...p }) => Object.values(p).some((v) => v !== undefined),
    'name at least one of pricePerCase, capacityPerRound, slaHours, qualifications, status',
  );

export const ChangeWorkforceInput = z.strictObject({
  programId: Identifier,
  workforceId: Identifier,
  patch: WorkforcePatch,
  /** `<role>:<name>` from the caller's token. */
  actor: z.string().min(1).max(200),
});

export interface WorkforceChange {
  workforce: WorkforceView;
  /** What changed, from → to (empty: the patch changed nothing, and nothing was recorded). */
  changes: Record<string, { from: unknown; to: unknown }>;
  /** Ledger events appended. */
  events: string[];
}

/**
 * Changes a workforce's terms or pauses / resumes it. Only what differs is
 * written (a targeted update: dispatch and rebalance write other fields of the
 * same item meanwhile) and recorded: `workforce.changed` for terms,
 * `workforce.paused` / `workforce.resumed` for a pause. The events come first
 * (the commit point), the item update after: a crash between them leaves the
 * change in the ledger, and the next change of this workforce writes it too.
 *
 * @example await changeWorkforce(deps, { programId: 'demo-cxr', workforceId: 'vendor-b', patch: { status: 'paused' }, actor: 'pm:alice' })
 */
export async function changeWorkforce(deps: Deps, input: z.input<typeof ChangeWorkforceInput>): Promise<WorkforceChange> {
  const req = parse(ChangeWorkforceInput, input);
  const current = (await deps.repo.listWorkforces(req.programId)).find((w) => w.workforceId === req.workforceId);
  if (!current) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  const { status, reason, ...terms } = req.patch;
  const wanted: WorkforceTermsPatch = { ...terms, ...(status ? { paused: status === 'paused' } : {}) };
  const { changes, events, write } = await recordWorkforceTerms(deps, req.programId, current, wanted, req.actor, reason);
  if (Object.keys(write).length === 0) return { workforce: view(current), changes, events };
  const updated = await deps.repo.updateWorkforceTerms(req.programId, req.workforceId, write);
  if (!updated) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  return { workforce: view(updated), changes, events };
}

const TERMS = ['pricePerCase', 'capacityPerRound', 'slaHours', 'qualifications', 'paused'] as const;

/**
 * The ledger half of a change of terms (the one rule for writes: the event is
 * the commit point, the item follows). Compares what is wanted with the terms
 * as the ledger states them (a change whose item update was lost counts as
 * made), appends `workforce.changed` and / or `workforce.paused` /
 * `workforce.resumed` for what differs, and returns every field the stored item
 * must be given: the new changes and any earlier one it misses. The caller
 * writes them after this returns.
 */
export async function recordWorkforceTerms(
  deps: Deps,
  programId: string,
  stored: Workforce,
  wanted: WorkforceTermsPatch,
  actor: string,
  /** The PM's reason for a pause or resume, recorded in its event. */
  why?: string,
): Promise<{ changes: WorkforceChange['changes']; events: string[]; write: WorkforceTermsPatch }> {
  const w = stored.workforceId;
  const ledger = await deps.repo.listLedger(programId);
  const target: WorkforceTermsPatch = { ...workforceTermsFromLedger(ledger, w) };
  const effective: WorkforceTermsPatch = Object.fromEntries(TERMS.map((k) => [k, target[k] ?? stored[k]]));
  if (wanted.qualifications) wanted = { ...wanted, qualifications: [...new Set(wanted.qualifications)].sort() };
  const termChanges: LedgerEventOf<'workforce.changed'>['data']['changes'] = {};
  for (const k of ['pricePerCase', 'capacityPerRound', 'slaHours'] as const) {
    const to = wanted[k];
    const from = effective[k];
    if (to !== undefined && from !== undefined && from !== to) termChanges[k] = { from, to };
  }
  const q = wanted.qualifications;
  if (q && effective.qualifications && !same(effective.qualifications, q)) termChanges.qualifications = { from: effective.qualifications, to: q };
  const pause = wanted.paused !== undefined && wanted.paused !== effective.paused ? { from: effective.paused === true, to: wanted.paused } : undefined;
  const changes: WorkforceChange['changes'] = { ...termChanges, ...(pause ? { paused: pause } : {}) };
  Object.assign(target, Object.fromEntries(Object.entries(changes).map(([k, c]) => [k, c.to])));

  const events: LedgerEventInput[] = [];
  if (Object.keys(changes).length > 0) {
    const at = deps.clock.now().toISOString();
    const protocol = (await currentProtocolRef(deps, programId)) ?? '';
    const id = (kind: string) =>
      `${programId}:workforce:${w}:${kind}:${createHash('sha256').update(JSON.stringify([at, actor, changes])).digest('hex').slice(0, 16)}`;
    if (Object.keys(termChanges).length > 0) {
      events.push({
        eventId: id('changed'),
        programId,
        type: 'workforce.changed',
        actor,
        protocol,
        subject: w,
        reason: Object.entries(termChanges)
          .map(([k, c]) => `${k} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
          .join('; '),
        data: { workforceId: w, changes: termChanges },
      });
    }
    if (pause) {
      const state = (p: boolean) => (p ? 'paused' : 'active');
      events.push({
        eventId: id(pause.to ? 'paused' : 'resumed'),
        programId,
        type: pause.to ? 'workforce.paused' : 'workforce.resumed',
        actor,
        protocol,
        subject: w,
        reason: (pause.to ? 'paused by a PM: no new work until resumed' : 'resumed by a PM') + (why ? `: ${why}` : ''),
        data: { workforceId: w, from: state(pause.from), to: state(pause.to) },
      });
    }
  }
  // The commit point: once these are in the ledger, the item follows (now, or on the next change).
  for (const e of events) await record(deps, e);
  const write: WorkforceTermsPatch = Object.fromEntries(
    TERMS.filter((k) => target[k] !== undefined && !same(stored[k], target[k])).map((k) => [k, target[k]]),
  );
  return { changes, events: events.map((e) => e.eventId), write };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
