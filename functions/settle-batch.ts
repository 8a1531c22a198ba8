import { useCaseHandler } from './adapters/handler.js';
import { SettleBatchEvent } from './use-cases/events.js';
import { settleBatch } from './use-cases/settle-batch.js';

export const makeHandler = useCaseHandler(SettleBatchEvent, settleBatch);
export const handler = makeHandler();
