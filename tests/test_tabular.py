"""The synthetic table: seeded, stratified, standardised, and loadable as a run's data."""

import numpy as np
import pytest

from convlab.data import DataError
from convlab.tabular import TABLE, TabularTask, make_tabular, table_slice
from convlab.variants import load_splits

SMALL = TabularTask(samples=400, informative=3, redundant=2, noise=3, classes=3)


def test_table_is_seeded_stratified_and_standardised():
    a, b, c = (
        make_tabular(SMALL),
        make_tabular(SMALL),
        make_tabular(TabularTask(**{**SMALL.__dict__, "seed": 1})),
    )
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (240, 8) and a.x_val.shape == a.x_test.shape == (80, 8)
    assert a.x_train.dtype == np.float32 and a.class_names == ("class 0", "class 1", "class 2")
    np.testing.assert_allclose(a.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(a.x_train.std(axis=0), 1, atol=1e-4)
    # every class in every split, in proportion to its share of the whole table
    overall = np.bincount(np.concatenate([a.y_train, a.y_val, a.y_test])) / 400
    for y in (a.y_train, a.y_val, a.y_test):
        assert np.abs(np.bincount(y, minlength=3) / len(y) - overall).max() <= 1.5 / len(y)


def test_redundant_columns_are_mixtures_of_informative_ones():
    d = make_tabular(SMALL)
    x = np.vstack([d.x_train, d.x_val, d.x_test])
    # 3 informative + 2 redundant span only 3 dimensions; the 3 noise columns add 3 more
    assert np.linalg.matrix_rank(x, tol=1e-3 * np.abs(x).max()) == 6


def test_impossible_tasks_are_refused():
    with pytest.raises(DataError, match="hypercube"):
        make_tabular(TabularTask(informative=1, classes=3))


def test_the_table_is_a_dataset_of_the_store():
    np.testing.assert_array_equal(
        load_splits(TABLE, table_slice(SMALL)).x_test, make_tabular(SMALL).x_test
    )
