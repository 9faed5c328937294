"""Recognising model, data and index files by their first bytes, never by their name.

A file called ``model.safetensors`` can be a pickle, and a pickle called ``weights.txt`` still runs
code when loaded, so every reader here looks at content. Each reader is bounded: it reads a fixed
head (``HEAD_BYTES``) and, for formats whose header is longer (safetensors JSON, GGUF key/values,
NumPy header, a ZIP's central directory), at most a stated number of bytes more. Nothing here
imports a framework (torch, onnx, h5py, safetensors) and nothing is ever unpickled.

``sniff(handle, size)`` returns a ``Sniffed`` (format, what the header says) or None when the
content is none of the known formats; ``CorruptFile`` when it starts like a known format and then
breaks its rules.
"""

from __future__ import annotations

import ast
import io
import json
import math
import pickletools
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO

HEAD_BYTES = 64
"""Enough for every magic number below; the first read of every file is this size."""
SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024
"""The safetensors specification caps the JSON header at 100 MB."""
GGUF_METADATA_BUDGET = 1024 * 1024
"""GGUF's general.* keys come first; the tokenizer arrays after them can be megabytes."""
NUMPY_MAX_HEADER = 64 * 1024
HDF5_PROBE_BYTES = 256 * 1024
"""Keras writes its root attributes (keras_version, model_config) near the start of the file."""
MAX_ZIP_MEMBER_READ = 4 * 1024 * 1024


class ArtifactFormat(StrEnum):
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    ONNX = "onnx"
    PICKLE = "pickle"
    PYTORCH_ZIP = "pytorch_zip"
    KERAS_H5 = "keras_h5"
    KERAS_V3 = "keras_v3"
    TFLITE = "tflite"
    NUMPY = "numpy"
    NUMPY_NPZ = "numpy_npz"
    PARQUET = "parquet"
    FAISS = "faiss"


MODEL_FORMATS = frozenset(
    {
        ArtifactFormat.SAFETENSORS,
        ArtifactFormat.GGUF,
        ArtifactFormat.ONNX,
        ArtifactFormat.PICKLE,
        ArtifactFormat.PYTORCH_ZIP,
        ArtifactFormat.KERAS_H5,
        ArtifactFormat.KERAS_V3,
        ArtifactFormat.TFLITE,
        ArtifactFormat.NUMPY,
        ArtifactFormat.NUMPY_NPZ,
    }
)
PICKLE_BASED = frozenset(
    {ArtifactFormat.PICKLE, ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.NUMPY_NPZ}
)
"""Formats that carry pickle streams (a NumPy file does only when its dtype holds objects)."""

EXTENSION_FORMATS: dict[str, frozenset[ArtifactFormat]] = {
    ".safetensors": frozenset({ArtifactFormat.SAFETENSORS}),
    ".gguf": frozenset({ArtifactFormat.GGUF}),
    ".onnx": frozenset({ArtifactFormat.ONNX}),
    ".pkl": frozenset({ArtifactFormat.PICKLE}),
    ".pickle": frozenset({ArtifactFormat.PICKLE}),
    ".joblib": frozenset({ArtifactFormat.PICKLE}),
    ".pt": frozenset({ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.PICKLE}),
    ".pth": frozenset({ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.PICKLE}),
    ".bin": frozenset({ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.PICKLE}),
    ".ckpt": frozenset({ArtifactFormat.PYTORCH_ZIP, ArtifactFormat.PICKLE}),
    ".h5": frozenset({ArtifactFormat.KERAS_H5}),
    ".hdf5": frozenset({ArtifactFormat.KERAS_H5}),
    ".keras": frozenset({ArtifactFormat.KERAS_V3, ArtifactFormat.KERAS_H5}),
    ".tflite": frozenset({ArtifactFormat.TFLITE}),
    ".npy": frozenset({ArtifactFormat.NUMPY}),
    ".npz": frozenset({ArtifactFormat.NUMPY_NPZ}),
    ".parquet": frozenset({ArtifactFormat.PARQUET}),
}
"""What a name promises. Used only to notice a file that is not what its name says."""

SAFE_EXTENSIONS = frozenset({".safetensors", ".gguf", ".onnx", ".npy", ".parquet", ".tflite"})
"""Names that promise a format which cannot run code when loaded; pickle under one is a lure."""

