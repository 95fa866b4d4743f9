"""pytest setup for the Wagtail site: settings, the demo data once per session, helpers.

Run: `pytest tests/cms` (SQLite), or with LS_TEST_POSTGRES_URL=postgres://... for PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

# cms/ is on the path through pytest's `pythonpath` setting (pyproject.toml)
os.environ["DJANGO_SETTINGS_MODULE"] = "studio_site.settings.test"
os.environ.setdefault("LS_CMS_DATA_DIR", "/tmp/ls-cms-test-data")

import django  # noqa: E402

django.setup()

import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402

DEMO_PASSWORD = "studio-demo-2026"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Migrate, then seed the demo users and pages once; each test rolls back to this."""
    with django_db_blocker.unblock():
        call_command("seed_demo", password=DEMO_PASSWORD, verbosity=0)


@pytest.fixture
def users(db):
    from studio_site.accounts.models import User

    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def course(db):
    from studio_site.catalogue.models import CoursePage

    return CoursePage.objects.get(course_id="intro-python")


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if LS_PG and here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.postgres)


LS_PG = bool(os.environ.get("LS_TEST_POSTGRES_URL"))


@pytest.fixture
def fake_ai(settings):
    """AI settings pointing the real openai client at a local OpenAI-compatible server."""
    from fake_openai import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        settings.AI_API_KEY = "sk-test"
        settings.AI_BASE_URL = server.base_url
        settings.AI_MODEL = "test-model"
        settings.AI_TIMEOUT_SECONDS = 1.0
        yield server
