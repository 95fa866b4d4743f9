// Check, Hint and Submit in an assignment notebook's toolbar.
//
// Check runs the current exercise's solution cells and then its visible test cells in the
// learner's own kernel and marks each test cell passed or failed inline. Nothing here is
// trusted: the grade comes from the grader's sandbox after Submit.
import { Dialog, Notification, ToolbarButton, showDialog } from '@jupyterlab/apputils';
import { Cell, CodeCell } from '@jupyterlab/cells';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { ISubmission, StudioError, assignmentOf, studio } from './api';
import { explain } from './panel';
import { ITutorContext, tutorApi } from './tutor';

/** What the tutor's buttons do: set by the plugin (index.ts) once the panel exists. */
let tutor: ((context: ITutorContext, explain: boolean) => void) | null = null;

export function setTutor(open: (context: ITutorContext, explain: boolean) => void): void {
  tutor = open;
}

/** The key of an exercise's state in this page: its notebook's path and its grade_id. */
function exerciseKey(panel: NotebookPanel, gradeId: string | undefined): string {
  return `${panel.context.path}#${gradeId}`;
}

/** An "Explain" button of the tutor's (the click does not reach the cell below it). */
function explainButton(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.className = 'jp-mod-styled ls-tutor-explain';
  button.textContent = label;
  button.title = title;
  button.onclick = e => {
    e.stopPropagation();
    onClick();
  };
  return button;
}

/** The last failure of each exercise (exerciseKey): what Explain sends. */
const failures = new Map<string, { error: string; test: { cell: string; error: string } | null }>();

interface INbgraderMeta {
  grade?: boolean;
  solution?: boolean;
  locked?: boolean;
  grade_id?: string;
  points?: number;
}

export function nbgraderOf(cell: Cell): INbgraderMeta {
  return (cell.model.getMetadata('nbgrader') as INbgraderMeta) ?? {};
}

/** A visible autograded test: graded, not an answer, code. */
export function isTestCell(cell: Cell): boolean {
  const m = nbgraderOf(cell);
  return cell.model.type === 'code' && !!m.grade && !m.solution;
}

export function isSolutionCell(cell: Cell): boolean {
  const m = nbgraderOf(cell);
  return cell.model.type === 'code' && !!m.solution;
}

/**
 * The exercise around the active cell: from the nearest solution cell at or above it
 * (or the first one below) to the last test cell before the next solution cell.
 */
export function currentExercise(panel: NotebookPanel): { solutions: Cell[]; tests: Cell[] } {
  const cells = panel.content.widgets;
  const active = panel.content.activeCellIndex;
  let start = -1;
  for (let i = Math.min(active, cells.length - 1); i >= 0; i--) {
    if (isSolutionCell(cells[i])) {
      start = i;
      break;
    }
  }
  if (start < 0) {
    start = cells.findIndex(isSolutionCell);
  }
  if (start < 0) {
    return { solutions: [], tests: cells.filter(isTestCell) };
  }
  const solutions: Cell[] = [];
  const tests: Cell[] = [];
  // consecutive solution cells before the first test belong to the same exercise
  for (let i = start; i < cells.length; i++) {
    const cell = cells[i];
    if (isSolutionCell(cell)) {
      if (tests.length) {
        break;
      }
      solutions.push(cell);
    } else if (isTestCell(cell)) {
      tests.push(cell);
    }
  }
  return { solutions, tests };
}

function mark(
  cell: Cell,
  result: 'passed' | 'failed' | 'running',
  detail = '',
  onExplain: (() => void) | null = null
): void {
  cell.removeClass('ls-test-passed');
  cell.removeClass('ls-test-failed');
  cell.removeClass('ls-test-running');
  cell.addClass(`ls-test-${result}`);
  let badge = cell.node.querySelector('.ls-test-badge') as HTMLElement | null;
  if (!badge) {
    badge = document.createElement('div');
    badge.className = 'ls-test-badge';
    cell.node.insertBefore(badge, cell.node.firstChild);
  }
  badge.dataset.result = result;
  badge.textContent =
    result === 'passed' ? '✔ Test passed' : result === 'failed' ? `✘ Test failed${detail ? ': ' + detail : ''}` : '… running';
  if (result === 'failed' && onExplain && tutor) {
    badge.append(' ', explainButton(
      'Explain',
      'Ask the AI tutor why this test fails (it will not give you the answer)',
      onExplain
    ));
  }
}

