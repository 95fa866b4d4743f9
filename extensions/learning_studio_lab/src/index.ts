// Learning Studio in JupyterLab: the Courses panel, Check / Hint / Submit in assignment
// notebooks, the Feedback view, and instructor commands to mark cells and release.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { askCourse, courseOf, draftWithAI, showDrafts } from './aidraft';
import { IAssignment, ISubmission, assignmentOf } from './api';
import { CellKindBadges, Region, wrapRegion } from './authoring';
import { ExerciseToolbar, check, hint, setTutor, watchExerciseErrors } from './exercise';
import { FeedbackView } from './feedback';
import { CellKind, editHints, markCell, releaseForm, showStorage } from './instructor';
import { CoursesPanel } from './panel';
import { TutorPanel } from './tutor';

const coursesIcon = new LabIcon({
  name: 'learning-studio:courses',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M12 3 1 9l11 6 9-4.9V17h2V9L12 3zM5 13.2v4L12 21l7-3.8v-4L12 17l-7-3.8z"/></svg>'
});

const tutorIcon = new LabIcon({
  name: 'learning-studio:tutor',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm7 10v2h2v-2zm1-8a3.5 3.5 0 0 0-3.5 3.5h2A1.5 1.5 0 1 1 12 10a1 1 0 0 0-1 1v1h2v-.3A3.5 3.5 0 0 0 12 5z"/></svg>'
});

const solutionIcon = new LabIcon({
  name: 'learning-studio:solution-region',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M4 4h6v2H6v12h4v2H4zm16 0h-6v2h4v12h-4v2h6zM9 11h6v2H9z"/></svg>'
});

