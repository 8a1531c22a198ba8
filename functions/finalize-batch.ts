import { useCaseHandler } from './adapters/handler.js';
import { BatchRef } from './use-cases/events.js';
import { finalizeBatch } from './use-cases/finalize-batch.js';

export const makeHandler = useCaseHandler(BatchRef, finalizeBatch);
export const handler = makeHandler();
