from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "studio_site.community"
    label = "community"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from studio_site.base.page_cache import purge_page_cache

        from . import models
        from .moderation import grant_editor_permissions

        for model in (models.StudyGroup, models.Membership, models.Event, models.Registration,
                      models.Challenge):
            post_save.connect(purge_page_cache, sender=model, dispatch_uid=f"purge-{model.__name__}")
            post_delete.connect(purge_page_cache, sender=model,
                                dispatch_uid=f"purge-del-{model.__name__}")
        # No sender filter: the permissions of our models are made by auth's own
        # post_migrate handler, which may run after ours for this app; the grant is
        # idempotent and cheap, so it runs after every app and catches up.
        post_migrate.connect(grant_editor_permissions, dispatch_uid="studio-editor-perms")
