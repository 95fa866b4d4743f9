"""Who is calling: every request is identified by JupyterHub, never by the grader itself.

A learner's JupyterLab server calls with its own $JUPYTERHUB_API_TOKEN; an instructor
with a token from the hub's token page (or, in a browser, the hub's OAuth cookie). The
hub answers /hub/api/user for that token with the user's name, groups, admin flag and
the token's scopes; the grader requires ``access:services!service=<its name>`` among
them and takes course roles from the groups (see GraderSettings.*_group_template).
"""

from __future__ import annotations

from jupyterhub.services.auth import HubOAuth

from grader.service.config import GraderSettings
from grader.service.permissions import Person


def make_hub_auth(settings: GraderSettings) -> HubOAuth:
    """HubOAuth configured from the environment the hub gives its managed services."""
    auth = HubOAuth(
        cache_max_age=max(1, int(settings.user_cache_seconds)),  # 0 would mean forever
        access_scopes={f"access:services!service={settings.service_name}"},
    )
    return auth


def person_from_model(model: dict) -> Person:
    """The hub's user model (GET /hub/api/user) as a Person."""
    return Person(
        name=model["name"],
        groups=frozenset(model.get("groups") or ()),
        admin=bool(model.get("admin")),
        kind=model.get("kind", "user"),
    )
