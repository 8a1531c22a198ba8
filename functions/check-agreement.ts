import { useCaseHandler } from './adapters/handler.js';
import { checkAgreement } from './use-cases/adjudication.js';
import { BatchRef } from './use-cases/events.js';

export const makeHandler = useCaseHandler(BatchRef, checkAgreement);
export const handler = makeHandler();
