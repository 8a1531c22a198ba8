/**
 * The QA dashboard as a static site: a private bucket (the stack's defaults:
 * SSE-KMS, versioned, TLS only, access-logged) behind a CloudFront
 * distribution that reads it through origin access control, and forwards
 * /v1/* to the HTTP API — one origin for the page and the API, so the browser
 * needs no CORS and the CSP's connect-src stays 'self'. Every response carries
 * the CSP the local server sends (dashboard/csp.ts) and the
 * usual security headers. The files are built by `npx tsx dashboard/build.ts
 * dashboard/dist` and copied with `aws s3 sync` (docs/dashboard.md).
 *
 * @example
 * const site = new DashboardSite(stack, 'Dashboard', { key, accessLogs, httpApi: api.httpApi });
 * site.distribution.distributionDomainName; // https://<it>/ is the dashboard
 */
import { CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { dashboardCsp } from '../dashboard/csp.js';
import { accessLogBucketProps, bucketProps } from './secure-defaults.js';

export interface DashboardSiteProps {
  /** The stack's key: not used for the site's files (see below), kept for the bucket defaults' signature. */
  key: IKey;
  accessLogs: IBucket;
  /** The API the dashboard reads, served under /v1/* by the same distribution. */
  httpApi: HttpApi;
}

const ack = (scope: Construct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });

export class DashboardSite extends Construct {
  readonly bucket: Bucket;
  readonly logs: Bucket;
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    // The stack's bucket defaults, but SSE-S3: the files are the public build of dashboard/ (no data), and CloudFront
    // reading an SSE-KMS origin needs the key's policy opened to every distribution of the account (CDK's wildcard).
    this.bucket = new Bucket(this, 'Files', {
      ...bucketProps({ key: props.key, accessLogs: props.accessLogs, logPrefix: 'dashboard/' }),
      encryption: BucketEncryption.S3_MANAGED,
      encryptionKey: undefined,
      bucketKeyEnabled: undefined,
    });
    ack(
      this.bucket,
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'The bucket holds only the dashboard build (public code, no patient data); SSE-S3 keeps the stack key out of reach of CloudFront, whose access to an SSE-KMS origin needs a key policy open to every distribution.',
    );
    // CloudFront standard logs are written with ACLs: this bucket lets the object writer own them.
    this.logs = new Bucket(this, 'CdnLogs', {
      ...accessLogBucketProps(),
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'dashboard-cdn-logs/',
    });
    ack(
      this.bucket,
      'HIPAA.Security-S3BucketReplicationEnabled',
      'The bucket holds only the dashboard build (code, no data), which `dashboard/build.ts` rebuilds from the repository at any time; a copy in a second region adds nothing.',
    );
    ack(
      this.logs,
      'HIPAA.Security-S3BucketReplicationEnabled',
      'CDN logs stay in the region of the stack, as the access logs do; replication of logs waits on the second-region decision (docs/deploy.md).',
    );
    ack(
      this.logs,
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'CloudFront standard logging delivers only to buckets encrypted with SSE-S3; an SSE-KMS destination is not supported, so this log bucket uses SSE-S3.',
    );

    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: dashboardCsp(), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    const apiDomain = Fn.select(2, Fn.split('/', props.httpApi.apiEndpoint));
    this.distribution = new Distribution(this, 'Cdn', {
      comment: 'Goldline QA dashboard',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'cdn/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY, originSslProtocols: [OriginSslPolicy.TLS_V1_2] }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // Every API answer depends on the caller's token: never cached; the Authorization header reaches the API.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    ack(
      this.distribution,
      'AwsSolutions-CFR1',
      'The dashboard serves QA leads wherever the program runs; who may read is decided by the Cognito tokens the API verifies, not by the country of the request.',
    );
    ack(
      this.distribution,
      'AwsSolutions-CFR2',
      'No WAF web ACL by default: the distribution serves static files and forwards /v1 to the HTTP API, whose JWT authorizer refuses every unsigned call; attach an ACL (webAclId) where policy asks for one.',
    );
    ack(
      this.distribution,
      'AwsSolutions-CFR4',
      'The distribution uses the default cloudfront.net certificate, with which CloudFront always allows TLS 1.0 viewers; give it a custom domain with an ACM certificate and minimumProtocolVersion TLSv1.2_2021 to refuse older viewers.',
    );
    const stack = Stack.of(this);
    new CfnOutput(stack, 'DashboardUrl', { value: `https://${this.distribution.distributionDomainName}/`, description: 'The QA dashboard (static site; /v1 is the API)' });
    new CfnOutput(stack, 'DashboardBucketName', { value: this.bucket.bucketName, description: 'Where `aws s3 sync dashboard/dist` puts the dashboard files' });
    new CfnOutput(stack, 'DashboardDistributionId', { value: this.distribution.distributionId, description: 'Invalidate /* after a new sync' });
  }
}
