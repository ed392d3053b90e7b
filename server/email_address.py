"""E-mail addresses as accounts know them: one spelling per mailbox, no look-alikes.

:func:`normalize_email` makes the one form an address is stored, compared and looked up in:

1. Unicode NFKC, then lower case: full-width ``ＡＭＩＮＡ`` and ``amina`` are one address.
2. No invisible or control character anywhere (categories Cc, Cf, Co, Cs, Cn and every kind
   of space): a zero-width space or a direction mark would make a second account that reads
   the same.
3. The local part holds letters, digits, combining marks and ``! # $ % & ' * + - / = ? ^ _ `
   { | } ~ .`` (RFC 5322's unquoted atoms; no leading, trailing or doubled dot). Quoted local
   parts are not accepted.
4. The domain is checked and mapped by IDNA 2008 with UTS #46 (the ``idna`` package) and
   stored in its ASCII form: ``bücher.example`` is kept as ``xn--bcher-kva.example``.
5. **One script per part.** The letters of the local part, and of each domain label, come
   from a single script (digits and the punctuation above go with any), so a Cyrillic ``а``
   among Latin letters is refused. As in UTS #39's "highly restrictive" level, Latin may mix
   with Han and Japanese kana, with Han and Bopomofo, or with Han and Hangul, which is how
   those languages are written. An address wholly in another script than it seems (every
   letter Cyrillic) is not caught by this rule; it is at least a different address to see.

Addresses stored before these rules were only lower-cased; :func:`lookup_forms` gives the
forms to try when signing in, so that those accounts keep working.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import idna

__all__ = ["InvalidEmail", "lookup_forms", "normalize_email"]

MAX_LENGTH: Final = 254
MAX_LOCAL_LENGTH: Final = 64

_INVISIBLE: Final = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"})
_ATOM_PUNCTUATION: Final = frozenset("!#$%&'*+-/=?^_`{|}~.")
# Script names as the first word of a character's Unicode name, where that word is not the
# script's own name.
_NAME_TO_SCRIPT: Final = {
    "CJK": "Han",
    "IDEOGRAPHIC": "Han",
    "KATAKANA-HIRAGANA": "Katakana",
    "HALFWIDTH": "Katakana",
}
_MIXES: Final = (
    frozenset({"LATIN", "Han", "HIRAGANA", "Katakana", "KATAKANA"}),
    frozenset({"LATIN", "Han", "BOPOMOFO"}),
    frozenset({"LATIN", "Han", "HANGUL"}),
)


class InvalidEmail(ValueError):
    """The address cannot be an account's; the message says why, for a person."""


def _script(character: str) -> str | None:
    """The script of a letter, from its Unicode name; None for anything else."""
    if not character.isalpha():
        return None
    word = unicodedata.name(character, "UNKNOWN").split(" ", 1)[0]
    return _NAME_TO_SCRIPT.get(word, word)


def _single_script(part: str, what: str) -> None:
    scripts = {script for character in part if (script := _script(character)) is not None}
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _MIXES):
        return
    names = " and ".join(sorted(script.title() for script in scripts))
    raise InvalidEmail(
        f"the {what} {part!r} mixes letters of different scripts ({names}); "
        "write it in one script, so that it cannot pass for another address"
    )


def _describe(character: str) -> str:
    name = unicodedata.name(character, "an unnamed character")
    return f"U+{ord(character):04X} {name}"


def normalize_email(address: str) -> str:
    """The one stored form of ``address`` (see the module docstring).

    Raises:
        InvalidEmail: the address breaks one of the rules; the message names it.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address).lower())
    for character in text:
        if unicodedata.category(character) in _INVISIBLE:
            raise InvalidEmail(
                f"the address contains an invisible, space or control character "
                f"({_describe(character)})"
            )
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("the address needs a local part, an @ and a domain")
    if "@" in local:
        raise InvalidEmail("the address may contain only one @")
    if len(local) > MAX_LOCAL_LENGTH:
        raise InvalidEmail(f"the part before the @ is longer than {MAX_LOCAL_LENGTH} characters")
    for character in local:
        allowed = character.isalnum() or unicodedata.category(character).startswith("M")
        if not allowed and character not in _ATOM_PUNCTUATION:
            raise InvalidEmail(
                f"the part before the @ may not contain {character!r} ({_describe(character)})"
            )
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail("the part before the @ may not start or end with a dot, or hold two")
    _single_script(local, "part before the @")
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise InvalidEmail(f"{domain!r} is not a domain name (e.g. example.org)")
    try:
        ascii_domain = idna.encode(domain, uts46=True, std3_rules=True).decode("ascii")
        unicode_labels = idna.decode(ascii_domain).split(".")
    except idna.IDNAError as exc:
        raise InvalidEmail(f"{domain!r} is not a valid domain name: {exc}") from None
    for label in unicode_labels:
        _single_script(label, "domain label")
    normalized = f"{local}@{ascii_domain}"
    if len(normalized) > MAX_LENGTH:
        raise InvalidEmail(f"the address is longer than {MAX_LENGTH} characters")
    return normalized


def lookup_forms(address: str) -> list[str]:
    """The forms to look an account up by when signing in, most likely first.

    An address that breaks the rules cannot be an account made since they exist; it is
    still looked up as it was stored before them (lower case), so nothing about the rules
    tells whether it has an account.
    """
    legacy = address.lower()
    try:
        normalized = normalize_email(address)
    except InvalidEmail:
        return [legacy]
    return [normalized] if normalized == legacy else [normalized, legacy]
