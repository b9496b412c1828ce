"""DiT runtime and per-brand LoRAs on tiny random pipelines of the real classes.

The pipelines are saved to a temp dir by a session fixture and loaded back by the real
runtime (``from_pretrained(dir)`` with HF_HUB_OFFLINE=1). With random VAEs, pixels are noise:
LoRA effects are asserted on latents."""
from __future__ import annotations

import json

import pytest
import torch

from generation.images.lora import AdapterCache, AdapterRef, adapter_ref_from_path, read_adapter_metadata
from generation.images.pipelines import FAMILY_NAMES, get_family

from .conftest import load_runtime, training_set

SIZE = (64, 64)


def _latents(runtime, adapter, prompt="a photo of sks object", seed=0):
    return runtime.generate(prompts=[prompt], size=SIZE, seed=seed, adapter=adapter, output_type="latent")


def _training_latents(runtime, images):
    from generation.images.training.data import to_tensor

    pixels = torch.stack([to_tensor(img.path, SIZE[0]) for img in images])
    with torch.no_grad():
        return runtime.spec.to_output_space(runtime.pipe, runtime.spec.encode_latents(runtime.pipe, pixels))


def _ref(result, name):
    return AdapterRef(name=name, path=str(result.adapter_path))


def test_registry_maps_families_to_real_pipeline_classes():
    import diffusers

    assert set(FAMILY_NAMES) == {"flux2-klein", "sana"}
    for name in FAMILY_NAMES:
        spec = get_family(name)
        cls = spec.pipeline_class()
        assert cls is getattr(diffusers, spec.pipeline_class_name)
        assert hasattr(cls, "load_lora_weights")  # a LoRA loader mixin: no PixArt here
    with pytest.raises(ValueError, match="unknown DiT family"):
        get_family("pixart")


def test_runtime_loads_offline_and_is_deterministic(flux_runtime, flux_weights):
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert type(flux_runtime.pipe).__name__ == "Flux2KleinPipeline"
    assert len(flux_runtime.weights_hash) == 16
    a, b = _latents(flux_runtime, None), _latents(flux_runtime, None)
    assert torch.equal(a, b)
    assert not torch.equal(a, _latents(flux_runtime, None, seed=1))


def test_lora_training_lowers_loss_and_moves_latents_towards_training_images(flux_runtime, trained):
    for name in ("A", "B"):
        result = trained[name]
        assert result.eval_loss_after < result.eval_loss_before
        assert result.loss_drop > 0.05
        target = _training_latents(flux_runtime, trained[name + "_images"])
        prompt = trained[name + "_images"][0].caption
        base = _latents(flux_runtime, None, prompt)
        tuned = _latents(flux_runtime, _ref(result, f"t{name}"), prompt)
        d_base = (base - target).pow(2).mean().sqrt()
        d_tuned = (tuned - target).pow(2).mean().sqrt()
        assert d_tuned <= 0.95 * d_base, (name, float(d_base), float(d_tuned))


def test_adapter_file_carries_metadata_checkpoints_and_sample_grid(trained, flux_runtime):
    result = trained["A"]
    meta = read_adapter_metadata(result.adapter_path)
    assert meta["family"] == "flux2-klein" and meta["rank"] == 4 and meta["steps"] == 40
    assert meta["base_weights_hash"] == flux_runtime.weights_hash
    assert len(meta["loss_curve"]) == 40 and len(meta["images"]) == 4
    assert all(len(img["sha256"]) == 64 for img in meta["images"])
    assert json.loads(result.adapter_path.with_suffix(".json").read_text()) == meta
    assert [p.parent.name for p in result.checkpoints] == ["checkpoint-20"]
    assert [p.name for p in result.samples] == ["samples-00020.png", "samples-00040.png"]


