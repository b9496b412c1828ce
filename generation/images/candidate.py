"""A candidate shot and how it is made from a scene: the product cutout composited in with
shadow, optional reflection and harmonised surroundings. Shared by both ``make_shots``
backends (procedural in ``shots``, DiT in ``dit_shots``), so neither imports the other."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import composite
from .cutout import Cutout


@dataclass
class Candidate:
    image: np.ndarray  # HxWx3 uint8
    placed: composite.Placed | None
    meta: dict
    backdrop: np.ndarray | None = None  # the scene under the product's box, before pasting


def compose(cutout: Cutout, scene: np.ndarray, *, layout, floor_y: float,
            reflect: bool) -> Candidate:
    """Place the product into ``scene`` (float32 HxWx3) per ``layout``; returns the frame."""
    h, w = scene.shape[:2]
    placement = composite.fit(cutout, box_w=int(layout.box_w * w), box_h=int(layout.box_h * h),
                              center_x=int(layout.center_x * w), base_y=int(floor_y * h))
    placed = composite.resize_cutout(cutout, placement)
    composite.harmonise_surroundings(scene, placed)
    composite.contact_shadow(scene, placed)
    if reflect:
        composite.reflection(scene, placed)
    backdrop = composite.crop_placed(scene, placement)[0].copy()
    composite.paste_product(scene, placed)
    image = np.clip(np.rint(scene), 0, 255).astype(np.uint8)
    return Candidate(image=image, placed=placed, meta={"placement": asdict(placement)}, backdrop=backdrop)
