"""Job lifecycle signals: the demo prints progress from them; webhooks will hook in here."""
from django.dispatch import Signal

# sender=VideoJob, job=..., stage=..., seconds=...
stage_finished = Signal()
# sender=VideoJob, job=... (status succeeded, failed or canceled)
job_finished = Signal()
