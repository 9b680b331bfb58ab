// CloudTrail's own management events on a trail: the calls that blind an audit (StopLogging,
// DeleteTrail, UpdateTrail, event selectors that drop KMS events) and their harmless twins.
// Shapes as logged (Stratus Red Team detonations, CloudTrail User Guide): requestParameters name the
// trail (by name here; callers may give the ARN), no resources[], responseElements echo the trail.

import { apiCall, type CallContext, type CtRecord, type RecordOptions } from './records.js';

export interface TrailRef {
  account: string;
  /** The trail's home region. */
  region: string;
  name: string;
}

export const trailArn = (t: TrailRef): string => `arn:aws:cloudtrail:${t.region}:${t.account}:trail/${t.name}`;

/** Any CloudTrail API call on a trail (a write unless told). */
export function trailCall(x: CallContext, trail: TrailRef, eventName: string, requestParameters: unknown, o: RecordOptions = {}): CtRecord {
  return apiCall({ ...x, region: x.region ?? trail.region, account: x.account ?? trail.account }, 'cloudtrail', eventName, requestParameters, {
    readOnly: false,
    ...o,
  });
}

/** StopLogging: the trail stops recording until StartLogging. */
export const trailStopLogging = (x: CallContext, trail: TrailRef, o: RecordOptions = {}): CtRecord => trailCall(x, trail, 'StopLogging', { name: trail.name }, o);

/** StartLogging. */
export const trailStartLogging = (x: CallContext, trail: TrailRef, o: RecordOptions = {}): CtRecord => trailCall(x, trail, 'StartLogging', { name: trail.name }, o);

/** DeleteTrail. */
export const trailDelete = (x: CallContext, trail: TrailRef, o: RecordOptions = {}): CtRecord => trailCall(x, trail, 'DeleteTrail', { name: trail.name }, o);

/** The settings UpdateTrail can change (only those given appear in the request). */
export interface TrailSettings {
  s3BucketName?: string;
  s3KeyPrefix?: string;
  kmsKeyId?: string;
  isMultiRegionTrail?: boolean;
  includeGlobalServiceEvents?: boolean;
  enableLogFileValidation?: boolean;
  isOrganizationTrail?: boolean;
}

/** UpdateTrail: the request carries the changed settings; the response, the trail as it now is. */
export function trailUpdate(x: CallContext, trail: TrailRef, change: TrailSettings, now: TrailSettings & { s3BucketName: string }, o: RecordOptions = {}): CtRecord {
  return trailCall(x, trail, 'UpdateTrail', { name: trail.name, ...change }, {
    responseElements: {
      name: trail.name,
      s3BucketName: now.s3BucketName,
      s3KeyPrefix: now.s3KeyPrefix,
      includeGlobalServiceEvents: now.includeGlobalServiceEvents ?? true,
      isMultiRegionTrail: now.isMultiRegionTrail ?? true,
      trailARN: trailArn(trail),
      logFileValidationEnabled: now.enableLogFileValidation ?? true,
      kmsKeyId: now.kmsKeyId,
      isOrganizationTrail: now.isOrganizationTrail ?? false,
    },
    ...o,
  });
}

/** A basic event selector (management events read/write, data resources). */
export interface EventSelector {
  readWriteType: 'ReadOnly' | 'WriteOnly' | 'All';
  includeManagementEvents: boolean;
  dataResources: { type: string; values: string[] }[];
  /** e.g. ['kms.amazonaws.com'] drops KMS events from the trail. */
  excludeManagementEventSources: string[];
}

/** An advanced event selector: field conditions (eventCategory, eventSource, readOnly, ...). */
export interface AdvancedEventSelector {
  name?: string;
  fieldSelectors: { field: string; equals?: string[]; notEquals?: string[]; startsWith?: string[]; notStartsWith?: string[]; endsWith?: string[]; notEndsWith?: string[] }[];
}

/** Management events of every source except KMS: the selector that blinds a KMS audit. */
export const SELECTOR_WITHOUT_KMS: EventSelector = { readWriteType: 'All', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: ['kms.amazonaws.com'] };

/** PutEventSelectors with basic selectors, or with advanced ones (`{ advanced: [...] }`). */
export function trailPutEventSelectors(x: CallContext, trail: TrailRef, selectors: EventSelector[] | { advanced: AdvancedEventSelector[] }, o: RecordOptions = {}): CtRecord {
  const body = Array.isArray(selectors) ? { eventSelectors: selectors } : { advancedEventSelectors: selectors.advanced };
  return trailCall(x, trail, 'PutEventSelectors', { trailName: trail.name, ...body }, { responseElements: { trailARN: trailArn(trail), ...body }, ...o });
}
