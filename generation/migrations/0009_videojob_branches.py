from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0008_videojob_cpu_timings"),
    ]

    operations = [
        migrations.AddField(
            model_name="videojob",
            name="branches",
            field=models.JSONField(blank=True, default=dict, help_text="parallel stage -> its holder and state"),
        ),
    ]
