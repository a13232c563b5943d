"""A layered drawing of a graph, left to right, as Graphviz's ``dot`` draws it (rankdir=LR),
in plain Python: the matplotlib picture (picture.py) draws what this computes.

The steps are Sugiyama's (Sugiyama, Tagawa and Toda, 1981), each in its simplest form:
1. Layers. An op goes one layer right of its furthest input: its layer is the longest path
   from the leaves. A leaf goes just left of its first consumer, so a weight used at the end
   does not draw an edge across the whole picture.
2. Long edges. An edge that skips layers is cut into a chain through a dummy node in each
   layer it crosses; the dummy reserves room, so the edge passes between boxes, not through.
3. Order within a layer. Sweeps right and left sort each layer by the mean position of its
   neighbours in the layer before (the barycenter heuristic); the order with the fewest edge
   crossings wins.
4. Heights. Each node wants the mean height of its neighbours; in each layer, the heights
   closest to those wishes that keep the boxes in order and apart are found exactly by
   isotonic regression (pool adjacent violators).
Units are inches; y grows downwards.
"""
from __future__ import annotations

from dataclasses import dataclass

H_GAP = 0.55        # inches between layers
V_GAP = 0.22        # inches between boxes (and dummy edges) in a layer


@dataclass
class Layout:
    centres: dict[str, tuple[float, float]]         # node key -> (x, y) of its centre
    routes: list[tuple[str, str, list[tuple[float, float]]]]   # (source, target, points)
    width: float
    height: float


def layered(inputs: dict[str, list[str]], sizes: dict[str, tuple[float, float]]) -> Layout:
    """The layout of the graph whose node ``k`` takes the nodes ``inputs[k]`` (edges source ->
    k), each node a box of ``sizes[k]`` = (width, height) inches."""
    layer = _layers(inputs)
    ranks, preds, succs, chains = _cut_long_edges(inputs, layer)
    sizes = {**{v: (0.0, 0.0) for rank in ranks for v in rank}, **sizes}
    ranks = _order(ranks, preds, succs)
    ys = _heights(ranks, preds, succs, sizes)
    widths = [max(sizes[v][0] for v in rank) for rank in ranks]
    lefts = [sum(widths[:i]) + i * H_GAP for i in range(len(ranks))]
    xs = {v: lefts[i] + widths[i] / 2 for i, rank in enumerate(ranks) for v in rank}
    routes = [(s, t, _route(s, dummies, t, slot, xs, ys, sizes, lefts, widths, layer))
              for s, dummies, t, slot in chains]
    _uncross_entries(routes)
    centres = {v: (xs[v], ys[v]) for v in inputs}
    height = max((ys[v] + sizes[v][1] / 2 for v in ys), default=0.0)
    return Layout(centres, routes, lefts[-1] + widths[-1] if ranks else 0.0, height)


def _layers(inputs):
    """Step 1: ops by the longest path from the leaves, leaves just left of a consumer."""
    layer: dict[str, int] = {}
    for v in _topological(inputs):
        layer[v] = 1 + max((layer[u] for u in inputs[v]), default=-1)
    consumers: dict[str, list[str]] = {v: [] for v in inputs}
    for v, us in inputs.items():
        for u in us:
            consumers[u].append(v)
    for v, us in inputs.items():
        if not us and consumers[v]:
            layer[v] = min(layer[c] for c in consumers[v]) - 1
    return layer


def _topological(inputs):
    """The nodes, each after all its inputs (iterative depth first: no recursion limit)."""
    done: set[str] = set()
    order = []
    for start in inputs:
        stack = [(start, iter(inputs[start]))]
        while stack:
            v, pending = stack[-1]
            u = next(pending, None)
            if u is None:
                stack.pop()
                if v not in done:
                    done.add(v)
                    order.append(v)
            elif u not in done:
                stack.append((u, iter(inputs[u])))
    return order


def _cut_long_edges(inputs, layer):
    """Step 2: the ranks (the nodes of each layer, dummies included), the neighbours of each
    node in the layers before and after, and each edge as (source, dummies, target, slot)."""
    ranks: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for v in inputs:
        ranks[layer[v]].append(v)
    preds: dict[str, list[str]] = {v: [] for v in inputs}
    succs: dict[str, list[str]] = {v: [] for v in inputs}
    chains, dummies = [], 0
    for t, sources in inputs.items():
        for slot, s in enumerate(sources):
            path = [s]
            for i in range(layer[s] + 1, layer[t]):
                dummy, dummies = f'dummy{dummies}', dummies + 1
                ranks[i].append(dummy)
                preds[dummy], succs[dummy] = [], []
                layer[dummy] = i
                path.append(dummy)
            path.append(t)
            for a, b in zip(path, path[1:]):
                succs[a].append(b)
                preds[b].append(a)
            chains.append((s, path[1:-1], t, (slot, len(sources))))
    return ranks, preds, succs, chains


