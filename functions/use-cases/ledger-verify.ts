/**
 * Verify a program's ledger: is every event still there, unchanged, in its
 * place? Read-only.
 *
 * Primary course:
 * 1. Read the stored ledger items as they are (event items in seq order and the
 *    eventId key items), checked only for their envelope: a tampered item is
 *    reported, never a crash.
 * 2. Take the anchors the ledger itself records: the ledger head each release
 *    was cut at (`release.created`), so a later rewrite of an earlier event shows.
 * 3. Check the chain (functions/domain/ledger-chain.ts) and return every problem,
 *    each naming the event (seq, eventId, type).
 */
import { z } from 'zod';
import { ChainAnchor, type ChainVerdict, Identifier, verifyLedgerChain } from '../domain/index.js';
import type { Deps } from './ports.js';
import { parse } from './work-queries.js';

export const VerifyLedgerInput = z.strictObject({ programId: Identifier });

export interface LedgerVerification extends ChainVerdict {
  programId: string;
  /** Release heads checked (`release.created` events' `ledgerHead`). */
  anchors: ChainAnchor[];
}

/**
 * Checks a program's ledger chain: altered, deleted and reordered events, and
 * release heads that no longer hold, each named. A later copy of an event (a
 * retried append after a crash) is listed as a benign duplicate and keeps `ok`.
 *
 * @example const v = await verifyLedger(deps, { programId: 'demo-cxr' }); if (!v.ok) for (const p of v.problems) console.log(p.message);
 */
export async function verifyLedger(deps: Deps, input: z.input<typeof VerifyLedgerInput>): Promise<LedgerVerification> {
  const req = parse(VerifyLedgerInput, input);
  const { items, keys } = await deps.repo.readLedgerChain(req.programId);
  const anchors: ChainAnchor[] = [];
  for (const i of items) {
    if (i.body.type !== 'release.created') continue;
    const head = ChainAnchor.safeParse((i.body.data as { ledgerHead?: unknown } | undefined)?.ledgerHead);
    if (head.success) anchors.push(head.data);
  }
  return { programId: req.programId, ...verifyLedgerChain(items, keys, anchors), anchors };
}
