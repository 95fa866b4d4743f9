// The Feedback view: submission history, score per cell (hidden tests as passed or
// failed, never their code), and the feedback notebook's HTML in a sandboxed iframe.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ISubmission, studio } from './api';
import { explain } from './panel';
import { statisticsBlock } from './statistics';

function cellVerdict(score: number | null, max: number, manual: boolean): string {
  if (manual) {
    return 'waiting for the instructor';
  }
  if (max === 0) {
    return '';
  }
  if (score === max) {
    return 'passed';
  }
  return score ? 'partly' : 'failed';
}

export class FeedbackView extends Widget {
  constructor(
    readonly course: string,
    readonly assignment: string,
    selected?: number,
    readonly instructor = false
  ) {
    super();
    this.id = `ls-feedback-${course}-${assignment}`;
    this.addClass('ls-Feedback');
    this.title.label = `Feedback: ${assignment}`;
    this.title.closable = true;
    this.selected = selected;
    void this.load();
  }

  async load(): Promise<void> {
    this.node.replaceChildren(this.text('p', 'Loading your submissions…', 'ls-muted'));
    let subs: ISubmission[];
    try {
      subs = (await studio.submissions(this.course, this.assignment)).submissions;
    } catch (error: any) {
      this.node.replaceChildren(this.text('p', `${error.code}: ${error.message}`, 'ls-error'));
      return;
    }
    const heading = this.text(
      'h2',
      this.instructor ? `${this.assignment}: submissions` : `${this.assignment}: submission history`
    );
    const table = document.createElement('table');
    table.className = 'ls-history';
    table.innerHTML =
      '<thead><tr><th>Learner</th><th>Attempt</th><th>Submitted</th><th>Late</th><th>Status</th><th>Score</th><th>Late penalty</th><th></th></tr></thead>';
    const tbody = document.createElement('tbody');
    for (const s of subs) {
      const row = document.createElement('tr');
      row.dataset.submission = String(s.id);
      const cells = [
        s.username ?? '',
        String(s.attempt),
        new Date(s.submitted_at).toLocaleString(),
        s.seconds_late ? 'late' : '',
        s.status,
        s.score !== undefined ? `${s.score}/${s.max_score}` : '',
        s.late_penalty ? String(s.late_penalty) : ''
      ];
      for (const c of cells) {
        row.append(this.text('td', c));
      }
      const show = document.createElement('button');
      show.className = 'jp-Button ls-button';
      show.textContent = 'Show';
      show.onclick = () => void this.showSubmission(s.id);
      const td = document.createElement('td');
      td.append(show);
      if (this.instructor) {
        const regrade = document.createElement('button');
        regrade.className = 'jp-Button ls-button ls-regrade';
        regrade.textContent = 'Regrade';
        regrade.onclick = async () => {
          await studio.regrade(s.id);
          await this.load();
        };
        td.append(regrade);
      }
      row.append(td);
      tbody.append(row);
    }
    table.append(tbody);
    this.detail = document.createElement('div');
    this.detail.className = 'ls-detail';
    const parts: HTMLElement[] = [heading];
    if (this.instructor) {
      parts.push(this.instructorTools());
      this.stats = document.createElement('div');
      this.stats.className = 'ls-stats-slot';
      parts.push(this.stats);
      void this.loadStatistics();
    }
    this.node.replaceChildren(...parts, table, this.detail);
    const pick = this.selected ?? subs[subs.length - 1]?.id;
    if (pick !== undefined) {
      await this.showSubmission(pick);
    }
  }

