"""Tables of a model spec: its layers with their parameter formulas, and a CNN's design
choices with the study that tests each."""

from __future__ import annotations

import pandas as pd

from convlab.models import CNNSpec, ModelSpec, layer_table

__all__ = ["design_table", "layer_frame"]


def layer_frame(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> pd.DataFrame:
    """Each layer's output shape, parameters (with the formula) and multiply-adds."""
    rows = [
        {
            "layer": r.name,
            "output shape": " x ".join(map(str, r.output_shape)),
            "parameters": r.params,
            "formula": r.formula,
            "multiply-adds": r.macs,
        }
        for r in layer_table(spec, input_shape, num_classes)
    ]
    return pd.DataFrame(rows).set_index("layer")


def _same(values: list) -> str:
    return str(values[0]) if len(set(values)) == 1 else " / ".join(map(str, values))


def _downsampling(block) -> str:
    if block.pool != "none":
        return f"{block.pool_size}x{block.pool_size} {block.pool} pooling"
    return f"stride-{block.stride} convolution" if block.stride > 1 else "none"


def design_table(spec: ModelSpec) -> pd.DataFrame:
    """Each design choice of a CNN spec, its value, why, and the study that tests it.

    Values are read from ``spec``; the reasons are the usual arguments, which the named
    study of the controlled-experiments chapter then puts to the test.
    """
    if not isinstance(spec, CNNSpec):
        raise TypeError(f"design_table describes a CNNSpec, got {type(spec).__name__}.")
    b = spec.blocks
    downsampling = _same([_downsampling(x) for x in b])
    dropout = [x.dropout for x in b] + [spec.dense_dropout]
    rows = [
        (
            "kernel size",
            _same([f"{x.kernel_size}x{x.kernel_size}" for x in b]),
            "the smallest kernel that sees a neighbour on every side; stacked, small kernels "
            "see far with few weights",
            "kernel-size",
        ),
        (
            "blocks",
            str(len(b)),
            "each block halves the feature map, so a few blocks reach a small, abstract map",
            "depth",
        ),
        (
            "filters per block",
            "-".join(str(x.filters) for x in b),
            "few filters where maps are large, more after each downsampling",
            "width",
        ),
        (
            "convolutions per block",
            _same([x.convs for x in b]),
            "more convolutions before downsampling see more context at full resolution",
            "capacity",
        ),
        (
            "padding",
            _same([x.padding for x in b]),
            "'same' keeps the border pixels and the map size; 'valid' shrinks every map",
            "padding",
        ),
        (
            "downsampling",
            downsampling,
            "halves the resolution and keeps each window's strongest response; whether it "
            "buys shift tolerance is measured in the interpretation chapter",
            "downsampling",
        ),
        (
            "batch normalisation",
            _same(["on" if x.batch_norm else "off" for x in b]),
            "normalises each layer's inputs; often speeds up training",
            "batch-norm",
        ),
        ("activation", spec.activation, "cheap, non-saturating non-linearity", "-"),
        (
            "dropout",
            _same(dropout) if any(dropout) else "none",
            "regularises larger models; the small reference CNN does without"
            if not any(dropout)
            else "regularises the larger model against overfitting",
            "capacity",
        ),
        (
            "dense head",
            "-".join(map(str, spec.dense)) or "none",
            "combines the last feature maps before the softmax",
            "-",
        ),
    ]
    return pd.DataFrame(rows, columns=["choice", "this CNN", "why", "tested by"]).set_index(
        "choice"
    )
