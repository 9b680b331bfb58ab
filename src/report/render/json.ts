// The report as one JSON object: every section by name, with the report's metadata and findings.

import type { Report } from '../model.js';

export function renderJson(report: Report): string {
  const { meta, findings, ingest, key_state_available, gaps, ...tables } = report;
  return `${JSON.stringify({ report: meta, ingest, key_state_available, gaps, ...tables, findings }, null, 2)}\n`;
}
