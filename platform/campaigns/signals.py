"""Campaign signals. ``campaign_run_completed`` is sent once per run, after the transaction
that marked it finished commits: sender=CampaignRun, run=..., summary=dict (as in the webhook)."""
from django.dispatch import Signal

campaign_run_completed = Signal()
