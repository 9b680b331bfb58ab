// The organization the sample trail comes from: three accounts and their regions, the keys, roles,
// users, the public IPs and user agents they call from. Built from its own seeded stream, so the
// layout is the same whatever else the options change.

import { LOWNUM, UPNUM, type Rng } from '../cloudtrail/index.js';
import { ORG_ACCOUNTS, UNTRUSTED_ACCOUNT } from './types.js';

export interface Key {
  account: string;
  region: string;
  id: string;
  arn: string;
  alias: string | null;
  multiRegion: boolean;
  managed: boolean;
  spec: 'SYMMETRIC_DEFAULT' | 'RSA_2048';
}

export interface Role {
  account: string;
  name: string;
  arn: string;
  id: string;
}

export interface User {
  account: string;
  name: string;
  arn: string;
  id: string;
  accessKeyId: string;
}

export const ACCOUNT_REGIONS: Record<string, string[]> = {
  '111111111111': ['us-east-1', 'us-west-2', 'eu-west-1'],
  '222222222222': ['us-east-1', 'eu-west-1'],
  '333333333333': ['us-east-1', 'us-west-2'],
};

const ISP_PREFIX = [73, 98, 24, 71, 76, 67, 174, 108, 86, 81, 92];
const OFFICE_PREFIX = [12, 38, 63, 64, 65, 66, 199, 208];
const VPS_PREFIX = [45, 185, 193, 91, 194, 146];
const AWS_PREFIX = [3, 18, 34, 35, 44, 52, 54];
const AZURE_PREFIX = [20, 40, 4, 13];

function pubIp(rng: Rng, prefixes: readonly number[]): string {
  return `${rng.pick(prefixes)}.${rng.range(1, 254)}.${rng.range(1, 254)}.${rng.range(1, 254)}`;
}

export const UA = {
  cliMac: 'aws-cli/2.15.38 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/kms.decrypt',
  cliLinux: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off',
  cliWin: 'aws-cli/2.16.1 md/awscrt#0.19.19 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off',
  boto3Lambda:
    'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.214-202.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.84',
  boto3:
    'Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#6.1.84-99.169.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.90',
  javaEcs:
    'aws-sdk-java/2.25.26 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy',
  nodeLambda: 'aws-sdk-js/3.556.0 ua/2.0 os/linux#5.10.214-224.855.amzn2.x86_64 lang/js md/nodejs#20.12.2 exec-env/AWS_Lambda_nodejs20.x api/kms#3.556.0',
  goSdk: 'aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/kms#1.31.0',
  glue: '[aws-sdk-java/1.12.650 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 scala/2.12.15 vendor/Amazon.com_Inc. cfg/retry-mode/legacy exec-env/AWS_Glue]',
  terraform:
    'APN/1.0 HashiCorp/1.0 Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-aws/5.47.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/kms#1.31.0',
  prowler: 'Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#5.15.0-1057-aws md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.90 prowler/3.16.6',
  vendor: 'aws-sdk-go/1.51.21 (go1.21.9; linux; amd64) vendor-poller/7.52.0',
  browser: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  internal: 'AWS Internal',
} as const;

export class Catalog {
  readonly keys = new Map<string, Key>();
  readonly roles = new Map<string, Role>();
  readonly users = new Map<string, User>();
  readonly ips = new Map<string, string>();
  readonly vpce = new Map<string, string>();
  readonly orgId: string;
  readonly ssoSuffix: Record<string, string>;

