/** The de-identification gate's Netpbm (PGM/PPM/PBM) reader: header comments and anything but the raster. */
import type { GateFinding } from './finding.js';
import { FormatError, type PrefixSource, fieldText, isSpace, latin1 } from './prefix-source.js';

/**
 * Netpbm (P1–P6): the header is whitespace-separated numbers (width, height and,
 * but for bitmaps, maxval); `#` starts a comment to the end of the line. Then one
 * whitespace byte and the raster: binary (P4–P6) of a size the header fixes, or
 * plain (P1–P3) digits and whitespace. Anything else in the file is a finding.
 */
export async function inspectNetpbm(source: PrefixSource): Promise<GateFinding[]> {
  const b = await source.whole('netpbm', 'the Netpbm file');
  const kind = b[1] - 0x30; // 1..6
  const bitmap = kind === 1 || kind === 4; // no maxval
  const values: number[] = [];
  let at = 2;
  let comments = 0;
  let commentBytes = 0;
  while (values.length < (bitmap ? 2 : 3)) {
    if (at >= b.length) throw new FormatError('netpbm', 'the Netpbm header is truncated: it cannot be read');
    const c = b[at];
    if (isSpace(c)) at++;
    else if (c === 0x23) {
      let end = at + 1;
      while (end < b.length && b[end] !== 0x0a && b[end] !== 0x0d) end++;
      if (fieldText(b.subarray(at + 1, end)) !== '') {
        comments++;
        commentBytes += end - at - 1;
      }
      at = end;
    } else if (c >= 0x30 && c <= 0x39) {
      const from = at;
      while (at < b.length && b[at] >= 0x30 && b[at] <= 0x39) at++;
      values.push(at - from > 9 ? Number.POSITIVE_INFINITY : Number(latin1(b.subarray(from, at))));
    } else throw new FormatError('netpbm', `the Netpbm header is malformed at byte ${at}: it cannot be read`);
  }
  const [width, height, maxval = 1] = values;
  if (!(width >= 1 && height >= 1 && maxval >= 1 && maxval <= 65535)) {
    throw new FormatError('netpbm', 'the Netpbm header declares an empty image or a maxval outside 1–65535: it cannot be read');
  }
  if (at >= b.length || !isSpace(b[at])) throw new FormatError('netpbm', 'the Netpbm header does not end in a whitespace byte before the raster: it cannot be read');
  const raster = b.subarray(at + 1);
  const findings: GateFinding[] = [];
  if (comments > 0) {
    findings.push({
      format: 'netpbm',
      rule: 'identifying-text',
      location: 'header comment',
      message: `the Netpbm header holds ${comments} comment line(s) (${commentBytes} bytes) of free text: remove them`,
    });
  }
  if (kind <= 3) {
    // Plain rasters are text: only digits and whitespace belong there.
    if (raster.some((x) => !isSpace(x) && (x < 0x30 || x > 0x39))) {
      findings.push({ format: 'netpbm', rule: 'identifying-text', location: 'raster', message: 'the plain Netpbm raster holds characters other than digits and whitespace: remove them' });
    }
    return findings;
  }
  const bytesPerSample = maxval > 255 ? 2 : 1;
  const expected = kind === 4 ? Math.ceil(width / 8) * height : width * height * bytesPerSample * (kind === 6 ? 3 : 1);
  if (raster.length < expected) throw new FormatError('netpbm', `the Netpbm raster is truncated: ${raster.length} of ${expected} bytes`);
  const trailing = raster.subarray(expected);
  if (trailing.some((x) => x !== 0)) {
    findings.push({ format: 'netpbm', rule: 'uninspectable-format', location: 'after the raster', message: `the Netpbm file has ${trailing.length} bytes after its raster that the gate cannot inspect: remove them` });
  }
  return findings;
}
