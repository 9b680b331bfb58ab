// Writes the sample's objects: gzipped log objects under the CloudTrail key layout, counting what
// it writes, matching records against the ground truth, and noting each object for the digests.

import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ALNUM, compactStamp, principalOf, ymd, type Rng } from '../cloudtrail/index.js';
import { matchRecord, type Tracked } from './ground-truth.js';
import type { BenignLookalike, InjectedAnomaly } from './types.js';
import type { Item } from './windows.js';

export interface DigestEntry {
  path: string;
  hash: string;
  newest: string;
  oldest: string;
}

export class Writer {
  objects = 0;
  records = 0;
  kmsRecords = 0;
  bytesGz = 0;
  private dirs = new Set<string>();
  readonly digestLog = new Map<string, DigestEntry[]>();
  private trackers = new Map<string, Tracked<InjectedAnomaly | BenignLookalike>[]>();

  constructor(
    readonly out: string,
    readonly dry: boolean,
    readonly prefixFor: (account: string) => string,
    readonly digestFrom: number,
    readonly digestUntil: number,
  ) {}

  setTrackers(list: Tracked<InjectedAnomaly | BenignLookalike>[]): void {
    for (const tr of list) {
      let a = this.trackers.get(tr.principal);
      if (!a) this.trackers.set(tr.principal, (a = []));
      a.push(tr);
    }
  }

  put(rel: string, body: Buffer): void {
    if (this.dry) return;
    const full = join(this.out, rel);
    const dir = full.slice(0, full.lastIndexOf('/'));
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    writeFileSync(full, body);
  }

  logPath(rng: Rng, account: string, region: string, delivery: number): string {
    const day = ymd(delivery).replace(/-/g, '/');
    return `${this.prefixFor(account)}/CloudTrail/${region}/${day}/${account}_CloudTrail_${region}_${compactStamp(delivery, false)}_${rng.str(ALNUM, 16)}.json.gz`;
  }

  writeLog(rng: Rng, account: string, region: string, delivery: number, items: Item[]): void {
    const records = items.map((i) => i.r);
    const json = JSON.stringify({ Records: records });
    const gz = gzipSync(json);
    const path = this.logPath(rng, account, region, delivery);
    this.put(path, gz);
    this.objects++;
    this.records += records.length;
    this.bytesGz += gz.length;
    if (this.dry) return;
    for (const r of records) {
      if (r.eventSource === 'kms.amazonaws.com') this.kmsRecords++;
      const trs = this.trackers.get(principalOf(r.userIdentity));
      if (trs) for (const tr of trs) matchRecord(tr, r);
    }
    if (delivery >= this.digestFrom && delivery < this.digestUntil) {
      const k = `${account}/${region}`;
      let a = this.digestLog.get(k);
      if (!a) this.digestLog.set(k, (a = []));
      let newest = records[0]!.eventTime;
      let oldest = newest;
      for (const r of records) {
        if (r.eventTime > newest) newest = r.eventTime;
        if (r.eventTime < oldest) oldest = r.eventTime;
      }
      a.push({ path, hash: createHash('sha256').update(json).digest('hex'), newest, oldest });
    }
  }

}