def test_save_unload_reload_gives_identical_output(flux_weights, trained):
    runtime = load_runtime(flux_weights)
    ref = _ref(trained["A"], "brandA_v1")
    first = _latents(runtime, ref)
    runtime.pipe.unload_lora_weights()
    runtime.adapters = AdapterCache(runtime.pipe, capacity=2)
    assert torch.equal(_latents(runtime, None), _latents(load_runtime(flux_weights), None))
    assert torch.equal(_latents(runtime, ref), first)


def test_two_adapters_differ_and_switching_is_deterministic(flux_runtime, trained):
    a, b = _ref(trained["A"], "sw_A"), _ref(trained["B"], "sw_B")
    base = _latents(flux_runtime, None)
    la1 = _latents(flux_runtime, a)
    lb = _latents(flux_runtime, b)
    la2 = _latents(flux_runtime, a)
    base2 = _latents(flux_runtime, None)
    assert not torch.allclose(la1, lb) and not torch.allclose(la1, base) and not torch.allclose(lb, base)
    assert torch.equal(la1, la2)  # A -> B -> A
    assert torch.equal(base, base2)  # and back to the base model


def test_lru_evicts_the_least_recently_used_adapter(flux_weights, trained):
    runtime = load_runtime(flux_weights, lora_cache_size=1)
    a, b = _ref(trained["A"], "lru_A"), _ref(trained["B"], "lru_B")
    runtime.adapters.activate(a)
    runtime.adapters.activate(b)
    assert list(runtime.adapters.loaded) == ["lru_B"]
    assert "lru_A" not in runtime.pipe.get_list_adapters().get("transformer", [])
    runtime.adapters.activate(a)
    assert runtime.adapters.loads == 3


def test_hotswap_equals_a_normal_load(flux_weights, trained):
    a, b = _ref(trained["A"], "hs_A"), _ref(trained["B"], "hs_B")
    normal = load_runtime(flux_weights)
    expected = _latents(normal, b)
    swapping = load_runtime(flux_weights)
    swapping.adapters = AdapterCache(swapping.pipe, capacity=1, hotswap=True, target_rank=8)
    _latents(swapping, a)
    assert torch.allclose(_latents(swapping, b), expected, atol=1e-6)
    assert list(swapping.adapters.loaded) == ["hs_B"]


def test_dit_backend_shots_keep_the_product_and_model_shots_use_references(flux_runtime, trained, photos, brand, tmp_path):
    from generation.images import make_shots

    requests = [{"kind": "product", "prompt": "hero", "segment": 0}, {"kind": "model", "prompt": "model", "segment": 1}]
    results = make_shots(product_images=[photos["bottle"]], requests=requests, brand=brand, out_dir=tmp_path,
                         backend="dit", n=2, lora=str(trained["A"].adapter_path), size=(96, 160),
                         runtime=flux_runtime)
    product, model = results
    assert product.fidelity >= 0.99
    config = json.loads(product.config_path.read_text())
    assert config["family"] == "flux2-klein" and config["weights_hash"] == flux_runtime.weights_hash
    assert config["lora_version"] == adapter_ref_from_path(trained["A"].adapter_path).name
    assert config["steps"] == flux_runtime.steps and config["details"]["generated_size"] == [96, 160]
    assert model.fidelity is None and "reference" in json.loads(model.config_path.read_text())["details"]["note"]


def test_second_family_sana_trains_and_serves_a_lora(sana_weights, tmp_path):
    from generation.images.training import TrainConfig, train_lora
    from generation.images.training.data import collect_images

    runtime = load_runtime(sana_weights, family="sana")
    assert type(runtime.pipe).__name__ == "SanaPipeline"
    images = collect_images(training_set(tmp_path / "imgs", (30, 60, 200), count=2))
    result = train_lora(pipe=runtime.pipe, family="sana", images=images,
                        config=TrainConfig.tiny(steps=12, checkpoint_every=0, sample_every=0), out_dir=tmp_path / "lora")
    assert result.eval_loss_after < result.eval_loss_before
    base = _latents(runtime, None)
    tuned = _latents(runtime, AdapterRef("sana_v1", str(result.adapter_path)))
    assert base.shape == tuned.shape and not torch.allclose(base, tuned)
