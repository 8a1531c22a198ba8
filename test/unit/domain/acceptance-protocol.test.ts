import { describe, expect, it } from 'vitest';
import {
  AcceptancePlanError,
  DEFAULT_ACCEPTANCE,
  ProtocolVersion,
  acceptanceOf,
  fixedThresholdPlan,
  formatProtocolPlan,
  parseProtocolDocument,
  singleSamplingPlan,
  sprtDesign,
} from '../../../functions/domain/index.js';
import { makeProtocol } from '../fakes.js';

const issuesOf = (input: unknown): string[] => {
  const r = ProtocolVersion.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('protocol acceptance section', () => {
  it('fills the defaults of every field left out', () => {
    const p = makeProtocol({ acceptance: {} });
    expect(p.acceptance).toMatchObject({ aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1, rule: 'sprt', internalGoldRate: 0.02 });
    expect(p.acceptance?.switching).toMatchObject({ tightenWindow: 5, tightenAfterRejected: 2, reduceAtScore: 30 });
  });

  it('refuses impossible risks and quality levels with a message naming the field', () => {
    const base = makeProtocol();
    expect(issuesOf({ ...base, acceptance: { alpha: 1 } }).join('\n')).toMatch(/acceptance\.alpha: alpha \(producer's risk.*below 0\.5/);
    expect(issuesOf({ ...base, acceptance: { beta: 0 } }).join('\n')).toMatch(/acceptance\.beta: beta .*above 0/);
    expect(issuesOf({ ...base, acceptance: { aql: 0.8, rql: 0.9 } }).join('\n')).toMatch(/acceptance\.rql: rql 0\.9 .* must be below aql 0\.8/);
    expect(issuesOf({ ...base, acceptance: { aql: 0.9, rql: 0.9 } })).toHaveLength(1);
    expect(issuesOf({ ...base, acceptance: { aql: 0.95, rqll: 0.8 } }).join('\n')).toMatch(/rqll/);
  });

  it('reads an old document without acceptance with the defaults and a migration note naming what the old threshold amounted to', () => {
    const p = makeProtocol({ batchSize: 60, goldRate: 0.1, thresholds: { goldAccuracy: 0.85, minGoldItems: 5 } });
    expect(p.acceptance).toBeUndefined();
    const a = acceptanceOf(p);
    expect(a.source).toBe('defaults');
    expect(a.section).toEqual(DEFAULT_ACCEPTANCE);
    expect(a.goldPerBatch).toBe(7);
    // 6 of 7 = 0.857 ≥ 0.85: the old rule is n 7, c 1.
    expect(fixedThresholdPlan(0.85, 7)).toEqual({ n: 7, c: 1 });
    expect(a.migrationNote).toMatch(/no acceptance section: it is decided with the defaults \(rule sprt, AQL 0\.95, RQL 0\.80/);
    expect(a.migrationNote).toMatch(/goldAccuracy 0\.85 on 7 gold items amounted to n 7, c 1/);
    expect(a.migrationNote).toMatch(/Write instead: acceptance: \{ aql: 0\.95, rql: 0\.8/);
  });

  it('resolves the plans exactly as the acceptance module computes them', () => {
    const p = makeProtocol({ batchSize: 60, goldRate: 0.1, acceptance: { aql: 0.95, rql: 0.8 } });
    const a = acceptanceOf(p);
    expect(a.source).toBe('protocol');
    expect(a.migrationNote).toBeUndefined();
    expect(a.single).toMatchObject({ n: 38, c: 4 });
    expect(a.single?.risks).toEqual(singleSamplingPlan({ aql: 0.95, rql: 0.8 }).risks);
    expect(a.sprt.maxItems).toBe(sprtDesign({ aql: 0.95, rql: 0.8 }, 7).maxItems);
    expect(a.decision.kind).toBe('sprt');
    expect(a.goldRates).toEqual({ normal: 0.1, reduced: 0.05, tightened: 0.25, internal: 0.02 });
    const single = acceptanceOf(makeProtocol({ batchSize: 60, goldRate: 0.1, acceptance: { rule: 'single-plan' } }));
    expect(single.decision).toMatchObject({ kind: 'single-plan', plan: { n: 38, c: 4 } });
  });

  it('refuses a plan beyond its caps with the figure it needs', () => {
    expect(() => acceptanceOf(makeProtocol({ batchSize: 60, goldRate: 0.1, acceptance: { maxSprtItems: 20 } }))).toThrow(
      /truncated at 70 gold items, more than maxSprtItems 20/,
    );
    expect(() => acceptanceOf(makeProtocol({ batchSize: 60, goldRate: 0.1, acceptance: { rule: 'single-plan', maxGoldPerBatch: 10 } }))).toThrow(AcceptancePlanError);
    expect(() => acceptanceOf(makeProtocol({ batchSize: 4, goldRate: 0.05 }))).toThrow(/gives 0 gold items in a batch of 4/);
  });

  it('parses the example protocols with their acceptance sections and prints no migration note for them', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const f of ['chest-xray.v1.yaml', 'chest-xray.v2.yaml']) {
      const text = await readFile(new URL(`../../../examples/protocols/${f}`, import.meta.url), 'utf8');
      const r = parseProtocolDocument(text, { filename: f });
      if (!r.ok) throw new Error(r.problems.join('\n'));
      expect(r.protocol.acceptance, f).toBeDefined();
      expect(formatProtocolPlan(r.protocol).join('\n')).not.toMatch(/migration/);
    }
  });
});
