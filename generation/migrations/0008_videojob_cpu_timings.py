from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0006_api_video_request_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="videojob",
            name="cpu_timings",
            field=models.JSONField(blank=True, default=dict,
                                   help_text="stage -> CPU seconds (the worker process + the tools it ran: ffmpeg, espeak)"),
        ),
    ]
