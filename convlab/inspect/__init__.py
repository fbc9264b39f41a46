"""Interpretation: make a CNN's inductive bias visible and measurable.

- :mod:`~convlab.inspect.filters`: the learned first-layer filters.
- :mod:`~convlab.inspect.features`: feature maps of every conv layer for one image.
- :mod:`~convlab.inspect.errors`: per-class accuracy side by side, confused pairs, mistakes.
- :mod:`~convlab.inspect.translation`: accuracy under shifts; equivariance of a conv layer.
- :mod:`~convlab.inspect.shift_robustness`: how much accuracy each arm of a study loses on
  shifted images, paired by seed and image (e.g. pooling against none).
- :mod:`~convlab.inspect.locality`: one fixed pixel permutation for every image.
- :mod:`~convlab.inspect.receptive`: receptive field of each layer, drawn on an image.
- :mod:`~convlab.inspect.tabular`: a 1-D CNN against an MLP on a table with unordered
  columns (:mod:`convlab.tabular`).

Functions return data (NumPy arrays, pandas DataFrames) or matplotlib Figures; none prints
or shows anything.
"""

from convlab.inspect._common import InspectError
from convlab.inspect.errors import (
    confused_pairs,
    confused_pairs_figure,
    misclassified_gallery,
    misclassified_indices,
    per_class_figure,
    per_class_table,
    predict_classes,
)
from convlab.inspect.features import feature_map_figure, feature_maps
from convlab.inspect.filters import conv_layers, filter_grid, first_layer_filters
from convlab.inspect.locality import (
    inverse_permutation,
    permutation_figure,
    pixel_permutation,
    reorder_pixels,
)
from convlab.inspect.receptive import (
    receptive_field_boxes,
    receptive_field_figure,
    receptive_field_table,
)
from convlab.inspect.shift_robustness import ShiftRobustness, shift_robustness
from convlab.inspect.tabular import (
    TABULAR_MODELS,
    compare_on_tabular,
    conv_minus_mlp,
    summarize_runs,
    tabular_reading,
)
from convlab.inspect.translation import (
    accuracy_vs_shift,
    equivariance_error,
    shift_figure,
    shift_images,
    shift_response,
)

__all__ = [
    "TABULAR_MODELS",
    "ShiftRobustness",
    "InspectError",
    "accuracy_vs_shift",
    "compare_on_tabular",
    "confused_pairs",
    "confused_pairs_figure",
    "conv_layers",
    "conv_minus_mlp",
    "equivariance_error",
    "feature_map_figure",
    "feature_maps",
    "filter_grid",
    "first_layer_filters",
    "inverse_permutation",
    "misclassified_gallery",
    "misclassified_indices",
    "per_class_figure",
    "per_class_table",
    "permutation_figure",
    "pixel_permutation",
    "predict_classes",
    "receptive_field_boxes",
    "receptive_field_figure",
    "receptive_field_table",
    "reorder_pixels",
    "shift_figure",
    "shift_images",
    "shift_response",
    "shift_robustness",
    "summarize_runs",
    "tabular_reading",
]
