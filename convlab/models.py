"""Model specs (frozen dataclasses), Keras builders, and analytic parameter and MAC counts.

A spec says everything about an architecture; :func:`build` turns it into an uncompiled
``keras.Sequential`` whose layers read top to bottom like the architecture diagram, and
:func:`layer_table` derives every layer's output shape, parameters and multiply-adds by
formula, so the book can show the arithmetic and the tests can check it against
``model.count_params()``.

Example:
    >>> spec = reference("cnn")
    >>> count_params(spec, (28, 28, 1), 10)
    220234
    >>> wider = spec.with_blocks(kernel_size=5)  # one choice changed, nothing else
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from convlab.data import dataset_info
from convlab.errors import ConvlabError

__all__ = [
    "CNNSpec",
    "Conv1DSpec",
    "ConvBlock",
    "LayerInfo",
    "MATCH_TOLERANCE",
    "MLPSpec",
    "ModelSpec",
    "REFERENCES",
    "build",
    "count_params",
    "describe",
    "head_for_params",
    "layer_table",
    "macs_per_image",
    "reference",
    "reference_models",
    "spec_from_dict",
]


class SpecError(ConvlabError, ValueError):
    """An architecture that cannot be built as specified."""


@dataclass(frozen=True)
class MLPSpec:
    """A multilayer perceptron: Flatten, then Dense hidden layers, then softmax."""

    hidden: tuple[int, ...] = (128,)  # units per hidden layer
    dropout: float = 0.0  # after each hidden layer
    activation: str = "relu"

    kind: Literal["mlp"] = "mlp"


@dataclass(frozen=True)
class ConvBlock:
    """``convs`` convolutions (optionally batch-normalised), then pooling, then dropout."""

    filters: int = 32
    convs: int = 1  # convolutions in the block
    kernel_size: int = 3
    stride: int = 1  # of the block's first convolution; 2 downsamples without pooling
    padding: Literal["same", "valid"] = "same"
    pool: Literal["max", "avg", "none"] = "max"
    pool_size: int = 2
    dropout: float = 0.0  # after pooling
    batch_norm: bool = False  # conv (no bias) -> BatchNorm -> activation


@dataclass(frozen=True)
class CNNSpec:
    """Convolutional blocks, then Flatten, Dense hidden layers and softmax."""

    blocks: tuple[ConvBlock, ...] = (ConvBlock(32), ConvBlock(64))
    dense: tuple[int, ...] = (64,)  # units of the hidden dense layers of the head
    dense_dropout: float = 0.0  # after each hidden dense layer
    activation: str = "relu"

    kind: Literal["cnn"] = "cnn"

    def with_blocks(self, **changes) -> CNNSpec:
        """The same spec with ``changes`` applied to every block (e.g. ``kernel_size=5``)."""
        return dataclasses.replace(
            self, blocks=tuple(dataclasses.replace(b, **changes) for b in self.blocks)
        )


@dataclass(frozen=True)
class Conv1DSpec:
    """A row of a table read as a sequence of columns: one 1-D convolution slid along the
    columns ('same' padding), then Flatten, Dense hidden layers and softmax."""

    filters: int = 16
    kernel_size: int = 3  # neighbouring columns one filter looks at together
    dense: tuple[int, ...] = (32,)  # units of the hidden dense layers of the head
    activation: str = "relu"

    kind: Literal["conv1d"] = "conv1d"


ModelSpec = MLPSpec | CNNSpec | Conv1DSpec


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the formulas see it."""

    name: str
    output_shape: tuple[int, ...]
    params: int
    macs: int  # multiply-adds per image in the forward pass
    formula: str  # how ``params`` was computed, for the book


# --------------------------------------------------------------------------- references

_BLOCK_DROPOUT = 0.25
REFERENCES: dict[str, tuple[ModelSpec, str, int]] = {
    # name: (spec, dataset it was reported on, parameters there)
    "mlp": (MLPSpec(hidden=(128,)), "fashion-mnist", 101_770),
    "mlp-256-128": (MLPSpec(hidden=(256, 128)), "fashion-mnist", 235_146),
    "cnn": (CNNSpec(), "fashion-mnist", 220_234),
    "cnn-k5": (CNNSpec().with_blocks(kernel_size=5), "fashion-mnist", 253_514),
    "cnn-k7": (CNNSpec().with_blocks(kernel_size=7), "fashion-mnist", 303_434),
    "cifar-mlp": (MLPSpec(hidden=(512, 256), dropout=0.2), "cifar10", 1_707_274),
    "cifar-cnn": (
        CNNSpec(
            blocks=(
                ConvBlock(32, convs=2, dropout=_BLOCK_DROPOUT),
                ConvBlock(64, convs=2, dropout=_BLOCK_DROPOUT),
                ConvBlock(128, convs=1, dropout=_BLOCK_DROPOUT),
            ),
            dense=(256,),
            dense_dropout=0.5,
        ),
        "cifar10",
        666_538,
    ),
}


