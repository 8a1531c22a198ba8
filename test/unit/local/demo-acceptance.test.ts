import { describe, expect, it } from 'vitest';
import { ProtocolVersion, acceptanceOf } from '../../../functions/domain/index.js';
import { type DemoAcceptance, chestXrayProtocol } from '../../../infra/local/demo/example-program.js';

const demoProtocol = (acceptance?: DemoAcceptance) =>
  ProtocolVersion.parse(chestXrayProtocol('2026-11-01T00:00:00.000Z', { acceptance }));

describe('Demo option --acceptance', () => {
  it('defaults to the truncated SPRT at AQL 0.95 / RQL 0.80', () => {
    const a = acceptanceOf(demoProtocol());
    expect(a.rule).toBe('sprt');
    expect(a.decision.kind).toBe('sprt');
    expect([a.spec.aql, a.spec.rql, a.spec.alpha, a.spec.beta]).toEqual([0.95, 0.8, 0.05, 0.1]);
  });

  it('single-plan decides each batch alone on 5 gold items, accepting ≤ 1 wrong, with the risks the docs state', () => {
    const a = acceptanceOf(demoProtocol('single-plan'));
    expect(a.decision).toMatchObject({ kind: 'single-plan', plan: { n: 5, c: 1 } });
    // The demo's batches carry 6 gold items at its 10% gold rate: enough for the plan, so none is held.
    expect(a.goldPerBatch).toBeGreaterThanOrEqual(5);
    expect(a.single?.risks.alpha).toBeCloseTo(0.0226, 4);
    expect(a.single?.risks.beta).toBeCloseTo(0.1875, 4);
    expect(a.goldRates.internal).toBe(0.02);
  });
});
