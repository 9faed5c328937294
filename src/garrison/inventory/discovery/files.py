"""Files discovery: model weights, Hugging Face folders and cache, datasets, vector stores.

``discover_files(paths)`` walks each path with ``os.scandir`` and an explicit stack (no recursion,
so a deep tree cannot exhaust Python's stack) and identifies every regular file by its first bytes
(``formats.sniff``), not by its name. Folders are recognised by what they hold: a Hugging Face
model folder by a ``config.json`` naming a ``model_type`` or ``architectures`` (or a diffusers
``model_index.json``), the Hugging Face cache by ``models--org--name/snapshots/<commit>``, a
dataset by its card, a TensorFlow SavedModel by ``saved_model.pb`` beside ``variables/``, Chroma by
``chroma.sqlite3`` and LanceDB by ``*.lance`` tables.

Each model file gets a streamed SHA-256 (skipped, with a note, over ``max_file_size``) and, when it
carries pickles, a picklescan verdict (``garrison.supplychain``). Weight files belong to the model
folder they sit in (an edge from the folder to each file); data files are evidence of the dataset
whose card is nearest above them.

Bad input never stops the walk: an unreadable folder or file is a ``CallFailure`` and makes the run
incomplete (so nothing is marked stale); a corrupt model file, a symlink loop and a FIFO or device
file are ``CallFailure`` entries that leave the run complete (everything there was read); a file
that is not what its name says is a supply-chain finding on its asset.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from garrison.core.errors import GarrisonError
from garrison.inventory.discovery.base import (
    CallFailure,
    DiscoveredAsset,
    DiscoveredEdge,
    DiscoveryResult,
)
from garrison.inventory.discovery.formats import (
    MODEL_FORMATS,
    PICKLE_BASED,
    SAFE_EXTENSIONS,
    ArtifactFormat,
    CorruptFile,
    Sniffed,
    UnreadableZip,
    extension_formats,
    sniff,
)
from garrison.inventory.models import (
    AssetSpec,
    AssetType,
    Confidence,
    Evidence,
    Relation,
    VectorNamespace,
)
from garrison.supplychain import cards, licences, pickles, pinning, sbom
from garrison.supplychain.digests import sha256_fd
from garrison.supplychain.findings import FindingKind, Severity, SupplyChainFinding

SOURCE = "files"
DEFAULT_MAX_FILE_SIZE = 2 * 1024**3
"""Files over this are identified from their header but not hashed or pickle-scanned."""
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__"})
"""Version-control internals and bytecode caches hold no models; skipping them saves a lot of
opens in a source tree."""
DATA_EXTENSIONS = {".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv", ".json": "json"}
MAX_CONFIG_BYTES = 1024 * 1024
PROGRESS_EVERY = 512
TOKENIZER_FILES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "tokenizer.model",
        "special_tokens_map.json",
        "spiece.model",
    }
)
EMBEDDING_MARKERS = frozenset({"config_sentence_transformers.json", "modules.json"})
EMBEDDING_PIPELINES = frozenset({"feature-extraction", "sentence-similarity"})

Progress = Callable[[int], None]


class DiscoveryInputError(GarrisonError):
    """A path given to a discovery source does not exist or is not a file or folder."""


@dataclass
class Artifact:
    """One identified file."""

    path: str
    size: int
    sniffed: Sniffed
    digest: str | None
    findings: list[SupplyChainFinding] = field(default_factory=list)

    @property
    def format(self) -> ArtifactFormat:
        return self.sniffed.format


@dataclass
class ModelFolder:
    path: str
    kind: str
    """``huggingface``, ``huggingface-cache``, ``diffusers`` or ``savedmodel``."""
    repo_id: str
    how: str
    config: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] | None = None
    commit: str | None = None
    commit_how: str = ""
    tokenizer: bool = False
    embedding: bool = False
    names: frozenset[str] = frozenset()
    weights: list[Artifact] = field(default_factory=list)


@dataclass
class DatasetFolder:
    path: str
    name: str
    how: str
    card: dict[str, Any] | None
    evidence_path: str
    names: frozenset[str] = frozenset()
    commit: str | None = None
    data_files: dict[str, int] = field(default_factory=dict)
    """Format → count of data files below the card."""


@dataclass
class VectorStore:
    path: str
    kind: str
    how: str
    namespaces: list[VectorNamespace] = field(default_factory=list)


@dataclass
class FilesDiscovery:
    """A files run: the registry's ``DiscoveryResult`` plus the supply-chain findings by asset."""

    result: DiscoveryResult
    findings: dict[str, list[SupplyChainFinding]] = field(default_factory=dict)
    """Asset handle (``DiscoveredAsset.handle``) → findings about that asset."""
    source_ids: dict[str, str] = field(default_factory=dict)
    """Asset handle → the spec's ``source_id``, for attaching findings after registration."""
    files_seen: int = 0
    artifacts: list[Artifact] = field(default_factory=list)

    def all_findings(self) -> list[SupplyChainFinding]:
        return [f for found in self.findings.values() for f in found]


