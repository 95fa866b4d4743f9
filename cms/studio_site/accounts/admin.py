from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Profile, User


@admin.register(User)
class StudioUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Studio", {"fields": ("email_verified",)}))


admin.site.register(Profile)
