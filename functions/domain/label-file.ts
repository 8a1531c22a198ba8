/**
 * Validation of an uploaded label file (JSON Lines, one line per alias). A bad
 * file is rejected with per-line, human-readable reasons; nothing is partially
 * accepted. The line schema follows the protocol's task type.
 */
import type { z } from 'zod';
import {
  ClassificationLabelLine,
  DetectionLabelLine,
  type LabelLine,
  type LineProblem,
  type ProtocolVersion,
  SegmentationLabelLine,
  type UploadedMask,
} from './model/index.js';
import { parseRle3d, readNifti, encodeRle3dLabels, type RleMask3D } from './scoring/index.js';

export type LabelFileResult =
  | { ok: true; labels: LabelLine[]; masks: Map<string, RleMask3D[]>; lineOf: Map<string, number> }
  | { ok: false; problems: LineProblem[] };

/** At most this many problems are reported (the file is rejected either way). */
export const MAX_REPORTED_PROBLEMS = 200;

const describeIssue = (issue: { path: PropertyKey[]; message: string }): string =>
  issue.path.length ? `field "${issue.path.map(String).join('.')}": ${issue.message}` : issue.message;

/** Decodes an uploaded mask to one run-length mask per label; throws with a reason. */
export function decodeUploadedMask(mask: UploadedMask): RleMask3D[] {
  if (mask.format === 'nifti') {
    const bytes = Buffer.from((mask as { data: string }).data, 'base64');
    return encodeRle3dLabels(readNifti(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
  }
  return parseRle3d(mask);
}

const lineSchema = (protocol: ProtocolVersion): z.ZodType<LabelLine> => {
  switch (protocol.task.type) {
    case 'classification':
      return ClassificationLabelLine;
    case 'detection':
      return DetectionLabelLine;
    case 'segmentation':
      return SegmentationLabelLine;
  }
};

/**
 * Checks what the schema cannot: the label against the protocol. Returns a
 * problem (string) or undefined; for masks, also the decoded mask.
 */
function checkAgainstProtocol(line: LabelLine, protocol: ProtocolVersion): { problem?: string; masks?: RleMask3D[] } {
  const task = protocol.task;
  if (task.type === 'classification') {
    const label = (line as ClassificationLabelLine).label;
    return task.classes.includes(label)
      ? {}
      : { problem: `label "${label}" is not in the protocol's classes [${task.classes.join(', ')}]` };
  }
  if (task.type === 'segmentation') {
    let masks: RleMask3D[];
    try {
      masks = decodeUploadedMask((line as SegmentationLabelLine).mask);
    } catch (e) {
      return { problem: `mask cannot be read: ${(e as Error).message.split('\n').join(' ')}` };
    }
    const allowed = Object.keys(task.labels).map(Number);
    const foreign = masks.filter((m) => m.runs.length > 0 && !allowed.includes(m.label)).map((m) => m.label);
    if (foreign.length > 0) {
      return { problem: `mask label(s) ${foreign.join(', ')} not in the protocol's labels [${allowed.join(', ')}]` };
    }
    return { masks };
  }
  return {};
}

/**
 * Validates a label file against the batch's aliases and the protocol. Reports:
 * empty file, invalid UTF-8, a line that is not JSON, a line outside the task's
 * line schema, an unknown alias, a duplicate alias, a label outside the protocol
 * (class, mask label, unreadable mask), and every alias with no label.
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
  const schema = lineSchema(ctx.protocol);
  const known = new Set(ctx.aliases);
  const seen = new Map<string, number>();
  const labels: LabelLine[] = [];
  const masks = new Map<string, RleMask3D[]>();
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
    const parsed = schema.safeParse(value);
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
    const check = checkAgainstProtocol(l, ctx.protocol);
    if (check.problem) {
      problems.push({ line, reason: check.problem });
      return;
    }
    if (check.masks) masks.set(l.alias, check.masks);
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
  return { ok: true, labels, masks, lineOf: seen };
}
