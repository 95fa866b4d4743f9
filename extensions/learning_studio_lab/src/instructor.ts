// Instructor tools: mark cells with nbgrader's metadata (solution, autograded test with
// points, manual answer, locked), author hints, and release an assignment from a folder.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { Widget } from '@lumino/widgets';

import { studio } from './api';
import { explain } from './panel';

export type CellKind = 'solution' | 'test' | 'manual' | 'locked' | 'none';

/** nbgrader's metadata (schema 3) for a kind of cell, as its create_assignment would set. */
export function nbgraderMetadata(kind: CellKind, gradeId: string, points = 1): Record<string, unknown> | null {
  const base = { schema_version: 3, grade_id: gradeId, task: false };
  switch (kind) {
    case 'solution':
      return { ...base, solution: true, grade: false, locked: false };
    case 'test':
      return { ...base, solution: false, grade: true, locked: true, points };
    case 'manual':
      return { ...base, solution: true, grade: true, locked: false, points };
    case 'locked':
      return { ...base, solution: false, grade: false, locked: true };
    default:
      return null;
  }
}

export async function markCell(cell: Cell, kind: CellKind): Promise<void> {
  if (kind === 'none') {
    cell.model.deleteMetadata('nbgrader');
    return;
  }
  let points = 1;
  if (kind === 'test' || kind === 'manual') {
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '0';
    input.step = '0.5';
    input.value = String((cell.model.getMetadata('nbgrader') as any)?.points ?? 1);
    const answer = await showDialog({
      title: 'Points for this cell',
      body: new Widget({ node: input }),
      buttons: [Dialog.cancelButton(), Dialog.okButton()]
    });
    if (!answer.button.accept) {
      return;
    }
    points = Number(input.value);
  }
  const old = (cell.model.getMetadata('nbgrader') as any)?.grade_id;
  const gradeId = old ?? `cell-${cell.model.id.slice(0, 8)}`;
  cell.model.setMetadata('nbgrader', nbgraderMetadata(kind, gradeId, points));
}

export async function editHints(cell: Cell): Promise<void> {
  const area = document.createElement('textarea');
  area.rows = 6;
  area.cols = 60;
  area.placeholder = 'One hint per line, from gentle to explicit';
  area.value = (((cell.model.getMetadata('learning_studio') as any)?.hints ?? []) as string[]).join('\n');
  const answer = await showDialog({
    title: 'Hints for this cell',
    body: new Widget({ node: area }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save hints' })]
  });
  if (!answer.button.accept) {
    return;
  }
  const hints = area.value.split('\n').map(h => h.trim()).filter(Boolean);
  const meta = { ...((cell.model.getMetadata('learning_studio') as any) ?? {}), hints };
  cell.model.setMetadata('learning_studio', meta);
}

function field(label: string, input: HTMLElement): HTMLElement {
  const row = document.createElement('label');
  row.className = 'ls-field';
  row.append(label, input);
  return row;
}

export async function releaseForm(defaultSource = ''): Promise<void> {
  const inputs = {
    course: Object.assign(document.createElement('input'), { name: 'course' }),
    assignment: Object.assign(document.createElement('input'), { name: 'assignment' }),
    source: Object.assign(document.createElement('input'), { name: 'source', value: defaultSource }),
    due_at: Object.assign(document.createElement('input'), { name: 'due_at', type: 'datetime-local' }),
    max_submissions: Object.assign(document.createElement('input'), { name: 'max_submissions', type: 'number', min: '1' })
  };
  const m = /^courses\/([^/]+)\/source\/([^/]*)/.exec(defaultSource);
  if (m) {
    inputs.course.value = m[1];
    inputs.assignment.value = m[2];
  }
  // the assignment's name is its source folder's name, unless the instructor says otherwise
  inputs.assignment.oninput = () => {
    const c = inputs.course.value;
    if (c && inputs.source.value.startsWith(`courses/${c}/source/`)) {
      inputs.source.value = `courses/${c}/source/${inputs.assignment.value}`;
    }
  };
  const form = document.createElement('div');
  form.className = 'ls-release-form';
  form.append(
    field('Course', inputs.course),
    field('Assignment', inputs.assignment),
    field('Source folder', inputs.source),
    field('Due (your time zone)', inputs.due_at),
    field('Most submissions', inputs.max_submissions)
  );
  const answer = await showDialog({
    title: 'Release an assignment',
    body: new Widget({ node: form }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Release' })]
  });
  if (!answer.button.accept) {
    return;
  }
  const options: Record<string, unknown> = { source: inputs.source.value };
  if (inputs.due_at.value) {
    options.due_at = new Date(inputs.due_at.value).toISOString();
  }
  if (inputs.max_submissions.value) {
    options.max_submissions = Number(inputs.max_submissions.value);
  }
  try {
    const out: any = await studio.release(inputs.course.value, inputs.assignment.value, options);
    await showDialog({
      title: `Released ${inputs.assignment.value} (version ${out.version})`,
      body: `Notebooks: ${(out.notebooks ?? []).join(', ')}. Max score ${out.max_score}.`,
      buttons: [Dialog.okButton()]
    });
  } catch (error: any) {
    const report = error?.details?.report;
    await explain(
      'Release refused',
      report ? Object.assign(error, { message: `${error.message}\n${JSON.stringify(report, null, 1)}` }) : error
    );
  }
}
