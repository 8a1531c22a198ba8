/**
 * A round's quality report as one printable HTML page: self-contained (no
 * script, no external style or font), every value escaped, an `@media print`
 * style for A4. Tables only: the dashboard draws the charts.
 */
import type { Distribution, Estimate, Proportion, QualityReport } from './report-schema.js';

/** Escapes text for HTML element content and attribute values. */
const escapeHtml = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const insufficient = (on: boolean) => (on ? ' <span class="insufficient">insufficient</span>' : '');
const prop = (p: Proportion | undefined): string =>
  !p ? '—' : `${num(p.value)} <span class="ci">[${num(p.interval?.lower)}, ${num(p.interval?.upper)}]</span> <span class="n">${p.k}/${p.n}</span>${insufficient(p.insufficient)}`;
const est = (e: Estimate | null | undefined): string =>
  !e ? '—' : `${num(e.value)} <span class="ci">[${num(e.interval?.lower)}, ${num(e.interval?.upper)}]</span> <span class="n">n=${e.n}</span>${insufficient(e.insufficient)}`;
const dist = (d: Distribution): string =>
  `${num(d.median)} <span class="ci">(p05 ${num(d.p05)}, p95 ${num(d.p95)})</span> <span class="n">n=${d.n}</span>${insufficient(d.insufficient)}`;
const cell = (html: string) => `<td>${html}</td>`;
const table = (head: readonly string[], rows: readonly string[][]) =>
  `<table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;

/**
 * Renders the report of one round.
 *
 * @example renderRoundReportHtml(report, { round: 1, generatedAt: '2026-01-01T00:00:00Z' }) // '<!doctype html>…'
 */
export function renderRoundReportHtml(r: QualityReport, meta: { round: number; generatedAt: string }): string {
  const e = escapeHtml;
  const parts: string[] = [];
  parts.push(`<h1>Quality report — ${e(r.programId)}, round ${meta.round}</h1>`);
  parts.push(`<p>Protocol ${e(r.protocol)} (${e(r.taskType)}); minimum ${r.minGoldItems} gold items per figure; generated ${e(meta.generatedAt)}.</p>`);
  parts.push(`<p class="methods">Intervals: ${e(r.methods.proportions)}; ${e(r.methods.agreement)}.</p>`);
  parts.push('<h2>Gold results per workforce</h2>');
  if (r.taskType === 'classification') {
    parts.push(
      table(
        ['Workforce', 'Gold accuracy [95% CI] k/n', ...(r.groups[0]?.classification?.perClass.map((c) => `Sensitivity ${c.class}`) ?? [])],
        r.groups.map((g) => [e(g.key), prop(g.classification?.goldAccuracy), ...(g.classification?.perClass.map((c) => prop(c.sensitivity)) ?? [])]),
      ),
    );
    parts.push('<h2>Confusion against gold (rows: gold, columns: given)</h2>');
    for (const g of r.groups) {
      const c = g.classification?.confusion;
      if (!c) continue;
      parts.push(`<h3>${e(g.key)}</h3>`, table(['gold \\ given', ...c.classes], c.counts.map((row, i) => [e(c.classes[i]), ...row.map((x) => String(x))])));
    }
  } else if (r.taskType === 'segmentation') {
    parts.push(
      table(
        ['Workforce', 'Gold pass [95% CI] k/n', 'Metric', 'Median (p05, p95) n'],
        r.groups.flatMap((g) => (g.segmentation?.metrics ?? []).map((m) => [e(g.key), prop(g.segmentation?.goldPass), e(m.metric), dist(m.distribution)])),
      ),
    );
  } else {
    parts.push(
      table(
        ['Workforce', 'Gold pass', 'Sensitivity', 'FP per image', 'CPM'],
        r.groups.map((g) => [e(g.key), prop(g.detection?.goldPass), prop(g.detection?.sensitivity), num(g.detection?.falsePositivesPerImage.value), num(g.detection?.froc?.cpm)]),
      ),
    );
  }
  if (r.agreement) {
    parts.push(`<h2>Agreement on ${r.agreement.overlapCases} overlap cases (κ weights: ${e(r.agreement.kappaWeights)})</h2>`);
    parts.push(table(['Rater A', 'Rater B', 'Agreement', "Cohen's κ", "Gwet's AC1"], r.agreement.pairs.map((p) => [e(p.a), e(p.b), prop(p.percentAgreement), est(p.kappa), est(p.ac1)])));
    if (r.agreement.fleissKappa) parts.push(`<p>Fleiss' κ ${est(r.agreement.fleissKappa)}; Krippendorff's α ${est(r.agreement.krippendorffAlpha)}</p>`);
  }
  if (r.staple?.raters.length) {
    parts.push(`<h2>STAPLE on ${new Set(r.staple.cases.map((c) => c.caseId)).size} cases three or more raters segmented</h2>`);
    parts.push(table(['Rater', 'Cases', 'Mean sensitivity', 'Mean specificity'], r.staple.raters.map((x) => [e(x.rater), String(x.cases), num(x.meanSensitivity), num(x.meanSpecificity)])));
  }
  if (r.dawidSkene) {
    parts.push('<h2>Dawid–Skene: the confusion each rater makes most</h2>');
    parts.push(
      table(
        ['Rater', 'Answers', 'True class', 'Answered', 'P'],
        r.dawidSkene.raters.map((x) => [e(x.rater), String(x.answers), e(x.worstConfusion?.trueClass ?? '—'), e(x.worstConfusion?.answered ?? '—'), num(x.worstConfusion?.probability)]),
      ),
    );
  }
  parts.push('<h2>Operations</h2>');
  parts.push(
    table(
      ['Workforce', 'Batches', 'Accepted', 'Rejected', 'Overdue', 'SLA adherence', 'Rejection rate', 'Rework rate', 'Cases/day', 'Cost per accepted case (cents)'],
      r.groups
        .filter((g) => g.operations)
        .map((g) => {
          const o = g.operations as NonNullable<typeof g.operations>;
          return [e(g.key), String(o.batches), String(o.accepted), String(o.rejected), String(o.overdue), prop(o.slaAdherence), prop(o.rejectionRate), prop(o.reworkRate), num(o.throughputCasesPerDay, 1), num(o.costPerAcceptedCaseMinor, 1)];
        }),
    ),
  );
  if (r.notes.length) parts.push(`<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`);
  const style = [
    'body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}',
    'table{border-collapse:collapse;margin:.5em 0 1em;font-size:10pt}',
    'th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}',
    '.ci,.n{color:#444;font-size:9pt}.insufficient{color:#8a4b00;font-weight:600}',
    '@media print{@page{size:A4;margin:15mm}body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}',
  ].join('\n');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(`Quality report — ${r.programId}, round ${meta.round}`)}</title><style>${style}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
