"""People: the user account, its public profile, and the site-wide roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

# Usernames become JupyterHub user names and so container and subdomain names: keep them
# DNS-safe (lower-case letters, digits and hyphens, starting with a letter).
username_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,29}$",
    "Use 2-30 lower-case letters, digits or hyphens, starting with a letter "
    "(your name on the notebook server is built from it).",
)

EDITORS_GROUP = "Editors"
MODERATORS_GROUP = "Moderators"


class User(AbstractUser):
    """A person with an account: learner by default; see `roles.claim_groups`."""

    username = models.CharField(
        "username", max_length=30, unique=True, validators=[username_validator],
        error_messages={"unique": "That username is taken. Pick another one."},
    )
    email = models.EmailField("e-mail address", unique=True)
    email_verified = models.BooleanField(default=False)

    @property
    def is_editor(self) -> bool:
        """Editors write and moderate site content (Wagtail's Editors/Moderators groups)."""
        if self.is_superuser:
            return True
        return self.groups.filter(name__in=[EDITORS_GROUP, MODERATORS_GROUP]).exists()

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Profile(models.Model):
    """What a learner shows about themself on the site."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True, max_length=2000)
    website = models.URLField(blank=True)
    public = models.BooleanField(
        default=True, help_text="Show my name on leaderboards and study group member lists."
    )

    def __str__(self) -> str:
        return f"Profile of {self.user.username}"


class PersonalApiToken(models.Model):
    """A personal API token: named, scoped, expiring, shown once and stored as a hash.

    Sent as ``Authorization: Bearer lst_...``; it acts as its owner, within its scope.
    Not Wagtail's own APIToken (``wagtail_...``, staff-managed, for Wagtail's admin API).
    """

    READ = "read"
    READ_WRITE = "read write"
    SCOPES = [(READ, "Read (courses, progress, community)"),
              (READ_WRITE, "Read and write (also enrol, join groups, register for events)")]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'grades script'.")
    # SHA-256 of the whole token: enough for a random 256-bit secret, and a fast lookup.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False,
                              help_text="The token's first characters, to recognise it.")
    scope = models.CharField(max_length=20, choices=SCOPES, default=READ)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="one_token_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user.username}"

    def allows(self, scope: str) -> bool:
        return scope in self.scope.split()
