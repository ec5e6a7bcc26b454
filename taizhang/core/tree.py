"""Materialised-path trees (organisations, categories): a subtree is one index-backed prefix match.
See docs/decisions/0001-materialised-path-trees.md."""

from typing import Any, Self

from django.db import models, transaction


class TreeNode(models.Model):
    """Abstract node: subclasses declare `parent = ForeignKey("self", …)`. `path` is "/1/4/9/"."""

    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    parent: Any

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the path of this node and of its descendants right."""
        old_path = self.path
        with transaction.atomic():
            if self.pk is None:
                super().save(*args, **kwargs)
                kwargs = {}
            self.path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                for node in type(self)._default_manager.filter(path__startswith=old_path).exclude(pk=self.pk):
                    node.path = self.path + node.path[len(old_path):]
                    models.Model.save(node, update_fields=["path"])

    def ancestor_ids(self) -> list[int]:
        """Primary keys from the root down to this node (itself included)."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def is_under(self, other: Self) -> bool:
        return self.path.startswith(other.path)
