from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.cases.models import Case


class SearchDocument(models.Model):
    """One case as the search index sees it. Written only by `search.indexing`.

    `terms` (space-separated, see `search.tokens`) is what the database indexes: on SQLite an FTS5
    table kept in step by triggers, on PostgreSQL a generated tsvector column with a GIN index (both
    created in the migration). `body` holds the folded field texts for the exact substring check."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="search_document",
                                verbose_name=_("case"))
    body = models.TextField(_("indexed text"))
    terms = models.TextField(_("index terms"))

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self) -> str:
        return str(self.case_id)
