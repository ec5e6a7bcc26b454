import pytest
from django.urls import reverse

from taizhang.cases.models import Category
from taizhang.sla.models import TimeLimit


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_time_limit_list_shows_any_category_and_the_basis(admin_client, db):
    category = Category.objects.create(name="供电")
    TimeLimit.objects.create(clock="completion", category=category, mode="deadline", amount=10, basis="区级规定")
    page = admin_client.get(reverse("admin:sla_timelimit_changelist"))
    assert page.status_code == 200
    assert page.context["cl"].result_count == TimeLimit.objects.count()
    text = page.content.decode()
    assert "区级规定" in text
    assert "北京市接诉即办" in text
