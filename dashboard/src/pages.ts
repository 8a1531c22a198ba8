/**
 * The dashboard's pages. Each reads the API, then renders tables and Observable
 * Plot charts; every chart mark carries a <title> (its accessible name, and
 * what the browser test compares with the API's figures).
 */
import * as Plot from '@observablehq/plot';
import type { Api } from './api.js';
import { alarmMarks, batchSeries, openAdjudications, pipelineCounts, sharesByRound, subgroupCells } from './derive.js';
import { type Cell, figure, fmt, fmtInterval, heading, paragraph, pct, table } from './view.js';

export type Page = (api: Api, out: HTMLElement, query: URLSearchParams) => Promise<void>;

const insufficient = (text: string): Cell => ({ text: `${text} (insufficient)`, className: 'insufficient' });

const scorecards: Page = async (api, out) => {
  const cards = await api.scorecards();
  out.append(heading('Scorecards'), paragraph('Gold accuracy per workforce with its Wilson 95% interval; "insufficient" below the protocol\'s gold minimum.'));
  out.append(
    table(
      'Scorecards per workforce',
      ['Workforce', 'Gold accuracy', '95% interval', 'Gold n', 'Batches accepted', 'Batches rejected', 'SLA adherence', 'Cost per accepted case'],
      cards.map((c) => [
        c.workforceId,
        c.insufficient ? insufficient(fmt(c.accuracy)) : fmt(c.accuracy),
        fmtInterval(c.interval),
        String(c.goldN),
        String(c.batchesAccepted),
        String(c.batchesRejected),
        fmt(c.slaAdherence),
        c.costPerAcceptedCase === null ? '—' : `$${c.costPerAcceptedCase.toFixed(2)}`,
      ]),
    ),
  );
  const plotted = cards.filter((c) => c.accuracy !== null && c.interval !== null);
  const title = (c: (typeof plotted)[number]) => `${c.workforceId}: ${fmt(c.accuracy)} ${fmtInterval(c.interval)} n=${c.goldN}`;
  out.append(
    figure(
      'Gold accuracy with 95% intervals',
      Plot.plot({
        ariaLabel: 'Gold accuracy per workforce with 95% intervals',
        marginLeft: 110,
        x: { domain: [0, 1], label: 'gold accuracy', grid: true },
        y: { label: null },
        marks: [
          // The interval is in each dot's title: the rule is decoration for assistive technology.
          Plot.ruleY(plotted, { y: 'workforceId', x1: (c) => c.interval?.lower, x2: (c) => c.interval?.upper, stroke: '#555', ariaHidden: 'true' }),
          Plot.dot(plotted, { y: 'workforceId', x: 'accuracy', fill: '#0b4f9c', r: 5, title }),
        ],
      }),
      'scorecards',
    ),
  );
};

const trends: Page = async (api, out) => {
  const [batches, ledger] = await Promise.all([api.batches(), api.ledger()]);
  const series = batchSeries(batches);
  const alarms = ledger.filter((e) => e.type === 'alarm.raised');
  const marks = alarmMarks(series, alarms);
  out.append(heading('Quality over time'), paragraph(`Gold accuracy per batch, by workforce; drift alarms from the ledger: ${alarms.length}.`));
  out.append(
    figure(
      'Gold accuracy per batch, with drift alarms',
      Plot.plot({
        ariaLabel: 'Gold accuracy per batch by workforce',
        x: { label: 'batch (per workforce)', type: 'point' },
        y: { domain: [0, 1], label: 'gold accuracy', grid: true },
        color: { legend: true },
        marks: [
          Plot.line(series, { x: 'ordinal', y: 'accuracy', z: 'workforceId', stroke: 'workforceId', ariaHidden: 'true' }),
          Plot.dot(series, {
            x: 'ordinal',
            y: 'accuracy',
            fill: 'workforceId',
            title: (b: (typeof series)[number]) => `${b.workforceId} ${b.batchId}: ${b.score?.goldCorrect}/${b.score?.goldN}`,
          }),
          Plot.dot(marks, { x: 'ordinal', y: 'accuracy', symbol: 'triangle', r: 8, stroke: '#a00000', strokeWidth: 2, title: 'reason' }),
        ],
      }),
      'trends',
    ),
  );
  if (alarms.length === 0) out.append(paragraph('No drift alarm has been raised.'));
  else out.append(table('Drift alarms', ['Raised at', 'Subject', 'Reason'], alarms.map((e) => [e.at, e.subject, e.reason])));
};

