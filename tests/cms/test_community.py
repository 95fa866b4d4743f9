"""Study groups, events with capacity (race-safe), challenges with a leaderboard."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone
from studio_site.accounts.models import User
from studio_site.community.models import Challenge, Event, Registration, StudyGroup
from studio_site.community.views import EventFull, register_for_event
from studio_site.progress.models import GradeEvent

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py


def login(username: str) -> Client:
    client = Client()
    client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.mark.django_db
def test_create_and_join_study_group(users) -> None:
    alan = login("alan")
    response = alan.post("/community/groups/new/", {"name": "Night owls", "description": "late",
                                                     "max_members": 3})
    assert response.status_code == 302 and response["Location"] == "/community/groups/night-owls/"
    group = StudyGroup.objects.get(slug="night-owls")
    assert list(group.members.all()) == [users["alan"]]
    login("grace").post("/community/groups/night-owls/join/")
    login("ada").post("/community/groups/night-owls/join/")
    full = login("edith").post("/community/groups/night-owls/join/", follow=True)
    assert "This group is full" in full.content.decode()
    assert group.members.count() == 3
    page = Client().get("/community/groups/night-owls/").content.decode()
    assert "Grace Hopper" in page and "Members (3 of 3)" in page


@pytest.mark.django_db
def test_private_profiles_are_not_named(users) -> None:
    users["grace"].profile.public = False
    users["grace"].profile.save()
    page = Client().get("/community/groups/python-beginners/").content.decode()
    assert "Grace Hopper" not in page and "A learner" in page


@pytest.mark.django_db
def test_hidden_group_is_gone_for_visitors() -> None:
    StudyGroup.objects.filter(slug="python-beginners").update(hidden=True)
    assert Client().get("/community/groups/python-beginners/").status_code == 404
    assert "Python beginners" not in Client().get("/community/").content.decode()


@pytest.mark.django_db
def test_event_capacity_and_registration(users) -> None:
    event = Event.objects.get(slug="office-hours")
    event.capacity = 1
    event.save()
    first = login("alan").post("/community/events/office-hours/register/", follow=True)
    assert "You have a place" in first.content.decode()
    second = login("grace").post("/community/events/office-hours/register/", follow=True)
    assert "All 1 places of Office hours with Ada are taken" in second.content.decode()
    assert Registration.objects.filter(event=event).count() == 1
    login("alan").post("/community/events/office-hours/cancel/")
    login("grace").post("/community/events/office-hours/register/")
    assert list(event.registrations.values_list("user__username", flat=True)) == ["grace"]


@pytest.mark.django_db
def test_past_event_closed() -> None:
    Event.objects.filter(slug="office-hours").update(starts_at=timezone.now() - dt.timedelta(hours=1))
    response = login("alan").post("/community/events/office-hours/register/", follow=True)
    assert "registration is closed" in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.django_db
def test_leaderboard_from_grade_events(users, course) -> None:
    challenge = Challenge.objects.get(slug="ps1-sprint")
    now = timezone.now()
    for n, (user, score) in enumerate([("alan", 6), ("grace", 9), ("alan", 10), ("ada", 9)]):
        GradeEvent.objects.create(submission_id=f"lb{n}", user=users[user],
                                  course_id="intro-python", assignment_id="ps1", score=score,
                                  max_score=10, graded_at=now + dt.timedelta(minutes=n))
    GradeEvent.objects.create(submission_id="other", user=users["edith"], course_id="intro-python",
                              assignment_id="ps2", score=10, max_score=10, graded_at=now)
    board = challenge.leaderboard()
    assert [(r["name"], r["score"]) for r in board] == [
        ("Alan Turing", 10), ("Grace Hopper", 9), ("Ada Lovelace", 9)]
    html = Client().get("/community/challenges/ps1-sprint/").content.decode()
    assert html.index("Alan Turing") < html.index("Grace Hopper") < html.index("Ada Lovelace")
    assert "Edith" not in html


@pytest.mark.django_db(transaction=True)
def test_event_registration_is_race_safe() -> None:
    """Twelve people click Register at the same moment for five places."""
    people = [User.objects.create_user(f"racer{n}", f"racer{n}@x.test", "pw-racer-123")
              for n in range(12)]
    event = Event.objects.create(title="Tiny", slug="tiny", capacity=5,
                                 starts_at=timezone.now() + dt.timedelta(days=1))
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def click(user: User) -> None:
        close_old_connections()
        try:
            barrier.wait()
            register_for_event(event.pk, user)
            outcomes.append("ok")
        except EventFull:
            outcomes.append("full")
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            outcomes.append(f"error: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["full"] * 7 + ["ok"] * 5, outcomes
    assert Registration.objects.filter(event=event).count() == 5
