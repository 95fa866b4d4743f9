# Categories moved to the base app (blog and tutorials share them). The table blog_category
# stays where it is, so this changes Django's state only.

import modelcluster.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("base", "0001_initial"),
        ("blog", "0001_initial"),
        # tutorials must point at base.Category before blog's Category leaves the state
        ("tutorials", "0002_categories_in_base"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="blogpage",
                    name="categories",
                    field=modelcluster.fields.ParentalManyToManyField(
                        blank=True, related_name="posts", to="base.category"),
                ),
                migrations.DeleteModel(name="Category"),
            ],
            database_operations=[],
        ),
    ]
