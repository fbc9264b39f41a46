"""Data loading: real Fashion-MNIST against Keras' own reader, resolution order, one exact,
readable error for every kind of missing or broken file, and the ``convlab data`` CLI."""

import gzip
import hashlib
import io
import pickle
import socket
import tarfile
import urllib.error
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import CIFAR_BATCHES, cifar_archive

from convlab.cli import main
from convlab.data import DATASETS, DataError, dataset_info, load, load_dataset, locate

SYSTEM = Path("/usr/share/datasets/fashion-mnist")
FMNIST = DATASETS["fashion-mnist"]
NAMES = tuple(FMNIST.files)  # train images, train labels, t10k images, t10k labels
FIX = (
    "Delete the file and run again to download a fresh copy (for the system copy: "
    "sudo apt-get install --reinstall dataset-fashion-mnist)."
)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user cache or CONVLAB_DATA_DIR may leak in: KERAS_HOME is an empty temp dir."""
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("CONVLAB_DATA_DIR", raising=False)
    return home


@pytest.fixture(scope="module")
def reference():
    """Fashion-MNIST as Keras' own loader reads it, pointed at the system copy."""
    import keras.src.datasets.fashion_mnist as keras_fmnist

    mp = pytest.MonkeyPatch()
    mp.setattr(keras_fmnist, "get_file", lambda fname, **kwargs: str(SYSTEM / fname))
    try:
        return keras_fmnist.load_data()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def fmnist():
    return load("fashion-mnist", download=False)


def assert_clean(excinfo):
    """The error carries no chained gzip/numpy/pickle traceback."""
    exc = excinfo.value
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


