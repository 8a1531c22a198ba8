/**
 * The dossier as one printable, self-contained HTML document: no script, no
 * external resource (fonts, images, styles are inline or system), headings in
 * order, tables with captions and header cells, and `@media print` rules that
 * start each part on a new page and repeat table headers. Every value is
 * escaped: names, reasons and labels come from vendors and PMs.
 */
import type { Dossier } from './model.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML content and in quoted attribute values. */
export const escapeHtml = (value: unknown): string => String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const prob = (x: number): string => x.toFixed(4);
const interval = (i: { lower: number; upper: number } | null): string => (i ? `[${pct(i.lower)}, ${pct(i.upper)}]` : '—');
const num = (x: number | null, digits = 3): string => (x === null ? 'n/a' : x.toFixed(digits));
const orDash = (x: string | null | undefined): string => (x ? x : '—');

type Cell = string | number | null | undefined;

/** A table: header row, body rows (values escaped), optional caption. */
function table(caption: string, head: readonly string[], rows: readonly (readonly Cell[])[], empty = 'none'): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(caption)}: ${escapeHtml(empty)}.</p>`;
  return [
    '<table>',
    `<caption>${escapeHtml(caption)}</caption>`,
    `<thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c ?? '—')}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

/** A two-column table of facts (row headers). */
function facts(caption: string, rows: readonly (readonly [string, Cell])[]): string {
  return [
    '<table class="facts">',
    `<caption>${escapeHtml(caption)}</caption>`,
    '<tbody>',
    ...rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v ?? '—')}</td></tr>`),
    '</tbody></table>',
  ].join('\n');
}

const section = (id: string, title: string, body: string[]): string =>
  `<section id="${id}" aria-labelledby="${id}-h">\n<h2 id="${id}-h">${escapeHtml(title)}</h2>\n${body.join('\n')}\n</section>`;

const para = (text: string): string => `<p>${escapeHtml(text)}</p>`;

const STYLE = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.4; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 .3em; }
h2 { font-size: 14pt; border-bottom: 1px solid #444; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 11.5pt; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1em; font-size: 9pt; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border: 1px solid #999; padding: .25em .45em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #e8e8e8; }
table.facts th { width: 30%; background: #f3f3f3; font-weight: normal; }
.ok { color: #0a5d1a; font-weight: bold; }
.bad { color: #9b0000; font-weight: bold; }
.empty, .note { color: #444; font-style: italic; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
nav ol { columns: 2; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; }
  nav { break-after: page; }
  section { break-before: page; }
  h2, h3, caption { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
`;

/**
 * The dossier as a printable HTML document (A4; each part starts a page).
 *
 * @example renderDossierHtml(buildDossier(inputs)).startsWith('<!doctype html>') // true
 */
