"""Laptop/demo settings: SQLite, local files, DEBUG on unless told otherwise."""
from config.env import env_bool

from .base import *  # noqa: F401,F403

DEBUG = env_bool("DJANGO_DEBUG", True)
