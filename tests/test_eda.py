"""EDA tables against NumPy computed directly; figures by what they contain."""

import io
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlab import eda
from convlab.data import DATASETS, Dataset, load
from convlab.errors import ConvlabError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fmnist():
    return load("fashion-mnist", download=False)


def tiny_dataset(color: bool) -> Dataset:
    """3 classes of 4x4 images (RGB when ``color``): 5/3/4 train and 2/2/1 test images."""
    rng = np.random.default_rng(0)
    shape = (4, 4, 3) if color else (4, 4)
    info = replace(
        DATASETS["cifar10" if color else "fashion-mnist"],
        class_names=("cat", "dog", "eel"),
        image_shape=(4, 4, 3 if color else 1),
        train_size=12,
        test_size=5,
    )
    y_train = np.array([0, 1, 2, 0, 0, 1, 2, 0, 2, 1, 0, 2], np.uint8)
    y_test = np.array([2, 0, 1, 0, 1], np.uint8)
    return Dataset(
        info=info,
        x_train=rng.integers(0, 256, (12, *shape), dtype=np.uint8),
        y_train=y_train,
        x_test=rng.integers(3, 200, (5, *shape), dtype=np.uint8),
        y_test=y_test,
        source=None,
    )


@pytest.fixture(params=[False, True], ids=["gray", "rgb"])
def tiny(request):
    return tiny_dataset(request.param)


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


# --------------------------------------------------------------------------- figures


def images_of(fig: Figure) -> list[np.ndarray]:
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


def test_sample_grid_rows_are_classes(tiny):
    fig = eda.sample_grid(tiny, per_class=3, seed=1)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9 and all(len(ax.images) == 1 for ax in fig.axes)
    rows = [fig.axes[i * 3 : i * 3 + 3] for i in range(3)]
    scale = 255 if tiny.x_train.ndim == 4 else 1  # RGB is drawn as floats in [0, 1]
    for k, row in enumerate(rows):
        assert row[0].get_ylabel() == tiny.class_names[k]
        shown = [np.asarray(ax.images[0].get_array()) * scale for ax in row]
        members = tiny.x_train[tiny.y_train == k]
        # Each image is one of the class's images, and no image appears twice.
        matches = [
            next(j for j, m in enumerate(members) if np.allclose(m, image)) for image in shown
        ]
        assert len(set(matches)) == 3
    same = eda.sample_grid(tiny, per_class=3, seed=1)
    other = eda.sample_grid(tiny, per_class=3, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(images_of(fig), images_of(same), strict=True))
    assert not all(
        np.array_equal(a, b) for a, b in zip(images_of(fig), images_of(other), strict=True)
    )


def test_sample_grid_real(fmnist):
    fig = eda.sample_grid(fmnist, per_class=8)
    assert len(fig.axes) == 80
    assert [fig.axes[i * 8].get_ylabel() for i in range(10)] == list(fmnist.class_names)
    assert images_of(fig)[0].shape == (28, 28)


def test_sample_grid_needs_enough_images(tiny):
    with pytest.raises(ConvlabError) as e:
        eda.sample_grid(tiny, per_class=4)
    assert str(e.value) == (
        "per_class=4: every class must be able to fill its row; choose 1 to 3 (the smallest "
        "class in the train split)."
    )


def test_class_distribution(tiny):
    fig = eda.class_distribution(tiny)
    (ax,) = fig.axes
    train, test = ax.containers
    assert [p.get_height() for p in train] == [5, 3, 4]
    assert [p.get_height() for p in test] == [2, 2, 1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "eel"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train (12)", "test (5)"]


def test_class_distribution_real(fmnist):
    (ax,) = eda.class_distribution(fmnist).axes
    assert [p.get_height() for p in ax.containers[0]] == [6000] * 10
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "train (60,000)",
        "test (10,000)",
    ]


def test_mean_images_figure(tiny):
    fig = eda.mean_images_figure(tiny)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["cat", "dog", "eel"]
    scale = 255 if tiny.x_train.ndim == 4 else 1
    for image, mean in zip(images_of(fig), eda.class_means(tiny), strict=True):
        np.testing.assert_allclose(image * scale, mean)


def test_mean_images_figure_real(fmnist):
    fig = eda.mean_images_figure(fmnist)
    assert len(fig.axes) == 10 and len(images_of(fig)) == 10
    assert fig.axes[9].get_title() == "Ankle boot"
    fig.savefig(io.BytesIO(), format="png")  # it renders


def test_nothing_is_printed_or_left_open(tiny, capsys):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    eda.split_summary(tiny)
    eda.pixel_stats(tiny)
    eda.sample_grid(tiny, per_class=2)
    eda.class_distribution(tiny)
    eda.mean_images_figure(tiny)
    assert capsys.readouterr() == ("", "")
    assert plt.get_fignums() == before
