"""Tables for the page: formats and names, never silently raw."""

import pandas as pd
import pytest

from convlab.views.tables import readable


def test_formats_and_renames():
    raw = pd.DataFrame(
        {"share": [0.836, 0.05], "ci95_low": [-0.0123, 0.0], "params": [220234, 10]},
        index=pd.Index(["a", "b"], name="arm"),
    )
    page = readable(
        raw,
        percent=["share"],
        points=["ci95_low"],
        counts=["params"],
        names={"share": "share of errors %", "ci95_low": "95% low (points)", "arm": "model"},
    )
    assert page.loc["a"].tolist() == ["83.60", "-1.23", "220,234"]
    assert list(page.columns) == ["share of errors %", "95% low (points)", "params"]
    assert page.index.name == "model"
    assert raw.loc["a", "share"] == 0.836  # the input is untouched


def test_rounding_errors_in_scientific_notation():
    page = readable(pd.DataFrame({"diff": [1.2e-7, 0.0, float("nan")]}), scientific=["diff"])
    assert page["diff"].tolist() == ["1.2e-07", "0.0e+00", "-"]


def test_a_missing_column_is_an_error():
    with pytest.raises(KeyError, match="No column 'acc'"):
        readable(pd.DataFrame({"accuracy": [0.5]}), percent=["acc"])
