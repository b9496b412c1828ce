"""Create the local demo login (demo/demo) with a workspace and brand, if missing."""
from django.core.management.base import BaseCommand

from tenancy.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_workspace_ensure


class Command(BaseCommand):
    help = "Ensure the local demo user, workspace and brand exist."

    def handle(self, *args, **options):
        _, workspace, _ = demo_workspace_ensure()
        self.stdout.write(f"Dashboard login: {DEMO_USERNAME} / {DEMO_PASSWORD} (workspace {workspace.name})")
