"""The LaTeX math grammar (Lark, LALR) and the tree it builds.

The grammar is deliberately lenient about *meaning*: ``\\sigma(z)`` is parsed as a juxtaposition of
``\\sigma`` and a parenthesised group, ``W^2`` as a base with a superscript. Deciding that
``\\sigma`` is a function, that ``^2`` names a layer and that juxtaposition is a matrix product is
the job of :mod:`gradcheck.latex.lower`, which knows the model. The grammar only knows LaTeX.

Ignored: ``\\left`` / ``\\right`` / ``\\big`` ... sizing commands, spacing (``\\, \\; \\! \\quad``),
``\\displaystyle``. A bare ``|`` is paired left to right into ``\\lvert ... \\rvert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from gradcheck import limits

GRAMMAR = r"""
start: relation

relation: expr (RELOP expr)*
?expr: sum
sum: sterm (ADDOP sterm)*
sterm: ADDOP? hadamard
hadamard: product (HADOP product)*
product: pitem+
?pitem: factor | MULOP -> mulop | bigop

bigop: BIGOP scripts
factor: atom scripts
scripts: script*
script: SUB sarg -> sub
      | SUP sarg -> sup
      | PRIME -> prime
?sarg: "{" arglist "}" -> braced
     | CHAR -> char
     | COMMAND -> command
     | FONT "{" expr "}" -> font

arglist: relation ("," relation)*

?atom: NAME -> name
     | NUMBER -> number
     | COMMAND -> command
     | FONT "{" expr "}" -> font
     | TEXT -> text
     | ACCENT "{" expr "}" -> accent
     | ACCENT CHAR -> accent
     | ACCENT COMMAND -> accent
     | FRAC farg farg -> frac
     | SQRT "{" expr "}" -> sqrt
     | "(" arglist ")" -> paren
     | "[" arglist "]" -> bracket
     | LCURLY arglist RCURLY -> setbrace
     | "{" expr "}" -> brace
     | LVERT expr RVERT -> abs
     | BEGIN rows END -> matrix
     | DOTS -> dots

?farg: "{" expr "}" | CHAR -> char
rows: row (ROWSEP row)* ROWSEP?
row: expr ("&" expr)*

RELOP.2: "=" | ":=" | /\\(equiv|approx|coloneqq|neq|ne|geq|ge|leq|le|gt|lt)(?![A-Za-z])/ | ">" | "<"
ADDOP: "+" | "-" | /\\pm(?![A-Za-z])/
HADOP.2: /\\(odot|circ|ast|otimes)(?![A-Za-z])/
MULOP.2: /\\(cdot|times)(?![A-Za-z])/ | "/" | "*"
BIGOP.2: /\\(sum|max|min|prod|argmax)(?![A-Za-z])/
FRAC.2: /\\[dt]?frac(?![A-Za-z])/
SQRT.2: /\\sqrt(?![A-Za-z])/
FONT.2: /\\(mathbf|boldsymbol|bm|mathrm|mathit|mathsf|mathcal|mathbb|operatorname|vec|textbf|mathbfit|pmb)(?![A-Za-z])/
ACCENT.2: /\\(hat|widehat|bar|overline|tilde|widetilde|dot)(?![A-Za-z])/
TEXT.2: /\\(text|mbox|textrm)\s*\{[^{}]*\}/
BEGIN.2: /\\begin\s*\{\s*[bpvBV]?matrix\s*\}/
END.2: /\\end\s*\{\s*[bpvBV]?matrix\s*\}/
DOTS.2: /\\(cdots|ldots|vdots|ddots|dots)(?![A-Za-z])/
LCURLY.2: "\\{"
RCURLY.2: "\\}"
LVERT.2: /\\lvert(?![A-Za-z])/ | "\x01"
RVERT.2: /\\rvert(?![A-Za-z])/ | "\x02"
ROWSEP.2: "\\\\"
COMMAND: /\\[A-Za-z]+/
PRIME: "'"
SUB: "_"
SUP: "^"
CHAR: /[A-Za-z0-9]/
NAME: /[A-Za-z]+/
NUMBER: /[0-9]+(\.[0-9]+)?/

IGNORED.3: /\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|bigm|Bigm|big|Big|bigg|Bigg)(?![A-Za-z])\s*[.]?/
         | /\\(displaystyle|textstyle|quad|qquad|limits|nolimits)(?![A-Za-z])/
         | /\\[,;:! ]/ | "~"