def copy_of_system(directory: Path) -> Path:
    """Links to the four system files in ``directory`` (fast; they read like copies)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        (directory / name).symlink_to(SYSTEM / name)
    return directory


# --------------------------------------------------------------------------- real data


def test_fashion_mnist_matches_keras_reader(fmnist, reference):
    (x_train, y_train), (x_test, y_test) = reference
    assert fmnist.source == SYSTEM
    for ours, theirs in [
        (fmnist.x_train, x_train),
        (fmnist.y_train, y_train),
        (fmnist.x_test, x_test),
        (fmnist.y_test, y_test),
    ]:
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(ours, theirs)
    assert fmnist.x_train.shape == (60_000, 28, 28) and fmnist.y_train.shape == (60_000,)
    assert fmnist.x_test.shape == (10_000, 28, 28) and fmnist.y_test.shape == (10_000,)
    assert np.bincount(fmnist.y_train).tolist() == [6000] * 10
    assert np.bincount(fmnist.y_test).tolist() == [1000] * 10
    assert fmnist.class_names[0] == "T-shirt/top" and fmnist.class_names[9] == "Ankle boot"
    assert fmnist.info.image_shape == (28, 28, 1) and fmnist.info.num_classes == 10


def test_recompressed_and_uncompressed_copies_verify(tmp_path, reference):
    """Hashes are of decompressed content, so any compression (or none) verifies."""
    d = tmp_path / "copy"
    d.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        (d / name[:-3]).write_bytes(gzip.decompress((SYSTEM / name).read_bytes()))
    raw = gzip.decompress((SYSTEM / "train-labels-idx1-ubyte.gz").read_bytes())
    (d / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw, compresslevel=1))
    (d / "t10k-labels-idx1-ubyte.gz").symlink_to(SYSTEM / "t10k-labels-idx1-ubyte.gz")
    assert locate("fashion-mnist", data_dir=d)["train-images-idx3-ubyte.gz"] == (
        d / "train-images-idx3-ubyte"
    )
    ds = load("fashion-mnist", data_dir=d, download=False)
    (x_train, y_train), (x_test, y_test) = reference
    assert ds.source == d
    np.testing.assert_array_equal(ds.x_train, x_train)
    np.testing.assert_array_equal(ds.y_train, y_train)
    np.testing.assert_array_equal(ds.x_test, x_test)


def test_names_and_aliases():
    assert dataset_info("Fashion_MNIST") is FMNIST
    assert dataset_info("cifar-10") is DATASETS["cifar10"]
    with pytest.raises(DataError) as e:
        load("imagenet")
    assert str(e.value) == "Unknown dataset 'imagenet'. Valid names: fashion-mnist, mnist, cifar10."
    for info in DATASETS.values():
        assert len(info.class_names) == 10
        assert all(len(h) == 64 for h in info.files.values())


# --------------------------------------------------------------------------- resolution


def test_resolution_order(tmp_path, monkeypatch, isolated):
    arg = copy_of_system(tmp_path / "arg")
    env = copy_of_system(tmp_path / "env")
    cache = copy_of_system(isolated / "datasets" / "fashion-mnist")

    def source(**kwargs):
        (where,) = {p.parent for p in locate("fashion-mnist", **kwargs).values()}
        return where

    monkeypatch.setenv("CONVLAB_DATA_DIR", str(env))
    assert source(data_dir=arg) == arg  # the argument beats the environment
    assert source() == env  # the environment beats the Keras cache
    monkeypatch.delenv("CONVLAB_DATA_DIR")
    assert source() == cache  # the Keras cache beats the system copy
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    assert source() == SYSTEM
    # An explicit directory without the files falls through to the next place.
    assert source(data_dir=tmp_path / "empty") == SYSTEM


def test_files_in_a_dataset_named_subdirectory(tmp_path, reference):
    sub = copy_of_system(tmp_path / "data" / "fashion-mnist")
    ds = load("fashion-mnist", data_dir=tmp_path / "data", download=False)
    assert ds.source == sub
    np.testing.assert_array_equal(ds.y_test, reference[1][1])


def test_partial_directory_is_an_error(tmp_path):
    d = tmp_path / "partial"
    d.mkdir()
    for name in NAMES[:2]:
        (d / name).symlink_to(SYSTEM / name)
    with pytest.raises(DataError) as e:
        locate("fashion-mnist", data_dir=d)
    assert str(e.value) == (
        f"Fashion-MNIST: {d} holds only part of the dataset; missing "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. Add the missing files there, "
        "or remove the partial copy so that another source is used."
    )


def places_and_fixes(empty: Path, home: Path, system: Path) -> str:
    return (
        f"Looked for {', '.join(NAMES)} in:\n"
        f"  - {empty / 'fashion-mnist'}\n"
        f"  - {empty}\n"
        f"  - {home / 'datasets' / 'fashion-mnist'}\n"
        f"  - {system}\n"
        "Fix it in one of these ways:\n"
        "  - connect to the internet and run again (Keras downloads and caches it)\n"
        "  - put the files in a directory and pass data_dir=... (--data-dir on the command "
        "line) or set CONVLAB_DATA_DIR\n"
        "  - install the system copy: sudo apt-get install dataset-fashion-mnist"
    )


def test_nothing_found_without_download(tmp_path, isolated):
    info = replace(FMNIST, system_dirs=(str(tmp_path / "system"),))
    empty = tmp_path / "empty"
    with pytest.raises(DataError) as e:
        load_dataset(info, data_dir=empty, download=False)
    assert str(e.value) == (
        "Fashion-MNIST was not found and could not be downloaded (downloads are turned off).\n"
        + places_and_fixes(empty, isolated, tmp_path / "system")
    )


def test_download_failure_offline(tmp_path, monkeypatch, isolated):
    """The real keras.utils.get_file runs; only its network call fails, as offline."""
    import keras.src.utils.file_utils as file_utils

    def offline(url, target, progress):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    info = replace(FMNIST, system_dirs=(str(tmp_path / "system"),))
    empty = tmp_path / "empty"
    with pytest.raises(DataError) as e:
        load_dataset(info, data_dir=empty)
    message = str(e.value)
    first, rest = message.split("\n", 1)
    assert first.startswith(
        "Fashion-MNIST was not found and could not be downloaded (download failed: URL fetch "
        "failure on https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
        "train-images-idx3-ubyte.gz"
    )
    assert "Temporary failure in name resolution" in first and first.endswith(").")
    assert rest == places_and_fixes(empty, isolated, tmp_path / "system")
    assert_clean(e)


def test_download_lands_in_the_keras_cache(tmp_path, monkeypatch, isolated, reference):
    """A (simulated) download goes where locate() looks next time: $KERAS_HOME."""
    import keras.src.utils.file_utils as file_utils

    fetched = []

    def fake_download(url, target, progress):
        # Never write outside the test's directory, even if this test fails.
        if not Path(target).is_relative_to(isolated):
            raise OSError(f"would download to {target}")
        fetched.append(url)
        Path(target).write_bytes((SYSTEM / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(file_utils, "urlretrieve", fake_download)
    info = replace(FMNIST, system_dirs=())
    ds = load_dataset(info)
    assert ds.source == isolated / "datasets" / "fashion-mnist"
    assert [u.rsplit("/", 1)[1] for u in fetched] == list(NAMES)
    np.testing.assert_array_equal(ds.y_train, reference[0][1])
    # Found in the cache now, without the network.
    assert load_dataset(info, download=False).source == ds.source


# --------------------------------------------------------------------------- corruption


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An idx file of unsigned bytes, as the format's specification lays it out."""
    magic = 0x0800 + array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def small_set(directory: Path, contents: dict[str, bytes] | None = None, compress=True):
    """Write a tiny Fashion-MNIST-format set (20 train, 10 test); return its DatasetInfo.

    ``contents`` replaces files' decompressed content; hashes are of what is written.
    """
    rng = np.random.default_rng(0)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        NAMES[1]: np.arange(20, dtype=np.uint8) % 10,
        NAMES[2]: rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        NAMES[3]: np.arange(10, dtype=np.uint8),
    }
    contents = {name: idx_bytes(a) for name, a in arrays.items()} | (contents or {})
    directory.mkdir(parents=True, exist_ok=True)
    for name, raw in contents.items():
        if compress:
            (directory / name).write_bytes(gzip.compress(raw))
        else:
            (directory / name[:-3]).write_bytes(raw)
    hashes = {name: hashlib.sha256(raw).hexdigest() for name, raw in contents.items()}
    return replace(FMNIST, files=hashes, train_size=20, test_size=10), arrays


