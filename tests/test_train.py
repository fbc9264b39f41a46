"""Training: determinism, result round trip, evaluation arithmetic, real-data integration."""

import json

import numpy as np
import pytest

from convlab import data, models, preprocess
from convlab.train import (
    TrainConfig,
    TrainError,
    TrainResult,
    confusion_shares,
    decode_classes,
    encode_classes,
    evaluate,
    fit_arguments,
    per_class_accuracy,
    precision_for,
    predict_proba,
    train,
)


@pytest.fixture(scope="module")
def fmnist():
    return data.load("fashion-mnist", download=False)


@pytest.fixture(scope="module")
def tiny(fmnist):
    return preprocess.make_splits(fmnist, val_size=200, train_size=300, test_size=200, seed=0)


SMALL_CNN = models.CNNSpec(blocks=(models.ConvBlock(4),), dense=(8,))


def test_same_seed_same_metrics_and_round_trip(tiny):
    config = TrainConfig(epochs=2, batch_size=32, patience=None)
    a = train(SMALL_CNN, tiny, config, seed=3, progress=False)
    b = train(SMALL_CNN, tiny, config, seed=3, progress=False)
    c = train(SMALL_CNN, tiny, config, seed=4, progress=False)
    assert a.history == b.history
    assert a.test_accuracy == b.test_accuracy and a.confusion == b.confusion
    assert a.history != c.history
    again = TrainResult.from_json(a.to_json())
    _strict(a.to_json())
    assert again.to_dict() == a.to_dict()
    assert again.spec == a.spec and again.config == a.config
    assert again.model is None


def test_result_fields_are_consistent(tiny):
    r = train(SMALL_CNN, tiny, TrainConfig(epochs=2, batch_size=64), seed=0, progress=False)
    assert r.epochs_run == len(r.history["val_accuracy"]) == 2
    assert set(r.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.sum(r.confusion) == len(tiny.y_test)
    assert r.params == r.model.count_params()
    # Each test image's prediction is kept, and agrees with the accuracy and the confusion.
    pred = np.asarray(r.test_predictions)
    assert len(pred) == len(tiny.y_test)
    assert np.mean(pred == tiny.y_test) == r.test_accuracy
    assert np.bincount(pred, minlength=10).tolist() == np.sum(r.confusion, axis=0).tolist()
    assert r.train_size == 300 and r.images_per_s > 0 and r.wall_time_s > 0
    assert r.backend in {"tensorflow", "jax", "torch"} and "keras" in r.versions
    # The kept weights are those of the best validation epoch.
    assert r.best_epoch == int(np.argmin(r.history["val_loss"])) + 1
    # Batched direct calls agree with Keras' own predict, including a ragged last batch.
    expected = r.model.predict(tiny.x_test, verbose=0)
    np.testing.assert_allclose(predict_proba(r.model, tiny.x_test, 64), expected, atol=1e-6)


def test_traced_prediction_is_the_eager_call_bit_for_bit(tiny):
    import gc
    import weakref

    import keras

    from convlab import train as train_module

    model = models.build(SMALL_CNN, tiny.input_shape, tiny.num_classes)
    eager = np.concatenate(
        [
            np.asarray(model(tiny.x_test[i : i + 64], training=False))
            for i in range(0, len(tiny.x_test), 64)
        ]
    )
    # 200 images at 64: three full batches and a ragged one, through one function.
    np.testing.assert_array_equal(predict_proba(model, tiny.x_test, 64), eager)
    np.testing.assert_array_equal(predict_proba(model, tiny.x_test, 64), eager)
    if keras.backend.backend() == "tensorflow":
        forward = train_module._TRACED[model]
        assert train_module._inference_function(model) is forward  # one function per model
        # Two predictions, at most two traces: full batches, then the ragged rest.
        assert forward.experimental_get_tracing_count() <= 2
        # The cache keeps no model alive.
        gone = weakref.ref(model)
        del model, forward
        gc.collect()
        assert gone() is None


def test_every_epoch_takes_every_batch_once(tiny):
    # 300 images at batch 32: 10 steps an epoch, not a multiple of the steps per call.
    r = train(
        SMALL_CNN, tiny, TrainConfig(epochs=2, batch_size=32, patience=None), seed=0, progress=False
    )
    assert int(r.model.optimizer.iterations) == 2 * 10


def test_fit_arguments_reshuffle_every_epoch_from_the_seed():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    args = fit_arguments(x, y, (x[:3], y[:3]), batch_size=4, seed=7)

    def epoch(data):
        batches = [(np.asarray(bx).ravel(), np.asarray(by)) for bx, by in data]
        assert all(np.array_equal(bx, by) for bx, by in batches)  # images stay with labels
        return np.concatenate([by for _, by in batches])

    first, second = epoch(args["x"]), epoch(args["x"])
    assert sorted(first) == sorted(second) == list(range(10))  # every image once an epoch
    assert list(first) != list(second) and list(first) != list(range(10))
    again = fit_arguments(x, y, None, batch_size=4, seed=7)
    assert list(epoch(again["x"])) == list(first)  # the same seed, the same order
    assert list(epoch(args["validation_data"])) == [0, 1, 2]  # validation in order


def test_evaluate_against_hand_computed_values():
    class Fixed:  # a "model" whose predictions we choose
        def __call__(self, x, training):
            return np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])[: len(x)]

    m = evaluate(Fixed(), np.zeros((4, 1)), np.array([0, 1, 1, 1]), 2)
    assert m["test_accuracy"] == 0.75
    assert m["confusion"] == ((1, 0), (1, 2))
    assert m["per_class_accuracy"] == (1.0, 2 / 3)
    assert m["test_predictions"] == (0, 1, 0, 1)
    expected_loss = -np.mean(np.log([0.9, 0.8, 0.4, 0.7]))
    assert m["test_loss"] == pytest.approx(expected_loss)


