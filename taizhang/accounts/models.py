from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.roles import ROLE_CHOICES


class User(AbstractUser):
    display_name = models.CharField(_("name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def name(self) -> str:
        return str(self)


class Membership(models.Model):
    """A role held by a user at an organisation. One person may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("user"))
    org = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="memberships",
                            verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)
    title = models.CharField(_("position"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "org", "role"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.org} · {self.get_role_display()}"
