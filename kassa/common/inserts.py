"""New rows written with an INSERT built once per model, for the shop's busiest write.

A Buy click writes five rows (the order, its status change, its line, its payment attempt, its
reservation). Django builds each INSERT afresh, field by field, and that costs the server more
than the database's work on the row. `insert` prepares each field's value exactly as Django's
`save()` does (`pre_save`, then `get_db_prep_save`), but builds the statement once per model and
database. It is for models whose saves nothing listens to (no `save()` of their own, no
`pre_save`/`post_save` receivers): it sends no signals. A value Django would have to compile (a
database default, an expression) falls back to `save()`.

`Together` writes such rows, and one UPDATE after them, in one statement on PostgreSQL (a
data-modifying WITH): the Buy click's five INSERTs and its stock's UPDATE are one round trip
rather than six, each of which costs the server about as much CPU as the database's work on it.
Elsewhere (SQLite has no data-modifying WITH) they are written one by one, as `insert` writes.
"""

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Field, ForeignKey, Model
from psycopg.pq import TransactionStatus

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


def _values(obj: Model, fields: list[Field], alias: str) -> list[Any] | None:
    """The row's values as `save()` prepares them; None if one is for the ORM to compile."""
    connection = connections[alias]
    values = []
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            return None
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _set_written(obj: Model, pk: Any, alias: str) -> None:
    auto_field = type(obj)._meta.auto_field
    if auto_field is not None:
        setattr(obj, auto_field.attname, pk)
    obj._state.adding = False
    obj._state.db = alias


