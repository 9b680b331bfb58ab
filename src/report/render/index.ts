// The report's output formats, by name.

import type { Report } from '../model.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_FORMATS = ['md', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** One document: Markdown, JSON or HTML. CSV is one file per table: see csv.ts. */
export function renderDocument(report: Report, format: Exclude<ReportFormat, 'csv'>): string {
  switch (format) {
    case 'md':
      return renderMarkdown(report);
    case 'json':
      return renderJson(report);
    case 'html':
      return renderHtml(report);
  }
}

export { renderCsvFiles, renderCsvTable } from './csv.js';
