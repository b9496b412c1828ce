"""Tiny random pipelines of the real classes, for tests, CPU benchmarks and demos.

Same classes as the released checkpoints (so the real loading, LoRA and training code runs)
with 1-block transformers, 1-level VAEs and 2-layer text encoders; tokenizers are the
pipeline's own tokenizer class trained on an in-code corpus (no files, no network).
``build_tiny(family, out_dir)`` writes a diffusers directory loadable with
``from_pretrained(out_dir)`` under ``HF_HUB_OFFLINE=1``. Random weights: decoded pixels are
noise; assert on latents.
"""
from __future__ import annotations

from pathlib import Path

CORPUS = [
    "a product photo of a sneaker on a white background", "studio shot of a glass bottle",
    "a person holding a leather bag in a sunny street", "close-up detail of stitching",
    "lifestyle photo of a coffee mug on a wooden table", "brand style sks product photo",
    "a model wearing a red jacket", "minimal pastel studio with soft shadows and a podium",
    "empty studio backdrop, soft light, no product", "photo of sks person smiling",
] * 8

_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _flux2_klein(seed: int):
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline, Flux2Transformer2DModel
    from transformers import Qwen2TokenizerFast, Qwen3Config, Qwen3ForCausalLM

    tokenizer = Qwen2TokenizerFast().train_new_from_iterator(
        CORPUS, vocab_size=512, new_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.chat_template = _CHAT_TEMPLATE
    torch.manual_seed(seed)
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=16, timestep_guidance_channels=256,
        axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False)
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        intermediate_size=16, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, head_dim=8, vocab_size=512, max_position_embeddings=512))
    vae = AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1,
        latent_channels=1, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False)
    return Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                              text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer)


def _sana(seed: int):
    import torch
    from diffusers import AutoencoderDC, FlowMatchEulerDiscreteScheduler, SanaPipeline, SanaTransformer2DModel
    from transformers import Gemma2Config, Gemma2Model, GemmaTokenizerFast

    tokenizer = GemmaTokenizerFast().train_new_from_iterator(CORPUS, vocab_size=512)
    torch.manual_seed(seed)
    transformer = SanaTransformer2DModel(
        patch_size=1, in_channels=4, out_channels=4, num_layers=1, num_attention_heads=2,
        attention_head_dim=4, num_cross_attention_heads=2, cross_attention_head_dim=4,
        cross_attention_dim=8, caption_channels=8, sample_size=32)
    vae = AutoencoderDC(
        in_channels=3, latent_channels=4, attention_head_dim=2,
        encoder_block_types=("ResBlock", "EfficientViTBlock"), decoder_block_types=("ResBlock", "EfficientViTBlock"),
        encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
        encoder_qkv_multiscales=((), (5,)), decoder_qkv_multiscales=((), (5,)),
        encoder_layers_per_block=(1, 1), decoder_layers_per_block=[1, 1], downsample_block_type="conv",
        upsample_block_type="interpolate", decoder_norm_types="rms_norm", decoder_act_fns="silu",
        scaling_factor=0.41407)
    text_encoder = Gemma2Model(Gemma2Config(
        head_dim=16, hidden_size=8, intermediate_size=64, max_position_embeddings=8192,
        num_attention_heads=2, num_hidden_layers=1, num_key_value_heads=2, vocab_size=512,
        attn_implementation="eager"))
    return SanaPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


BUILDERS = {"flux2-klein": _flux2_klein, "sana": _sana}


def build_tiny(family: str, out_dir: Path | str, *, seed: int = 0) -> Path:
    """Write a tiny random ``family`` pipeline to ``out_dir`` and return the directory."""
    if family not in BUILDERS:
        raise ValueError(f"no tiny builder for family {family!r}; known: {sorted(BUILDERS)}")
    out_dir = Path(out_dir)
    BUILDERS[family](seed).save_pretrained(out_dir)
    return out_dir
