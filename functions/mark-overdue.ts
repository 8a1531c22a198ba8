import { useCaseHandler } from './adapters/handler.js';
import { markOverdue } from './use-cases/close-batch.js';
import { MarkOverdueEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(MarkOverdueEvent, markOverdue);
export const handler = makeHandler();