def reference(name: str) -> ModelSpec:
    """The spec of a reference architecture; a wrong name lists the valid ones."""
    if name not in REFERENCES:
        raise SpecError(f"Unknown model {name!r}. Valid names: {', '.join(REFERENCES)}.")
    return REFERENCES[name][0]


# The baseline and the CNN each dataset's chapters compare. The baseline is the stronger of
# the two reference MLPs, chosen on validation accuracy (full profile, seed 0: 256-128
# units 90.17 %, 128 units 88.85 %): a CNN should have to beat a good MLP, and the 256-128
# one has more parameters than the reference CNN.
_DATASET_MODELS = {
    "fashion-mnist": ("mlp-256-128", "cnn"),
    "mnist": ("mlp-256-128", "cnn"),
    "cifar10": ("cifar-mlp", "cifar-cnn"),
}


def reference_models(dataset: str) -> tuple[str, str]:
    """The reference (baseline, CNN) model names for a dataset."""
    return _DATASET_MODELS[dataset_info(dataset).name]


def describe(spec: ModelSpec) -> str:
    """A one-line summary of an architecture (for tables)."""
    if isinstance(spec, Conv1DSpec):
        head = "-".join(map(str, spec.dense))
        text = f"1-D conv {spec.filters} filters of width {spec.kernel_size}, same"
        return text + (f"; dense {head}" if head else "")
    if isinstance(spec, MLPSpec):
        text = "MLP " + "-".join(map(str, spec.hidden))
        return text + (f", dropout {spec.dropout:g}" if spec.dropout else "")

    def each(attr: str) -> str:
        values = [getattr(b, attr) for b in spec.blocks]
        return str(values[0]) if len(set(values)) == 1 else "/".join(map(str, values))

    filters = "-".join(f"{b.filters}" + (f"x{b.convs}" if b.convs > 1 else "") for b in spec.blocks)
    k = each("kernel_size")
    parts = [f"conv {filters}", f"{k}x{k}" if "/" not in k else f"k {k}", each("padding")]
    pools = {b.pool for b in spec.blocks}
    parts.append("no pooling" if pools == {"none"} else f"{each('pool')} pool")
    if any(b.stride > 1 for b in spec.blocks):
        parts.append(f"stride {each('stride')}")
    if any(b.batch_norm for b in spec.blocks):
        parts.append("batch norm")
    if any(b.dropout for b in spec.blocks):
        parts.append(f"dropout {each('dropout')}")
    head = "-".join(map(str, spec.dense))
    if head and spec.dense_dropout:
        head += f", dropout {spec.dense_dropout:g}"
    return ", ".join(parts) + (f"; dense {head}" if head else "")


def spec_from_dict(d: dict) -> ModelSpec:
    """Inverse of ``dataclasses.asdict`` for specs (used by the results store)."""
    d = dict(d)
    kind = d.pop("kind", None)
    if kind == "mlp":
        return MLPSpec(**{**d, "hidden": tuple(d.get("hidden", ()))})
    if kind == "cnn":
        blocks = tuple(ConvBlock(**b) for b in d.pop("blocks"))
        return CNNSpec(blocks=blocks, **{**d, "dense": tuple(d.get("dense", ()))})
    if kind == "conv1d":
        return Conv1DSpec(**{**d, "dense": tuple(d.get("dense", ()))})
    raise SpecError(f"Unknown model kind {kind!r}: expected 'mlp', 'cnn' or 'conv1d'.")


# --------------------------------------------------------------------------- formulas


def _check(spec: ModelSpec) -> None:
    if isinstance(spec, CNNSpec):
        if not spec.blocks:
            raise SpecError("A CNN needs at least one convolutional block.")
        for i, b in enumerate(spec.blocks, 1):
            if min(b.filters, b.convs, b.kernel_size, b.stride, b.pool_size) < 1:
                raise SpecError(f"Block {i}: sizes and counts must be >= 1, got {b}.")
            if b.padding not in ("same", "valid") or b.pool not in ("max", "avg", "none"):
                raise SpecError(
                    f"Block {i}: padding must be 'same' or 'valid' and pool 'max', 'avg' or "
                    f"'none'; got padding={b.padding!r}, pool={b.pool!r}."
                )
    if isinstance(spec, Conv1DSpec) and min(spec.filters, spec.kernel_size) < 1:
        raise SpecError(f"filters and kernel_size must be >= 1, got {spec}.")
    for rate in _dropouts(spec):
        if not 0.0 <= rate < 1.0:
            raise SpecError(f"Dropout rates must be in [0, 1), got {rate}.")