%ignore IGNORED
%ignore /\s+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


class LatexError(ValueError):
    """LaTeX that cannot be read or mapped to the model: quotes the LaTeX and points at the place."""

    def __init__(self, message: str, latex: str = "", start: int | None = None, end: int | None = None,
                 where: str = "", hint: str = ""):
        self.reason, self.latex, self.start, self.end, self.where, self.hint = message, latex, start, end, where, hint
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.where}: " if self.where else ""
        lines = [f"{head}{self.reason}"]
        if self.latex:
            text = self.latex.replace("\n", " ")
            lines.append(f"    {text}")
            if self.start is not None:
                end = self.end if self.end is not None and self.end > self.start else self.start + 1
                lines.append("    " + " " * self.start + "^" * max(1, min(end, len(text)) - self.start))
        if self.hint:
            lines.append(f"  {self.hint}")
        return "\n".join(lines)

    def located(self, where: str) -> "LatexError":
        """The same error with a place (file, line, claim) in front."""
        return LatexError(self.reason, self.latex, self.start, self.end,
                          where=f"{where}: {self.where}" if self.where else where, hint=self.hint)


# ---------------------------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True)
class Name(Node):
    text: str  # a run of letters as written ("W", "dW", "ReLU")


@dataclass(frozen=True)
class Number(Node):
    text: str


@dataclass(frozen=True)
class Command(Node):
    text: str  # without the backslash: "lambda", "partial", "top"


@dataclass(frozen=True)
class Font(Node):
    font: str  # "mathbf", "operatorname", ...
    body: Any


@dataclass(frozen=True)
class Accent(Node):
    accent: str
    body: Any


@dataclass(frozen=True)
class Text(Node):
    text: str


@dataclass(frozen=True)
class Frac(Node):
    num: Any
    den: Any


@dataclass(frozen=True)
class Sqrt(Node):
    body: Any


@dataclass(frozen=True)
class Group(Node):
    kind: str  # "(", "[", "\\{", "{"
    items: tuple


@dataclass(frozen=True)
class Abs(Node):
    body: Any


@dataclass(frozen=True)
class Matrix(Node):
    rows: tuple  # tuple of tuples of nodes


@dataclass(frozen=True)
class Dots(Node):
    text: str


@dataclass(frozen=True)
class Script:
    kind: str  # "sub", "sup", "prime"
    items: tuple  # the comma-separated entries (empty for a prime)
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Factor(Node):
    base: Any
    scripts: tuple = ()

    def sub(self) -> Script | None:
        return next((s for s in self.scripts if s.kind == "sub"), None)

    def sup(self) -> Script | None:
        return next((s for s in self.scripts if s.kind == "sup"), None)

    @property
    def primes(self) -> int:
        return sum(s.kind == "prime" for s in self.scripts)


@dataclass(frozen=True)
class BigOp(Node):
    op: str  # "sum", "max", ...
    scripts: tuple = ()


@dataclass(frozen=True)
class MulOp(Node):
    op: str  # "cdot", "times", "/", "*"


@dataclass(frozen=True)
class Product(Node):
    items: tuple  # Factor | BigOp | MulOp


@dataclass(frozen=True)
class Hadamard(Node):
    items: tuple  # Product nodes
    ops: tuple  # "odot", "circ", "ast", ...


@dataclass(frozen=True)
class Sum(Node):
    terms: tuple  # ((sign "+" | "-", node), ...)


@dataclass(frozen=True)
class Relation(Node):
    items: tuple
    ops: tuple  # "=", "equiv", ":=", ">", ...


_REL_NAMES = {"=": "=", ":=": ":=", ">": ">", "<": "<", "\\coloneqq": ":=", "\\equiv": "equiv",
              "\\approx": "approx", "\\neq": "!=", "\\ne": "!=", "\\geq": ">=", "\\ge": ">=", "\\leq": "<=",
              "\\le": "<=", "\\gt": ">", "\\lt": "<"}


def _span(meta) -> tuple[int, int]:
    if getattr(meta, "empty", True):
        return 0, 0
    return meta.start_pos, meta.end_pos


def _tok_span(tok: Token) -> tuple[int, int]:
    return tok.start_pos, tok.end_pos


def _command(tok: Token) -> Command:
    return Command(*_tok_span(tok), text=str(tok)[1:])


