"""Property tests: the content YAML loader on arbitrary text raises only ``ContentError``.

Content folders are operator-supplied, and imported reports can be hostile: whatever the text,
the loader must answer with a ContentError naming the file (and the line when there is one).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.content import ContentModel, parse_yaml, validate_document
from garrison.core.errors import ContentError

PATH = Path("content/example.yaml")

YAML_PIECES = st.sampled_from(
    [
        "a: 1\n",
        "- x\n",
        "  ",
        "\n",
        ": ",
        "- ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a ",
        "!!python/object:os.system ",
        "!!binary ",
        "? ",
        "|\n",
        ">\n",
        '"',
        "'",
        "#",
        "---\n",
        "...\n",
        "id: x\n",
        "%YAML 1.1\n",
        "\t",
        "\x00",
        "\ufeff",
    ]
)
TEXTS = st.one_of(st.text(max_size=200), st.lists(YAML_PIECES, max_size=30).map("".join))


class Item(ContentModel):
    id: str
    weight: int = 1


class Document(ContentModel):
    items: list[Item]


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_parsing_any_text_gives_data_or_a_content_error(text: str) -> None:
    refusal: ContentError | None = None
    try:
        validate_document(Document, parse_yaml(text, PATH))
    except ContentError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.path == PATH
        assert str(PATH) in str(refusal)


def test_python_tags_are_refused_not_run() -> None:
    with pytest.raises(ContentError, match=r"tag|could not determine"):
        parse_yaml("!!python/object/apply:os.system ['true']\n", PATH)


@pytest.mark.parametrize("depth", [150, 500, 990, 5000])
def test_deeply_nested_yaml_is_a_content_error(depth: int) -> None:
    with pytest.raises(ContentError, match="nest"):
        parse_yaml("[" * depth + "]" * depth, PATH)


def test_nesting_within_the_limit_loads() -> None:
    assert parse_yaml("[" * 50 + "]" * 50, PATH).data is not None


def test_alias_expansion_is_bounded() -> None:
    # 10^5 leaves from a 400-byte file; a few more levels would take minutes and gigabytes.
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 5)]
    started = time.perf_counter()
    with pytest.raises(ContentError, match=r"alias|too many|nodes"):
        parse_yaml("\n".join(levels), PATH)
    assert time.perf_counter() - started < 1.0
