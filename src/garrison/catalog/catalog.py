"""The catalog: every framework item, found by ID, alias or free text.

Lookups accept the notations people write: ``LLM01:2025`` and ``LLM01``, ``AML.T0051``,
``GOVERN 1.1`` and ``GV-1.1``, ``A.6.2.4``, ``Art. 15`` and ``Article 15``. Matching is
case-insensitive and blind to repeated spaces; nothing here runs a regular expression on the
text a user typed.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from garrison.catalog.loader import load_all
from garrison.catalog.models import CatalogItem, Framework, FrameworkKey
from garrison.core.errors import NotFoundError, UnknownCatalogIdError


def lookup_key(text: str) -> str:
    """The form IDs are compared in: upper case, single spaces, no space after ``.`` or ``:``."""
    folded = " ".join(text.split()).upper()
    return folded.replace(". ", ".").replace(": ", ":")


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words, split without a regular expression."""
    return "".join(ch if ch.isalnum() else " " for ch in text.casefold()).split()


@dataclass(frozen=True)
class SearchHit:
    item: CatalogItem
    score: float


class Catalog:
    def __init__(self, loaded: Iterable[tuple[Framework, Sequence[CatalogItem]]]) -> None:
        self._frameworks: dict[FrameworkKey, Framework] = {}
        self._framework_aliases: dict[str, FrameworkKey] = {}
        self._items: dict[str, CatalogItem] = {}
        self._by_framework: dict[FrameworkKey, list[CatalogItem]] = defaultdict(list)
        self._children: dict[str, list[str]] = defaultdict(list)
        self._aliases: dict[str, str] = {}
        self._haystacks: dict[str, tuple[set[str], set[str], str]] = {}
        for framework, items in loaded:
            self._add_framework(framework, items)

    def _add_framework(self, framework: Framework, items: Sequence[CatalogItem]) -> None:
        self._frameworks[framework.key] = framework
        for alias in (framework.key.value, framework.source_id, *framework.aliases):
            self._framework_aliases[lookup_key(alias)] = framework.key
        for item in items:
            if item.id in self._items:
                raise ValueError(f"catalog ID {item.id!r} is defined twice")
            self._items[item.id] = item
            self._by_framework[framework.key].append(item)
            if item.parent:
                self._children[item.parent].append(item.id)
            for alias in (item.id, *item.aliases):
                # The first owner of an alias keeps it: canonical IDs are registered first.
                self._aliases.setdefault(lookup_key(alias), item.id)
            id_words = set(words(item.id)) | {w for a in item.aliases for w in words(a)}
            self._haystacks[item.id] = (
                id_words,
                set(words(item.name)),
                " ".join(words(f"{item.name} {item.text}")),
            )

    # --- frameworks ------------------------------------------------------------------------------

    @property
    def frameworks(self) -> list[Framework]:
        return list(self._frameworks.values())

    def framework(self, name: str) -> Framework:
        key = self._framework_aliases.get(lookup_key(name))
        if key is None:
            known = ", ".join(k.value for k in self._frameworks)
            raise NotFoundError(f"unknown framework {name!r}", hint=f"known frameworks: {known}")
        return self._frameworks[key]

    # --- items -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, identifier: object) -> bool:
        return isinstance(identifier, str) and self.resolve(identifier) is not None

    def resolve(self, identifier: str) -> str | None:
        """The canonical ID for ``identifier`` (any accepted notation), or None."""
        return self._aliases.get(lookup_key(identifier))

    def find(self, identifier: str) -> CatalogItem | None:
        canonical = self.resolve(identifier)
        return None if canonical is None else self._items[canonical]

    def get(self, identifier: str) -> CatalogItem:
        item = self.find(identifier)
        if item is None:
            raise UnknownCatalogIdError(identifier, self.suggest(identifier))
        return item

    def suggest(self, identifier: str, limit: int = 3) -> list[str]:
        key = lookup_key(identifier)
        close = difflib.get_close_matches(key, list(self._aliases), n=limit * 2, cutoff=0.75)
        return list(dict.fromkeys(self._aliases[c] for c in close))[:limit]

    def items(
        self, framework: FrameworkKey | str | None = None, kind: str | None = None
    ) -> list[CatalogItem]:
        if framework is None:
            pool: Iterable[CatalogItem] = self._items.values()
        else:
            key = (
                framework if isinstance(framework, FrameworkKey) else self.framework(framework).key
            )
            pool = self._by_framework[key]
        return [item for item in pool if kind is None or item.kind == kind]

    def children(self, identifier: str) -> list[CatalogItem]:
        return [self._items[c] for c in self._children.get(self.get(identifier).id, [])]

    def ancestors(self, identifier: str) -> list[CatalogItem]:
        """Parents from the nearest up, e.g. GOVERN 1.1 -> GOVERN 1 -> GOVERN."""
        chain: list[CatalogItem] = []
        item = self.get(identifier)
        while item.parent and item.parent in self._items:
            item = self._items[item.parent]
            chain.append(item)
        return chain

    # --- search ----------------------------------------------------------------------------------

    def search(
        self, text: str, *, framework: str | None = None, kind: str | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Items matching every word of ``text``, best first.

        An exact ID or alias ranks first; then words found in IDs, then in names, then in the text.
        """
        query = words(text)
        if not query:
            return []
        exact = self.resolve(text)
        hits: list[SearchHit] = []
        for item in self.items(framework, kind):
            id_words, name_words, body = self._haystacks[item.id]
            score = 0.0
            for word in query:
                if word in id_words:
                    score += 4
                elif word in name_words:
                    score += 3
                elif any(w.startswith(word) for w in name_words):
                    score += 2
                elif word in body:
                    score += 1
                else:
                    break
            else:
                if item.id == exact:
                    score += 100
                if name_words:
                    # A short name made of the query's words beats a long one that mentions them.
                    score += 3 * len(name_words.intersection(query)) / len(name_words)
                hits.append(SearchHit(item, round(score, 3)))
        hits.sort(key=lambda hit: (-hit.score, hit.item.id))
        return hits[:limit]


@lru_cache(maxsize=4)
def _cached(directory: Path | None) -> Catalog:
    return Catalog(load_all(directory))


def get_catalog(directory: Path | None = None) -> Catalog:
    """The packaged catalog, read once per process."""
    return _cached(directory)
