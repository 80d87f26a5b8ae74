# A search finds an item by its words in any of the shop's languages: "кружка" finds a mug whose
# Russian name staff wrote, in an English page as in a Russian one (kassa.catalog.selectors).

from django.db import migrations

# The same words as kassa.catalog.models.search_document(), in SQL.
_TEXT = (
    "COALESCE({row}name_en, '') || ' ' || COALESCE({row}name_ru, '') || ' ' || "
    "COALESCE({row}description_en, '') || ' ' || COALESCE({row}description_ru, '')"
)
_WORDS = (
    "to_tsvector('russian'::regconfig, " + _TEXT + ") || to_tsvector('english'::regconfig, " + _TEXT + ")"
)

FORWARDS = f"""
CREATE OR REPLACE FUNCTION catalog_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := {_WORDS.format(row="NEW.")};
    RETURN NEW;
END
$$;
DROP TRIGGER catalog_item_search_vector ON catalog_item;
CREATE TRIGGER catalog_item_search_vector
    BEFORE INSERT OR UPDATE OF name, description, name_en, name_ru, description_en,
        description_ru, search_vector ON catalog_item
    FOR EACH ROW EXECUTE FUNCTION catalog_item_search_vector();
UPDATE catalog_item SET search_vector = {_WORDS.format(row="")};
"""

_OLD_WORDS = """
    to_tsvector('russian'::regconfig, COALESCE({row}name, '') || ' ' || COALESCE({row}description, ''))
    || to_tsvector('english'::regconfig, COALESCE({row}name, '') || ' ' || COALESCE({row}description, ''))
"""

BACKWARDS = f"""
CREATE OR REPLACE FUNCTION catalog_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := {_OLD_WORDS.format(row="NEW.")};
    RETURN NEW;
END
$$;
DROP TRIGGER catalog_item_search_vector ON catalog_item;
CREATE TRIGGER catalog_item_search_vector
    BEFORE INSERT OR UPDATE OF name, description, search_vector ON catalog_item
    FOR EACH ROW EXECUTE FUNCTION catalog_item_search_vector();
UPDATE catalog_item SET search_vector = {_OLD_WORDS.format(row="")};
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_catalog_texts_in_each_language"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARDS), _on_postgresql(BACKWARDS)),
    ]
