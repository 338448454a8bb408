"""A one-to-one assignment maximising the total score (the Hungarian method, own implementation:
scipy is not a dependency). O(n^2 m) for n rows <= m columns: a few hundred fields in well
under a second."""

from __future__ import annotations

__all__ = ["assign"]


def assign(score: list[list[float]]) -> list[int]:
    """For each row the column it gets (rows <= columns), maximising the sum of ``score``."""
    n = len(score)
    if n == 0:
        return []
    m = len(score[0])
    if m < n:
        raise ValueError("assign() needs at least as many columns as rows")
    inf = float("inf")
    # potentials and the matching, 1-based with a virtual column 0 (classic e-maxx formulation)
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    p = [0] * (m + 1)
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        row_cost = score  # cost = -score
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = inf
            j1 = 0
            ui0 = u[i0]
            r = row_cost[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    cur = -r[j - 1] - ui0 - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    out = [-1] * n
    for j in range(1, m + 1):
        if p[j]:
            out[p[j] - 1] = j - 1
    return out
