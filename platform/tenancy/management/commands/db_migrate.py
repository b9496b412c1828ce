"""`manage.py db_migrate [migrate options]`: run migrations as the table-owner role.

Web and workers connect with DATABASE_URL as a plain role that must not own the tables (it
would be able to switch row-level security off). Schema changes need the owner, whose URL
(DATABASE_MIGRATE_URL) is given only to the migrations container/Job. New tables reach the
app role through the owner's default privileges (infra/postgres/init-roles.sql)."""
from __future__ import annotations

import dj_database_url
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


class Command(BaseCommand):
    help = "Run `migrate` connected as the owner role named by DATABASE_MIGRATE_URL."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", help="app_label [migration_name], as for migrate")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")
        parser.add_argument("--check", action="store_true", dest="check_unapplied")
        parser.add_argument("--plan", action="store_true")

    def handle(self, *args, **options):
        url = settings.DATABASE_MIGRATE_URL
        if not url:
            raise CommandError("Set DATABASE_MIGRATE_URL to the owner role's URL (see infra/postgres/init-roles.sql).")
        owner = dj_database_url.parse(url)
        connection = connections["default"]
        connection.close()
        # Same database, other credentials: only the login parts change.
        for key in ("USER", "PASSWORD", "HOST", "PORT", "NAME"):
            connection.settings_dict[key] = owner[key]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user" if connection.vendor == "postgresql" else "SELECT 'sqlite'")
            role = cursor.fetchone()[0]
        self.stdout.write(f"db_migrate role={role}")
        call_command("migrate", *args, interactive=options["interactive"], check_unapplied=options["check_unapplied"],
                     plan=options["plan"], verbosity=options["verbosity"], stdout=self.stdout)
        connection.close()
