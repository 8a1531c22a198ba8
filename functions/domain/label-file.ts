/**
 * Validation of an uploaded label file (JSON Lines, one line per alias). A bad
 * file is rejected with per-line, human-readable reasons; nothing is partially
 * accepted. The line schema follows the protocol's task type; masks and
 * detection coordinates are checked against each item's image grid.
 *
 * Bounded: a reason quotes at most {@link QUOTE_CHARS} characters of an offending
 * value and is at most {@link MAX_REASON_CHARS} long; at most
 * {@link MAX_REPORTED_PROBLEMS} problems are kept (plus one "and N more" line), so
 * the submission record, the vendor's report and the ledger event stay small
 * whatever the file holds. Masks are decoded within their image grid (no
 * decompression bomb, no run list beyond the grid).
 */
import type { z } from 'zod';
import {
  ClassificationLabelLine,
  DetectionLabelLine,
  type ImageGrid,
  type LabelLine,
  type LineProblem,
  MAX_COORDINATE_MM,
  type ProtocolVersion,
  SegmentationLabelLine,
  type UploadedMask,
} from './model/index.js';
import {
  DEFAULT_MAX_MASK_VOXELS,
  encodeRle3dLabels,
  type MaskBound,
  parseRle3d,
  readNifti,
  type RleMask3D,
} from './scoring/index.js';

export type LabelFileResult =
  | { ok: true; labels: LabelLine[]; masks: Map<string, RleMask3D[]>; lineOf: Map<string, number> }
  | { ok: false; problems: LineProblem[] };

/** What a label file is validated against. */
export interface LabelFileContext {
  /** The batch's aliases: exactly one line per alias. */
  aliases: readonly string[];
  protocol: ProtocolVersion;
  /**
   * alias → the grid of the item's image. A mask must be on it; a detection
   * finding must lie within it. An alias without a grid is held to
   * {@link DEFAULT_MAX_MASK_VOXELS} and {@link MAX_COORDINATE_MM}.
   */
  grids?: ReadonlyMap<string, ImageGrid>;
}

/** At most this many problems are reported (the file is rejected either way), plus one "and N more" line. */
export const MAX_REPORTED_PROBLEMS = 100;
/** An offending value is quoted with at most this many characters, then "…". */
export const QUOTE_CHARS = 40;
/** No reason is longer than this (a parser's message may repeat the input). */
export const MAX_REASON_CHARS = 400;

/** A caller's value as a short JSON string: at most {@link QUOTE_CHARS} characters, then "…". */
export const quote = (value: string): string =>
  JSON.stringify(value.length > QUOTE_CHARS ? `${value.slice(0, QUOTE_CHARS)}…` : value);

const clip = (reason: string): string =>
  reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;

const describeIssue = (issue: { path: PropertyKey[]; message: string }): string =>
  issue.path.length ? `field "${issue.path.map(String).join('.')}": ${issue.message}` : issue.message;

/**
 * Decodes an uploaded mask to one run-length mask per label, within `bound`
 * (the item's image grid; without one, {@link DEFAULT_MAX_MASK_VOXELS}); throws a
 * MaskFormatError with a reason.
 */
export function decodeUploadedMask(mask: UploadedMask, bound: MaskBound = { maxVoxels: DEFAULT_MAX_MASK_VOXELS }): RleMask3D[] {
  if (mask.format === 'nifti') {
    const bytes = Buffer.from((mask as { data: string }).data, 'base64');
    return encodeRle3dLabels(readNifti(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), bound));
  }
  return parseRle3d(mask, bound);
}

/** The bound of an item's mask: its image grid, or the default voxel cap. */
export const maskBoundFor = (grid: ImageGrid | undefined): MaskBound =>
  grid ? { grid: { dims: grid.dims, spacing: grid.spacing } } : { maxVoxels: DEFAULT_MAX_MASK_VOXELS };

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
 * Detection findings within the image: each centroid inside the grid's extent
 * (dims × spacing, from 0, with one voxel of tolerance), each diameter at most
 * the image's largest extent. Without a grid, within ±{@link MAX_COORDINATE_MM}.
 */