@v_args(meta=True)
class _Build(Transformer):
    def start(self, meta, c):
        return c[0]

    def relation(self, meta, c):
        if len(c) == 1:
            return c[0]
        return Relation(*_span(meta), items=tuple(c[0::2]), ops=tuple(_REL_NAMES[str(t).strip()] for t in c[1::2]))

    def sum(self, meta, c):
        terms, sign = [], "+"
        for x in c:
            if isinstance(x, Token) and x.type == "ADDOP":
                sign = str(x)
                continue
            terms.append((sign, x))
            sign = "+"
        if len(terms) == 1 and terms[0][0] == "+":
            return terms[0][1]
        return Sum(*_span(meta), terms=tuple(terms))

    def sterm(self, meta, c):
        if len(c) == 2:
            inner = c[1]
            sign = "-" if str(c[0]) == "-" else "+"
            return Sum(*_span(meta), terms=((sign, inner),))
        return c[0]

    def hadamard(self, meta, c):
        if len(c) == 1:
            return c[0]
        return Hadamard(*_span(meta), items=tuple(c[0::2]), ops=tuple(str(t)[1:] for t in c[1::2]))

    def product(self, meta, c):
        if len(c) == 1 and isinstance(c[0], Factor):
            return c[0]
        return Product(*_span(meta), items=tuple(c))

    def mulop(self, meta, c):
        t = str(c[0])
        return MulOp(*_tok_span(c[0]), op=t[1:] if t.startswith("\\") else t)

    def bigop(self, meta, c):
        return BigOp(*_span(meta), op=str(c[0])[1:], scripts=c[1])

    def factor(self, meta, c):
        base, scripts = c
        if not scripts:
            return base
        return Factor(*_span(meta), base=base, scripts=scripts)

    def scripts(self, meta, c):
        return tuple(c)

    def sub(self, meta, c):
        return Script("sub", _items(c[1]), *_span(meta))

    def sup(self, meta, c):
        return Script("sup", _items(c[1]), *_span(meta))

    def prime(self, meta, c):
        return Script("prime", (), *_span(meta))

    def braced(self, meta, c):
        return Group(*_span(meta), kind="{", items=tuple(c[0]))

    def char(self, meta, c):
        tok = c[0]
        cls = Number if str(tok).isdigit() else Name
        return cls(*_tok_span(tok), text=str(tok))

    def command(self, meta, c):
        return _command(c[0])

    def font(self, meta, c):
        return Font(*_span(meta), font=str(c[0])[1:], body=c[1])

    def arglist(self, meta, c):
        return tuple(c)

    def name(self, meta, c):
        return Name(*_tok_span(c[0]), text=str(c[0]))

    def number(self, meta, c):
        return Number(*_tok_span(c[0]), text=str(c[0]))

    def text(self, meta, c):
        return Text(*_tok_span(c[0]), text=str(c[0]))

    def accent(self, meta, c):
        body = c[1]
        if isinstance(body, Token):
            body = _command(body) if str(body).startswith("\\") else Name(*_tok_span(body), text=str(body))
        return Accent(*_span(meta), accent=str(c[0])[1:], body=body)

    def frac(self, meta, c):
        return Frac(*_span(meta), num=c[1], den=c[2])

    def sqrt(self, meta, c):
        return Sqrt(*_span(meta), body=c[1])

    def paren(self, meta, c):
        return Group(*_span(meta), kind="(", items=tuple(c[0]))

    def bracket(self, meta, c):
        return Group(*_span(meta), kind="[", items=tuple(c[0]))

    def setbrace(self, meta, c):
        return Group(*_span(meta), kind="\\{", items=tuple(c[1]))

    def brace(self, meta, c):
        return Group(*_span(meta), kind="{", items=(c[0],))

    def abs(self, meta, c):
        return Abs(*_span(meta), body=c[1])

    def matrix(self, meta, c):
        return Matrix(*_span(meta), rows=c[1])

    def rows(self, meta, c):
        return tuple(r for r in c if not isinstance(r, Token))

    def row(self, meta, c):
        return tuple(c)

    def dots(self, meta, c):
        return Dots(*_tok_span(c[0]), text=str(c[0]))


def _items(x) -> tuple:
    return x.items if isinstance(x, Group) and x.kind == "{" else (x,)