def load_error(info, directory) -> str:
    with pytest.raises(DataError) as e:
        load_dataset(info, data_dir=directory, download=False)
    assert_clean(e)
    return str(e.value)


@pytest.mark.parametrize("compress", [True, False])
def test_small_set_loads(tmp_path, compress):
    info, arrays = small_set(tmp_path, compress=compress)
    ds = load_dataset(info, data_dir=tmp_path, download=False)
    assert ds.source == tmp_path
    np.testing.assert_array_equal(ds.x_train, arrays[NAMES[0]])
    np.testing.assert_array_equal(ds.y_test, arrays[NAMES[3]])


def test_truncated_gzip(tmp_path):
    d = copy_of_system(tmp_path / "d")
    path = d / "train-images-idx3-ubyte.gz"
    path.unlink()
    path.write_bytes((SYSTEM / path.name).read_bytes()[:100_000])
    assert load_error(FMNIST, d) == (
        f"{path}: the gzip data ends too early; the file was cut off (an interrupted download "
        f"or copy). {FIX}"
    )


def test_not_gzip_bytes(tmp_path):
    info, _ = small_set(tmp_path)
    path = tmp_path / NAMES[1]
    path.write_bytes(b"<html>Not Found</html>")  # what a broken mirror sends back
    assert load_error(info, tmp_path) == (
        f"{path}: not a valid gzip file (Not a gzipped file (b'<h')); the file is damaged or "
        f"not what its name says. {FIX}"
    )