/** "NameError: name 'x' is not defined" from an execute reply or a KernelError. */
function errorText(content: any): string {
  if (!content) {
    return '';
  }
  const name = content.ename ?? content.errorName ?? 'Error';
  const value = content.evalue ?? content.errorValue ?? '';
  return value ? `${name}: ${value}` : name;
}

/** The tutor's request for an exercise of this notebook (without the question). */
export function tutorContext(panel: NotebookPanel, solution: Cell): ITutorContext | null {
  const where = assignmentOf(panel.context.path);
  const cell = nbgraderOf(solution).grade_id;
  if (!where || !cell) {
    return null;
  }
  const key = exerciseKey(panel, cell);
  const failure = failures.get(key);
  return {
    course: where.course,
    assignment: where.assignment,
    notebook: where.notebook,
    cell,
    code: solution.model.sharedModel.getSource(),
    error: failure?.error ?? '',
    test: failure?.test ?? null,
    hints_revealed: hintsRevealed.get(key) ?? 0
  };
}

function explainWith(panel: NotebookPanel, solution: Cell | undefined): (() => void) | null {
  if (!solution) {
    return null;
  }
  return () => {
    const context = tutorContext(panel, solution);
    if (context && tutor) {
      tutor(context, true);
    }
  };
}

/** Run the current exercise's visible tests; returns how many passed of how many. */
export async function check(panel: NotebookPanel): Promise<{ passed: number; total: number }> {
  const { solutions, tests } = currentExercise(panel);
  if (!tests.length) {
    Notification.info('This exercise has no visible tests to check.', { autoClose: 4000 });
    return { passed: 0, total: 0 };
  }
  const session = panel.sessionContext;
  await session.ready;
  for (const t of tests) {
    mark(t, 'running');
  }
  const key = (cell: Cell) => exerciseKey(panel, nbgraderOf(cell).grade_id);
  for (const s of solutions) {
    const reply = await CodeCell.execute(s as CodeCell, session);
    if (reply && reply.content.status !== 'ok') {
      failures.set(key(s), { error: errorText(reply.content), test: null });
      for (const t of tests) {
        mark(t, 'failed', 'your answer cell raised an error, fix it first', explainWith(panel, s));
      }
      return { passed: 0, total: tests.length };
    }
  }
  let passed = 0;
  let firstFailure: { cell: string; error: string } | null = null;
  for (const t of tests) {
    const reply = await CodeCell.execute(t as CodeCell, session);
    if (reply && reply.content.status === 'ok') {
      passed++;
      mark(t, 'passed');
    } else {
      const ename = reply && reply.content.status === 'error' ? (reply.content as any).ename : 'error';
      const failure = {
        cell: nbgraderOf(t).grade_id ?? '',
        error: reply ? errorText(reply.content) : 'the test did not run'
      };
      firstFailure = firstFailure ?? failure;
      const s = solutions[0];
      mark(t, 'failed', ename, s ? () => {
        failures.set(key(s), { error: '', test: failure });
        explainWith(panel, s)?.();
      } : null);
    }
  }
  if (solutions[0]) {
    if (firstFailure) {
      failures.set(key(solutions[0]), { error: '', test: firstFailure });
    } else {
      failures.delete(key(solutions[0]));
    }
  }
  Notification.emit(
    `Check: ${passed} of ${tests.length} visible test${tests.length === 1 ? '' : 's'} passed` +
      (passed === tests.length ? '. Hidden tests run when you submit.' : '.'),
    passed === tests.length ? 'success' : 'warning',
    { autoClose: 5000 }
  );
  return { passed, total: tests.length };
}

const hintsShown = new Map<string, number>();
/** How many hints of each exercise the learner has opened (the tutor is told). */
const hintsRevealed = new Map<string, number>();

