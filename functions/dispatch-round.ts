import { useCaseHandler } from './adapters/handler.js';
import { dispatchRound } from './use-cases/dispatch-round.js';
import { DispatchRoundEvent } from './use-cases/events.js';

export const makeHandler = useCaseHandler(DispatchRoundEvent, dispatchRound);
export const handler = makeHandler();
