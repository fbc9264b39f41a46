"""Dataset figures by what they contain: the images, counts and means they stand for."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlab import eda
from convlab.errors import ConvlabError
from convlab.views.data import class_distribution, mean_images_figure, sample_grid

matplotlib.use("Agg")


def images_of(fig: Figure) -> list[np.ndarray]:
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


def test_sample_grid_rows_are_classes(tiny):
    fig = sample_grid(tiny, per_class=3, seed=1)
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
    same = sample_grid(tiny, per_class=3, seed=1)
    other = sample_grid(tiny, per_class=3, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(images_of(fig), images_of(same), strict=True))
    assert not all(
        np.array_equal(a, b) for a, b in zip(images_of(fig), images_of(other), strict=True)
    )


def test_sample_grid_real(fmnist):
    fig = sample_grid(fmnist, per_class=8)
    assert len(fig.axes) == 80
    assert [fig.axes[i * 8].get_ylabel() for i in range(10)] == list(fmnist.class_names)
    assert images_of(fig)[0].shape == (28, 28)


def test_sample_grid_needs_enough_images(tiny):
    with pytest.raises(ConvlabError) as e:
        sample_grid(tiny, per_class=4)
    assert str(e.value) == (
        "per_class=4: every class must be able to fill its row; choose 1 to 3 (the smallest "
        "class in the train split)."
    )


def test_class_distribution(tiny):
    fig = class_distribution(tiny)
    (ax,) = fig.axes
    train, test = ax.containers
    assert [p.get_height() for p in train] == [5, 3, 4]
    assert [p.get_height() for p in test] == [2, 2, 1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "eel"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train (12)", "test (5)"]


def test_class_distribution_real(fmnist):
    (ax,) = class_distribution(fmnist).axes
    assert [p.get_height() for p in ax.containers[0]] == [6000] * 10
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "train (60,000)",
        "test (10,000)",
    ]


def test_mean_images_figure(tiny):
    fig = mean_images_figure(tiny)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["cat", "dog", "eel"]
    scale = 255 if tiny.x_train.ndim == 4 else 1
    for image, mean in zip(images_of(fig), eda.class_means(tiny), strict=True):
        np.testing.assert_allclose(image * scale, mean)


def test_mean_images_figure_real(fmnist):
    fig = mean_images_figure(fmnist)
    assert len(fig.axes) == 10 and len(images_of(fig)) == 10
    assert fig.axes[9].get_title() == "Ankle boot"
    fig.savefig(io.BytesIO(), format="png")  # it renders


def test_nothing_is_printed_or_left_open(tiny, capsys):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    eda.split_summary(tiny)
    eda.pixel_stats(tiny)
    sample_grid(tiny, per_class=2)
    class_distribution(tiny)
    mean_images_figure(tiny)
    assert capsys.readouterr() == ("", "")
    assert plt.get_fignums() == before