@dataclass
class _Walk:
    roots: list[str]
    real_roots: list[str]
    follow_symlinks: bool
    max_file_size: int | None
    scan: bool
    progress: Progress | None
    errors: list[CallFailure] = field(default_factory=list)
    complete: bool = True
    files_seen: int = 0
    artifacts: list[Artifact] = field(default_factory=list)
    loose_findings: list[tuple[str, SupplyChainFinding]] = field(default_factory=list)
    model_folders: dict[str, ModelFolder] = field(default_factory=dict)
    dataset_folders: dict[str, DatasetFolder] = field(default_factory=dict)
    vector_stores: list[VectorStore] = field(default_factory=list)
    data_files: list[tuple[str, str]] = field(default_factory=list)
    visited: set[tuple[int, int]] = field(default_factory=set)

    def fail(self, operation: str, target: str, exc: OSError | str, *, incomplete: bool) -> None:
        if isinstance(exc, OSError):
            code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            message = exc.strerror or str(exc)
            denied = exc.errno in (errno.EACCES, errno.EPERM)
        else:
            code, message, denied = "", exc, False
        self.errors.append(CallFailure(operation, message, target=target, code=code, denied=denied))
        if incomplete:
            self.complete = False


# --- the walk -------------------------------------------------------------------------------------


def discover_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    follow_symlinks: bool = False,
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
    scan: bool = True,
    progress: Progress | None = None,
    org: str | None = None,
) -> FilesDiscovery:
    """Walk ``paths`` and return what they hold. ``max_file_size`` None hashes every file;
    ``scan`` False skips the picklescan pass (identification and digests only)."""
    if not paths:
        raise DiscoveryInputError("give at least one path to walk")
    roots = []
    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        if not os.path.lexists(path):
            raise DiscoveryInputError(f"{raw}: no such file or folder", hint="check the path")
        roots.append(path)
    walk = _Walk(
        roots=roots,
        real_roots=[os.path.realpath(r) for r in roots],
        follow_symlinks=follow_symlinks,
        max_file_size=max_file_size if max_file_size else None,
        scan=scan,
        progress=progress,
    )
    for root in roots:
        if os.path.isdir(root):
            _walk_tree(walk, root)
        else:
            _visit_file(walk, root, os.path.basename(root))
    if progress is not None:
        progress(walk.files_seen)
    discovery = _assemble(walk, org)
    discovery.files_seen = walk.files_seen
    return discovery


def _scope(roots: list[str]) -> str:
    text = "files:" + ",".join(roots)
    if len(text) <= 500:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"files:{roots[0][:400]} +{len(roots) - 1} more #{digest}"


