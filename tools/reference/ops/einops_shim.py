"""Tiny local stand-in for einops.rearrange/repeat (Debian has no python3-einops): named axes, (groups), ..., 1.
make_ops_goldens.py registers it as `einops` when the real package is missing, so the vendored mamba_ssm code runs unchanged."""
import math


def _groups(side):
    out, cur = [], None
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            cur = []
        elif tok == ")":
            out.append(cur)
            cur = None
        elif cur is not None:
            cur.append(tok)
        else:
            out.append([tok])
    return out


def _expand_ellipsis(groups, n):
    res = []
    for g in groups:
        res.extend([[f"_e{i}"] for i in range(n)] if g == ["..."] else [g])
    return res


def _apply(x, pattern, sizes):
    left, right = (_groups(s) for s in pattern.split("->"))
    n_ell = x.dim() - (len(left) - (1 if ["..."] in left else 0))
    left, right = _expand_ellipsis(left, n_ell), _expand_ellipsis(right, n_ell)
    sizes = dict(sizes)
    for g, d in zip(left, x.shape):
        names = [a for a in g if a != "1"]
        unknown = [a for a in names if a not in sizes]
        known = math.prod(sizes[a] for a in names if a in sizes)
        if unknown:
            sizes[unknown[0]] = d // known
    left_el = [a for g in left for a in g if a != "1"]
    x = x.reshape([sizes[a] for a in left_el])
    right_el = [a for g in right for a in g if a != "1"]
    x = x.permute([left_el.index(a) for a in right_el if a in left_el])
    for pos, a in enumerate(right_el):
        if a not in left_el:
            shape = list(x.shape)
            x = x.unsqueeze(pos).expand(shape[:pos] + [sizes[a]] + shape[pos:])
    return x.reshape([math.prod(sizes[a] for a in g if a != "1") for g in right])


def rearrange(x, pattern, **sizes):
    return _apply(x, pattern, sizes)


def repeat(x, pattern, **sizes):
    return _apply(x, pattern, sizes)
