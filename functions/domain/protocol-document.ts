/**
 * Protocol documents as a PM writes them: YAML or JSON files that are parsed and
 * checked against the `ProtocolVersion` schema with every problem named by its
 * path, compared version to version, and tried on sample cases before a round.
 * Pure: text in, plain data out; nothing here reads files or throws on bad input.
 *
 * This module parses and summarises; decoding the text within bounds is
 * protocol-decoding.ts, the problems as sentences protocol-issues.ts, the diff
 * protocol-diff.ts and the dry run protocol-dry-run.ts (re-exported here).
 */
import { ProtocolVersion, protocolRef } from './model/protocol.js';
import { decodeDocument } from './protocol-decoding.js';
import { describeRoute, describeValue } from './protocol-diff.js';
import { describeIssues, describeKind, firstOf, formatPath, MAX_REPORTED, unknownFields, withoutEchoes } from './protocol-issues.js';

export { type DecodedDocument, decodeDocument, detectDocumentFormat, type DocumentLimits, PROTOCOL_DOCUMENT_LIMITS, utf8ByteLength } from './protocol-decoding.js';
export { diffProtocolVersions, formatProtocolDiff, type ProtocolChange } from './protocol-diff.js';
export { type DryRunResult, dryRunRouting, type DryRunSummaryRow } from './protocol-dry-run.js';
export { describeIssues, type DocumentPath, formatPath, type Locate } from './protocol-issues.js';

// ---------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------

export type ParseProtocolResult =
  | {
      ok: true;
      protocol: ProtocolVersion;
      /** Not fatal: fields the format does not know (ignored), YAML warnings. */
      warnings: string[];
    }
  | { ok: false; problems: string[] };

/**
 * Parses and validates a protocol document (YAML or JSON). Every schema problem is
 * one sentence that starts with the path of the field, e.g.
 * `routing.rules[2].when[0].op: expected one of equals, notEquals, in, isTrue, isFalse, got "eq" (line 31)`.
 * Never throws on bad input.
 *
 * @example parseProtocolDocument(text, { filename: 'chest-xray.v2.yaml' })
 */
export function parseProtocolDocument(text: string, opts: { filename?: string } = {}): ParseProtocolResult {
  const decoded = decodeDocument(text, opts);
  if (!decoded.ok) return { ok: false, problems: decoded.problems };
  const { data, locate } = decoded;
  if (data === null || data === undefined) return { ok: false, problems: ['the document is empty: expected a protocol (a mapping of fields such as protocolId, version, task, routing)'] };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, problems: [`the document must be a single protocol (a mapping of fields), got ${describeKind(data)}`] };
  }
  const parsed = ProtocolVersion.safeParse(data);
  if (!parsed.success) return { ok: false, problems: firstOf(withoutEchoes(parsed.error.issues), (issues) => describeIssues(issues, data, locate), 'problem') };
  const unknown = firstOf(unknownFields(data, parsed.data), (paths) =>
    paths.map((path) => {
      const where = locate(path);
      return `${formatPath(path)}: unknown field, ignored (not part of the protocol format; check the spelling)${where ? ` (${where})` : ''}`;
    }),
    'unknown field',
  );
  return { ok: true, protocol: parsed.data, warnings: [...decoded.warnings.slice(0, MAX_REPORTED), ...unknown] };
}

// ---------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------

/**
 * A few lines that say what a valid protocol does: task, gold and overlap,
 * batches, and the routing rules in evaluation order.
 *
 * @example summarizeProtocol(protocol).split('\n')[0] // 'chest-xray@2 — Chest X-ray triage …'
 */
export function summarizeProtocol(p: ProtocolVersion): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const task = (() => {
    switch (p.task.type) {
      case 'classification':
        return `classification${p.task.ordinal ? ' (ordinal)' : ''}: ${p.task.classes.join(', ')}`;
      case 'detection':
        return `detection of ${p.task.finding}: critical at ≥ ${p.task.criticalDiameterMm} mm, sensitivity ≥ ${p.task.minSensitivity}, ≤ ${p.task.maxFalsePositivesPerItem} false marks per item`;
      case 'segmentation':
        return `segmentation of ${Object.entries(p.task.labels).map(([v, name]) => `${name} (${v})`).join(', ')}: Dice ≥ ${p.task.minDice}, HD95 ≤ ${p.task.maxHd95Mm} mm`;
    }
  })();
  const width = String(p.routing.rules.length).length;
  return [
    `${protocolRef(p)} — ${p.title}`,
    `  task     ${task}`,
    p.acceptance
      ? `  gold     ${pct(p.goldRate)} of each vendor batch, ${pct(p.acceptance.internalGoldRate)} of each internal one; acceptance by ${p.acceptance.rule}: AQL ${p.acceptance.aql}, RQL ${p.acceptance.rql}, α ${p.acceptance.alpha}, β ${p.acceptance.beta} (old threshold ${p.thresholds.goldAccuracy} kept for comparison)`
      : `  gold     ${pct(p.goldRate)} of each vendor batch; no acceptance section: decided by the defaults (sprt, AQL 0.95, RQL 0.8, α 0.05, β 0.1), not by the old threshold ${p.thresholds.goldAccuracy}`,
    `  overlap  ${pct(p.overlapRate)} of vendor cases also go to a second workforce`,
    `  batches  ${p.batchSize} cases, SLA ${p.slaHours} h, ${p.heartbeatHours === undefined ? 'no heartbeat' : `heartbeat every ${p.heartbeatHours} h`}`,
    `  routing  ${p.routing.rules.length} rule${p.routing.rules.length === 1 ? '' : 's'}, first match wins:`,
    ...p.routing.rules.map((r, i) => `    ${String(i + 1).padStart(width)}. ${r.id}: ${describeValue(r)}`),
    `    ${'default'}: ${describeRoute(p.routing.default as Record<string, unknown>)}`,
    `  created  by ${p.createdBy} at ${p.createdAt}`,
  ].join('\n');
}
