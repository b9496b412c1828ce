from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns: scheduled video runs"

    def ready(self):
        from generation.jobs.signals import job_finished

        from .receivers import on_job_finished

        job_finished.connect(on_job_finished, dispatch_uid="campaigns.on_job_finished")
