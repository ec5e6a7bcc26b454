import pytest


@pytest.fixture
def notify_world(world):
    """The shared world plus the people the ladder reaches: the district's leadership and foreign units."""
    from taizhang.accounts.roles import Role
    from taizhang.testing import matrix
    from taizhang.testing.personas import person

    extras = matrix.build_extras(world)
    world.district_leader = person("district_leader", "区党工委书记", (world.district, Role.UNIT_LEADER))
    world.district_viewer = person("district_viewer", "管委会主任", (world.district, Role.VIEWER))
    world.extras = extras
    for user in (world.unit_leader, world.supervisor, world.district_leader, world.enterprise_user):
        user.email = f"{user.username}@example.gov.cn"
        user.save(update_fields=["email"])
    return world
