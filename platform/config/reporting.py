"""Error reports (the DEBUG 500 page and the error e-mails) that never show credentials.

Django's default filter hides settings whose *name* looks secret, but not a password inside
``REDIS_URL``/``CELERY_BROKER_URL``, the process environment in ``request.META`` under
runserver, or a connection's locals in a traceback frame. Two layers here:
  1. the filter also hides any key naming a URL/DSN/database/broker, and
  2. the reporter scrubs the rendered page: every ``scheme://user:password@`` credential and
     every known secret value (SECRET_KEY, database/broker/storage passwords) is replaced.
"""
from __future__ import annotations

import html
import os
import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

SUBSTITUTE = "********************"
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s'\"]*):(?P<pw>[^@\s'\"]+)@")
_SECRET_ENV = re.compile(r"URL|DSN|PASS|SECRET|KEY|TOKEN|CREDENTIAL", re.I)


class CredentialRedactingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|DATABASE|BROKER|REDIS|CREDENTIAL",
        flags=re.I)

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            cleansed = redact_text(cleansed)
        return cleansed


def _secret_values() -> set[str]:
    """Every credential this process knows, as it could appear on a page."""
    values: set[str] = {str(getattr(settings, "SECRET_KEY", "") or "")}
    for db in getattr(settings, "DATABASES", {}).values():
        values.add(str(db.get("PASSWORD") or ""))
    urls = [getattr(settings, name, "") for name in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_MIGRATE_URL")]
    urls += [value for name, value in os.environ.items() if _SECRET_ENV.search(name)]
    for name, value in os.environ.items():
        if re.search(r"PASS|SECRET|TOKEN|API_KEY|ACCESS_KEY", name, re.I):
            values.add(value)
    for url in urls:
        try:
            password = urlsplit(str(url)).password
        except ValueError:
            password = None
        if password:
            values.update({password, unquote(password)})
    return {v for v in values if len(v) >= 4}


def redact_text(text: str) -> str:
    """``text`` with URL credentials and known secret values replaced by stars."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{SUBSTITUTE}@", text)
    for secret in sorted(_secret_values(), key=len, reverse=True):
        for form in {secret, html.escape(secret), html.escape(secret, quote=False)}:
            text = text.replace(form, SUBSTITUTE)
    return text


class RedactingExceptionReporter(ExceptionReporter):
    """The technical 500 page and error e-mail text, scrubbed after rendering."""

    def get_traceback_html(self):
        return redact_text(str(super().get_traceback_html()))

    def get_traceback_text(self):
        return redact_text(str(super().get_traceback_text()))
