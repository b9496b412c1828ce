"""LoRA fine-tuning of a DiT on a brand's images, after diffusers' ``train_dreambooth_lora_*``.

Same recipe as the official scripts: a frozen base, peft ``LoraConfig(r, lora_alpha=r,
init_lora_weights="gaussian")`` on the attention projections, cached VAE latents and prompt
embeddings, flow matching (``x_t = (1 - sigma) x_0 + sigma * noise``, target ``noise - x_0``,
MSE), AdamW, gradient clipping, optional gradient checkpointing and bf16 autocast on GPU.
Checkpoints and a sample grid every N steps; the adapter is written as safetensors with
metadata. The family's ``FamilySpec`` supplies the model-specific encode/predict functions.
A fixed held-out batch (same noise and sigmas before and after) gives an honest loss drop.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..lora import save_adapter
from ..pipelines import get_family
from .data import TrainingImage, to_tensor


@dataclass(frozen=True)
class TrainConfig:
    rank: int = 16
    learning_rate: float = 1e-4
    steps: int = 1000
    resolution: int = 512
    batch_size: int = 1
    gradient_checkpointing: bool = True
    mixed_precision: str = "bf16"  # bf16 | no (only applied on GPU)
    checkpoint_every: int = 250
    sample_every: int = 250
    sample_steps: int = 4
    seed: int = 0
    max_grad_norm: float = 1.0

    @classmethod
    def tiny(cls, **overrides) -> "TrainConfig":
        """A CPU configuration for tests and demos with tiny random pipelines."""
        base = dict(rank=4, learning_rate=5e-3, steps=40, resolution=64, batch_size=2,
                    gradient_checkpointing=False, mixed_precision="no", checkpoint_every=20,
                    sample_every=20, sample_steps=2)
        return cls(**{**base, **overrides})


@dataclass
class TrainResult:
    adapter_path: Path
    loss_curve: list[float]
    eval_loss_before: float
    eval_loss_after: float
    seconds: float
    checkpoints: list[Path] = field(default_factory=list)
    samples: list[Path] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)

    @property
    def loss_drop(self) -> float:
        """Relative drop of the held-out flow-matching loss (> 0 = it learned)."""
        return (self.eval_loss_before - self.eval_loss_after) / max(self.eval_loss_before, 1e-12)


def _sigmas(u, shift: float):
    return shift * u / (1 + (shift - 1) * u)  # the flow-matching timestep shift


def _present_targets(transformer, names) -> list[str]:
    present = {n for n, _ in transformer.named_modules()}
    return [t for t in names if any(n == t or n.endswith("." + t) for n in present)]


def train_lora(*, pipe, family: str, images: list[TrainingImage], config: TrainConfig,
               out_dir: Path, base_weights_hash: str = "", on_progress=None) -> TrainResult:
    """Train a LoRA on ``pipe``'s transformer and write ``out_dir/adapter.safetensors``.

    The pipeline is left as it was (the adapter is removed afterwards). Deterministic for a
    given seed on CPU. ``on_progress(step, loss)`` is called every step.
    """
    import torch
    from peft import LoraConfig

    if not images:
        raise ValueError("no training images")
    spec = get_family(family)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    transformer = pipe.transformer
    device = transformer.device
    gen = torch.Generator("cpu").manual_seed(config.seed)
    for module in (pipe.transformer, pipe.vae, pipe.text_encoder):
        module.requires_grad_(False)
    with torch.no_grad():
        pixels = torch.stack([to_tensor(img.path, config.resolution) for img in images])
        latents = spec.encode_latents(pipe, pixels).float()
        cond = spec.encode_prompt(pipe, [img.caption for img in images])
    lora_config = LoraConfig(r=config.rank, lora_alpha=config.rank, init_lora_weights="gaussian",
                             target_modules=_present_targets(transformer, spec.lora_target_modules))
    with warnings.catch_warnings():
        # peft warns when serving adapters already live in the model; that is expected here.
        warnings.filterwarnings("ignore", message="Already found a `peft_config`")
        transformer.add_adapter(lora_config)
    # A resident pipeline may hold serving adapters: train (and sample) with ours alone.
    transformer.set_adapter("default")
    transformer.enable_adapters()
    if config.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    params = [p for p in transformer.parameters() if p.requires_grad]
    for p in params:  # LoRA weights train in fp32 even when the base is bf16 (as the scripts do)
        p.data = p.data.float()
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=1e-4)
    shift = float(getattr(pipe.scheduler.config, "shift", 1.0) or 1.0)
    autocast = device.type == "cuda" and config.mixed_precision == "bf16"

    def flow_loss(x0, c, noise, sigmas):
        noisy = (1 - sigmas.view(-1, 1, 1, 1)) * x0 + sigmas.view(-1, 1, 1, 1) * noise
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            pred = spec.predict_flow(pipe, noisy.to(transformer.dtype), sigmas.to(device), c)
        return torch.nn.functional.mse_loss(pred.float(), (noise - x0).float())

    eval_noise = torch.randn(latents.shape, generator=gen).to(device)
    eval_sigmas = _sigmas(torch.linspace(0.1, 0.9, len(images)), shift).to(device)

    def eval_loss() -> float:
        with torch.no_grad():
            return float(flow_loss(latents.to(device), cond, eval_noise, eval_sigmas))

    before = eval_loss()
    losses, checkpoints, samples = [], [], []
    transformer.train()
    for step in range(1, config.steps + 1):
        idx = torch.randint(len(images), (config.batch_size,), generator=gen)
        x0 = latents[idx].to(device)
        c = tuple(t[idx.to(t.device)] for t in cond)
        noise = torch.randn(x0.shape, generator=gen).to(device)
        sigmas = _sigmas(torch.rand(config.batch_size, generator=gen), shift).to(device)
        loss = flow_loss(x0, c, noise, sigmas)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(float(loss.detach()), 6))
        if on_progress:
            on_progress(step, losses[-1])
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
            checkpoints.append(save_adapter(pipe, transformer, out_dir / f"checkpoint-{step}" / "adapter.safetensors",
                                            metadata={"step": step, "family": family}))
        if config.sample_every and step % config.sample_every == 0:
            samples.append(_sample_grid(pipe, spec, images, config, out_dir / f"samples-{step:05d}.png"))
    transformer.eval()
    after = eval_loss()
    metadata = {
        "family": family, "base_weights_hash": base_weights_hash, "rank": config.rank,
        "steps": config.steps, "config": asdict(config), "loss_curve": losses,
        "eval_loss_before": before, "eval_loss_after": after,
        "target_modules": sorted(lora_config.target_modules),
        "images": [{"name": img.path.name, "sha256": img.sha256, "caption": img.caption} for img in images],
    }
    adapter = save_adapter(pipe, transformer, out_dir / "adapter.safetensors", metadata=metadata)
    transformer.delete_adapters(["default"])
    if config.gradient_checkpointing:
        transformer.disable_gradient_checkpointing()
    return TrainResult(adapter_path=adapter, loss_curve=losses, eval_loss_before=before,
                       eval_loss_after=after, seconds=time.perf_counter() - started,
                       checkpoints=checkpoints, samples=samples, metadata=metadata)


def _sample_grid(pipe, spec, images, config, path: Path) -> Path:
    """Decode a few training captions with the current adapter into one PNG strip."""
    import torch
    from PIL import Image

    prompts = [img.caption for img in images[:4]]
    size = max(spec.size_multiple, config.resolution // spec.size_multiple * spec.size_multiple)
    with torch.no_grad():
        out = pipe(prompt=prompts, width=size, height=size, num_inference_steps=config.sample_steps,
                   generator=[torch.Generator("cpu").manual_seed(i) for i in range(len(prompts))],
                   guidance_scale=1.0, output_type="pil", **spec.call_kwargs(pipe)).images
    grid = Image.new("RGB", (size * len(out), size))
    for i, image in enumerate(out):
        grid.paste(image.resize((size, size)), (i * size, 0))
    grid.save(path)
    return path
