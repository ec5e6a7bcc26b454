import pytest
from django.core.exceptions import ValidationError

from taizhang.cases.models import Category
from taizhang.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def make(name, parent=None):
    return Organisation.objects.create(name=name, kind=Organisation.Kind.DEPARTMENT, parent=parent)


def test_paths_follow_the_tree_and_moves_carry_the_subtree():
    city, district, other = make("市"), make("区"), make("另一区")
    bureau = make("局", district)
    section = make("科", bureau)
    assert section.path == f"/{district.pk}/{bureau.pk}/{section.pk}/"
    assert set(district.subtree()) == {district, bureau, section}

    bureau.parent = other
    bureau.save()
    section.refresh_from_db()
    assert section.path == f"/{other.pk}/{bureau.pk}/{section.pk}/"
    assert set(district.subtree()) == {district}
    assert list(section.ancestors()) == [other, bureau, section]
    assert section.is_under(other)
    assert not section.is_under(city)


def test_an_organisation_cannot_be_moved_under_its_own_subtree():
    district = make("区")
    bureau = make("局", district)
    district.parent = bureau
    with pytest.raises(ValidationError):
        district.full_clean()


def test_category_full_name_and_ancestors():
    root = Category.objects.create(name="营商环境")
    mid = Category.objects.create(name="要素保障", parent=root)
    leaf = Category.objects.create(name="供电", parent=mid)
    assert leaf.full_name == "营商环境 › 要素保障 › 供电"
    assert leaf.ancestor_ids() == [root.pk, mid.pk, leaf.pk]
