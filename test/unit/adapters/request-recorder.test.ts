import { Readable } from 'node:stream';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { beforeEach, describe, expect, it } from 'vitest';
import { RequestRecorder } from '../../../functions/adapters/request-recorder.js';

/**
 * Real SDK clients (so the middleware stack runs, which aws-sdk-client-mock
 * bypasses) over a transport that answers in memory: no network.
 */
const answer = (statusCode: number, body = '', headers: Record<string, string> = {}) => ({
  handle: async () => ({ response: { statusCode, headers, body: Readable.from([Buffer.from(body)]) } }),
});
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = (handler = answer(200)) =>
  new S3Client({ region: 'us-east-1', credentials, forcePathStyle: true, endpoint: 'http://127.0.0.1:1', requestHandler: handler as never });

const names = { buckets: { 'phys-gold': 'gold', 'phys-uploads': 'uploads', 'phys-images': 'images' }, tables: { 'phys-main': 'Main' } };

describe('Class: RequestRecorder', () => {
  let recorder: RequestRecorder;

  beforeEach(() => {
    recorder = new RequestRecorder(names);
  });

  describe('Method: attach', () => {
    it('records the function a request was made in, its IAM action and the logical bucket and key', async () => {
      // Arrange
      const client = recorder.attach(s3(), 's3');

      // Act
      await recorder.runAs('IngestUpload', () => client.send(new GetObjectCommand({ Bucket: 'phys-gold', Key: 'batch-aliases/b-1.json' })));

      // Assert
      expect(recorder.accesses()).toEqual([
        {
          fn: 'IngestUpload',
          service: 's3',
          action: 's3:GetObject',
          operation: 'GetObject',
          resource: { kind: 'object', bucket: 'gold', key: 'batch-aliases/b-1.json' },
          via: 'call',
        },
      ]);
    });

    it('records a request made outside any function without a function name', async () => {
      // Arrange
      const client = recorder.attach(s3(), 's3');

      // Act
      await client.send(new PutObjectCommand({ Bucket: 'phys-images', Key: 'images/c-1.pgm', Body: 'x' }));

      // Assert
      expect(recorder.accesses().map((a) => [a.fn, a.action])).toEqual([[undefined, 's3:PutObject']]);
    });

    it('records a presigned URL as a presign of the action its user will exercise with the signer’s credentials', async () => {
      // Arrange
      const client = recorder.attach(s3(), 's3');

      // Act
      await recorder.runAs('VendorApi', () => getSignedUrl(client, new PutObjectCommand({ Bucket: 'phys-uploads', Key: 'uploads/v/b/u.jsonl' }), { expiresIn: 60 }));

      // Assert
      expect(recorder.accesses()).toEqual([
        expect.objectContaining({ fn: 'VendorApi', action: 's3:PutObject', resource: { kind: 'object', bucket: 'uploads', key: 'uploads/v/b/u.jsonl' }, via: 'presign' }),
      ]);
    });

    it('asks for s3:GetObjectVersion when a read names a version', async () => {
      // Arrange
      const client = recorder.attach(s3(), 's3');

      // Act
      await recorder.runAs('ScoreSubmission', () => client.send(new GetObjectCommand({ Bucket: 'phys-uploads', Key: 'uploads/v/b/u.jsonl', VersionId: 'v1' })));

      // Assert
      expect(recorder.accesses().map((a) => a.action)).toEqual(['s3:GetObjectVersion']);
    });

    it('records a copy as a read of its source and a write of its target', async () => {
      // Arrange
      const client = recorder.attach(s3(answer(200, '<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>')), 's3');

      // Act
      await recorder.runAs('PrepareManifest', () =>
        client.send(new CopyObjectCommand({ Bucket: 'phys-images', Key: 'batches/b/images/a1', CopySource: 'phys-images/images/case%201.pgm' })),
      );

      // Assert
      expect(recorder.accesses().map((a) => [a.action, a.resource])).toEqual([
        ['s3:GetObject', { kind: 'object', bucket: 'images', key: 'images/case 1.pgm' }],
        ['s3:PutObject', { kind: 'object', bucket: 'images', key: 'batches/b/images/a1' }],
      ]);
    });

    it('asks for s3:ListBucket when a read finds no object (without it S3 answers AccessDenied, not NoSuchKey)', async () => {
      // Arrange
      const client = recorder.attach(s3(answer(404)), 's3');

      // Act
      const miss = recorder.runAs('IngestUpload', () => client.send(new HeadObjectCommand({ Bucket: 'phys-uploads', Key: 'reports/x.json' })));

      // Assert
      await expect(miss).rejects.toMatchObject({ name: 'NotFound' });
      expect(recorder.accesses().map((a) => [a.action, a.resource.kind])).toEqual([
        ['s3:GetObject', 'object'],
        ['s3:ListBucket', 'bucket'],
      ]);
    });

    it('records a DynamoDB query on an index with the logical table and the index', async () => {
      // Arrange
      const client = recorder.attach(
        new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:1', requestHandler: answer(200, '{"Items":[]}') as never }),
        'dynamodb',
      );

      // Act
      await recorder.runAs('Rebalance', () =>
        client.send(new QueryCommand({ TableName: 'phys-main', IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': { S: 'x' } } })),
      );

      // Assert
      expect(recorder.accesses()).toEqual([
        expect.objectContaining({ fn: 'Rebalance', action: 'dynamodb:Query', resource: { kind: 'table', table: 'Main', index: 'gsi1' } }),
      ]);
    });
  });

  describe('Method: recordingCallbacks', () => {
    it('records a task-token callback as states:SendTask* on the state machine, then sends it', async () => {
      // Arrange
      const sent: string[] = [];
      const send = (kind: string) => async (token: string) => {
        sent.push(`${kind} ${token}`);
        return 'sent' as const;
      };
      const callbacks = recorder.recordingCallbacks({ success: send('success'), heartbeat: send('heartbeat') }, 'batchLifecycle');

      // Act
      await recorder.runAs('IngestUpload', async () => {
        await callbacks.heartbeat('tok-1');
        await callbacks.success('tok-1', {});
      });

      // Assert
      expect(sent).toEqual(['heartbeat tok-1', 'success tok-1']);
      expect(recorder.accesses().map((a) => [a.fn, a.action, a.resource])).toEqual([
        ['IngestUpload', 'states:SendTaskHeartbeat', { kind: 'stateMachine', stateMachine: 'batchLifecycle' }],
        ['IngestUpload', 'states:SendTaskSuccess', { kind: 'stateMachine', stateMachine: 'batchLifecycle' }],
      ]);
    });
  });

  describe('Method: bind', () => {
    it('keeps each handler’s name for requests made after it awaited other work', async () => {
      // Arrange
      const client = recorder.attach(s3(), 's3');
      const handler = async (key: string) => {
        await new Promise((r) => setTimeout(r, 1));
        await client.send(new GetObjectCommand({ Bucket: 'phys-gold', Key: key }));
      };

      // Act: two functions at once, interleaved.
      await Promise.all([recorder.bind('FinalizeBatch', handler)('batch-keys/b.json'), recorder.bind('ScoreSubmission', handler)('batch-answers/b.json')]);

      // Assert
      expect(recorder.accesses().map((a) => [a.fn, (a.resource as { key: string }).key])).toEqual([
        ['FinalizeBatch', 'batch-keys/b.json'],
        ['ScoreSubmission', 'batch-answers/b.json'],
      ]);
    });
  });
});
