// Inline SVG charts for the HTML report, drawn here (no charting library, nothing to fetch): calls
// per day as bars, and one line per principal or key. Every label and tooltip is escaped.

import { formatInt, shortDay, type Series } from '../labels.js';
import { escapeHtml as esc } from './html-escape.js';

const W = 960;
const MARGIN = { left: 58, right: 18, top: 14, bottom: 44 };

interface Frame {
  height: number;
  plotW: number;
  plotH: number;
  max: number;
  ticks: number[];
}

/** 0, step, 2*step ... covering max, with a step of 1, 2, 2.5 or 5 times a power of ten. */
export function niceTicks(max: number, target = 5): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const whole = step < 1 ? 1 : step; // calls are whole numbers: no 0.5 gridlines
  const ticks: number[] = [];
  for (let t = 0; t < max + whole; t += whole) ticks.push(Math.round(t * 100) / 100);
  return ticks;
}

function frame(height: number, max: number): Frame {
  const ticks = niceTicks(max);
  return { height, plotW: W - MARGIN.left - MARGIN.right, plotH: height - MARGIN.top - MARGIN.bottom, max: ticks[ticks.length - 1], ticks };
}

const y = (f: Frame, v: number): number => MARGIN.top + f.plotH - (v / f.max) * f.plotH;
const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();

function axes(f: Frame, days: string[], xAt: (i: number) => number, yTitle: string): string {
  const parts: string[] = [];
  for (const t of f.ticks) {
    const ty = r1(y(f, t));
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${W - MARGIN.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 8}" y="${ty}" dy="0.32em" text-anchor="end">${esc(formatInt(t))}</text>`);
  }
  const every = Math.max(1, Math.ceil(days.length / 12));
  days.forEach((d, i) => {
    if (i % every !== 0 && i !== days.length - 1) return;
    if (i === days.length - 1 && i % every !== 0 && i % every < every / 2) return; // too close to the previous label
    const x = r1(xAt(i));
    const base = MARGIN.top + f.plotH;
    parts.push(`<line class="axis" x1="${x}" x2="${x}" y1="${base}" y2="${base + 5}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${base + 18}" text-anchor="middle">${esc(shortDay(d))}</text>`);
  });
  const base = MARGIN.top + f.plotH;
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${W - MARGIN.right}" y1="${base}" y2="${base}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${base}"/>`);
  parts.push(`<text class="axis-title" transform="translate(14 ${r1(MARGIN.top + f.plotH / 2)}) rotate(-90)" text-anchor="middle">${esc(yTitle)}</text>`);
  parts.push(`<text class="axis-title" x="${r1(MARGIN.left + f.plotW / 2)}" y="${f.height - 4}" text-anchor="middle">day (UTC)</text>`);
  return parts.join('');
}

function svg(height: number, label: string, body: string, kind: string): string {
  return `<svg class="chart" data-chart="${esc(kind)}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

/** Calls per day as bars, the failed calls of each day in red on top. */
export function barChart(kind: string, label: string, days: string[], calls: number[], errors: number[], height = 240): string {
  const f = frame(height, Math.max(0, ...calls));
  const band = f.plotW / days.length;
  const bw = Math.max(1, Math.min(36, band * 0.72));
  const xAt = (i: number): number => MARGIN.left + band * (i + 0.5);
  const base = MARGIN.top + f.plotH;
  const bars = days.map((d, i) => {
    const x = r1(xAt(i) - bw / 2);
    const top = y(f, calls[i]);
    const errH = errors[i] > 0 ? Math.max(1.5, base - y(f, errors[i])) : 0;
    const tip = `${shortDay(d)}: ${formatInt(calls[i])} calls${errors[i] ? `, ${formatInt(errors[i])} failed` : ''}`;
    const ok = calls[i] > errors[i]
      ? `<rect class="bar" x="${x}" y="${r1(top + errH)}" width="${r1(bw)}" height="${r1(Math.max(0, base - top - errH))}"/>`
      : '';
    const failed = errH > 0 ? `<rect class="bar-error" x="${x}" y="${r1(top)}" width="${r1(bw)}" height="${r1(errH)}"/>` : '';
    return `<g class="day" data-day="${esc(d)}" data-calls="${calls[i]}" data-errors="${errors[i]}"><title>${esc(tip)}</title>${ok}${failed}</g>`;
  });
  return svg(height, label, axes(f, days, xAt, 'calls per day') + bars.join(''), kind);
}

const SW = 300;
const SM = { left: 36, right: 8, top: 10, bottom: 20 };

/**
 * A small chart of one series with its own scale, for a grid of them (small multiples): each
 * caller's or key's daily pattern stays readable beside a far busier one.
 */
export function sparkChart(kind: string, series: Series, days: string[], colour: number, height = 112): string {
  const plotW = SW - SM.left - SM.right;
  const plotH = height - SM.top - SM.bottom;
  const ticks = niceTicks(Math.max(0, ...series.values), 2);
  const max = ticks[ticks.length - 1];
  const xAt = (i: number): number => (days.length > 1 ? SM.left + (plotW * i) / (days.length - 1) : SM.left + plotW / 2);
  const yAt = (v: number): number => SM.top + plotH - (v / max) * plotH;
  const base = SM.top + plotH;
  const cls = `s${colour % 10}`;
  const parts: string[] = [];
  for (const t of [0, max]) {
    parts.push(`<line class="grid" x1="${SM.left}" x2="${SW - SM.right}" y1="${r1(yAt(t))}" y2="${r1(yAt(t))}"/>`);
    parts.push(`<text class="tick" x="${SM.left - 6}" y="${r1(yAt(t))}" dy="0.32em" text-anchor="end">${esc(formatInt(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${SM.left}" x2="${SW - SM.right}" y1="${base}" y2="${base}"/>`);
  if (days.length > 0) {
    parts.push(`<text class="tick" x="${SM.left}" y="${height - 4}" text-anchor="start">${esc(shortDay(days[0]))}</text>`);
    if (days.length > 1) parts.push(`<text class="tick" x="${SW - SM.right}" y="${height - 4}" text-anchor="end">${esc(shortDay(days[days.length - 1]))}</text>`);
  }
  const points = series.values.map((v, i) => `${r1(xAt(i))},${r1(yAt(v))}`);
  if (points.length > 1) {
    parts.push(`<path class="area ${cls}" d="M${r1(xAt(0))},${base}L${points.join('L')}L${r1(xAt(days.length - 1))},${base}Z"/>`);
  }
  parts.push(`<polyline class="line ${cls}" points="${points.join(' ')}"/>`);
  const peak = series.values.indexOf(Math.max(...series.values));
  const radius = days.length > 60 ? 1.2 : 2;
  series.values.forEach((v, i) => {
    parts.push(`<circle class="pt ${cls}${i === peak ? ' peak' : ''}" cx="${r1(xAt(i))}" cy="${r1(yAt(v))}" r="${i === peak ? 3.2 : radius}" data-day="${esc(days[i])}" data-calls="${v}">` +
      `<title>${esc(`${shortDay(days[i])}: ${formatInt(v)} calls`)}</title></circle>`);
  });
  return `<svg class="spark" data-chart="${esc(kind)}" data-series="${esc(series.id)}" viewBox="0 0 ${SW} ${height}" role="img" aria-label="${esc(`${series.label}: calls per day`)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
