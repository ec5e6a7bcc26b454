"""Ledger export and import jobs: the progress records their owners watch, and saved column mappings.

Jobs are private to their owner: every reader filters by `owner` (selectors), so another user's job
or file is a 404.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.core import clock


class OwnedJob(models.Model):
    """A background job of one user, with the progress and the error they watch."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"))
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @staticmethod
    def _percent(finished: bool, done: int, total: int) -> int:
        if finished:
            return 100
        return min(99, done * 100 // total) if total else 0


class LedgerExport(OwnedJob):
    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV (UTF-8)"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.XLSX)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("rows to write"), default=0)
    written = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.CharField(_("file"), max_length=200, blank=True)  # relative to MEDIA_ROOT
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(OwnedJob.Meta):
        verbose_name = _("ledger export")
        verbose_name_plural = _("ledger exports")
        indexes = [models.Index(fields=["owner", "-created_at"], name="ledger_export_owner")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        return self._percent(self.status == self.Status.DONE, self.written, self.total)


class LedgerImport(OwnedJob):
    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        NEEDS_MAPPING = "needs_mapping", _("Columns to map")
        REFUSED = "refused", _("Refused")
        VALIDATED = "validated", _("Checked")
        COMMITTING = "committing", _("Applying")
        COMMITTED = "committed", _("Applied")
        FAILED = "failed", _("Not applied")

    original_name = models.CharField(_("file name"), max_length=200)
    file = models.CharField(_("file"), max_length=200)  # relative to MEDIA_ROOT
    size = models.PositiveBigIntegerField(_("size"), default=0)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.VALIDATING)
    # Column index in the uploaded sheet -> ledger column key (layout.COLUMN_KEYS); empty for the standard layout.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    found_headers = models.JSONField(_("headers found"), default=list, blank=True)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    creates = models.PositiveIntegerField(_("new cases"), default=0)
    updates = models.PositiveIntegerField(_("updated cases"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged rows"), default=0)
    invalid = models.PositiveIntegerField(_("rows with errors"), default=0)
    notes = models.JSONField(_("notes"), default=list, blank=True)  # file-level remarks (ignored columns, merges)
    error_code = models.CharField(_("error code"), max_length=60, blank=True)
    committed_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta(OwnedJob.Meta):
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")
        indexes = [models.Index(fields=["owner", "-created_at"], name="ledger_import_owner")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def audit_id(self) -> str:
        """What the audit events of this import carry as their request id."""
        return f"ledger-import-{self.pk.hex}"

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.VALIDATING, self.Status.COMMITTING)

    @property
    def is_committed(self) -> bool:
        return self.status == self.Status.COMMITTED

    @property
    def needs_mapping(self) -> bool:
        return self.status == self.Status.NEEDS_MAPPING

    @property
    def may_commit(self) -> bool:
        return self.status == self.Status.VALIDATED and not self.invalid

    @property
    def has_report(self) -> bool:
        return self.status in (self.Status.VALIDATED, self.Status.COMMITTED, self.Status.FAILED,
                               self.Status.COMMITTING)

    @property
    def percent(self) -> int:
        return self._percent(self.status in (self.Status.VALIDATED, self.Status.COMMITTED), self.processed, self.total)


class ImportRow(models.Model):
    """One data row of an uploaded ledger: what it would do (or did) and what is wrong with it."""

    class Action(models.TextChoices):
        CREATE = "create", _("New case")
        UPDATE = "update", _("Update")
        UNCHANGED = "unchanged", _("Unchanged")
        ERROR = "error", _("Error")

    ledger_import = models.ForeignKey(LedgerImport, on_delete=models.CASCADE, related_name="rows")
    sheet = models.CharField(_("sheet"), max_length=31)
    row = models.PositiveIntegerField(_("row"))  # 1-based row number in the sheet
    number = models.CharField(_("case number"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    values = models.JSONField(_("cell values"), default=dict)  # column key -> value as read (dates as ISO text)
    changes = models.JSONField(_("changes"), default=list)  # [{"column", "old", "new"}]
    problems = models.JSONField(_("problems"), default=list)  # [{"column", "code", "message", "error"}]

    class Meta:
        ordering = ["pk"]
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")

    def __str__(self) -> str:
        return f"{self.sheet}!{self.row}"

    @property
    def errors(self) -> list[dict[str, str]]:
        return [p for p in self.problems if p.get("error")]

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [p for p in self.problems if not p.get("error")]


class ColumnMapping(models.Model):
    """How the columns of a user's own spreadsheet layout map onto the ledger columns, kept for next time."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"))
    name = models.CharField(_("name"), max_length=60)
    columns = models.JSONField(_("columns"), default=dict)  # header text in the user's file -> ledger column key
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="ledger_mapping_unique_name")]

    def __str__(self) -> str:
        return self.name
