import { describe, expect, it } from 'vitest';
import { cohenKappa, expertPanelAgreement } from '../../../functions/domain/index.js';

const adj = (expert: string, cases: [string, string, Record<string, string>][]) => ({
  status: 'decided',
  decidedBy: expert,
  needs: cases.map(([caseId, , labels]) => ({ caseId, labels })),
  decisions: cases.map(([caseId, label]) => ({ caseId, label })),
});

describe('expertPanelAgreement', () => {
  it('reports one expert against each workforce it adjudicated, with Cohen κ, and says there is no second expert', () => {
    const a = expertPanelAgreement([
      adj('expert-1', [
        ['c1', 'normal', { 'vendor-a': 'normal', 'vendor-b': 'abnormal' }],
        ['c2', 'abnormal', { 'vendor-a': 'abnormal', 'vendor-b': 'normal' }],
        ['c3', 'abnormal', { 'vendor-a': 'normal', 'vendor-b': 'abnormal' }],
      ]),
      { status: 'open', needs: [{ caseId: 'c9', labels: { 'vendor-a': 'normal' } }] },
    ]);
    expect(a.experts).toEqual(['expert-1']);
    expect(a.note).toMatch(/^one expert: agreement is reported as each expert's decision against the labels of the workforces/);
    const kA = cohenKappa(['normal', 'abnormal', 'abnormal'], ['normal', 'abnormal', 'normal']).value;
    expect(a.rows).toEqual([
      { expertId: 'expert-1', comparedWith: 'vendor-a', kind: 'expert-vs-workforce', n: 3, agreed: 2, kappa: kA },
      expect.objectContaining({ expertId: 'expert-1', comparedWith: 'vendor-b', n: 3, agreed: 1 }),
    ]);
  });

  it('reports κ between two experts on the cases both decided', () => {
    const a = expertPanelAgreement([
      adj('expert-1', [
        ['c1', 'normal', {}],
        ['c2', 'abnormal', {}],
        ['c3', 'abnormal', {}],
      ]),
      adj('expert-2', [
        ['c1', 'normal', {}],
        ['c2', 'abnormal', {}],
        ['c3', 'normal', {}],
        ['c4', 'normal', {}],
      ]),
    ]);
    expect(a.rows).toEqual([
      {
        expertId: 'expert-1',
        comparedWith: 'expert-2',
        kind: 'expert-vs-expert',
        n: 3,
        agreed: 2,
        kappa: cohenKappa(['normal', 'abnormal', 'abnormal'], ['normal', 'abnormal', 'normal']).value,
      },
    ]);
    expect(a.note).toMatch(/^κ between experts on the cases two of them decided/);
  });

  it('says so when nothing was adjudicated', () => {
    expect(expertPanelAgreement([])).toEqual({ experts: [], rows: [], note: 'no adjudication decided yet: no expert agreement to report' });
  });
});
