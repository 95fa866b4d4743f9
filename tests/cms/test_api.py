"""REST API v1: reads, permissions by role, session / personal token / OAuth2 auth,
pagination, throttling."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.test import APIClient
from studio_site.accounts.models import PersonalApiToken
from studio_site.community.models import StudyGroup
from studio_site.progress.models import GradeEvent

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db


def as_user(username: str) -> APIClient:
    client = APIClient()
    client.login(username=username, password=DEMO_PASSWORD)
    return client


def oauth_token(user, scope: str) -> str:
    app = get_application_model().objects.create(
        name="script", client_type="confidential", authorization_grant_type="client-credentials",
        user=user,
    )
    token = get_access_token_model().objects.create(
        user=user, application=app, token=f"tok-{scope.replace(' ', '-')}-{user.pk}",
        scope=scope, expires=timezone.now() + dt.timedelta(hours=1),
    )
    return token.token


def test_courses_are_public_and_include_lessons() -> None:
    response = APIClient().get("/api/v1/courses/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and "next" in body  # paginated
    course = body["results"][0]
    assert course["course_id"] == "intro-python"
    assert [lesson["lesson_id"] for lesson in course["lessons"]] == ["01-basics", "02-functions"]
    assert course["lessons"][0]["lab_url"].endswith(
        "/hub/user-redirect/learning-studio/open/intro-python/01-basics")
    detail = APIClient().get("/api/v1/courses/intro-python/")
    assert detail.json()["assignments"][0]["assignment_id"] == "ps1"
    lessons = APIClient().get("/api/v1/lessons/", {"course": "intro-python"}).json()
    assert lessons["count"] == 2


def test_enrol_needs_authentication(users) -> None:
    assert APIClient().post("/api/v1/courses/intro-python/enrol/").status_code in (401, 403)
    response = as_user("edith").post("/api/v1/courses/intro-python/enrol/")
    assert response.status_code == 201
    me = as_user("edith").get("/api/v1/me/").json()
    assert me["groups"] == ["editors", "learners:intro-python"]


def test_session_auth_needs_csrf_for_writes() -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="edith", password=DEMO_PASSWORD)
    assert client.post("/api/v1/courses/intro-python/enrol/").status_code == 403


def test_progress_permissions(users) -> None:
    GradeEvent.objects.create(submission_id="x1", user=users["alan"], course_id="intro-python",
                              assignment_id="ps1", score=8, max_score=10,
                              graded_at=timezone.now())
    assert APIClient().get("/api/v1/progress/").status_code in (401, 403)
    mine = as_user("alan").get("/api/v1/progress/").json()
    assert mine[0]["assignments"][0]["score"] == 8.0 and mine[0]["done"] == 1
    # A learner reading the course sees only their own progress.
    own = as_user("grace").get("/api/v1/progress/intro-python/").json()
    assert own["done"] == 0 and "learners" not in own
    # The instructor sees every learner.
    course = as_user("ada").get("/api/v1/progress/intro-python/").json()
    by_name = {row["username"]: row["progress"] for row in course["learners"]}
    assert by_name["alan"]["points"] == 8.0 and by_name["grace"]["points"] == 0
    # Editors are not instructors; someone not enrolled gets nothing.
    assert as_user("edith").get("/api/v1/progress/intro-python/").status_code == 403


def make_token_in_ui(username: str, name: str = "script", scope: str = "read",
                     days: int = 30) -> str:
    """Make a personal API token the way a person does, on /accounts/tokens/."""
    client = Client()
    client.login(username=username, password=DEMO_PASSWORD)
    page = client.post("/accounts/tokens/", {"name": name, "days": days, "scope": scope})
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    html = page.content.decode()
    secret = html.split("data-new-token>")[1].split("<code>")[1].split("</code>")[0]
    assert secret.startswith("lst_") and len(secret) > 40
    return secret


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_personal_token_made_shown_once_stored_hashed_and_used(users) -> None:
    secret = make_token_in_ui("alan", name="grades script")
    token = PersonalApiToken.objects.get(user=users["alan"], name="grades script")
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert not PersonalApiToken.objects.filter(digest=secret).exists()
    assert secret.startswith(token.prefix)
    # The list shows the token by name and prefix, never the secret again.
    client = Client()
    client.login(username="alan", password=DEMO_PASSWORD)
    listing = client.get("/accounts/tokens/").content.decode()
    assert "grades script" in listing and token.prefix in listing and secret not in listing
    me = bearer(secret).get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "alan"
    token.refresh_from_db()
    assert token.last_used is not None
    # A read token cannot write; a read-write one can.
    denied = bearer(secret).post("/api/v1/courses/intro-python/enrol/")
    assert denied.status_code == 403 and "scope" in denied.json()["detail"]
    writer = make_token_in_ui("edith", scope="read write")
    assert bearer(writer).post("/api/v1/courses/intro-python/enrol/").status_code == 201
    # Names are unique per person, with a message that says what to do.
    client.post("/accounts/tokens/", {"name": "grades script", "days": 30, "scope": "read"})
    assert PersonalApiToken.objects.filter(user=users["alan"]).count() == 1


def test_personal_token_revoked_and_expired_are_refused(users) -> None:
    secret = make_token_in_ui("grace")
    token = PersonalApiToken.objects.get(user=users["grace"])
    # Someone else cannot revoke it.
    other = Client()
    other.login(username="alan", password=DEMO_PASSWORD)
    assert other.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert bearer(secret).get("/api/v1/me/").status_code == 200
    owner = Client()
    owner.login(username="grace", password=DEMO_PASSWORD)
    assert owner.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    revoked = bearer(secret).get("/api/v1/me/")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    expiring = make_token_in_ui("grace", name="old")
    PersonalApiToken.objects.filter(name="old").update(
        expires=timezone.now() - dt.timedelta(minutes=1))
    expired = bearer(expiring).get("/api/v1/progress/")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert bearer("lst_made-up").get("/api/v1/me/").status_code == 401


def test_personal_token_reads_only_its_owners_data(users) -> None:
    GradeEvent.objects.create(submission_id="9001", user=users["grace"],
                              course_id="intro-python", assignment_id="ps1", score=9,
                              max_score=10, graded_at=timezone.now())
    alan = bearer(make_token_in_ui("alan"))
    mine = alan.get("/api/v1/progress/").json()
    assert mine[0]["points"] == 0  # alan's own, not grace's 9
    course = alan.get("/api/v1/progress/intro-python/").json()
    assert "learners" not in course and course["points"] == 0
    grace = bearer(make_token_in_ui("grace")).get("/api/v1/progress/").json()
    assert grace[0]["points"] == 9


def test_password_grant_and_jwt_endpoint_are_gone() -> None:
    assert APIClient().post("/api/v1/token/", {"username": "alan",
                                                "password": DEMO_PASSWORD}).status_code == 404


def test_oauth2_token_scopes(users) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {oauth_token(users['grace'], 'read')}")
    assert client.get("/api/v1/me/").json()["username"] == "grace"
    denied = client.post("/api/v1/community/groups/python-beginners/join/")
    assert denied.status_code == 403 and "scope" in denied.json()["detail"]
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {oauth_token(users['edith'], 'read write')}")
    assert writer.post("/api/v1/community/groups/python-beginners/join/").status_code == 200
    invalid = APIClient()
    invalid.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert invalid.get("/api/v1/me/").status_code in (401, 403)


def test_study_group_moderation() -> None:
    created = as_user("grace").post("/api/v1/community/groups/",
                                    {"name": "Graph fans", "max_members": 5}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "graph-fans"
    # Another learner cannot change it, nor hide it.
    other = as_user("alan").patch("/api/v1/community/groups/graph-fans/",
                                  {"description": "mine now"}, format="json")
    assert other.status_code == 403
    hide_by_owner = as_user("grace").patch("/api/v1/community/groups/graph-fans/",
                                           {"hidden": True}, format="json")
    assert hide_by_owner.status_code == 403
    hidden = as_user("edith").patch("/api/v1/community/groups/graph-fans/",
                                    {"hidden": True}, format="json")
    assert hidden.status_code == 200
    assert StudyGroup.objects.get(slug="graph-fans").hidden
    assert APIClient().get("/api/v1/community/groups/graph-fans/").status_code == 404


def test_events_and_challenges() -> None:
    events = APIClient().get("/api/v1/community/events/").json()
    assert events["results"][0]["places_left"] == 10
    assert as_user("alan").post("/api/v1/community/events/office-hours/register/").status_code == 201
    assert APIClient().get("/api/v1/community/events/office-hours/").json()["places_left"] == 9
    board = APIClient().get("/api/v1/community/challenges/ps1-sprint/leaderboard/")
    assert board.status_code == 200 and board.json() == []


def test_search() -> None:
    results = APIClient().get("/api/v1/search/", {"q": "loops"}).json()
    assert {"title": "Lists and loops", "url": "/tutorials/lists-and-loops/",
            "type": "TutorialPage"} in results["results"]
    assert APIClient().get("/api/v1/search/").status_code == 400


def test_openapi_schema() -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Learning Studio API"
    assert schema["components"]["securitySchemes"]["personalToken"]["scheme"] == "bearer"
    for path in ("/api/v1/courses/", "/api/v1/progress/", "/api/v1/search/",
                 "/api/v1/community/groups/", "/api/v1/me/"):
        assert path in schema["paths"], path


def test_throttling(settings) -> None:
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    cache.clear()
    old = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "3/min"}
    try:
        codes = [APIClient().get("/api/v1/courses/").status_code for _ in range(5)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = old
    assert codes == [200, 200, 200, 429, 429]
