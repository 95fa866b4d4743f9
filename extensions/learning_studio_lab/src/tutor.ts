// The AI tutor's side panel: a learner asks about one exercise cell and the answer
// streams in as the grader writes it.
//
// What is sent is small and named: the notebook, the exercise cell's grade_id, the
// learner's code in it and its error, the visible test that failed with its error, how
// many hints were opened, the question. The grader builds the prompt from its own copy of
// the exercise (never hidden tests or solutions), checks every piece of the answer
// against the solution before it is written, and may withdraw an answer ('reset').
import { Widget } from '@lumino/widgets';

import { StudioError, getJSON, request, studioUrl } from './api';

/** The exercise a question is about (the grader's tutor request, without the question). */
export interface ITutorContext {
  course: string;
  assignment: string;
  notebook: string;
  cell: string;
  code: string;
  error: string;
  test: { cell: string; error: string } | null;
  hints_revealed: number;
}

export interface ITutorStatus {
  enabled: boolean;
  policy: string;
  reason: string;
  daily_limit: number;
  remaining_today: number;
}

/** One Server-Sent Event of the grader's answer. */
export interface ITutorEvent {
  event: string;
  data: any;
}

/** Splits a Server-Sent Events byte stream into events, across chunk boundaries. */
export class EventParser {
  private buffer = '';

  feed(text: string): ITutorEvent[] {
    this.buffer += text.replace(/\r\n/g, '\n');
    const events: ITutorEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) {
          event = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
      if (!data.length) {
        continue;
      }
      try {
        events.push({ event, data: JSON.parse(data.join('\n')) });
      } catch {
        events.push({ event, data: { text: data.join('\n') } });
      }
    }
    return events;
  }
}

export const tutorApi = {
  status: (course: string, assignment: string) =>
    getJSON<ITutorStatus>(['courses', course, 'assignments', assignment, 'tutor']),

  /** Ask; `onEvent` gets each event as it arrives. Refusals throw StudioError. */
  async ask(
    context: ITutorContext,
    question: string,
    conversation: number | null,
    onEvent: (e: ITutorEvent) => void,
    signal?: AbortSignal
  ): Promise<void> {
    const { course, assignment, ...rest } = context;
    const response = await request(
      studioUrl('courses', course, 'assignments', assignment, 'tutor'),
      {
        method: 'POST',
        body: JSON.stringify({ ...rest, question, conversation }),
        headers: { Accept: 'text/event-stream' },
        signal
      }
    );
    if (!response.body) {
      throw new StudioError('NoStream', 'The tutor answered without a stream; try again.', 0);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new EventParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      for (const e of parser.feed(decoder.decode(value, { stream: true }))) {
        onEvent(e);
      }
    }
    for (const e of parser.feed(decoder.decode() + '\n\n')) {
      onEvent(e);
    }
  }
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  return node;
}

/**
 * The tutor's panel in the right sidebar. One conversation at a time, about one exercise
 * cell; asking about another cell starts a new one.
 */
export class TutorPanel extends Widget {
  private context: ITutorContext | null = null;
  private conversation: number | null = null;
  private busy = false;
  private abort: AbortController | null = null;
  private readonly about = el('div', 'ls-tutor-about');
  private readonly state = el('div', 'ls-tutor-state');
  private readonly log = el('div', 'ls-tutor-log');
  private readonly input = el('textarea', 'ls-tutor-input');
  private readonly askButton = el('button', 'jp-mod-styled jp-mod-accept ls-tutor-ask', 'Ask');
  private readonly newButton = el('button', 'jp-mod-styled ls-tutor-new', 'New conversation');
  private readonly remaining = el('div', 'ls-tutor-remaining ls-muted');

