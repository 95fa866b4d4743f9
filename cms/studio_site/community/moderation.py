"""Editors moderate community content from the Wagtail admin."""

from django.contrib.auth.models import Group, Permission

MODERATED = {
    "community": ["studygroup", "membership", "event", "registration", "challenge"],
    "blog": ["comment"],
    "base": ["category"],
    "catalogue": ["enrolment"],
}


def grant_editor_permissions(**kwargs) -> None:
    permissions = Permission.objects.filter(
        content_type__app_label__in=MODERATED.keys()
    ).select_related("content_type")
    wanted = [p for p in permissions if p.content_type.model in MODERATED[p.content_type.app_label]]
    for name in ("Editors", "Moderators"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*wanted)
    admin_access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    if admin_access:
        for name in ("Editors", "Moderators"):
            Group.objects.get(name=name).permissions.add(admin_access)
