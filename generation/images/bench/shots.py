"""`manage.py bench shots [--weights DIR] [--family F] [--size PX] [--requests N]`.

Measured in one run (ratios; the shared box is noisy): LoRA training loss drop and steps/s,
adapter switch time / one generation (``switch_over_generate``), adapter-grouped scheduling
vs one request at a time on a mixed 3-brand queue (``grouped_speedup``; both use the same
LRU adapter cache, grouping wins by fewer switches and batched pipeline calls), and the
minimum product SSIM of procedural shots (``fidelity_ssim_min``). Without a weights
directory it uses a tiny *random* pipeline of the same class (CPU plumbing figures).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

BRAND_COLORS = {"A": (210, 40, 40), "B": (40, 190, 60), "C": (40, 60, 200)}


def _args(args: list[str]):
    parser = argparse.ArgumentParser(prog="bench shots")
    parser.add_argument("--weights", default="")
    parser.add_argument("--family", default="")
    parser.add_argument("--size", type=int, default=0, help="square generation size in px")
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--train-steps", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="grouped-vs-serial trials (median)")
    parser.add_argument("--shot-size", default="270x480")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: on a shared box more threads made runs slower)")
    return parser.parse_args(args)


def _runtime(opts, tmp: Path):
    from django.conf import settings

    from ..pipelines.tiny import build_tiny
    from ..runtime import RuntimeConfig, ShotRuntime

    g = settings.GENERATION
    family = opts.family or g.dit_family
    weights = opts.weights or g.dit_weights_dir
    random_weights = not weights
    if random_weights:
        weights = str(build_tiny(family, tmp / "tiny"))
    config = RuntimeConfig(weights_dir=weights, family=family, device=g.dit_device, dtype=g.dit_dtype,
                           lora_cache_size=max(3, g.lora_cache_size))
    return ShotRuntime(config), random_weights


def _train(runtime, tmp: Path, steps: int, out):
    from ..training import TrainConfig, train_lora
    from ..training.data import collect_images
    from ..lora import AdapterRef
    from PIL import Image
    import numpy as np

    cpu = runtime.device == "cpu"
    config = TrainConfig.tiny(steps=steps or 30) if cpu else TrainConfig(steps=steps or 200, resolution=512)
    refs, drops, rates = {}, [], []
    for name, color in BRAND_COLORS.items():
        folder = tmp / f"images-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(len(name) + color[0])
        side = config.resolution
        for i in range(4):
            img = np.zeros((side, side, 3), np.int16) + np.array(color) // 2
            o = side // 6 + int(rng.integers(0, side // 8))
            img[o:side - o, o:side - o] = color
            img += rng.integers(-8, 8, img.shape, dtype=np.int16)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"object-{i}.png")
        result = train_lora(pipe=runtime.pipe, family=runtime.spec.name, images=collect_images(folder),
                            config=config, out_dir=tmp / f"brand{name}" / "v1",
                            base_weights_hash=runtime.weights_hash)
        refs[name] = AdapterRef(name=f"bench_{name}", path=str(result.adapter_path))
        drops.append(result.loss_drop)
        rates.append(config.steps / result.seconds)
        out.write(f"trained {name}: loss drop {result.loss_drop:.3f}, {config.steps / result.seconds:.1f} steps/s\n")
    runtime.adapters.reset_active()
    return refs, drops, rates


def _switch_and_generate(runtime, refs, size):
    names = list(refs)
    for ref in refs.values():  # warm the cache: we time switches, not disk loads
        runtime.generate(prompts=["warm up"], size=size, seed=0, adapter=ref, output_type="latent")
    switch_times = [runtime.adapters.activate(refs[names[i % len(names)]]) for i in range(30)]
    gen_times = []
    for i in range(3):
        started = time.perf_counter()
        runtime.generate(prompts=["a product photo"], size=size, seed=i, adapter=refs[names[-1]], output_type="pil")
        gen_times.append(time.perf_counter() - started)
    return statistics.median(switch_times), statistics.median(gen_times)


def _grouped_vs_serial(runtime, refs, size, n_requests):
    import torch

    from .scheduler import QueuedShot, plan

    names = list(refs)
    queue = [QueuedShot(id=i, adapter=names[i % len(names)]) for i in range(n_requests)]
    prompt = "a photo of sks object on a studio podium"
    started = time.perf_counter()
    serial = {q.id: runtime.generate(prompts=[prompt], size=size, seed=0, seeds=[q.id], adapter=refs[q.adapter],
                                     output_type="pil")[0] for q in queue}
    serial_s = time.perf_counter() - started
    started = time.perf_counter()
    grouped = {}
    for batch in plan(queue, fairness=8, max_batch=4, active=runtime.adapters.active):
        images = runtime.generate(prompts=[prompt] * len(batch), size=size, seed=0, seeds=[q.id for q in batch],
                                  adapter=refs[batch[0].adapter], output_type="pil")
        grouped.update({q.id: img for q, img in zip(batch, images)})
    grouped_s = time.perf_counter() - started
    import numpy as np

    diff = max(float(np.abs(np.asarray(serial[i], np.int16) - np.asarray(grouped[i], np.int16)).max()) for i in serial)
    return serial_s, grouped_s, diff, torch.get_num_threads()


def run(args: list[str], out) -> dict:
    """Run the shots benchmark; returns the figures (the command prints them as JSON)."""
    import numpy as np
    import torch

    from ..samples import SHAPES, corpus_data_uri_images, product_photo, save_photo
    from ..shots import make_shots

    opts = _args(args)
    torch.set_num_threads(max(1, opts.threads))
    w, _, h = opts.shot_size.partition("x")
    with tempfile.TemporaryDirectory(prefix="bench-shots-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        runtime, random_weights = _runtime(opts, tmp)
        load_s = time.perf_counter() - started
        size = (opts.size or (64 if runtime.device == "cpu" else 1024),) * 2
        refs, drops, rates = _train(runtime, tmp, opts.train_steps, out)
        switch_s, gen_s = _switch_and_generate(runtime, refs, size)
        trials = [_grouped_vs_serial(runtime, refs, size, opts.requests) for _ in range(max(1, opts.repeats))]
        speedups = sorted(serial / grouped for serial, grouped, _, _ in trials)
        serial_s, grouped_s, diff, threads = trials[0]
        # One adapter slot (GENERATION_LORA_CACHE_SIZE=1, or the hotswap slot of a compiled
        # worker): every switch is a load from disk, which grouping avoids.
        from ..lora import AdapterCache

        capacity = runtime.adapters.capacity
        for cache_size in (1, capacity):  # swap caches: unload first, names must be free
            runtime.pipe.delete_adapters(list(runtime.adapters.loaded))
            runtime.adapters = AdapterCache(runtime.pipe, capacity=cache_size)
            if cache_size == 1:
                one_slot = _grouped_vs_serial(runtime, refs, size, opts.requests)
        photos = [save_photo(product_photo(s, seed=i), tmp / f"{s}.jpg") for i, s in enumerate(SHAPES)]
        corpus = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "product_pages" / "pages"
        embedded = corpus_data_uri_images(corpus) if corpus.is_dir() else []
        photos += [save_photo(np.asarray(img), tmp / f"corpus{i}.png")
                   for i, (_, img) in enumerate(embedded)]
        requests = [{"kind": k, "prompt": "", "segment": i} for i, k in enumerate(["product", "detail", "lifestyle"])]
        fidelities = []
        for i, photo in enumerate(photos):
            shots = make_shots(product_images=[photo], requests=requests, out_dir=tmp / f"shots{i}", n=2,
                               brand={"primary_color": "#1E3A8A", "secondary_color": "#F1F5F9",
                                      "accent_color": "#F97316"}, size=(int(w), int(h)))
            fidelities += [s.fidelity for s in shots]
    device = runtime.device if runtime.device == "cpu" else torch.cuda.get_device_name(0)
    result = {
        "device": f"{device} (torch threads={threads})",
        "family": runtime.spec.name,
        "random_weights": random_weights,
        "gen_size": size[0],
        "load_s": round(load_s, 3),
        "generate_s": round(gen_s, 4),
        "images_per_s": round(1 / gen_s, 2),
        "switch_s": round(switch_s, 5),
        "switch_over_generate": round(switch_s / gen_s, 4),
        "grouped_speedup": round(speedups[len(speedups) // 2], 3),  # median of the repeats
        "grouped_max_pixel_diff": diff,
        "grouped_speedup_one_slot": round(one_slot[0] / one_slot[1], 3),
        "lora_loss_drop": round(min(drops), 4),
        "lora_train_steps_per_s": round(statistics.median(rates), 2),
        "fidelity_ssim_min": round(min(fidelities), 5),
        "fidelity_images": len(photos),
    }
    out.write(f"serial {serial_s:.2f}s vs grouped {grouped_s:.2f}s for {opts.requests} requests\n")
    return result
