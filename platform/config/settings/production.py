"""Production settings: everything from the environment; refuses the dev secret key."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DEBUG, SECRET_KEY

if SECRET_KEY == "dev-insecure-change-me" and not DEBUG:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY in production.")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
