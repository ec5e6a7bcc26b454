from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    """A ledger filter a user named and kept: the query string of the ledger list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters",
                             verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("query"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name


class LedgerPreference(models.Model):
    """The ledger columns a user chose to see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_preference",
                                verbose_name=_("user"))
    columns = models.JSONField(_("visible columns"), default=list)

    class Meta:
        verbose_name = _("ledger preference")
        verbose_name_plural = _("ledger preferences")

    def __str__(self) -> str:
        return str(self.user)
