/**
 * Every projection rebuilt from the ledger must equal what is stored (issue 10):
 * batch status, case state and exclusions, shares per round, scorecards (at the
 * ledger position each was computed), workforce status and pause. Called at the
 * end of every integration scenario; a difference names the item, the stored
 * value and the ledger's.
 */
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import {
  type ProgramProjections,
  batchLifecycleOf,
  projectProgram,
  projectScorecardsAsOf,
  sharesOfRound,
  withoutZeroShares,
} from '../../functions/domain/projections.js';
import type { Scorecard } from '../../functions/domain/index.js';
import type { Deps } from '../../functions/use-cases/ports.js';

type Repo = Deps['repo'];

/** `kind id: stored … ≠ ledger …` for each item where they differ (an absent side reads `none`). */
function compare(kind: string, stored: Record<string, unknown>, rebuilt: Record<string, unknown>): string[] {
  const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
  return [...new Set([...Object.keys(stored), ...Object.keys(rebuilt)])]
    .sort()
    .filter((id) => !isDeepStrictEqual(stored[id], rebuilt[id]))
    .map((id) => `${kind} ${id}: stored ${show(stored[id])} ≠ ledger ${show(rebuilt[id])}`);
}

async function storedBatches(repo: Repo, programId: string, rebuilt: ProgramProjections) {
  const ids = new Set(Object.keys(rebuilt.batches));
  for (const r of await repo.listRounds(programId)) for (const id of r.batchIds) ids.add(id);
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    const b = await repo.getBatch(id);
    if (b) out[id] = { workforceId: b.workforceId, status: batchLifecycleOf(b.status) };
  }
  return out;
}

async function storedCases(repo: Repo, programId: string) {
  return Object.fromEntries(
    (await repo.listCases(programId)).map((c) => [
      c.caseId,
      { state: c.state, ...(c.batchId ? { batchId: c.batchId } : {}), excludedWorkforces: [...c.excludedWorkforces].sort() },
    ]),
  );
}

/** Shares of every round stored or fixed by the ledger, zeros dropped (a zero share allocates nothing). */
async function shareDifferences(repo: Repo, programId: string, protocolIds: readonly string[], rebuilt: ProgramProjections) {
  const out: string[] = [];
  for (const protocolId of protocolIds) {
    const byRound = rebuilt.shares[protocolId] ?? {};
    const stored = Object.fromEntries((await repo.listShareRounds(programId, protocolId)).map((s) => [s.round, withoutZeroShares(s.shares)]));
    const rounds = new Set([...Object.keys(stored), ...Object.keys(byRound)].map(Number));
    const fromLedger = Object.fromEntries([...rounds].map((r) => [r, sharesOfRound(byRound, r)]));
    out.push(...compare(`shares ${protocolId} round`, stored, fromLedger));
  }
  return out;
}

/**
 * Each stored scorecard against the fold of the ledger up to the position it
 * records (`asOf.seq`) under the protocol version it was computed with; and
 * every card the ledger gives at the latest stored position must be stored.
 */
async function scorecardDifferences(repo: Repo, programId: string, ledger: Parameters<typeof projectProgram>[0]) {
  const out: string[] = [];
  const byProtocol = new Map<string, Scorecard[]>();
  for (const c of await repo.listProgramScorecards(programId)) byProtocol.set(c.protocolId, [...(byProtocol.get(c.protocolId) ?? []), c]);
  const lastDispatch = new Map<string, string>();
  for (const e of ledger) if (e.type === 'batch.dispatched') lastDispatch.set(e.protocol.split('@')[0], e.protocol);
  for (const [protocolId, cards] of byProtocol) {
    const rebuildAt = async (asOf: Scorecard['asOf']) => {
      const ref = asOf?.protocol ?? lastDispatch.get(protocolId) ?? '';
      const [id, version] = ref.split('@');
      const protocol = await repo.getProtocolVersion(id, Number(version));
      if (!protocol) throw new Error(`scorecards of ${protocolId}: protocol ${ref} not found`);
      return projectScorecardsAsOf(ledger, { protocolId, minGoldItems: protocol.thresholds.minGoldItems, asOfSeq: asOf?.seq, asOf: asOf?.ledger });
    };
    const stored: Record<string, unknown> = {};
    const rebuilt: Record<string, unknown> = {};
    for (const { asOf, ...card } of cards) {
      stored[card.workforceId] = card;
      rebuilt[card.workforceId] = (await rebuildAt(asOf))[card.workforceId];
    }
    const latest = cards.map((c) => c.asOf).sort((a, b) => (b?.seq ?? 0) - (a?.seq ?? 0))[0];
    for (const [workforceId, card] of Object.entries(await rebuildAt(latest))) rebuilt[workforceId] ??= card;
    out.push(...compare(`scorecard ${protocolId}`, stored, rebuilt));
  }
  return out;
}

/**
 * What differs between the projections rebuilt from a program's ledger and the
 * stored ones (empty when they agree), each line naming the item, e.g.
 * `case c-17: stored {"state":"assigned",…} ≠ ledger {"state":"pending",…}`.
 */
export async function projectionDifferences(deps: Pick<Deps, 'repo'>, programId: string): Promise<string[]> {
  const { repo } = deps;
  const ledger = await repo.listLedger(programId);
  const rebuilt = projectProgram(ledger);
  const protocolIds = [...new Set([...Object.keys(rebuilt.shares), ...(await repo.listRounds(programId)).map((r) => r.protocolId)])].sort();
  const workforces = Object.fromEntries((await repo.listWorkforces(programId)).map((w) => [w.workforceId, { status: w.status, paused: w.paused }]));
  return [
    ...rebuilt.problems.map((p) => `ledger: ${p}`),
    ...compare('batch', await storedBatches(repo, programId, rebuilt), rebuilt.batches),
    ...compare('case', await storedCases(repo, programId), rebuilt.cases),
    ...(await shareDifferences(repo, programId, protocolIds, rebuilt)),
    ...(await scorecardDifferences(repo, programId, ledger)),
    ...compare('workforce', workforces, rebuilt.workforces),
  ];
}

/**
 * Asserts that every projection of the program rebuilt from its ledger equals
 * the stored one; on failure the message lists each item that differs.
 *
 * @example await expectProjectionsRebuilt(stack.deps, 'demo-cxr');
 */
export async function expectProjectionsRebuilt(deps: Pick<Deps, 'repo'>, programId: string): Promise<void> {
  const differences = await projectionDifferences(deps, programId);
  expect(differences, `projections of ${programId} rebuilt from its ledger differ from the stored ones`).toEqual([]);
}
