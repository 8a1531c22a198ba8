import { useCaseHandler } from './adapters/handler.js';
import { markOverdue } from './use-cases/close-batch.js';
import { BatchRef } from './use-cases/events.js';

export const makeHandler = useCaseHandler(BatchRef, markOverdue);
export const handler = makeHandler();
