import { useCaseHandler } from './adapters/handler.js';
import { BatchRef } from './use-cases/events.js';
import { rebalanceAfterBatch } from './use-cases/rebalance.js';

export const makeHandler = useCaseHandler(BatchRef, rebalanceAfterBatch);
export const handler = makeHandler();
