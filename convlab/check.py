"""Self-checks for the exercises: a reader's function against convlab's, on many inputs.

Each check calls the reader's function on a fixed set of cases (random inputs from a fixed
seed, every kernel size, stride, padding and mode the exercise asks for), compares the
result with convlab's reference implementation, and says in words what differs: the
first failing case's arguments, the expected and the received shape or value, or the
exception the function raised. A check never raises for a wrong answer; it returns a
:class:`CheckResult` that prints as one paragraph in a notebook.

Example:
    >>> from convlab import conv
    >>> print(check.output_size(conv.output_size))  # doctest: +SKIP
    output_size: all 96 cases agree with convlab.conv.output_size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from convlab import conv, pool

__all__ = ["CheckResult", "conv2d", "conv_params", "output_size", "pool2d", "receptive_field"]

TOLERANCE = 1e-5


@dataclass(frozen=True)
class CheckResult:
    """How a reader's function compares with the reference, case by case."""

    name: str  # the function checked, e.g. "pool2d"
    reference: str  # what it was compared with, e.g. "convlab.pool.pool2d"
    cases: int
    failures: tuple[str, ...]  # one sentence per failing case, in case order

    @property
    def passed(self) -> bool:
        return not self.failures

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"{self.name}: all {self.cases} cases agree with {self.reference}."
        more = len(self.failures) - 1
        rest = f" ({more} more failing case{'s' if more != 1 else ''})" if more else ""
        return (
            f"{self.name}: {len(self.failures)} of {self.cases} cases differ from "
            f"{self.reference}. First: {self.failures[0]}{rest}"
        )

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        mark = "**passed**" if self.passed else "**not yet**"
        return f"{mark}: {self}"


def _describe(kwargs: dict) -> str:
    def show(v):
        return f"array of shape {v.shape}" if isinstance(v, np.ndarray) else repr(v)

    return ", ".join(f"{k}={show(v)}" for k, v in kwargs.items())


def _compare(expected, got, exact: bool) -> str | None:
    """Why ``got`` is not ``expected`` (None if it is)."""
    if exact:
        return None if got == expected else f"expected {expected!r}, got {got!r}."
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array of shape {np.shape(expected)}, got {type(got).__name__}."
    if got_array.shape != expected.shape:
        return f"expected shape {expected.shape}, got {got_array.shape}."
    if np.isnan(got_array).any():
        at = tuple(int(i) for i in np.argwhere(np.isnan(got_array))[0])
        return f"got NaN at index {at} (expected {expected[at]:.6g})."
    diff = np.abs(got_array - expected)
    if np.all(diff <= TOLERANCE):
        return None
    at = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return (
        f"values differ by up to {float(diff.max()):.3g} (at index "
        f"{tuple(int(i) for i in at)}: expected {expected[at]:.6g}, got {got_array[at]:.6g})."
    )


def _run(
    name: str,
    reference: str,
    fn: Callable,
    ref: Callable,
    cases: Iterable[dict],
    exact: bool = False,
) -> CheckResult:
    failures, count = [], 0
    for kwargs in cases:
        count += 1
        expected = ref(**kwargs)
        try:
            # Positional, so a reader's own parameter names work; copies, so a function
            # that writes into its input cannot change the next case.
            got = fn(*(v.copy() if isinstance(v, np.ndarray) else v for v in kwargs.values()))
        except Exception as error:  # the reader's bug, reported as a finding
            failures.append(f"{_describe(kwargs)}: raised {type(error).__name__}: {error}")
            continue
        why = _compare(expected, got, exact)
        if why:
            failures.append(f"{_describe(kwargs)}: {why}")
    return CheckResult(name, reference, count, tuple(failures))


def _callable(name: str, fn: object) -> None:
    if not callable(fn):
        raise TypeError(f"check.{name} takes your function, got {type(fn).__name__} {fn!r}.")


def _rng():
    return np.random.default_rng(20261204)