export function renderDossierHtml(d: Dossier): string {
  const r = d.release;
  const parts: [string, string, string[]][] = [
    ['release', '1. Release', releaseSection(d)],
    ['protocol', '2. Protocol versions and their changes', protocolSection(d)],
    ['workforces', '3. Workforces', workforceSection(d)],
    ['quality', '4. Gold and agreement statistics', qualitySection(d)],
    ['acceptance', '5. Acceptance rule and its error rates', acceptanceSection(d)],
    ['adjudication', '6. Adjudication records', adjudicationSection(d)],
    ['deidentification', '7. De-identification', deidentificationSection(d)],
    ['reannotation', '8. Re-annotation history', reannotationSection(d)],
    ['ledger', '9. Ledger', ledgerSection(d)],
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Dossier of release ${escapeHtml(r.releaseId)} (${escapeHtml(r.protocol)})</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>Regulatory dossier — release ${escapeHtml(r.releaseId)}</h1>`,
    para(`Program ${r.programId} · protocol ${r.protocol} · ${r.labels} labels · generated ${d.generatedAt} by ${d.generatedBy} · format ${d.format}`),
    `<p>Release manifest SHA-256: <code>${escapeHtml(r.manifestSha256)}</code></p>`,
    '</header>',
    '<nav aria-label="Contents"><h2>Contents</h2><ol>',
    ...parts.map(([id, title]) => `<li><a href="#${id}">${escapeHtml(title.replace(/^\d+\.\s*/, ''))}</a></li>`),
    '</ol></nav>',
    '<main>',
    ...parts.map(([id, title, body]) => section(id, title, body)),
    '</main>',
    `<footer><p class="note">${escapeHtml(`Generated by Goldline from the release manifest, the stored records and the ledger at ${d.generatedAt}. The machine-readable form of this document is dossier.json.`)}</p></footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function releaseSection(d: Dossier): string[] {
  const r = d.release;
  return [
    facts('The release', [
      ['Release id', r.releaseId],
      ['Program', r.programId],
      ['Protocol', r.protocol],
      ['Created', r.createdAt],
      ['Created by', r.createdBy],
      ['Labels', r.labels],
      ['Adjudicated labels', r.adjudicatedLabels],
      ['Manifest object', r.manifestKey],
      ['Manifest SHA-256', r.manifestSha256],
      ['Labels SHA-256', r.labelsSha256],
      ['Ledger anchor', `event ${r.ledgerAnchor.seq}, hash ${r.ledgerAnchor.hash}`],
    ]),
    table(
      'Labels by workforce',
      ['Workforce', 'Labels'],
      Object.entries(r.labelsByWorkforce)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([w, n]) => [w, n]),
    ),
  ];
}

function protocolSection(d: Dossier): string[] {
  const out = [
    table(
      `Versions of protocol ${d.protocol.protocolId}`,
      ['Version', 'Title', 'Created', 'By', 'Task', 'Gold accuracy threshold', 'Min gold items', 'Gold rate', 'Overlap rate', 'Batch size', 'Routing rules', 'In force for this release'],
      d.protocol.versions.map((v) => [
        v.version,
        v.title,
        v.createdAt,
        v.createdBy,
        v.taskType,
        v.goldAccuracy,
        v.minGoldItems,
        v.goldRate,
        v.overlapRate,
        v.batchSize,
        v.routingRules,
        v.inForce ? 'yes' : 'no',
      ]),
    ),
  ];
  if (d.protocol.diffs.length === 0) out.push(para('There is one version of this protocol: no changes to show.'));
  for (const diff of d.protocol.diffs) {
    out.push(`<h3>Version ${diff.from} → ${diff.to}</h3>`);
    out.push(table(`Changes from version ${diff.from} to ${diff.to}`, ['Kind', 'Where', 'Change'], diff.changes.map((c) => [c.kind, c.path, c.text]), 'no changes'));
  }
  return out;
}

function workforceSection(d: Dossier): string[] {
  const out = [
    table(
      'Workforces of the program (terms and status at export time)',
      ['Workforce', 'Name', 'Kind', 'Qualifications', 'Price per case', 'Capacity per round', 'SLA (h)', 'Status', 'Paused', 'Labels in release'],
      d.workforces.map((w) => [
        w.workforceId,
        w.name,
        w.kind,
        w.qualifications.join(', ') || '—',
        w.pricePerCase.toFixed(2),
        w.capacityPerRound,
        w.slaHours,
        w.status,
        w.paused ? 'yes' : 'no',
        w.labelsInRelease,
      ]),
    ),
  ];
  for (const w of d.workforces) {
    out.push(`<h3>${escapeHtml(w.workforceId)}: history</h3>`);
    out.push(table(`Ledger events about ${w.workforceId}`, ['At', 'Event', 'By', 'Reason'], w.history.map((h) => [h.at, h.type, h.actor, h.reason]), 'no recorded changes'));
  }
  return out;
}

function qualitySection(d: Dossier): string[] {
  const out = [
    para(
      'Gold accuracy is the share of hidden gold items a workforce answered correctly (classification: the expert’s class; detection and segmentation: the item passes the protocol’s check), with the Wilson 95% interval and n. κ is Cohen’s kappa of a batch’s gold answers against the expert labels.',
    ),
    table(
      'Per workforce',
      ['Workforce', 'Gold n (this version)', 'Correct', 'Gold accuracy', 'Wilson 95%', 'κ batches', 'Mean κ', 'κ range', 'Scorecard (all versions)'],
      d.quality.map((q) => [
        q.workforceId,
        q.gold.n,
        q.gold.correct,
        pct(q.gold.accuracy),
        interval(q.gold.interval),
        q.kappa.n,
        num(q.kappa.mean),
        q.kappa.n ? `${num(q.kappa.min)} … ${num(q.kappa.max)}` : '—',
        q.scorecard
          ? `${pct(q.scorecard.accuracy)} ${interval(q.scorecard.interval)} n=${q.scorecard.goldN}; batches ${q.scorecard.batchesAccepted} accepted / ${q.scorecard.batchesRejected} rejected${q.scorecard.insufficient ? ' (insufficient gold: no verdict)' : ''}`
          : 'none',
      ]),
    ),
  ];
  out.push('<h3>Agreement between workforces (overlap cases)</h3>');
  out.push(para(`Agreement: ${d.agreement.method}.`));
  out.push(
    table(
      'Pairs of workforces on the cases both labelled',
      ['Workforces', 'Cases both labelled (n)', 'Agreed', 'Agreement', 'Wilson 95%', 'Cohen’s κ'],
      d.agreement.pairs.map((p) => [`${p.workforceA} · ${p.workforceB}`, p.n, p.agreements, pct(p.rate), interval(p.interval), p.kappa === null ? `n/a${p.kappaNote ? ` (${p.kappaNote})` : ''}` : num(p.kappa)]),
      'no case was labelled by two workforces under this protocol version',
    ),
  );
  for (const q of d.quality) {
    out.push(`<h3>${escapeHtml(q.workforceId)}: batches</h3>`);
    out.push(
      table(
        `Batches of ${q.workforceId}`,
        ['Batch', 'Round', 'Status', 'Items', 'Gold n', 'Correct', 'Accuracy', 'Wilson 95%', 'κ', 'Verdict'],
        q.batches.map((b) => [b.batchId, b.round, b.status, b.items, b.goldN, b.goldCorrect, pct(b.accuracy), interval(b.interval), num(b.kappa), b.verdict ?? 'not scored']),
        'no batches under this protocol version',
      ),
    );
  }
  return out;
}

/** The protocol's derived plan (issue 11): rule, single plan, SPRT, exact risks, OC rows. */
function derivedPlanSection(a: Dossier['acceptance']): string[] {
  const p = a.derived;
  if (!p) return [];
  if ('error' in p) return [para(`Derived acceptance plan: none (${p.error}).`)];
  const single = p.single ? `single plan n = ${p.single.n}, c = ${p.single.c} (exact α ${prob(p.single.alpha)}, β ${prob(p.single.beta)})` : 'no single plan within the limits';
  return [
    para(
      `Derived acceptance plan (${p.source}): rule ${p.rule}; AQL ${p.aql}, RQL ${p.rql}, α ${p.alpha}, β ${p.beta}; ${single}; ` +
        `SPRT on ${p.sprt.goldPerBatch} gold items per batch, accept when Λ ≤ ${p.sprt.acceptBound.toFixed(3)}, reject when Λ ≥ ${p.sprt.rejectBound.toFixed(3)}, ` +
        `truncated at ${p.sprt.maxItems} items with ≤ ${p.sprt.terminalC} wrong (exact α ${prob(p.sprt.alpha)} per decision / ${prob(p.sprt.batchAlpha)} per batch, β ${prob(p.sprt.beta)} / ${prob(p.sprt.batchBeta)}). ` +
        'The fixed-threshold figures below are the old rule, for comparison.',
    ),
    table(
      'Derived plan: P(accept) by true item accuracy',
      ['True accuracy', 'Single plan', 'SPRT'],
      p.oc.map((o) => [o.accuracy.toFixed(2), o.single === null ? '—' : prob(o.single), o.sprt === null ? '—' : prob(o.sprt)]),
    ),
  ];
}

function acceptanceSection(d: Dossier): string[] {
  const a = d.acceptance;
  return [
    ...derivedPlanSection(a),
    para(`Rule in force: ${a.rule}.`),
    facts('Parameters', [
      ['Gold accuracy threshold', a.threshold],
      ['Minimum gold items for a verdict', a.minGoldItems],
      ['Gold rate', a.goldRate],
      ['Batch size', a.batchSize],
      ['AQL (acceptable item accuracy)', a.aql],
      ['RQL (rejectable item accuracy)', a.rql],
      ['Quality levels from', a.levelsSource],
      ['Method', a.method],
    ]),
    table(
      'Stated error rates per gold count',
      ['Gold items', 'Where used', 'Correct needed', 'Misses allowed', `Producer’s risk P(reject | AQL ${a.aql})`, `Consumer’s risk P(accept | RQL ${a.rql})`],
      a.plans.map((p) => [p.goldItems, p.source, p.acceptMinimum ?? 'no verdict', p.maxMisses ?? '—', prob(p.pRejectAtAql), prob(p.pAcceptAtRql)]),
    ),
    table(
      'Operating characteristic: P(accept) by true item accuracy',
      ['True accuracy', ...a.plans.map((p) => `${p.goldItems} gold items`)],
      (a.plans[0]?.oc ?? []).map((pt, i) => [pt.accuracy.toFixed(2), ...a.plans.map((p) => prob(p.oc[i].pAccept))]),
    ),
  ];
}

function adjudicationSection(d: Dossier): string[] {
  if (d.adjudications.length === 0) return [para('No adjudication under this protocol version.')];
  const out: string[] = [
    table(
      'Adjudications',
      ['Adjudication', 'Batch', 'Status', 'Opened', 'Expert', 'Decided', 'Decision record', 'Record SHA-256'],
      d.adjudications.map((a) => [a.adjudicationId, a.batchId, a.status, a.createdAt, orDash(a.expert), orDash(a.decidedAt), orDash(a.recordKey), orDash(a.recordSha256)]),
    ),
  ];
  for (const a of d.adjudications) {
    out.push(`<h3>${escapeHtml(a.adjudicationId)}</h3>`);
    out.push(
      table(
        `Needs and decisions of ${a.adjudicationId}`,
        ['Case', 'Need', 'Why', 'Labels in question', 'Decision', 'Note'],
        a.needs.map((n) => {
          const dec = a.decisions.find((x) => x.caseId === n.caseId);
          return [
            n.caseId,
            n.kind,
            n.reason,
            Object.entries(n.labels)
              .map(([who, l]) => `${who}: ${l}`)
              .join('; '),
            dec?.label ?? 'undecided',
            dec?.note ?? '',
          ];
        }),
      ),
    );
  }
  return out;
}

function deidentificationSection(d: Dossier): string[] {
  const x = d.deidentification;
  const p = x.profile;
  const held = x.cases.filter((c) => c.verdict !== 'clear' || c.attestation);
  const clear = x.cases.filter((c) => c.verdict === 'clear' && !c.attestation);
  return [
    facts('Profile in force', [
      ['Standard', p.standard],
      ['Accepted options', p.acceptedOptions.length ? p.acceptedOptions.map((o) => `${o.name} (${o.code})`).join('; ') : 'none (Basic Profile only)'],
      ['Re-generated UIDs under root', orDash(p.requireRegeneratedUidRoot)],
      ['Pseudonym pattern', orDash(p.pseudonymPattern)],
      ['A case that fails the gate', p.onFailure === 'quarantine' ? 'is quarantined for a PM' : 'is labelled internally only'],
    ]),
    facts('Gate results', [
      ['Cases', x.counts.cases],
      ['Clear', x.counts.clear],
      ['Kept internal (findings)', x.counts.internalOnly],
      ['Quarantined', x.counts.quarantined],
      ['Released by a PM (with reason)', x.counts.released],
      ['Passed on a format attestation', x.counts.attested],
    ]),
    table(
      'Cases with findings, releases or attestations',
      ['Case', 'Verdict', 'Findings', 'Release (by, at, reason)', 'Attestation (by, reason, parts)', 'In release'],
      held.map((c) => [
        c.caseId,
        c.verdict,
        c.findings.join('; ') || '—',
        c.release ? `${c.release.by}, ${c.release.at}: ${c.release.reason} (overrides: ${c.release.overrides.join('; ')})` : '—',
        c.attestation ? `${c.attestation.by}: ${c.attestation.reason}${c.attestation.parts.length ? ` (${c.attestation.parts.join('; ')})` : ''}` : '—',
        c.inRelease ? 'yes' : 'no',
      ]),
      'none: every case passed the gate',
    ),
    `<h3>Clear cases (${clear.length})</h3>`,
    clear.length ? `<p class="mono">${escapeHtml(clear.map((c) => c.caseId).join(', '))}</p>` : para('none'),
    table('Ingests and image changes (ledger)', ['At', 'Event', 'By', 'Subject', 'Reason'], x.events.map((e) => [e.at, e.type, e.actor, e.subject, e.reason])),
  ];
}

function reannotationSection(d: Dossier): string[] {
  const x = d.reannotation;
  return [
    facts('Summary', [
      ['Batches rejected', x.rejectedBatches],
      ['Batches overdue', x.overdueBatches],
      ['Cases put back to the queue', x.casesRequeued],
      ['Labels superseded by adjudication', x.supersededLabels.length],
    ]),
    table('Rejections, overdue and failed batches, re-queues (ledger)', ['At', 'Event', 'Batch', 'Workforce', 'Cases', 'Reason'], x.events.map((e) => [e.at, e.type, e.batchId, orDash(e.workforceId), e.cases ?? '—', e.reason])),
    table('Superseded labels', ['Case', 'Batch', 'Workforce', 'Label'], x.supersededLabels.map((l) => [l.caseId, l.batchId, l.workforceId, l.label])),
  ];
}

function ledgerSection(d: Dossier): string[] {
  const l = d.ledger;
  const verdict = (ok: boolean, yes: string, no: string) => `<span class="${ok ? 'ok' : 'bad'}">${escapeHtml(ok ? yes : no)}</span>`;
  return [
    facts('Chain at export time', [
      ['Events', l.events],
      ['Head', l.head ? `event ${l.head.seq}, hash ${l.head.hash}` : 'empty'],
      ['Release anchor', `event ${d.release.ledgerAnchor.seq}, hash ${d.release.ledgerAnchor.hash}`],
    ]),
    `<p>Chain verification: ${verdict(l.verified, 'every event’s hash and link verified', 'the chain does NOT verify')}. Release anchor: ${verdict(l.anchorHolds, 'present with the recorded hash', 'NOT present with the recorded hash')}.</p>`,
    l.problems.length ? `<ul>${l.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : '',
  ];
}
