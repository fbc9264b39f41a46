"""convlab.views.profiles: one row per compute profile, read from the profiles."""

from convlab.experiments import PROFILES
from convlab.views.profiles import profiles_table


def test_profiles_table_lists_every_profile():
    table = profiles_table()
    assert list(table.index) == list(PROFILES)
    assert table.loc["quick", "training images"] == f"{PROFILES['quick'].train_size:,}"
    assert table.loc["full", "training images"] == "all"
    assert table.loc["smoke", "seeds"] == PROFILES["smoke"].seeds
    here = PROFILES["quick"].train_config().precision
    assert table.loc["quick", "arithmetic"] == f"auto (here {here})"
