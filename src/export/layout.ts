// Where the export puts things, relative to its destination (a folder or s3://bucket/prefix/):
//
//   kms_events/event_date=2024-05-01/data.parquet                      (default)
//   kms_events/event_date=2024-05-01/account=111111111111/data.parquet  (--by-account)
//
// Hive-style folders, so DuckDB (read_parquet(..., hive_partitioning = true)), pandas/pyarrow,
// polars and Athena (partition projection, schemas/athena/) all see event_date (and account) as
// columns. A partition holds exactly one file with a fixed name: re-exporting a day replaces each
// file in one atomic step (rename, or S3 PUT), never adds a second copy beside the first.

export const TABLE_DIR = 'kms_events';
export const FILE_NAME = 'data.parquet';
/** The account folder of events that have no recipientAccountId. */
export const UNKNOWN_ACCOUNT = 'unknown';

export type PartitionLayout = 'day' | 'day/account';

/** Bumped when the files change shape: every day is then written again. */
export const EXPORT_FORMAT_VERSION = 1;

export const layoutTag = (layout: PartitionLayout): string => `v${EXPORT_FORMAT_VERSION}:${layout}`;

export const dayPrefix = (day: string): string => `${TABLE_DIR}/event_date=${day}/`;

export function fileKey(day: string, account: string | null): string {
  return account === null ? `${dayPrefix(day)}${FILE_NAME}` : `${dayPrefix(day)}account=${account}/${FILE_NAME}`;
}

/** The day a key under kms_events/ belongs to, or null for anything else. */
export function dayOfKey(key: string): string | null {
  const m = /^kms_events\/event_date=(\d{4}-\d{2}-\d{2})\//.exec(key);
  return m ? m[1] : null;
}
