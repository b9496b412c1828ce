#!/usr/bin/env python
"""Django's command-line utility. The SaaS apps live in the platform/ source folder."""
import os
import sys
from pathlib import Path


def main() -> None:
    # One sys.path entry, the same in every entry point (manage.py, wsgi, celery, pytest):
    # the *contents* of platform/ become importable (config, tenancy, ...) while the name
    # `platform` keeps meaning the stdlib module.
    sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
