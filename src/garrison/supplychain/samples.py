"""A small model estate for the demo and the tests: benign models, a dataset, and on request one
malicious pickle.

The malicious file is written from raw pickle opcodes at run time (never committed, never
loaded): a GLOBAL of ``os.system`` applied by REDUCE, which is what a booby-trapped
``pytorch_model.bin`` does when ``torch.load`` unpickles it.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

DEMO_COMMIT = "0123456789abcdef0123456789abcdef01234567"
MALICIOUS_PATH = Path("community-finetune") / "pytorch_model.bin"


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]], metadata: dict[str, str]) -> bytes:
    widths = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1}
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        length = widths[dtype]
        for dim in shape:
            length *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + length]}
        offset += length
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_stub(metadata: dict[str, str]) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata))
    for key, value in metadata.items():
        out += _gguf_string(key) + struct.pack("<I", 8) + _gguf_string(value)
    return out


def malicious_pickle(command: str = "echo garrison-demo-payload") -> bytes:
    """Protocol 2: GLOBAL os.system, the command as a unicode string, TUPLE1, REDUCE, STOP."""
    arg = command.encode()
    return b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", len(arg)) + arg + b"\x85R."


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def write_benign_models(target: Path) -> Path:
    """The committed part of ``examples/estate/models``: nothing here can run code."""
    bert = target / "tiny-bert"
    _write(
        bert / "config.json",
        json.dumps(
            {
                "_name_or_path": "garrison-demo/tiny-bert",
                "architectures": ["BertModel"],
                "model_type": "bert",
                "hidden_size": 8,
                "num_hidden_layers": 1,
            },
            indent=2,
        )
        + "\n",
    )
    _write(
        bert / "README.md",
        "---\nlicense: apache-2.0\nlibrary_name: transformers\n"
        "pipeline_tag: fill-mask\n---\n# tiny-bert\n\nA 32-parameter demo model.\n",
    )
    _write(
        bert / "model.safetensors",
        safetensors_bytes({"embeddings.weight": ("F32", [4, 8])}, {"format": "pt"}),
    )
    _write(bert / "tokenizer.json", '{"version": "1.0", "model": {"type": "WordPiece"}}\n')
    _write(
        bert / "model.cdx.json",
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [{"type": "machine-learning-model", "name": "tiny-bert"}],
            },
            indent=2,
        )
        + "\n",
    )
    _write(
        bert / ".cache" / "huggingface" / "download" / "model.safetensors.metadata",
        f"{DEMO_COMMIT}\n0000\n1700000000.0\n",
    )
    _write(
        target / "gguf" / "tiny-llama.Q4_0.gguf",
        gguf_stub(
            {
                "general.architecture": "llama",
                "general.name": "tiny-llama-stub",
                "general.license": "mit",
            }
        ),
    )
    dataset = target / "support-tickets"
    _write(
        dataset / "README.md",
        "---\nlicense: cc-by-4.0\npretty_name: support-tickets\n"
        "configs:\n- config_name: default\n  data_files: data/*.jsonl\n"
        "dataset_info:\n  features:\n  - name: text\n    dtype: string\n---\n"
        "# Support tickets\n\nSynthetic tickets for the demo.\n",
    )
    _write(
        dataset / "data" / "train.jsonl",
        '{"text": "my invoice is wrong"}\n{"text": "reset my password"}\n',
    )
    _write(dataset / "data" / "test.csv", "text\nwhere is my order\n")
    return target


def build_sample_models(target: Path) -> Path:
    """Write the benign samples plus a Hugging Face cache snapshot and ONE malicious pickle
    (``community-finetune/pytorch_model.bin``) into ``target``; returns ``target``."""
    write_benign_models(target)
    repo = target / "hub" / "models--garrison-demo--tiny-gpt"
    blob = repo / "blobs" / "4f1c0e"
    _write(blob, safetensors_bytes({"wte.weight": ("F16", [16, 4])}, {"format": "pt"}))
    _write(
        repo / "blobs" / "9ab2c3",
        json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}),
    )
    _write(repo / "refs" / "main", DEMO_COMMIT)
    snapshot = repo / "snapshots" / DEMO_COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, blob_name in (("model.safetensors", "4f1c0e"), ("config.json", "9ab2c3")):
        link = snapshot / name
        if not link.is_symlink():
            os.symlink(os.path.join("..", "..", "blobs", blob_name), link)
    finetune = target / MALICIOUS_PATH.parent
    _write(
        finetune / "config.json",
        json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}),
    )
    _write(finetune / "README.md", "---\nlicense: mit\nbase_model: garrison-demo/tiny-gpt\n---\n")
    _write(target / MALICIOUS_PATH, malicious_pickle())
    return target
