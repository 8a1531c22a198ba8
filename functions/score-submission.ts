import { useCaseHandler } from './adapters/handler.js';
import { BatchRef } from './use-cases/events.js';
import { scoreSubmission } from './use-cases/score-submission.js';

export const makeHandler = useCaseHandler(BatchRef, scoreSubmission);
export const handler = makeHandler();