def _strict(text: str):
    """json.loads that refuses NaN and Infinity, which plain json.loads accepts."""

    def refuse(token):
        raise ValueError(f"not standard JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_round_trip_is_standard_json_even_for_missing_numbers():
    import conftest

    # A class without test images has no accuracy (NaN): standard JSON writes it as null.
    r = conftest.fake_result(
        SMALL_CNN, TrainConfig(), 0, 0.5, per_class_accuracy=(0.5, float("nan"))
    )
    text = r.to_json()
    assert _strict(text)["per_class_accuracy"] == [0.5, None]
    again = TrainResult.from_json(text)
    assert again.per_class_accuracy[0] == 0.5 and np.isnan(again.per_class_accuracy[1])
    with pytest.raises(ValueError, match="not standard JSON"):
        _strict('{"x": NaN}')  # the check itself can fail


def test_predictions_are_stored_one_character_each():
    import conftest

    preds = tuple(range(36)) + (9, 0)
    r = conftest.fake_result(SMALL_CNN, TrainConfig(), 0, 0.5, test_predictions=preds)
    assert r.to_dict()["test_predictions"] == "0123456789abcdefghijklmnopqrstuvwxyz90"
    assert TrainResult.from_json(r.to_json()).test_predictions == preds
    assert decode_classes(encode_classes((3, 1, 4))) == (3, 1, 4)
    with pytest.raises(TrainError, match="0..35"):
        encode_classes([36])


def test_confusion_shares_and_per_class_accuracy_mark_empty_classes_missing():
    shares = confusion_shares(((8, 2), (0, 0)))
    np.testing.assert_allclose(shares[0], [0.8, 0.2])
    assert np.isnan(shares[1]).all()  # no examples: no shares, not "always wrong"
    acc = per_class_accuracy(((8, 2, 0), (1, 9, 0), (0, 0, 0)))
    np.testing.assert_allclose(acc[:2], [0.8, 0.9])
    assert np.isnan(acc[2])
    with pytest.raises(TrainError, match="square"):
        confusion_shares([[1, 2, 3]])


def test_bad_configs_fail_clearly(tiny):
    with pytest.raises(TrainError, match="schedule must be 'constant' or 'cosine'"):
        train(SMALL_CNN, tiny, TrainConfig(epochs=1, schedule="step"), progress=False)
    with pytest.raises(TrainError, match="epochs and batch_size must be >= 1"):
        train(SMALL_CNN, tiny, TrainConfig(epochs=0), progress=False)
    with pytest.raises(TrainError, match="Unknown optimizer 'adamw2'"):
        train(SMALL_CNN, tiny, TrainConfig(epochs=1, optimizer="adamw2"), progress=False)


def test_cnn_beats_mlp_on_real_fashion_mnist(fmnist):
    """The reference CNN and MLP, one epoch on a 2,000-image stratified slice, 3 seeds."""
    splits = preprocess.make_splits(fmnist, val_size=1000, train_size=2000, seed=0)
    assert np.all(np.bincount(splits.y_train) == 200)
    # Small batches: one epoch of 2,000 images is only 125 steps.
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=2e-3)
    acc = {
        name: np.mean(
            [
                train(models.reference(name), splits, config, seed=s, progress=False).test_accuracy
                for s in range(3)
            ]
        )
        for name in ("mlp", "cnn")
    }
    assert acc["mlp"] > 0.6 and acc["cnn"] > 0.6  # chance is 0.1
    assert acc["cnn"] > acc["mlp"], acc


def _shifts_and_flips(image: np.ndarray, out: np.ndarray, max_shift: int) -> set:
    """Which (flip, dy, dx) turn ``image`` into ``out`` (zero fill); empty if none does."""
    from convlab.inspect import shift_images

    found = set()
    for flip in (False, True):
        src = image[:, ::-1] if flip else image
        for dy in range(-max_shift, max_shift + 1):
            for dx in range(-max_shift, max_shift + 1):
                moved = shift_images(src[None, ..., None], dx=dx, dy=dy)[0, ..., 0]
                if np.array_equal(moved, out):
                    found.add((flip, dy, dx))
    return found


