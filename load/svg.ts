/**
 * Two chart kinds as inline SVG strings (no library, no script, opens offline): a line chart over
 * time and a histogram over log-spaced latency buckets.
 */

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface Series {
  name: string;
  color: string;
  ys: (number | null)[];
}

const W = 760;
const H = 260;
const M = { l: 64, r: 16, t: 28, b: 40 };

/** 1, 2, 5 × 10^k steps giving about `n` ticks from 0 to the first at or above `max` (the top of a scale). */
export function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [0];
  while (out[out.length - 1]! < max * 0.9999 && out.length < 50) out.push(Math.round(out.length * step * 1e6) / 1e6);
  return out;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? `${Math.round(v / 1e5) / 10}M` : Math.abs(v) >= 1e4 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 100) / 100));

/** Keep at most `max` points (every k-th, always the last) so long runs stay light. */
function thin(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const k = n / max;
  const idx: number[] = [];
  for (let i = 0; i < max; i++) idx.push(Math.floor(i * k));
  idx.push(n - 1);
  return idx;
}

export function lineChart(o: { id: string; title: string; xs: number[]; series: Series[]; yLabel: string; xLabel?: string }): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const xmax = Math.max(1e-9, ...o.xs, 0);
  let ymax = 0;
  for (const s of o.series) for (const y of s.ys) if (y !== null && y > ymax) ymax = y;
  const yt = niceTicks(ymax || 1);
  const ytop = yt[yt.length - 1]!;
  const X = (x: number) => M.l + (x / xmax) * pw;
  const Y = (y: number) => M.t + ph - (y / ytop) * ph;
  const parts: string[] = [];
  parts.push(`<svg id="${esc(o.id)}" class="chart" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">`);
  parts.push(`<text x="${M.l}" y="18" font-size="14" font-weight="600">${esc(o.title)}</text>`);
  for (const v of yt) {
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  for (const v of niceTicks(xmax, 8)) {
    if (v > xmax) continue;
    parts.push(`<text x="${X(v).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${M.l + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="12" fill="#333">${esc(o.xLabel ?? 'seconds')}</text>`);
  parts.push(`<text x="14" y="${M.t + ph / 2}" transform="rotate(-90 14 ${M.t + ph / 2})" text-anchor="middle" font-size="12" fill="#333">${esc(o.yLabel)}</text>`);
  const idx = thin(o.xs.length, 800);
  o.series.forEach((s, k) => {
    let d = '';
    let pen = false;
    for (const i of idx) {
      const y = s.ys[i];
      if (y === null || y === undefined) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(o.xs[i]!).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = true;
    }
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"><title>${esc(s.name)}</title></path>`);
    const lx = M.l + 8 + k * 150;
    parts.push(`<rect x="${lx}" y="${M.t + 2}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${M.t + 11}" font-size="12">${esc(s.name)}</text>`);
  });
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** A labelled vertical line on a histogram at `ms` (a target, a percentile); drawn only inside the buckets' range. */
export interface Mark {
  ms: number;
  label: string;
  color: string;
}

/** Bars over log-spaced buckets: `lows` has one more entry than `counts` (the last upper bound). */
export function histogramChart(o: { id: string; title: string; lows: number[]; counts: number[]; color: string; marks?: Mark[] }): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const n = o.counts.length;
  const parts: string[] = [];
  parts.push(`<svg id="${esc(o.id)}" class="chart histogram" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">`);
  parts.push(`<text x="${M.l}" y="18" font-size="14" font-weight="600">${esc(o.title)}</text>`);
  if (n === 0 || o.counts.every((c) => c === 0)) {
    parts.push(`<text x="${M.l + pw / 2}" y="${M.t + ph / 2}" text-anchor="middle" font-size="12" fill="#333">no samples</text></svg>`);
    return parts.join('');
  }
  const cmax = Math.max(...o.counts);
  const yt = niceTicks(cmax);
  const ytop = yt[yt.length - 1]!;
  const lo = Math.log10(o.lows[0]!);
  const hi = Math.log10(o.lows[n]!);
  const X = (v: number) => M.l + ((Math.log10(v) - lo) / (hi - lo)) * pw;
  const Y = (y: number) => M.t + ph - (y / ytop) * ph;
  for (const v of yt) {
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  for (let i = 0; i < n; i++) {
    const c = o.counts[i]!;
    if (c === 0) continue;
    const x0 = X(o.lows[i]!);
    const x1 = X(o.lows[i + 1]!);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${Y(c).toFixed(1)}" width="${Math.max(1, x1 - x0 - 0.5).toFixed(1)}" height="${(M.t + ph - Y(c)).toFixed(1)}" fill="${o.color}">` +
        `<title>${fmt(o.lows[i]!)}–${fmt(o.lows[i + 1]!)} ms: ${c}</title></rect>`,
    );
  }
  // Decade ticks (and 2, 5 in between) on the log axis.
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const f of [1, 2, 5]) {
      const v = f * 10 ** e;
      const lv = Math.log10(v);
      if (lv < lo || lv > hi) continue;
      parts.push(`<text x="${X(v).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle" font-size="11" fill="#555">${fmt(v)}</text>`);
    }
  }
  (o.marks ?? []).forEach((m, k) => {
    if (!(m.ms >= o.lows[0]! && m.ms <= o.lows[n]!)) return;
    const x = X(m.ms);
    const left = x > M.l + pw * 0.7; // the label on the side with room; a white halo keeps it legible over a bar or line
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.t}" y2="${M.t + ph}" stroke="${m.color}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${(left ? x - 4 : x + 4).toFixed(1)}" y="${M.t + 14 + k * 14}"${left ? ' text-anchor="end"' : ''} font-size="11" fill="${m.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(m.label)}</text>`);
  });
  parts.push(`<text x="${M.l + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="12" fill="#333">milliseconds (log scale)</text>`);
  parts.push(`<text x="14" y="${M.t + ph / 2}" transform="rotate(-90 14 ${M.t + ph / 2})" text-anchor="middle" font-size="12" fill="#333">count</text>`);
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Charts of this file stacked in one standalone SVG document (a file of its own rather than inline in HTML):
 * a white background, since viewers (a dark-mode page) may show through a transparent one.
 */
export function chartDocument(title: string, charts: string[]): string {
  const h = H * charts.length;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">`];
  parts.push(`<title>${esc(title)}</title><rect width="${W}" height="${h}" fill="#fff"/>`);
  charts.forEach((c, i) => parts.push(`<g transform="translate(0 ${i * H})">${c}</g>`));
  parts.push('</svg>\n');
  return parts.join('');
}
