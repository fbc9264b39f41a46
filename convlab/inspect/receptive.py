"""Receptive fields: how many input pixels each layer of a CNN spec sees, and where.

The sizes come from :func:`convlab.conv.receptive_field` (``r_out = r_in + (k - 1) * j_in``,
``j_out = j_in * s``). To draw them we also track where a field starts: output 0 of a layer
looks at input pixels from ``start = start_in - pad_before * j_in`` on, and output ``i``
from ``start + i * jump``; padding moves a field but does not change its size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from convlab.conv import output_size_for, receptive_field, same_padding
from convlab.inspect._common import InspectError
from convlab.models import CNNSpec, ModelSpec
from convlab.views.plot import figure, show_image

__all__ = ["receptive_field_boxes", "receptive_field_figure", "receptive_field_table"]


@dataclass(frozen=True)
class _Layer:
    name: str
    kernel: int
    stride: int
    padding: str


def _layers(spec: ModelSpec) -> list[_Layer]:
    """The spec's layers that change the receptive field, first to last, as Keras names them."""
    if not isinstance(spec, CNNSpec):
        raise InspectError(
            "Receptive fields are for CNN specs: every unit of an MLP's first layer already "
            "sees every pixel."
        )
    out = []
    for i, b in enumerate(spec.blocks, 1):
        for j in range(1, b.convs + 1):
            out.append(_Layer(f"conv{i}_{j}", b.kernel_size, b.stride if j == 1 else 1, b.padding))
        if b.pool != "none":
            # Keras pooling layers default to "valid" padding and stride = pool size.
            out.append(_Layer(f"{b.pool}pool{i}", b.pool_size, b.pool_size, "valid"))
    return out


def receptive_field_table(spec: ModelSpec, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """Per layer: kernel, stride, output size, jump and receptive field (pixels per side).

    Example: the reference Fashion-MNIST CNN (3x3 conv, 2x2 pool, 3x3 conv, 2x2 pool) has
    receptive fields 3, 4, 8 and 10.
    """
    layers = _layers(spec)
    fields = receptive_field([(layer.kernel, layer.stride) for layer in layers])
    h, w = input_shape[:2]
    rows = []
    for layer, rf in zip(layers, fields, strict=True):
        h = output_size_for(h, layer.kernel, layer.stride, layer.padding)
        w = output_size_for(w, layer.kernel, layer.stride, layer.padding)
        rows.append(
            (layer.name, layer.kernel, layer.stride, f"{h}x{w}", rf.jump, rf.receptive_field)
        )
    return pd.DataFrame(
        rows, columns=["layer", "kernel", "stride", "output", "jump", "receptive_field"]
    )


def _axis_boxes(layers: list[_Layer], n: int) -> list[tuple[int, int, int]]:
    """Along one axis of ``n`` pixels: per layer, the output unit whose field is centred
    nearest the middle of the input, and the (first, last) input pixel it sees."""
    fields = receptive_field([(layer.kernel, layer.stride) for layer in layers])
    jump_in, start, size, centre = 1, 0, n, (n - 1) / 2
    boxes = []
    for layer, rf in zip(layers, fields, strict=True):
        if layer.padding == "same":
            start -= same_padding(size, layer.kernel, layer.stride)[0] * jump_in
        size = output_size_for(size, layer.kernel, layer.stride, layer.padding)
        r, jump = rf.receptive_field, rf.jump
        i = int(np.clip(np.floor((centre - start - (r - 1) / 2) / jump + 0.5), 0, size - 1))
        boxes.append((i, start + i * jump, start + i * jump + r - 1))
        jump_in = jump
    return boxes


def receptive_field_boxes(spec: ModelSpec, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """Where the central unit of each layer looks in the input.

    Returns:
        One row per layer: ``layer``; ``unit_row``, ``unit_col`` (the unit's position in
        the layer's output); ``top``, ``bottom``, ``left``, ``right`` (the input pixels it
        sees, inclusive; they may reach past the image, into the padding) and
        ``receptive_field`` (``bottom - top + 1``).
    """
    layers = _layers(spec)
    rows_ = _axis_boxes(layers, int(input_shape[0]))
    cols_ = _axis_boxes(layers, int(input_shape[1]))
    return pd.DataFrame(
        [
            (layer.name, i, j, top, bottom, left, right, bottom - top + 1)
            for layer, (i, top, bottom), (j, left, right) in zip(layers, rows_, cols_, strict=True)
        ],
        columns=[
            "layer",
            "unit_row",
            "unit_col",
            "top",
            "bottom",
            "left",
            "right",
            "receptive_field",
        ],
    )


def receptive_field_figure(spec: ModelSpec, image: np.ndarray):
    """The image with the receptive field of each layer's central unit drawn on it.

    Returns a matplotlib ``Figure``.
    """
    from matplotlib.patches import Rectangle

    image = np.asarray(image)
    boxes = receptive_field_boxes(spec, image.shape)
    fig, ax = figure((4.2, 3.6))
    show_image(ax, image)
    for k, box in enumerate(boxes.itertuples()):
        ax.add_patch(
            Rectangle(
                (box.left - 0.5, box.top - 0.5),
                box.right - box.left + 1,
                box.bottom - box.top + 1,
                fill=False,
                linewidth=2,
                edgecolor=f"C{k}",
                label=f"{box.layer}: {box.receptive_field}x{box.receptive_field}",
            )
        )
    ax.set_xlim(-0.5, image.shape[1] - 0.5)
    ax.set_ylim(image.shape[0] - 0.5, -0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)
    return fig
