"""Symbols: which model name a LaTeX symbol stands for, and its scripts (labels, indices, powers, ^T)."""

from __future__ import annotations

import numpy as np

from gradcheck.latex import grammar as g
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.nodes import (
    _hoist_scripts,
    _integer,
    _is_negative,
    _known_hint,
    _label,
    _neg,
    _plain_name,
    _single,
)
from gradcheck.latex.notation import ACCENT_SUFFIX, TRANSPARENT_FONTS, greek_stems
from gradcheck.latex.values import ATOM, MUL, POW, Context, Deriv, Val, _source, dim_text, wrap


class SymbolRules:
    def symbol(self, node) -> Val:
        base, scripts = (node.base, tuple(node.scripts)) if isinstance(node, g.Factor) else (node, ())
        base, scripts = _hoist_scripts(base, scripts)
        special = self.special(base, scripts, node)
        if special is not None:
            return special
        if isinstance(base, g.Number) or not (_single(base) is not None or isinstance(base, g.Group)):
            return self.apply_scripts(self.lower(base), scripts, node, None)
        try:
            name, rest = self.resolve(base, scripts, node)
        except LatexError:
            d = self.d_prefixed(base, scripts, node)
            if d is None:
                d = self.letters(base, scripts, node)
            if d is None:
                raise
            return d
        if name is None:
            return self.apply_scripts(self.lower(base), scripts, node, None)
        self.ctx.spelled.setdefault(name, self.spelling(base, scripts, rest))
        return self.apply_scripts(Val(name), rest, node, name)

    def letters(self, base, scripts, node) -> Val | None:
        """``XV`` read as the product of ``X`` and ``V`` when the run is no name but each letter is
        (the scripts belong to the last letter, as in LaTeX)."""
        if not (isinstance(base, g.Name) and len(base.text) > 1 and all(c in self.ctx.names for c in base.text)):
            return None
        items = [g.Name(base.start + k, base.start + k + 1, text=c) for k, c in enumerate(base.text)]
        if scripts:
            items[-1] = g.Factor(items[-1].start, node.end, base=items[-1], scripts=tuple(scripts))
        return self.product(items, node)

    def d_prefixed(self, base, scripts, node) -> Val | None:
        """``dW_2`` / ``dZ^{[1]}``: the true derivative of the objective with respect to W2 / Z1."""
        if not (isinstance(base, g.Name) and base.text.startswith("d") and len(base.text) > 1):
            return None
        stripped = g.Name(base.start + 1, base.end, text=base.text[1:])
        try:
            name, rest = self.resolve(stripped, scripts, node)
        except LatexError:
            return None
        if name is None or name not in self.ctx.model.names:
            return None
        v = self.derivative_value(Deriv(self.ctx.model.objective, name, node=node))
        self.ctx.spelled.setdefault(v.text, "d" + self.spelling(stripped, scripts, rest))
        return self.apply_scripts(v, rest, node, v.text)

    def special(self, base, scripts, node) -> Val | None:
        """\\mathbf{1}, \\mathbb{1} (an indicator when followed by brackets, handled in apply_scripts)."""
        if isinstance(base, g.Font) and base.font in ("mathbf", "mathbb", "boldsymbol", "bm") \
                and _integer(base.body) == 1:
            sub = next((s for s in scripts if s.kind == "sub"), None)
            rest = tuple(s for s in scripts if s is not sub)
            if sub is not None:
                size = self.bound_value(sub, node)
                v = Val(f"ones(({dim_text(self.ctx.model, size)}, 1))")
            else:
                v = Val("", ones="col")
            for s in rest:
                if s.kind == "sup" and _is_transpose(s, self.ctx):
                    v = Val(v.text + ".T") if v.text else Val("", ones="row" if v.ones == "col" else "col")
                else:
                    raise self.ctx.fail("only a transpose may follow \\mathbf{1}", node)
            return v
        if isinstance(base, g.Command) and base.text == "partial":
            raise self.ctx.fail("a lone \\partial: write a derivative as \\frac{\\partial L}{\\partial W}", node)
        return None

    def candidates(self, base) -> list[str]:
        """Model-name stems a LaTeX base may stand for."""
        spelled = _source(self.ctx, base)
        mapped = self.ctx.notation.lookup(spelled)
        if mapped is not None:
            return [mapped]
        if isinstance(base, g.Name):
            return [base.text]
        if isinstance(base, g.Number):
            return []
        if isinstance(base, g.Command):
            return list(greek_stems(base.text))
        if isinstance(base, g.Font):
            if base.font in TRANSPARENT_FONTS or base.font == "mathcal" or base.font == "operatorname":
                inner = _single(base.body)
                return self.candidates(inner) if inner is not None else []
            return []
        if isinstance(base, g.Accent):
            inner = _single(base.body)
            suffix = ACCENT_SUFFIX.get(base.accent, base.accent)
            stems = self.candidates(inner) if inner is not None else []
            return [s + suffix for s in stems] + [s + "_" + suffix for s in stems]
        if isinstance(base, g.Group) and base.kind == "{" and len(base.items) == 1:
            inner = _single(base.items[0])
            return self.candidates(inner) if inner is not None else []
        return []

    def resolve(self, base, scripts: tuple, node) -> tuple[str, tuple]:
        """The model name ``base`` with its scripts stands for, and the scripts it did not consume."""
        if isinstance(base, (g.Group, g.Abs, g.Matrix, g.Frac, g.Sqrt)) and not (
                isinstance(base, g.Group) and base.kind == "{" and _single(base.items[0]) is not None):
            return None, scripts  # handled by apply_scripts on the lowered value
        known = self.ctx.names
        for keep in [()] + [(x,) for x in scripts]:  # [notation] for a whole symbol: "z^3_1" = "z3_1"
            used = tuple(x for x in scripts if x not in keep)
            key = _source(self.ctx, base) + "".join(_source(self.ctx, x) for x in used)
            mapped = self.ctx.notation.lookup(key) if used else None
            if mapped is not None and mapped in known:
                return mapped, keep
        stems = self.candidates(base)
        spelled = _source(self.ctx, base)
        if not stems:
            raise self.unknown(spelled, base, known)
        readings: list[tuple[str, tuple, str]] = []  # (name, remaining scripts, description)
        for s in scripts:
            if s.kind == "prime":
                continue
            label, explicit, extra = _label(s)
            if label is None:
                continue
            for stem in stems:
                if stem + label in known:
                    rest = tuple(x for x in scripts if x is not s) + ((extra,) if extra is not None else ())
                    how = f"layer {label}" if explicit or s.kind == "sup" else f"label {label}"
                    readings.append((stem + label, rest, f"{stem + label} ({how})"))
            if explicit and not any(r[0] == stem + label for r in readings for stem in stems):
                raise self.ctx.fail(f"unknown symbol `{_source(self.ctx, node)}`: the model has no "
                                    f"{' or '.join(st + label for st in stems[:2])}", node,
                                    _known_hint(stems[0] + label, known))
        sup_layers = [r for r in readings if "(layer" in r[2] and not any(x.kind == "sub" and x not in r[1]
                                                                              for x in scripts)]
        if sup_layers and any(x.kind == "sub" for x in scripts):
            readings = sup_layers  # w^3_{1,1}: the superscript is the layer, the subscript the entry
        plain = [s for s in stems if s in known]
        explicit_label = any(_label(s)[1] for s in scripts if s.kind != "prime")
        if plain and not explicit_label:
            for stem in plain:
                desc = stem
                bare = [s for s in scripts if s.kind != "prime" and _label(s)[0] is not None]
                if bare:
                    s = bare[0]
                    desc = (f"{stem} to the power {_label(s)[0]}" if s.kind == "sup"
                            else f"entry {_label(s)[0]} of {stem}")
                    if not self.indexable(stem) and s.kind == "sub":
                        continue
                readings.append((stem, scripts, desc))
        names = list(dict.fromkeys(r[0] for r in readings))
        if len(readings) > 1 and len({(r[0], r[1]) for r in readings}) > 1:
            listing = "; ".join(r[2] for r in readings)
            raise self.ctx.fail(f"ambiguous symbol `{_source(self.ctx, node)}`: it could be {listing}", node,
                                "write W^{[2]} or W_{(2)} for a layer, {W}^{2} or (W)^2 for a power, "
                                "or add it to [notation]")
        if not names:
            raise self.unknown(_source(self.ctx, node), node, known, stems)
        return readings[0][0], readings[0][1]

    def spelling(self, base, scripts: tuple, rest: tuple) -> str:
        """How the LaTeX names a symbol: its base and the scripts that named it (not indices or ^T)."""
        out = _source(self.ctx, base)
        for s in scripts:
            if s in rest:
                continue
            label, _, extra = _label(s)
            src = _source(self.ctx, s)
            if extra is not None and s.kind == "sup":  # A^{[1]T}: the label without the transpose
                out += "^{" + ("[" + label + "]" if "[" in src else "(" + label + ")") + "}"
            elif extra is not None:  # W_{2,jk}: the label without the indices
                out += "_{" + label + "}"
            else:
                out += src
        return out

    def indexable(self, name: str) -> bool:
        return np.ndim(self.ctx.sample.get(name, 0.0)) > 0

    def unknown(self, spelled: str, node, known, stems=()) -> LatexError:
        hint = _known_hint(stems[0] if stems else spelled.strip("\\"), known)
        return self.ctx.fail(f"unknown symbol `{spelled}`: no model name, dim, constant or derivative name "
                             f"matches it", node, hint + " (map it in [notation]: \"" +
                             spelled.replace("\\", "\\\\") + "\" = \"<name>\")")

    def apply_scripts(self, v: Val, scripts: tuple, node, name: str | None) -> Val:
        subs = [s for s in scripts if s.kind == "sub"]
        for s in subs:
            v = self.index(v, s, node, name)
        for s in scripts:
            if s.kind == "prime":
                if self.ctx.notation.prime != "transpose":
                    raise self.ctx.fail("a prime on a symbol: set [notation] prime = \"transpose\" to read it "
                                        "as a transpose", node, "or write ^\\top")
                v = self.transpose(v, node)
            elif s.kind == "sup":
                v = self.superscript(v, s, node)
        return v

    def superscript(self, v: Val, s: g.Script, node) -> Val:
        items = s.items
        if len(items) == 1 and _is_transpose(s, self.ctx):
            return self.transpose(v, node)
        entry = items[0] if len(items) == 1 else None
        if entry is not None and _integer(_neg(entry)) == 1 and _is_negative(entry):
            shape = self.ctx.shape(v)
            if v.axes is None and shape is not None and len(shape) == 2:
                return Val(f"inv({v.text})")
            return Val(f"1 / {wrap(v, MUL + 1)}", MUL, v.axes)
        if entry is None:
            raise self.ctx.fail("a superscript with commas", s)
        power = self.lower(entry)
        if power.axes:
            raise self.ctx.fail("an indexed exponent", s)
        return Val(f"{wrap(v, POW + 1)} ** {wrap(power, POW)}", POW, v.axes)

    def transpose(self, v: Val, node) -> Val:
        if v.axes is not None:
            raise self.ctx.fail("a transpose of an indexed entry", node, "swap the indices instead")
        if v.ones:
            return Val("", ones="row" if v.ones == "col" else "col")
        if _is_number(v.text):
            return v  # a number is its own transpose
        shape = self.ctx.shape(v)
        return Val(f"{wrap(v, ATOM)}.T", row=(not v.row) if shape is not None and len(shape) == 1 else False)


def _is_transpose(s: g.Script, ctx: Context) -> bool:
    if len(s.items) != 1:
        return False
    node = _single(s.items[0])
    if isinstance(node, (g.Name, g.Command)) and node.text in ("T", "top", "intercal", "mathsf{T}"):
        return not (node.text == "T" and "T" in ctx.names)
    if isinstance(node, g.Font) and node.font in ("mathsf", "mathrm", "mathbf") and _plain_name(node.body) == "T":
        return True
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
