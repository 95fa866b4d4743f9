"""The site's exercise generator no longer drafts graded exercises: their solutions are for
the course's instructors only. An editor who teaches the chosen course is sent to
JupyterLab ("Draft an exercise with AI"), an editor who teaches none is told only
instructors can, the AI is never asked, nothing is stored, and no page offers a download
of an old draft's solutions."""

from __future__ import annotations

import pytest
from django.test import Client
from studio_site.ai.models import ExerciseDraft
from studio_site.catalogue.models import Enrolment

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db

SECRET_SOLUTION = "return sum(k * k for k in range(1, n + 1))  # SOLUTION-MARKER"


@pytest.fixture
def old_draft(course, users):
    """A draft the old generator stored, solutions and all."""
    return ExerciseDraft.objects.create(
        title="Sum of squares", topic="squares", course=course, assignment_id="squares",
        notebook={"cells": [{"cell_type": "code", "metadata": {},
                             "source": f"### BEGIN SOLUTION\n{SECRET_SOLUTION}\n"
                                       "### END SOLUTION"}]},
        created_by=users["edith"])


def login(name: str) -> Client:
    client = Client()
    assert client.login(username=name, password=DEMO_PASSWORD)
    return client


def test_an_editor_who_teaches_no_course_is_told_only_instructors_can(fake_ai, course,
                                                                      old_draft):
    editor = login("edith")
    page = editor.get("/admin/ai/").content.decode()
    assert "Only instructors of a course can generate its graded exercises" in page
    assert "SOLUTION-MARKER" not in page and "Download" not in page
    response = editor.post("/admin/ai/exercise/", {"course": course.pk, "topic": "squares"},
                           follow=True)
    assert "Only instructors of a course can generate its graded exercises" in \
        response.content.decode()
    assert fake_ai.requests == [] and ExerciseDraft.objects.count() == 1


def test_an_editor_who_teaches_the_course_is_sent_to_jupyterlab(fake_ai, course, users,
                                                                settings):
    settings.HUB_URL = "https://hub.example.org"
    Enrolment.objects.create(user=users["edith"], course=course, role=Enrolment.INSTRUCTOR)
    editor = login("edith")
    page = editor.get("/admin/ai/").content.decode()
    assert "data-exercise-handoff" in page and course.title in page
    assert 'href="https://hub.example.org/hub/user-redirect/lab"' in page
    response = editor.post("/admin/ai/exercise/", {"course": course.pk}, follow=True)
    text = response.content.decode()
    assert "Open it in JupyterLab: https://hub.example.org/hub/user-redirect/lab" in text
    assert "Draft an exercise with AI..." in text and course.course_id in text
    assert fake_ai.requests == [] and not ExerciseDraft.objects.exists()


def test_only_a_course_the_editor_teaches_can_be_chosen(fake_ai, course, users):
    from studio_site.catalogue.models import CoursePage

    other = CoursePage(title="Data analysis", slug="data-analysis", course_id="data-analysis")
    course.get_parent().add_child(instance=other)
    Enrolment.objects.create(user=users["edith"], course=other, role=Enrolment.INSTRUCTOR)
    # a learner enrolment in the chosen course is not enough
    Enrolment.objects.create(user=users["edith"], course=course, role=Enrolment.LEARNER)
    response = login("edith").post("/admin/ai/exercise/", {"course": course.pk}, follow=True)
    assert "Choose a course you teach." in response.content.decode()
    assert "Open it in JupyterLab" not in response.content.decode()


def test_old_drafts_cannot_be_downloaded(old_draft):
    editor = login("edith")
    assert editor.get(f"/admin/ai/exercise/{old_draft.pk}/download/").status_code == 404
    assert "SOLUTION-MARKER" not in editor.get("/admin/ai/").content.decode()
