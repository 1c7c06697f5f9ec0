"""Text that people typed (class titles, display names, model names), made safe to place inside Streamlit's markdown."""
from __future__ import annotations

import re

INLINE_SIGNS = re.compile(r"([\\`*_\[\]<>$:~|&])")  # emphasis, code, links, HTML, LaTeX, Streamlit's :directives:
BLOCK_START = re.compile(r"^(\d*)([#>+.)-])")  # a heading, quote or list where the text begins


def plain(text) -> str:
    """`text` on one line, shown as typed inside markdown: every sign that markdown, HTML, LaTeX ($…$) or
    Streamlit's directives (:red[…], :material/…:) could read is escaped with a backslash."""
    line = INLINE_SIGNS.sub(r"\\\1", " ".join(str(text).split()))
    return BLOCK_START.sub(r"\1\\\2", line)
