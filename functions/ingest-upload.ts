/**
 * S3 → EventBridge "Object Created" on the uploads bucket → this handler.
 * At-least-once delivery: ingestUpload is idempotent per upload id.
 */
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import type { z } from 'zod';
import { useCaseHandler } from './adapters/handler.js';
import { ingestUpload } from './use-cases/ingest-upload.js';

const Event = S3EventNotificationEventBridgeSchema.transform((e) => ({
  bucket: e.detail.bucket.name,
  // Upload keys are server-chosen from [a-z0-9./_-], so no URL decoding is needed;
  // any other key is ignored by ingest.
  key: e.detail.object.key,
  // The version this event is about (versioned bucket): ingest reads exactly it.
  versionId: e.detail.object['version-id'],
}));

export const makeHandler = useCaseHandler(
  Event as unknown as z.ZodType<{ bucket: string; key: string; versionId?: string }>,
  ingestUpload,
);
export const handler = makeHandler();
