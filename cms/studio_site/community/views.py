from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from .forms import StudyGroupForm
from .models import Challenge, Event, Membership, Registration, StudyGroup

log = logging.getLogger(__name__)


class EventFull(Exception):
    """Every place of the event is taken."""


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "community/index.html", {
        "groups": StudyGroup.objects.filter(hidden=False)[:50],
        "events": Event.objects.filter(published=True, starts_at__gte=timezone.now())[:20],
        "challenges": Challenge.objects.filter(live=True).select_related("course")[:20],
    })


def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(StudyGroup, slug=slug, hidden=False)
    members = group.members.select_related("profile").order_by("username")
    is_member = request.user.is_authenticated and members.filter(pk=request.user.pk).exists()
    return render(request, "community/group.html",
                  {"group": group, "members": members, "is_member": is_member})


@login_required
def group_create(request: HttpRequest) -> HttpResponse:
    form = StudyGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = form.save(commit=False)
        group.created_by = request.user
        base = slugify(group.name)[:100] or "group"
        group.slug = base
        n = 1
        while StudyGroup.objects.filter(slug=group.slug).exists():
            n += 1
            group.slug = f"{base}-{n}"
        group.save()
        Membership.objects.create(group=group, user=request.user)
        messages.success(request, "Study group created. Share its page to invite people.")
        return redirect(group)
    return render(request, "community/group_form.html", {"form": form})


@login_required
@require_POST
def group_join(request: HttpRequest, slug: str) -> HttpResponse:
    with transaction.atomic():
        group = get_object_or_404(StudyGroup.objects.select_for_update(), slug=slug, hidden=False)
        if group.membership_set.count() >= group.max_members:
            messages.error(request, "This group is full. Ask its creator or start another one.")
        else:
            Membership.objects.get_or_create(group=group, user=request.user)
            messages.success(request, f"You joined {group.name}.")
    return redirect(group)


@login_required
@require_POST
def group_leave(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(StudyGroup, slug=slug)
    Membership.objects.filter(group=group, user=request.user).delete()
    messages.success(request, f"You left {group.name}.")
    return redirect(group)


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug, published=True)
    taken = event.registrations.count()
    registered = (request.user.is_authenticated
                  and event.registrations.filter(user=request.user).exists())
    return render(request, "community/event.html", {
        "event": event, "taken": taken, "left": max(event.capacity - taken, 0),
        "registered": registered,
    })


def register_for_event(event_id: int, user) -> Registration:
    """Take one place, or raise EventFull. Safe when many people click at once.

    The event row is locked for the transaction (SELECT ... FOR UPDATE on PostgreSQL; on
    SQLite the IMMEDIATE transaction takes the database write lock first), so the count
    and the insert cannot interleave with another registration.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        existing = Registration.objects.filter(event=event, user=user).first()
        if existing:
            return existing
        if Registration.objects.filter(event=event).count() >= event.capacity:
            raise EventFull(f"All {event.capacity} places of {event.title} are taken.")
        return Registration.objects.create(event=event, user=user)


@login_required
@require_POST
def event_register(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug, published=True)
    if event.is_past:
        messages.error(request, "This event has already started; registration is closed.")
        return redirect(event)
    try:
        register_for_event(event.pk, request.user)
        messages.success(request, f"You have a place at {event.title}.")
    except EventFull as error:
        messages.error(request, f"{error} Watch this page: places free up when people cancel.")
    except IntegrityError:
        messages.success(request, f"You have a place at {event.title}.")
    return redirect(event)


@login_required
@require_POST
def event_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug)
    Registration.objects.filter(event=event, user=request.user).delete()
    messages.success(request, "Your registration is cancelled.")
    return redirect(event)


def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = get_object_or_404(Challenge.objects.select_related("course"), slug=slug, live=True)
    return render(request, "community/challenge.html",
                  {"challenge": challenge, "leaderboard": challenge.leaderboard()})
