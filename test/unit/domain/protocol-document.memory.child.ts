/**
 * Run by protocol-document.fuzz.test.ts in a child Node with a small heap
 * (--max-old-space-size): reads the worst documents that fit under the byte cap
 * and prints each outcome as a JSON line. Running out of heap kills the child,
 * which the test sees as a non-zero exit.
 */
import { PROTOCOL_DOCUMENT_LIMITS, parseProtocolDocument } from '../../../functions/domain/protocol-document.js';

const cap = PROTOCOL_DOCUMENT_LIMITS.maxBytes;
const n = Math.floor(cap / 2) - 20;
const documents: Record<string, [string, string]> = {
  'flat list': [`title: [${Array(n).fill('1').join(',')}]\n`, 'p.yaml'],
  'deep flow': [`title: ${'['.repeat(n)}${']'.repeat(n)}\n`, 'p.yaml'],
  'deep JSON': [`{"title": ${'['.repeat(n)}${']'.repeat(n)}}`, 'p.json'],
  'wide alias': [`a: &a [${Array(5_000).fill('1').join(',')}]\nb: [${Array(Math.floor((cap - 20_000) / 4)).fill('*a').join(',')}]\n`, 'p.yaml'],
  'many keys': [`${Array.from({ length: Math.floor(cap / 12) }, (_, i) => `k${String(i).padStart(7, '0')}: 1`).join('\n')}\n`, 'p.yaml'],
};
for (const [name, [text, filename]] of Object.entries(documents)) {
  const result = parseProtocolDocument(text, { filename });
  process.stdout.write(`${JSON.stringify({ name, bytes: Buffer.byteLength(text), ok: result.ok, first: result.ok ? '' : result.problems[0] })}\n`);
}
