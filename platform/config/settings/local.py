"""Laptop/demo settings: SQLite, local files. DEBUG stays off unless DJANGO_DEBUG=1 is set:
`make serve` listens on a socket, and a debug page there leaks internals."""
from config.env import env_bool

from .base import *  # noqa: F401,F403
from .base import VAR_DIR

DEBUG = env_bool("DJANGO_DEBUG", False)
# Without DEBUG, runserver serves no static files: WhiteNoise finds them in the apps instead
# (no collectstatic needed on a laptop).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The embedded defaults keep SQLite, media and the filesystem broker under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
