import pytest

from taizhang.testing import matrix


@pytest.fixture
def extras(world):
    return matrix.build_extras(world)
