import secrets

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def make_id(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """The database's installation id, made with it (kassa.common.installation)."""
    Installation = apps.get_model("common", "Installation")
    if not Installation.objects.exists():
        Installation.objects.create(pk=1, key=secrets.token_hex(8))


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_database_cache"),
    ]

    operations = [
        migrations.CreateModel(
            name="Installation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=32, unique=True, verbose_name="installation id")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
            ],
            options={
                "verbose_name": "installation",
                "verbose_name_plural": "installation",
            },
        ),
        migrations.RunPython(make_id, migrations.RunPython.noop),
    ]
