"""Feature maps: what every convolutional layer computes for one image."""

from __future__ import annotations

import numpy as np

from convlab.inspect._common import InspectError
from convlab.inspect.filters import conv_layers
from convlab.views.plot import grid, show_image

__all__ = ["feature_map_figure", "feature_maps"]


def feature_maps(model, image: np.ndarray) -> dict[str, np.ndarray]:
    """The output of every ``Conv2D`` layer for one image.

    Args:
        model: a trained Keras model with at least one ``Conv2D`` layer.
        image: one image ``(H, W, C)`` shaped like the model's input (no batch axis).

    Returns:
        Layer name -> its output for the image, ``(H_out, W_out, filters)``, first layer
        first. A layer with an activation reports the activated output (e.g. after ReLU).
    """
    import keras

    image = np.asarray(image, dtype="float32")
    expected = tuple(model.inputs[0].shape[1:])
    if image.shape != expected:
        raise InspectError(
            f"feature_maps takes one image shaped like the model input {expected}, got "
            f"{image.shape}; pass e.g. splits.x_test[i], not a batch."
        )
    layers = conv_layers(model)
    probe = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in layers])
    outputs = probe(image[None], training=False)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return {
        layer.name: keras.ops.convert_to_numpy(out)[0]
        for layer, out in zip(layers, outputs, strict=True)
    }


def feature_map_figure(maps: dict[str, np.ndarray], image: np.ndarray, channels: int = 8):
    """The input image, then the first ``channels`` maps of each layer, one layer a row.

    Each map is drawn on its own grey scale (bright = strong response); the layer's name and
    output shape stand beside its row. Returns a matplotlib ``Figure``.
    """
    if not maps:
        raise InspectError("No feature maps to draw: feature_maps() returned none.")
    cols = min(channels, max(m.shape[-1] for m in maps.values()))
    fig, axes = grid(len(maps), cols + 1, cell=1.1)
    show_image(axes[0, 0], image, "input")
    for ax in axes[1:, 0]:
        ax.set_axis_off()
    for row, (name, fmap) in zip(axes, maps.items(), strict=True):
        h, w, f = fmap.shape
        row[1].set_ylabel(f"{name}\n{h}x{w}x{f}", fontsize=7)
        for c, ax in enumerate(row[1:]):
            if c < f:
                ax.imshow(fmap[..., c], cmap="gray")
            else:
                ax.set_axis_off()
    return fig
