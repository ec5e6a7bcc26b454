
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.core.credit_code import normalise, validate_credit_code
from taizhang.core.tree import TreeNode


class Organisation(TreeNode):
    """A node of the organisation tree. `path` is the materialised path of primary keys
    ("/1/4/9/"), so a subtree is one index-backed prefix match."""

    class Kind(models.TextChoices):
        SUPERVISORY = "supervisory", _("Supervisory body")
        INSPECTION_GROUP = "inspection_group", _("Inspection group")
        PARTY_COMMITTEE = "party_committee", _("Party committee")
        GOVERNMENT = "government", _("Government")
        DEPARTMENT = "department", _("Department")
        EXTERNAL = "external", _("External organisation")
        ENTERPRISE = "enterprise", _("Enterprise")

    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent organisation"))
    code = models.CharField(_("number prefix"), max_length=20, blank=True,
                            help_text=_("Prefix of public case numbers for a supervisory body, e.g. CC."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name

    def clean(self) -> None:
        if self.pk and self.parent and (self.parent.pk == self.pk or self.parent.path.startswith(self.path)):
            raise ValidationError({"parent": _("An organisation cannot be placed under itself.")})

    def subtree(self) -> "models.QuerySet[Organisation]":
        return Organisation.objects.filter(path__startswith=self.path)

    def ancestors(self) -> "models.QuerySet[Organisation]":
        return Organisation.objects.filter(pk__in=self.ancestor_ids()).order_by("path")


class Enterprise(models.Model):
    """The profile of an enterprise; its organisation node is where enterprise users belong."""

    class Scale(models.TextChoices):
        LARGE = "large", _("Large")
        MEDIUM = "medium", _("Medium")
        SMALL = "small", _("Small")
        MICRO = "micro", _("Micro")

    org = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="enterprise",
                               verbose_name=_("organisation"))
    name = models.CharField(_("name"), max_length=120, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True,
                                   validators=[validate_credit_code])
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    liaisons = models.ManyToManyField(settings.AUTH_USER_MODEL, through="LiaisonAssignment",
                                      related_name="portfolio", blank=True, verbose_name=_("liaison officers"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.credit_code = normalise(self.credit_code)


class EnterpriseTag(models.Model):
    class Tag(models.TextChoices):
        LITTLE_GIANT = "little_giant", _('Specialised and sophisticated "little giant"')
        SRDI = "srdi", _("Specialised, refined, distinctive and innovative SME")
        HIGH_TECH = "high_tech", _("High-tech enterprise")
        TECH_SME = "tech_sme", _("Technology-based SME")
        INNOVATIVE_SME = "innovative_sme", _("Innovative SME")

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        MUNICIPAL = "municipal", _("Municipal")
        DISTRICT = "district", _("District")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="tags",
                                   verbose_name=_("enterprise"))
    tag = models.CharField(_("tag"), max_length=20, choices=Tag.choices)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    granted_on = models.DateField(_("granted on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("enterprise tag")
        verbose_name_plural = _("enterprise tags")
        constraints = [models.UniqueConstraint(fields=["enterprise", "tag", "level"], name="enterprise_tag_unique")]
        indexes = [models.Index(fields=["tag", "level"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()}{self.get_tag_display()}"


class LiaisonAssignment(models.Model):
    """A liaison officer's (助企专员) responsibility for an enterprise: the portfolio."""

    liaison = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="liaison_assignments", verbose_name=_("liaison officer"))
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="liaison_assignments",
                                   verbose_name=_("enterprise"))
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        verbose_name = _("liaison portfolio entry")
        verbose_name_plural = _("liaison portfolio")
        constraints = [models.UniqueConstraint(fields=["liaison", "enterprise"], name="liaison_unique")]

    def __str__(self) -> str:
        return f"{self.liaison} → {self.enterprise}"


class InspectionRound(models.Model):
    """巡察轮次: a round of inspection by a group at target organisations."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular")
        MOBILE = "mobile", _("Mobile")
        SPECIAL = "special", _("Special")
        LOOKBACK = "lookback", _("Look-back")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    group = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="inspection_rounds",
                              limit_choices_to={"kind": Organisation.Kind.INSPECTION_GROUP},
                              verbose_name=_("inspection group"))
    targets = models.ManyToManyField(Organisation, related_name="inspected_in", blank=True,
                                     verbose_name=_("inspected organisations"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="round_period_valid")]

    def __str__(self) -> str:
        return self.name
