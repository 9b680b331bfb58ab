// Findings to an SNS topic: the message is the webhook's JSON body; severity and rule are message
// attributes, so subscriptions can filter on them. The SDK retries throttling and 5xx itself.

import type { SNSClient } from '@aws-sdk/client-sns';
import type { Finding } from '../detect/run.js';
import { body } from './message.js';

export class SnsPublisher {
  private readonly clients = new Map<string, SNSClient>();

  async publish(topicArn: string, region: string, finding: Finding): Promise<void> {
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns'); // loaded on the first SNS target only
    let client = this.clients.get(region);
    if (!client) this.clients.set(region, (client = new SNSClient({ region, maxAttempts: 4 })));
    await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        // Subject: ASCII, at most 100 characters, for email subscriptions.
        Subject: `keytrail ${finding.severity}: ${finding.rule}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: body(finding),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: finding.severity },
          rule: { DataType: 'String', StringValue: finding.rule },
        },
      }),
    );
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
  }
}
