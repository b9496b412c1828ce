"""Django discovers the generation app's models here; they live beside their features."""
from generation.jobs.models import VideoJob  # noqa: F401
from generation.images.models import LoraVersion  # noqa: F401
