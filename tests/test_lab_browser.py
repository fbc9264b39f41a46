"""The convolution lab in Chromium: its JavaScript arithmetic against convlab.conv.

The lab (``convlab/views/lab.js``) is a second implementation of the convolution and the
pooling. Here a page holding only the lab is served over loopback HTTP; each setting is
made through the page's own labelled controls, as a reader makes it, and the numbers the
page shows (each output cell keeps its full value in ``data-value``) are compared with
:func:`convlab.conv.conv2d` and :func:`convlab.pool.pool2d` on the same input.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NEEDS_CHROMIUM, figure_page

from convlab import conv
from convlab.pool import pool2d
from convlab.views.lab import LabError, convolution_lab

pytestmark = NEEDS_CHROMIUM
DRAW = 6  # the drawing's side: small enough that a 7x7 "valid" kernel is refused on it


def expected_kernel(name: str, k: int) -> np.ndarray:
    """The presets as the lab's text defines them."""
    w, c = np.zeros((k, k)), (k - 1) // 2
    if name == "identity":
        w[c, c] = 1
    elif name == "blur":
        w[:] = 1 / k**2
    elif name == "sharpen":
        w[:] = -1 / k**2
        w[c, c] += 2
    elif name == "vertical edge":
        w[:, 0], w[:, -1] = -1, 1
    elif name == "horizontal edge":
        w[0, :], w[-1, :] = -1, 1
    return w


# image, kernel, k, stride, padding, p, pooling, pool size, pool stride, then weights typed
# into the grid ("custom": the previous kernel, grown or cut to k, edited)
SETTINGS = [
    ("0", "identity", 3, 1, "valid", 0, "none", 2, 2, {}),
    ("0", "vertical edge", 3, 1, "same", 0, "none", 2, 2, {}),
    ("1", "horizontal edge", 5, 2, "same", 0, "max", 2, 2, {}),
    ("2", "blur", 7, 1, "valid", 0, "average", 2, 2, {}),
    ("0", "sharpen", 3, 2, "explicit", 1, "max", 3, 2, {}),
    ("1", "filter0", 3, 1, "same", 0, "none", 2, 2, {}),
    ("2", "filter1", 3, 2, "valid", 0, "max", 2, 1, {}),
    ("draw", "vertical edge", 3, 1, "valid", 0, "none", 2, 2, {}),
    ("draw", "blur", 2, 1, "same", 0, "average", 3, 3, {}),
    ("0", "identity", 1, 1, "valid", 0, "max", 2, 2, {}),
    ("0", "identity", 1, 3, "valid", 0, "none", 2, 2, {}),
    ("1", "vertical edge", 4, 1, "same", 0, "none", 2, 2, {}),
    ("2", "horizontal edge", 6, 3, "same", 0, "average", 2, 1, {}),
    ("0", "blur", 2, 2, "explicit", 3, "none", 2, 2, {}),
    ("1", "sharpen", 5, 1, "explicit", 2, "max", 2, 2, {}),
    ("2", "identity", 3, 1, "valid", 0, "none", 2, 2, {(0, 0): 0.5, (2, 1): -1.5}),
    ("draw", "custom", 4, 2, "explicit", 1, "max", 2, 1, {(1, 1): 2.0, (3, 0): -0.25}),
    ("0", "filter2", 3, 1, "same", 0, "average", 2, 2, {}),
    ("1", "blur", 3, 3, "valid", 0, "max", 1, 1, {}),
    ("2", "vertical edge", 7, 2, "explicit", 3, "none", 2, 2, {}),
    ("draw", "sharpen", 5, 1, "same", 0, "max", 3, 3, {}),
    ("0", "horizontal edge", 2, 1, "valid", 0, "average", 3, 2, {}),
    ("1", "identity", 6, 2, "valid", 0, "none", 2, 2, {}),
    ("draw", "identity", 7, 3, "explicit", 2, "average", 2, 2, {}),
]

READ = """root => {
  const values = sel => Array.from(root.querySelectorAll(sel + " tbody tr")).map(
    tr => Array.from(tr.children).map(td => Number(td.dataset.value)));
  const size = root.querySelector(".cl-size"), pooled = root.querySelector(".cl-pool-size");
  return {
    state: root.dataset.state,
    message: root.querySelector(".cl-message").textContent,
    panelsHidden: root.querySelector(".cl-panels").hidden,
    conv: values(".cl-conv-values"),
    pool: root.querySelector(".cl-pool-values").hidden ? null : values(".cl-pool-values"),
    size: size ? [Number(size.dataset.rows), Number(size.dataset.cols)] : null,
    poolSize: pooled ? [Number(pooled.dataset.rows), Number(pooled.dataset.cols)] : null,
    params: Number(root.querySelector(".cl-params").dataset.params),
    rf: root.querySelector(".cl-rf").dataset.rf.split(",").map(Number),
    drawing: Array.from(root.querySelectorAll(".cl-draw button")).map(
      b => b.getAttribute("aria-pressed") === "true" ? 1 : 0),
    text: root.innerText,
  };
}"""


