"""When two display names look alike: a name's key (its skeleton) under case folding and Unicode's confusables.

Unicode's TR39 lists, for each character that can pass for another, the prototype it passes for (Cyrillic "а" for
Latin "a", "m" for "rn", "1" and "I" for "l"). The package confusable-homoglyphs ships that list as a map from
each character to its look-alikes, both ways: a prototype lists its sources, a source its prototype. The key of a
name is its NFKC form, case-folded, with every character replaced by one canonical member of its look-alike class
(a multi-character prototype first, so that "m" becomes "rn" and meets a typed "rn"), repeated until nothing changes,
and case-folded again. Two names with one key would read as one name on the board.

Folding case first loses what TR39's own skeleton (`look`, case kept) sees: "Ian" reads as "lan" (capital I as small
L), where "ian" does not. Neither relation contains the other, so a name is refused when either key is taken.
"""
from __future__ import annotations

import functools
import unicodedata

MARKS = "\u200e\u200f"  # the list wraps right-to-left characters in direction marks; they are no part of them
MAX_ROUNDS = 8


@functools.cache
def canonical() -> dict[str, str]:
    """Each listed character → its look-alike class's canonical member: a multi-character one first, then an ASCII
    one, then the TR39 prototype (the member that lists the most look-alikes), then the smallest."""
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    listed = {}
    for source, alikes in confusables_data.items():
        source = source.strip(MARKS)
        listed[source] = max(listed.get(source, 0), len(alikes))
        for alike in alikes:
            other = alike["c"].strip(MARKS)
            if source and other:
                parent[root(source)] = root(other)
    groups: dict[str, list[str]] = {}
    for member in parent:
        groups.setdefault(root(member), []).append(member)
    mapping = {}
    for members in groups.values():
        best = min(members, key=lambda m: (len(m) == 1, not m.isascii(), -listed.get(m, 0), m))
        mapping.update((m, best) for m in members if len(m) == 1)
    return mapping


def _skeleton(name: str, fold: bool) -> str:
    table = canonical()
    again = (lambda text: text.casefold()) if fold else (lambda text: text)
    text = again(unicodedata.normalize("NFKC", name))
    for _ in range(MAX_ROUNDS):
        mapped = again(unicodedata.normalize("NFKC", "".join(table.get(ch, ch) for ch in text)))
        if mapped == text:
            break
        text = mapped
    return text


def key(name: str) -> str:
    """The name's skeleton after case folding: "Ada", "ada" and "Аda" (Cyrillic А) have one key; so have "Kim" and
    "Kirn"."""
    return _skeleton(name, fold=True)


def look(name: str) -> str:
    """The name's TR39 skeleton, case kept: "Ian" and "lan" (capital I, small L) have one; "ian" another."""
    return _skeleton(name, fold=False)