def _dropouts(spec: ModelSpec) -> list[float]:
    if isinstance(spec, MLPSpec):
        return [spec.dropout]
    if isinstance(spec, Conv1DSpec):
        return []
    return [b.dropout for b in spec.blocks] + [spec.dense_dropout]


def _spatial(n: int, k: int, s: int, padding: str) -> int:
    return math.ceil(n / s) if padding == "same" else (n - k) // s + 1


def layer_table(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> list[LayerInfo]:
    """Each layer's output shape, parameters and multiply-adds, derived by formula."""
    _check(spec)
    rows: list[LayerInfo] = []

    def dense(name: str, n_in: int, n_out: int) -> None:
        rows.append(
            LayerInfo(name, (n_out,), n_in * n_out + n_out, n_in * n_out, f"{n_in}*{n_out}+{n_out}")
        )

    if isinstance(spec, CNNSpec):
        if len(input_shape) not in (2, 3):
            raise SpecError(f"A CNN takes images (H, W[, C]), got input shape {input_shape}.")
        h, w, c = (*input_shape, 1)[:3] if len(input_shape) == 2 else input_shape
        for i, b in enumerate(spec.blocks, 1):
            for j in range(1, b.convs + 1):
                stride = b.stride if j == 1 else 1
                h2 = _spatial(h, b.kernel_size, stride, b.padding)
                w2 = _spatial(w, b.kernel_size, stride, b.padding)
                if h2 < 1 or w2 < 1:
                    raise SpecError(
                        f"Block {i}: a {b.kernel_size}x{b.kernel_size} 'valid' convolution "
                        f"does not fit a {h}x{w} input. Use padding='same' or fewer blocks."
                    )
                k2c = b.kernel_size * b.kernel_size * c
                bias = 0 if b.batch_norm else b.filters
                rows.append(
                    LayerInfo(
                        f"conv{i}_{j}",
                        (h2, w2, b.filters),
                        k2c * b.filters + bias,
                        h2 * w2 * k2c * b.filters,
                        f"{b.kernel_size}*{b.kernel_size}*{c}*{b.filters}"
                        + (f"+{b.filters}" if bias else ""),
                    )
                )
                h, w, c = h2, w2, b.filters
                if b.batch_norm:
                    # gamma, beta (trained) and moving mean, variance (not trained)
                    rows.append(LayerInfo(f"bn{i}_{j}", (h, w, c), 4 * c, 0, f"4*{c}"))
            if b.pool != "none":
                h, w = h // b.pool_size, w // b.pool_size
                if h < 1 or w < 1:
                    raise SpecError(f"Block {i}: pooling shrinks the feature map to nothing.")
                rows.append(LayerInfo(f"{b.pool}pool{i}", (h, w, c), 0, 0, "0"))
        rows.append(LayerInfo("flatten", (h * w * c,), 0, 0, "0"))
        n, hidden = h * w * c, spec.dense
    elif isinstance(spec, Conv1DSpec):
        if len(input_shape) != 1:
            raise SpecError(f"A 1-D CNN takes rows (features,), got input shape {input_shape}.")
        (n,), f, k = input_shape, spec.filters, spec.kernel_size
        rows.append(LayerInfo("columns_as_sequence", (n, 1), 0, 0, "0"))
        rows.append(LayerInfo("conv1", (n, f), k * f + f, n * k * f, f"{k}*1*{f}+{f}"))
        rows.append(LayerInfo("flatten", (n * f,), 0, 0, "0"))
        n, hidden = n * f, spec.dense
    else:
        n, hidden = math.prod(input_shape), spec.hidden
        rows.append(LayerInfo("flatten", (n,), 0, 0, "0"))
    for i, units in enumerate(hidden, 1):
        dense(f"dense{i}", n, units)
        n = units
    dense("output", n, num_classes)
    return rows


def count_params(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> int:
    """Total parameters by formula; equals ``build(...).count_params()``."""
    return sum(r.params for r in layer_table(spec, input_shape, num_classes))


def macs_per_image(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> int:
    """Multiply-adds of one forward pass for one image."""
    return sum(r.macs for r in layer_table(spec, input_shape, num_classes))


# How close a parameter-matched model must come to its target parameter count.
MATCH_TOLERANCE = 0.1


def head_for_params(
    spec: CNNSpec,
    input_shape: tuple[int, ...],
    num_classes: int,
    target: int,
    tolerance: float = MATCH_TOLERANCE,
) -> CNNSpec:
    """``spec`` with its first dense layer resized so the whole model has ``target``
    parameters (within ``tolerance``): the parameter-matched version of a CNN.

    The parameter count is linear in that layer's width, so the width is solved for and
    rounded. Raises :class:`SpecError`, saying why, when no width of at least one unit
    comes within the tolerance (the convolutions alone have too many parameters, or the
    feature map is so large that even one unit overshoots).
    """
    if not isinstance(spec, CNNSpec) or not spec.dense:
        raise SpecError("Only a CNN with a dense head can have its head resized.")

    def total(units: int) -> int:
        head = (units, *spec.dense[1:])
        return count_params(dataclasses.replace(spec, dense=head), input_shape, num_classes)

    slope = total(2) - total(1)
    units = round((target - (total(1) - slope)) / slope)
    if units < 1:
        raise SpecError(
            f"no head matches {target:,} parameters: even a 1-unit head gives {total(1):,}."
        )
    if abs(total(units) - target) > tolerance * target:
        raise SpecError(
            f"no head width comes within {tolerance:.0%} of {target:,} parameters "
            f"({units} units give {total(units):,})."
        )
    return dataclasses.replace(spec, dense=(units, *spec.dense[1:]))


# --------------------------------------------------------------------------- building


def build(
    spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int, dtype: str | None = None
):
    """An uncompiled ``keras.Sequential`` for ``spec``; the last layer outputs softmax.

    ``dtype`` is every hidden layer's Keras dtype policy (e.g. ``"mixed_bfloat16"``:
    bfloat16 arithmetic on float32 weights; ``None``: Keras' global policy). The softmax
    output layer always computes in float32, as mixed-precision training wants.
    """
    import keras  # imported late: importing Keras starts a backend
    from keras import layers

    _check(spec)
    layer_table(spec, input_shape, num_classes)  # fails early, with a clear message
    name = {MLPSpec: "mlp", CNNSpec: "cnn", Conv1DSpec: "conv1d"}[type(spec)]
    stack: list = [
        keras.Input(shape=tuple(input_shape), name="row" if name == "conv1d" else "image")
    ]
    act = spec.activation
    policy = {} if dtype is None else {"dtype": dtype}
    if isinstance(spec, Conv1DSpec):
        (n,) = input_shape
        stack += [
            layers.Reshape((n, 1), name="columns_as_sequence", **policy),
            layers.Conv1D(
                spec.filters,
                spec.kernel_size,
                padding="same",
                activation=act,
                name="conv1",
                **policy,
            ),
        ]
        hidden, dropout = spec.dense, 0.0
    elif isinstance(spec, CNNSpec):
        for i, b in enumerate(spec.blocks, 1):
            for j in range(1, b.convs + 1):
                stack.append(
                    layers.Conv2D(
                        b.filters,
                        b.kernel_size,
                        strides=b.stride if j == 1 else 1,
                        padding=b.padding,
                        use_bias=not b.batch_norm,
                        activation=None if b.batch_norm else act,
                        name=f"conv{i}_{j}",
                        **policy,
                    )
                )
                if b.batch_norm:
                    stack += [
                        layers.BatchNormalization(name=f"bn{i}_{j}", **policy),
                        layers.Activation(act, name=f"{act}{i}_{j}", **policy),
                    ]
            if b.pool == "max":
                stack.append(layers.MaxPooling2D(b.pool_size, name=f"maxpool{i}", **policy))
            elif b.pool == "avg":
                stack.append(layers.AveragePooling2D(b.pool_size, name=f"avgpool{i}", **policy))
            if b.dropout:
                stack.append(layers.Dropout(b.dropout, name=f"dropout{i}", **policy))
        hidden, dropout = spec.dense, spec.dense_dropout
    else:
        hidden, dropout = spec.hidden, spec.dropout
    stack.append(layers.Flatten(name="flatten", **policy))
    for i, units in enumerate(hidden, 1):
        stack.append(layers.Dense(units, activation=act, name=f"dense{i}", **policy))
        if dropout:
            stack.append(layers.Dropout(dropout, name=f"dense_dropout{i}", **policy))
    output = {} if dtype is None else {"dtype": "float32"}
    stack.append(layers.Dense(num_classes, activation="softmax", name="output", **output))
    return keras.Sequential(stack, name=name)