@pytest.fixture(scope="module")
def lab(fmnist):
    rng = np.random.default_rng(0)
    labels = [f"{fmnist.class_names[y]} (test image {i})" for i, y in enumerate(fmnist.y_test[:3])]
    return convolution_lab(fmnist.x_test[:3], labels, rng.normal(size=(3, 3, 3, 1)), draw=DRAW)


@pytest.fixture(scope="module")
def lab_page(lab, browser, tmp_path_factory):
    site = tmp_path_factory.mktemp("lab")
    with figure_page(browser, lab, "lab", site) as (tab, errors):
        yield tab, errors, site


def set_controls(tab, image, kernel, k, stride, padding, p, pool, pool_size, pool_stride, edits):
    tab.select_option("select[name=image]", image)
    if image == "draw":  # toggle two pixels, as a reader drawing would
        buttons = tab.locator(".cl-draw button")
        buttons.nth(DRAW + 1).click()
        buttons.nth(2 * DRAW + 3).click()
    tab.fill("input[name=k]", str(k))
    tab.fill("input[name=stride]", str(stride))
    tab.select_option("select[name=padding]", padding)
    tab.fill("input[name=p]", str(p))
    tab.select_option("select[name=pool]", pool)
    tab.fill("input[name=pool-size]", str(pool_size))
    tab.fill("input[name=pool-stride]", str(pool_stride))
    if kernel != "custom":
        tab.select_option("select[name=preset]", kernel)
    for (u, v), weight in edits.items():
        tab.fill(f"input[name=w-{u}-{v}]", str(weight))


def page_input(lab, image: str, seen: dict) -> np.ndarray:
    if image == "draw":
        return np.array(seen["drawing"], dtype=np.float64).reshape(DRAW, DRAW)
    return np.array(lab.data()["images"][int(image)]["pixels"]) / 255


def test_lab_computes_what_convlab_computes(lab, lab_page):
    tab, errors, site = lab_page
    root = tab.locator(".convlab-lab")
    worst, kernel, off = 0.0, None, []
    for setting in SETTINGS:
        image, name, k, stride, padding, p, pool, pool_size, pool_stride, edits = setting
        set_controls(tab, *setting)
        seen = root.evaluate(READ)
        assert seen["state"] == "ok", (setting, seen["message"])
        x = page_input(lab, image, seen)
        if name.startswith("filter"):
            kernel = np.array(lab.data()["filters"][int(name[6:])]["weights"])
        elif name != "custom":
            kernel = expected_kernel(name, k)
        elif kernel.shape[0] != k:  # resized: the old weights kept top-left, zeros added
            grown = np.zeros((k, k))
            m = min(k, kernel.shape[0])
            grown[:m, :m] = kernel[:m, :m]
            kernel = grown
        kernel = kernel.copy()
        for (u, v), weight in edits.items():
            kernel[u, v] = weight
        pad = p if padding == "explicit" else padding
        w = kernel[:, :, None, None]
        want = conv.conv2d(x[None, :, :, None], w, stride=stride, padding=pad)
        got = np.array(seen["conv"])
        assert got.shape == want.shape[1:3], setting
        n = conv.output_size_for(x.shape[0], k, stride, pad)
        assert seen["size"] == [n, conv.output_size_for(x.shape[1], k, stride, pad)], setting
        difference = float(np.abs(got - want[0, :, :, 0]).max())
        layers = [(k, stride)]
        if pool != "none":
            pooled = pool2d(want, pool_size, pool_stride, mode=pool)[0, :, :, 0]
            assert seen["poolSize"] == list(pooled.shape), setting
            difference = max(difference, float(np.abs(np.array(seen["pool"]) - pooled).max()))
            layers.append((pool_size, pool_stride))
        else:
            assert seen["pool"] is None and seen["poolSize"] is None, setting
        stack = [r.receptive_field for r in conv.receptive_field(layers * 2)]  # 2 layers
        assert seen["rf"] == stack, setting
        assert "NaN" not in seen["text"], setting
        worst = max(worst, difference)
        off += [f"{setting[:9]}: {difference:.2e}"] if difference > 1e-5 else []
    assert worst <= 1e-5, "differences from convlab.conv:\n" + "\n".join(off)
    assert len(SETTINGS) >= 20
    tab.screenshot(path=str(site / "lab.png"), full_page=True)
    assert not errors, errors
    print(f"{len(SETTINGS)} settings, largest difference {worst:.1e}")


