// The Courses panel in the left sidebar: my courses, their assignments (status, score,
// due date, late), and the course's lessons, with Fetch / Open / Restore / Feedback.
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { Widget } from '@lumino/widgets';

import { IAssignment, ICourse, StudioError, studio } from './api';

export interface ICoursesPanelOptions {
  docManager: IDocumentManager;
  openFeedback: (course: string, assignment: IAssignment, instructor: boolean) => void;
  release: (course: string) => Promise<void>;
  storage: (course: string) => Promise<void>;
  draft?: (course: string) => Promise<void>;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function formatDue(due: string | null): string {
  if (!due) {
    return 'no due date';
  }
  const d = new Date(due);
  return `due ${d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  })}`;
}

export function statusLabel(a: IAssignment): string {
  switch (a.status) {
    case 'graded':
      return `graded ${a.score ?? 0}/${a.max_score ?? '?'}`;
    case 'submitted':
      return 'submitted, grading…';
    case 'failed':
      return 'grading failed';
    default:
      return a.status;
  }
}

export async function explain(title: string, error: unknown): Promise<void> {
  if (error instanceof StudioError) {
    await showErrorMessage(title, `${error.code}: ${error.message}`);
  } else {
    await showErrorMessage(title, String(error));
  }
}

export class CoursesPanel extends Widget {
  constructor(private options: ICoursesPanelOptions) {
    super();
    this.id = 'learning-studio-courses';
    this.addClass('ls-CoursesPanel');
    this.title.caption = 'Courses';
    this.title.label = 'Courses';
    this.header = el('div', { class: 'ls-CoursesPanel-header' });
    const heading = el('h2', {}, 'My courses');
    const refresh = el('button', { class: 'jp-Button ls-refresh', title: 'Refresh' }, 'Refresh');
    refresh.onclick = () => void this.refresh();
    this.header.append(heading, refresh);
    this.body = el('div', { class: 'ls-CoursesPanel-body' });
    this.node.append(this.header, this.body);
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    this.body.replaceChildren(el('p', { class: 'ls-muted' }, 'Loading your courses…'));
    let courses: ICourse[];
    try {
      courses = (await studio.courses()).courses;
    } catch (error) {
      const e = error as StudioError;
      this.body.replaceChildren(
        el('p', { class: 'ls-error', role: 'alert' }, `${e.code ?? 'Error'}: ${e.message}`)
      );
      return;
    }
    if (courses.length === 0) {
      this.body.replaceChildren(
        el('p', { class: 'ls-muted' }, 'You are not enrolled in any course yet.')
      );
      return;
    }
    this.body.replaceChildren(...courses.map(c => this.renderCourse(c)));
  }

  private renderCourse(course: ICourse): HTMLElement {
    const section = el('section', { class: 'ls-course', 'data-course': course.slug });
    section.append(el('h3', {}, course.title));
    if (course.roles.includes('instructor')) {
      section.append(el('span', { class: 'ls-badge ls-role' }, 'instructor'));
      section.append(
        this.button('Release an assignment…', async () => {
          await this.options.release(course.slug);
          await this.refresh();
        }),
        this.button('Storage', () => this.options.storage(course.slug))
      );
      if (this.options.draft) {
        const draft = this.options.draft;
        section.append(this.button('Draft an exercise with AI…', () => draft(course.slug)));
      }
    }
    section.append(el('h4', {}, 'Assignments'));
    const list = el('ul', { class: 'ls-assignments' });
    for (const a of course.assignments) {
      list.append(this.renderAssignment(course, a));
    }
    if (course.assignments.length === 0) {
      list.append(el('li', { class: 'ls-muted' }, 'Nothing released yet.'));
    }
    section.append(list);
    if (course.lessons.length) {
      section.append(el('h4', {}, 'Lessons'));
      const lessons = el('ul', { class: 'ls-lessons' });
      for (const lesson of course.lessons) {
        const open = el(
          'button',
          { class: 'ls-link', 'data-lesson': lesson.slug, 'data-source': lesson.source },
          lesson.title
        );
        open.onclick = async () => {
          try {
            const out = await studio.openLesson(course.slug, lesson.slug);
            this.options.docManager.openOrReveal(out.path);
          } catch (error) {
            await explain('Cannot open the lesson', error);
          }
        };
        lessons.append(el('li', {}, open));
      }
      section.append(lessons);
    }
    return section;
  }

