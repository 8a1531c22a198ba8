/**
 * The front door of the Goldline stack: a Cognito user pool that signs people
 * in (groups pm, qa, expert, vendor; the workforce a vendor or expert acts for
 * as a custom attribute), its app client, and an API Gateway HTTP API whose JWT
 * authorizer checks the pool's ID tokens before the API function runs. The
 * function verifies every token again itself (functions/api/auth.ts) with the
 * issuer, audience and JWKS URL this construct puts in its environment, so the
 * deployed API and the embedded one (infra/local/api-server.ts) enforce the
 * same rules.
 *
 * One application, two functions (FUNCTIONS `Api` and `WorkApi`, each with its
 * own grants in ACCESS): API Gateway sends the routes vendors call
 * (`API.workRoutes`: their batches, uploads, reports, disputes, statements and `/v1/me`) to WorkApi,
 * which may not touch the gold bucket, and everything else under `/v1` to Api
 * (PM, QA and adjudication routes: gold ingest needs the gold pool; dispatch
 * invokes DispatchRound).
 * A vendor's token sent to an Api route is refused by the role check before any
 * body is read. This construct adds only what the API needs around them.
 *
 * @example
 * const api = new GoldlineApi(this, 'Front', { key, handler: functions.Api, workHandler: functions.WorkApi, dispatchRound: functions.DispatchRound });
 * api.userPool.userPoolId; // where people are created and put in groups (docs/deploy.md)
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { API } from './definitions.js';
import { encryptedLogGroup } from './secure-defaults.js';

export interface GoldlineApiProps {
  /** The stack key: encrypts the access-log group. */
  readonly key: IKey;
  /** The API function of the PM, QA and adjudication routes (FUNCTIONS entry `Api`). */
  readonly handler: LambdaFunction;
  /** The API function of the routes vendors call (FUNCTIONS entry `WorkApi`): no gold. */
  readonly workHandler: LambdaFunction;
  /** DispatchRound: the dispatch route invokes it, so neither API function reads batch keys or starts executions. */
  readonly dispatchRound: IFunction;
}

/**
 * One line of JSON per request: who (the token's `sub`, never the token), what
 * route, the answer, and why API Gateway refused it if it did. No bodies and no
 * query strings (cursors and filters stay out of the logs).
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  sub: '$context.authorizer.claims.sub',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
};

const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });

export class GoldlineApi extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the `iss` of the pool's tokens. */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: GoldlineApiProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // ---- Sign-in ----------------------------------------------------------
    // Accounts are created by an administrator (docs/deploy.md), never by
    // sign-up; each is kept when the stack goes (a person's identity and MFA
    // device are not something a redeploy should lose).
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // Mutable so that an administrator can move a person to another
        // workforce (AdminUpdateUserAttributes, an IAM-authorized call); the app
        // client cannot write it, so nobody can change their own.
        [API.workforceAttribute]: new StringAttribute({ minLen: 1, maxLen: 64, mutable: true }),
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 24,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Threat protection (compromised credentials, adaptive authentication) on
      // sign-in, enforced: the Plus feature plan is what provides it.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    ack(
      this.userPool,
      'AwsSolutions-COG2',
      'MFA is offered to every user (TOTP authenticator apps, no SMS) and an administrator can require it per user; a pool-wide requirement would lock out the automated vendor accounts that upload label files from their own pipelines.',
    );
    for (const group of API.groups) {
      new CfnUserPoolGroup(this, `Group-${group}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group,
        description: `Goldline role ${group}: the routes this role may call are listed in functions/api (route table)`,
      });
    }

    this.client = this.userPool.addClient('ApiClient', {
      // A public client (CLI, browser): no secret it could not keep.
      generateSecret: false,
      // SRP for people and their tools; ADMIN_USER_PASSWORD_AUTH only for
      // callers with IAM rights on this pool (operators' smoke tests).
      authFlows: { userSrp: true, adminUserPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }).withCustomAttributes(API.workforceAttribute),
      writeAttributes: new ClientAttributes().withStandardAttributes({ email: true }),
    });
    this.issuer = this.userPool.userPoolProviderUrl;

    // ---- Which tokens the functions trust ---------------------------------
    for (const fn of [props.handler, props.workHandler]) {
      fn.addEnvironment(API.env.issuer, this.issuer);
      fn.addEnvironment(API.env.audience, this.client.userPoolClientId);
      fn.addEnvironment(API.env.jwksUrl, `${this.issuer}/.well-known/jwks.json`);
    }
    // The PM function invokes DispatchRound, its unqualified ARN only (no `:*` version wildcard).
    props.handler.addEnvironment(API.env.dispatchFunction, props.dispatchRound.functionName);
    props.handler.role!.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.dispatchRound.functionArn] }));

    // ---- HTTP API ---------------------------------------------------------
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${stack.stackName}-api`,
      description: 'Goldline HTTP API (/v1): PM, QA, expert and vendor routes',
      // The stage is declared below, with throttling and access logs.
      createDefaultStage: false,
      // No CORS: the callers are the goldline CLI, curl and scripts, not browser pages of another origin.
    });
    const integration = new HttpLambdaIntegration('ApiFunction', props.handler);
    const work = new HttpLambdaIntegration('WorkApiFunction', props.workHandler);
    const authorizer = new HttpJwtAuthorizer('CognitoIdToken', this.issuer, {
      authorizerName: 'cognito-id-token',
      jwtAudience: [this.client.userPoolClientId],
      identitySource: ['$request.header.Authorization'],
    });
    // API Gateway picks the most specific route: /v1/batches/{proxy+} over /v1/{proxy+}.
    this.httpApi.addRoutes({ path: `${API.basePath}/{proxy+}`, methods: [HttpMethod.ANY], integration, authorizer });
    for (const path of API.workRoutes) this.httpApi.addRoutes({ path, methods: [HttpMethod.ANY], integration: work, authorizer });
    const openApi = this.httpApi.addRoutes({ path: API.openApiPath, methods: [HttpMethod.GET], integration: work, authorizer: new HttpNoneAuthorizer() });
    for (const route of openApi) {
      ack(
        route,
        'AwsSolutions-APIG4',
        'The OpenAPI document describes routes and their schemas only; it holds no data, no identifiers and no secret, and clients read it before they have a token.',
      );
    }

    this.accessLogs = encryptedLogGroup(this, 'AccessLogs', props.key);
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { ...API.throttle },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // ---- Outputs (stack-level names: what docs/deploy.md and the CLI read) --
    new CfnOutput(stack, 'ApiUrl', { value: `${this.httpApi.apiEndpoint}${API.basePath}`, description: 'Base URL of the HTTP API (routes under it)' });
    new CfnOutput(stack, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool: create users and put them in groups here' });
    new CfnOutput(stack, 'UserPoolClientId', { value: this.client.userPoolClientId, description: 'App client id: the audience of ID tokens' });
    new CfnOutput(stack, 'TokenIssuer', { value: this.issuer, description: 'Issuer of the ID tokens the API accepts' });
  }
}