  async showSubmission(id: number): Promise<void> {
    this.selected = id;
    const sub = await studio.submission(id);
    const parts: HTMLElement[] = [
      this.text('h3', `Attempt ${sub.attempt}: ${sub.status}` +
        (sub.score !== undefined ? `, score ${sub.score}/${sub.max_score}` : ''))
    ];
    if (sub.message) {
      parts.push(this.text('p', sub.message, 'ls-muted'));
    }
    if (sub.cells?.length) {
      const table = document.createElement('table');
      table.className = 'ls-cells';
      table.innerHTML = '<thead><tr><th>Notebook</th><th>Cell</th><th>Score</th><th>Result</th><th>Comment</th></tr></thead>';
      const body = document.createElement('tbody');
      for (const c of sub.cells) {
        const row = document.createElement('tr');
        const verdict = cellVerdict(c.score, c.max_score, c.needs_manual_grade);
        row.className = `ls-cell-${verdict.split(' ')[0] || 'none'}`;
        for (const v of [c.notebook, c.cell_id, `${c.score ?? '–'}/${c.max_score}`, verdict, c.comment ?? '']) {
          row.append(this.text('td', v));
        }
        if (this.instructor) {
          const grade = document.createElement('button');
          grade.className = 'jp-Button ls-button ls-grade';
          grade.textContent = 'Grade';
          grade.dataset.cell = c.cell_id;
          grade.onclick = () => void this.grade(id, c.notebook, c.cell_id, c.max_score, c.comment ?? '');
          const td = document.createElement('td');
          td.append(grade);
          row.append(td);
        }
        body.append(row);
      }
      table.append(body);
      parts.push(table);
    }
    for (const nb of sub.feedback_notebooks ?? []) {
      parts.push(this.text('h4', `Feedback notebook: ${nb}`));
      const frame = document.createElement('iframe');
      // no allow-scripts, no allow-same-origin: learner output cannot act as this server
      frame.setAttribute('sandbox', '');
      frame.className = 'ls-feedback-frame';
      frame.title = `feedback ${nb}`;
      try {
        frame.srcdoc = await studio.feedback(id, nb);
      } catch (error: any) {
        frame.srcdoc = `<p>${error.code}: could not load the feedback.</p>`;
      }
      parts.push(frame);
    }
    this.detail.replaceChildren(...parts);
  }

  /** Instructor: Export CSV (downloaded through this server) above the table. */
  private instructorTools(): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'ls-instructor-tools';
    const exportCsv = document.createElement('button');
    exportCsv.className = 'jp-Button ls-button ls-export-csv';
    exportCsv.textContent = 'Export CSV';
    exportCsv.title = "Download every learner's latest submission of this assignment as CSV";
    exportCsv.onclick = async () => {
      exportCsv.disabled = true;
      try {
        await studio.downloadGrades(this.course, this.assignment);
      } catch (error) {
        await explain('Export failed', error);
      } finally {
        exportCsv.disabled = false;
      }
    };
    bar.append(exportCsv);
    return bar;
  }

  /** Instructor: histogram of scores and per-question success rates, from the grader. */
  async loadStatistics(): Promise<void> {
    try {
      const stats = await studio.statistics(this.course, this.assignment);
      this.stats.replaceChildren(statisticsBlock(stats));
    } catch (error: any) {
      this.stats.replaceChildren(
        this.text('p', `Statistics unavailable: ${error.code}: ${error.message}`, 'ls-error')
      );
    }
  }

  /** Instructor: a score (0..max) and a comment for one cell, as the grader stores them. */
  private async grade(id: number, notebook: string, cell: string, max: number, comment: string): Promise<void> {
    const form = document.createElement('div');
    const score = Object.assign(document.createElement('input'), {
      type: 'number', min: '0', max: String(max), step: '0.5', name: 'score'
    });
    const note = Object.assign(document.createElement('textarea'), { name: 'comment', rows: 3, value: comment });
    form.append(`Score (0 to ${max})`, score, 'Comment', note);
    const answer = await showDialog({
      title: `Grade ${cell}`,
      body: new Widget({ node: form }),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save grade' })]
    });
    if (!answer.button.accept) {
      return;
    }
    await studio.manualGrade(id, notebook, cell, {
      score: score.value === '' ? null : Number(score.value),
      comment: note.value
    });
    // the history's totals change too: reload it with this submission shown
    this.selected = id;
    await this.load();
  }

  private text<K extends keyof HTMLElementTagNameMap>(tag: K, text: string, cls = ''): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    node.textContent = text;
    if (cls) {
      node.className = cls;
    }
    return node;
  }

  private selected?: number;
  private detail!: HTMLElement;
  private stats!: HTMLElement;
}
