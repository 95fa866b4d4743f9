from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import PersonalApiToken, Profile, User


@admin.register(User)
class StudioUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Studio", {"fields": ("email_verified",)}))


admin.site.register(Profile)


@admin.register(PersonalApiToken)
class PersonalApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke (delete) tokens; the secrets are not stored, so never shown."""

    list_display = ["name", "user", "prefix", "scope", "expires", "last_used"]
    readonly_fields = ["user", "name", "prefix", "scope", "expires", "last_used"]

    def has_add_permission(self, request) -> bool:
        return False