def test_wrong_sha256_of_real_file_with_one_pixel_changed(tmp_path):
    d = copy_of_system(tmp_path / "d")
    path = d / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress((SYSTEM / path.name).read_bytes()))
    raw[16 + 28 * 14 + 14] ^= 0x01  # the middle pixel of the first test image
    path.unlink()
    path.write_bytes(gzip.compress(bytes(raw), compresslevel=1))
    actual = hashlib.sha256(raw).hexdigest()
    assert load_error(FMNIST, d) == (
        f"{path}: SHA-256 of the decompressed content is {actual}, expected "
        f"{FMNIST.files[path.name]}: the file is corrupt or not the official Fashion-MNIST "
        f"file. {FIX}"
    )


def test_wrong_magic_number(tmp_path):
    """An images file saved under a labels name."""
    rng = np.random.default_rng(1)
    images = idx_bytes(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
    info, _ = small_set(tmp_path, {NAMES[1]: images})
    assert load_error(info, tmp_path) == (
        f"{tmp_path / NAMES[1]}: wrong magic number 0x00000803, expected 0x00000801 (an idx "
        f"label file of unsigned bytes). Is the file misnamed or corrupt? {FIX}"
    )


def test_header_and_data_size_disagree(tmp_path):
    cut = idx_bytes(np.zeros((20, 28, 28), np.uint8))[: -28 * 28]  # header says 20, 19 follow
    info, _ = small_set(tmp_path, {NAMES[0]: cut})
    assert load_error(info, tmp_path) == (
        f"{tmp_path / NAMES[0]}: the header promises 20 x 28 x 28 = 15680 bytes of data but "
        f"14896 follow it; the file is cut off or damaged. {FIX}"
    )


def test_header_with_absurd_dimensions(tmp_path):
    """A damaged header whose product overflows int64 still gets the exact message."""
    header = (0x0803).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") * 3
    info, _ = small_set(tmp_path, {NAMES[0]: header + b"\0" * 10})
    size = (2**32 - 1) ** 3
    assert load_error(info, tmp_path) == (
        f"{tmp_path / NAMES[0]}: the header promises 4294967295 x 4294967295 x 4294967295 = "
        f"{size} bytes of data but 10 follow it; the file is cut off or damaged. {FIX}"
    )


def test_image_and_label_counts_disagree(tmp_path):
    info, _ = small_set(tmp_path, {NAMES[1]: idx_bytes(np.zeros(19, np.uint8))})
    assert load_error(info, tmp_path) == (
        f"{tmp_path / NAMES[0]}: 20 images but {tmp_path / NAMES[1]} has 19 labels. {FIX}"
    )


def test_file_too_short_for_a_header(tmp_path):
    info, _ = small_set(tmp_path, {NAMES[3]: b"\0\0\x08"})
    assert load_error(info, tmp_path) == (
        f"{tmp_path / NAMES[3]}: only 3 bytes, too short for an idx header (8 bytes); the file "
        f"is cut off or not an idx file. {FIX}"
    )


def test_split_size_differs_from_the_official_one(tmp_path):
    info, _ = small_set(tmp_path)
    assert load_error(replace(info, train_size=30), tmp_path) == (
        f"Fashion-MNIST train split has 20 images, expected 30 (read from {tmp_path}). {FIX}"
    )


# --------------------------------------------------------------------------- CIFAR-10

CIFAR = DATASETS["cifar10"]
CIFAR_FIX = "Delete the file and run again to download a fresh copy."


def cifar_info(raw: bytes, n=2):
    sha = hashlib.sha256(raw).hexdigest()
    return replace(CIFAR, files={"cifar-10-python.tar.gz": sha}, train_size=5 * n, test_size=n)


def test_cifar10_layout_is_channels_last_and_matches_keras(tmp_path):
    from keras.src.datasets.cifar import load_batch

    raw, batches = cifar_archive()
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(raw)
    ds = load_dataset(cifar_info(raw), data_dir=tmp_path, download=False)
    assert ds.x_train.shape == (10, 32, 32, 3) and ds.x_test.shape == (2, 32, 32, 3)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.uint8
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    data = np.concatenate([b[b"data"] for b in train])
    for i in range(10):
        for r in range(32):
            for c in range(32):
                for ch in range(3):
                    assert ds.x_train[i, r, c, ch] == data[i, ch * 1024 + r * 32 + c]
    assert ds.y_train.tolist() == sum((b[b"labels"] for b in train), [])
    assert ds.y_test.tolist() == batches["test_batch"][b"labels"]
    # Keras' own batch reader, on the same files, agrees.
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    x_test, y_test = load_batch(str(tmp_path / "x" / "cifar-10-batches-py" / "test_batch"))
    np.testing.assert_array_equal(ds.x_test, x_test.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(ds.y_test, y_test)


@pytest.mark.parametrize(
    "name",
    ["cifar-10-batches-py.tar.gz", "cifar-10-batches-py-target_archive"],
)
def test_cifar10_found_under_keras_cache_names(isolated, name):
    raw, _ = cifar_archive()
    cache = isolated / "datasets"
    cache.mkdir(parents=True)
    (cache / name).write_bytes(raw)
    ds = load_dataset(cifar_info(raw), download=False)
    assert ds.source == cache and len(ds.x_train) == 10


def test_cifar10_wrong_hash(tmp_path):
    raw, _ = cifar_archive()
    path = tmp_path / "cifar-10-python.tar.gz"
    path.write_bytes(raw)
    assert load_error(CIFAR, tmp_path) == (
        f"{path}: SHA-256 of the archive is {hashlib.sha256(raw).hexdigest()}, expected "
        f"{CIFAR.files[path.name]}: the file is corrupt or not the official CIFAR-10 file. "
        f"{CIFAR_FIX}"
    )


def test_cifar10_archive_that_is_not_an_archive(tmp_path):
    raw = b"\x89PNG garbage, but its hash is the expected one"
    path = tmp_path / "cifar-10-python.tar.gz"
    path.write_bytes(raw)
    assert load_error(cifar_info(raw), tmp_path) == (
        f"{path}: not a CIFAR-10 python archive (ReadError: not a gzip file). {CIFAR_FIX}"
    )


def test_cifar10_archive_missing_a_batch(tmp_path):
    raw, _ = cifar_archive(batches=("data_batch_1", "data_batch_2", "data_batch_4"))
    path = tmp_path / "cifar-10-python.tar.gz"
    path.write_bytes(raw)
    assert load_error(cifar_info(raw), tmp_path) == (
        f"{path}: the archive lacks cifar-10-batches-py/data_batch_3, "
        "cifar-10-batches-py/data_batch_5, cifar-10-batches-py/test_batch, so it is not the "
        f"complete CIFAR-10 python archive. {CIFAR_FIX}"
    )


# --------------------------------------------------------------------------- MNIST npz

MNIST = DATASETS["mnist"]


def test_mnist_npz_verified_and_read_like_keras(tmp_path, monkeypatch):
    import keras.src.datasets.mnist as keras_mnist

    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez_compressed(
        path,
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10, dtype=np.uint8),
    )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    info = replace(MNIST, files={"mnist.npz": sha}, train_size=20, test_size=10)
    ds = load_dataset(info, data_dir=tmp_path, download=False)
    monkeypatch.setattr(keras_mnist, "get_file", lambda *args, **kwargs: str(path))
    (x_train, y_train), (x_test, y_test) = keras_mnist.load_data()
    for ours, theirs in [(ds.x_train, x_train), (ds.y_train, y_train), (ds.x_test, x_test)]:
        np.testing.assert_array_equal(ours, theirs)
    assert ds.x_train.dtype == np.uint8 and ds.source == tmp_path
    # The real hash rejects this copy.
    assert load_error(MNIST, tmp_path) == (
        f"{path}: SHA-256 of the file is {sha}, expected {MNIST.files['mnist.npz']}: the file "
        f"is corrupt or not the official MNIST file. {CIFAR_FIX}"
    )


def test_mnist_npz_that_is_not_an_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    raw = b"not a zip archive at all"
    path.write_bytes(raw)
    info = replace(MNIST, files={"mnist.npz": hashlib.sha256(raw).hexdigest()})
    assert load_error(info, tmp_path) == (
        f"{path}: not an npz file (a zip archive of arrays). {CIFAR_FIX}"
    )


def test_mnist_npz_without_the_test_labels(tmp_path):
    path = tmp_path / "mnist.npz"
    zeros = np.zeros((2, 28, 28), np.uint8)
    np.savez(path, x_train=zeros, y_train=np.zeros(2, np.uint8), x_test=zeros)
    info = replace(MNIST, files={"mnist.npz": hashlib.sha256(path.read_bytes()).hexdigest()})
    assert load_error(info, tmp_path) == (
        f"{path}: not an npz archive of x_train, y_train, x_test and y_test (KeyError: "
        f"'y_test is not a file in the archive'). {CIFAR_FIX}"
    )


# --------------------------------------------------------------------------- the CLI
# ``convlab data verify`` / ``describe`` through ``convlab.cli.main``, as a user runs them.


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_verify_system_copy(capsys):
    code, out, err = run(capsys, "data", "verify", "fashion-mnist", "--no-download")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Fashion-MNIST (fashion-mnist): 4 files verified"
    assert lines[1] == f"  from {SYSTEM}"
    for line, name in zip(lines[2:6], NAMES, strict=True):
        size = (SYSTEM / name).stat().st_size
        assert line.split() == [
            name,
            f"{size:,}",
            "bytes",
            "SHA-256",
            DATASETS["fashion-mnist"].files[name][:16] + "...",
            "ok",
            "(decompressed",
            "content)",
        ]
    assert lines[6] == ("  train 60,000 images, test 10,000 images, each 28 x 28 x 1, 10 classes")
    assert len(lines) == 7


def test_verify_reports_the_directory_used(tmp_path, capsys):
    d = tmp_path / "mine" / "fashion-mnist"
    d.mkdir(parents=True)
    for name in NAMES:
        (d / name).symlink_to(SYSTEM / name)
    code, out, _ = run(capsys, "data", "verify", "fmnist", "--data-dir", str(d.parent))
    assert code == 0 and out.splitlines()[1] == f"  from {d}"


def test_verify_corrupt_file_exits_2_with_the_reason(tmp_path, capsys):
    for name in NAMES[1:]:
        (tmp_path / name).symlink_to(SYSTEM / name)
    broken = tmp_path / NAMES[0]
    broken.write_bytes((SYSTEM / NAMES[0]).read_bytes()[:5000])
    code, out, err = run(capsys, "data", "verify", "fashion-mnist", "--data-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err == (
        f"convlab: error: {broken}: the gzip data ends too early; the file was cut off (an "
        "interrupted download or copy). Delete the file and run again to download a fresh "
        "copy (for the system copy: sudo apt-get install --reinstall dataset-fashion-mnist).\n"
    )


def test_verify_nothing_found_offline(tmp_path, monkeypatch, capsys):
    hidden = replace(DATASETS["fashion-mnist"], system_dirs=(str(tmp_path / "none"),))
    monkeypatch.setitem(DATASETS, "fashion-mnist", hidden)
    code, out, err = run(capsys, "data", "verify", "fashion-mnist", "--no-download")
    assert code == 2 and out == ""
    assert err.startswith(
        "convlab: error: Fashion-MNIST was not found and could not be downloaded (downloads "
        "are turned off).\nLooked for train-images-idx3-ubyte.gz"
    )
    assert "  - install the system copy: sudo apt-get install dataset-fashion-mnist\n" in err


@pytest.mark.parametrize("action", ["verify", "describe"])
def test_wrong_name_lists_the_valid_ones(action, capsys):
    code, out, err = run(capsys, "data", action, "imagenet")
    assert code == 2 and out == ""
    assert err == (
        "convlab: error: Unknown dataset 'imagenet'. Valid names: fashion-mnist, mnist, cifar10.\n"
    )


def test_describe(capsys):
    code, out, err = run(capsys, "data", "describe", "fashion-mnist")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "Fashion-MNIST: 28 x 28 x 1 images (height x width x channels), 10 classes, "
        "60,000 train + 10,000 test"
    )
    assert lines[1] == f"read from {SYSTEM}"
    table = lines[lines.index("Images per class:") + 1 :][:13]
    assert table[2].split() == ["T-shirt/top", "6000", "1000"]
    assert table[12].split() == ["total", "60000", "10000"]
    stats = lines[lines.index(table[12]) + 3 :]
    assert stats[3].split() == ["train", "gray", "0", "255", "72.94", "90.02"] + [
        "0",
        "1",
        "0.286",
        "0.353",
    ]


