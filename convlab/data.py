"""Datasets by name (Fashion-MNIST, MNIST, CIFAR-10), read only from files that verify.

Each loader returns uint8 NumPy arrays exactly as the dataset ships them; scaling,
channel axes and splits live in :mod:`convlab.preprocess`.

Files are looked for, in order, in: an explicit directory (the ``data_dir`` argument or
``CONVLAB_DATA_DIR``), the Keras cache (``$KERAS_HOME/datasets/...``, default
``~/.keras``), the system copy (Debian's ``dataset-fashion-mnist`` installs
``/usr/share/datasets/fashion-mnist``), and finally a download through Keras. Every file is
verified before it is used: idx files by the SHA-256 of their *decompressed* content (so a
re-compressed copy still verifies), MNIST's ``mnist.npz`` and CIFAR-10's archive by the
SHA-256 Keras publishes for them. Anything wrong raises :class:`DataError` with the file,
the problem and the fix.

Example:
    >>> ds = load("fashion-mnist")  # doctest: +SKIP
    >>> assert ds.x_train.shape == (60000, 28, 28) and ds.x_train.dtype == "uint8"
    >>> assert ds.y_test.shape == (10000,)
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import math
import os
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convlab.errors import ConvlabError

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "dataset_info",
    "load",
    "load_dataset",
    "locate",
    "VOUCH_ENV",
    "vouched_hashes",
]

_KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DataError(ConvlabError, RuntimeError):
    """A dataset file is missing, corrupt or not what it claims to be.

    The message names the file, says what is wrong and how to fix it.
    """


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and which files make it.

    Attributes:
        name: the name users type (``fashion-mnist``).
        title: the name people write (``Fashion-MNIST``).
        image_shape: the model's input shape, channels last (``(28, 28, 1)``).
        class_names: label ``i`` is ``class_names[i]``.
        train_size, test_size: images in each official split.
        files: file name -> expected SHA-256. For ``idx`` files the hash is of the
            decompressed content; for ``npz`` and ``cifar10`` it is of the file itself.
        format: ``idx`` (four gzip'd idx files), ``npz`` (Keras' ``mnist.npz``) or
            ``cifar10`` (the official python-pickle tarball).
        keras_subdir: where Keras caches it, relative to ``$KERAS_HOME``.
        origin: the URL prefix Keras downloads the files from.
        system_dirs: where an operating-system package puts it.
        aliases: other file names a cache may hold (Keras renames the CIFAR tarball).
    """

    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    files: Mapping[str, str]
    format: str
    keras_subdir: str
    origin: str
    system_dirs: tuple[str, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

DATASETS: dict[str, DatasetInfo] = {
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        title="Fashion-MNIST",
        image_shape=(28, 28, 1),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        train_size=60_000,
        test_size=10_000,
        # SHA-256 of the decompressed idx content: identical for Zalando's files, Keras'
        # mirror and Debian's re-compressed copy.
        files={
            "train-images-idx3-ubyte.gz": (
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
            ),
            "train-labels-idx1-ubyte.gz": (
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
            ),
        },
        format="idx",
        keras_subdir="datasets/fashion-mnist",
        origin=_KERAS_BASE,
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST",
        image_shape=(28, 28, 1),
        class_names=tuple(str(d) for d in range(10)),
        train_size=60_000,
        test_size=10_000,
        files={"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
        format="npz",
        keras_subdir="datasets",
        origin=_KERAS_BASE,
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        title="CIFAR-10",
        image_shape=(32, 32, 3),
        class_names=(
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
        train_size=50_000,
        test_size=10_000,
        files={
            "cifar-10-python.tar.gz": (
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
            )
        },
        format="cifar10",
        keras_subdir="datasets",
        origin="https://www.cs.toronto.edu/~kriz/",
        # Names that Keras versions (2.x, then 3.x) give the archive in their cache.
        aliases={
            "cifar-10-python.tar.gz": (
                "cifar-10-batches-py.tar.gz",
                "cifar-10-batches-py_archive",
                "cifar-10-batches-py-target_archive",
            )
        },
    ),
}
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "cifar-10": "cifar10"}


def dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` for ``name``; a :class:`DataError` lists the valid names."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise DataError(f"Unknown dataset {name!r}. Valid names: {', '.join(DATASETS)}.")
    return DATASETS[key]


@dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset's official splits as uint8 arrays, and where they were read from."""

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names


# --------------------------------------------------------------------------- locating


def _keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()


def _candidate_dirs(info: DatasetInfo, data_dir: str | os.PathLike | None) -> list[Path]:
    explicit = data_dir if data_dir is not None else os.environ.get("CONVLAB_DATA_DIR")
    dirs: list[Path] = []
    if explicit:
        root = Path(explicit).expanduser()
        dirs += [root / info.name, root]
    dirs.append(_keras_home() / info.keras_subdir)
    dirs += [Path(d) for d in info.system_dirs]
    return dirs


def _find(directory: Path, info: DatasetInfo, fname: str) -> Path | None:
    for name in (fname, *info.aliases.get(fname, ())):
        if (directory / name).is_file():
            return directory / name
        # An idx file may also sit there uncompressed; its content hash is the same.
        if name.endswith(".gz") and info.format == "idx" and (directory / name[:-3]).is_file():
            return directory / name[:-3]
    return None


def locate(
    name_or_info: str | DatasetInfo,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> dict[str, Path]:
    """Find (or download) every file of a dataset; return file name -> path.

    The first directory holding any of the files is used and must hold all of them: a
    partial copy is an error rather than silently mixed with another copy.
    """
    info = _as_info(name_or_info)
    searched = _candidate_dirs(info, data_dir)
    for directory in searched:
        found = {f: _find(directory, info, f) for f in info.files}
        present = {f: p for f, p in found.items() if p is not None}
        if not present:
            continue
        missing = [f for f in info.files if f not in present]
        if missing:
            raise DataError(
                f"{info.title}: {directory} holds only part of the dataset; missing "
                f"{', '.join(missing)}. Add the missing files there, or remove the partial "
                "copy so that another source is used."
            )
        return present
    if not download:
        raise DataError(_not_found_message(info, searched, "downloads are turned off"))
    return _download(info, searched)


def _not_found_message(info: DatasetInfo, searched: list[Path], why: str) -> str:
    places = "\n".join(f"  - {d}" for d in searched)
    hint = (
        "\n  - install the system copy: sudo apt-get install dataset-fashion-mnist"
        if info.system_dirs
        else ""
    )
    return (
        f"{info.title} was not found and could not be downloaded ({why}).\n"
        f"Looked for {', '.join(info.files)} in:\n{places}\n"
        "Fix it in one of these ways:\n"
        "  - connect to the internet and run again (Keras downloads and caches it)\n"
        "  - put the files in a directory and pass data_dir=... (--data-dir on the command "
        "line) or set CONVLAB_DATA_DIR"
        f"{hint}"
    )


def _download(info: DatasetInfo, searched: list[Path]) -> dict[str, Path]:
    from keras.utils import get_file  # imported late: Keras is slow to import

    paths = {}
    cache = _keras_home()
    for fname in info.files:
        # idx hashes are of decompressed content, so Keras cannot check them; we do below.
        file_hash = info.files[fname] if info.format != "idx" else None
        try:
            # Keras reads KERAS_HOME only at import and falls back to /tmp/.keras when the
            # cache directory does not exist yet; this keeps downloads where locate() looks.
            cache.mkdir(parents=True, exist_ok=True)
            path = get_file(
                fname,
                origin=info.origin + fname,
                cache_dir=str(cache),
                cache_subdir=info.keras_subdir,
                file_hash=file_hash,
            )
        except Exception as exc:  # network errors come in many types
            raise DataError(_not_found_message(info, searched, f"download failed: {exc}")) from None
        paths[fname] = Path(path)
    return paths


def _as_info(name_or_info: str | DatasetInfo) -> DatasetInfo:
    return name_or_info if isinstance(name_or_info, DatasetInfo) else dataset_info(name_or_info)


# --------------------------------------------------------------------------- reading


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fix_hint(info: DatasetInfo) -> str:
    return (
        "Delete the file and run again to download a fresh copy"
        + (
            " (for the system copy: sudo apt-get install --reinstall dataset-fashion-mnist)"
            if info.system_dirs
            else ""
        )
        + "."
    )


VOUCH_ENV = "CONVLAB_VOUCHED_SHA256"


def vouched_hashes() -> frozenset[str]:
    """SHA-256 digests that ``CONVLAB_VOUCHED_SHA256`` (comma-separated) vouches for.

    A file whose digest is listed is accepted in place of the official one, for tests and
    builds from files in the official format that are not the official files (the
    CIFAR-10 book of the test suite). Nobody sets it by accident: it must name the exact
    64-digit digest of the file it lets in. Unpickling stays restricted either way.
    """
    raw = os.environ.get(VOUCH_ENV, "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def _check_hash(info: DatasetInfo, fname: str, path: Path, data: bytes, what: str) -> None:
    actual = _sha256(data)
    if actual != info.files[fname] and actual not in vouched_hashes():
        raise DataError(
            f"{path}: SHA-256 of the {what} is {actual}, expected {info.files[fname]}: the "
            f"file is corrupt or not the official {info.title} file. {_fix_hint(info)}"
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(
            f"{path}: cannot be read ({exc.strerror}). Check its permissions."
        ) from None


def _decompress(path: Path, info: DatasetInfo) -> bytes:
    raw = _read_bytes(path)
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(
            f"{path}: the gzip data ends too early; the file was cut off (an interrupted "
            f"download or copy). {_fix_hint(info)}"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path}: not a valid gzip file ({exc}); the file is damaged or not what its "
            f"name says. {_fix_hint(info)}"
        ) from None


def _parse_idx(path: Path, data: bytes, ndim: int, info: DatasetInfo) -> np.ndarray:
    """Parse an idx file of unsigned bytes with ``ndim`` dimensions."""
    expected_magic = 0x0800 + ndim
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{path}: only {len(data)} bytes, too short for an idx header ({header_len} "
            f"bytes); the file is cut off or not an idx file. {_fix_hint(info)}"
        )
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        kind = "image" if ndim == 3 else "label"
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(an idx {kind} file of unsigned bytes). Is the file misnamed or corrupt? "
            f"{_fix_hint(info)}"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = len(data) - header_len
    size = math.prod(dims)  # exact: a damaged header can overflow np.prod's int64
    if body != size:
        raise DataError(
            f"{path}: the header promises {' x '.join(map(str, dims))} = {size} bytes of "
            f"data but {body} follow it; the file is cut off or damaged. {_fix_hint(info)}"
        )
    return np.frombuffer(data, np.uint8, offset=header_len).reshape(dims)


def _load_idx(info: DatasetInfo, paths: Mapping[str, Path]) -> tuple[np.ndarray, ...]:
    arrays = {}
    for fname in info.files:
        path = paths[fname]
        data = _decompress(path, info)
        arrays[fname] = _parse_idx(path, data, 3 if "images" in fname else 1, info)
        _check_hash(info, fname, path, data, "decompressed content")
    out = []
    for split in ("train", "t10k"):
        x = arrays[f"{split}-images-idx3-ubyte.gz"]
        y = arrays[f"{split}-labels-idx1-ubyte.gz"]
        if len(x) != len(y):
            raise DataError(
                f"{paths[f'{split}-images-idx3-ubyte.gz']}: {len(x)} images but "
                f"{paths[f'{split}-labels-idx1-ubyte.gz']} has {len(y)} labels. "
                f"{_fix_hint(info)}"
            )
        out += [x, y]
    return tuple(out)


def _load_npz(info: DatasetInfo, paths: Mapping[str, Path]) -> tuple[np.ndarray, ...]:
    (fname,) = info.files
    path = paths[fname]
    raw = _read_bytes(path)
    _check_hash(info, fname, path, raw, "file")
    # Left to np.load, other bytes would be taken for a pickle and refused with advice to
    # unpickle them anyway.
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise DataError(f"{path}: not an npz file (a zip archive of arrays). {_fix_hint(info)}")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        raise DataError(
            f"{path}: not an npz archive of x_train, y_train, x_test and y_test "
            f"({type(exc).__name__}: {exc}). {_fix_hint(info)}"
        ) from None


_CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]

# The only globals the official CIFAR-10 batches name: NumPy's array reconstruction (under
# NumPy 1's and NumPy 2's module names). A pickle may call any global it names, so a batch
# that names anything else (a crafted archive vouched for by a custom DatasetInfo) is
# refused before it runs, as Keras' own reader refuses it.
_CIFAR_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch, refusing every global but :data:`_CIFAR_GLOBALS`."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _CIFAR_GLOBALS:
            raise pickle.UnpicklingError(
                f"the batch asks for {module}.{name}, which a CIFAR-10 batch never needs"
            )
        return super().find_class(module, name)


def _load_cifar10(info: DatasetInfo, paths: Mapping[str, Path]) -> tuple[np.ndarray, ...]:
    (fname,) = info.files
    path = paths[fname]
    raw = _read_bytes(path)
    # Verified before unpickling: pickle must only ever see the official bytes.
    _check_hash(info, fname, path, raw, "archive")
    members = [f"cifar-10-batches-py/{b}" for b in _CIFAR_BATCHES]
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            names = set(tar.getnames())
            missing = [m for m in members if m not in names]
            if missing:
                raise DataError(
                    f"{path}: the archive lacks {', '.join(missing)}, so it is not the "
                    f"complete CIFAR-10 python archive. {_fix_hint(info)}"
                )
            batches = {
                b: _CifarUnpickler(tar.extractfile(m), encoding="bytes").load()
                for b, m in zip(_CIFAR_BATCHES, members, strict=True)
            }
    # Only a verified file gets this far, so these come from a custom DatasetInfo whose
    # hash names some other file; still an error message, not a traceback.
    except (tarfile.TarError, OSError, EOFError, zlib.error, pickle.UnpicklingError) as exc:
        raise DataError(
            f"{path}: not a CIFAR-10 python archive ({type(exc).__name__}: {exc}). "
            f"{_fix_hint(info)}"
        ) from None

    def stack(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        x = np.concatenate([np.asarray(batches[n][b"data"], np.uint8) for n in names])
        y = np.concatenate([np.asarray(batches[n][b"labels"], np.uint8) for n in names])
        side = info.image_shape[0]
        if x.ndim != 2 or x.shape[1] != 3 * side * side or len(x) != len(y):
            raise DataError(
                f"{path}: batches hold data of shape {x.shape} and {len(y)} labels, expected "
                f"rows of {3 * side * side} bytes, one label each. {_fix_hint(info)}"
            )
        # Each row is 1024 red, 1024 green, then 1024 blue values, each plane row-major.
        return x.reshape(-1, 3, side, side).transpose(0, 2, 3, 1), y

    x_train, y_train = stack(_CIFAR_BATCHES[:-1])
    x_test, y_test = stack(_CIFAR_BATCHES[-1:])
    return x_train, y_train, x_test, y_test


_READERS = {"idx": _load_idx, "npz": _load_npz, "cifar10": _load_cifar10}


def load_dataset(
    info: DatasetInfo,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Dataset:
    """Load a dataset described by ``info``; see :func:`load`."""
    paths = locate(info, data_dir, download)
    x_train, y_train, x_test, y_test = _READERS[info.format](info, paths)
    for split, x, size in (("train", x_train, info.train_size), ("test", x_test, info.test_size)):
        if len(x) != size:
            raise DataError(
                f"{info.title} {split} split has {len(x)} images, expected {size} "
                f"(read from {next(iter(paths.values())).parent}). {_fix_hint(info)}"
            )
    return Dataset(
        info=info,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        source=next(iter(paths.values())).parent,
    )


def load(
    name: str,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Dataset:
    """Load ``fashion-mnist``, ``mnist`` or ``cifar10`` from verified files.

    Args:
        name: the dataset's name; a wrong name lists the valid ones.
        data_dir: a directory to read first (also ``CONVLAB_DATA_DIR``); files may sit in
            it directly or in ``data_dir/<name>/``.
        download: whether to download through Keras when no local copy exists.

    Returns:
        A :class:`Dataset` of uint8 arrays: images ``(N, H, W)`` for grayscale sets and
        ``(N, H, W, 3)`` for CIFAR-10, labels ``(N,)``.

    Raises:
        DataError: a file is missing, corrupt or fails verification; the message says how
            to fix it.
    """
    return load_dataset(dataset_info(name), data_dir, download)