def _walk_tree(walk: _Walk, root: str) -> None:
    if walk.follow_symlinks:
        try:
            info = os.stat(root)
            walk.visited.add((info.st_dev, info.st_ino))
        except OSError as exc:
            walk.fail("walk", root, exc, incomplete=True)
            return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            walk.fail("walk", folder, exc, incomplete=True)
            continue
        names = frozenset(e.name for e in entries)
        _recognise_folder(walk, folder, names)
        in_cache_repo = os.path.basename(folder).startswith(("models--", "datasets--"))
        for entry in entries:
            _visit_entry(walk, entry, stack, in_cache_repo)


def _visit_entry(
    walk: _Walk, entry: os.DirEntry[str], stack: list[str], in_cache_repo: bool
) -> None:
    try:
        if entry.is_dir(follow_symlinks=False):
            if entry.name in SKIP_DIRS or (in_cache_repo and entry.name == "blobs"):
                # A cache repo's blobs are reached through its snapshots' symlinks, which carry
                # the file names; walking blobs too would report every weight file twice.
                return
            if entry.name.endswith(".lance"):
                return  # a LanceDB table: recognised from its parent, its fragments are not models
            if walk.follow_symlinks:
                info = entry.stat(follow_symlinks=False)
                walk.visited.add((info.st_dev, info.st_ino))
            stack.append(entry.path)
        elif entry.is_symlink():
            _visit_symlink(walk, entry, stack)
        elif entry.is_file(follow_symlinks=False):
            _visit_file(walk, entry.path, entry.name)
        else:
            walk.fail("read", entry.path, _special_kind(entry.path), incomplete=False)
    except OSError as exc:
        walk.fail("read", entry.path, exc, incomplete=True)


def _special_kind(path: str) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "not a regular file; skipped"
    kind = (
        "FIFO"
        if stat.S_ISFIFO(mode)
        else "socket"
        if stat.S_ISSOCK(mode)
        else "device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "special file"
    )
    return f"{kind}, not a regular file; skipped without opening"


def _inside_roots(walk: _Walk, real: str) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in walk.real_roots)


