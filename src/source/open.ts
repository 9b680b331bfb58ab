// Which LogSource a SOURCE argument names: s3://bucket[/prefix], event-history://[REGION,…], or a
// folder. The AWS sources are imported when named: loading the SDK costs half a second of every run.

import { isEventHistory } from './event-history-days.js';
import { openLocalSource } from './local.js';
import type { LogSource } from './source.js';

export interface OpenOptions {
  endpointUrl?: string;
  /** --concurrency, or undefined: the source's own default. */
  concurrency?: number;
  /** --regions (event history only). */
  regions: string[] | null;
  /** --lookup-rate (event history only), or undefined: LookupEvents' quota. */
  lookupRate?: number;
}

export interface OpenedSource {
  source: LogSource;
  /** Objects read at once. */
  concurrency: number;
  /** What the user should know about the source before the summary. */
  notes: string[];
}

/**
 * Every day of every region in flight at once (at most 91 days each): each region reads its days one
 * at a time at its own rate, so regions read in parallel instead of one after another.
 */
const eventHistoryConcurrency = (regions: number) => Math.max(32, regions * 92);

export async function openSource(spec: string, options: OpenOptions): Promise<OpenedSource> {
  if (isEventHistory(spec)) {
    const { openEventHistorySource } = await import('./event-history.js');
    const source = await openEventHistorySource(spec, { regions: options.regions, endpointUrl: options.endpointUrl, lookupRate: options.lookupRate });
    return { source, concurrency: options.concurrency ?? eventHistoryConcurrency(source.regions.length), notes: source.notes };
  }
  if (spec.startsWith('s3://')) {
    const concurrency = options.concurrency ?? 32;
    const { openS3Source } = await import('./s3.js');
    return { source: await openS3Source(spec, { endpointUrl: options.endpointUrl, concurrency }), concurrency, notes: [] };
  }
  return { source: await openLocalSource(spec), concurrency: options.concurrency ?? 64, notes: [] };
}
