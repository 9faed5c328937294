"""Recognising a raw credential where only a reference to one belongs.

The inventory records *where* an API key lives (an environment variable name, a secret-manager ARN)
and a fingerprint of it, never the key. Every text attribute of an asset passes through
``looks_like_secret`` on the way in, so a discovery plugin or a person who pastes a key into the
wrong field gets an error instead of a key at rest in the database.

The patterns run on RE2 (linear time): attribute values come from scanned files and cloud APIs and
are untrusted text.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache
from typing import Any

import re2

# Provider key formats with a distinctive prefix; each is specific enough to have no false
# positives on names, ARNs, URLs or digests.
_KEY_PATTERNS = (
    r"sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?[A-Za-z0-9_\-]{20,}",  # OpenAI, Anthropic
    r"(?:AKIA|ASIA)[A-Z0-9]{16}",  # AWS access key ID
    r"AIza[0-9A-Za-z_\-]{35}",  # Google API key
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face token
    r"gh[pousr]_[A-Za-z0-9]{36,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{40,}",
    r"glpat-[A-Za-z0-9_\-]{20,}",  # GitLab
    r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
    r"(?:gsk|r8|pplx|nvapi)[_\-][A-Za-z0-9_\-]{30,}",  # Groq, Replicate, Perplexity, NVIDIA
    r"(?:sk|rk)_live_[A-Za-z0-9]{20,}",  # Stripe
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i:bearer)\s+[A-Za-z0-9_\-\.=]{20,}",
    r"(?i:api[_-]?key|access[_-]?token|secret)=[A-Za-z0-9_\-]{16,}",  # key in a URL query
)

# A long unbroken alphanumeric token mixing upper case, lower case and several digits is how most
# other vendors' keys look (Cohere, Mistral). Names (``Meta-Llama-3-70B-Instruct``), ARNs, paths and
# hex digests do not match: they contain separators, or are one case.
_OPAQUE_TOKEN = r"[A-Za-z0-9+]{32,}={0,2}"  # noqa: S105 - a pattern, not a password
_MIN_DIGITS = 4


@cache
def _key_regex() -> Any:
    return re2.compile("(?:" + "|".join(_KEY_PATTERNS) + ")")


@cache
def _token_regex() -> Any:
    return re2.compile(_OPAQUE_TOKEN)


def _mixed(token: str) -> bool:
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and sum(c.isdigit() for c in token) >= _MIN_DIGITS
    )


def looks_like_secret(value: str) -> bool:
    """True when ``value`` contains something that looks like a raw credential."""
    if len(value) < 16:
        return False
    if _key_regex().search(value) is not None:
        return True
    return any(_mixed(match.group(0)) for match in _token_regex().finditer(value))


def looks_like_raw_key(value: str) -> bool:
    """Stricter test for a field that must hold a *reference*: a bare hex string of key length
    (Azure OpenAI keys are 32 hex digits) is refused there too."""
    stripped = value.strip()
    if looks_like_secret(stripped):
        return True
    return len(stripped) >= 32 and all(c in "0123456789abcdefABCDEF" for c in stripped)


def key_fingerprint(secret: str) -> str:
    """The fingerprint a discovery plugin records for a key it saw: ``sha256:<hex>``.

    It lets two sightings of the same key be matched (the same key in two repositories) without
    storing it. Keys have enough entropy that an unkeyed hash does not reveal them.
    """
    return "sha256:" + hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()


def normalise_prompt(text: str) -> str:
    """The form of a system prompt that is fingerprinted: Unicode NFC, Unix line ends, runs of
    spaces and tabs folded, trailing spaces and surrounding blank lines dropped. Edits that change
    only layout keep the fingerprint; any change of wording changes it."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.replace("\t", " ").split()) for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def prompt_fingerprint(text: str) -> str:
    """SHA-256 (hex) of the normalised prompt: what the registry keeps instead of the prompt."""
    return hashlib.sha256(normalise_prompt(text).encode("utf-8")).hexdigest()