def _visit_symlink(walk: _Walk, entry: os.DirEntry[str], stack: list[str]) -> None:
    try:
        info = os.stat(entry.path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            walk.fail(
                "walk",
                entry.path,
                "symlink loop: the link resolves to itself; skipped",
                incomplete=False,
            )
        elif exc.errno == errno.ENOENT:
            return  # a dangling link points at nothing to inventory
        else:
            walk.fail("walk", entry.path, exc, incomplete=True)
        return
    if stat.S_ISDIR(info.st_mode):
        if not walk.follow_symlinks:
            return
        key = (info.st_dev, info.st_ino)
        if key in walk.visited:
            walk.fail(
                "walk",
                entry.path,
                f"symlink loop: {os.path.realpath(entry.path)} was already walked; skipped",
                incomplete=False,
            )
            return
        walk.visited.add(key)
        stack.append(entry.path)
    elif stat.S_ISREG(info.st_mode):
        # Links that stay inside the walked tree are how the Hugging Face cache names its blobs;
        # links out of the tree are followed only when asked.
        if walk.follow_symlinks or _inside_roots(walk, os.path.realpath(entry.path)):
            _visit_file(walk, entry.path, entry.name)
    else:
        walk.fail("read", entry.path, _special_kind(os.path.realpath(entry.path)), incomplete=False)


def _open_regular(path: str) -> int | None:
    # O_NONBLOCK: if the file became a FIFO since it was listed, open must not wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


# One early exit per way a file can fail to be a model; splitting it would scatter that list.
def _visit_file(walk: _Walk, path: str, name: str) -> None:  # noqa: PLR0911, PLR0912
    walk.files_seen += 1
    if walk.progress is not None and walk.files_seen % PROGRESS_EVERY == 0:
        walk.progress(walk.files_seen)
    try:
        fd = _open_regular(path)
    except OSError as exc:
        walk.fail("read", path, exc, incomplete=True)
        return
    if fd is None:
        walk.fail("read", path, _special_kind(path), incomplete=False)
        return
    promised = extension_formats(name)
    try:
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            try:
                sniffed = sniff(handle, size)
            except UnreadableZip as exc:
                sniffed = None
                if promised:
                    walk.fail(
                        "identify", path, f"corrupt ZIP container: {exc}; skipped", incomplete=False
                    )
                    return
            if sniffed is None:
                _unidentified(walk, path, name, promised, size)
                return
            digest = None
            if sniffed.format in MODEL_FORMATS:
                digest = sha256_fd(handle.fileno(), size, walk.max_file_size)
    except CorruptFile as exc:
        walk.fail("identify", path, f"corrupt {exc}; skipped", incomplete=False)
        return
    except OSError as exc:
        walk.fail("read", path, exc, incomplete=True)
        return
    if sniffed.format is ArtifactFormat.PARQUET:
        walk.data_files.append((path, "parquet"))
        return
    artifact = Artifact(path, size, sniffed, digest)
    if sniffed.format is ArtifactFormat.FAISS:
        walk.vector_stores.append(_faiss_store(path, sniffed))
        return
    if promised and sniffed.format not in promised:
        artifact.findings.append(_mismatch(path, name, sniffed.format))
    if walk.scan:
        _scan(walk, artifact)
    walk.artifacts.append(artifact)


def _unidentified(
    walk: _Walk, path: str, name: str, promised: frozenset[ArtifactFormat], size: int
) -> None:
    dot = name.rfind(".")
    ext = name[dot:].lower() if dot > 0 else ""
    if ext in DATA_EXTENSIONS:
        walk.data_files.append((path, DATA_EXTENSIONS[ext]))
    elif promised - {ArtifactFormat.PARQUET} and size > 0:
        # A name that promises a model over content that is no known format: corrupt or truncated.
        wanted = "/".join(sorted(f.value for f in promised))
        walk.fail(
            "identify",
            path,
            f"named like {wanted} but its header matches no model format; corrupt or "
            "truncated, skipped",
            incomplete=False,
        )


def _mismatch(path: str, name: str, actual: ArtifactFormat) -> SupplyChainFinding:
    ext = name[name.rfind(".") :].lower()
    lure = ext in SAFE_EXTENSIONS and actual in PICKLE_BASED | {ArtifactFormat.NUMPY}
    return SupplyChainFinding(
        FindingKind.FORMAT_MISMATCH,
        Severity.HIGH if lure else Severity.LOW,
        path,
        f"named {ext} but the content is {actual.value}"
        + (
            "; a pickle under a safe format's name is how malicious weights get loaded"
            if lure
            else ""
        ),
    )


def _scan(walk: _Walk, artifact: Artifact) -> None:
    fmt = artifact.format
    carries_pickle = fmt in PICKLE_BASED or (
        fmt is ArtifactFormat.NUMPY and artifact.sniffed.object_arrays
    )
    try:
        if carries_pickle:
            artifact.findings.extend(
                pickles.scan_artifact(
                    artifact.path, fmt, size=artifact.size, limit=walk.max_file_size
                )
            )
    except (OSError, ValueError, RuntimeError) as exc:
        walk.fail("scan", artifact.path, f"picklescan could not read it: {exc}", incomplete=False)
    lambdas = artifact.sniffed.metadata.get("lambda_layers")
    if isinstance(lambdas, int) and lambdas > 0:
        artifact.findings.append(
            SupplyChainFinding(
                FindingKind.CODE_IN_MODEL,
                Severity.HIGH,
                artifact.path,
                f"{lambdas} Keras Lambda layer(s): serialized Python that runs when the model is "
                "loaded with safe_mode off",
            )
        )


# --- folders --------------------------------------------------------------------------------------


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_CONFIG_BYTES:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _cache_repo(folder: str) -> tuple[str, str, str] | None:
    """(kind, repo_id, commit) when ``folder`` is ``<kind>s--org--name/snapshots/<commit>``."""
    parent = os.path.dirname(folder)
    repo = os.path.basename(os.path.dirname(parent))
    if os.path.basename(parent) != "snapshots" or "--" not in repo:
        return None
    kind, _, rest = repo.partition("--")
    if kind not in ("models", "datasets"):
        return None
    return kind, rest.replace("--", "/", 1), os.path.basename(folder)


def _recognise_folder(walk: _Walk, folder: str, names: frozenset[str]) -> None:
    card = (
        cards.read_front_matter(os.path.join(folder, "README.md")) if "README.md" in names else None
    )
    cache = _cache_repo(folder)
    if cache is not None and cache[0] == "datasets":
        dataset = DatasetFolder(
            folder,
            cache[1],
            "Hugging Face cache dataset snapshot",
            card,
            folder,
            names,
            commit=cache[2],
        )
        walk.dataset_folders[folder] = dataset
        return
    model = _model_folder(folder, names, card, cache)
    if model is not None:
        walk.model_folders[folder] = model
    elif (card is not None and cards.is_dataset_card(card)) or "dataset_infos.json" in names:
        name = str((card or {}).get("pretty_name") or os.path.basename(folder))
        evidence = "README.md" if card is not None else "dataset_infos.json"
        walk.dataset_folders[folder] = DatasetFolder(
            folder,
            name[:300],
            f"dataset card {evidence}",
            card,
            os.path.join(folder, evidence),
            names,
        )
    if "chroma.sqlite3" in names:
        walk.vector_stores.append(_chroma(folder))
    tables = sorted(
        n
        for n in names
        if n.endswith(".lance") and os.path.isdir(os.path.join(folder, n, "_versions"))
    )
    if tables:
        walk.vector_stores.append(
            VectorStore(
                folder,
                "lancedb",
                f"LanceDB tables with _versions: {', '.join(tables[:5])}",
                [VectorNamespace(name=t.removesuffix(".lance")[:300]) for t in tables[:200]],
            )
        )


def _model_folder(
    folder: str,
    names: frozenset[str],
    card: dict[str, Any] | None,
    cache: tuple[str, str, str] | None,
) -> ModelFolder | None:
    if "saved_model.pb" in names and "variables" in names:
        return ModelFolder(
            folder,
            "savedmodel",
            os.path.basename(folder),
            "saved_model.pb with variables/ (TensorFlow SavedModel)",
            names=names,
        )
    config = _read_json(os.path.join(folder, "config.json")) if "config.json" in names else None
    is_hf_config = bool(config) and ("model_type" in config or "architectures" in config)  # type: ignore[operator]
    diffusers = (
        _read_json(os.path.join(folder, "model_index.json"))
        if "model_index.json" in names
        else None
    )
    if not (is_hf_config or diffusers or cache):
        return None
    repo_id = os.path.basename(folder)
    how = (
        "config.json with model_type/architectures"
        if is_hf_config
        else "model_index.json (diffusers)"
    )
    kind = "huggingface" if is_hf_config or cache else "diffusers"
    if cache is not None:
        repo_id = cache[1]
        how = f"Hugging Face cache snapshot of {repo_id}"
    elif (
        config
        and isinstance(config.get("_name_or_path"), str)
        and config["_name_or_path"].count("/") == 1
        and not config["_name_or_path"].startswith(("/", "."))
    ):
        repo_id = config["_name_or_path"]
    model = ModelFolder(
        folder, kind, repo_id[:300], how, config=(config or diffusers or {}), card=card, names=names
    )
    model.tokenizer = bool(TOKENIZER_FILES & names)
    model.embedding = bool(EMBEDDING_MARKERS & names) or (
        card is not None and card.get("pipeline_tag") in EMBEDDING_PIPELINES
    )
    if cache is not None:
        model.commit, model.commit_how = cache[2], "cache snapshot folder name"
        ref = _cache_ref(folder)
        if ref:
            model.commit_how += f"; refs/main → {ref[:12]}"
    else:
        revision = pinning.folder_revision(folder)
        if revision is not None:
            model.commit, model.commit_how = revision.commit, revision.how
    return model


def _cache_ref(snapshot: str) -> str | None:
    repo = os.path.dirname(os.path.dirname(snapshot))
    try:
        with open(os.path.join(repo, "refs", "main"), "rb") as handle:
            value = handle.read(100).decode("ascii", "replace").strip()
    except OSError:
        return None
    return value if pinning.is_commit(value) else None


def _chroma(folder: str) -> VectorStore:
    store = VectorStore(folder, "chroma", "chroma.sqlite3")
    uri = "file:" + os.path.join(folder, "chroma.sqlite3") + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=1)
        try:
            rows = connection.execute(
                "SELECT name, dimension FROM collections LIMIT 500"
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error:
        return store  # an older or locked schema: the store is still a store, without namespaces
    for name, dimension in rows:
        try:
            store.namespaces.append(
                VectorNamespace(
                    name=str(name)[:300],
                    dimension=dimension if isinstance(dimension, int) and dimension > 0 else None,
                )
            )
        except ValidationError:
            continue
    store.how = f"chroma.sqlite3 with {len(store.namespaces)} collection(s)"
    return store


def _faiss_store(path: str, sniffed: Sniffed) -> VectorStore:
    facts = sniffed.metadata
    name = os.path.splitext(os.path.basename(path))[0] or "index"
    try:
        namespace = VectorNamespace(
            name=name[:300], dimension=facts.get("dimension"), documents=facts.get("vectors")
        )
    except ValidationError:
        namespace = VectorNamespace(name=name[:300])
    return VectorStore(path, "faiss", sniffed.how, [namespace])


# --- assets ---------------------------------------------------------------------------------------


def _nearest(path: str, folders: dict[str, Any]) -> Any:
    parent = os.path.dirname(path)
    while True:
        if parent in folders:
            return folders[parent]
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


def _path_id(path: str) -> str:
    return (
        f"path:{path}"
        if len(path) <= 1900
        else f"path-sha256:{hashlib.sha256(path.encode()).hexdigest()}"
    )


def _file_id(artifact: Artifact) -> str:
    if artifact.digest is None or len(artifact.path) > 1900:
        return _path_id(artifact.path)
    return f"sha256:{artifact.digest}@{artifact.path}"


def _detail(*parts: str) -> str:
    return "; ".join(p for p in parts if p)[:2000]


def _facts(sniffed: Sniffed) -> str:
    shown = {
        k: v for k, v in sniffed.metadata.items() if k != "metadata" and v not in (None, "", 0)
    }
    return ", ".join(f"{k}={v}" for k, v in list(shown.items())[:10])


def _model_type(card: dict[str, Any] | None, embedding: bool) -> AssetType:
    if embedding:
        return AssetType.EMBEDDING_MODEL
    if card and card.get("base_model"):
        return AssetType.FINE_TUNED_MODEL
    return AssetType.FOUNDATION_MODEL


class _Builder:
    def __init__(self, walk: _Walk, org: str | None) -> None:
        self.walk = walk
        self.discovery = FilesDiscovery(
            DiscoveryResult(source=SOURCE, scope=_scope(walk.roots), org=org)
        )
        self.result = self.discovery.result

    def add(
        self,
        spec_data: dict[str, Any],
        evidence: Evidence,
        findings: Iterable[SupplyChainFinding] = (),
    ) -> str | None:
        try:
            spec = AssetSpec.model_validate(spec_data)
        except ValidationError as exc:
            problem = exc.errors()[0]
            self.walk.fail(
                "register",
                evidence.location,
                f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}",
                incomplete=False,
            )
            return None
        key = spec.source_id or ""
        self.result.assets.append(DiscoveredAsset(spec, (evidence,), key=key))
        self.discovery.source_ids[key] = key
        found = list(findings)
        if found:
            self.discovery.findings.setdefault(key, []).extend(found)
        return key

    def evidence(
        self, location: str, detail: str, confidence: Confidence = Confidence.DECLARED
    ) -> Evidence:
        return Evidence(location=location[:2000], confidence=confidence, detail=detail)


