"""New rows written with an INSERT built once per model, for the shop's busiest write.

A Buy click writes five rows (the order, its status change, its line, its payment attempt, its
reservation). Django builds each INSERT afresh, field by field, and that costs the server more
than the database's work on the row. `insert` prepares each field's value exactly as Django's
`save()` does (`pre_save`, then `get_db_prep_save`), but builds the statement once per model and
database. It is for models whose saves nothing listens to (no `save()` of their own, no
`pre_save`/`post_save` receivers): it sends no signals. A value Django would have to compile (a
database default, an expression) falls back to `save()`.
"""

from django.db import connections, router
from django.db.models import Field, Model

# (model, database alias) -> (the INSERT, the fields in its order)
_statements: dict[tuple[type[Model], str], tuple[str, list[Field]]] = {}


def _statement(model: type[Model], alias: str) -> tuple[str, list[Field]]:
    key = (model, alias)
    if key not in _statements:
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = [
            field
            for field in meta.local_concrete_fields
            if field is not meta.auto_field and not field.generated
        ]
        columns = ", ".join(quote(str(field.column)) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - the model's names
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(str(meta.pk.column))}"
        _statements[key] = (sql, fields)
    return _statements[key]


def insert(obj: Model) -> None:
    """Write the new `obj` as `obj.save(force_insert=True)` would, its primary key set after."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    sql, fields = _statement(model, alias)
    values = []
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            obj.save(force_insert=True, using=alias)  # the ORM compiles what SQL alone cannot
            return
        values.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if connection.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            assert row is not None
            pk = row[0]
        else:
            pk = connection.ops.last_insert_id(
                cursor, model._meta.db_table, str(model._meta.pk.column)
            )
    if model._meta.auto_field is not None:
        setattr(obj, model._meta.auto_field.attname, pk)
    obj._state.adding = False
    obj._state.db = alias
