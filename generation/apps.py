from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation: scripts, voice, shots, video, jobs"

    def ready(self):
        # Connects the receivers that queue work for a service's events (a new LoRA version is
        # trained): services never import tasks, so the tasks module must be loaded in every process.
        from generation.images import tasks  # noqa: F401
