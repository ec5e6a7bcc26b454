"""Model rows through statements built once, for the few reads and writes made on every request.

Building a query through the ORM costs several times what the database takes to run it. A hot read
is written out as plain SQL over `columns()` and its values turned back into an instance by `load()`,
converted as the ORM converts them; `insert()` is `save(force_insert=True)` of a new instance with
its INSERT built once per model. Neither sends model signals.
"""

from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections, models
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
def _insert_statement(model: type[Model], vendor: str, nulls: tuple[bool, ...]) -> str:
    """The INSERT with NULL written in place of the missing values: a new row has many, and psycopg
    keeps a parsed statement for reuse only up to 50 parameters."""
    meta = model._meta
    names = ", ".join(column(field) for field in _insertable(model))
    values = ", ".join("NULL" if null else "%s" for null in nulls)
    returning = f" RETURNING {column(meta.auto_field)}" if meta.auto_field else ""
    table = connections[DEFAULT_DB_ALIAS].ops.quote_name(meta.db_table)
    return f"INSERT INTO {table} ({names}) VALUES ({values}){returning}"


def insert(obj: Model, *, along: tuple[str, list[Any]] | None = None) -> None:
    """Insert `obj`, a new instance; an automatic primary key is set from the database. `along` is a
    data-modifying statement and its parameters, run in the same round trip on PostgreSQL (a WITH) and just
    before the INSERT elsewhere."""
    model, db = type(obj), connections[DEFAULT_DB_ALIAS]
    values = []
    for field, attname, unchanged, pre_save in _insert_plan(model):
        value = field.pre_save(obj, add=True) if pre_save else getattr(obj, attname)
        if unchanged is None or (value is not None and type(value) is not unchanged):
            value = field.get_db_prep_save(value, db)
        values.append(value)
    statement = _insert_statement(model, db.vendor, tuple(value is None for value in values))
    params = [value for value in values if value is not None]
    with db.cursor() as cursor:
        if along is not None and db.vendor == "postgresql":
            statement, params = f"WITH along AS ({along[0]}) {statement}", [*along[1], *params]
        elif along is not None:
            cursor.execute(*along)
        cursor.execute(statement, params)
        if model._meta.auto_field:
            row = cursor.fetchone()
            assert row is not None
            obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = db.alias