def output_size(fn: Callable[..., int]) -> CheckResult:
    """``fn(n, k, p, s)`` against :func:`convlab.conv.output_size`, for every ``n`` in
    4..9, ``k`` in 1..3 and 5, ``p`` in 0..1 and ``s`` in 1..2 (kernel inside the padded
    input)."""
    _callable("output_size", fn)
    cases = (
        dict(n=n, k=k, p=p, s=s)
        for n, k, p, s in itertools.product(range(4, 10), (1, 2, 3, 5), (0, 1), (1, 2))
        if k <= n + 2 * p
    )
    return _run("output_size", "convlab.conv.output_size", fn, conv.output_size, cases, exact=True)


def receptive_field(fn: Callable[..., list[int]]) -> CheckResult:
    """``fn(layers)``, the receptive field after each ``(kernel, stride)`` layer as a list
    of ints, against :func:`convlab.conv.receptive_field`."""
    _callable("receptive_field", fn)
    stacks = [
        [(3, 1)],
        [(3, 1), (3, 1)],
        [(5, 1), (2, 2)],
        [(3, 1), (2, 2), (3, 1), (2, 2)],
        [(3, 2), (3, 2), (3, 2)],
        [(7, 2), (3, 2), (3, 1), (3, 1), (2, 2)],
    ]

    def ref(layers):
        return [r.receptive_field for r in conv.receptive_field(layers)]

    def as_ints(layers):
        return [int(v) for v in fn(layers)]

    cases = (dict(layers=s) for s in stacks)
    return _run("receptive_field", "convlab.conv.receptive_field", as_ints, ref, cases, exact=True)


def conv_params(fn: Callable[..., int]) -> CheckResult:
    """``fn(k, c_in, c_out)``, the parameters of a ``k x k`` ``Conv2D`` with bias, against
    ``k * k * c_in * c_out + c_out`` (the test suite checks that against Keras)."""
    _callable("conv_params", fn)

    def ref(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    cases = (
        dict(k=k, c_in=c, c_out=f)
        for k, c, f in itertools.product((1, 3, 5), (1, 3, 32), (1, 16, 64))
    )
    return _run("conv_params", "k*k*C_in*C_out + C_out", fn, ref, cases, exact=True)


def conv2d(fn: Callable[..., np.ndarray]) -> CheckResult:
    """``fn(x, w, b, stride, padding)`` against :func:`convlab.conv.conv2d` on random
    NHWC inputs: kernels 1, 2, 3 and 5, strides 1 and 2, paddings ``"valid"``,
    ``"same"`` and 1, one or three input channels and one or four filters."""
    _callable("conv2d", fn)
    rng = _rng()

    def cases():
        for k, s, p, (c_in, c_out) in itertools.product(
            (1, 2, 3, 5), (1, 2), ("valid", "same", 1), ((1, 1), (3, 4))
        ):
            yield dict(
                x=rng.standard_normal((2, 7, 8, c_in)),
                w=rng.standard_normal((k, k, c_in, c_out)),
                b=rng.standard_normal(c_out),
                stride=s,
                padding=p,
            )

    return _run("conv2d", "convlab.conv.conv2d", fn, conv.conv2d, cases())


def pool2d(fn: Callable[..., np.ndarray]) -> CheckResult:
    """``fn(x, pool_size, stride, padding, mode)`` against :func:`convlab.pool.pool2d`
    (itself checked against Keras' pooling layers): pool sizes 2 and 3, strides None
    (= pool size) and 1, ``"valid"`` and ``"same"``, ``"max"`` and ``"average"``."""
    _callable("pool2d", fn)
    rng = _rng()

    def cases():
        for size, stride, padding, mode in itertools.product(
            (2, 3), (None, 1), ("valid", "same"), pool.MODES
        ):
            yield dict(
                x=rng.standard_normal((2, 7, 6, 3)),
                pool_size=size,
                stride=stride,
                padding=padding,
                mode=mode,
            )

    return _run("pool2d", "convlab.pool.pool2d", fn, pool.pool2d, cases())
