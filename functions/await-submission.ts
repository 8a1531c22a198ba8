import { useCaseHandler } from './adapters/handler.js';
import { awaitSubmission } from './use-cases/await-submission.js';
import { AwaitSubmissionEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(AwaitSubmissionEvent, awaitSubmission);
export const handler = makeHandler();
