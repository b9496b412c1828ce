from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation: scripts, voice, shots, video, jobs"

    def ready(self):
        # Every task module, in every process (web included): services never import tasks, they
        # publish by registered name (generation.jobs) or through receivers the tasks modules
        # connect (a new LoRA version is trained), so the tasks must be registered everywhere.
        from generation import tasks  # noqa: F401
