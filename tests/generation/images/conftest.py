"""Session fixtures: tiny random pipelines of the real classes, saved to disk and loaded back
by the code under test (offline), plus synthetic white-background product photos."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """JPEG product photos on white, one per shape."""
    from generation.images.samples import SHAPES, product_photo, save_photo

    root = tmp_path_factory.mktemp("photos")
    return {shape: save_photo(product_photo(shape, seed=i), root / f"{shape}.jpg")
            for i, shape in enumerate(SHAPES)}


@pytest.fixture(scope="session")
def brand() -> dict:
    return {"id": 1, "name": "Acme", "primary_color": "#1E3A8A", "secondary_color": "#F1F5F9",
            "accent_color": "#F97316"}


@pytest.fixture(scope="session")
def flux_weights(tmp_path_factory) -> Path:
    from generation.images.pipelines.tiny import build_tiny

    return build_tiny("flux2-klein", tmp_path_factory.mktemp("flux2-klein"))


@pytest.fixture(scope="session")
def sana_weights(tmp_path_factory) -> Path:
    from generation.images.pipelines.tiny import build_tiny

    return build_tiny("sana", tmp_path_factory.mktemp("sana"))


def load_runtime(weights: Path, family: str = "flux2-klein", **kwargs):
    from generation.images.runtime import RuntimeConfig, ShotRuntime

    return ShotRuntime(RuntimeConfig(weights_dir=str(weights), family=family, device="cpu", **kwargs))


@pytest.fixture(scope="session")
def flux_runtime(flux_weights):
    return load_runtime(flux_weights)


def training_set(root: Path, color: tuple[int, int, int], *, count: int = 4, size: int = 64) -> Path:
    """A brand's training images: a coloured object on a coloured ground, small variations."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(sum(color))
    for i in range(count):
        img = np.zeros((size, size, 3), np.int16)
        img[:] = np.array(color) // 2
        o = int(rng.integers(8, 16))
        img[o:size - o, o:size - o] = color
        img += rng.integers(-8, 8, img.shape, dtype=np.int16)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / f"brand-object-{i}.png")
    return root


@pytest.fixture(scope="session")
def trained(flux_runtime, tmp_path_factory):
    """Two brand adapters (A: red, B: green) trained on the session runtime."""
    from generation.images.training import TrainConfig, train_lora
    from generation.images.training.data import collect_images

    root = tmp_path_factory.mktemp("loras")
    results = {}
    for name, color in (("A", (210, 40, 40)), ("B", (40, 190, 60))):
        images = collect_images(training_set(root / f"images-{name}", color))
        results[name] = train_lora(pipe=flux_runtime.pipe, family="flux2-klein", images=images,
                                   config=TrainConfig.tiny(steps=40, seed=1), out_dir=root / f"brand{name}",
                                   base_weights_hash=flux_runtime.weights_hash)
        results[name + "_images"] = images
    return results
