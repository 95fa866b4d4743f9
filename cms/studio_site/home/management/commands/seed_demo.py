"""Demo users and content: `manage.py seed_demo` (idempotent).

Users (password for all: --password, --password-file or LS_DEMO_PASSWORD, in that order;
default "studio-demo-2026"; the environment keeps it off the command line):
  ada (instructor of intro-python), alan and grace (learners), edith (editor),
  and the superuser "admin".
`--structure-only` makes just the page tree (home, blog, tutorials, courses).
`--catalogue-courses` (the compose stack, after `course import` has filled the catalogue):
no sample course; ada instructs, alan and grace learn, every course in the catalogue.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Locale,
    Page,
    Site,
)
from wagtail.rich_text import RichText

from studio_site.accounts.models import EDITORS_GROUP, MODERATORS_GROUP, User
from studio_site.base.models import Category
from studio_site.blog.models import BlogIndexPage, BlogPage
from studio_site.catalogue.models import CatalogueIndexPage, CoursePage, Enrolment
from studio_site.catalogue.sync import sync_catalogue
from studio_site.community.models import Challenge, Event, Membership, StudyGroup
from studio_site.home.models import HomePage
from studio_site.tutorials.models import TutorialIndexPage, TutorialPage

DEMO_PASSWORD = "studio-demo-2026"
DEMO_CATALOGUE = {
    "courses": [{
        "id": "intro-python",
        "title": "Introduction to Python",
        "summary": "Variables, functions, loops and data, one notebook at a time.",
        "description": "Start from zero and write real programs in JupyterLab.\n\n"
                       "Each lesson is a notebook; each assignment is graded automatically.",
        "lessons": [
            {"id": "01-basics", "title": "Values and variables", "path": "lessons/01-basics.ipynb"},
            {"id": "02-functions", "title": "Functions", "path": "lessons/02-functions.ipynb"},
        ],
        "assignments": [
            {"id": "ps1", "title": "Problem set 1: arithmetic", "max_score": 10},
            {"id": "ps2", "title": "Problem set 2: functions", "max_score": 10},
        ],
    }]
}


def ensure_structure() -> dict[str, Page]:
    # Wagtail's migrations make the locale and the tree root; a flushed database has neither.
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant("en"))
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    home = HomePage.objects.first()
    if home is None:
        # Wagtail's first migration makes a placeholder page (slug "home") and a site on it.
        for placeholder in Page.objects.filter(depth=2, content_type__model="page"):
            if not placeholder.get_children().exists():
                placeholder.delete()  # also deletes the site rooted there; remade below
        root = Page.get_first_root_node()  # fresh numchild after the delete
        home = HomePage(title="Learn Python in your browser", slug="home",
                        intro="<p>Courses, tutorials and a community, with JupyterLab one "
                              "click away.</p>")
        root.add_child(instance=home)
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home,
                            is_default_site=True, site_name="Learning Studio")
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = "Learning Studio"
        site.save()
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    pages: dict[str, Page] = {"home": home}
    for model, slug, title in [
        (BlogIndexPage, "blog", "Blog"),
        (TutorialIndexPage, "tutorials", "Tutorials"),
        (CatalogueIndexPage, "courses", "Courses"),
    ]:
        page = model.objects.first()
        if page is None:
            page = model(title=title, slug=slug)
            home.add_child(instance=page)
        pages[slug] = page
    return pages


def grant_wagtail_defaults(group: Group, *, publish: bool) -> None:
    """Wagtail's migrations give its Editors and Moderators groups the admin, the page tree
    (Moderators also publish) and the root collection's images and documents; in a flushed
    database the groups come back (the site's own permissions for them too), but none of that."""
    codenames = ["add_page", "change_page", "lock_page", "unlock_page"]
    if publish:
        codenames.append("publish_page")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin",
                                                 codename="access_admin"))
    root_page = Page.get_first_root_node()
    for permission in Permission.objects.filter(content_type__app_label="wagtailcore",
                                                codename__in=codenames):
        GroupPagePermission.objects.get_or_create(group=group, page=root_page,
                                                  permission=permission)
    root_collection = Collection.get_first_root_node()
    for app, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
        for action in ("add", "change", "choose"):
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root_collection,
                permission=Permission.objects.get(content_type__app_label=app,
                                                  codename=f"{action}_{model}"))