  private renderAssignment(course: ICourse, a: IAssignment): HTMLElement {
    const item = el('li', {
      class: `ls-assignment ls-status-${a.status}`,
      'data-assignment': a.slug
    });
    const status = el('span', { class: 'ls-badge ls-status' }, statusLabel(a));
    const title = el('div', { class: 'ls-assignment-title' }, a.title, ' ', status);
    if (a.late) {
      title.append(el('span', { class: 'ls-badge ls-late' }, 'late'));
    }
    const meta = el('div', { class: 'ls-muted ls-due' }, formatDue(a.due_at));
    if (a.max_submissions) {
      meta.append(` · ${a.submissions_used}/${a.max_submissions} submissions`);
    }
    const actions = el('div', { class: 'ls-actions' });
    if (a.status === 'new') {
      actions.append(this.button('Fetch', () => this.fetch(course, a)));
    } else {
      actions.append(this.button('Open', () => this.open(a)));
      actions.append(this.button('Fetch again', () => this.fetch(course, a)));
      actions.append(this.button('Restore…', () => this.restore(course, a)));
    }
    const instructor = course.roles.includes('instructor');
    if (instructor) {
      actions.append(
        this.button('Submissions', () => this.options.openFeedback(course.slug, a, true))
      );
    } else if (a.latest_submission) {
      actions.append(
        this.button('Feedback', () => this.options.openFeedback(course.slug, a, false))
      );
    }
    item.append(title, meta, actions);
    return item;
  }

  private button(label: string, action: () => Promise<void> | void): HTMLButtonElement {
    const b = el('button', { class: 'jp-Button ls-button', 'data-action': label }, label);
    b.onclick = async () => {
      b.disabled = true;
      try {
        await action();
      } finally {
        b.disabled = false;
      }
    };
    return b;
  }

  private async open(a: IAssignment): Promise<void> {
    for (const nb of a.notebooks) {
      this.options.docManager.openOrReveal(`${a.path}/${nb}.ipynb`);
    }
  }

  private async fetch(course: ICourse, a: IAssignment): Promise<void> {
    try {
      await studio.fetch(course.slug, a.slug);
    } catch (error) {
      if (error instanceof StudioError && error.code === 'WorkWouldBeOverwritten') {
        const answer = await showDialog({
          title: 'Replace your work?',
          body: error.message,
          buttons: [
            Dialog.cancelButton({ label: 'Keep my work' }),
            Dialog.warnButton({ label: 'Replace (keep a backup)' })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        try {
          await studio.fetch(course.slug, a.slug, { overwrite: true });
        } catch (again) {
          await explain('Fetch failed', again);
          return;
        }
      } else {
        await explain('Fetch failed', error);
        return;
      }
    }
    await this.refresh();
    await this.open(a);
  }

  private async restore(course: ICourse, a: IAssignment): Promise<void> {
    const select = el('select', { class: 'ls-restore-select' });
    for (const nb of a.notebooks) {
      select.append(el('option', { value: `${nb}.ipynb` }, `${nb}.ipynb`));
    }
    const body = new Widget({
      node: el(
        'div',
        {},
        el('p', {}, 'Put back the original version of one notebook. Your current copy is saved in the course\'s .backups folder.'),
        select
      )
    });
    const answer = await showDialog({
      title: `Restore a notebook of ${a.title}`,
      body,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Restore' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      const out = await studio.fetch(course.slug, a.slug, { restore: select.value });
      const widget = this.options.docManager.findWidget(out.path);
      if (widget) {
        await widget.context.revert();
      }
      this.options.docManager.openOrReveal(out.path);
    } catch (error) {
      await explain('Restore failed', error);
    }
  }

  private header: HTMLElement;
  private body: HTMLElement;
}
