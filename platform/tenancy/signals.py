"""Model signal receivers of tenancy: deleting a user revokes their API keys first, and
clears their references in tenant tables workspace by workspace (row-level security hides
other workspaces' rows from Django's own SET_NULL update, which would then fail the FK)."""
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver


def _tenant_user_references():
    from .managers import TenantModel

    user_model = get_user_model()
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.concrete_fields:
            if (field.is_relation and field.related_model is user_model
                    and field.remote_field.on_delete is models.SET_NULL):
                yield model, field.name


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="tenancy.user_pre_delete")
def _before_user_delete(sender, instance, **kwargs):
    from .context import tenant_context
    from .models import Workspace
    from .services import api_keys_revoke_for_deleted_user

    api_keys_revoke_for_deleted_user(user=instance)
    references = list(_tenant_user_references())
    # O(workspaces x referencing models): user deletion is rare; deactivation is the usual path.
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        with tenant_context(workspace_id):
            for model, name in references:
                model.unscoped.filter(**{name: instance}).update(**{name: None})


# Cached API keys (api.auth) refill when the auth epoch changes: every row change that can
# withdraw a key's access bumps it. Queryset .update() sends no signal: the services that
# use one bump explicitly (tenancy.services).
def _auth_rows_changed(sender, instance=None, update_fields=None, **kwargs):
    from .auth_epoch import auth_epoch_bump

    if sender is get_user_model() and update_fields is not None and "is_active" not in update_fields:
        return  # e.g. last_login on every sign-in: cannot withdraw a key
    auth_epoch_bump()


def _connect_auth_epoch() -> None:
    from django.db.models.signals import post_delete, post_save

    from .models import ApiKey, Membership, Workspace

    for model in (ApiKey, Membership, get_user_model()):
        post_save.connect(_auth_rows_changed, sender=model, dispatch_uid=f"tenancy.auth_epoch.save.{model.__name__}")
    for model in (ApiKey, Membership, Workspace, get_user_model()):
        post_delete.connect(_auth_rows_changed, sender=model,
                            dispatch_uid=f"tenancy.auth_epoch.delete.{model.__name__}")


_connect_auth_epoch()
