// The browser talks only to this server's extension under <baseUrl>learning-studio/;
// the server extension holds the hub token and calls the grader.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A named error from the server extension (or the grader behind it). */
export class StudioError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
  }

  /** Seconds until the grader takes this again (its 429's Retry-After), else null. */
  get retryAfter(): number | null {
    const wait = Number(this.details.retry_after);
    return Number.isFinite(wait) && wait > 0 ? Math.ceil(wait) : null;
  }
}

export interface ISubmission {
  id: number;
  attempt: number;
  status: 'grading' | 'graded' | 'failed' | 'submitted';
  submitted_at: string;
  graded_at?: string;
  score?: number;
  max_score?: number;
  late_penalty?: number;
  seconds_late?: number;
  needs_manual_grade?: boolean;
  message?: string;
  feedback_notebooks?: string[];
  username?: string;
  cells?: ICellGrade[];
  job?: { state: string; attempts: number; error: string | null } | null;
}

export interface ICellGrade {
  notebook: string;
  cell_id: string;
  score: number | null;
  max_score: number;
  needs_manual_grade: boolean;
  comment: string | null;
}

export interface IAssignment {
  slug: string;
  title: string;
  due_at: string | null;
  notebooks: string[];
  status: 'new' | 'fetched' | 'submitted' | 'graded' | 'failed';
  late: boolean;
  score: number | null;
  max_score: number | null;
  max_submissions: number | null;
  submissions_used: number;
  path: string;
  latest_submission: ISubmission | null;
}

export interface ILesson {
  slug: string;
  title: string;
  path: string;
  /** 'grader': stored in the grader service; 'image': the manifest baked into the image */
  source: 'grader' | 'image';
}

/** The grader's statistics of an assignment (latest submission of each learner). */
export interface IStatistics {
  learners: number;
  max_score: number;
  mean_score: number | null;
  histogram: { edges: number[]; counts: number[] };
  cells: {
    notebook: string;
    cell_id: string;
    max_score: number;
    graded: number;
    full_marks: number;
    success_rate: number | null;
    mean_score: number | null;
  }[];
}

/** Distinct files and their bytes of one kind of stored data. */
export interface IStorageKind {
  count: number;
  files: number;
  bytes: number;
  learners?: number;
}

/** What the grader stores for a course (instructors), by kind and by assignment. */
export interface IStorage {
  course: string;
  total_bytes: number;
  files: number;
  kinds: {
    releases: IStorageKind;
    submissions: IStorageKind;
    feedback: IStorageKind;
    lessons: IStorageKind;
  };
  assignments: {
    assignment: string;
    title: string;
    total_bytes: number;
    releases: IStorageKind;
    submissions: IStorageKind;
    feedback: IStorageKind;
  }[];
  missing_files: number;
  kept: Record<string, string>;
  unreferenced_removed_after_seconds: number;
  collection_interval_seconds: number;
}

export interface ICourse {
  slug: string;
  title: string;
  roles: string[];
  assignments: IAssignment[];
  lessons: ILesson[];
}

export function studioUrl(...parts: string[]): string {
  const settings = ServerConnection.makeSettings();
  return URLExt.join(
    settings.baseUrl,
    'learning-studio',
    ...parts.map(encodeURIComponent)
  );
}

async function send(
  parts: string[],
  init: RequestInit = {},
  query = ''
): Promise<Response> {
  return request(studioUrl(...parts) + query, init);
}

/**
 * One request to this server's extension: the response when it is OK, else a
 * StudioError with the extension's (or the grader's) code, message and Retry-After.
 */
export async function request(url: string, init: RequestInit = {}): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new StudioError(
      'NetworkError',
      `Your JupyterLab server did not answer (${error}). Check your connection.`,
      0
    );
  }
  if (!response.ok) {
    let body: any = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: a proxy or server error page
    }
    const err = body?.error ?? {};
    const { code, message, ...details } = err;
    const retryAfter = response.headers.get('Retry-After');
    if (details.retry_after === undefined && retryAfter) {
      details.retry_after = Number(retryAfter);
    }
    throw new StudioError(
      code ?? `HTTP${response.status}`,
      message ?? body?.message ?? response.statusText,
      response.status,
      details
    );
  }
  return response;
}

