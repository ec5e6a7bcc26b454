"""Race-safe public numbers: an UPDATE takes the counter row's lock until the transaction ends, so
concurrent writers queue on it and never draw the same number."""

from django.db import IntegrityError, transaction
from django.db.models import F

from taizhang.core.models import NumberSequence


def next_in_sequence(prefix: str, year: int) -> int:
    with transaction.atomic():
        updated = (
            NumberSequence.objects.filter(prefix=prefix, year=year)
            .update(last=F("last") + 1)
        )
        if not updated:
            try:
                with transaction.atomic():
                    NumberSequence.objects.create(prefix=prefix, year=year, last=1)
                return 1
            except IntegrityError:
                NumberSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        return NumberSequence.objects.values_list("last", flat=True).get(prefix=prefix, year=year)


def next_public_number(prefix: str, year: int) -> str:
    return f"{prefix}-{year}-{next_in_sequence(prefix, year):04d}"
