from django.db import migrations, models


class AddColumnInPlaceOnSQLite(migrations.AddField):
    """SQLite rebuilds the whole table to add a NOT NULL column, and the rebuild would recreate
    the PostgreSQL-only search index with it. A constant database default lets SQLite add the
    column in place instead, which is all this field needs."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                'ALTER TABLE "catalog_item" ADD COLUMN "requires_shipping" bool NOT NULL DEFAULT 1'
            )
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute('ALTER TABLE "catalog_item" DROP COLUMN "requires_shipping"')
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_item_stock_and_on_sale"),
    ]

    operations = [
        AddColumnInPlaceOnSQLite(
            model_name="item",
            name="requires_shipping",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="Off for digital goods: nothing is sent, so no address is asked for.",
                verbose_name="requires shipping",
            ),
        ),
    ]
