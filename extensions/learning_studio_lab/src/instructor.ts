// Instructor tools: mark cells with nbgrader's metadata (solution, autograded test with
// points, manual answer, locked), author hints, release an assignment from a folder, and
// see what the grader stores for a course.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { Widget } from '@lumino/widgets';

import { IStorage, IStorageKind, studio } from './api';
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

/** 1234567 -> "1.2 MB" (powers of 1000, as file browsers show sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 86400 -> "24 h", 90 -> "90 s". */
export function formatSeconds(seconds: number): string {
  if (seconds >= 7200 && seconds % 3600 === 0) {
    return `${seconds / 3600} h`;
  }
  if (seconds >= 3600) {
    return `${(seconds / 3600).toFixed(1).replace(/\.0$/, '')} h`;
  }
  if (seconds >= 120) {
    return `${Math.round(seconds / 60)} min`;
  }
  return `${seconds} s`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const KIND_LABELS: Record<string, string> = {
  releases: 'Releases',
  submissions: 'Submissions',
  feedback: 'Feedback',
  lessons: 'Lessons'
};

function items(kind: string, k: IStorageKind): string {
  switch (kind) {
    case 'releases':
      return plural(k.count, 'version');
    case 'submissions':
      return `${plural(k.count, 'submission')} by ${plural(k.learners ?? 0, 'learner')}`;
    case 'feedback':
      return `${plural(k.count, 'graded submission')}`;
    default:
      return plural(k.count, 'lesson');
  }
}

function cell(row: HTMLTableRowElement, text: string, attrs: Record<string, string> = {}): void {
  const td = document.createElement('td');
  td.textContent = text;
  Object.assign(td.dataset, attrs);
  row.append(td);
}

function sizeCell(row: HTMLTableRowElement, k: IStorageKind): void {
  cell(row, `${formatBytes(k.bytes)} (${plural(k.files, 'file')})`,
    { bytes: String(k.bytes), files: String(k.files) });
}

/** The course's storage: by kind with what is kept for how long, then by assignment. */
export function storageBlock(usage: IStorage): HTMLElement {
  const block = document.createElement('section');
  block.className = 'ls-storage';
  block.dataset.course = usage.course;
  const summary = document.createElement('p');
  summary.className = 'ls-storage-total';
  summary.dataset.bytes = String(usage.total_bytes);
  summary.textContent =
    `The grader stores ${formatBytes(usage.total_bytes)} in ${plural(usage.files, 'file')} ` +
    `for ${usage.course}. A file is stored once however often it is uploaded, so a kind ` +
    'counts its own files and the total counts each file once.';
  const kinds = document.createElement('table');
  kinds.className = 'ls-storage-kinds';
  kinds.innerHTML =
    '<thead><tr><th>Kind</th><th>Items</th><th>Stored</th><th>Kept</th></tr></thead>';
  const kindRows = document.createElement('tbody');
  for (const [kind, label] of Object.entries(KIND_LABELS)) {
    const k = usage.kinds[kind as keyof IStorage['kinds']];
    const row = document.createElement('tr');
    row.dataset.kind = kind;
    cell(row, label);
    cell(row, items(kind, k), { count: String(k.count) });
    sizeCell(row, k);
    cell(row, usage.kept[kind] ?? '', { kept: '' });
    kindRows.append(row);
  }
  kinds.append(kindRows);
  const assignments = document.createElement('table');
  assignments.className = 'ls-storage-assignments';
  assignments.innerHTML =
    '<thead><tr><th>Assignment</th><th>Releases</th><th>Submissions</th><th>Feedback</th>' +
    '<th>Total</th></tr></thead>';
  const rows = document.createElement('tbody');
  for (const a of usage.assignments) {
    const row = document.createElement('tr');
    row.dataset.assignment = a.assignment;
    cell(row, a.title === a.assignment ? a.assignment : `${a.title} (${a.assignment})`);
    sizeCell(row, a.releases);
    sizeCell(row, a.submissions);
    sizeCell(row, a.feedback);
    cell(row, formatBytes(a.total_bytes), { bytes: String(a.total_bytes) });
    rows.append(row);
  }
  assignments.append(rows);
  const cleanup = document.createElement('p');
  cleanup.className = 'ls-muted ls-storage-cleanup';
  const every = usage.collection_interval_seconds;
  cleanup.textContent =
    'Files nothing refers to any more (replaced feedback and lessons, refused uploads) are ' +
    `removed once they are ${formatSeconds(usage.unreferenced_removed_after_seconds)} old` +
    (every > 0
      ? `, checked every ${formatSeconds(every)}.`
      : '; the grader does not remove them on its own here: ask your operator.');
  const heading = (text: string) => {
    const h = document.createElement('h3');
    h.textContent = text;
    return h;
  };
  // the clean-up rule beside "Kept", above the assignments (a long list scrolls)
  block.append(summary, heading('By kind'), kinds, cleanup, heading('By assignment'), assignments);
  if (usage.missing_files > 0) {
    const missing = document.createElement('p');
    missing.className = 'ls-error ls-storage-missing';
    missing.textContent =
      `${plural(usage.missing_files, 'file')} the course refers to are missing from the ` +
      "grader's store: tell your operator (see the operator guide on the blob store).";
    block.append(missing);
  }
  return block;
}

/** The Storage button of a course in the Courses panel (instructors). */
export async function showStorage(course: string): Promise<void> {
  let usage: IStorage;
  try {
    usage = await studio.storage(course);
  } catch (error) {
    await explain('Cannot show the storage', error);
    return;
  }
  await showDialog({
    title: `Storage of ${course}`,
    body: new Widget({ node: storageBlock(usage) }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}
