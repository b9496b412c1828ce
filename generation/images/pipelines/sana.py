"""SANA (``SanaPipeline``): the second family, which keeps the registry honest.

Gemma-2 text encoder, a deep-compression autoencoder (32x), linear-attention DiT; recipe as
in diffusers' ``train_dreambooth_lora_sana.py``: latents scaled by the VAE's scaling factor,
``timestep = sigma * 1000``, velocity target. Text-to-image only (no reference images).
"""
from __future__ import annotations

from . import FamilySpec


def _call_kwargs(pipe) -> dict:
    # Resolution binning snaps to the released aspect buckets and breaks small test sizes;
    # the long "complex human instruction" is a prompt-expansion trick we do not want.
    return {"use_resolution_binning": False, "complex_human_instruction": None,
            "max_sequence_length": 128}


def encode_latents(pipe, pixels):
    latents = pipe.vae.encode(pixels.to(pipe.vae.device, pipe.vae.dtype)).latent
    return latents * pipe.vae.config.scaling_factor


def encode_prompt(pipe, prompts: list[str]):
    embeds, mask, _, _ = pipe.encode_prompt(prompts, do_classifier_free_guidance=False,
                                            device=pipe.transformer.device,
                                            complex_human_instruction=None, max_sequence_length=128)
    return embeds, mask


def predict_flow(pipe, noisy, sigmas, cond):
    embeds, mask = cond
    batch = noisy.shape[0]
    return pipe.transformer(noisy, encoder_hidden_states=embeds.expand(batch, -1, -1),
                            encoder_attention_mask=mask.expand(batch, -1),
                            timestep=sigmas * 1000, return_dict=False)[0]


SPEC = FamilySpec(
    name="sana",
    pipeline_class_name="SanaPipeline",
    lora_target_modules=("to_q", "to_k", "to_v"),
    encode_latents=encode_latents,
    encode_prompt=encode_prompt,
    predict_flow=predict_flow,
    to_output_space=lambda pipe, latents: latents,  # the pipeline returns scaled latents
    call_kwargs=_call_kwargs,
    size_multiple=32,
    supports_reference_images=False,
    license_note="SANA: check the checkpoint's licence (NVIDIA research/commercial terms vary)",
    defaults={"steps": 20, "guidance": 4.5},
)
