"""Course roles in templates of apps below the catalogue (the profile page)."""

from django import template

from studio_site.catalogue.roles import claim_groups

register = template.Library()


@register.simple_tag
def roles_of(user) -> list[str]:
    """The `groups` the hub receives for user: {% roles_of user as roles %}."""
    return claim_groups(user)
