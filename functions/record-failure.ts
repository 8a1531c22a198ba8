import { useCaseHandler } from './adapters/handler.js';
import { recordFailure } from './use-cases/close-batch.js';
import { RecordFailureEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(RecordFailureEvent, recordFailure);
export const handler = makeHandler();
