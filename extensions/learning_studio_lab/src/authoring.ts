// Authoring helpers for instructors: wrap the selected lines (or the whole cell) in
// nbgrader's solution or hidden-test delimiters, and a badge on every graded cell that
// says what nbgrader will do with it (solution, tests N pts, manual N pts, locked).
import { Notification } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { nbgraderMetadata } from './instructor';

export type Region = 'solution' | 'hidden-tests';

const DELIMITERS: Record<Region, [string, string]> = {
  solution: ['### BEGIN SOLUTION', '### END SOLUTION'],
  'hidden-tests': ['### BEGIN HIDDEN TESTS', '### END HIDDEN TESTS']
};

/**
 * Lines `first..last` of `source` between the region's delimiters, indented like the
 * first line. Pure, so the rule is the same wherever it is used.
 */
export function wrapLines(source: string, region: Region, first: number, last: number): string {
  const lines = source.split('\n');
  first = Math.max(0, Math.min(first, lines.length - 1));
  last = Math.max(first, Math.min(last, lines.length - 1));
  const indent = /^\s*/.exec(lines[first])![0];
  const [begin, end] = DELIMITERS[region];
  return [
    ...lines.slice(0, first),
    indent + begin,
    ...lines.slice(first, last + 1),
    indent + end,
    ...lines.slice(last + 1)
  ].join('\n');
}

/** Wrap the selection's lines (or the whole cell) of a code cell in a region. */
export function wrapRegion(cell: Cell, region: Region): void {
  if (cell.model.type !== 'code') {
    Notification.warning('Solution and hidden-test regions go in code cells.', { autoClose: 4000 });
    return;
  }
  const source = cell.model.sharedModel.getSource();
  let first = 0;
  let last = source.split('\n').length - 1;
  const selection = cell.editor?.getSelection();
  if (selection) {
    const { start, end } = selection;
    if (start.line !== end.line || start.column !== end.column) {
      first = Math.min(start.line, end.line);
      last = Math.max(start.line, end.line);
      // a selection ending at the start of a line does not take that line
      const lower = start.line > end.line ? start : end;
      if (lower.column === 0 && last > first) {
        last--;
      }
    }
  }
  cell.model.sharedModel.setSource(wrapLines(source, region, first, last));
  // nbgrader refuses these regions outside solution / test cells: mark the cell too
  const meta = (cell.model.getMetadata('nbgrader') as any) ?? {};
  const gradeId = meta.grade_id ?? `cell-${cell.model.id.slice(0, 8)}`;
  if (region === 'solution' && !meta.solution) {
    cell.model.setMetadata('nbgrader', nbgraderMetadata('solution', gradeId));
  } else if (region === 'hidden-tests' && !meta.grade) {
    cell.model.setMetadata('nbgrader', nbgraderMetadata('test', gradeId, 1));
  }
}

/** What nbgrader does with a cell, in a few words; '' for an ordinary cell. */
export function cellKindLabel(meta: any): { kind: string; label: string } {
  if (!meta || typeof meta !== 'object') {
    return { kind: '', label: '' };
  }
  const pts = (p: unknown) => `${Number(p ?? 0)} pt${Number(p ?? 0) === 1 ? '' : 's'}`;
  if (meta.task) {
    return { kind: 'task', label: `task ${pts(meta.points)}` };
  }
  if (meta.solution && meta.grade) {
    return { kind: 'manual', label: `manual ${pts(meta.points)}` };
  }
  if (meta.solution) {
    return { kind: 'solution', label: 'solution' };
  }
  if (meta.grade) {
    return { kind: 'tests', label: `tests ${pts(meta.points)}` };
  }
  if (meta.locked) {
    return { kind: 'locked', label: 'locked' };
  }
  return { kind: '', label: '' };
}

function showBadge(cell: Cell): void {
  const { kind, label } = cellKindLabel(cell.model.getMetadata('nbgrader'));
  let badge = cell.node.querySelector(':scope > .ls-cell-kind') as HTMLElement | null;
  if (!label) {
    badge?.remove();
    return;
  }
  if (!badge) {
    badge = document.createElement('div');
    badge.className = 'ls-cell-kind';
    badge.title = "This cell's nbgrader role (change it from the cell's context menu)";
    cell.node.append(badge);
  }
  badge.dataset.kind = kind;
  badge.textContent = label;
}

/** Keeps a badge on every cell of a notebook, updated when a cell's metadata changes. */
export class CellKindBadges
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  createNew(panel: NotebookPanel): IDisposable {
    const watched = new WeakSet<Cell>();
    const sync = () => {
      for (const cell of panel.content.widgets) {
        if (!watched.has(cell)) {
          watched.add(cell);
          cell.model.metadataChanged.connect(() => showBadge(cell));
        }
        showBadge(cell);
      }
    };
    // cell widgets are made in answer to the same change: look once they exist
    const later = () => setTimeout(sync, 0);
    void panel.context.ready.then(() => {
      sync();
      panel.content.model?.cells.changed.connect(later);
    });
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose() {
        panel.content.model?.cells.changed.disconnect(later);
        disposed = true;
      }
    };
  }
}
