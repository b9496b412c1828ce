"""FLUX.2 [klein] (``Flux2KleinPipeline``): the default family.

Apache-2.0 4B weights, a Qwen3 text encoder, and multi-reference ``image=`` input used for
model shots ("this person with this product"). The recipe mirrors diffusers'
``train_dreambooth_lora_flux2_klein.py``: VAE latents are patchified and batch-normalised
(``_encode_vae_image``), packed into tokens with 4-D position ids, and the transformer
predicts the flow velocity at ``timestep = sigma``.
"""
from __future__ import annotations

from . import FamilySpec

DEFAULT_OUT_LAYERS = (9, 18, 27)


def text_encoder_out_layers(pipe) -> tuple[int, ...]:
    """Hidden layers whose states form the prompt embedding. The released models use
    (9, 18, 27); a smaller encoder (tests, distilled variants) gets evenly spaced layers whose
    concatenation matches the transformer's ``joint_attention_dim``."""
    n_layers = pipe.text_encoder.config.num_hidden_layers
    if max(DEFAULT_OUT_LAYERS) <= n_layers:
        return DEFAULT_OUT_LAYERS
    k = max(1, pipe.transformer.config.joint_attention_dim // pipe.text_encoder.config.hidden_size)
    return tuple(max(1, round(n_layers * (i + 1) / k)) for i in range(k))


def _call_kwargs(pipe) -> dict:
    return {"text_encoder_out_layers": text_encoder_out_layers(pipe), "max_sequence_length": 128}


def encode_latents(pipe, pixels):
    return pipe._encode_vae_image(pixels.to(pipe.vae.device, pipe.vae.dtype), generator=None)


def encode_prompt(pipe, prompts: list[str]):
    embeds, text_ids = pipe.encode_prompt(prompts, device=pipe.transformer.device,
                                          text_encoder_out_layers=text_encoder_out_layers(pipe),
                                          max_sequence_length=128)
    return embeds, text_ids


def predict_flow(pipe, noisy, sigmas, cond):
    embeds, text_ids = cond
    batch, channels, height, width = noisy.shape
    ids = pipe._prepare_latent_ids(noisy).to(noisy.device)
    packed = pipe._pack_latents(noisy)
    out = pipe.transformer(hidden_states=packed, timestep=sigmas.to(noisy.dtype), guidance=None,
                           encoder_hidden_states=embeds.expand(batch, -1, -1),
                           txt_ids=text_ids.expand(batch, -1, -1), img_ids=ids, return_dict=False)[0]
    return out.reshape(batch, height, width, channels).permute(0, 3, 1, 2)


def to_output_space(pipe, latents):
    """Undo the batch-norm and patchify, as the pipeline does before ``output_type="latent"``."""
    import torch

    mean = pipe.vae.bn.running_mean.view(1, -1, 1, 1).to(latents)
    std = torch.sqrt(pipe.vae.bn.running_var.view(1, -1, 1, 1) + pipe.vae.config.batch_norm_eps).to(latents)
    return pipe._unpatchify_latents(latents * std + mean)


SPEC = FamilySpec(
    name="flux2-klein",
    pipeline_class_name="Flux2KleinPipeline",
    lora_target_modules=("to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj",
                         "add_v_proj", "to_add_out", "to_qkv_mlp_proj"),
    encode_latents=encode_latents,
    encode_prompt=encode_prompt,
    predict_flow=predict_flow,
    to_output_space=to_output_space,
    call_kwargs=_call_kwargs,
    size_multiple=16,
    supports_reference_images=True,
    license_note="FLUX.2 [klein] 4B: Apache-2.0",
    defaults={"steps": 4, "guidance": 1.0},
)
