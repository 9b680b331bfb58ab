// Every KMS event name CloudTrail records, with what kind of thing it does to a key.
// The store writes this list into the kms_event_catalogue table so SQL can join on it.

export type KmsEventCategory =
  | 'data'       // cryptographic use of a key
  | 'key-state'  // creates, enables, disables, deletes or replicates a key
  | 'policy'     // changes who may use a key
  | 'grant'      // creates or removes grants
  | 'rotation'   // turns rotation on or off, or rotates
  | 'import'     // imported (EXTERNAL) key material
  | 'alias'      // creates, changes or deletes an alias
  | 'key-store'  // custom key stores (CloudHSM, external)
  | 'metadata'   // tags and descriptions
  | 'read';      // describes or lists, changes nothing

export interface KmsEventKind {
  eventName: string;
  category: KmsEventCategory;
  /** KMS emits it itself (AwsServiceEvent or "AWS Internal"), no caller asked for it. */
  emittedByKms: boolean;
}

const byCategory: Record<KmsEventCategory, string[]> = {
  data: [
    'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
    'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateRandom', 'Sign', 'Verify',
    'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
  ],
  'key-state': [
    'CreateKey', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'DeleteKey',
    'ReplicateKey', 'UpdatePrimaryRegion', 'SynchronizeMultiRegionKey',
  ],
  policy: ['PutKeyPolicy'],
  grant: ['CreateGrant', 'RetireGrant', 'RevokeGrant'],
  rotation: ['EnableKeyRotation', 'DisableKeyRotation', 'RotateKey', 'RotateKeyOnDemand'],
  import: ['GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'DeleteExpiredKeyMaterial'],
  alias: ['CreateAlias', 'UpdateAlias', 'DeleteAlias'],
  'key-store': [
    'CreateCustomKeyStore', 'ConnectCustomKeyStore', 'DisconnectCustomKeyStore', 'DeleteCustomKeyStore',
    'UpdateCustomKeyStore',
  ],
  metadata: ['TagResource', 'UntagResource', 'UpdateKeyDescription'],
  read: [
    'DescribeKey', 'ListKeys', 'ListAliases', 'ListGrants', 'ListRetirableGrants', 'ListKeyPolicies',
    'GetKeyPolicy', 'GetKeyRotationStatus', 'ListKeyRotations', 'GetPublicKey', 'ListResourceTags',
    'DescribeCustomKeyStores',
  ],
};

/** Events KMS writes on its own schedule: rotation, end of a deletion wait, expiry of imported material. */
const emittedByKms = new Set(['RotateKey', 'DeleteKey', 'DeleteExpiredKeyMaterial', 'SynchronizeMultiRegionKey']);

export const KMS_EVENT_CATALOGUE: readonly KmsEventKind[] = Object.entries(byCategory).flatMap(
  ([category, names]) =>
    names.map((eventName) => ({
      eventName,
      category: category as KmsEventCategory,
      emittedByKms: emittedByKms.has(eventName),
    })),
);

const byName = new Map(KMS_EVENT_CATALOGUE.map((kind) => [kind.eventName, kind]));

export function kmsEventKind(eventName: string): KmsEventKind | undefined {
  return byName.get(eventName);
}