def _pair_bars(latex: str) -> str:
    """Bare ``|`` bars, paired left to right at equal brace depth, become open/close markers."""
    out, open_at = list(latex), {}
    depth = 0
    for i, ch in enumerate(latex):
        if ch == "{" and (i == 0 or latex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or latex[i - 1] != "\\"):
            depth -= 1
        elif ch == "|" and (i == 0 or latex[i - 1] != "\\"):
            if open_at.get(depth) is None:
                open_at[depth], out[i] = i, "\x01"
            else:
                open_at[depth], out[i] = None, "\x02"
    return "".join(out)


_EXPECTED = {"RBRACE": "}", "LBRACE": "{", "RPAR": ")", "LPAR": "(", "RSQB": "]", "LSQB": "[", "RVERT": "a closing |",
             "RCURLY": "\\}", "END": "\\end{bmatrix}", "COMMA": ",", "NAME": "a symbol", "NUMBER": "a number",
             "COMMAND": "a command", "CHAR": "a letter or digit"}


def parse(latex: str, *, where: str = ""):
    """Parse one LaTeX math expression or equation into the node tree; raises :class:`LatexError`."""
    if not isinstance(latex, str) or not latex.strip():
        raise LatexError("the LaTeX is empty", where=where)
    _check_size(latex, where)
    _check_braces(latex, where)
    try:
        tree = _PARSER.parse(_pair_bars(latex))
        return _Build().transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, latex, where) from None
    except (RecursionError, MemoryError):  # a tree too deep for the transformer (checked above, kept as a net)
        raise LatexError(f"the LaTeX nests too deeply (more than {limits.MAX_DEPTH} levels); split it into "
                         "several equations", latex, 0, 1, where) from None


def _check_size(latex: str, where: str) -> None:
    """The limits of :mod:`gradcheck.limits` (characters, nesting of brackets), checked before parsing."""
    if len(latex) > limits.MAX_EXPRESSION_CHARS:
        raise LatexError(f"the LaTeX has {len(latex):,} characters, more than the limit of "
                         f"{limits.MAX_EXPRESSION_CHARS:,}; split it into several equations", latex[:200], 0, 1, where)
    depth = 0
    for i, ch in enumerate(latex):
        if ch in "{([":
            depth += 1
            if depth > limits.MAX_DEPTH:
                raise LatexError(f"the LaTeX nests brackets more than {limits.MAX_DEPTH} levels deep; split it into "
                                 "several equations", latex, i, i + 1, where)
        elif ch in "})]":
            depth = max(depth - 1, 0)


def _check_braces(latex: str, where: str) -> None:
    """Unbalanced braces get their own message: where the unmatched brace is."""
    stack = []
    for i, ch in enumerate(latex):
        escaped = i > 0 and latex[i - 1] == "\\" and not (i > 1 and latex[i - 2] == "\\")
        if escaped:
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}":
            if not stack:
                raise LatexError("unbalanced brace: this `}` closes nothing", latex, i, i + 1, where,
                                 "remove it or add the matching `{` before it")
            stack.pop()
    if stack:
        i = stack[-1]
        raise LatexError("unbalanced brace: this `{` is never closed", latex, i, i + 1, where,
                         "add the matching `}`")


def _syntax_error(exc: UnexpectedInput, latex: str, where: str) -> LatexError:
    pos = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        pos = tok.start_pos if tok.type != "$END" else len(latex)
        shown = "the end of the LaTeX" if tok.type == "$END" else f"`{latex[tok.start_pos:tok.end_pos]}`"
        expected = sorted({_EXPECTED.get(e, "") for e in exc.expected} - {""})
        hint = f"expected {' or '.join(expected[:6])}" if expected else ""
        end = pos + 1 if tok.type == "$END" else tok.end_pos
        return LatexError(f"cannot read the LaTeX at {shown}", latex, pos, end, where, hint)
    if isinstance(exc, UnexpectedCharacters):
        ch = latex[pos] if pos is not None and pos < len(latex) else "?"
        return LatexError(f"cannot read the LaTeX: unexpected character `{ch}`", latex, pos, (pos or 0) + 1, where)
    if isinstance(exc, UnexpectedEOF):
        return LatexError("the LaTeX ends too early", latex, len(latex), len(latex) + 1, where)
    return LatexError(f"cannot read the LaTeX: {exc}", latex, pos, None, where)
