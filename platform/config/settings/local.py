"""Laptop/demo settings: SQLite, local files, DEBUG on unless told otherwise."""
from config.env import env_bool

from .base import *  # noqa: F401,F403
from .base import VAR_DIR

DEBUG = env_bool("DJANGO_DEBUG", True)
# The embedded defaults keep SQLite, media and the filesystem broker under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
