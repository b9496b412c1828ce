"""DreamBooth-style LoRA training for a brand (see ``recipe.train_lora``)."""
from .recipe import TrainConfig, TrainResult, train_lora

__all__ = ["TrainConfig", "TrainResult", "train_lora"]
