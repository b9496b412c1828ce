from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0003_videojob_stage_started_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="videojob",
            name="cpu_timings",
            field=models.JSONField(blank=True, default=dict,
                                   help_text="stage -> CPU seconds (the worker process + the tools it ran: ffmpeg, espeak)"),
        ),
    ]