const confusion: Page = async (api, out) => {
  const report = await api.quality('workforce');
  const cells = report.groups.flatMap((g) =>
    g.classification
      ? g.classification.confusion.classes.flatMap((gold, i) =>
          (g.classification?.confusion.classes ?? []).map((given, j) => ({ key: g.key, gold, given, count: g.classification?.confusion.counts[i]?.[j] ?? 0 })),
        )
      : [],
  );
  // Dark cells (above half the largest count) get white numbers, light ones black: readable either way.
  const maxCount = Math.max(1, ...cells.map((c) => c.count));
  out.append(heading('Per-class confusion against gold'), paragraph(`Protocol ${report.protocol}: rows are the gold class, columns the class given.`));
  out.append(
    figure(
      'Confusion matrices per workforce',
      Plot.plot({
        ariaLabel: 'Confusion matrices per workforce',
        marginLeft: 80,
        marginBottom: 40,
        color: { scheme: 'blues', legend: true, label: 'items' },
        fx: { label: null },
        x: { label: 'given' },
        y: { label: 'gold' },
        marks: [
          Plot.cell(cells, { fx: 'key', x: 'given', y: 'gold', fill: 'count', title: (c: (typeof cells)[number]) => `${c.key}: gold ${c.gold} → ${c.given}: ${c.count}` }),
          Plot.text(cells, { fx: 'key', x: 'given', y: 'gold', text: 'count', fill: (c: (typeof cells)[number]) => (c.count > maxCount / 2 ? 'white' : 'black') }),
        ],
      }),
      'confusion',
    ),
  );
  out.append(
    table(
      'Per-class sensitivity and specificity',
      ['Workforce', 'Class', 'Sensitivity', 'Specificity'],
      report.groups.flatMap((g) =>
        (g.classification?.perClass ?? []).map((p) => [
          g.key,
          { text: p.class, className: 'text' },
          p.sensitivity.insufficient ? insufficient(fmt(p.sensitivity.value)) : fmt(p.sensitivity.value),
          p.specificity.insufficient ? insufficient(fmt(p.specificity.value)) : fmt(p.specificity.value),
        ]),
      ),
    ),
  );
  const ds = report.dawidSkene;
  if (ds) {
    out.append(
      table(
        `Dawid–Skene: each rater's most frequent confusion (${ds.converged ? 'converged' : 'not converged'} after ${ds.iterations} iterations)`,
        ['Rater', 'Answers', 'True class', 'Answered', 'Probability'],
        ds.raters.map((r) => [
          r.rater,
          String(r.answers),
          { text: r.worstConfusion?.trueClass ?? '—', className: 'text' },
          { text: r.worstConfusion?.answered ?? '—', className: 'text' },
          fmt(r.worstConfusion?.probability),
        ]),
      ),
    );
  }
};

const agreement: Page = async (api, out) => {
  const report = await api.quality('annotator');
  const a = report.agreement;
  out.append(heading('Annotator agreement'));
  if (!a || a.pairs.length === 0) {
    out.append(paragraph('No case was labelled by two annotators: no agreement to show.'));
    return;
  }
  const cells = a.pairs.flatMap((p) => [p, { ...p, a: p.b, b: p.a }]);
  const pairTitle = (p: (typeof cells)[number]) => `${p.a} × ${p.b}: κ ${fmt(p.kappa.value)} AC1 ${fmt(p.ac1.value)} n=${p.n}`;
  out.append(
    paragraph(
      `${a.overlapCases} overlap cases; Cohen's κ (${a.kappaWeights === 'none' ? 'unweighted' : `${a.kappaWeights} weights`}) per pair. Fleiss' κ ${fmt(a.fleissKappa?.value)}, Krippendorff's α ${fmt(a.krippendorffAlpha?.value)}.`,
    ),
  );
  out.append(
    figure(
      'Annotator × annotator agreement (Cohen’s κ)',
      Plot.plot({
        ariaLabel: 'Annotator agreement matrix',
        marginLeft: 220,
        marginBottom: 160,
        x: { tickRotate: -40, label: null },
        y: { label: null },
        color: { scheme: 'rdylbu', domain: [-1, 1], legend: true, label: 'κ' },
        marks: [
          // κ undefined (e.g. one class only): a grey cell, still titled, AC1 beside it.
          Plot.cell(
            cells.filter((p) => p.kappa.value === null),
            { x: 'a', y: 'b', fill: '#d0d0d0', title: pairTitle },
          ),
          Plot.cell(
            cells.filter((p) => p.kappa.value !== null),
            { x: 'a', y: 'b', fill: (p: (typeof cells)[number]) => p.kappa.value, title: pairTitle },
          ),
        ],
      }),
      'agreement',
    ),
  );
  out.append(
    table(
      'Agreement per pair',
      ['Pair', 'n', 'Percent agreement', 'Cohen’s κ', 'κ 95% interval', 'Gwet’s AC1'],
      a.pairs.map((p) => [`${p.a} × ${p.b}`, String(p.n), fmt(p.percentAgreement.value), p.kappa.insufficient ? insufficient(fmt(p.kappa.value)) : fmt(p.kappa.value), fmtInterval(p.kappa.interval), fmt(p.ac1.value)]),
    ),
  );
};

