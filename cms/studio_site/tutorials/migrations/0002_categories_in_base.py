# Categories moved to the base app; the table and its rows are the same (state only).

import modelcluster.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("base", "0001_initial"),
        ("tutorials", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tutorialpage",
                    name="categories",
                    field=modelcluster.fields.ParentalManyToManyField(
                        blank=True, related_name="tutorials", to="base.category"),
                ),
            ],
            database_operations=[],
        ),
    ]