# fmt: off
_FAISS_FOURCC = frozenset({
    "IxFI", "IxF2", "IxFl", "IxHE", "IxHe", "IxPQ", "IxPo", "IxPq", "IxRQ", "IxRq", "IxLS", "IxPR",
    "IxPL", "ImRQ", "ILfs", "IRfs", "IPRf", "IPLf", "IVLf", "IVRf", "NPLf", "NPRf", "IvFl", "IvFL",
    "IwFd", "IwFl", "IxSQ", "IxLa", "IvSQ", "IwSQ", "IwSq", "IwLS", "IwRQ", "IwPL", "IwPR", "IwSh",
    "IvPQ", "IvQR", "IwPQ", "IwQR", "IwIQ", "IxPT", "Imiq", "IxRF", "IxMp", "IxM2", "Ix2L", "IHNf",
    "IHNp", "IHNs", "IHN2", "IHNc", "INSf", "INNf", "IxFP", "IRMf", "IRMh", "IBxF", "IBwF", "IBHf",
    "IBMp", "IBM2", "IBFf", "IBHh",
})
# fmt: on
"""FAISS ``write_index`` tags (faiss/impl/index_read.cpp); the first four bytes of an index."""
_FAISS_HEADERLESS = frozenset({"IxLa", "Ix2L"})

_PICKLE_PROTOCOLS = frozenset(b"\x02\x03\x04\x05")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_NUMPY_MAGIC = b"\x93NUMPY"

_ONNX_FIELDS = {
    # ModelProto field number -> protobuf wire type (onnx/onnx.proto3)
    1: 0,  # ir_version
    2: 2,  # producer_name
    3: 2,  # producer_version
    4: 2,  # domain
    5: 0,  # model_version
    6: 2,  # doc_string
    7: 2,  # graph
    8: 2,  # opset_import
    14: 2,  # metadata_props
    20: 2,  # training_info
    25: 2,  # functions
}
_ONNX_IR_VERSIONS = range(3, 20)
"""IR 3 is from 2017. TensorFlow's saved_model.pb also opens with field 1 = 1, so IR 1-2 are
treated as "not ONNX" rather than guessed at."""


_Reader = Callable[[BinaryIO, bytes, int], "Sniffed | None"]


class CorruptFile(ValueError):
    """The content starts like ``fmt`` and then breaks that format's rules."""

    def __init__(self, fmt: ArtifactFormat, message: str) -> None:
        super().__init__(f"{fmt.value}: {message}")
        self.format = fmt


@dataclass
class Sniffed:
    format: ArtifactFormat
    how: str
    """One line: which bytes identified the format (for the evidence record)."""
    parameter_count: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    """Header facts worth keeping: tensor count, dtypes, architecture, licence, dimension."""
    object_arrays: bool = False
    """A NumPy file (or member) whose dtype holds Python objects, i.e. a pickle."""


def extension_formats(name: str) -> frozenset[ArtifactFormat]:
    dot = name.rfind(".")
    return EXTENSION_FORMATS.get(name[dot:].lower(), frozenset()) if dot > 0 else frozenset()


def sniff(handle: BinaryIO, size: int) -> Sniffed | None:  # noqa: PLR0911 - one exit per format
    """Identify the open file ``handle`` (positioned anywhere) of ``size`` bytes by content."""
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    if len(head) < 8:
        return None
    reader = _by_magic(head)
    if reader is not None:
        return reader(handle, head, size)
    if _looks_like_safetensors(head, size):
        return _safetensors(handle, head, size)
    if head[4:8] == b"TFL3":
        return Sniffed(ArtifactFormat.TFLITE, "FlatBuffers identifier TFL3 at byte 4")
    if head[:4].decode("latin-1") in _FAISS_FOURCC:
        return _faiss(head, size)
    if head[0] == 0x08:
        return _onnx(head, size)
    return None


def _by_magic(head: bytes) -> _Reader | None:  # noqa: PLR0911 - a dispatch table by magic
    if head[:4] == b"GGUF":
        return _gguf
    if head[0] == 0x80 and head[1] in _PICKLE_PROTOCOLS:
        return _pickle
    if head.startswith(_ZIP_MAGIC):
        return _zip
    if head.startswith(_NUMPY_MAGIC):
        return _numpy
    if head.startswith(_HDF5_MAGIC):
        return _hdf5
    if head.startswith(b"PAR1"):
        return _parquet
    return None


