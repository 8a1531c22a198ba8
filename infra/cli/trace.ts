/**
 * `goldline trace <caseId> [--program P] [--verify] [--json]` (also `qa trace`):
 * a case's trace as a regulator reads it — every label version with its
 * lineage and what superseded it, gold results, adjudications with their
 * decision record, the de-identification gate, and the timeline of every step.
 * `--verify` has the API re-read every object from S3 and re-hash it.
 */
import type { Command } from 'commander';
import type { CaseTrace, LabelVersion, Verification } from '../../functions/use-cases/case-trace.js';
import { contextOf } from './context.js';
import type { GoldlineIo } from './io.js';

/** Registers the trace command under `parent` (the root, and the `qa` group). */
export function registerTraceCommand(parent: Command, io: GoldlineIo): void {
  parent
    .command('trace <caseId>')
    .description("a case's trace: label versions with lineage, gold results, adjudications, gate verdict, timeline")
    .option('--verify', 're-read every label object from S3 (by its version id) and re-hash it')
    .action(async (caseId: string, o: { verify?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, 'qa');
      const programId = cmd.optsWithGlobals<{ program?: string }>().program ?? ctx.connection.program;
      const trace = await ctx.api.call<CaseTrace>('GET', `/v1/cases/${encodeURIComponent(caseId)}/trace`, {
        query: { programId, ...(o.verify ? { verify: 'true' } : {}) },
      });
      if (ctx.json) return ctx.printJson(trace);
      for (const line of formatTrace(trace)) io.out(line);
    });
}

const checked = (v: Verification | undefined): string => (v === undefined ? '' : v.verified ? ' · verified ✓' : ` · NOT VERIFIED: ${v.why ?? 'no reason given'}`);

function versionLines(v: LabelVersion, accepted: boolean): string[] {
  const s = v.submission;
  const status = accepted ? 'ACCEPTED' : v.status;
  const out = [
    `  v${v.version}  ${v.createdAt}  ${status}${v.gold ? ' (gold item)' : ''}  "${v.label}"`,
    `      by ${v.workforce.id}${v.workforce.kind ? ` (${v.workforce.kind})` : ''} / annotator ${v.annotatorId}${v.preLabel ? ` (pre-label model ${v.preLabel.model}@${v.preLabel.version})` : ''} · ${v.protocol} · ` +
      `${v.adjudicationId ? `adjudication ${v.adjudicationId}` : `batch ${v.batchId}`}${v.round !== undefined ? ` · round ${v.round}` : ''}`,
    `      ${s.bucket === 'exports' ? 'decision record' : 'upload'} ${s.key} · version ${s.versionId ?? '(none kept)'} · SHA-256 ${s.sha256}` +
      `${s.sizeBytes !== undefined ? ` · ${s.sizeBytes} bytes` : ''}${s.receivedAt ? ` · received ${s.receivedAt}` : ''}${checked(s.verification)}`,
  ];
  if (v.supersededBy) {
    const by = v.supersededBy;
    out.push(`      ${by.kind === 'adjudication' ? `superseded by adjudication ${by.id}` : by.kind === 'redo' ? `re-done in ${by.id}` : `rejected with ${by.id}`}${by.at ? ` (${by.at})` : ''}: ${by.detail}`);
  }
  return out;
}

/** The trace as text, one line per entry (pure: tested without a server). */
export function formatTrace(t: CaseTrace): string[] {
  const out: string[] = [];
  const g = t.gate;
  out.push(`Case ${t.caseId} · program ${t.programId} · state ${t.case.state}${t.case.goldPool ? ' · gold case' : ''}`);
  out.push(
    `Image ${g.imageKey} · de-identification gate: ${g.verdict}` +
      ` (${g.attested ? 'attested' : 'not attested'}; ${g.findings.length ? `findings: ${g.findings.join('; ')}` : 'no findings'}` +
      `${g.problems.length ? `; holding it back: ${g.problems.join('; ')}` : ''})`,
  );
  if (g.release) out.push(`  released from quarantine by ${g.release.by} at ${g.release.at}: ${g.release.reason} (overrides: ${g.release.overrides.join('; ')})`);
  if (g.formatAttestation) out.push(`  uninspected format attested by ${g.formatAttestation.by}: ${g.formatAttestation.reason}`);

  const accepted = new Set(t.accepted);
  const verified = t.verification.requested
    ? ` · objects re-read and re-hashed: ${t.verification.objects}, ${t.verification.allVerified ? 'all verified' : 'NOT ALL VERIFIED'}`
    : '';
  out.push('');
  out.push(`Label versions: ${t.labels.length}${t.accepted.length ? ` (accepted: ${t.accepted.map((v) => `v${v}`).join(', ')})` : ''}${verified}`);
  if (t.labels.length === 0) out.push('  (none)');
  for (const v of t.labels) out.push(...versionLines(v, accepted.has(v.version)));

  for (const g of t.goldVersions ?? []) {
    out.push('', `Gold answer versions (${g.protocolId})${g.retiredBy ? ` · retired after disputes ${g.retiredBy.join(', ')}` : ''}:`);
    for (const v of g.versions) {
      out.push(`  v${v.version}  ${JSON.stringify(v.answer)}  sha256 ${v.sha256.slice(0, 16)}…${v.disputeId ? `  (dispute ${v.disputeId})` : '  (as ingested)'}`);
    }
  }
  if (t.gold.length > 0) {
    out.push('', 'Gold results:');
    for (const r of t.gold) {
      out.push(
        `  ${r.batchId} (${r.workforceId}${r.round !== undefined ? `, round ${r.round}` : ''}): ${r.correct ? 'correct' : 'WRONG'}` +
          `${r.expected !== undefined ? ` · expected "${r.expected}" got "${r.got ?? ''}"` : ''}${r.reasons?.length ? ` · ${r.reasons.join('; ')}` : ''}`,
      );
    }
  }

  if (t.adjudications.length > 0) {
    out.push('', 'Adjudications:');
    for (const a of t.adjudications) {
      out.push(`  ${a.adjudicationId} (${a.status}) for batch ${a.batchId} · opened ${a.createdAt}${a.deadline ? ` · deadline ${a.deadline}` : ''}`);
      for (const n of a.needs) out.push(`      ${n.kind}: ${n.reason}`);
      if (a.expert) {
        out.push(
          `      decided by ${a.expert.workforceId}/${a.expert.expertId}${a.decidedAt ? ` at ${a.decidedAt}` : ''}` +
            `${a.decision ? `: "${a.decision.label}"${a.decision.note ? ` (${a.decision.note})` : ''}` : ''}`,
        );
      }
      if (a.record) out.push(`      decision record ${a.record.key}${a.record.sha256 ? ` · SHA-256 ${a.record.sha256}` : ''}${checked(a.record.verification)}`);
    }
  }

  out.push('', 'Timeline:');
  if (t.timeline.length === 0) out.push('  (nothing recorded yet)');
  const width = Math.max(0, ...t.timeline.map((s) => s.step.length));
  for (const s of t.timeline) out.push(`  ${s.at}  ${s.step.padEnd(width)}  ${s.detail}`);
  return out;
}
