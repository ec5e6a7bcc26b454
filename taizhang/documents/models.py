from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    SUPERVISION_ORDER = "supervision_order", _("Supervision order (督办通知书)")
    IMMEDIATE_NOTICE = "immediate_notice", _("Notice to rectify at once (立行立改通知书)")
    TRANSFER_LETTER = "transfer_letter", _("Handover letter (问题移交函)")
    RECOMMENDATION = "recommendation", _("Supervision recommendation (监察建议书)")
    BULLETIN = "bulletin", _("Bulletin (通报)")


class IssuedDocument(models.Model):
    """One official document as issued: its number is drawn once and its files are kept, so every later
    download returns the same bytes (their SHA-256 is recorded) whatever happens to the data behind it.
    `subject_type`/`subject_id` name what it was issued for, e.g. ("handover", audit seq) or
    ("supervision_order", order id); a subject has at most one document of each kind."""

    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    number = models.CharField(_("document number"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=300)
    issuer_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("issued by"))
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="documents", verbose_name=_("case"))
    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.CharField(_("subject"), max_length=40)
    issued_on = models.DateField(_("date of the document"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))
    docx = models.BinaryField(_("Word file"))
    pdf = models.BinaryField(_("PDF file"))
    docx_sha256 = models.CharField(_("SHA-256 of the Word file"), max_length=64)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF file"), max_length=64)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        constraints = [models.UniqueConstraint(fields=["kind", "subject_type", "subject_id"],
                                               name="issued_document_once_per_subject")]

    def __str__(self) -> str:
        return self.number
