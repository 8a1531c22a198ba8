/**
 * Share proposals (rebalancing mode `approval`): the rebalancer proposes the next
 * round's vendor shares; a PM lists them and approves (`approveShares`,
 * rebalance.ts) or refuses them. A refused proposal never becomes shares: the
 * next round dispatches with the previous round's shares, and the refusal is
 * recorded with who and why.
 */
import { z } from 'zod';
import { Identifier, type Shares } from '../domain/index.js';
import { ConflictError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { parse } from './work-queries.js';

export const ListShareProposalsInput = z.strictObject({ programId: Identifier });

export interface ShareProposal {
  protocolId: string;
  /** `id@version` the proposal was made under. */
  protocol: string;
  round: number;
  /**
   * `pending`: awaiting a PM. `approved` / `refused`: decided (by, at). `lapsed`:
   * the round was dispatched without a decision, on the previous shares.
   */
  status: 'pending' | 'approved' | 'refused' | 'lapsed';
  proposed: Shares;
  /** The round's shares as stored (approved or carried over), if dispatched or approved. */
  stored?: Shares;
  changes: { workforceId: string; from: number; to: number; reason: string }[];
  proposedAt: string;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

/**
 * The ledger ids of a round's share proposal and of its decision. An approval
 * and a refusal share the decision's id, so only the first decision is
 * appended (a conditional write): the other verb finds it and gets a conflict.
 */
export const shareEventIds = (programId: string, protocolId: string, round: number) => ({
  proposal: `${programId}:${protocolId}:r${round}:proposal`,
  decision: `${programId}:${protocolId}:r${round}:decision`,
});

/** Every share proposal of a program with where it stands, newest round first. */
export async function listShareProposals(deps: Deps, input: z.input<typeof ListShareProposalsInput>): Promise<{ items: ShareProposal[] }> {
  const req = parse(ListShareProposalsInput, input);
  const ledger = await deps.repo.listLedger(req.programId);
  const byId = new Map(ledger.map((e) => [e.eventId, e]));
  const items: ShareProposal[] = [];
  for (const e of ledger) {
    if (e.type !== 'shares.proposed') continue;
    const data = e.data;
    const protocolId = e.protocol.split('@')[0];
    const ids = shareEventIds(req.programId, protocolId, data.round);
    if (e.eventId !== ids.proposal) continue;
    const decided = byId.get(ids.decision);
    const approved = decided?.type === 'shares.approved' ? decided : undefined;
    const refused = decided?.type === 'shares.refused' ? decided : undefined;
    const stored = await deps.repo.getShares(req.programId, protocolId, data.round);
    const decision = approved ?? refused;
    items.push({
      protocolId,
      protocol: e.protocol,
      round: data.round,
      status: approved ? 'approved' : refused ? 'refused' : stored ? 'lapsed' : 'pending',
      proposed: data.shares,
      ...(stored ? { stored } : {}),
      changes: data.changes,
      proposedAt: e.at,
      ...(decision ? { decidedBy: decision.actor, decidedAt: decision.at, reason: decision.reason } : {}),
    });
  }
  items.sort((a, b) => b.round - a.round || a.protocolId.localeCompare(b.protocolId));
  return { items };
}

export const ApproveSharesInput = z.strictObject({
  programId: Identifier,
  protocolId: Identifier,
  version: z.number().int().positive(),
  round: z.number().int().min(2),
  actor: z.string().min(1).max(200),
});

export const RefuseSharesInput = z.strictObject({
  programId: Identifier,
  protocolId: Identifier,
  round: z.number().int().min(2),
  reason: z.string().trim().min(1).max(2000),
  actor: z.string().min(1).max(200),
});

/**
 * A PM refuses the proposed shares of a round: recorded once (`shares.refused`,
 * a deterministic id: refusing again changes nothing); the round then dispatches
 * with the previous round's shares. Refused: a proposal already approved, or a
 * round already dispatched.
 */
export async function refuseShares(
  deps: Deps,
  input: z.input<typeof RefuseSharesInput>,
): Promise<{ status: 'refused' | 'already-refused'; round: number; carriedOver: Shares }> {
  const req = parse(RefuseSharesInput, input);
  const ids = shareEventIds(req.programId, req.protocolId, req.round);
  const proposal = await deps.repo.getLedgerEvent(req.programId, ids.proposal);
  if (proposal?.type !== 'shares.proposed') throw new NotFoundError(`no share proposal for round ${req.round} of ${req.protocolId}`);
  const previous = (await deps.repo.getShares(req.programId, req.protocolId, req.round - 1)) ?? {};
  const approved = () => new ConflictError(`the proposed shares of round ${req.round} were approved already`);
  const decided = await deps.repo.getLedgerEvent(req.programId, ids.decision);
  if (decided?.type === 'shares.refused') return { status: 'already-refused', round: req.round, carriedOver: previous };
  if (decided) throw approved();
  if (await deps.repo.getShares(req.programId, req.protocolId, req.round)) {
    throw new ConflictError(`round ${req.round} already has its shares (dispatched or approved): nothing to refuse`);
  }
  const appended = await record(deps, {
    eventId: ids.decision,
    programId: req.programId,
    type: 'shares.refused',
    actor: req.actor,
    protocol: proposal.protocol,
    subject: `round ${req.round}`,
    reason: req.reason,
    data: { round: req.round, refused: proposal.data.shares, carriedOver: previous },
  });
  if (appended === 'appended') return { status: 'refused', round: req.round, carriedOver: previous };
  // Another decision came first (an approval racing this refusal, or the same refusal twice).
  if ((await deps.repo.getLedgerEvent(req.programId, ids.decision))?.type !== 'shares.refused') throw approved();
  return { status: 'already-refused', round: req.round, carriedOver: previous };
}
