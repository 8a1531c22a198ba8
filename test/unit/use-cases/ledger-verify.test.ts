import { describe, expect, it } from 'vitest';
import { chainHash } from '../../../functions/domain/ledger-chain.js';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import { verifyLedger } from '../../../functions/use-cases/ledger-verify.js';
import { formatLedgerVerification } from '../../../infra/cli/ledger.js';
import { type FakeDeps, T0, makeFakeDeps } from '../fakes.js';

const overdue = (i: number): LedgerEvent =>
  ({
    v: 1,
    eventId: `batch-${i}:overdue`,
    programId: 'prog-1',
    type: 'batch.overdue',
    at: T0,
    actor: 'system:overdue',
    protocol: 'chest-xray@1',
    subject: `batch-${i}`,
    reason: 'no submission within the SLA',
    data: { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' },
  }) as LedgerEvent;

/** The fake's stored event item at `seq` (the same attributes the DynamoDB item has). */
const item = (deps: FakeDeps, seq: number) => {
  const found = deps.repo.ledger.get(`prog-1|SEQ#${String(seq).padStart(12, '0')}`);
  if (!found) throw new Error(`no event #${seq}`);
  return found;
};

async function seeded(n: number): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  for (let i = 1; i <= n; i++) await deps.repo.appendLedger(overdue(i));
  return deps;
}

describe('Use case: verifyLedger', () => {
  it('finds an untouched ledger intact and says so in one line', async () => {
    const deps = await seeded(3);
    const head = (await deps.repo.listLedger('prog-1')).at(-1)!;

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v).toMatchObject({ programId: 'prog-1', ok: true, events: 3, head: { seq: 3, hash: head.hash }, problems: [], anchors: [] });
    expect(formatLedgerVerification(v)).toEqual([`ledger intact: 3 events, head #3 ${head.hash.slice(0, 16)}…`]);
  });

  it('names the event whose data was changed in storage', async () => {
    const deps = await seeded(3);
    (item(deps, 2).data as Record<string, unknown>).slaHours = 1;

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.seq, p.eventId, p.kind])).toEqual([[2, 'batch-2:overdue', 'altered']]);
    expect(formatLedgerVerification(v)).toEqual([
      expect.stringMatching(/^LEDGER BROKEN: 1 problem\(s\) in 3 events of prog-1/),
      '  ALTERED: event #2 (batch-2:overdue, batch.overdue) was altered: its content no longer matches its hash',
    ]);
  });

  it('checks the ledger head a release recorded: a re-hashed rewrite of that event is named', async () => {
    const deps = await seeded(2);
    const head = (await deps.repo.listLedger('prog-1')).at(-1)!;
    await deps.repo.appendLedger({
      v: 1,
      eventId: 'release-1:created',
      programId: 'prog-1',
      type: 'release.created',
      at: T0,
      actor: 'pm:alice',
      protocol: 'chest-xray@1',
      subject: 'release-1',
      reason: 'release',
      data: { releaseId: 'release-1', protocolId: 'chest-xray', version: 1, labels: 0, manifestKey: 'k', manifestSha256: 'a'.repeat(64), ledgerHead: { seq: head.seq, hash: head.hash } },
    } as LedgerEvent);
    // Event #2 rewritten with a consistent hash, its key item and its successor's prevHash patched too: only the anchor shows it.
    const two = item(deps, 2);
    two.reason = 'rewritten';
    two.hash = chainHash(two);
    deps.repo.ledger.set('prog-1|KEY#batch-2:overdue', { eventId: 'batch-2:overdue', seq: 2, hash: two.hash });
    const three = item(deps, 3);
    three.prevHash = two.hash;
    three.hash = chainHash(three);
    deps.repo.ledger.set('prog-1|KEY#release-1:created', { eventId: 'release-1:created', seq: 3, hash: three.hash });

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v.anchors).toEqual([{ seq: 2, hash: head.hash }]);
    expect(v.problems.map((p) => [p.seq, p.eventId, p.kind])).toEqual([[2, 'batch-2:overdue', 'anchor-mismatch']]);
  });

  it('refuses a program id that is not an identifier', async () => {
    await expect(verifyLedger(makeFakeDeps(), { programId: '../x' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
