"""Race-safe public numbers: an UPDATE takes the counter row's lock until the transaction ends, so
concurrent writers queue on it and never draw the same number. Drawing is one statement
(`UPDATE … RETURNING`); only the first number of a prefix and year inserts the row."""

from django.db import IntegrityError, connection, transaction

from taizhang.core.models import NumberSequence


def _increment(prefix: str, year: int) -> int | None:
    """The counter after adding one, or None when the prefix and year have no row yet."""
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "last" = "last" + 1 WHERE "prefix" = %s AND "year" = %s '
                       'RETURNING "last"', [prefix, year])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def next_in_sequence(prefix: str, year: int) -> int:
    drawn = _increment(prefix, year)
    if drawn is not None:
        return drawn
    try:
        with transaction.atomic():
            NumberSequence.objects.create(prefix=prefix, year=year, last=1)
        return 1
    except IntegrityError:  # a concurrent first draw created the row: queue on its lock
        return next_in_sequence(prefix, year)


def next_public_number(prefix: str, year: int) -> str:
    return f"{prefix}-{year}-{next_in_sequence(prefix, year):04d}"