export async function getJSON<T>(parts: string[], query = ''): Promise<T> {
  return (await send(parts, {}, query)).json();
}

export async function postJSON<T>(parts: string[], body: unknown = {}): Promise<T> {
  const response = await send(parts, {
    method: 'POST',
    body: JSON.stringify(body)
  });
  return response.json();
}

export async function getText(parts: string[]): Promise<string> {
  return (await send(parts)).text();
}

export const studio = {
  courses: () => getJSON<{ courses: ICourse[] }>(['courses']),
  fetch: (course: string, assignment: string, options: { overwrite?: boolean; restore?: string } = {}) =>
    postJSON<{ path: string; written?: string[]; backup?: string | null }>(
      ['courses', course, 'assignments', assignment, 'fetch'],
      options
    ),
  submit: (course: string, assignment: string) =>
    postJSON<ISubmission & { files: string[] }>(
      ['courses', course, 'assignments', assignment, 'submissions'],
      {}
    ),
  submissions: (course: string, assignment: string) =>
    getJSON<{ submissions: ISubmission[] }>([
      'courses', course, 'assignments', assignment, 'submissions'
    ]),
  submission: (id: number) => getJSON<ISubmission>(['submissions', String(id)]),
  feedback: (id: number, notebook: string) =>
    getText(['submissions', String(id), 'feedback', notebook]),
  regrade: (id: number) => postJSON<{ queued: number[] }>(['submissions', String(id), 'regrade']),
  manualGrade: async (id: number, notebook: string, cell: string, body: { score: number | null; comment: string }) => {
    const settings = ServerConnection.makeSettings();
    const response = await ServerConnection.makeRequest(
      studioUrl('submissions', String(id), 'grades', notebook, cell),
      { method: 'PUT', body: JSON.stringify(body) },
      settings
    );
    if (!response.ok) {
      const err = (await response.json().catch(() => ({})))?.error ?? {};
      throw new StudioError(err.code ?? `HTTP${response.status}`, err.message ?? '', response.status);
    }
    return response.json();
  },
  hints: (course: string, assignment: string, notebook: string, cell: string) =>
    getJSON<{ hints: string[] }>(
      ['courses', course, 'assignments', assignment, 'hints'],
      `?notebook=${encodeURIComponent(notebook)}&cell=${encodeURIComponent(cell)}`
    ),
  openLesson: (course: string, lesson: string) =>
    postJSON<{ path: string }>(['courses', course, 'lessons', lesson]),
  statistics: (course: string, assignment: string) =>
    getJSON<IStatistics>(['courses', course, 'assignments', assignment, 'statistics']),
  storage: (course: string) => getJSON<IStorage>(['courses', course, 'storage']),
  /** Instructor: the assignment's grades as CSV, saved by the browser as a file. */
  downloadGrades: async (course: string, assignment: string): Promise<string> => {
    const response = await send(['courses', course, 'assignments', assignment, 'grades.csv']);
    const name = `${course}-${assignment}-grades.csv`;
    const url = URL.createObjectURL(new Blob([await response.text()], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    return name;
  },
  release: (course: string, assignment: string, options: Record<string, unknown>) =>
    postJSON<Record<string, unknown>>(
      ['courses', course, 'assignments', assignment, 'release'],
      options
    )
};

/** `courses/<course>/<assignment>/<notebook>.ipynb` -> its parts, or null elsewhere. */
export function assignmentOf(
  path: string
): { course: string; assignment: string; notebook: string } | null {
  const m = /^courses\/([^/]+)\/([^/]+)\/(.+\.ipynb)$/.exec(path);
  // lessons/ holds reading notebooks and source/ an instructor's originals: no Submit there
  if (!m || m[2] === 'lessons' || m[2] === 'source' || m[2].startsWith('.')) {
    return null;
  }
  return { course: m[1], assignment: m[2], notebook: m[3] };
}
