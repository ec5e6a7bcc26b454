import pytest
import time_machine

from taizhang.testing import matrix


@pytest.fixture
def at_moment():
    with time_machine.travel(matrix.MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(world, at_moment):
    return matrix.Cast.own(world)


@pytest.fixture
def extras(world):
    return matrix.build_extras(world)