/** Show the next hint of the exercise's answer cell, one at a time. */
export async function hint(panel: NotebookPanel): Promise<void> {
  const where = assignmentOf(panel.context.path);
  const { solutions } = currentExercise(panel);
  const cell = solutions[0] ?? panel.content.activeCell;
  if (!cell) {
    return;
  }
  const cellId = nbgraderOf(cell).grade_id ?? cell.model.id;
  let hints: string[] = [];
  try {
    if (where) {
      hints = (await studio.hints(where.course, where.assignment, where.notebook, cellId)).hints;
    }
  } catch {
    // not in the release (a copied notebook): fall back to the cell's own metadata
  }
  if (!hints.length) {
    hints = ((cell.model.getMetadata('learning_studio') as any)?.hints ?? []) as string[];
  }
  if (!hints.length) {
    await showDialog({
      title: 'No hints',
      body: 'This exercise has no hints. Re-read the task, and try Check to see what fails.',
      buttons: [Dialog.okButton()]
    });
    return;
  }
  const key = exerciseKey(panel, cellId);
  let index = hintsShown.get(key) ?? 0;
  for (;;) {
    const body = new Widget();
    body.node.className = 'ls-hint';
    const counter = document.createElement('p');
    counter.className = 'ls-muted';
    counter.textContent = `Hint ${index + 1} of ${hints.length}`;
    const text = document.createElement('p');
    text.className = 'ls-hint-text';
    text.textContent = hints[index];
    body.node.append(counter, text);
    hintsRevealed.set(key, Math.max(hintsRevealed.get(key) ?? 0, index + 1));
    const more = index + 1 < hints.length;
    const answer = await showDialog({
      title: 'Hint',
      body,
      buttons: more
        ? [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: 'Next hint' })]
        : [Dialog.okButton({ label: 'Close' })]
    });
    hintsShown.set(key, Math.min(index + 1, hints.length - 1));
    if (!more || !answer.button.accept) {
      return;
    }
    index++;
  }
}

/** Upload the assignment folder and follow the grading live until a grade arrives. */
export async function submit(
  panel: NotebookPanel,
  onGraded: (s: ISubmission) => void
): Promise<ISubmission | null> {
  const where = assignmentOf(panel.context.path);
  if (!where) {
    return null;
  }
  const answer = await showDialog({
    title: `Submit ${where.assignment}?`,
    body:
      `All notebooks in courses/${where.course}/${where.assignment}/ are saved and ` +
      'uploaded for grading. Each submission counts towards the limit.',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Submit' })]
  });
  if (!answer.button.accept) {
    return null;
  }
  await panel.context.save();
  let sub: ISubmission;
  try {
    sub = await studio.submit(where.course, where.assignment);
  } catch (error) {
    if (error instanceof StudioError && error.status === 429) {
      await submitLater(error);
    } else {
      await explain('Submission refused', error);
    }
    return null;
  }
  const id = Notification.emit(`Submitted (attempt ${sub.attempt}): grading…`, 'in-progress', {
    autoClose: false
  });
  void follow(sub.id, id, onGraded);
  return sub;
}

function inSeconds(seconds: number): string {
  return seconds > 0
    ? `You can submit again in ${seconds} second${seconds === 1 ? '' : 's'}.`
    : 'You can submit again now.';
}

/** The grader's rate limit (429): when to submit again, counting down; nothing was lost. */
async function submitLater(error: StudioError): Promise<void> {
  const until = Date.now() + (error.retryAfter ?? 60) * 1000;
  const left = () => Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const body = new Widget();
  body.node.className = 'ls-rate-limit';
  const wait = document.createElement('p');
  wait.className = 'ls-retry-after';
  wait.dataset.seconds = String(left());
  wait.textContent = inSeconds(left());
  const why = document.createElement('p');
  why.textContent =
    'The grader takes only a few submissions a minute from each learner. This one was not ' +
    'uploaded and does not count towards your limit.';
  const kept = document.createElement('p');
  kept.className = 'ls-muted';
  kept.textContent = 'Your notebook is saved and stays as it is: press Submit again then.';
  body.node.append(wait, why, kept);
  const timer = window.setInterval(() => {
    wait.textContent = inSeconds(left());
    if (left() === 0) {
      window.clearInterval(timer);
    }
  }, 1000);
  try {
    await showDialog({
      title: 'Too many submissions for now',
      body,
      buttons: [Dialog.okButton({ label: 'OK' })]
    });
  } finally {
    window.clearInterval(timer);
  }
}