def test_augmentation_flips_and_shifts_whole_pixels_in_training_only():
    import keras

    from convlab.train import _augmented

    identity = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Identity()])
    trainer = _augmented(identity, TrainConfig(augment_flip=True, augment_shift=2), (12, 12, 1), 0)
    image = np.zeros((12, 12), np.float32)
    image[4:8, 3:6] = np.arange(12).reshape(4, 3) + 1  # asymmetric, away from the border
    batch = np.repeat(image[None, ..., None], 64, axis=0)
    np.testing.assert_array_equal(np.asarray(trainer(batch, training=False)), batch)
    out = np.asarray(trainer(batch, training=True))[..., 0]
    seen = [_shifts_and_flips(image, o, 2) for o in out]
    assert all(seen), "an augmented image is not a flip + whole-pixel shift of <= 2 px"
    flips = {f for s in seen for f, _, _ in s}
    shifts = {(dy, dx) for s in seen for _, dy, dx in s}
    assert flips == {False, True} and len(shifts) > 5  # both kinds actually happen
    assert _augmented(identity, TrainConfig(), (12, 12, 1), 0) is identity


def test_augmented_training_keeps_the_plain_model_and_is_seeded(tiny):
    config = TrainConfig(epochs=1, batch_size=32, patience=None, augment_flip=True, augment_shift=2)
    a = train(SMALL_CNN, tiny, config, seed=1, progress=False)
    b = train(SMALL_CNN, tiny, config, seed=1, progress=False)
    plain = train(
        SMALL_CNN, tiny, TrainConfig(epochs=1, batch_size=32, patience=None), seed=1, progress=False
    )
    assert a.history == b.history and a.history != plain.history
    assert not any("random" in layer.name for layer in a.model.layers)
    assert a.model.count_params() == a.params == plain.params
    with pytest.raises(TrainError, match="augment_shift must be >= 0"):
        train(SMALL_CNN, tiny, TrainConfig(epochs=1, augment_shift=-1), progress=False)


def test_mixed_bfloat16_trains_in_bfloat16_and_returns_a_float32_model(tiny):
    spec = models.CNNSpec(blocks=(models.ConvBlock(4, batch_norm=True),), dense=(8,))
    mixed = models.build(spec, (28, 28, 1), 10, dtype="mixed_bfloat16")
    hidden, output = mixed.layers[:-1], mixed.layers[-1]
    assert {layer.compute_dtype for layer in hidden} == {"bfloat16"}
    assert {w.dtype for w in mixed.weights} == {"float32"}  # float32 master weights
    assert output.compute_dtype == "float32" and mixed.count_params() == models.count_params(
        spec, (28, 28, 1), 10
    )
    config = TrainConfig(epochs=2, batch_size=32, patience=None, precision="mixed_bfloat16")
    a = train(spec, tiny, config, seed=2, progress=False)
    b = train(spec, tiny, config, seed=2, progress=False)
    assert a.history == b.history and a.test_accuracy == b.test_accuracy  # still seeded
    assert {layer.compute_dtype for layer in a.model.layers} == {"float32"}
    assert a.test_accuracy == evaluate(a.model, tiny.x_test, tiny.y_test, 10)["test_accuracy"]
    assert a.history["loss"][-1] < a.history["loss"][0]  # it learns
    with pytest.raises(TrainError, match="precision must be one of float32, mixed_bfloat16"):
        train(spec, tiny, TrainConfig(epochs=1, precision="float16"), progress=False)


@pytest.mark.parametrize(
    "backend, gpu, flags, expected",
    [
        ("tensorflow", False, "fpu avx512f amx_bf16 amx_tile", "mixed_bfloat16"),
        ("tensorflow", False, "fpu avx2 fma", "float32"),  # bfloat16 would be emulated
        ("tensorflow", False, "fpu avx512_bf16", "float32"),  # not measured: kept float32
        ("tensorflow", True, "fpu amx_bf16", "float32"),  # GPUs not measured
        ("jax", False, "fpu amx_bf16", "float32"),
        ("tensorflow", False, "", "float32"),  # flags unknown
    ],
)
def test_precision_for_the_machine(backend, gpu, flags, expected):
    assert precision_for(backend, gpu, flags) == expected


def test_train_command_reports_its_precision(capsys):
    from convlab.cli import main

    args = ["train", "--model", "mlp", "--epochs", "1", "--subset", "300", "--quiet"]
    assert main([*args, "--val-size", "200", "--precision", "mixed_bfloat16"]) == 0
    assert "mixed_bfloat16)" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse rejects it, with the choices
        main([*args, "--precision", "float16"])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_training_many_models_does_not_print_tensorflows_retracing_warning(tiny, caplog):
    """Each fresh model traces its own functions; after five, TensorFlow would warn on every
    one, and the warning would land on a book page. Other TensorFlow warnings still pass."""
    import logging

    config = TrainConfig(epochs=1, batch_size=64, patience=None)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for seed in range(7):
            train(SMALL_CNN, tiny, config, seed=seed, progress=False)
        logging.getLogger("tensorflow").warning("another warning")
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "retracing" in m]
    assert "another warning" in messages
