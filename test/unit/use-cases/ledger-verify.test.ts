import { describe, expect, it } from 'vitest';
import { LEDGER_SHARDS, shardOf } from '../../../functions/domain/key-shards.js';
import { chainHash } from '../../../functions/domain/ledger-chain.js';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import { verifyLedger } from '../../../functions/use-cases/ledger-verify.js';
import { ledgerHeadOf } from '../../../functions/use-cases/releases.js';
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

/** The fake's stored event item of batch `i`'s event (the same attributes the DynamoDB item has). */
const item = (deps: FakeDeps, i: number) => deps.repo.ledgerItem('prog-1', `batch-${i}:overdue`);

async function seeded(n: number): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  for (let i = 1; i <= n; i++) await deps.repo.appendLedger(overdue(i));
  return deps;
}

describe('Use case: verifyLedger', () => {
  it('finds an untouched ledger intact and says so in one line', async () => {
    const deps = await seeded(3);
    const head = ledgerHeadOf(await deps.repo.listLedger('prog-1'))!;

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v).toMatchObject({ programId: 'prog-1', ok: true, events: 3, head, problems: [], anchors: [] });
    expect(head.heads?.map((h) => h.seq).reduce((a, b) => a + b)).toBe(3);
    expect(formatLedgerVerification(v)).toEqual([`ledger intact: 3 events, head #3 ${head.hash.slice(0, 16)}…`]);
  });

  it('names the event whose data was changed in storage', async () => {
    const deps = await seeded(3);
    (item(deps, 2).data as Record<string, unknown>).slaHours = 1;

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v.ok).toBe(false);
    const { seq, shard } = item(deps, 2) as { seq: number; shard: number };
    const chain = String(shard).padStart(2, '0');
    expect(v.problems.map((p) => [p.chain, p.seq, p.eventId, p.kind])).toEqual([[chain, seq, 'batch-2:overdue', 'altered']]);
    expect(formatLedgerVerification(v)).toEqual([
      expect.stringMatching(/^LEDGER BROKEN: 1 problem\(s\) in 3 events of prog-1/),
      `  ALTERED: event #${seq} of shard ${chain} (batch-2:overdue, batch.overdue) was altered: its content no longer matches its hash`,
    ]);
  });

  it('checks the ledger head a release recorded: a re-hashed rewrite of that event is named', async () => {
    const deps = await seeded(2);
    const head = ledgerHeadOf(await deps.repo.listLedger('prog-1'))!;
    // Found in a shard of its own, so the rewritten event is the head of its chain and nothing links to it.
    const releaseId = [...Array(50)].map((_, i) => `release-${i}`).find((id) => shardOf(`${id}:created`, LEDGER_SHARDS) !== (item(deps, 2).shard as number))!;
    await deps.repo.appendLedger({
      v: 1,
      eventId: `${releaseId}:created`,
      programId: 'prog-1',
      type: 'release.created',
      at: T0,
      actor: 'pm:alice',
      protocol: 'chest-xray@1',
      subject: releaseId,
      reason: 'release',
      data: { releaseId, protocolId: 'chest-xray', version: 1, labels: 0, manifestKey: 'k', manifestSha256: 'a'.repeat(64), ledgerHead: head },
    } as LedgerEvent);
    // Event 2 (the last of its shard: batch-1 came before it) rewritten with a consistent hash, its key item patched too: only the anchor shows it.
    const two = item(deps, 2);
    two.reason = 'rewritten';
    two.hash = chainHash(two);
    deps.repo.ledger.set(deps.repo.ledgerMapKey('prog-1', 'batch-2:overdue', 'KEY#batch-2:overdue'), { eventId: 'batch-2:overdue', seq: two.seq, hash: two.hash });

    const v = await verifyLedger(deps, { programId: 'prog-1' });

    expect(v.anchors).toEqual([head]);
    expect(v.problems.map((p) => [p.seq, p.eventId, p.kind])).toEqual([[two.seq, 'batch-2:overdue', 'anchor-mismatch']]);
  });

  it('refuses a program id that is not an identifier', async () => {
    await expect(verifyLedger(makeFakeDeps(), { programId: '../x' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