def test_lab_parameter_count_is_keras(lab_page):
    import keras

    tab, errors, _ = lab_page
    tab.select_option("select[name=image]", "0")
    tab.select_option("select[name=preset]", "blur")
    tab.fill("input[name=k]", "5")
    tab.fill("input[name=channels-in]", "3")
    tab.fill("input[name=filters-out]", "16")
    seen = tab.locator(".convlab-lab").evaluate(READ)
    layer = keras.layers.Conv2D(16, 5)
    layer.build((None, 28, 28, 3))
    assert seen["params"] == layer.count_params() == 1216
    assert "1,216" in seen["text"]
    assert not errors, errors


@pytest.mark.parametrize(
    "image, kernel, k, stride, padding, pool, pool_size, why",
    [
        ("draw", "identity", 7, 1, "valid", "none", 2, "larger than the padded input"),
        ("0", "vertical edge", 1, 1, "valid", "none", 2, "at least 2 columns"),
        ("0", "identity", 9, 1, "valid", "none", 2, "whole number from 1 to 7"),
        ("draw", "identity", 5, 3, "valid", "max", 3, "pool is larger than"),
    ],
)
def test_lab_refuses_settings_that_cannot_work(
    lab_page, image, kernel, k, stride, padding, pool, pool_size, why
):
    tab, errors, _ = lab_page
    tab.fill("input[name=k]", "3")
    tab.select_option("select[name=preset]", kernel)
    tab.select_option("select[name=image]", image)
    tab.fill("input[name=stride]", str(stride))
    tab.select_option("select[name=padding]", padding)
    tab.select_option("select[name=pool]", pool)
    tab.fill("input[name=pool-size]", str(pool_size))
    tab.fill("input[name=pool-stride]", str(pool_size))
    tab.fill("input[name=k]", str(k))
    seen = tab.locator(".convlab-lab").evaluate(READ)
    assert seen["state"] == "refused" and why in seen["message"], seen["message"]
    assert seen["panelsHidden"]
    assert "NaN" not in seen["text"]
    tab.fill("input[name=k]", "3")  # a setting that works brings the picture back
    tab.select_option("select[name=preset]", "identity")
    tab.select_option("select[name=pool]", "none")
    assert tab.locator(".convlab-lab").evaluate(READ)["state"] == "ok"
    assert not errors, errors


def test_lab_explains_the_pixel_under_focus_from_the_keyboard(lab, lab_page):
    tab, errors, _ = lab_page
    set_controls(tab, "0", "vertical edge", 3, 1, "valid", 0, "none", 2, 2, {})
    tab.focus(".cl-output")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        tab.keyboard.press(key)
    x = page_input(lab, "0", {})
    y = conv.conv2d(x[None, :, :, None], expected_kernel("vertical edge", 3)[:, :, None, None])
    text = tab.locator(".cl-dot").inner_text()
    value = y[0, 1, 2, 0]
    assert "y[1, 2]" in text and f"= {0 if abs(value) < 5e-3 else value:.2f}" in text, text
    assert len(tab.locator(".cl-terms td").all()) == 9
    # Every control has a label a screen reader reads.
    unlabelled = tab.evaluate(
        "() => Array.from(document.querySelectorAll('.convlab-lab input, .convlab-lab select'))"
        ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length"
    )
    assert unlabelled == 0
    assert not errors, errors


def test_lab_refuses_data_it_cannot_show(fmnist):
    with pytest.raises(LabError, match="one label per image"):
        convolution_lab(fmnist.x_test[:2], ["one"])
    with pytest.raises(LabError, match="0-255"):
        convolution_lab(np.full((1, 4, 4), 300.0), ["bright"])
    with pytest.raises(LabError, match="square kernels of size 1-7"):
        convolution_lab(fmnist.x_test[:1], ["x"], np.zeros((2, 9, 9)))
    rgb = convolution_lab(np.full((1, 4, 4, 3), [30.0, 60.0, 90.0]), ["rgb"], np.ones((1, 3, 3, 3)))
    assert rgb.data()["images"][0]["pixels"][0][0] == 60.0  # the grey version: channel mean
    assert rgb.data()["filters"][0]["weights"][0][0] == 3.0  # summed over the channels
    hostile = convolution_lab(fmnist.x_test[:1], ["</script><b>bold"])._repr_html_()
    assert "<\\/script><b>bold" in hostile  # a label cannot end the data's script element
