from unittest import mock

import pytest
from django.core.cache import cache

from tenancy.models import Membership
from tests.factories import MembershipFactory, UserFactory


# Job creation without a broker: the stage message is dropped (the page tests check rows and pages).
NO_QUEUE = mock.patch("generation.jobs.tasks.video_job_stage_task.apply_async")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts login failures in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member_of(two_workspaces):
    """member_of("a", "viewer") -> a logged-in-able user with that role in workspace A."""

    def make(name: str, role: str):
        user = UserFactory(email=f"{role}-{name}@example.com")
        MembershipFactory(workspace=two_workspaces[name]["workspace"], user=user, role=role)
        return user

    return make


def login(client, user) -> None:
    assert client.login(username=user.username, password="pw-123456")


__all__ = ["Membership", "login"]


@pytest.fixture
def logged_in(client, two_workspaces):
    """A client signed in as workspace A's owner."""
    login(client, two_workspaces["a"]["user"])
    return client