def _assemble(walk: _Walk, org: str | None) -> FilesDiscovery:
    build = _Builder(walk, org)
    for artifact in walk.artifacts:
        owner = _nearest(artifact.path, walk.model_folders)
        if owner is not None:
            owner.weights.append(artifact)
    folder_meta: dict[str, tuple[licences.Licence, bool]] = {}
    for folder in walk.model_folders.values():
        folder_meta[folder.path] = _add_model_folder(build, folder)
    for artifact in walk.artifacts:
        _add_artifact(build, artifact, folder_meta)
    for path, fmt in walk.data_files:
        dataset = _nearest(path, walk.dataset_folders)
        if dataset is not None:
            dataset.data_files[fmt] = dataset.data_files.get(fmt, 0) + 1
    for dataset in walk.dataset_folders.values():
        _add_dataset(build, dataset)
    for store in walk.vector_stores:
        build.add(
            {
                "name": os.path.basename(store.path)[:300] or store.path[-300:],
                "asset_type": AssetType.VECTOR_DATABASE,
                "description": f"{store.kind} vector store",
                "is_self_hosted": True,
                "source_id": _path_id(store.path),
                "vector_namespaces": store.namespaces,
                "tags": [f"format:{store.kind}"],
            },
            build.evidence(store.path, store.how),
        )
    build.result.errors = walk.errors
    build.result.complete = walk.complete
    build.discovery.artifacts = walk.artifacts
    return build.discovery