def insert(obj: Model) -> None:
    """Write the new `obj` as `obj.save(force_insert=True)` would, its primary key set after."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    sql, fields = _statement(model, alias)
    values = _values(obj, fields, alias)
    if values is None:
        obj.save(force_insert=True, using=alias)  # the ORM compiles what SQL alone cannot
        return
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
    _set_written(obj, pk, alias)


def _foreign_keys(model: type[Model], alias: str) -> list[tuple[int, ForeignKey]]:
    """The foreign keys among the fields `_statement` writes, with their places in it."""
    key = (model, alias)
    if key not in _links:
        _, fields = _statement(model, alias)
        _links[key] = [(n, f) for n, f in enumerate(fields) if isinstance(f, ForeignKey)]
    return _links[key]


_links: dict[tuple[type[Model], str], list[tuple[int, ForeignKey]]] = {}


def _parents(obj: Model, rows: Sequence[Model], alias: str) -> tuple[tuple[int, int], ...]:
    """(place of the field, which of `rows`) for each foreign key of `obj` that was given one of
    `rows` still unwritten (its id is then the database's to tell)."""
    found = []
    for place, field in _foreign_keys(type(obj), alias):
        if getattr(obj, field.attname) is not None or not field.is_cached(obj):
            continue
        target = field.get_cached_value(obj)
        parent = next((n for n, row in enumerate(rows) if row is target), None)
        if parent is not None:
            found.append((place, parent))
    return tuple(found)


class Together:
    """New rows, added in the order they must be written, then written at once by `write`: a
    row whose foreign key was given a row added before it gets that row's id. What holds for
    `insert` holds for each row.

    `ends_transaction`: the caller's transaction writes nothing but these rows, and the last
    `write` (with `then`) is the last thing in it to undo if `then` finds no row. That write then
    ends the transaction itself, where the database can (PostgreSQL) and the transaction is the
    connection's outermost: the row `then` locks (a popular item's) is not held while the server
    takes its turn to send the COMMIT (at 64 clicks at once, 12 of them were found waiting for
    it). If nothing was sent in the transaction yet, its statement is the whole transaction and
    runs as one, without the BEGIN and COMMIT round trips around it; else the COMMIT goes in the
    statement's own round trip.
    """

    def __init__(self, *, ends_transaction: bool = False) -> None:
        self._rows: list[Model] = []
        self._after: list[Callable[[], None]] = []
        self.ends_transaction = ends_transaction
        # Whether a write ended the transaction (its statement carried the COMMIT), whatever
        # `then` found: what follows runs in a new one.
        self.committed = False
        self._wrote = False

    def add(self, obj: Model) -> None:
        self._rows.append(obj)

    def discard(self, obj: Model) -> bool:
        """Take `obj` back if it is not written yet; whether it was waiting."""
        waiting = any(row is obj for row in self._rows)
        self._rows = [row for row in self._rows if row is not obj]
        return waiting

    def when_written(self, call: Callable[[], None]) -> None:
        """Call `call` once the rows added so far are written (a log line naming their ids)."""
        self._after.append(call)

    def write(
        self, then: tuple[str, list[Any]] | None = None, *, last: bool = False
    ) -> tuple[Any, ...] | None:
        """Write the rows added. With `then` (an UPDATE ... RETURNING and its parameters),
        `then` runs first, in the same statement on PostgreSQL, and the rows are written only if
        it gives a row (else they wait for the next call): its first row is returned, or None.
        `last`: nothing after this write is to be undone with it (see `ends_transaction`)."""
        rows, after = self._rows, self._after
        alias = router.db_for_write(type(rows[0]), instance=rows[0]) if rows else DEFAULT_DB_ALIAS
        ending = self._ending(alias) if last and then is not None else Ending.GOES_ON
        statement = _together(rows, alias, then, ending) if rows else None
        if statement is None:
            found, written = _one_by_one(rows, alias, then)
        else:
            found, written = _in_one(rows, alias, statement, then is not None, ending)
            self.committed = self.committed or ending is not Ending.GOES_ON
        if written:
            self._rows, self._after, self._wrote = [], [], True
            for call in after:
                call()
        return found

    def _ending(self, alias: str) -> "Ending":
        """How the last write ends the transaction, if it is this write's to end."""
        connection = connections[alias]
        if not (
            self.ends_transaction
            and not self._wrote
            and not self.committed
            and connection.vendor == "postgresql"
            and connection.in_atomic_block
            and len(connection.atomic_blocks) == 1
            and connection.commit_on_exit
            and not connection.needs_rollback
            and not connection.savepoint_ids
        ):
            return Ending.GOES_ON
        connection.ensure_connection()
        # psycopg sends BEGIN with a transaction's first statement: none has gone yet.
        if connection.connection.info.transaction_status == TransactionStatus.IDLE:
            return Ending.ALONE
        # Two statements in one query need the simple protocol: Django's client-side binding,
        # not `server_side_binding`, which prepares each query as one statement.
        if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
            return Ending.GOES_ON
        return Ending.COMMITS


class Ending(Enum):
    """How a write ends its transaction."""

    GOES_ON = "it does not"
    ALONE = "its statement is the whole transaction, run without BEGIN"
    COMMITS = "the COMMIT follows its statement in the same query"


def _point_at_parents(obj: Model, rows: list[Model], alias: str) -> None:
    _, fields = _statement(type(obj), alias)
    for place, parent in _parents(obj, rows, alias):
        setattr(obj, fields[place].attname, rows[parent].pk)


def _one_by_one(
    rows: list[Model], alias: str, then: tuple[str, list[Any]] | None
) -> tuple[tuple[Any, ...] | None, bool]:
    found = None
    if then is not None:
        with connections[alias].cursor() as cursor:
            cursor.execute(*then)
            row = cursor.fetchone()
        if row is None:
            return None, False
        found = tuple(row)
    for n, obj in enumerate(rows):
        _point_at_parents(obj, rows[:n], alias)
        insert(obj)
    return found, True


# (alias, then's SQL, whether the COMMIT follows, each row's model, parents and literals)
# -> the WITH
_withs: dict[tuple[Any, ...], str] = {}


def _together(
    rows: list[Model], alias: str, then: tuple[str, list[Any]] | None, ending: Ending
) -> tuple[str, list[Any]] | None:
    """One data-modifying WITH: `then` first, then `rows` (each only if `then` gave a row), the
    rows' ids and then's row selected; and the COMMIT after it, in the same round trip, if
    `ending` says so. None where the database cannot, or a value is for the ORM to compile. Its
    SQL is built once for each shape (the rows' models, which row each points at, `then`)."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or any(
        router.db_for_write(type(obj), instance=obj) != alias for obj in rows
    ):
        return None
    params = list(then[1]) if then is not None else []
    shape = []
    for n, obj in enumerate(rows):
        _, fields = _statement(type(obj), alias)
        values = _values(obj, fields, alias)
        if values is None:
            return None
        parents = _parents(obj, rows[:n], alias)
        taken = {place for place, _ in parents}
        literals = tuple(
            (place, literal)
            for place, value in enumerate(values)
            if place not in taken and (literal := _literal(value)) is not None
        )
        taken.update(place for place, _ in literals)
        params.extend(value for place, value in enumerate(values) if place not in taken)
        shape.append((type(obj), parents, literals))
    commit = ending is Ending.COMMITS
    key = (alias, then[0] if then is not None else None, commit, tuple(shape))
    sql = _withs.get(key)
    if sql is None:
        if len(_withs) >= _WITHS_KEPT:  # shapes are few; never let odd data grow it for ever
            _withs.clear()  # (another thread's SQL is in its own hands, not looked up again)
        sql = _withs[key] = _with_sql(alias, key[1], shape, commit=commit)
    return sql, params


_WITHS_KEPT = 256


def _literal(value: object) -> str | None:
    """An empty value as psycopg's client-side binding writes it into the query (NULL, '',
    true, false), or None to send it as a parameter. Most of a click's fields are empty, and
    without them its statement has at most 50 parameters, the most psycopg keeps a statement's
    parsing for: with more, it parsed the whole statement again on every click."""
    if value is None:
        return "NULL"
    if value is True or value is False:  # by identity: 1 == True, 0 == False
        return "true" if value else "false"
    # By exact type: a str subclass (a model's choice) is left to its parameter.
    return "''" if type(value) is str and not value else None


def _with_sql(
    alias: str,
    then: str | None,
    shape: list[tuple[type[Model], tuple[tuple[int, int], ...], tuple[tuple[int, str], ...]]],
    *,
    commit: bool,
) -> str:
    quote = connections[alias].ops.quote_name
    parts = [f"then_ AS ({then})"] if then is not None else []
    for n, (model, parents, literals) in enumerate(shape):
        _, fields = _statement(model, alias)
        placeholders = ["%s"] * len(fields)
        for place, parent in parents:
            pk = quote(str(shape[parent][0]._meta.pk.column))
            placeholders[place] = f"(SELECT {pk} FROM written_{parent})"  # noqa: S608
        for place, literal in literals:
            placeholders[place] = literal
        meta = model._meta
        columns = ", ".join(quote(str(field.column)) for field in fields)
        # After `then`, a row is written once per row of then's: once, or not at all.
        source = (
            f"SELECT {', '.join(placeholders)} FROM then_"  # noqa: S608 - placeholders
            if then is not None
            else f"VALUES ({', '.join(placeholders)})"
        )
        parts.append(
            f"written_{n} AS (INSERT INTO {quote(meta.db_table)} ({columns}) {source}"
            f" RETURNING {quote(str(meta.pk.column))} AS id)"
        )
    ids = ", ".join(f"(SELECT id FROM written_{n})" for n in range(len(shape)))  # noqa: S608
    if then is None:
        return f"WITH {', '.join(parts)} SELECT {ids}"
    # then's row, if it gave one, after the ids and a count telling "no row" from NULLs.
    sql = (
        f"WITH {', '.join(parts)} SELECT {ids}, (SELECT count(*) FROM then_), then_.*"  # noqa: S608
        " FROM (SELECT 1) AS one LEFT JOIN then_ ON true"
    )
    return sql + "; COMMIT" if commit else sql


def _in_one(
    rows: list[Model],
    alias: str,
    statement: tuple[str, list[Any]],
    has_then: bool,
    ending: Ending,
) -> tuple[tuple[Any, ...] | None, bool]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        if ending is Ending.ALONE:
            # One statement is a transaction of its own: psycopg sends it without BEGIN, and
            # the block's COMMIT at its end finds nothing to commit (no round trip either).
            raw = connection.connection
            raw.autocommit = True
            try:
                cursor.execute(*statement)
            finally:
                # A connection lost in the statement cannot be switched back (and is closed
                # for its error): what it raised is the error to see.
                if raw.info.transaction_status == TransactionStatus.IDLE:
                    raw.autocommit = False
        else:
            cursor.execute(*statement)
        written = cursor.fetchone()
    assert written is not None  # the SELECT gives one row
    if has_then and not written[len(rows)]:
        return None, False  # then gave no row: nothing was written
    for n, obj in enumerate(rows):
        _set_written(obj, written[n], alias)
        _point_at_parents(obj, rows[:n], alias)
    if not has_then:
        return None, True
    return tuple(written[len(rows) + 1 :]), True