def _order(ranks, preds, succs, sweeps=8):
    """Step 3: barycenter sweeps, keeping the order with the fewest crossings."""
    position = {v: i for rank in ranks for i, v in enumerate(rank)}
    best, fewest = [list(r) for r in ranks], _crossings(ranks, succs, position)
    for sweep in range(sweeps):
        rightwards = sweep % 2 == 0
        indices = range(1, len(ranks)) if rightwards else range(len(ranks) - 2, -1, -1)
        neighbours = preds if rightwards else succs
        for i in indices:
            ranks[i].sort(key=lambda v: _mean([position[u] for u in neighbours[v]],
                                              position[v]))
            position.update({v: j for j, v in enumerate(ranks[i])})
        crossings = _crossings(ranks, succs, position)
        if crossings < fewest:
            best, fewest = [list(r) for r in ranks], crossings
    return best


def _crossings(ranks, succs, position):
    count = 0
    for rank in ranks:
        edges = [(position[a], position[b]) for a in rank for b in succs[a]]
        count += sum(1 for i, (a1, b1) in enumerate(edges) for a2, b2 in edges[i + 1:]
                     if (a1 - a2) * (b1 - b2) < 0)
    return count


def _mean(values, default):
    return sum(values) / len(values) if values else default


def _heights(ranks, preds, succs, sizes, sweeps=8):
    """Step 4: the y of each node's centre."""
    ys = {}
    for rank in ranks:
        ys.update(zip(rank, _pack([0.0] * len(rank), rank, sizes)))
    for sweep in range(sweeps):
        rightwards = sweep % 2 == 0
        order = ranks if rightwards else ranks[::-1]
        for rank in order:
            wishes = [_mean([ys[u] for u in _neighbours(v, preds, succs, sweep, sweeps)],
                            ys[v]) for v in rank]
            ys.update(zip(rank, _pack(wishes, rank, sizes)))
    top = min(ys[v] - sizes[v][1] / 2 for v in ys)
    return {v: y - top for v, y in ys.items()}


def _neighbours(v, preds, succs, sweep, sweeps):
    """Sweeps alternate between the layer before and the layer after; the last uses both."""
    if sweep == sweeps - 1:
        return preds[v] + succs[v]
    return preds[v] if sweep % 2 == 0 else succs[v]


def _pack(wishes, rank, sizes):
    """The heights closest (least squares) to ``wishes`` that keep the nodes of ``rank`` in
    order and apart: with offsets c (each node's least distance below the first), z = y - c
    must not decrease, and the best such z is the isotonic regression of wishes - c."""
    offsets, below = [], 0.0
    for i, v in enumerate(rank):
        if i:
            below += (sizes[rank[i - 1]][1] + sizes[v][1]) / 2 + V_GAP
        offsets.append(below)
    blocks: list[list[float]] = []          # [sum, count] of each pooled run
    for wish, offset in zip(wishes, offsets):
        blocks.append([wish - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    zs = [total / count for total, count in blocks for _ in range(int(count))]
    return [z + offset for z, offset in zip(zs, offsets)]


def _uncross_entries(routes):
    """The edges into one node enter one above the other in the order they arrive from, so
    that they do not cross just before it."""
    by_target: dict[str, list[list[tuple[float, float]]]] = {}
    for _, t, points in routes:
        by_target.setdefault(t, []).append(points)
    for entering in by_target.values():
        ends = sorted(points[-1][1] for points in entering)
        for points, y in zip(sorted(entering, key=lambda points: points[-3][1]), ends):
            points[-2:] = [(points[-2][0], y), (points[-1][0], y)]


def _route(s, dummies, t, slot, xs, ys, sizes, lefts, widths, layer):
    """The points of an edge: out of the source's right side and straight on to the right
    edge of its layer, straight through each layer it crosses, from the left edge of the
    target's layer straight into its left side (several inputs one above the other). So it
    bends only between layers, where there are no boxes."""
    index, count = slot
    spread = min(0.12, 0.8 * sizes[t][1] / count) if count > 1 else 0.0
    entry = ys[t] + (index - (count - 1) / 2) * spread
    points = [(xs[s] + sizes[s][0] / 2, ys[s]), (lefts[layer[s]] + widths[layer[s]], ys[s])]
    for d in dummies:
        points += [(lefts[layer[d]], ys[d]), (lefts[layer[d]] + widths[layer[d]], ys[d])]
    return points + [(lefts[layer[t]], entry), (xs[t] - sizes[t][0] / 2, entry)]