export const SUBGROUP_ATTRIBUTES = ['site', 'modality', 'scanner', 'bodyPart'] as const;

const subgroups: Page = async (api, out, query) => {
  const attribute = SUBGROUP_ATTRIBUTES.find((a) => a === query.get('attribute')) ?? 'site';
  const report = await api.quality(`subgroup:${attribute}`);
  const cells = subgroupCells(report);
  const title = (c: (typeof cells)[number]) => `${c.key} · ${c.metric}: ${fmt(c.value)} n=${c.n}${c.insufficient ? ' (insufficient)' : ''}`;
  out.append(heading('Subgroups'));
  const nav = document.createElement('p');
  nav.append('Case attribute: ');
  for (const a of SUBGROUP_ATTRIBUTES) {
    const link = document.createElement('a');
    link.href = `#/subgroups?attribute=${a}`;
    link.textContent = a;
    if (a === attribute) link.setAttribute('aria-current', 'true');
    nav.append(link, ' ');
  }
  out.append(nav);
  out.append(
    figure(
      `Quality per ${attribute}`,
      Plot.plot({
        ariaLabel: `Quality per ${attribute}`,
        marginLeft: 110,
        marginBottom: 40,
        color: { scheme: 'ylgn', domain: [0, 1], legend: true, label: 'proportion' },
        x: { label: null },
        y: { label: attribute },
        marks: [
          Plot.cell(
            cells.filter((c) => c.value !== null),
            { x: 'metric', y: 'key', fill: 'value', title },
          ),
          // A subgroup with no gold item of a class (n=0) has no value: Plot drops a null fill, so it gets a grey cell.
          Plot.cell(
            cells.filter((c) => c.value === null),
            { x: 'metric', y: 'key', fill: '#e0e0e0', title },
          ),
          Plot.text(cells, {
            x: 'metric',
            y: 'key',
            text: (c: (typeof cells)[number]) => `${fmt(c.value)}${c.insufficient ? '*' : ''}`,
            // White on the dark end of the scheme, black on the light end.
            fill: (c: (typeof cells)[number]) => ((c.value ?? 0) > 0.6 ? 'white' : 'black'),
          }),
        ],
      }),
      'subgroups',
    ),
  );
  out.append(paragraph('* insufficient: n below the protocol minimum.', 'insufficient'));
  const d = report.subgroups;
  if (d && d.rows.length > 0) {
    const rows = d.rows;
    const title = (r: (typeof rows)[number]) =>
      `${r.unit} · ${r.value}: ${fmt(r.accuracy)} (${r.correct}/${r.n}) adjusted p ${fmt(r.adjustedPValue)}${r.flagged ? ' flagged' : ''}${r.insufficient ? ' (insufficient)' : ''}`;
    out.append(
      paragraph(`Each workforce's subgroups against its own rest: ${d.test}; ${d.correctionName} correction over ${d.tests} tests at α = ${d.alpha}. Flagged cells are outlined in red.`),
    );
    out.append(
      figure(
        `Gold accuracy per workforce and ${attribute}, flagged subgroups outlined`,
        Plot.plot({
          ariaLabel: `Subgroup diagnosis per workforce and ${attribute}`,
          marginLeft: 110,
          marginBottom: 40,
          color: { scheme: 'ylgn', domain: [0, 1], legend: true, label: 'gold accuracy' },
          x: { label: attribute },
          y: { label: null },
          marks: [
            Plot.cell(rows, { x: 'value', y: 'unit', fill: (r: (typeof rows)[number]) => r.accuracy ?? Number.NaN, title }),
            Plot.cell(
              rows.filter((r) => r.flagged),
              { x: 'value', y: 'unit', fill: 'none', stroke: '#a00000', strokeWidth: 3, inset: 1.5, ariaHidden: 'true' },
            ),
          ],
        }),
        'subgroup-diagnosis',
      ),
    );
    out.append(
      table(
        `Subgroups against the rest (${d.correctionName})`,
        ['Workforce', attribute, 'Gold accuracy', '95% interval', 'Rest accuracy', 'p', 'Adjusted p', 'Flag'],
        rows.map((r) => [
          r.unit,
          { text: r.value, className: 'text' },
          r.insufficient ? insufficient(`${fmt(r.accuracy)} (${r.correct}/${r.n})`) : `${fmt(r.accuracy)} (${r.correct}/${r.n})`,
          r.lower === null || r.upper === null ? '—' : fmtInterval({ lower: r.lower, upper: r.upper }),
          `${fmt(r.rest.accuracy)} (${r.rest.correct}/${r.rest.n})`,
          fmt(r.pValue),
          fmt(r.adjustedPValue),
          { text: r.flagged ? 'worse than the rest' : '', className: 'text' },
        ]),
      ),
    );
  }
  for (const note of report.notes) out.append(paragraph(note));
};

