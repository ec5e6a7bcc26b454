"""Model rows through statements built once, for the few reads and writes made on every request.

Building a query through the ORM costs several times what the database takes to run it. A hot read
is written out as plain SQL over `columns()` and its values turned back into an instance by `load()`,
converted as the ORM converts them; `insert()` is `save(force_insert=True)` of a new instance with
its INSERT built once per model, and `batch()` sends the inserts of a block together. Neither sends
model signals.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Field, Model

Converter = tuple[int, list[Any], Any]


def column(field: Field[Any, Any]) -> str:
    """The quoted column of a concrete field."""
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(cast(str, field.column))


def columns(model: type[Model], alias: str) -> str:
    """The model's columns, in the order `load()` takes their values, for a SELECT calling its table `alias`."""
    return ", ".join(f"{alias}.{column(field)}" for field in model._meta.concrete_fields)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _converters(model: type[Model], vendor: str) -> list[Converter]:
    """(position, converters, expression) of the fields whose values the ORM converts on this database."""
    db = connections[DEFAULT_DB_ALIAS]
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(model._meta.db_table)
        converters = db.ops.get_db_converters(expression) + field.get_db_converters(db)
        if converters:
            found.append((position, converters, expression))
    return found


def load[M: Model](model: type[M], values: tuple[Any, ...] | list[Any]) -> M:
    """An instance of `model` from the values of its `columns()`, as the ORM would have read it."""
    db = connections[DEFAULT_DB_ALIAS]
    values = list(values)
    for position, converters, expression in _converters(model, db.vendor):
        for convert in converters:
            values[position] = convert(values[position], expression, db)
    return model.from_db(db.alias, _attnames(model), values)


@cache
def _insertable(model: type[Model]) -> list[Field[Any, Any]]:
    meta = model._meta
    return [field for field in meta.local_concrete_fields if field is not meta.auto_field and not field.generated]


# Stock fields that send a value of this exact type to the database unchanged (their preparation is a no-op).
UNCHANGED: dict[type[Field[Any, Any]], type] = {
    models.CharField: str, models.TextField: str, models.BooleanField: bool, models.IntegerField: int,
    models.SmallIntegerField: int, models.BigIntegerField: int, models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int, models.AutoField: int,
    models.BigAutoField: int,
}


@cache
def _insert_plan(model: type[Model]) -> list[tuple[Field[Any, Any], str, type | None, bool]]:
    """Per insertable field: the field, its attribute, the type its values keep unprepared (None or the
    value itself), and whether its `pre_save` does more than read the attribute (e.g. `auto_now`)."""
    plan = []
    for field in _insertable(model):
        stored = field.target_field if isinstance(field, models.ForeignKey) else field
        plan.append((field, field.attname, UNCHANGED.get(type(stored)), type(field).pre_save is not Field.pre_save))
    return plan


@cache
def _insert_statement(model: type[Model], slots: tuple[str, ...]) -> str:
    """The INSERT with each value's slot: `%s`, NULL written in place of a missing value (a new row has
    many, and a prepared statement then serves them all) or a reference to a row inserted before it."""
    meta = model._meta
    names = ", ".join(column(field) for field in _insertable(model))
    returning = f" RETURNING {column(meta.auto_field)}" if meta.auto_field else ""
    table = connections[DEFAULT_DB_ALIAS].ops.quote_name(meta.db_table)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join(slots)}){returning}"


