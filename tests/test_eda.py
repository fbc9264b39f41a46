"""EDA tables against NumPy computed directly (the figures: test_views_data.py)."""

import numpy as np
import pytest

from convlab import eda
from convlab.errors import ConvlabError

# --------------------------------------------------------------------------- tables


def test_split_summary_tiny(tiny):
    table = eda.split_summary(tiny)
    assert table.index.tolist() == ["cat", "dog", "eel", "total"]
    assert table["train"].tolist() == [5, 3, 4, 12]
    assert table["test"].tolist() == [2, 2, 1, 5]
    assert table.dtypes.tolist() == [np.int64, np.int64]


def test_split_summary_real(fmnist):
    table = eda.split_summary(fmnist)
    assert table.loc["total"].tolist() == [60_000, 10_000]
    assert table.drop(index="total")["train"].tolist() == [6000] * 10
    assert table.loc["Ankle boot", "test"] == 1000


def test_pixel_stats_tiny(tiny):
    stats = eda.pixel_stats(tiny)
    channels = ["gray"] if tiny.x_train.ndim == 3 else ["red", "green", "blue"]
    assert stats.index.tolist() == [(s, c) for s in ("train", "test") for c in channels]
    for split, x in (("train", tiny.x_train), ("test", tiny.x_test)):
        for c, name in enumerate(channels):
            pixels = (x if x.ndim == 3 else x[..., c]).astype(np.float64)
            row = stats.loc[(split, name)]
            expected = [pixels.min(), pixels.max(), pixels.mean(), pixels.std()]
            np.testing.assert_allclose(row["0-255"].tolist(), expected, rtol=1e-12)
            np.testing.assert_allclose(row["0-1"].tolist(), [v / 255 for v in expected], rtol=1e-12)


def test_pixel_stats_real(fmnist):
    stats = eda.pixel_stats(fmnist)
    train, test = stats.loc[("train", "gray")], stats.loc[("test", "gray")]
    assert train["0-255"]["min"] == 0 and train["0-255"]["max"] == 255
    mean = fmnist.x_train.mean(dtype=np.float64)
    np.testing.assert_allclose(train["0-255"]["mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(test["0-1"]["std"], fmnist.x_test.std(dtype=np.float64) / 255)
    # The well-known Fashion-MNIST normalisation constants.
    assert round(train["0-1"]["mean"], 4) == 0.2860 and round(train["0-1"]["std"], 4) == 0.3530


def test_class_means(tiny):
    means = eda.class_means(tiny)
    assert means.shape == (3, *tiny.x_train.shape[1:]) and means.dtype == np.float64
    for k in range(3):
        np.testing.assert_allclose(means[k], tiny.x_train[tiny.y_train == k].mean(axis=0))
    test_means = eda.class_means(tiny, "test")
    np.testing.assert_allclose(test_means[2], tiny.x_test[0])  # eel's one test image
    with pytest.raises(ConvlabError, match="Unknown split 'val'; use one of: train, test."):
        eda.class_means(tiny, "val")


def test_class_means_real(fmnist):
    means = eda.class_means(fmnist)
    assert means.shape == (10, 28, 28)
    np.testing.assert_allclose(means[1], fmnist.x_train[fmnist.y_train == 1].mean(axis=0))


def test_template_share_known_answers(tiny):
    """1 when every image is its class's mean, 0 when all class means are equal, and the
    by-hand ratio of sums of squares in between."""
    from dataclasses import replace

    means = eda.class_means(tiny).round().astype(np.uint8)
    templated = replace(tiny, x_train=means[tiny.y_train])
    assert eda.template_share(templated) == pytest.approx(1.0)
    same = replace(tiny, x_train=np.repeat(tiny.x_train[:1], 12, axis=0))
    assert eda.template_share(same) == 0.0
    x = tiny.x_train.reshape(12, -1).astype(float)
    m = np.stack([x[tiny.y_train == k].mean(0) for k in range(3)])[tiny.y_train]
    want = ((m - x.mean(0)) ** 2).sum() / ((x - x.mean(0)) ** 2).sum()
    assert eda.template_share(tiny) == pytest.approx(want)


def test_class_means_reading_follows_the_share():
    from convlab.views.data import class_means_reading

    assert class_means_reading(0.40).startswith("The class means explain 40%")
    assert "strong baseline" in class_means_reading(0.40)
    assert class_means_reading(0.06).startswith("The class means explain only 6%")
    assert "blur" in class_means_reading(0.06)
