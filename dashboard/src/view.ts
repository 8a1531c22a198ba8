/**
 * Building blocks of the pages: number formats (the browser test formats the
 * API's numbers the same way), accessible tables and Plot figures.
 */
import type * as Plot from '@observablehq/plot';

/** A figure to three decimals, or an em dash when undefined. */
export const fmt = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(3));
export const fmtInterval = (i: { lower: number; upper: number } | null | undefined): string => (i ? `[${fmt(i.lower)}, ${fmt(i.upper)}]` : '—');
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export type Cell = string | { text: string; className?: string };

let tableCount = 0;
/** A table with a caption, column headers, row headers in the first column; focusable so a keyboard can scroll it. */
export function table(caption: string, head: string[], rows: Cell[][]): HTMLElement {
  const t = document.createElement('table');
  const id = `table-${++tableCount}`;
  const cap = t.createCaption();
  cap.id = `${id}-caption`;
  cap.textContent = caption;
  const hr = t.createTHead().insertRow();
  for (const h of head) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    hr.append(th);
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => {
      const el = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) (el as HTMLTableCellElement).scope = 'row';
      const c = typeof cell === 'string' ? { text: cell } : cell;
      el.textContent = c.text;
      if (c.className) el.className = c.className;
      tr.append(el);
    });
  }
  const wrap = document.createElement('div');
  wrap.className = 'table';
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-labelledby', cap.id);
  wrap.append(t);
  return wrap;
}

/**
 * A Plot chart in a figure with its caption. Plot's own <style> element is
 * removed before the chart enters the page (the CSP refuses inline styles;
 * styles.css sets the same rules).
 */
export function figure(caption: string, chart: ReturnType<typeof Plot.plot>, name: string): HTMLElement {
  const fig = document.createElement('figure');
  fig.dataset.chart = name;
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  for (const s of chart.querySelectorAll('style')) s.remove();
  fig.append(cap, chart);
  return fig;
}

export function heading(text: string): HTMLElement {
  const h = document.createElement('h2');
  h.textContent = text;
  return h;
}

export function paragraph(text: string, className?: string): HTMLElement {
  const p = document.createElement('p');
  p.textContent = text;
  if (className) p.className = className;
  return p;
}
