// A local Amazon SNS for tests: an HTTP endpoint speaking SNS's real wire protocol (the AWS Query
// protocol: POST / with a form-encoded body, Action=..., Version=2010-03-31, answers in XML with
// SNS's namespace, errors as <ErrorResponse>), so keytrail's SNS notifications go through the real
// @aws-sdk/client-sns pointed at it (AWS_ENDPOINT_URL_SNS), never a stubbed client.
//
//   CreateTopic  Name -> arn:aws:sns:<region>:<account>:<Name>
//   Publish      TopicArn, Message, Subject, MessageAttributes.entry.N.{Name, Value.DataType,
//                Value.StringValue}; unknown topic -> 404 NotFound; SigV4 Authorization required
//   Faults       fail(n) answers the next n Publish calls with 500 InternalError

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';

export interface Published {
  messageId: string;
  topicArn: string;
  subject: string | null;
  message: string;
  attributes: Record<string, { dataType: string; value: string }>;
}

export interface SnsServer {
  endpoint: string;
  published: Published[];
  /** Every request's Action, in order (retries included). */
  actions: string[];
  createTopic(name: string): string;
  fail(count: number): void;
  close(): Promise<void>;
}

const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';

export async function startSnsServer(options: { region?: string; account?: string } = {}): Promise<SnsServer> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '111111111111';
  const topics = new Set<string>();
  const published: Published[] = [];
  const actions: string[] = [];
  let failures = 0;

  const topicArn = (name: string) => `arn:aws:sns:${region}:${account}:${name}`;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const form = new URLSearchParams(raw);
    const action = form.get('Action') ?? '';
    actions.push(action);
    const requestId = randomUUID();
    const error = (status: number, type: 'Sender' | 'Receiver', code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(
        `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    };
    const ok = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(`<${action}Response xmlns="${NS}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
    };

    if (req.method !== 'POST' || !/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      return error(400, 'Sender', 'InvalidAction', 'expected a form-encoded POST');
    }
    const auth = req.headers.authorization ?? '';
    if (!new RegExp(`^AWS4-HMAC-SHA256 Credential=[^/]+/\\d{8}/${region}/sns/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`).test(auth)) {
      return error(403, 'Sender', 'InvalidClientTokenId', 'missing or malformed SigV4 Authorization');
    }
    if (form.get('Version') !== '2010-03-31') return error(400, 'Sender', 'InvalidParameter', `Version ${form.get('Version')}`);
    switch (action) {
      case 'CreateTopic': {
        const name = form.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) return error(400, 'Sender', 'InvalidParameter', 'Invalid parameter: Topic Name');
        topics.add(topicArn(name));
        return ok(`<CreateTopicResult><TopicArn>${topicArn(name)}</TopicArn></CreateTopicResult>`);
      }
      case 'Publish': {
        if (failures > 0) {
          failures--;
          return error(500, 'Receiver', 'InternalError', 'Internal Error');
        }
        const arn = form.get('TopicArn') ?? '';
        if (!topics.has(arn)) return error(404, 'Sender', 'NotFound', 'Topic does not exist');
        const message = form.get('Message');
        if (!message) return error(400, 'Sender', 'InvalidParameter', 'Invalid parameter: Empty message');
        const subject = form.get('Subject');
        if (subject !== null && (subject.length > 100 || /[^\x20-\x7e]/.test(subject))) {
          return error(400, 'Sender', 'InvalidParameter', 'Invalid parameter: Subject');
        }
        const attributes: Published['attributes'] = {};
        for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
          const p = `MessageAttributes.entry.${n}`;
          const dataType = form.get(`${p}.Value.DataType`) ?? '';
          const value = form.get(`${p}.Value.StringValue`);
          if (!/^(String|Number|Binary)(\..+)?$/.test(dataType) || value === null) {
            return error(400, 'Sender', 'ParameterValueInvalid', `The message attribute '${form.get(`${p}.Name`)}' is invalid`);
          }
          attributes[form.get(`${p}.Name`)!] = { dataType, value };
        }
        const messageId = randomUUID();
        published.push({ messageId, topicArn: arn, subject, message, attributes });
        return ok(`<PublishResult><MessageId>${messageId}</MessageId></PublishResult>`);
      }
      default:
        return error(400, 'Sender', 'InvalidAction', `Could not find operation ${action}`);
    }
  };

  const server = await listenLocally((req, res, body) => handle(req, res, body.toString('utf8')));
  return {
    endpoint: server.endpoint,
    published,
    actions,
    createTopic: (name) => {
      topics.add(topicArn(name));
      return topicArn(name);
    },
    fail: (count) => {
      failures = count;
    },
    close: server.stop,
  };
}

const xml = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
