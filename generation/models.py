"""Django discovers the generation app's models here; they live beside their features."""
from generation.jobs.models import VideoJob  # noqa: F401