def demo_password(given: str | None = None, path: Path | None = None) -> str:
    """The demo accounts' password: given, from a file, from LS_DEMO_PASSWORD, or the
    default (a public one: the demo is for a machine of one's own)."""
    if given:
        return given
    if path:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as e:
            raise CommandError(f"--password-file {path}: cannot read a password from it "
                               f"({e or 'empty'}).") from None
    return os.environ.get("LS_DEMO_PASSWORD") or DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create demo users (ada, alan, grace, edith, admin) and demo content. Idempotent."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=None,
                            help="the demo password (default: LS_DEMO_PASSWORD, else "
                                 f"{DEMO_PASSWORD!r})")
        parser.add_argument("--password-file", type=Path,
                            help="a file holding the demo password (its first line)")
        parser.add_argument("--structure-only", action="store_true")
        parser.add_argument("--catalogue-courses", action="store_true",
                            help="enrol the demo users in the courses already in the "
                                 "catalogue instead of creating the sample course")

    @transaction.atomic
    def handle(self, *args, password: str | None, structure_only: bool,
               catalogue_courses: bool, **options) -> None:
        password = demo_password(password, options.get("password_file"))
        pages = ensure_structure()
        if structure_only:
            self.stdout.write("Page tree ready (home, blog, tutorials, courses).")
            return
        people = {}
        for username, first, last, extra in [
            ("admin", "Site", "Admin", {"is_superuser": True, "is_staff": True}),
            ("ada", "Ada", "Lovelace", {}),
            ("alan", "Alan", "Turing", {}),
            ("grace", "Grace", "Hopper", {}),
            ("edith", "Edith", "Clarke", {}),
        ]:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@studio.localhost", "first_name": first,
                          "last_name": last},
            )
            for key, value in extra.items():
                setattr(user, key, value)
            user.is_active = True
            user.email_verified = True
            user.set_password(password)
            user.save()
            people[username] = user
        # Wagtail's Editors write and submit; Moderators also publish. Edith does both.
        for name in (EDITORS_GROUP, MODERATORS_GROUP):
            group, _ = Group.objects.get_or_create(name=name)
            if not GroupPagePermission.objects.filter(group=group).exists():
                # a flushed database: give it what Wagtail's migrations give it
                grant_wagtail_defaults(group, publish=name == MODERATORS_GROUP)
            people["edith"].groups.add(group)

        if catalogue_courses:
            courses = list(CoursePage.objects.order_by("-course_id"))
            if not courses:
                self.stdout.write("No course in the catalogue yet: run `course import`, "
                                  "then seed_demo --catalogue-courses again to enrol.")
        else:
            # Only when missing: a course already synced from the grader keeps its real data.
            if not CoursePage.objects.filter(course_id="intro-python").exists():
                sync_catalogue(DEMO_CATALOGUE)
            courses = [CoursePage.objects.get(course_id="intro-python")]
        for course in courses:
            Enrolment.objects.get_or_create(user=people["ada"], course=course,
                                            role=Enrolment.INSTRUCTOR)
            for name in ("alan", "grace"):
                Enrolment.objects.get_or_create(user=people[name], course=course,
                                                role=Enrolment.LEARNER)
        course = courses[0] if courses else None
        first_assignment = course.assignments.order_by("sort_order").first() if course else None

        category, _ = Category.objects.get_or_create(slug="python", defaults={"name": "Python"})
        blog = pages["blog"]
        if not BlogPage.objects.exists():
            for n, (title, intro) in enumerate([
                ("Welcome to Learning Studio", "Why we teach with notebooks."),
                ("Five tips for your first assignment", "Run the tests before you submit."),
            ]):
                post = BlogPage(
                    title=title, slug=f"post-{n + 1}", intro=intro, author=people["edith"],
                    date=timezone.now().date() - dt.timedelta(days=n),
                    body=[("paragraph", RichText(f"<p>{intro} Every lesson opens in "
                                                 "JupyterLab with one click.</p>")),
                          ("code", {"language": "python", "code": "print('hello, world')"})],
                )
                blog.add_child(instance=post)
                post.categories.add(category)
                post.tags.add("welcome")
                post.save_revision().publish()
        tutorials = pages["tutorials"]
        if not TutorialPage.objects.exists():
            tutorial = TutorialPage(
                title="Lists and loops", slug="lists-and-loops", level="beginner", minutes=15,
                intro="Walk through a list and add up its numbers.",
                body=[("paragraph", RichText("<p>A <code>for</code> loop visits each item.</p>")),
                      ("code", {"language": "python",
                                "code": "total = 0\nfor n in [1, 2, 3]:\n    total += n\nprint(total)"})],
            )
            tutorials.add_child(instance=tutorial)
            tutorial.tags.add("loops")
            tutorial.save_revision().publish()

        group, _ = StudyGroup.objects.get_or_create(
            slug="python-beginners",
            defaults={"name": "Python beginners", "description": "We meet on Thursdays.",
                      "course": course, "created_by": people["alan"]},
        )
        if group.course is None and course is not None:  # made before the import
            group.course = course
            group.save(update_fields=["course"])
        for name in ("alan", "grace"):
            Membership.objects.get_or_create(group=group, user=people[name])
        Event.objects.get_or_create(
            slug="office-hours",
            defaults={"title": "Office hours with Ada", "location": "online", "capacity": 10,
                      "starts_at": timezone.now() + dt.timedelta(days=7),
                      "description": "Bring your questions about problem set 1."},
        )
        if first_assignment is not None:
            Challenge.objects.get_or_create(
                slug=f"{first_assignment.assignment_id}-sprint",
                defaults={"title": f"Sprint: {first_assignment.title}", "course": course,
                          "assignment_id": first_assignment.assignment_id,
                          "description": f"Highest score on {first_assignment.title} wins."},
            )
        self.stdout.write(
            "Demo ready. Users (password "
            f"'{password}'): admin (superuser), ada (instructor of "
            f"{', '.join(c.course_id for c in courses)}), alan and grace (learners), "
            "edith (editor)."
        )