const hiddenTestsIcon = new LabIcon({
  name: 'learning-studio:hidden-tests-region',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M12 6c4 0 7.3 2.5 9 6-.7 1.4-1.6 2.6-2.8 3.5l1.4 1.4-1.4 1.4L4.6 4.7 6 3.3l2.1 2.1C9.3 5.1 10.6 6 12 6zM3 12c.7-1.5 1.8-2.8 3.1-3.7l2.2 2.2A4 4 0 0 0 13.5 15.7l1.7 1.7c-1 .4-2.1.6-3.2.6-4 0-7.3-2.5-9-6z"/></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@learning-studio/lab:plugin',
  description: 'Courses panel, Check, Hint, Submit and feedback for Learning Studio',
  autoStart: true,
  requires: [IDocumentManager, INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null
  ) => {
    const feedbackViews = new Map<string, MainAreaWidget<FeedbackView>>();
    const openFeedback = (
      course: string,
      assignment: string,
      selected?: number,
      instructor = false
    ) => {
      const key = `${course}/${assignment}`;
      let view = feedbackViews.get(key);
      if (!view || view.isDisposed) {
        const content = new FeedbackView(course, assignment, selected, instructor);
        view = new MainAreaWidget<FeedbackView>({ content });
        view.id = `ls-feedback-${course}-${assignment}`;
        view.title.label = `${instructor ? 'Submissions' : 'Feedback'}: ${assignment}`;
        feedbackViews.set(key, view);
        app.shell.add(view, 'main');
      } else if (selected !== undefined) {
        void view.content.load();
      }
      app.shell.activateById(view.id);
    };

    const panel = new CoursesPanel({
      docManager,
      openFeedback: (course: string, a: IAssignment, instructor: boolean) =>
        openFeedback(course, a.slug, undefined, instructor),
      release: (course: string) => releaseForm(`courses/${course}/source/`),
      storage: showStorage,
      draft: (course: string) => draftWithAI(docManager, 'exercise', course)
    });
    panel.title.icon = coursesIcon;
    app.shell.add(panel, 'left', { rank: 150 });

    // the AI tutor, in the right sidebar; Check's "Explain" and "Ask the tutor" open it
    const tutor = new TutorPanel();
    tutor.title.icon = tutorIcon;
    app.shell.add(tutor, 'right', { rank: 700 });
    setTutor((context, explain) => {
      app.shell.activateById(tutor.id);
      void (explain ? tutor.explain(context) : tutor.open(context));
    });
    watchExerciseErrors();

    app.docRegistry.addWidgetExtension(
      'Notebook',
      new ExerciseToolbar((course: string, assignment: string, s: ISubmission) => {
        void panel.refresh();
        openFeedback(course, assignment, s.id);
      })
    );

    const current = () => notebooks.currentWidget;
    app.commands.addCommand('learning-studio:check', {
      label: 'Check this exercise',
      isEnabled: () => !!current(),
      execute: () => (current() ? check(current()!) : undefined)
    });
    app.commands.addCommand('learning-studio:hint', {
      label: 'Show a hint',
      isEnabled: () => !!current(),
      execute: () => (current() ? hint(current()!) : undefined)
    });
    app.commands.addCommand('learning-studio:courses', {
      label: 'Show my courses',
      execute: () => {
        app.shell.activateById(panel.id);
        return panel.refresh();
      }
    });

    // instructor: nbgrader cell types from the cell context menu, hints, release form
    const kinds: [CellKind, string][] = [
      ['solution', 'Autograded answer (solution)'],
      ['test', 'Autograded test (with points)'],
      ['manual', 'Manually graded answer'],
      ['locked', 'Read-only (locked)'],
      ['none', 'Not graded (remove marks)']
    ];
    for (const [kind, label] of kinds) {
      const id = `learning-studio:mark-${kind}`;
      app.commands.addCommand(id, {
        label: `Grading: ${label}`,
        isEnabled: () => !!current()?.content.activeCell,
        execute: () => markCell(current()!.content.activeCell!, kind)
      });
      app.contextMenu.addItem({ command: id, selector: '.jp-Cell', rank: 60 });
      palette?.addItem({ command: id, category: 'Learning Studio (instructor)' });
    }
    const authoring = () =>
      current()?.content.activeCell?.model.type === 'code' &&
      !assignmentOf(current()!.context.path);
    const regions: [Region, string, LabIcon][] = [
      ['solution', 'Wrap in a solution region (### BEGIN SOLUTION)', solutionIcon],
      ['hidden-tests', 'Wrap in a hidden-tests region (### BEGIN HIDDEN TESTS)', hiddenTestsIcon]
    ];
    // in the cell toolbar (schema/plugin.json), the cell context menu and the palette
    for (const [region, label, icon] of regions) {
      const id = `learning-studio:wrap-${region}`;
      app.commands.addCommand(id, {
        label: args => (args.toolbar ? '' : `Grading: ${label}`),
        icon: args => (args.toolbar ? icon : undefined),
        caption: `${label}: the selected lines, or the whole cell when nothing is selected`,
        // an authoring tool: not in a learner's fetched assignment
        isVisible: () => authoring(),
        isEnabled: () => authoring(),
        execute: () => wrapRegion(current()!.content.activeCell!, region)
      });
      app.contextMenu.addItem({ command: id, selector: '.jp-CodeCell', rank: 59 });
      palette?.addItem({ command: id, category: 'Learning Studio (instructor)' });
    }
    app.docRegistry.addWidgetExtension('Notebook', new CellKindBadges());

    app.commands.addCommand('learning-studio:edit-hints', {
      label: 'Grading: Edit hints…',
      isEnabled: () => !!current()?.content.activeCell,
      execute: () => editHints(current()!.content.activeCell!)
    });
    app.contextMenu.addItem({ command: 'learning-studio:edit-hints', selector: '.jp-Cell', rank: 61 });
    app.commands.addCommand('learning-studio:release', {
      label: 'Release an assignment…',
      execute: () => {
        const path = current()?.context.path ?? '';
        return releaseForm(path.replace(/\/[^/]+$/, ''));
      }
    });
    // instructor: AI drafts (grader-side, instructors of the course only; see aidraft.ts)
    const openCourse = () => courseOf(current()?.context.path ?? '');
    app.commands.addCommand('learning-studio:ai-draft-exercise', {
      label: 'Draft an exercise with AI…',
      execute: () => draftWithAI(docManager, 'exercise', openCourse())
    });
    app.commands.addCommand('learning-studio:ai-draft-lesson', {
      label: 'Draft a lesson with AI…',
      execute: () => draftWithAI(docManager, 'lesson', openCourse())
    });
    app.commands.addCommand('learning-studio:ai-drafts', {
      label: 'AI drafts of a course…',
      execute: async () => {
        const course = await askCourse(openCourse());
        return course ? showDrafts(docManager, course) : undefined;
      }
    });
    for (const command of ['learning-studio:ai-draft-exercise', 'learning-studio:ai-draft-lesson',
      'learning-studio:ai-drafts']) {
      palette?.addItem({ command, category: 'Learning Studio (instructor)' });
    }
    for (const command of ['learning-studio:check', 'learning-studio:hint',
      'learning-studio:courses', 'learning-studio:edit-hints', 'learning-studio:release']) {
      palette?.addItem({ command, category: 'Learning Studio' });
    }
  }
};

export default plugin;
