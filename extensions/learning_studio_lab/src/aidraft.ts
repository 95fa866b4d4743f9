// Instructors: "Draft an exercise with AI" / "Draft a lesson with AI". The grader asks the
// model, checks its answer and keeps the draft for the course's instructors; the server
// extension writes it into the course folder (an exercise into
// courses/<course>/source/<assignment>/, where the Release form releases from; a lesson
// into courses/<course>/lessons/) and it opens here for review. Releasing it is the
// ordinary Release, whose check (solution passes, student version fails) runs on it.
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { Widget } from '@lumino/widgets';

import { getJSON, postJSON } from './api';
import { explain } from './panel';

export type DraftKind = 'exercise' | 'lesson';

export interface IDraft {
  id: number;
  kind: DraftKind;
  assignment: string;
  name: string;
  title: string;
  created_by: string;
  created_at: string;
  path: string;
  written: boolean;
}

export const drafts = {
  create: (course: string, body: Record<string, unknown>) =>
    postJSON<IDraft>(['courses', course, 'drafts'], body),
  list: (course: string) => getJSON<IDraft[]>(['courses', course, 'drafts']),
  open: (course: string, id: number) =>
    postJSON<{ path: string; written: boolean }>(['courses', course, 'drafts', String(id), 'open'])
};

/** The course of a path under courses/<course>/..., or ''. */
export function courseOf(path: string): string {
  return /^courses\/([^/]+)\//.exec(path)?.[1] ?? '';
}

/** A slug from free text: "Lists & loops!" -> "lists-loops". */
export function slugFrom(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

function field(label: string, input: HTMLElement): HTMLElement {
  const row = document.createElement('label');
  row.className = 'ls-field';
  row.append(label, input);
  return row;
}

/** Ask for a topic (exercise) or an outline (lesson), draft it, write it, open it. */
export async function draftWithAI(
  docManager: IDocumentManager,
  kind: DraftKind,
  course = ''
): Promise<void> {
  const exercise = kind === 'exercise';
  const inputs = {
    course: Object.assign(document.createElement('input'), { name: 'course', value: course }),
    assignment: Object.assign(document.createElement('input'), {
      name: 'assignment',
      placeholder: exercise ? 'ps-loops' : '04-loops'
    }),
    text: Object.assign(document.createElement('textarea'), {
      name: exercise ? 'topic' : 'outline',
      rows: exercise ? 3 : 8,
      cols: 60,
      placeholder: exercise
        ? 'What the exercise practises, e.g. "for loops over lists, summing and counting"'
        : 'The lesson\'s points, one a line'
    }),
    parts: Object.assign(document.createElement('input'), {
      name: 'parts', type: 'number', min: '1', max: '5', value: '2'
    }),
    level: Object.assign(document.createElement('input'), {
      name: 'level', placeholder: 'beginners'
    })
  };
  inputs.text.oninput = () => {
    if (!inputs.assignment.dataset.edited) {
      inputs.assignment.value = slugFrom(inputs.text.value.split('\n')[0]);
    }
  };
  inputs.assignment.oninput = () => {
    inputs.assignment.dataset.edited = '1';
  };
  const form = document.createElement('div');
  form.className = 'ls-release-form ls-ai-draft-form';
  const note = document.createElement('p');
  note.className = 'ls-muted';
  note.textContent = exercise
    ? 'The draft is an nbgrader source notebook with solutions and hidden tests: only ' +
      "instructors of the course can see it. Review it, then release it: the release check " +
      'refuses it unless its solution passes its tests and the student version fails them.'
    : 'The draft is a lesson notebook for you to review and edit.';
  form.append(
    note,
    field('Course', inputs.course),
    field(exercise ? 'Topic' : 'Outline', inputs.text),
    field(exercise ? 'Assignment' : 'Lesson', inputs.assignment),
    ...(exercise ? [field('Parts (1-5)', inputs.parts)] : []),
    field('Learners (optional)', inputs.level)
  );
  const answer = await showDialog({
    title: exercise ? 'Draft an exercise with AI' : 'Draft a lesson with AI',
    body: new Widget({ node: form }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Draft' })]
  });
  if (!answer.button.accept) {
    return;
  }
  const options: Record<string, unknown> = {};
  if (exercise && inputs.parts.value) {
    options.parts = Number(inputs.parts.value);
  }
  if (inputs.level.value.trim()) {
    options.level = inputs.level.value.trim();
  }
  const body = {
    kind,
    [exercise ? 'topic' : 'outline']: inputs.text.value,
    assignment: inputs.assignment.value.trim(),
    options
  };
  const waiting = Notification.emit(
    `Drafting ${exercise ? 'an exercise' : 'a lesson'} with AI… (this can take a minute)`,
    'in-progress',
    { autoClose: false }
  );
  let draft: IDraft;
  try {
    draft = await drafts.create(inputs.course.value.trim(), body);
  } catch (error) {
    Notification.dismiss(waiting);
    await explain('No AI draft', error);
    return;
  }
  Notification.update({
    id: waiting,
    type: 'success',
    autoClose: 8000,
    message: exercise
      ? `Draft written to ${draft.path}. Review and edit it, then release ${draft.assignment}.`
      : `Lesson draft written to ${draft.path}. Review and edit it.`
  });
  await docManager.openOrReveal(draft.path);
}

/** The course's stored drafts (this server's and the site's), each with Open. */
export async function showDrafts(docManager: IDocumentManager, course: string): Promise<void> {
  let list: IDraft[];
  try {
    list = await drafts.list(course);
  } catch (error) {
    await explain('Cannot list the AI drafts', error);
    return;
  }
  const block = document.createElement('div');
  block.className = 'ls-ai-drafts';
  if (list.length === 0) {
    block.textContent = 'No AI drafts for this course yet.';
  }
  const dialog = new Dialog({
    title: `AI drafts of ${course}`,
    body: new Widget({ node: block }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
  for (const d of list) {
    const row = document.createElement('div');
    row.className = 'ls-ai-draft';
    row.dataset.draft = String(d.id);
    const open = document.createElement('button');
    open.className = 'jp-Button ls-button';
    open.textContent = d.written ? 'Open' : 'Write to my folder and open';
    open.onclick = async () => {
      try {
        const out = await drafts.open(course, d.id);
        dialog.dispose();
        await docManager.openOrReveal(out.path);
      } catch (error) {
        await explain('Cannot open the AI draft', error);
      }
    };
    row.append(
      `${d.title} (${d.kind}, ${d.path}, by ${d.created_by} ${new Date(d.created_at).toLocaleString()}) `,
      open
    );
    block.append(row);
  }
  await dialog.launch();
}

/** Which course? Prefilled from the open notebook's path. */
export async function askCourse(defaultCourse: string): Promise<string> {
  const input = Object.assign(document.createElement('input'), { name: 'course', value: defaultCourse });
  const answer = await showDialog({
    title: 'AI drafts of which course?',
    body: new Widget({ node: field('Course', input) }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Show' })]
  });
  return answer.button.accept ? input.value.trim() : '';
}
