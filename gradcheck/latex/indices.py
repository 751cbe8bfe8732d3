"""Index notation: references with indices, sums and maxima over an index, indicators, index arithmetic."""

from __future__ import annotations

import numpy as np

from gradcheck.latex import grammar as g
from gradcheck.latex.nodes import _affine, _integer, _letter, _letters_run
from gradcheck.latex.notation import squash
from gradcheck.latex.values import ATOM, CMP, MAX_GATHER, MUL, Val, _Lowered, _source, dim_text, wrap


class IndexRules:
    def indicator(self, rel: g.Relation) -> Val:
        """``\\mathbb{1}[z > 0]`` (a 0/1 array) and ``\\mathbb{1}[k = j]`` (an identity over two indices)."""
        if len(rel.ops) != 1:
            raise self.ctx.fail("an indicator holds one comparison", rel)
        op = {"=": "==", "!=": "!="}.get(rel.ops[0], rel.ops[0])
        a_node, b_node = rel.items
        la, lb = _letter(a_node), _letter(b_node)
        if op == "==" and la is not None and (la in self.bound or la not in self.ctx.names):
            size = self.ctx.index_sizes.get(la)
            if lb is not None and (lb in self.bound or lb not in self.ctx.names):
                size = size or self.ctx.index_sizes.get(lb)
                if size is None:
                    raise self.ctx.fail(f"the ranges of {la} and {lb} are not known here", rel,
                                        "index a symbol with them too")
                return Val(f"eye({dim_text(self.ctx.model, size)})", ATOM, (la, lb))
            value = _integer(b_node)
            if value is not None and size is not None:
                return Val(f"eye({dim_text(self.ctx.model, size)})[:, {value - 1}]", ATOM, (la,))
        if op == "!=":
            raise self.ctx.fail("write \\neq indicators as 1 - \\mathbb{1}[k = j]", rel)
        a, b = self.lower(a_node), self.lower(b_node)
        out = self.binary(a, b, op, CMP, rel)
        return Val(f"({out.text})", ATOM, out.axes)

    def bigop(self, item: g.BigOp, rest: list, node) -> Val:
        if not rest:
            raise self.ctx.fail(f"\\{item.op} has nothing to apply to", item)
        sub = next((s for s in item.scripts if s.kind == "sub"), None)
        sup = next((s for s in item.scripts if s.kind == "sup"), None)
        if item.op in ("max", "min") and sub is None and isinstance(rest[0], g.Group) and rest[0].kind == "(":
            args = [self.lower(a) for a in rest[0].items]
            if len(args) != 2:
                raise self.ctx.fail(f"\\{item.op}(a, b) takes two arguments; for the largest entry write "
                                    f"\\{item.op}_k x_k", rest[0])
            v = Val(f"{'maximum' if item.op == 'max' else 'minimum'}({args[0].text}, {args[1].text})",
                    axes=self.merge_axes(args, rest[0]))
            return self.product([_Lowered(v)] + rest[1:], node) if len(rest) > 1 else v
        if item.op not in ("sum", "max", "min"):
            raise self.ctx.fail(f"\\{item.op} is not supported", item, "use \\sum, \\max_k or \\min_k")
        if sub is None:
            raise self.ctx.fail(f"\\{item.op} needs the index it runs over: \\{item.op}_{{k}}", item)
        index, lower_bound = self.index_range(sub, item)
        self.bound.append(index)
        try:
            body = self.product(list(rest), node)
        finally:
            self.bound.pop()
        size = self.ctx.index_sizes.get(index)
        if sup is not None and size is not None:
            upper = self.bound_value(sup, item)
            if upper is not None and (lower_bound, upper) != (1, size):
                raise self.ctx.fail(f"this \\{item.op} runs over {index} = {lower_bound}..{upper}, but {index} "
                                    f"indexes an axis of {size} entries", item,
                                    "a sum over a part of an axis cannot be checked; sum over the whole axis")
        if not body.axes or index not in body.axes:
            if item.op == "sum" and sup is not None:
                upper = self.bound_value(sup, item)
                if upper is not None:
                    return Val(f"{upper - lower_bound + 1} * {wrap(body, MUL + 1)}", MUL, body.axes)
            raise self.ctx.fail(f"the body of this \\{item.op} does not use the index {index}", item,
                                f"index the terms it runs over, e.g. x_{{{index}}}")
        pos = body.axes.index(index)
        fn = {"sum": "sum", "max": "max", "min": "min"}[item.op]
        axes = tuple(a for a in body.axes if a != index)
        return Val(f"{fn}({body.text}, axis={pos})", axes=axes)

    def index_range(self, sub: g.Script, node) -> tuple[str, int]:
        entry = sub.items[0] if len(sub.items) == 1 else None
        if isinstance(entry, g.Relation) and entry.ops == ("=",) and len(entry.items) == 2:
            name, start = entry.items
            letter = _letter(name)
            value = _integer(start)
            if letter is None or value is None:
                raise self.ctx.fail("write the range as \\sum_{k=1}^{K}", sub)
            if value != 1:
                raise self.ctx.fail(f"indices are 1-based, as written; this range starts at {value}", sub,
                                    "start the range at 1")
            return letter, 1
        letter = _letter(entry) if entry is not None else None
        if letter is None:
            raise self.ctx.fail("the index of a sum must be one letter (\\sum_k or \\sum_{k=1}^{K})", sub)
        return letter, 1

    def bound_value(self, sup: g.Script, node) -> int | None:
        entry = sup.items[0]
        value = _integer(entry)
        if value is not None:
            return value
        text = _source(self.ctx, entry).strip()
        for key in (text, squash(text)):
            if key in self.ctx.model.dims:
                return int(self.ctx.model.dims[key])
        mapped = self.ctx.notation.lookup(text)
        if mapped in self.ctx.model.dims:
            return int(self.ctx.model.dims[mapped])
        raise self.ctx.fail(f"the upper bound `{text}` is not a dim of the model", entry,
                            f"dims: {', '.join(self.ctx.model.dims)}")

    def merge_axes(self, vals, node):
        axes = [v.axes for v in vals if v.axes]
        if not axes:
            return None
        if any(a != axes[0] for a in axes):
            raise self.ctx.fail("the arguments have different free indices", node)
        return axes[0]

    def index(self, v: Val, s: g.Script, node, name: str | None) -> Val:
        if v.axes is not None:
            raise self.ctx.fail("an indexed entry indexed again", s)
        shape = self.ctx.shape(v)
        if shape is None:
            raise self.ctx.fail("cannot index this value", s)
        entries = list(s.items)
        vector_axis = None
        if len(entries) == 1 and len(shape) == 2 and 1 in shape and _letters_run(entries[0]) is None or (
                len(entries) == 1 and len(shape) == 2 and 1 in shape and len(_letters_run(entries[0]) or "") == 1):
            vector_axis = 1 if shape[0] == 1 else 0  # y_1 of a row (1, n) or column (n, 1) vector
        if vector_axis is not None:
            filler = g.Number(s.start, s.start, text="1")
            entries = [entries[0], filler] if vector_axis == 0 else [filler, entries[0]]
        if len(entries) == 1 and len(shape) > 1:
            letters = _letters_run(entries[0])
            if letters is not None and len(letters) == len(shape):
                entries = [g.Name(entries[0].start + k, entries[0].start + k + 1, text=c)
                           for k, c in enumerate(letters)]
        if len(entries) != len(shape):
            raise self.ctx.fail(f"`{_source(self.ctx, node)}` has {len(entries)} index(es), but "
                                f"{name or 'the value'} has {len(shape)} axes (shape {shape})", s)
        specs = []
        for axis, (e, n) in enumerate(zip(entries, shape)):
            specs.append(self.index_spec(e, n, axis, name))
        if all(kind != "affine" for kind, *_ in specs):
            parts, axes = [], []
            for kind, value, _ in specs:
                if kind == "const":
                    parts.append(str(value - 1))
                else:
                    parts.append(":")
                    axes.append(value)
            if len(set(axes)) != len(axes):
                raise self.ctx.fail("the same index twice on one symbol (a diagonal) is not supported", s)
            text = v.text if not any(p != ":" for p in parts) else f"{wrap(v, ATOM)}[{', '.join(parts)}]"
            return Val(text, ATOM, tuple(axes))
        return self.gather(v, specs, s, shape)

    def index_spec(self, entry, size: int, axis: int, name):
        value = _integer(entry)
        if value is not None:
            if not 1 <= value <= size:
                raise self.ctx.fail(f"index {value} is out of range: axis {axis + 1} of {name} has {size} entries "
                                    f"(indices are 1-based)", entry)
            return ("const", value, None)
        letter = _letter(entry)
        if letter is not None:
            self.note_size(letter, size, entry)
            return ("free", letter, None)
        terms = _affine(entry)
        if terms is None:
            raise self.ctx.fail(f"the index `{_source(self.ctx, entry)}` must be a letter, a number or a sum of "
                                f"them (i+j-1)", entry)
        return ("affine", terms, size)

    def note_size(self, letter: str, size: int, node) -> None:
        known = self.ctx.index_sizes.get(letter)
        if known is not None and known != size:
            raise self.ctx.fail(f"the index {letter} ranges over {known} entries elsewhere, but over {size} here",
                                node)
        self.ctx.index_sizes[letter] = size

    def gather(self, v: Val, specs, s, shape) -> Val:
        """A reference with index arithmetic (x_{i+j-1}), spelled out entry by entry."""
        letters = []
        for kind, value, _ in specs:
            names = [value] if kind == "free" else [t for t in (value if kind == "affine" else {}) if t != 1]
            for letter in names:
                if letter not in letters:
                    letters.append(letter)
        free_plain = [value for kind, value, _ in specs if kind == "free"]
        outer = [x for x in letters if x not in free_plain]
        sizes = []
        for letter in outer:
            if letter not in self.ctx.index_sizes:
                raise self.ctx.fail(f"the range of index {letter} is not known here", s,
                                    f"index another symbol with {letter} too, or sum over {letter}=1..K")
            sizes.append(self.ctx.index_sizes[letter])
        if int(np.prod(sizes)) > MAX_GATHER:
            raise self.ctx.fail(f"index arithmetic over {int(np.prod(sizes))} entries is too many", s)

        def entry(values: dict) -> str:
            parts = []
            for axis, (kind, value, size) in enumerate(specs):
                if kind == "const":
                    parts.append(str(value - 1))
                elif kind == "free":
                    parts.append(":")
                else:
                    pos = sum(coef * (1 if term == 1 else values[term]) for term, coef in value.items())
                    if not 1 <= pos <= size:
                        raise self.ctx.fail(f"the index reaches {pos}, outside 1..{size}", s)
                    parts.append(str(pos - 1))
            return f"{wrap(v, ATOM)}[{', '.join(parts)}]"

        def nest(k: int, values: dict) -> str:
            if k == len(outer):
                return entry(values)
            return "stack([" + ", ".join(nest(k + 1, {**values, outer[k]: t})
                                         for t in range(1, sizes[k] + 1)) + "])"

        return Val(nest(0, {}), ATOM, tuple(outer) + tuple(free_plain))

