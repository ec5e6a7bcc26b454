"""An enterprise's name or credit code is indexed with its cases: re-index them when it changes."""

from typing import Any

from django.db.models.signals import post_save

from taizhang.cases.models import Case
from taizhang.orgs.models import Enterprise
from taizhang.search.indexing import index_cases


def reindex_enterprise_cases(sender: type[Enterprise], instance: Enterprise, raw: bool = False,
                             **kwargs: Any) -> None:
    if raw:
        return
    ids = Case.enterprises.through.objects.filter(enterprise_id=instance.pk).values_list("case_id", flat=True)
    index_cases(list(ids))


def connect() -> None:
    post_save.connect(reindex_enterprise_cases, sender=Enterprise, dispatch_uid="search.reindex_enterprise_cases")
