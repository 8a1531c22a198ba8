/** Shared set-up for use-case tests: a small program on the in-memory fakes, and a ledger that fails once. */
import { vi } from 'vitest';
import type { CaseInput, LedgerEvent, ProtocolVersionInput, WorkforceInput } from '../../functions/domain/model/index.js';
import { goldSetObject } from '../../functions/use-cases/batch-key.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../unit/fakes.js';

export const PROGRAM = 'prog-1';

export async function program(opts: {
  cases?: number;
  gold?: number;
  protocol?: Partial<ProtocolVersionInput>;
  workforces?: WorkforceInput[];
  goldCase?: (i: number) => Partial<CaseInput>;
} = {}): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  const protocol = makeProtocol(opts.protocol);
  await deps.repo.putProtocolVersion(protocol);
  const workforces = opts.workforces ?? [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')];
  for (const w of workforces) await deps.repo.putWorkforce(PROGRAM, makeWorkforce(w.workforceId, w));
  const n = opts.cases ?? 40;
  const g = opts.gold ?? 10;
  const cases = [
    ...Array.from({ length: n }, (_, i) => ({ ...makeCase(`case-${String(i).padStart(4, '0')}`), goldPool: false })),
    ...Array.from({ length: g }, (_, i) => ({ ...makeCase(`gold-${String(i).padStart(4, '0')}`, opts.goldCase?.(i) ?? {}), goldPool: true })),
  ];
  await deps.repo.putCases(PROGRAM, cases);
  for (const c of cases) await deps.objects.putBytes(deps.buckets.images, c.imageKey, new Uint8Array([1, 2, 3]), 'application/dicom');
  const answers = Object.fromEntries(
    cases.filter((c) => c.goldPool).map((c) => [c.caseId, { caseId: c.caseId, label: 'normal', expertId: 'dr-x' }]),
  );
  await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, protocol.protocolId), answers);
  return deps;
}

/**
 * Makes the first `appendLedger` of an event of this type fail, as a throttled
 * or timed-out write would, after which appends go through again.
 */
export function failLedgerOnce(deps: FakeDeps, type: LedgerEvent['type']): void {
  const append = deps.repo.appendLedger.bind(deps.repo);
  let failed = false;
  vi.spyOn(deps.repo, 'appendLedger').mockImplementation(async (e) => {
    if (!failed && e.type === type) {
      failed = true;
      throw new Error('ProvisionedThroughputExceededException');
    }
    return append(e);
  });
}