def test_data_without_an_action_shows_help(capsys):
    code, out, _ = run(capsys, "data")
    assert code == 2 and "verify" in out and "describe" in out


def test_help_lists_the_datasets(capsys):
    with pytest.raises(SystemExit) as e:
        main(["data", "verify", "--help"])
    assert e.value.code == 0
    assert "one of fashion-mnist, mnist, cifar10" in capsys.readouterr().out


class _Gadget:
    """Unpickling this calls ``open(path, "w")``: a file appears if the reader runs it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_cifar_batch_runs_no_code(tmp_path):
    target = tmp_path / "pwned"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in CIFAR_BATCHES:
            out = io.BytesIO()
            obj = {b"data": _Gadget(target), b"labels": [0]} if name == "test_batch" else {}
            pickle.dump(obj, out, protocol=4)  # bytes as bytes: open is the first global
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(out.getvalue())
            tar.addfile(member, io.BytesIO(out.getvalue()))
    raw = buf.getvalue()
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(raw)
    # The hash vouches for this archive, as a test or a custom DatasetInfo can make it do.
    with pytest.raises(
        DataError, match=r"asks for (io|builtins)\.open, which a CIFAR-10 batch never needs"
    ):
        load_dataset(cifar_info(raw), data_dir=tmp_path, download=False)
    assert not target.exists()
    # The check itself: plain pickle would have run it.
    pickle.loads(pickle.dumps(_Gadget(tmp_path / "proof"))).close()
    assert (tmp_path / "proof").exists()


def test_a_vouched_digest_lets_in_a_file_that_is_not_the_official_one(tmp_path, monkeypatch):
    """CONVLAB_VOUCHED_SHA256 must name the file's exact digest; anything else still fails."""
    raw, _ = cifar_archive()
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(raw)
    sizes = replace(CIFAR, train_size=10, test_size=2)  # the official hash, the file's sizes
    with pytest.raises(DataError, match="SHA-256"):
        load_dataset(sizes, data_dir=tmp_path, download=False)
    monkeypatch.setenv("CONVLAB_VOUCHED_SHA256", "0" * 64 + ", " + "f" * 64)
    with pytest.raises(DataError, match="SHA-256"):
        load_dataset(sizes, data_dir=tmp_path, download=False)
    monkeypatch.setenv("CONVLAB_VOUCHED_SHA256", hashlib.sha256(raw).hexdigest().upper())
    ds = load_dataset(sizes, data_dir=tmp_path, download=False)
    assert ds.x_train.shape == (10, 32, 32, 3)