function checkFindings(line: DetectionLabelLine, grid: ImageGrid | undefined): string | undefined {
  const extent = grid ? grid.dims.map((d, k) => d * grid.spacing[k]) : [MAX_COORDINATE_MM, MAX_COORDINATE_MM, MAX_COORDINATE_MM];
  const low = grid ? grid.spacing.map((s) => -s) : extent.map((e) => -e);
  const high = grid ? extent.map((e, k) => e + grid.spacing[k]) : extent;
  const where = grid ? `the image (${grid.dims.join('×')} voxels of ${grid.spacing.join('×')} mm)` : `±${MAX_COORDINATE_MM} mm`;
  for (const [i, f] of line.findings.entries()) {
    for (const [k, axis] of (['x', 'y', 'z'] as const).entries()) {
      const v = f[axis];
      if (!(v >= low[k] && v <= high[k])) {
        return `finding ${i + 1}: ${axis} = ${v} mm lies outside ${where}: ${axis} must be in ${fmtMm(low[k])}..${fmtMm(high[k])} mm`;
      }
    }
    const largest = Math.max(...extent);
    if (f.diameterMm !== undefined && f.diameterMm > largest) {
      return `finding ${i + 1}: diameterMm = ${f.diameterMm} is larger than ${where} (at most ${fmtMm(largest)} mm)`;
    }
  }
  return undefined;
}

const fmtMm = (v: number): string => String(Math.round(v * 1000) / 1000);

/**
 * Checks what the schema cannot: the label against the protocol and the item's
 * image grid. Returns a problem (string) or undefined; for masks, also the
 * decoded mask.
 */
function checkAgainstProtocol(
  line: LabelLine,
  protocol: ProtocolVersion,
  grid: ImageGrid | undefined,
): { problem?: string; masks?: RleMask3D[] } {
  const task = protocol.task;
  if (task.type === 'classification') {
    const label = (line as ClassificationLabelLine).label;
    return task.classes.includes(label)
      ? {}
      : { problem: `label ${quote(label)} is not in the protocol's classes [${task.classes.join(', ')}]` };
  }
  if (task.type === 'segmentation') {
    let masks: RleMask3D[];
    try {
      masks = decodeUploadedMask((line as SegmentationLabelLine).mask, maskBoundFor(grid));
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
  const problem = checkFindings(line as DetectionLabelLine, grid);
  return problem ? { problem } : {};
}

/**
 * Validates a label file against the batch's aliases and the protocol. Reports:
 * empty file, invalid UTF-8, a line that is not JSON, a line outside the task's
 * line schema, an unknown alias, a duplicate alias, a label outside the protocol
 * (class, mask label, unreadable mask, a mask off the image grid, a finding
 * outside the image), and every alias with no label.
 *
 * @example validateLabelFile(bytes, { aliases, protocol }).ok
 */
export function validateLabelFile(bytes: Uint8Array, ctx: LabelFileContext): LabelFileResult {
  const problems: LineProblem[] = [];
  let more = 0;
  const push = (p: LineProblem): void => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line: p.line, reason: clip(p.reason) });
    else more++;
  };
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
      push({ line, reason: `not valid JSON (${(e as Error).message})` });
      return;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      push({ line, reason: `outside the label schema: ${parsed.error.issues.map(describeIssue).join('; ')}` });
      return;
    }
    const l = parsed.data;
    if (!known.has(l.alias)) {
      push({ line, reason: `unknown alias ${quote(l.alias)}: not an item of this batch` });
      return;
    }
    const first = seen.get(l.alias);
    if (first !== undefined) {
      push({ line, reason: `duplicate alias ${quote(l.alias)} (first labelled on line ${first})` });
      return;
    }
    seen.set(l.alias, line);
    const check = checkAgainstProtocol(l, ctx.protocol, ctx.grids?.get(l.alias));
    if (check.problem) {
      push({ line, reason: check.problem });
      return;
    }
    if (check.masks) masks.set(l.alias, check.masks);
    labels.push(l);
  });
  const missing = ctx.aliases.filter((a) => !seen.has(a));
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).join(', ');
    push({
      line: 0,
      reason: `${missing.length} alias(es) have no label: ${shown}${missing.length > 20 ? ', …' : ''}`,
    });
  }
  if (problems.length > 0) {
    if (more > 0) problems.push({ line: 0, reason: `and ${more} more problem(s) not shown` });
    return { ok: false, problems };
  }
  return { ok: true, labels, masks, lineOf: seen };
}