const shares: Page = async (api, out) => {
  const rows = sharesByRound(await api.ledger());
  out.append(heading('Allocation shares over rounds'));
  out.append(
    figure(
      'Vendor shares per round',
      Plot.plot({
        ariaLabel: 'Vendor shares per round',
        x: { label: 'round', type: 'band' },
        y: { label: 'share', domain: [0, 1], tickFormat: '%' },
        color: { legend: true },
        marks: [Plot.barY(rows, { x: 'round', y: 'share', fill: 'workforceId', title: (r: (typeof rows)[number]) => `round ${r.round} · ${r.workforceId}: ${pct(r.share)}` })],
      }),
      'shares',
    ),
  );
  out.append(table('Shares per round', ['Round', 'Workforce', 'Share'], rows.map((r) => [String(r.round), { text: r.workforceId, className: 'text' }, pct(r.share)])));
};

const pipeline: Page = async (api, out) => {
  const counts = pipelineCounts(await api.batches());
  out.append(heading('Batch pipeline'));
  out.append(
    figure(
      'Batches by status, per round',
      Plot.plot({
        ariaLabel: 'Batches by status per round',
        fx: { label: 'round' },
        x: { label: null, tickRotate: -30 },
        y: { label: 'batches', grid: true, tickFormat: 'd' },
        color: { legend: true },
        marginBottom: 50,
        marks: [Plot.barY(counts, { fx: 'round', x: 'status', y: 'count', fill: 'status', title: (c: (typeof counts)[number]) => `round ${c.round} · ${c.status}: ${c.count}` })],
      }),
      'pipeline',
    ),
  );
  out.append(table('Batches by status', ['Round', 'Status', 'Batches'], counts.map((c) => [String(c.round), { text: c.status, className: 'text' }, String(c.count)])));
};

const adjudications: Page = async (api, out) => {
  const rows = openAdjudications(await api.ledger());
  out.append(heading('Open adjudications'), paragraph(`${rows.length} case(s) wait for the expert (from the ledger: requested, not yet decided or expired).`));
  out.append(
    table(
      'Open adjudications',
      ['Case', 'Batch', 'Why', 'Requested at'],
      rows.map((r) => [r.caseId, { text: r.batchId, className: 'text' }, { text: r.kinds, className: 'text' }, r.requestedAt]),
    ),
  );
};

export const PAGES: Record<string, Page> = { scorecards, trends, confusion, agreement, subgroups, shares, pipeline, adjudications };
