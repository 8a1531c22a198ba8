import { useCaseHandler } from './adapters/handler.js';
import { BatchRef } from './use-cases/events.js';
import { validateSubmission } from './use-cases/validate-submission.js';

export const makeHandler = useCaseHandler(BatchRef, validateSubmission);
export const handler = makeHandler();