Pending = tuple[Model, tuple[str, list[Any]] | None]
_batch: ContextVar[list[Pending] | None] = ContextVar("rows_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Inserts made in the block are sent when it ends: in one statement on PostgreSQL (one round trip
    instead of one each), one by one elsewhere; nothing is sent if it raises. Until then the new rows have
    no primary key; a foreign key given as an instance inserted earlier in the batch gets its key. Code in
    the block must not read what it writes."""
    if _batch.get() is not None:  # within another batch, which sends these too
        yield
        return
    pending: list[Pending] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        _send(pending)


def insert(obj: Model, *, along: tuple[str, list[Any]] | None = None) -> None:
    """Insert `obj`, a new instance; an automatic primary key is set from the database. `along` is a
    data-modifying statement and its parameters, run in the same round trip on PostgreSQL (a WITH) and just
    before the INSERT elsewhere. Within `batch()` the INSERT waits for the end of the block."""
    pending = _batch.get()
    if pending is not None:
        pending.append((obj, along))
    else:
        _send([(obj, along)])


def _related(field: Field[Any, Any], obj: Model) -> Model | None:
    """The instance a foreign key of `obj` was given, if any."""
    return cast("models.ForeignKey[Any, Any]", field).get_cached_value(obj, None) if field.is_relation else None


Reference = tuple[Model, str, Model]  # a row, the attribute of its foreign key, the row it points at


def _values(obj: Model, db: Any, earlier: dict[int, int],
            references: list[Reference]) -> tuple[tuple[str, ...], list[Any]]:
    """The slots of `obj`'s INSERT and its parameters; `earlier` maps a row of this statement (by id) to
    the WITH that inserts it, and a foreign key to such a row is added to `references`."""
    slots, params = [], []
    for field, attname, unchanged, pre_save in _insert_plan(type(obj)):
        value = field.pre_save(obj, add=True) if pre_save else getattr(obj, attname)
        if value is None and (related := _related(field, obj)) is not None:
            if related.pk is None and id(related) in earlier:
                slots.append(f"(SELECT {column(related._meta.pk)} FROM r{earlier[id(related)]})")
                references.append((obj, attname, related))
                continue
            if related.pk is None:
                raise ValueError(f"{type(obj).__name__}.{field.name} is a row not inserted before it")
            value = related.pk
            setattr(obj, attname, value)
        if unchanged is None or (value is not None and type(value) is not unchanged):
            value = field.get_db_prep_save(value, db)
        if value is None or (value == "" and unchanged is str):  # written out: fewer parameters to bind
            slots.append("NULL" if value is None else "''")
        else:
            slots.append("%s")
            params.append(value)
    return tuple(slots), params


def _send(pending: list[Pending]) -> None:
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql" and (len(pending) > 1 or pending[0][1] is not None):
        with db.cursor() as cursor:
            _send_together(cursor, pending)
    else:
        several = transaction.atomic(using=db.alias, savepoint=False) if len(pending) > 1 else nullcontext()
        with several, db.cursor() as cursor:
            for obj, along in pending:
                if along is not None:
                    cursor.execute(*along)
                slots, params = _values(obj, db, {}, [])
                cursor.execute(_insert_statement(type(obj), slots), params)
                if obj._meta.auto_field:
                    row = cursor.fetchone()
                    assert row is not None
                    obj.pk = row[0]
    for obj, _along in pending:
        obj._state.adding = False
        obj._state.db = db.alias


def _send_together(cursor: Any, pending: list[Pending]) -> None:
    """All the rows and their accompanying statements as data-modifying WITHs of one SELECT of the new keys."""
    parts: list[str] = []
    params: list[Any] = []
    earlier: dict[int, int] = {}
    keyed: list[tuple[Model, str]] = []
    references: list[Reference] = []
    for position, (obj, along) in enumerate(pending):
        if along is not None:
            parts.append(f"a{position} AS ({along[0]})")
            params += along[1]
        slots, values = _values(obj, cursor.db, earlier, references)
        parts.append(f"r{position} AS ({_insert_statement(type(obj), slots)})")
        params += values
        earlier[id(obj)] = position
        if obj._meta.auto_field:
            keyed.append((obj, f"(SELECT {column(obj._meta.auto_field)} FROM r{position})"))
    cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(ref for _obj, ref in keyed) or '1'}", params)
    row = cursor.fetchone()
    assert row is not None
    for (obj, _ref), pk in zip(keyed, row, strict=False):  # nothing keyed: the row is (1,)
        obj.pk = pk
    for obj, attname, related in references:
        setattr(obj, attname, related.pk)
