"""Product and model shots: cutout, procedural studio or DiT scene, composite, fidelity.

Public entry point: ``make_shots`` (see ``generation.images.shots``). Importing this package
stays cheap: torch/diffusers load only when the ``dit`` backend is used.
"""
from .cutout import ProductImageError
from .shot import SHOT_LIST, Shot
from .shots import ShotResult, make_shots

__all__ = ["ProductImageError", "SHOT_LIST", "Shot", "ShotResult", "make_shots"]
