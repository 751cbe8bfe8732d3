"""Text that comes from a file, made safe to print on a terminal and to put in markdown or HTML.

A claim's name, formula, LaTeX or reason is written by whoever wrote the file. Printed raw, an
escape sequence in it can erase the line above and print a fake verdict; copied raw into the
markdown report, ``<script>`` or ``<img onerror=...>`` runs in any renderer that passes HTML
through. Every such text goes through one of these functions on its way out:

* :func:`terminal`: control characters (C0, DEL, C1), bidirectional overrides and other invisible
  format characters are shown as ``\\x1b``, ``\\u202e``, ... (a newline inside a field too: one
  field, one line);
* :func:`markdown`: the text shown literally in markdown (HTML characters as entities, markdown
  punctuation backslash-escaped, ``|`` escaped for tables), control characters escaped as above;
* :func:`code`: the text inside an inline code span (backticks cannot end it early);
* :func:`markdown_text`: text with code spans of ours: HTML characters as entities outside them;
* :func:`no_html`: markdown of ours that may hold file text (links, math kept): no tag can form;
* :func:`math`: LaTeX inside ``$...$``: ``<`` and ``>`` become ``\\lt`` and ``\\gt``, so raw HTML
  cannot form;
"""

from __future__ import annotations

import unicodedata

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>&~$")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def is_unsafe(ch: str) -> bool:
    """Control (Cc), format (Cf: bidi overrides, zero-width), line/paragraph separators, surrogates."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") and ch != " "


def terminal(text: object) -> str:
    """``text`` with every control or invisible format character shown as an escape."""
    s = str(text)
    if all(ch.isprintable() for ch in s):
        return s
    return "".join(_escape_char(ch) if is_unsafe(ch) else ch for ch in s)


def terminal_lines(text: object) -> str:
    """Like :func:`terminal` but keeps newlines (for messages made of several lines we wrote)."""
    return "\n".join(terminal(line) for line in str(text).split("\n"))


def markdown(text: object) -> str:
    """``text`` shown literally in markdown, table cells included."""
    out = []
    for ch in terminal(text):
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "[": "\\[", "]": "\\]"}


def no_html(text: object) -> str:
    """Markdown that may hold our own markup (code spans, links, math): outside code spans ``<`` and ``>``
    become entities, so no HTML tag can form; nothing else changes (with an odd number of backticks,
    every ``<`` and ``>`` is escaped)."""
    s = terminal(text)
    if "<" not in s and ">" not in s:
        return s
    parts = s.split("`")
    if len(parts) % 2 == 0:
        return _no_tags(s)
    return "`".join(p if i % 2 else _no_tags(p) for i, p in enumerate(parts))


def _no_tags(s: str) -> str:
    return s.replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(text: object) -> str:
    """Markdown text that may hold code spans we wrote (`...`): outside them ``< > &`` become entities
    and ``[ ]`` are escaped, so no HTML tag and no link can form; inside them text is literal anyway.
    With an odd number of backticks every backtick is escaped too."""
    s = terminal(text)
    parts = s.split("`")
    if len(parts) % 2 == 0:  # unbalanced: no code span is trusted
        return "".join(_ENTITIES.get(ch, ch) for ch in s).replace("`", "\\`")
    return "`".join(p if i % 2 else "".join(_ENTITIES.get(ch, ch) for ch in p) for i, p in enumerate(parts))


def code(text: object) -> str:
    """An inline code span showing ``text`` literally (no HTML is formed inside a code span)."""
    s = terminal(text).replace("|", "\\|")
    longest = run = 0
    for ch in s:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def math(latex: object) -> str:
    """LaTeX for ``$...$`` or ``$$``: ``<`` and ``>`` become ``\\lt`` and ``\\gt`` so no HTML tag can form
    (``&`` stays: it aligns matrix columns, and an entity is never a tag)."""
    return terminal(latex).replace("<", "\\lt ").replace(">", "\\gt ")

