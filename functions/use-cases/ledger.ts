import type { LedgerEvent } from '../domain/index.js';
import type { Deps } from './ports.js';

/** Appends a ledger event stamped with the clock; a repeat (same id) is a no-op. */
export function record(deps: Deps, e: Omit<LedgerEvent, 'at'>): Promise<'appended' | 'duplicate'> {
  return deps.repo.appendLedger({ ...e, at: deps.clock.now().toISOString() });
}
