// What findings and reports rest on: the verification (verified_objects, delivery_gaps, written
// by `keytrail verify --db` and `ingest --verify`) of the log objects their events were read from
// (kms_events.source_object). A database where verification never ran says nothing.

import type { QueryEngine } from '../engine.js';
import type { Finding } from '../detect/run.js';

/**
 * tampered: some of its events come from an object that failed verification; unverified: from an
 * object no valid digest vouches for, or never checked though its source was verified; unsigned:
 * hashes and chain check out, signatures could not be checked (a folder); verified: all verified.
 */
export type Evidence = 'verified' | 'unsigned' | 'unverified' | 'tampered';

/** Whether verification results exist: false on a database (or engine) where verify never ran. */
export async function verificationRan(engine: QueryEngine): Promise<boolean> {
  if (engine.name !== 'duckdb') return false; // results live in the local database only
  const tables = await engine.query(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('verified_objects', 'ingested_objects')`,
  );
  if (Number(tables[0]?.n ?? 0) < 2) return false;
  const rows = await engine.query('SELECT count(*) AS n FROM verified_objects');
  return Number(rows[0]?.n ?? 0) > 0;
}

/** A finding's events are those of its window that match the callers, keys and addresses it names. */
const OBJECTS_OF_FINDING = `
  SELECT DISTINCT e.source_object AS uri, i.source
  FROM kms_events e LEFT JOIN ingested_objects i ON i.object_uri = e.source_object
  WHERE e.event_time >= CAST($first AS TIMESTAMP) AND e.event_time < CAST($last AS TIMESTAMP) + INTERVAL 1 SECOND
    AND (CAST($identity AS VARCHAR) IS NULL OR e.identity_arn = CAST($identity AS VARCHAR))
    AND (CAST($ip AS VARCHAR) IS NULL OR e.source_ip = CAST($ip AS VARCHAR))
    AND (CAST($key AS VARCHAR) IS NULL OR e.key_arn = CAST($key AS VARCHAR))
    AND (CAST($account AS VARCHAR) IS NULL OR e.account_id = CAST($account AS VARCHAR))`;

const EVIDENCE_SQL = `
  WITH objects AS (${OBJECTS_OF_FINDING})
  SELECT count(*) FILTER (WHERE v.status = 'failed') AS tampered,
         count(*) FILTER (WHERE v.status = 'unverified'
                          OR (v.status IS NULL AND o.source IN (SELECT source FROM verified_objects))) AS unverified,
         count(*) FILTER (WHERE v.status = 'unsigned') AS unsigned,
         count(*) FILTER (WHERE v.status = 'verified') AS verified
  FROM objects o LEFT JOIN verified_objects v ON v.object_uri = o.uri`;

/** ISO 'YYYY-MM-DDTHH:MM:SSZ' -> 'YYYY-MM-DD HH:MM:SS', as kms_events.event_time holds it (UTC). */
const sqlTime = (iso: string): string => iso.replace('T', ' ').replace(/Z$/, '');

/**
 * The evidence each finding rests on, in order; null for a finding whose events come only from
 * sources never verified (or without a time span). Call only when verificationRan().
 */
export async function findingEvidence(engine: QueryEngine, findings: Finding[]): Promise<Array<Evidence | null>> {
  const out: Array<Evidence | null> = [];
  for (const f of findings) {
    if (!f.first_seen || !f.last_seen) {
      out.push(null);
      continue;
    }
    const [row] = await engine.query(EVIDENCE_SQL, {
      first: sqlTime(f.first_seen), last: sqlTime(f.last_seen),
      identity: f.identity_arn, ip: f.source_ip, key: f.key_arn, account: f.account_id,
    });
    const n = (k: string) => Number(row?.[k] ?? 0);
    out.push(n('tampered') > 0 ? 'tampered' : n('unverified') > 0 ? 'unverified' : n('unsigned') > 0 ? 'unsigned' : n('verified') > 0 ? 'verified' : null);
  }
  return out;
}

/** Findings with an `evidence` field (only where there is something known), for JSON output. */
export async function withEvidence(engine: QueryEngine, findings: Finding[]): Promise<Array<Finding & { evidence?: Evidence }>> {
  if (!(await verificationRan(engine))) return findings;
  const evidence = await findingEvidence(engine, findings);
  return findings.map((f, i) => (evidence[i] ? { ...f, evidence: evidence[i]! } : f));
}

/** One line per finding that rests on tampered or unverified objects: for stderr under a table. */
export function evidenceNotes(findings: Array<Finding & { evidence?: Evidence }>): string[] {
  return findings
    .filter((f) => f.evidence === 'tampered' || f.evidence === 'unverified')
    .map((f) => `note: ${f.rule} (${f.identity_arn ?? f.key_arn ?? f.account_id ?? '?'}, ${f.first_seen}) rests on ${f.evidence === 'tampered'
      ? 'log objects that failed verification (SELECT * FROM verified_objects WHERE status = \'failed\')'
      : 'log objects no valid digest vouches for'}`);
}

export interface IntegritySection {
  /** Objects per kind and status, as the latest verification left them. */
  statuses: Array<{ kind: string; status: string; objects: number }>;
  /** Objects that failed: tampered with, missing, or not listed. */
  failed: Array<{ object_uri: string; kind: string; problem: string | null; detail: string | null }>;
  /** Log objects ingested from a verified source but never verified (not filtered by account: the manifest has none). */
  unchecked_logs: number;
  delivery_gaps: Array<{ account_id: string; aws_region: string; trail: string; gaps: number; hours: number; first_gap: string; last_gap_end: string }>;
  /** Findings resting on tampered or unverified objects. */
  findings: { tampered: number; unverified: number };
}

/** The report's period (UTC days, both inclusive) and account; null for no bound. */
export interface IntegrityScope { since: string | null; until: string | null; account: string | null }

/** Objects of the report's days (their key's day folder) and account. */
const OBJECTS_IN_SCOPE = `($account IS NULL OR account_id = $account)
  AND ($since IS NULL OR object_day IS NULL OR object_day >= CAST($since AS DATE))
  AND ($until IS NULL OR object_day IS NULL OR object_day <= CAST($until AS DATE))`;

/** The report's Integrity section, for its period and account; null when verification never ran. */
export async function collectIntegrity(engine: QueryEngine, scope: IntegrityScope, findings: Finding[]): Promise<IntegritySection | null> {
  if (!(await verificationRan(engine))) return null;
  const params = { since: scope.since, until: scope.until, account: scope.account };
  const statuses = await engine.query(
    `SELECT kind, status, count(*) AS objects FROM verified_objects WHERE ${OBJECTS_IN_SCOPE} GROUP BY kind, status ORDER BY kind, status`, params);
  const failed = await engine.query(
    `SELECT object_uri, kind, problem, detail FROM verified_objects WHERE status = 'failed' AND ${OBJECTS_IN_SCOPE}
     ORDER BY object_uri, problem`, params);
  const [unchecked] = await engine.query(
    `SELECT count(*) AS n FROM ingested_objects i
     WHERE i.source IN (SELECT source FROM verified_objects)
       AND ($since IS NULL OR i.object_day IS NULL OR i.object_day >= CAST($since AS DATE))
       AND ($until IS NULL OR i.object_day IS NULL OR i.object_day <= CAST($until AS DATE))
       AND NOT EXISTS (SELECT 1 FROM verified_objects v WHERE v.object_uri = i.object_uri)`, params);
  const gaps = await engine.query(
    `SELECT account_id, aws_region, trail, count(*) AS gaps, sum(hours) AS hours,
            strftime(min(gap_start), '%Y-%m-%dT%H:%M:%SZ') AS first_gap, strftime(max(gap_end), '%Y-%m-%dT%H:%M:%SZ') AS last_gap_end
     FROM delivery_gaps
     WHERE ($account IS NULL OR account_id = $account)
       AND ($since IS NULL OR gap_end > CAST($since AS DATE))
       AND ($until IS NULL OR gap_start < CAST($until AS DATE) + INTERVAL 1 DAY)
     GROUP BY ALL ORDER BY account_id, aws_region, trail`, params);
  const evidence = await findingEvidence(engine, findings);
  return {
    statuses: statuses.map((r) => ({ kind: String(r.kind), status: String(r.status), objects: Number(r.objects) })),
    failed: failed.map((r) => ({
      object_uri: String(r.object_uri), kind: String(r.kind), problem: r.problem === null ? null : String(r.problem),
      detail: r.detail === null ? null : String(r.detail),
    })),
    unchecked_logs: Number(unchecked?.n ?? 0),
    delivery_gaps: gaps.map((r) => ({
      account_id: String(r.account_id), aws_region: String(r.aws_region), trail: String(r.trail), gaps: Number(r.gaps),
      hours: Math.round(Number(r.hours) * 10) / 10, first_gap: String(r.first_gap), last_gap_end: String(r.last_gap_end),
    })),
    findings: {
      tampered: evidence.filter((e) => e === 'tampered').length,
      unverified: evidence.filter((e) => e === 'unverified').length,
    },
  };
}