  constructor() {
    super();
    this.id = 'learning-studio-tutor';
    this.title.caption = 'AI tutor';
    this.title.label = 'Tutor';
    this.addClass('ls-tutor');
    const intro = el(
      'p',
      'ls-muted ls-tutor-intro',
      'The tutor sees this exercise, your code in it and the test that failed. It asks ' +
        'questions and points you to ideas; it will not write the answer for you. Your ' +
        'instructor can read what you ask.'
    );
    this.input.placeholder = 'Ask a question about this exercise…';
    this.input.rows = 3;
    this.askButton.onclick = () => void this.send(this.input.value);
    this.newButton.onclick = () => this.reset();
    this.input.onkeydown = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.send(this.input.value);
      }
    };
    const form = el('div', 'ls-tutor-form');
    const buttons = el('div', 'ls-tutor-buttons');
    buttons.append(this.askButton, this.newButton);
    form.append(this.input, buttons, this.remaining);
    this.state.dataset.state = 'idle';
    this.node.append(intro, this.about, this.state, this.log, form);
    this.render();
  }

  /** Point the panel at an exercise: a different cell starts a new conversation. */
  async open(context: ITutorContext): Promise<ITutorStatus | null> {
    const same =
      this.context &&
      this.context.course === context.course &&
      this.context.assignment === context.assignment &&
      this.context.notebook === context.notebook &&
      this.context.cell === context.cell;
    this.context = context;
    if (!same) {
      this.reset();
    }
    this.render();
    let status: ITutorStatus | null = null;
    try {
      status = await tutorApi.status(context.course, context.assignment);
    } catch (error) {
      this.setState('off', `The tutor cannot be reached: ${(error as Error).message}`);
      return null;
    }
    if (!status.enabled) {
      this.setState('off', status.reason);
    } else {
      if (this.state.dataset.state === 'off') {
        this.setState('idle', '');
      }
      this.showRemaining(status.remaining_today);
    }
    return status;
  }

  /** Open on an exercise and ask at once (Explain: an empty question asks for help). */
  async explain(context: ITutorContext, question = ''): Promise<void> {
    const status = await this.open(context);
    if (status?.enabled) {
      await this.send(question, true);
    }
  }

  reset(): void {
    this.abort?.abort();
    this.conversation = null;
    this.log.replaceChildren();
    if (this.state.dataset.state !== 'off') {
      this.setState('idle', '');
    }
  }

  private render(): void {
    const c = this.context;
    this.about.textContent = c
      ? `About: ${c.assignment} / ${c.notebook}, exercise ${c.cell}` +
        (c.test ? ` (failing test ${c.test.cell})` : c.error ? ' (your cell raised an error)' : '')
      : 'Open an exercise and press "Ask the tutor", or "Explain" on a failed test.';
    const off = this.state.dataset.state === 'off';
    this.askButton.disabled = !c || this.busy || off;
    this.input.disabled = !c || off;
  }

  private setState(state: 'idle' | 'thinking' | 'answering' | 'off', text: string): void {
    this.state.dataset.state = state;
    this.state.textContent = text;
    this.render();
  }

  private showRemaining(left: number | undefined): void {
    this.remaining.textContent =
      left === undefined || left < 0
        ? ''
        : `${left} question${left === 1 ? '' : 's'} left today in this course.`;
  }

  private async send(question: string, explain = false): Promise<void> {
    const context = this.context;
    question = question.trim();
    if (!context || this.busy || (!question && !explain)) {
      return;
    }
    this.busy = true;
    this.input.value = '';
    const asked = el(
      'div',
      'ls-tutor-question',
      question || (context.test ? `Explain why the test ${context.test.cell} fails.` : 'Explain the error.')
    );
    const answer = el('div', 'ls-tutor-answer');
    this.log.append(asked, answer);
    this.setState('thinking', 'The tutor is thinking…');
    this.abort = new AbortController();
    let text = '';
    try {
      await tutorApi.ask(
        context,
        question,
        this.conversation,
        e => {
          switch (e.event) {
            case 'start':
              this.conversation = e.data.conversation ?? this.conversation;
              break;
            case 'delta':
              if (this.state.dataset.state !== 'answering') {
                this.setState('answering', 'The tutor is answering…');
              }
              text += e.data.text ?? '';
              answer.textContent = text;
              this.log.scrollTop = this.log.scrollHeight;
              break;
            case 'reset': {
              // withdrawn: too close to the solution. What was shown goes away.
              text = '';
              answer.textContent = '';
              const notice = el('div', 'ls-tutor-notice', e.data.message ?? '');
              answer.before(notice);
              this.setState('thinking', 'The tutor is thinking…');
              break;
            }
            case 'done':
              if (e.data.withheld) {
                answer.remove();
              }
              this.showRemaining(e.data.remaining_today);
              break;
            case 'error':
              answer.append(el('div', 'ls-tutor-error', e.data.message ?? 'The tutor failed.'));
              break;
          }
        },
        this.abort.signal
      );
      this.setState('idle', '');
    } catch (error) {
      if ((error as Error).name === 'AbortError') {
        this.setState('idle', '');
      } else {
        answer.replaceChildren(el('div', 'ls-tutor-error', (error as Error).message));
        this.setState('idle', '');
      }
    } finally {
      this.busy = false;
      this.abort = null;
      this.render();
    }
  }
}