  constructor(readonly rng: Rng) {
    this.orgId = 'o-' + rng.str(LOWNUM, 10);
    this.ssoSuffix = { AdministratorAccess: rng.hex(16), DataAnalyst: rng.hex(16), ReadOnly: rng.hex(16) };
    const key = (account: string, region: string, alias: string | null, o: { mrk?: string; managed?: boolean; rsa?: boolean } = {}): Key => {
      const id = o.mrk ?? rng.uuid();
      const k: Key = {
        account,
        region,
        id,
        arn: `arn:aws:kms:${region}:${account}:key/${id}`,
        alias: alias ? `alias/${alias}` : null,
        multiRegion: id.startsWith('mrk-'),
        managed: o.managed === true,
        spec: o.rsa ? 'RSA_2048' : 'SYMMETRIC_DEFAULT',
      };
      this.keys.set(`${account}/${region}/${alias ?? id}`, k);
      return k;
    };
    const A1 = '111111111111';
    const A2 = '222222222222';
    const A3 = '333333333333';
    const backupMrk = 'mrk-' + rng.hex(32);
    key(A1, 'us-east-1', 'datalake-raw');
    key(A1, 'us-east-1', 'datalake-curated');
    key(A1, 'us-east-1', 'app-data');
    key(A1, 'us-east-1', 'backup', { mrk: backupMrk });
    key(A1, 'us-east-1', 'aws/s3', { managed: true });
    key(A1, 'us-east-1', 'aws/ebs', { managed: true });
    key(A1, 'us-west-2', 'backup', { mrk: backupMrk });
    key(A1, 'us-west-2', 'dr-data');
    key(A1, 'us-west-2', 'legacy-archive');
    key(A1, 'eu-west-1', 'eu-data');
    key(A1, 'eu-west-1', 'aws/lambda', { managed: true });
    key(A2, 'us-east-1', 'app-data');
    key(A2, 'us-east-1', 'reports');
    key(A2, 'us-east-1', 'secrets');
    key(A2, 'us-east-1', 'signing', { rsa: true });
    key(A2, 'us-east-1', 'aws/lambda', { managed: true });
    key(A2, 'eu-west-1', 'app-data-eu');
    key(A2, 'eu-west-1', 'payments-eu', { mrk: 'mrk-' + rng.hex(32) });
    key(A3, 'us-east-1', 'org-cloudtrail-logs');
    key(A3, 'us-east-1', 'shared-tools');
    key(A3, 'us-east-1', 'build-artifacts');
    key(A3, 'us-east-1', 'secrets-vault');
    key(A3, 'us-east-1', 'aws/ssm', { managed: true });
    key(A3, 'us-west-2', 'ops');
    key(A3, 'us-west-2', 'aws/ebs', { managed: true });
    // keys created during the trail (CreateKey events)
    key(A2, 'us-east-1', 'feature-flags');
    key(A2, 'us-east-1', 'sqs-orders');
    key(A1, 'us-west-2', 'byok-import');
    // the untrusted account's key
    key(UNTRUSTED_ACCOUNT, 'us-east-1', 'partner-exchange');

    const role = (account: string, name: string, path = '/'): Role => {
      const r: Role = { account, name, arn: `arn:aws:iam::${account}:role${path}${name}`, id: 'AROA' + rng.str(UPNUM, 17) };
      this.roles.set(`${account}/${name.startsWith('AWSReservedSSO_') ? name.split('_')[1]! : name}`, r);
      return r;
    };
    const sso = (account: string, set: string): Role =>
      role(account, `AWSReservedSSO_${set}_${this.ssoSuffix[set]}`, '/aws-reserved/sso.amazonaws.com/');
    role(A1, 'DataLakeAnalyticsRole');
    role(A1, 'IngestLambdaRole', '/service-role/');
    role(A1, 'MonitoringReadOnlyRole');
    role(A1, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A1, 'AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/');
    role(A1, 'AWSBackupDefaultServiceRole', '/service-role/');
    role(A1, 'DrSyncRole');
    role(A1, 'ArchiveJobRole');
    role(A1, 'EuApiLambdaRole', '/service-role/');
    role(A1, 'SecurityAuditRole');
    sso(A1, 'AdministratorAccess');
    sso(A1, 'DataAnalyst');
    role(A2, 'AppBackendRole');
    role(A2, 'ReportingRole');
    role(A2, 'SigningServiceRole');
    role(A2, 'VendorExportRole');
    role(A2, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A2, 'SecurityAuditRole');
    role(A2, 'MonitoringReadOnlyRole');
    sso(A2, 'ReadOnly');
    role(A3, 'BuildAgentRole');
    role(A3, 'OpsLambdaRole', '/service-role/');
    role(A3, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(A3, 'SecurityAuditRole');
    sso(A3, 'AdministratorAccess');
    role(UNTRUSTED_ACCOUNT, 'PartnerIntegrationRole');

    const user = (account: string, name: string): User => {
      const u: User = { account, name, arn: `arn:aws:iam::${account}:user/${name}`, id: 'AIDA' + rng.str(UPNUM, 17), accessKeyId: 'AKIA' + rng.str(UPNUM, 16) };
      this.users.set(`${account}/${name}`, u);
      return u;
    };
    user(A1, 'carol.ops');
    user(A1, 'jordan.lee');
    user(A2, 'sam.rivera');
    user(A2, 'ci-deployer');

    const ip = (name: string, prefixes: readonly number[]) => this.ips.set(name, pubIp(rng, prefixes));
    ip('carol.home', ISP_PREFIX);
    ip('carol.office', OFFICE_PREFIX);
    ip('jordan.office', OFFICE_PREFIX);
    ip('sam.home', ISP_PREFIX);
    ip('sam.office', OFFICE_PREFIX);
    ip('sam.new', VPS_PREFIX);
    ip('pat.office', OFFICE_PREFIX);
    ip('lee.office', OFFICE_PREFIX);
    ip('analyst1', ISP_PREFIX);
    ip('analyst2', OFFICE_PREFIX);
    ip('readonly1', ISP_PREFIX);
    ip('root.admin', ISP_PREFIX);
    ip('vendor1', AWS_PREFIX);
    ip('vendor2', AWS_PREFIX);
    ip('partner', VPS_PREFIX);
    ip('build.eip', AWS_PREFIX);
    ip('prowler', AWS_PREFIX);
    for (const acct of ORG_ACCOUNTS) {
      for (const region of ACCOUNT_REGIONS[acct]!) {
        ip(`nat1/${acct}/${region}`, AWS_PREFIX);
        ip(`nat2/${acct}/${region}`, AWS_PREFIX);
        this.vpce.set(`${acct}/${region}/s3`, 'vpce-' + rng.hex(17));
        this.vpce.set(`${acct}/${region}/kms`, 'vpce-' + rng.hex(17));
      }
    }
    ip('gh1', AZURE_PREFIX);
    ip('gh2', AZURE_PREFIX);
    ip('gh3', AZURE_PREFIX);
  }

  key(account: string, region: string, alias: string): Key {
    const k = this.keys.get(`${account}/${region}/${alias}`);
    if (!k) throw new Error(`no key ${account}/${region}/${alias}`);
    return k;
  }
  role(account: string, name: string): Role {
    const r = this.roles.get(`${account}/${name}`);
    if (!r) throw new Error(`no role ${account}/${name}`);
    return r;
  }
  user(account: string, name: string): User {
    const u = this.users.get(`${account}/${name}`);
    if (!u) throw new Error(`no user ${account}/${name}`);
    return u;
  }
  ip(name: string): string {
    const v = this.ips.get(name);
    if (!v) throw new Error(`no ip ${name}`);
    return v;
  }
}

/** The build agent's long-lived instance (its role session name). */
export const BUILD_INSTANCE = 'i-0a3f9c2e71b5d8046';
