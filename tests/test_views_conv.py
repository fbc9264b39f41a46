"""convlab.views.conv: a convolution's figures show what the convolution computes."""

import numpy as np

from convlab import chapters, conv
from convlab.views.conv import conv_output_figure, equivariance_figure


def test_equivariance_figure_shows_the_shifted_map():
    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 1))
    fig = equivariance_figure(image, chapters.edge_kernel(1), shift=2)
    axes = fig.get_axes()
    assert [a.get_title() for a in axes] == [
        "image x",
        "shift(x), 2 px right",
        "conv(x)",
        "conv(shift(x))",
    ]
    plain, moved = axes[2].images[0].get_array(), axes[3].images[0].get_array()
    # Away from the edges the convolution of the shifted image is the shifted convolution.
    np.testing.assert_allclose(moved[2:-2, 4:-2], plain[2:-2, 2:-4], atol=1e-12)
    # ... and the maps drawn are the convolutions themselves.
    np.testing.assert_allclose(
        plain, conv.conv2d(image[None], chapters.edge_kernel(1), padding="same")[0, ..., 0]
    )


def test_conv_output_figure_has_the_input_and_the_maps():
    image = np.zeros((8, 8, 1))
    fig = conv_output_figure(image, np.zeros((8, 8, 6)), channels=3)
    titles = [a.get_title() for a in fig.get_axes()]
    assert titles == ["input 8x8x1", "filter 0", "filter 1", "filter 2"]


def test_kernel_fit_figure_draws_the_losses_and_both_kernels():
    from convlab.kernel_fit import fit_kernel
    from convlab.views.conv import kernel_fit_figure

    rng = np.random.default_rng(0)
    x = rng.random((3, 10, 10, 1))
    true = chapters.edge_kernel(1)
    fit = fit_kernel(x, conv.conv2d(x, true), steps=50)
    fig = kernel_fit_figure(fit, true)
    loss_ax, pair = fig.get_axes()
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), fit.losses)
    assert loss_ax.get_yscale() == "log" and pair.get_title() == "true | learned"
    drawn = pair.images[0].get_array()
    np.testing.assert_allclose(drawn[:, :3], true[:, :, 0, 0])
    np.testing.assert_allclose(drawn[:, 4:], fit.kernel[:, :, 0, 0])