def _add_model_folder(build: _Builder, folder: ModelFolder) -> tuple[licences.Licence, bool]:
    licence = licences.detect_licence(
        folder.path, front_matter=folder.card, config=folder.config, names=folder.names
    )
    sboms = sbom.find_sboms(folder.path, folder.names)
    findings = []
    if folder.kind != "savedmodel" and folder.commit is None:
        findings.append(pinning.unpinned_folder_finding(folder.path, folder.repo_id))
    card = folder.card or {}
    hf = folder.kind != "savedmodel"
    spec: dict[str, Any] = {
        "name": folder.repo_id,
        "asset_type": _model_type(card, folder.embedding),
        "description": f"{folder.kind} model folder with {len(folder.weights)} weight file(s)",
        "is_self_hosted": True,
        "license_type": licence.spdx,
        "sbom_available": bool(sboms),
        "source_id": _path_id(folder.path),
        "tags": [f"format:{folder.kind}"],
    }
    if hf:
        spec.update(model_provider="huggingface", model_name=folder.repo_id)
        if "/" in folder.repo_id:
            spec["source_url"] = f"https://huggingface.co/{folder.repo_id}"
    if folder.commit:
        spec["model_version"] = folder.commit
    params = sum(
        w.sniffed.parameter_count or 0
        for w in folder.weights
        if w.format is ArtifactFormat.SAFETENSORS
    )
    if params:
        spec["parameter_count"] = params
    detail = _detail(
        folder.how,
        f"model_type={folder.config.get('model_type')}" if folder.config.get("model_type") else "",
        "tokenizer files present" if folder.tokenizer else "",
        f"licence {licence.spdx} from {licence.source}" if licence.source else "licence unknown",
        f"SBOM: {', '.join(os.path.basename(s) for s in sboms)}" if sboms else "no SBOM",
        f"pinned to {folder.commit} ({folder.commit_how})" if folder.commit else "no pinned commit",
    )
    key = build.add(spec, build.evidence(folder.path, detail), findings)
    if key is not None:
        for weight in folder.weights:
            build.result.edges.append(DiscoveredEdge(key, _file_id(weight), Relation.DEPENDS_ON))
        base = card.get("base_model")
        if isinstance(base, list):
            base = base[0] if base else None
        if isinstance(base, str) and base.strip():
            build.result.edges.append(
                DiscoveredEdge(key, base.strip()[:1000], Relation.FINE_TUNED_FROM)
            )
    return licence, bool(sboms)


