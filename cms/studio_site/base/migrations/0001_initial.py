# Categories moved here from the blog app (blog and tutorials both use them). The table
# stays blog_category, so this only changes Django's state, plus the content type, which
# carries the editors' category permissions over to the new app label.

from django.db import migrations, models


def move_content_type(apps, schema_editor, old="blog", new="base"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=new, model="category").exists():
        return
    ContentType.objects.filter(app_label=old, model="category").update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="base", new="blog")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("blog", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Category",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=80, unique=True)),
                        ("slug", models.SlugField(max_length=80, unique=True)),
                    ],
                    options={
                        "verbose_name_plural": "categories",
                        "db_table": "blog_category",
                        "ordering": ["name"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
