from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='rejected_facts',
            field=models.JSONField(blank=True, default=list,
                                   help_text='[{field, value, reason}] found on the page and refused'),
        ),
    ]