def _add_artifact(
    build: _Builder, artifact: Artifact, folder_meta: dict[str, tuple[licences.Licence, bool]]
) -> None:
    walk = build.walk
    owner: ModelFolder | None = _nearest(artifact.path, walk.model_folders)
    folder = os.path.dirname(artifact.path)
    if owner is not None:
        licence, has_sbom = folder_meta[owner.path]
        name = f"{owner.repo_id}/{os.path.relpath(artifact.path, owner.path)}"
        asset_type = _model_type(owner.card, owner.embedding)
    else:
        licence = licences.detect_licence(folder)
        if artifact.format is ArtifactFormat.GGUF and artifact.sniffed.metadata.get("license"):
            licence = licences.Licence(
                licences.normalise(artifact.sniffed.metadata["license"]), "GGUF general.license"
            )
        has_sbom = bool(sbom.find_sboms(folder))
        name = str(artifact.sniffed.metadata.get("name") or os.path.basename(artifact.path))
        asset_type = AssetType.FOUNDATION_MODEL
    size_note = ""
    if artifact.digest is None:
        size_note = (
            f"sha256 not computed: {artifact.size:,} bytes is over --max-file-size "
            f"{walk.max_file_size:,}"
        )
    spec: dict[str, Any] = {
        "name": name[-300:],
        "asset_type": asset_type,
        "description": f"{artifact.format.value} model file, {artifact.size:,} bytes",
        "is_self_hosted": True,
        "license_type": licence.spdx,
        "sbom_available": has_sbom,
        "source_id": _file_id(artifact),
        "tags": [f"format:{artifact.format.value}"],
    }
    if artifact.sniffed.parameter_count:
        spec["parameter_count"] = artifact.sniffed.parameter_count
    arch = artifact.sniffed.metadata.get("architecture")
    if arch:
        spec["model_name"] = str(arch)[:500]
    detail = _detail(
        f"identified by header: {artifact.sniffed.how}",
        _facts(artifact.sniffed),
        f"sha256 {artifact.digest}" if artifact.digest else size_note,
        f"part of {owner.repo_id}" if owner else "",
    )
    build.add(spec, build.evidence(artifact.path, detail), artifact.findings)


def _add_dataset(build: _Builder, dataset: DatasetFolder) -> None:
    card = dataset.card or {}
    licence = licences.detect_licence(dataset.path, front_matter=card, names=dataset.names)
    has_sbom = bool(sbom.find_sboms(dataset.path, dataset.names))
    files = ", ".join(f"{n} {fmt}" for fmt, n in sorted(dataset.data_files.items()))
    spec: dict[str, Any] = {
        "name": dataset.name,
        "asset_type": AssetType.TRAINING_DATASET,
        "description": f"dataset with {files or 'no data files found'}",
        "license_type": licence.spdx,
        "sbom_available": has_sbom,
        "source_id": _path_id(dataset.path),
        "tags": ["format:dataset"],
    }
    if dataset.commit:
        spec["model_version"] = dataset.commit
    detail = _detail(
        dataset.how,
        f"data files: {files}" if files else "no data files",
        f"licence {licence.spdx}" + (f" from {licence.source}" if licence.source else ""),
    )
    build.add(spec, build.evidence(dataset.evidence_path, detail))
