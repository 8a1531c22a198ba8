import type { Handler } from './adapters/handler.js';
import { defaultDeps } from './adapters/deps.js';
import { type CompleteBatchResult, completeBatch, type PartRunner } from './use-cases/complete-batch.js';
import { SettleBatchEvent } from './use-cases/events.js';
import type { Deps } from './use-cases/ports.js';

/** As `useCaseHandler`, plus the runner of its parts (settle, finalize, agreement check, rebalance), which the embedded stack names. */
export const makeHandlerWithParts =
  (deps: () => Deps = defaultDeps, part?: PartRunner): Handler<CompleteBatchResult> =>
  async (event) =>
    completeBatch(deps(), SettleBatchEvent.parse(event), part);
export const makeHandler = (deps: () => Deps = defaultDeps): Handler<CompleteBatchResult> => makeHandlerWithParts(deps);
export const handler = makeHandler();