# --- safetensors ----------------------------------------------------------------------------------


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    (length,) = struct.unpack_from("<Q", head)
    return 2 <= length <= min(SAFETENSORS_MAX_HEADER, size - 8) and head[8:9] == b"{"


def _safetensors(handle: BinaryIO, head: bytes, size: int) -> Sniffed:
    (length,) = struct.unpack_from("<Q", head)
    handle.seek(8)
    raw = handle.read(length)
    fmt = ArtifactFormat.SAFETENSORS
    if len(raw) != length:
        raise CorruptFile(fmt, f"header says {length} bytes, file has {len(raw)}")
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFile(fmt, f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CorruptFile(fmt, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    parameters = 0
    dtypes: set[str] = set()
    data_end = 0
    for name, info in header.items():
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list):
            raise CorruptFile(fmt, f"tensor {name[:80]!r} has no shape")
        offsets = info.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise CorruptFile(fmt, f"tensor {name[:80]!r} has no data_offsets")
        dims = [d for d in info["shape"] if isinstance(d, int) and d >= 0]
        parameters += math.prod(dims)
        dtypes.add(str(info.get("dtype", "?")))
        data_end = max(data_end, int(offsets[1]))
    if 8 + length + data_end > size:
        raise CorruptFile(fmt, f"tensors end at byte {8 + length + data_end}, file has {size}")
    facts: dict[str, Any] = {"tensors": len(header), "dtypes": sorted(dtypes)}
    if isinstance(metadata, dict):
        facts["metadata"] = {str(k)[:100]: str(v)[:200] for k, v in list(metadata.items())[:20]}
    return Sniffed(
        fmt,
        f"safetensors: {length}-byte JSON header after its little-endian length",
        parameter_count=parameters or None,
        metadata=facts,
    )


# --- GGUF -----------------------------------------------------------------------------------------

_GGUF_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_GGUF_WANTED = (
    "general.architecture",
    "general.name",
    "general.license",
    "general.size_label",
    "general.basename",
    "general.parameter_count",
)


class _Budget:
    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self.handle = handle
        self.left = limit

    def read(self, count: int) -> bytes:
        if count > self.left:
            raise EOFError
        data = self.handle.read(count)
        if len(data) != count:
            raise EOFError
        self.left -= count
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        return self.read(length).decode("utf-8", "replace")


def _gguf_value(reader: _Budget, kind: int) -> Any:
    if kind in _GGUF_SCALARS:
        return reader.unpack(_GGUF_SCALARS[kind])
    if kind == 8:
        return reader.string()
    if kind == 9:
        item_kind = reader.unpack("<I")
        count = reader.unpack("<Q")
        if item_kind in _GGUF_SCALARS:
            reader.read(count * struct.calcsize(_GGUF_SCALARS[item_kind]))
        else:
            for _ in range(count):
                _gguf_value(reader, item_kind)
        return None
    raise ValueError(f"unknown value type {kind}")


def _gguf(handle: BinaryIO, head: bytes, size: int) -> Sniffed:
    fmt = ArtifactFormat.GGUF
    version = struct.unpack_from("<I", head, 4)[0]
    if version not in (1, 2, 3):
        raise CorruptFile(fmt, f"unknown GGUF version {version}")
    count_fmt = "<I" if version == 1 else "<Q"
    handle.seek(8)
    reader = _Budget(handle, GGUF_METADATA_BUDGET)
    facts: dict[str, Any] = {"version": version}
    try:
        facts["tensors"] = reader.unpack(count_fmt)
        kv_count = reader.unpack(count_fmt)
        facts["metadata_keys"] = kv_count
        for _ in range(kv_count):
            key = reader.string() if version > 1 else reader.read(reader.unpack("<I")).decode()
            if key.startswith("tokenizer."):
                break  # the vocabulary follows; nothing after it is worth megabytes of reading
            value = _gguf_value(reader, reader.unpack("<I"))
            if key in _GGUF_WANTED and value is not None:
                facts[key.removeprefix("general.")] = str(value)[:200]
    except EOFError:
        if "tensors" not in facts:
            raise CorruptFile(fmt, "header ends before its counts") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFile(fmt, f"metadata unreadable ({exc})") from None
    params = facts.get("parameter_count")
    return Sniffed(
        fmt,
        f"GGUF magic, version {version}",
        parameter_count=int(params) if isinstance(params, str) and params.isdigit() else None,
        metadata=facts,
    )


# --- ONNX -----------------------------------------------------------------------------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise EOFError


def _onnx(head: bytes, size: int) -> Sniffed | None:  # noqa: PLR0911 - each rule rejects
    """ModelProto serialises ir_version (field 1) first, then producer, opsets and the graph. A
    known field sequence with sane lengths over the head is a strong enough signal."""
    try:
        ir_version, at = _varint(head, 1)
    except EOFError:
        return None
    if ir_version not in _ONNX_IR_VERSIONS:
        return None
    facts: dict[str, Any] = {"ir_version": ir_version}
    fields = 1
    while at < len(head):
        try:
            key, at = _varint(head, at)
        except EOFError:
            break
        number, wire = key >> 3, key & 7
        if _ONNX_FIELDS.get(number) != wire:
            return None
        try:
            value, at = _varint(head, at)
        except EOFError:
            break
        if wire == 2:
            if value > size:
                return None
            if number in (2, 3) and at + value <= len(head):
                text = head[at : at + value]
                if not text.isascii():
                    return None
                facts["producer_name" if number == 2 else "producer_version"] = text.decode()
            at += value
        fields += 1
    if fields < 2 and size > len(head):
        return None
    return Sniffed(
        ArtifactFormat.ONNX, f"protobuf ModelProto, ir_version {ir_version}", metadata=facts
    )


# --- pickle, ZIP containers, NumPy, HDF5, parquet, FAISS ------------------------------------------


def _pickle(handle: BinaryIO, head: bytes, size: int) -> Sniffed | None:
    # Two bytes match by chance once in ~16,000 binary files: also require the opcodes after
    # PROTO to disassemble (pickletools reads opcodes; nothing is executed or unpickled).
    parsed = 0
    try:
        for opcode, argument, _ in pickletools.genops(io.BytesIO(head)):
            parsed += 1
            if opcode.name == "FRAME" and isinstance(argument, int) and argument > size:
                return None
            if opcode.name == "STOP":
                break
    except (ValueError, EOFError, UnicodeDecodeError, struct.error):
        pass
    if parsed < 3 and len(head) == HEAD_BYTES:
        return None
    return Sniffed(ArtifactFormat.PICKLE, f"pickle PROTO opcode, protocol {head[1]}")


def _zip(handle: BinaryIO, head: bytes, size: int) -> Sniffed | None:
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
            pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
            if pickles:
                return Sniffed(
                    ArtifactFormat.PYTORCH_ZIP,
                    f"ZIP holding {pickles[0]} (torch.save format)",
                    metadata={"members": len(names)},
                )
            if "config.json" in names and "model.weights.h5" in names:
                return _keras_v3(archive)
            arrays = [n for n in names if n.endswith(".npy")]
            if arrays and len(arrays) == len(names):
                objects = any(_npz_member_has_objects(archive, n) for n in arrays[:256])
                return Sniffed(
                    ArtifactFormat.NUMPY_NPZ,
                    f"ZIP of {len(arrays)} .npy arrays",
                    metadata={"arrays": len(arrays)},
                    object_arrays=objects,
                )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UnreadableZip(str(exc)) from None
    return None


class UnreadableZip(ValueError):
    """A ZIP whose directory cannot be read: corrupt only if its name promised a model."""


def _keras_v3(archive: zipfile.ZipFile) -> Sniffed:
    facts: dict[str, Any] = {}
    info = archive.getinfo("config.json")
    if info.file_size <= MAX_ZIP_MEMBER_READ:
        text = archive.read(info).decode("utf-8", "replace")
        facts["lambda_layers"] = text.count('"class_name": "Lambda"') + text.count(
            '"class_name":"Lambda"'
        )
        if "metadata.json" in archive.namelist():
            meta = archive.getinfo("metadata.json")
            if meta.file_size <= 64 * 1024:
                try:
                    loaded = json.loads(archive.read(meta))
                    facts["keras_version"] = str(loaded.get("keras_version", ""))[:40]
                except ValueError:
                    pass
    return Sniffed(
        ArtifactFormat.KERAS_V3, "ZIP with config.json and model.weights.h5", metadata=facts
    )


def _npz_member_has_objects(archive: zipfile.ZipFile, name: str) -> bool:
    with archive.open(name) as member:
        buffer = bytearray(member.read(HEAD_BYTES))

        def read_prefix(count: int) -> bytes:
            if count > len(buffer):
                buffer.extend(member.read(count - len(buffer)))
            return bytes(buffer[:count])

        try:
            header = _numpy_header(bytes(buffer), read_prefix)
        except (CorruptFile, EOFError, struct.error, IndexError):
            return False
        return "O" in str(header.get("descr", ""))


def _numpy_header(head: bytes, read_prefix: Any) -> dict[str, Any]:
    major = head[6]
    if major == 1:
        (length,) = struct.unpack_from("<H", head, 8)
        start = 10
    elif major in (2, 3):
        (length,) = struct.unpack_from("<I", head, 8)
        start = 12
    else:
        raise CorruptFile(ArtifactFormat.NUMPY, f"unknown format version {major}")
    if length > NUMPY_MAX_HEADER:
        raise CorruptFile(ArtifactFormat.NUMPY, f"header of {length} bytes")
    raw = read_prefix(start + length)
    if len(raw) < start + length:
        raise EOFError
    try:
        # A literal dict, as numpy itself parses it; literal_eval evaluates no code.
        header = ast.literal_eval(raw[start : start + length].decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise CorruptFile(ArtifactFormat.NUMPY, f"header unreadable ({exc})") from None
    if not isinstance(header, dict) or "descr" not in header or "shape" not in header:
        raise CorruptFile(ArtifactFormat.NUMPY, "header lacks descr or shape")
    return header


def _numpy(handle: BinaryIO, head: bytes, size: int) -> Sniffed:
    def read_prefix(count: int) -> bytes:
        handle.seek(0)
        return handle.read(count)

    try:
        header = _numpy_header(head, read_prefix)
    except EOFError:
        raise CorruptFile(ArtifactFormat.NUMPY, "file ends inside its header") from None
    shape = header["shape"] if isinstance(header["shape"], tuple) else ()
    descr = str(header["descr"])
    return Sniffed(
        ArtifactFormat.NUMPY,
        f"NumPy magic, format {head[6]}.{head[7]}",
        parameter_count=math.prod(int(d) for d in shape) if shape else None,
        metadata={"dtype": descr[:60], "shape": [int(d) for d in shape][:8]},
        object_arrays="O" in descr,
    )


def _hdf5(handle: BinaryIO, head: bytes, size: int) -> Sniffed | None:
    handle.seek(0)
    probe = handle.read(HDF5_PROBE_BYTES)
    if b"keras_version" not in probe and b"model_config" not in probe:
        return None  # HDF5 holds all sorts of scientific data; only Keras's is a model
    return Sniffed(
        ArtifactFormat.KERAS_H5,
        "HDF5 signature with Keras root attributes",
        metadata={"lambda_layers": probe.count(b'"class_name": "Lambda"')},
    )


def _parquet(handle: BinaryIO, head: bytes, size: int) -> Sniffed | None:
    if size < 12:
        return None
    handle.seek(size - 4)
    if handle.read(4) != b"PAR1":
        raise CorruptFile(ArtifactFormat.PARQUET, "PAR1 at the start but not at the end")
    return Sniffed(ArtifactFormat.PARQUET, "PAR1 magic at both ends")


def _faiss(head: bytes, size: int) -> Sniffed | None:
    tag = head[:4].decode("latin-1")
    facts: dict[str, Any] = {"index_type": tag}
    if tag not in _FAISS_HEADERLESS and not tag.startswith("IB"):
        dimension, ntotal = struct.unpack_from("<iq", head, 4)
        if not (0 < dimension <= 65536 and ntotal >= 0):
            return None
        facts.update(dimension=dimension, vectors=ntotal)
    return Sniffed(ArtifactFormat.FAISS, f"FAISS index tag {tag}", metadata=facts)
