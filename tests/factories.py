"""factory_boy factories for the tenancy core. Tenant rows are created inside their
workspace's context (the scoped manager refuses anything else)."""
import factory
from django.contrib.auth import get_user_model

from tenancy.context import tenant_context
from tenancy.models import Brand, Membership, Workspace


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-123456")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["workspace"]):
            return super()._create(model_class, *args, **kwargs)