async function follow(
  submissionId: number,
  notificationId: string,
  onGraded: (s: ISubmission) => void
): Promise<void> {
  let delay = 1000;
  for (let i = 0; i < 600; i++) {
    await new Promise(r => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 5000);
    let sub: ISubmission;
    try {
      sub = await studio.submission(submissionId);
    } catch {
      continue; // the grader restarting: keep polling
    }
    if (sub.status === 'graded') {
      Notification.update({
        id: notificationId,
        message:
          `Graded: ${sub.score}/${sub.max_score}` +
          (sub.needs_manual_grade ? ' (an instructor still grades some answers)' : ''),
        type: 'success',
        autoClose: 10000,
        actions: [{ label: 'Feedback', callback: () => onGraded(sub) }]
      });
      onGraded(sub);
      return;
    }
    if (sub.status === 'failed') {
      Notification.update({
        id: notificationId,
        message: `Grading failed: ${sub.job?.error ?? 'unknown reason'}. Your instructor can regrade it.`,
        type: 'error',
        autoClose: false
      });
      return;
    }
  }
}

/** "Ask the tutor": on when the grader says so for this assignment, else says why not. */
function tutorButton(
  panel: NotebookPanel,
  where: { course: string; assignment: string }
): ToolbarButton {
  let off = '';
  const button = new ToolbarButton({
    className: 'ls-tutor-button',
    label: 'Ask the tutor',
    tooltip: 'Ask the AI tutor about this exercise (it asks questions; it does not give answers)',
    onClick: () => {
      const { solutions } = currentExercise(panel);
      const context = solutions[0] ? tutorContext(panel, solutions[0]) : null;
      if (off) {
        Notification.info(`The tutor is off: ${off}`, { autoClose: 6000 });
      }
      if (!context) {
        Notification.info('Put the cursor in an exercise (an answer cell) to ask about it.', {
          autoClose: 5000
        });
        return;
      }
      tutor?.(context, false);
    }
  });
  void tutorApi
    .status(where.course, where.assignment)
    .then(status => {
      if (!status.enabled) {
        off = status.reason;
        button.addClass('ls-tutor-off');
        button.node.title = `The tutor is off: ${status.reason}`;
      }
    })
    .catch(() => undefined);
  return button;
}

/** An error in an exercise cell run by hand: an Explain button under the cell. */
export function watchExerciseErrors(): void {
  NotebookActions.executed.connect((_, args) => {
    const { notebook, cell, success, error } = args;
    const panel = notebook.parent as NotebookPanel | null;
    if (!panel?.context || !isSolutionCell(cell) || !assignmentOf(panel.context.path)) {
      return;
    }
    const id = nbgraderOf(cell).grade_id;
    cell.node.querySelector('.ls-tutor-cell-error')?.remove();
    if (!id) {
      return;
    }
    const key = exerciseKey(panel, id);
    if (success) {
      if (failures.get(key)?.error) {
        failures.delete(key);
      }
      return;
    }
    failures.set(key, { error: errorText(error), test: null });
    if (!tutor) {
      return;
    }
    const bar = document.createElement('div');
    bar.className = 'ls-tutor-cell-error';
    bar.append(explainButton(
      'Explain this error',
      'Ask the AI tutor what this error means (it will not give you the answer)',
      () => explainWith(panel, cell)?.()
    ));
    cell.node.append(bar);
  });
}

/** Adds Check, Hint and Submit to notebooks inside courses/<course>/<assignment>/. */
export class ExerciseToolbar
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private onGraded: (course: string, assignment: string, s: ISubmission) => void) {}

  createNew(panel: NotebookPanel): IDisposable {
    const where = assignmentOf(panel.context.path);
    const buttons: ToolbarButton[] = [];
    if (where) {
      buttons.push(
        new ToolbarButton({
          className: 'ls-check',
          label: 'Check',
          tooltip: 'Run the visible tests of this exercise in your kernel',
          onClick: () => void check(panel).catch(e => explain('Check failed', e))
        }),
        new ToolbarButton({
          className: 'ls-hint-button',
          label: 'Hint',
          tooltip: "Show the next hint for this exercise",
          onClick: () => void hint(panel)
        }),
        tutorButton(panel, where),
        new ToolbarButton({
          className: 'ls-submit',
          label: 'Submit',
          tooltip: 'Submit this assignment for grading',
          onClick: () =>
            void submit(panel, s => this.onGraded(where.course, where.assignment, s))
        })
      );
      buttons.forEach((b, i) => panel.toolbar.insertItem(10 + i, `ls-${i}`, b));
    }
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose() {
        buttons.forEach(b => b.dispose());
        disposed = true;
      }
    };
  }
}

