// The instructor's picture of an assignment: a histogram of the learners' latest scores
// and, per graded question, how many got full marks. Plain SVG and HTML, no chart library.
import { IStatistics } from './api';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text = ''
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Bars of how many learners scored in each bin of 0..max score. */
export function histogram(stats: IStatistics): SVGSVGElement {
  const { edges, counts } = stats.histogram;
  const width = 420;
  const height = 160;
  const left = 28;
  const bottom = 22;
  const top = 14;
  const plotW = width - left - 14;
  const plotH = height - bottom - top;
  const most = Math.max(1, ...counts);
  const barW = plotW / Math.max(1, counts.length);
  const root = svg('svg', {
    class: 'ls-histogram',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Histogram of ${stats.learners} learners' scores out of ${fmt(stats.max_score)}`
  });
  root.append(
    svg('line', { x1: left, y1: top + plotH, x2: width - 8, y2: top + plotH, class: 'ls-axis' }),
    svg('text', { x: left - 4, y: top + 4, 'text-anchor': 'end', class: 'ls-tick' }, String(most)),
    svg('text', { x: left - 4, y: top + plotH, 'text-anchor': 'end', class: 'ls-tick' }, '0')
  );
  counts.forEach((count, i) => {
    const h = (count / most) * plotH;
    const x = left + i * barW;
    const range = `${fmt(edges[i])}–${fmt(edges[i + 1])}`;
    const bar = svg('rect', {
      class: 'ls-bar',
      x: x + 1,
      y: top + plotH - h,
      width: Math.max(1, barW - 2),
      height: h,
      'data-count': count,
      'data-range': range
    });
    bar.append(svg('title', {}, `${count} learner${count === 1 ? '' : 's'} scored ${range}`));
    root.append(bar);
    if (count) {
      root.append(
        svg('text', { x: x + barW / 2, y: top + plotH - h - 2, 'text-anchor': 'middle', class: 'ls-count' }, String(count))
      );
    }
    root.append(
      svg('text', { x: x + barW / 2, y: height - 6, 'text-anchor': 'middle', class: 'ls-tick' }, fmt(edges[i]))
    );
  });
  const right = left + counts.length * barW;
  root.append(
    svg('text', { x: right, y: height - 6, 'text-anchor': 'middle', class: 'ls-tick' }, fmt(edges[edges.length - 1]))
  );
  return root;
}

/** A row per graded question: its success rate as a bar and a percentage. */
export function questionRates(stats: IStatistics): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'ls-question-rates';
  table.innerHTML =
    '<thead><tr><th>Question</th><th>Points</th><th>Full marks</th><th>Success rate</th></tr></thead>';
  const body = document.createElement('tbody');
  for (const c of stats.cells) {
    const row = document.createElement('tr');
    row.dataset.cell = c.cell_id;
    const rate = c.success_rate;
    const pct = rate === null ? '–' : `${Math.round(rate * 100)}%`;
    const bar = document.createElement('div');
    bar.className = 'ls-rate-bar';
    const fill = document.createElement('div');
    fill.className = 'ls-rate-fill';
    fill.style.width = `${Math.round((rate ?? 0) * 100)}%`;
    bar.append(fill);
    const rateCell = document.createElement('td');
    rateCell.className = 'ls-rate';
    rateCell.dataset.rate = rate === null ? '' : String(rate);
    rateCell.append(bar, ` ${pct}`);
    for (const text of [`${c.notebook}/${c.cell_id}`, fmt(c.max_score), `${c.full_marks}/${c.graded}`]) {
      const td = document.createElement('td');
      td.textContent = text;
      row.append(td);
    }
    row.append(rateCell);
    body.append(row);
  }
  table.append(body);
  return table;
}

/** The whole statistics block, with a one-line summary above the chart. */
export function statisticsBlock(stats: IStatistics): HTMLElement {
  const block = document.createElement('section');
  block.className = 'ls-stats';
  const title = document.createElement('h3');
  title.textContent = 'Scores';
  const summary = document.createElement('p');
  summary.className = 'ls-muted';
  summary.textContent =
    stats.learners === 0
      ? 'No graded submissions yet.'
      : `${stats.learners} learner${stats.learners === 1 ? '' : 's'} graded (latest submission each), ` +
        `mean ${fmt(stats.mean_score ?? 0)} of ${fmt(stats.max_score)}.`;
  const questions = document.createElement('h3');
  questions.textContent = 'Per question';
  block.append(title, summary, histogram(stats), questions, questionRates(stats));
  return block;
}
