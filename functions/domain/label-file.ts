/**
 * Validation of an uploaded label file (JSON Lines, one label per alias). A bad
 * file is rejected with per-line, human-readable reasons; nothing is partially
 * accepted.
 */
import { ClassificationLabelLine, type LineProblem, type ProtocolVersion } from './model/index.js';

export type LabelFileResult =
  | { ok: true; labels: ClassificationLabelLine[] }
  | { ok: false; problems: LineProblem[] };

/** At most this many problems are reported (the file is rejected either way). */
export const MAX_REPORTED_PROBLEMS = 200;

const describeIssue = (issue: { path: PropertyKey[]; message: string }): string =>
  issue.path.length ? `field "${issue.path.map(String).join('.')}": ${issue.message}` : issue.message;

/**
 * Validates a classification label file against the batch's aliases and the
 * protocol's classes. Reports: empty file, invalid UTF-8, a line that is not JSON,
 * a line outside the schema, an unknown alias, a label outside the protocol's
 * classes, a duplicate alias, and every alias with no label.
 *
 * @example validateLabelFile(bytes, { aliases, protocol }).ok
 */
export function validateLabelFile(
  bytes: Uint8Array,
  ctx: { aliases: readonly string[]; protocol: ProtocolVersion },
): LabelFileResult {
  const problems: LineProblem[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problems: [{ line: 0, reason: 'file is not valid UTF-8 text' }] };
  }
  if (text.trim() === '') {
    return { ok: false, problems: [{ line: 0, reason: 'file is empty: expected one JSON object per line, one per alias' }] };
  }
  const classes = new Set(ctx.protocol.task.classes);
  const known = new Set(ctx.aliases);
  const seen = new Map<string, number>();
  const labels: ClassificationLabelLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return; // blank lines (incl. the trailing newline) are allowed
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      problems.push({ line, reason: `not valid JSON (${(e as Error).message})` });
      return;
    }
    const parsed = ClassificationLabelLine.safeParse(value);
    if (!parsed.success) {
      problems.push({ line, reason: `outside the label schema: ${parsed.error.issues.map(describeIssue).join('; ')}` });
      return;
    }
    const l = parsed.data;
    if (!known.has(l.alias)) {
      problems.push({ line, reason: `unknown alias "${l.alias}": not an item of this batch` });
      return;
    }
    const first = seen.get(l.alias);
    if (first !== undefined) {
      problems.push({ line, reason: `duplicate alias "${l.alias}" (first labelled on line ${first})` });
      return;
    }
    seen.set(l.alias, line);
    if (!classes.has(l.label)) {
      problems.push({
        line,
        reason: `label "${l.label}" is not in the protocol's classes [${[...classes].join(', ')}]`,
      });
      return;
    }
    labels.push(l);
  });
  const missing = ctx.aliases.filter((a) => !seen.has(a));
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).join(', ');
    problems.push({
      line: 0,
      reason: `${missing.length} alias(es) have no label: ${shown}${missing.length > 20 ? ', …' : ''}`,
    });
  }
  if (problems.length > 0) {
    const capped = problems.slice(0, MAX_REPORTED_PROBLEMS);
    if (problems.length > capped.length) {
      capped.push({ line: 0, reason: `${problems.length - capped.length} further problem(s) not shown` });
    }
    return { ok: false, problems: capped };
  }
  return { ok: true, labels };
}
