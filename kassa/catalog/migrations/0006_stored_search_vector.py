# Search matches a stored column instead of computing each item's words per query: a search
# that matches most of the catalog then costs no text parsing per item (kassa.catalog.selectors).

import django.contrib.postgres.search
from django.db import migrations

# The same words as kassa.catalog.models.search_document(), in SQL: the name and the
# description stemmed as Russian and as English.
_WORDS = """
    to_tsvector('russian'::regconfig, COALESCE({row}name, '') || ' ' || COALESCE({row}description, ''))
    || to_tsvector('english'::regconfig, COALESCE({row}name, '') || ' ' || COALESCE({row}description, ''))
"""

FORWARDS = f"""
CREATE FUNCTION catalog_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := {_WORDS.format(row="NEW.")};
    RETURN NEW;
END
$$;
-- Only writes that touch the words: the stock's UPDATEs on every sale do not parse text.
CREATE TRIGGER catalog_item_search_vector
    BEFORE INSERT OR UPDATE OF name, description, search_vector ON catalog_item
    FOR EACH ROW EXECUTE FUNCTION catalog_item_search_vector();
UPDATE catalog_item SET search_vector = {_WORDS.format(row="")};
-- Without fastupdate, new items go straight into the index rather than a pending list the
-- planner must allow for (until a vacuum), which made it prefer reading the whole table.
CREATE INDEX catalog_item_search_vector ON catalog_item USING gin (search_vector)
    WITH (fastupdate = off);
"""

BACKWARDS = """
DROP INDEX IF EXISTS catalog_item_search_vector;
DROP TRIGGER IF EXISTS catalog_item_search_vector ON catalog_item;
DROP FUNCTION IF EXISTS catalog_item_search_vector();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: psycopg sends the statements as one simple query.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class RemoveIndexOnPostgreSQL(migrations.RemoveIndex):
    """The expression index of migration 0003 was made on PostgreSQL only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_item_requires_shipping"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(_on_postgresql(FORWARDS), _on_postgresql(BACKWARDS)),
        RemoveIndexOnPostgreSQL(model_name="item", name="catalog_item_search"),
    ]
