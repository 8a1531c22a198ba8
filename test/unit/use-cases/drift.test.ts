import { describe, expect, it } from 'vitest';
import type { BatchScore, StoredLabel } from '../../../functions/domain/index.js';
import { checkDrift } from '../../../functions/use-cases/drift.js';
import { T0, makeFakeDeps, makeLedgerEvent, makeProtocol } from '../fakes.js';

const PROGRAM = 'prog-1';

/**
 * vendor-a: 10/10 on every batch. vendor-b: 10, 9, 7, 6, 9 correct of 10, its
 * errors all by annotator ann-2 (ann-1 labels the first five gold items, ann-2
 * the last five). By hand (docs/quality-alarms.md defaults, m = 9, h = 2):
 * vendor-b's CUSUM (scaled) 0, 0, 17, 43 → alarm at b-4 over b-3, b-4; its EWMA
 * 0.960, 0.948, 0.898, 0.839 < 0.893 → alarm at b-4 over b-2…b-4.
 */
async function seeded(annotatorPrefix = '') {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  const plan: Record<string, number[]> = { 'vendor-a': [10, 10, 10, 10, 10], 'vendor-b': [10, 9, 7, 6, 9] };
  for (const [workforceId, correct] of Object.entries(plan)) {
    for (const [i, goldCorrect] of correct.entries()) {
      const batchId = `${workforceId}-b-${i + 1}`;
      await deps.repo.appendLedger(
        makeLedgerEvent({
          eventId: `${batchId}:scored`,
          programId: PROGRAM,
          type: 'batch.scored',
          subject: batchId,
          at: new Date(Date.parse(T0) + i * 3_600_000).toISOString(),
          data: { workforceId, goldN: 10, goldCorrect, accuracy: goldCorrect / 10, kappa: null, verdict: 'accepted' },
        }),
      );
      const items = Array.from({ length: 10 }, (_, k) => ({ caseId: `${batchId}-g${k}`, correct: k < goldCorrect }));
      await deps.repo.putScore({
        batchId,
        workforceId,
        protocol: 'chest-xray@1',
        taskType: 'classification',
        goldN: 10,
        goldCorrect,
        accuracy: goldCorrect / 10,
        interval: null,
        kappa: null,
        summary: {},
        verdict: 'accepted',
        notes: [],
        items,
      } satisfies BatchScore);
      await deps.repo.putLabels(
        items.map(
          (it, k): StoredLabel => ({
            caseId: it.caseId,
            batchId,
            label: 'normal',
            workforceId,
            annotatorId: `${annotatorPrefix ? `${workforceId}/` : ''}${k < 5 ? 'ann-1' : 'ann-2'}`,
            protocol: 'chest-xray@1',
            submissionKey: `uploads/${batchId}.jsonl`,
            submissionSha256: 'ab'.repeat(32),
            gold: true,
            status: 'accepted',
            createdAt: T0,
          }),
        ),
      );
    }
  }
  return deps;
}

describe('Use case: checkDrift', () => {
  it('records one alarm per chart excursion for the drifting vendor and its drifting annotator, none for the stable ones', async () => {
    const deps = await seeded();
    const result = await checkDrift(deps, { programId: PROGRAM, protocolId: 'chest-xray' });
    const alarms = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'alarm.raised');
    expect(result.units).toBe(2 + 4); // two workforces, two annotators each
    const bySubject = alarms.map((e) => (e.type === 'alarm.raised' ? `${e.subject} ${e.data.chart} ${e.data.batchIds.join(',')}` : ''));
    expect(bySubject).toContain('vendor-b cusum vendor-b-b-3,vendor-b-b-4');
    expect(bySubject).toContain('vendor-b ewma vendor-b-b-2,vendor-b-b-3,vendor-b-b-4');
    expect(bySubject.filter((s) => s.startsWith('vendor-b '))).toHaveLength(2);
    expect(bySubject.some((s) => s.startsWith('vendor-a'))).toBe(false);
    expect(bySubject.some((s) => s.startsWith('vendor-b/ann-1'))).toBe(false);
    expect(bySubject.some((s) => s.startsWith('vendor-b/ann-2 cusum'))).toBe(true);
    const cusum = alarms.find((e) => e.type === 'alarm.raised' && e.subject === 'vendor-b' && e.data.chart === 'cusum');
    expect(cusum?.type === 'alarm.raised' && cusum.data).toMatchObject({
      workforceId: 'vendor-b',
      statistic: expect.closeTo(43 / 9, 12),
      limit: 2,
      batchId: 'vendor-b-b-4',
      firstBatchAt: new Date(Date.parse(T0) + 2 * 3_600_000).toISOString(),
      params: { p0: 0.95, p1: 0.8, h: 2 },
    });
    expect(cusum?.protocol).toBe('chest-xray@1');
    expect(result.appended).toBe(alarms.length);
  });

  it('records nothing twice when run again (deterministic event ids)', async () => {
    const deps = await seeded();
    const first = await checkDrift(deps, { programId: PROGRAM, protocolId: 'chest-xray' });
    const again = await checkDrift(deps, { programId: PROGRAM, protocolId: 'chest-xray' });
    expect(first.appended).toBeGreaterThan(0);
    expect(again).toEqual({ ...first, appended: 0 });
  });

  it('names an annotator whose id already starts with its workforce once (vendor-b/ann-2, not vendor-b/vendor-b/ann-2)', async () => {
    const deps = await seeded('prefixed');
    await checkDrift(deps, { programId: PROGRAM, protocolId: 'chest-xray' });
    const subjects = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'alarm.raised').map((e) => e.subject);
    expect(subjects).toContain('vendor-b/ann-2');
    expect(subjects.some((s) => s.startsWith('vendor-b/vendor-b'))).toBe(false);
  });

  it('takes the charts from the protocol’s drift section: a wider h and L raise no alarm on the same series', async () => {
    const deps = await seeded();
    const protocol = makeProtocol({ drift: { cusum: { p0: 0.95, p1: 0.8, h: 20 }, ewma: { lambda: 0.2, L: 10 } } });
    const result = await checkDrift(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocol });
    expect(result.alarms).toBe(0);
  });
});
