from django.db import migrations, models


class Migration(migrations.Migration):
    """Reliability: when the current stage's run began (the sweeper fails a stage whose worker
    died after it ran past its hard time limit, instead of running it again)."""

    dependencies = [
        ("generation", "0002_lora"),
    ]

    operations = [
        migrations.AddField(
            model_name="videojob",
            name="stage_started_at",
            field=models.DateTimeField(blank=True, help_text="when the current stage's run began", null=True),
        ),
    ]
