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
import { isUtf8 } from 'node:buffer';
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

/**
 * The most bytes one line may have, by task: far above any real label (a
 * gzipped NIfTI mask of a 512×512×512 grid is a few MB in base64), far below
 * what would let one line exhaust memory when parsed. Segmentation lines are
 * further held to what the batch's largest image grid can need.
 */
export const MAX_LINE_BYTES: Record<ProtocolVersion['task']['type'], number> = {
  classification: 64 * 1024,
  detection: 1024 * 1024,
  segmentation: 8 * 1024 * 1024,
};

/**
 * The most bytes a mask line on an n-voxel grid can need: a goldline-rle3d/1
 * document holds at most 2n run numbers (disjoint runs of length ≥ 1) of at most
 * digits(n) characters and a comma each; a NIfTI holds at most 1 MiB of header
 * and 8 bytes a voxel, gzip adds ~1%, base64 a third. Plus 64 KiB for the rest.
 */
export function maskLineBytes(voxels: number): number {
  const rle = 2 * voxels * (String(voxels).length + 1);
  const nifti = Math.ceil(((1024 * 1024 + 8 * voxels) * 1.01 * 4) / 3);
  return Math.max(rle, nifti) + 64 * 1024;
}

/** The line cap of a file: by task; for masks, also by the batch's largest grid. */
function lineCap(ctx: LabelFileContext): number {
  const type = ctx.protocol.task.type;
  if (type !== 'segmentation') return MAX_LINE_BYTES[type];
  const largest = ctx.aliases.reduce((max, a) => {
    const g = ctx.grids?.get(a);
    return Math.max(max, g ? g.dims[0] * g.dims[1] * g.dims[2] : DEFAULT_MAX_MASK_VOXELS);
  }, 1);
  return Math.min(MAX_LINE_BYTES.segmentation, maskLineBytes(largest));
}

/** Lines of a file as byte ranges (split at LF, a CR before it dropped; a leading BOM skipped), 1-based. */
function* lineSpans(bytes: Uint8Array): Generator<{ line: number; start: number; end: number }> {
  let start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let line = 1; start <= bytes.length; line++) {
    let next = bytes.indexOf(0x0a, start);
    if (next === -1) next = bytes.length;
    const end = next > start && bytes[next - 1] === 0x0d ? next - 1 : next;
    yield { line, start, end };
    start = next + 1;
  }
}

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
  // Checked on the bytes, without decoding the whole file into one string.
  if (!isUtf8(bytes)) return { ok: false, problems: [{ line: 0, reason: 'file is not valid UTF-8 text' }] };
  const schema = lineSchema(ctx.protocol);
  const cap = lineCap(ctx);
  const known = new Set(ctx.aliases);
  const seen = new Map<string, number>();
  const labels: LabelLine[] = [];
  const masks = new Map<string, RleMask3D[]>();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let blank = true;
  for (const { line, start, end } of lineSpans(bytes)) {
    if (end - start > cap) {
      // Refused before it is decoded or parsed: one line cannot hold more than one item's label.
      blank = false;
      push({ line, reason: `line has ${end - start} bytes, more than the ${cap} a ${ctx.protocol.task.type} label line may hold` });
      continue;
    }
    const raw = decoder.decode(bytes.subarray(start, end));
    if (raw.trim() === '') continue; // blank lines (incl. the trailing newline) are allowed
    blank = false;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      push({ line, reason: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      push({ line, reason: `outside the label schema: ${parsed.error.issues.map(describeIssue).join('; ')}` });
      continue;
    }
    const l = parsed.data;
    if (!known.has(l.alias)) {
      push({ line, reason: `unknown alias ${quote(l.alias)}: not an item of this batch` });
      continue;
    }
    const first = seen.get(l.alias);
    if (first !== undefined) {
      push({ line, reason: `duplicate alias ${quote(l.alias)} (first labelled on line ${first})` });
      continue;
    }
    seen.set(l.alias, line);
    const check = checkAgainstProtocol(l, ctx.protocol, ctx.grids?.get(l.alias));
    if (check.problem) {
      push({ line, reason: check.problem });
      continue;
    }
    if (check.masks) masks.set(l.alias, check.masks);
    labels.push(l);
  }
  if (blank) {
    return { ok: false, problems: [{ line: 0, reason: 'file is empty: expected one JSON object per line, one per alias' }] };
  }
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
