"""Layer renderers registered by ``type`` (one module per type, like editly's sources).
``voiceover`` and ``music`` are audio layers: they are mixed by ``generation.video.audio``."""
from . import captions, logo, product, shape, shot, text  # noqa: F401  (registration)
from .base import RENDERERS, RenderContext, register

__all__ = ["RENDERERS", "RenderContext", "register"]
