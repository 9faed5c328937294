"""A generated estate for discovery benchmarks: ``build_tree(root)`` writes 100,000 files of which
2,000 are code files that call LLM SDKs and 200 are model files (tiny safetensors, GGUF, pickle,
PyTorch zip, and sparse multi-gigabyte safetensors). Files discovery and code discovery both time
themselves over the same tree."""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from garrison.supplychain.samples import gguf_stub, safetensors_bytes

CODE_SNIPPETS = (
    "from openai import OpenAI\nclient = OpenAI()\n"
    "client.chat.completions.create(model='gpt-4o', messages=[])\n",
    "import anthropic\nanthropic.Anthropic().messages.create(\n"
    "    model='claude-3-5-sonnet-latest', max_tokens=10, messages=[])\n",
    "from transformers import AutoModel\nAutoModel.from_pretrained('bert-base-uncased')\n",
    "import boto3\nboto3.client('bedrock-runtime').invoke_model(\n"
    "    modelId='anthropic.claude-v2', body='{}')\n",
    "const OpenAI = require('openai');\n"
    "const c = new OpenAI({apiKey: process.env.OPENAI_API_KEY});\n",
)


@dataclass(frozen=True)
class TreeShape:
    files: int = 100_000
    code_files: int = 2_000
    model_files: int = 200
    files_per_dir: int = 100
    sparse_models: int = 10
    """Model files made sparse at 3 GiB: identified by header, never read in full."""


def _model_bytes(index: int) -> tuple[str, bytes]:
    kind = index % 4
    if kind == 0:
        return "model.safetensors", safetensors_bytes(
            {f"w{index}": ("F32", [4, 4])}, {"i": str(index)}
        )
    if kind == 1:
        return "model.gguf", gguf_stub(
            {"general.name": f"m{index}", "general.architecture": "llama"}
        )
    if kind == 2:
        return "model.pkl", b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02ccollections\nOrderedDict\n)R.")
        archive.writestr("archive/version", "3\n")
    return "model.pt", buffer.getvalue()


def build_tree(root: Path, shape: TreeShape = TreeShape(), seed: int = 7) -> Path:
    """Write the tree under ``root`` (idempotent when ``root/.complete`` exists)."""
    marker = root.with_name(root.name + ".complete")  # outside the tree: not counted
    if marker.exists():
        return root
    rng = random.Random(seed)
    kinds = (
        ["model"] * shape.model_files
        + ["code"] * shape.code_files
        + ["other"] * (shape.files - shape.model_files - shape.code_files)
    )
    rng.shuffle(kinds)
    sparse_left = shape.sparse_models
    for index, kind in enumerate(kinds):
        folder = (
            root
            / f"d{index // shape.files_per_dir // 10:03d}"
            / f"s{index // shape.files_per_dir:04d}"
        )
        if index % shape.files_per_dir == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if kind == "model":
            name, data = _model_bytes(index)
            path = folder / f"{index}-{name}"
            path.write_bytes(data)
            if sparse_left and name == "model.safetensors":
                sparse_left -= 1
                length = 3 * 1024**3
                header = safetensors_bytes({"big": ("U8", [length])}, {})
                head_len = 8 + struct.unpack("<Q", header[:8])[0]
                path.write_bytes(header[:head_len])
                os.truncate(path, head_len + length)
        elif kind == "code":
            ext = ".js" if index % 5 == 4 else ".py"
            (folder / f"{index}{ext}").write_text(CODE_SNIPPETS[index % 5])
        else:
            choice = index % 3
            if choice == 0:
                (folder / f"{index}.txt").write_text(f"note {index}\n" * 4)
            elif choice == 1:
                (folder / f"{index}.json").write_text(f'{{"id": {index}}}\n')
            else:
                (folder / f"{index}.dat").write_bytes(rng.randbytes(64))
    marker.write_text("ok\n")
    return root
