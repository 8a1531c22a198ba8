/**
 * A PM's view and changes of a program's workforces: terms (price, capacity,
 * SLA, qualifications) and pause / resume. Every change is recorded in the
 * ledger with who made it and what it was before. Status earned by quality
 * (probation, suspension) stays the rebalancer's: a pause is apart from it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, type LedgerEvent, type Workforce } from '../domain/index.js';
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
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'name at least one of pricePerCase, capacityPerRound, slaHours, qualifications, status');

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
 * `workforce.paused` / `workforce.resumed` for a pause.
 *
 * @example await changeWorkforce(deps, { programId: 'demo-cxr', workforceId: 'vendor-b', patch: { status: 'paused' }, actor: 'pm:alice' })
 */
export async function changeWorkforce(deps: Deps, input: z.input<typeof ChangeWorkforceInput>): Promise<WorkforceChange> {
  const req = parse(ChangeWorkforceInput, input);
  const current = (await deps.repo.listWorkforces(req.programId)).find((w) => w.workforceId === req.workforceId);
  if (!current) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  const { status, ...terms } = req.patch;
  const wanted: WorkforceTermsPatch = { ...terms, ...(status ? { paused: status === 'paused' } : {}) };
  if (wanted.qualifications) wanted.qualifications = [...new Set(wanted.qualifications)].sort();
  const changes: WorkforceChange['changes'] = {};
  for (const [k, to] of Object.entries(wanted) as [keyof WorkforceTermsPatch, unknown][]) {
    const from = current[k];
    if (to !== undefined && JSON.stringify(from) !== JSON.stringify(to)) changes[k] = { from, to };
  }
  if (Object.keys(changes).length === 0) return { workforce: view(current), changes, events: [] };
  const patch = Object.fromEntries(Object.entries(changes).map(([k, c]) => [k, c.to])) as WorkforceTermsPatch;
  const updated = await deps.repo.updateWorkforceTerms(req.programId, req.workforceId, patch);
  if (!updated) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);

  const at = deps.clock.now().toISOString();
  const protocol = (await currentProtocolRef(deps, req.programId)) ?? '';
  const id = (kind: string) =>
    `${req.programId}:workforce:${req.workforceId}:${kind}:${createHash('sha256').update(JSON.stringify([at, req.actor, changes])).digest('hex').slice(0, 16)}`;
  const events: Omit<LedgerEvent, 'at'>[] = [];
  const { paused, ...termChanges } = changes;
  if (Object.keys(termChanges).length > 0) {
    events.push({
      eventId: id('changed'),
      programId: req.programId,
      type: 'workforce.changed',
      actor: req.actor,
      protocol,
      subject: req.workforceId,
      reason: Object.entries(termChanges)
        .map(([k, c]) => `${k} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
        .join('; '),
      data: { workforceId: req.workforceId, changes: termChanges },
    });
  }
  if (paused) {
    events.push({
      eventId: id(paused.to ? 'paused' : 'resumed'),
      programId: req.programId,
      type: paused.to ? 'workforce.paused' : 'workforce.resumed',
      actor: req.actor,
      protocol,
      subject: req.workforceId,
      reason: paused.to ? 'paused by a PM: no new work until resumed' : 'resumed by a PM',
      data: { workforceId: req.workforceId, from: paused.from ? 'paused' : 'active', to: paused.to ? 'paused' : 'active' },
    });
  }
  for (const e of events) await record(deps, e);
  return { workforce: view(updated), changes, events: events.map((e) => e.eventId) };
}

