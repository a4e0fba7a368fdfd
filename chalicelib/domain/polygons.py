"""Whether closed rings make a proper polygon, in plain Python by GEOS's rules.

Zones used to be checked with shapely, whose numpy alone is most of the API package
(issue 14). This module gives the same verdicts as GEOS's ``IsValidOp`` (GEOS 3.10 and
later, as shapely 2 ships it) on the same inputs, with GEOS's own reason names, so the
town-language layer in ``zones`` maps them to what an admin is told. Only the standard
library is used.

What "valid" means (OGC, as GEOS applies it):

- a ring has at least 4 positions once repeated ones are dropped;
- no ring crosses, overlaps or touches itself (a ring touching itself at a point is
  "Ring Self-intersection"; edges crossing or running along each other are
  "Self-intersection"), and either orientation is accepted;
- holes lie inside their shell and not inside each other; rings of one polygon may touch
  only at single points, and those touches must not cut the interior in two;
- the polygons of a multipolygon do not overlap, share an edge or lie inside one
  another (outside its holes); they may touch at points.

Scale: a zone may have 20,000 positions, so segments are never compared all against all.
They are dropped into a uniform grid whose cell is about the median segment length, and
only segments sharing a cell are compared; ``Effort`` counts those comparisons so tests
can prove the work stays near-linear. Orientation tests are exact (a float fast path,
then exact fractions when the float answer is too close to call), so degenerate inputs
such as touching or collinear edges get the same answer GEOS's robust predicates give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

# (longitude, latitude), or any (x, y).
Point = tuple[float, float]
# A closed ring: the last position repeats the first.
Ring = Sequence[Sequence[float]]

# GEOS's reason names (shapely's explain_validity says them the same way).
SELF_INTERSECTION = "Self-intersection"
RING_SELF_INTERSECTION = "Ring Self-intersection"
TOO_FEW_POINTS = "Too few points"
HOLE_OUTSIDE_SHELL = "Hole lies outside shell"
NESTED_HOLES = "Holes are nested"
DISCONNECTED_INTERIOR = "Interior is disconnected"
NESTED_SHELLS = "Nested shells"

_EXTERIOR, _BOUNDARY, _INTERIOR = 0, 1, 2
# How two segments meet (GEOS's LineIntersector).
_APART, _AT_POINT, _ALONG = 0, 1, 2


@dataclass(frozen=True)
class Flaw:
    """Why rings do not make a valid polygon, and a point at or near the trouble."""

    reason: str
    point: Point


@dataclass
class Effort:
    """Work done, for tests that prove the checks scale (never timed by the clock)."""

    segment_pairs: int = 0
    ring_pairs: int = 0


def polygon_flaw(rings: Sequence[Ring], *, rings_sound: bool = False,
                 effort: Effort | None = None) -> Flaw | None:
    """What makes a polygon (shell, then holes) invalid, or None when it is valid.

    ``rings_sound`` says each ring is already known to be valid on its own (its own
    polygon), so only what lies between rings is checked.
    """
    return _Analysis([list(rings)], effort or Effort(), rings_sound, False).flaw()


def multipolygon_flaw(polygons: Sequence[Sequence[Ring]], *, parts_sound: bool = False,
                      effort: Effort | None = None) -> Flaw | None:
    """What makes a multipolygon invalid, or None when it is valid.

    ``parts_sound`` says each polygon is already known valid alone, so only what lies
    between polygons (overlaps, shared edges, nesting) is checked.
    """
    parts = [list(rings) for rings in polygons]
    return _Analysis(parts, effort or Effort(), parts_sound, parts_sound).flaw()


def ring_covers(outer: Ring, inner: Ring, effort: Effort | None = None) -> bool:
    """Whether the area inside ``inner`` lies within ``outer``'s area, boundary included.

    Both rings must be valid on their own. Where the boundaries meet (only at positions
    of one ring or the other, or the rings would cross), the path of ``inner`` leaving
    each meeting point is checked to head into ``outer`` or along it.
    """
    shell, hole = _clean(outer), _clean(inner)
    segments = _Segments([shell, hole], [0, 0])
    contacts: list[tuple[Point, int, int]] = []
    for i, j in segments.pairs(lambda a, b: segments.ring[a] != segments.ring[b],
                               effort or Effort()):
        if segments.ring[i] == 1:
            i, j = j, i
        p1, p2, q1, q2 = segments.ends(i) + segments.ends(j)
        kind, points, proper = _meet(p1, p2, q1, q2)
        if kind == _APART:
            continue
        if proper:
            return False
        contacts.extend((p, segments.index[i], segments.index[j]) for p in points)
    if not contacts:
        return _locate_in_ring(hole[0], shell) == _INTERIOR
    interior_on_right = not _is_ccw(shell)
    for point, shell_segment, hole_segment in contacts:
        before = _vertex_before(shell, shell_segment, point)
        after = _vertex_after(shell, shell_segment, point)
        if not interior_on_right:
            before, after = after, before
        for leaving in (_vertex_before(hole, hole_segment, point),
                        _vertex_after(hole, hole_segment, point)):
            along = _compare_angle(point, leaving, before) == 0 or \
                _compare_angle(point, leaving, after) == 0
            if not along and not _is_interior_segment(point, before, after, leaving):
                return False
    return True


def encloses_no_area(ring: Ring) -> bool:
    """Whether every position lies on one line (a flat ring; its convex hull is empty)."""
    points = _clean(ring)
    first = points[0]
    other = next((p for p in points if p != first), None)
    if other is None:
        return True
    return all(_orientation(first, other, p) == 0 for p in points)


def area(rings: Sequence[Ring]) -> float:
    """A polygon's area: its shell's less its holes' (either orientation)."""
    sizes = [abs(_signed_area(_clean(ring))) for ring in rings]
    return sizes[0] - math.fsum(sizes[1:])


# The analysis, following GEOS's IsValidOp step by step.

class _Analysis:
    def __init__(self, parts: list[list[Ring]], effort: Effort, rings_sound: bool,
                 parts_sound: bool) -> None:
        self.effort = effort
        self.rings_sound = rings_sound
        self.parts_sound = parts_sound
        self.parts = [[_clean(ring) for ring in rings] for rings in parts]
        self.rings: list[list[Point]] = []
        self.part_of: list[int] = []
        for number, rings in enumerate(self.parts):
            for ring in rings:
                self.rings.append(ring)
                self.part_of.append(number)
        self.touches: dict[int, dict[int, Point]] = {r: {} for r in range(len(self.rings))}
        self.double_touch: Point | None = None

    def flaw(self) -> Flaw | None:
        for ring in self.rings:
            if len(ring) < 4:
                return Flaw(TOO_FEW_POINTS, ring[0])
        found = self._intersections()
        if found is not None:
            return found
        if not self.parts_sound:
            for rings in self.parts:
                found = self._hole_outside_shell(rings) or self._nested_holes(rings)
                if found is not None:
                    return found
        found = self._nested_shells()
        if found is not None:
            return found
        if self.double_touch is not None:
            return Flaw(DISCONNECTED_INTERIOR, self.double_touch)
        cycle = self._hole_cycle()
        return Flaw(DISCONNECTED_INTERIOR, cycle) if cycle is not None else None

    def _intersections(self) -> Flaw | None:
        if self.parts_sound and len(self.parts) < 2 or \
                self.rings_sound and len(self.rings) < 2:
            return None  # nothing between parts, or between rings, to look at
        segments = _Segments(self.rings, self.part_of)
        if self.parts_sound:
            def worth(a: int, b: int) -> bool:
                return segments.part[a] != segments.part[b]
        elif self.rings_sound:
            def worth(a: int, b: int) -> bool:
                return segments.ring[a] != segments.ring[b]
        else:
            def worth(a: int, b: int) -> bool:
                return True
        # A ring that crosses itself often touches itself too; GEOS (whose search order
        # differs) more often names the crossing, so a touch is kept only in case no
        # crossing turns up.
        touching: Flaw | None = None
        for i, j in segments.pairs(worth, self.effort):
            found = self._invalid_meeting(segments, i, j)
            if found is not None and found.reason != RING_SELF_INTERSECTION:
                return found
            touching = touching or found
            if self.double_touch is not None and touching is None:
                return None  # GEOS stops here too, and reports the disconnection
        return touching

    def _invalid_meeting(self, segments: _Segments, s0: int, s1: int) -> Flaw | None:
        """GEOS's PolygonIntersectionAnalyzer.findInvalidIntersection for two segments."""
        p00, p01 = segments.ends(s0)
        p10, p11 = segments.ends(s1)
        ring0, ring1 = segments.ring[s0], segments.ring[s1]
        same_ring = ring0 == ring1
        if same_ring and abs(segments.index[s0] - segments.index[s1]) == 1:
            # Neighbours share an end; only a spike (doubling back) makes them overlap.
            far = p11 if p01 == p10 else p10
            if _orientation(p00, p01, far) != 0:
                return None
        kind, points, proper = _meet(p00, p01, p10, p11)
        if kind == _APART:
            return None
        if proper or kind == _ALONG:
            return Flaw(SELF_INTERSECTION, _crossing_point(p00, p01, p10, p11)
                        if proper else points[0])
        point = points[0]
        if same_ring and _adjacent(segments.index[s0], segments.index[s1],
                                   len(self.rings[ring0]) - 1):
            return None
        if same_ring:
            return Flaw(RING_SELF_INTERSECTION, point)
        if point in (p01, p11):
            return None  # seen again from the segments that start there
        e00, e01 = p00, p01
        if point == p00:
            e00 = _vertex_before(self.rings[ring0], segments.index[s0], point)
        e10, e11 = p10, p11
        if point == p10:
            e10 = _vertex_before(self.rings[ring1], segments.index[s1], point)
        if _is_crossing(point, e00, e01, e10, e11):
            return Flaw(SELF_INTERSECTION, point)
        if self.part_of[ring0] == self.part_of[ring1]:
            self._add_touch(ring0, ring1, point)
        return None

    def _add_touch(self, ring0: int, ring1: int, point: Point) -> None:
        """Record where two rings of one polygon touch; twice in two places cuts it."""
        known = self.touches[ring0].get(ring1)
        if known is not None and known != point:
            if self.double_touch is None:
                self.double_touch = point
            return
        self.touches[ring0][ring1] = point
        self.touches[ring1][ring0] = point

    def _hole_outside_shell(self, rings: list[list[Point]]) -> Flaw | None:
        shell = rings[0]
        shell_box = _box(shell)
        for hole in rings[1:]:
            self.effort.ring_pairs += 1
            if not _box_covers(shell_box, _box(hole)) or not _ring_nested(hole, shell):
                return Flaw(HOLE_OUTSIDE_SHELL, hole[0])
        return None

    def _nested_holes(self, rings: list[list[Point]]) -> Flaw | None:
        holes = rings[1:]
        for inner, outer in self._boxed_pairs(holes):
            if _ring_nested(holes[inner], holes[outer]):
                return Flaw(NESTED_HOLES, holes[inner][0])
        return None

    def _nested_shells(self) -> Flaw | None:
        if len(self.parts) < 2:
            return None
        for inner, outer in self._boxed_pairs([rings[0] for rings in self.parts]):
            found = _nested_point(self.parts[inner][0], self.parts[outer])
            if found is not None:
                return Flaw(NESTED_SHELLS, found)
        return None

    def _boxed_pairs(self, rings: list[list[Point]]) -> Iterator[tuple[int, int]]:
        """(inner, outer): rings whose bounding box could hold another's.

        Rings are sorted by west edge, so each looks only at those starting west of its
        own east edge; on real zones (a few scattered holes or parts) that is near linear.
        """
        boxes = sorted(((_box(ring), n) for n, ring in enumerate(rings)), key=lambda b: b[0])
        for a, (box_a, n) in enumerate(boxes):
            for box_b, m in boxes[a + 1:]:
                if box_b[0] > box_a[2]:
                    break
                self.effort.ring_pairs += 1
                if _box_covers(box_b, box_a):
                    yield n, m
                if _box_covers(box_a, box_b):
                    yield m, n

    def _hole_cycle(self) -> Point | None:
        """GEOS's PolygonRing.findHoleCycleLocation: touching rings forming a loop."""
        root_of: dict[int, int] = {}
        for root in range(len(self.rings)):
            if root in root_of:
                continue
            root_of[root] = root
            stack: list[tuple[int, Point]] = []
            for other, point in sorted(self.touches[root].items()):
                root_of[other] = root
                stack.append((other, point))
            while stack:
                ring, entry = stack.pop()
                for other, point in sorted(self.touches[ring].items()):
                    if point == entry:
                        continue  # all rings touching here were reached at this point
                    if other in root_of:
                        return point
                    root_of[other] = root
                    stack.append((other, point))
        return None


class _Segments:
    """Every segment of some rings, bucketed in a uniform grid for finding meetings."""

    def __init__(self, rings: list[list[Point]], part_of: list[int]) -> None:
        self.start: list[Point] = []
        self.end: list[Point] = []
        self.ring: list[int] = []
        self.part: list[int] = []
        self.index: list[int] = []
        for number, ring in enumerate(rings):
            for i in range(len(ring) - 1):
                self.start.append(ring[i])
                self.end.append(ring[i + 1])
                self.ring.append(number)
                self.part.append(part_of[number])
                self.index.append(i)

    def ends(self, segment: int) -> tuple[Point, Point]:
        return self.start[segment], self.end[segment]

    def pairs(self, worth: Callable[[int, int], bool], effort: Effort
              ) -> Iterator[tuple[int, int]]:
        """Pairs (lower number first) of segments whose bounding boxes meet.

        Each segment is entered in the cells it passes through, column by column, padded
        by a little more than rounding can move it, so two segments that meet share at
        least the cell where they meet. The cell is the median segment length, widened
        when a few very long segments would otherwise be entered in too many cells.
        """
        count = len(self.start)
        if count < 2:
            return
        spans = sorted(max(abs(b[0] - a[0]), abs(b[1] - a[1]))
                       for a, b in zip(self.start, self.end, strict=True))
        travel = math.fsum(abs(b[0] - a[0]) + abs(b[1] - a[1])
                           for a, b in zip(self.start, self.end, strict=True))
        xs = [p[0] for p in self.start]
        ys = [p[1] for p in self.start]
        west, south = min(xs), min(ys)
        scale = max(abs(west), abs(south), abs(max(xs)), abs(max(ys)), 1.0)
        # Twice the median: most segments then sit in one cell or two, few cells hold many.
        cell = max(2 * spans[count // 2], travel / (4 * count), scale * 1e-12)
        pad = cell * 1e-9 + scale * 1e-12
        boxes = [(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
                 for a, b in zip(self.start, self.end, strict=True)]
        cells: dict[tuple[int, int], list[int]] = {}
        floor = math.floor
        for segment, (x0, y0, x1, y1) in enumerate(boxes):
            c0, c1 = floor((x0 - pad - west) / cell), floor((x1 + pad - west) / cell)
            r0, r1 = floor((y0 - pad - south) / cell), floor((y1 + pad - south) / cell)
            if c1 - c0 <= 1 and r1 - r0 <= 1:
                # A short segment: the (at most four) cells of its padded box will do.
                keys: Iterator[tuple[int, int]] | list[tuple[int, int]] = [
                    (c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)]
            else:
                keys = _cells_of(self.start[segment], self.end[segment], west, south,
                                 cell, pad)
            for key in keys:
                cells.setdefault(key, []).append(segment)
        seen: set[int] = set()
        for members in cells.values():
            if len(members) < 2:
                continue
            for a in range(len(members)):
                i = members[a]
                box_i = boxes[i]
                for b in range(a):
                    j = members[b]
                    if not worth(i, j):
                        continue
                    low, high = (j, i) if j < i else (i, j)
                    pair = low * count + high
                    if pair in seen:
                        continue
                    seen.add(pair)
                    effort.segment_pairs += 1
                    box_j = boxes[j]
                    if box_i[2] < box_j[0] or box_j[2] < box_i[0] or \
                            box_i[3] < box_j[1] or box_j[3] < box_i[1]:
                        continue
                    yield low, high


def _cells_of(a: Point, b: Point, west: float, south: float, cell: float, pad: float
              ) -> Iterator[tuple[int, int]]:
    if a[0] > b[0]:
        a, b = b, a
    (x0, y0), (x1, y1) = a, b
    first = math.floor((x0 - pad - west) / cell)
    last = math.floor((x1 + pad - west) / cell)
    if first == last or x0 == x1:
        low, high = (y0, y1) if y0 <= y1 else (y1, y0)
        for column in range(first, last + 1):
            for row in range(math.floor((low - pad - south) / cell),
                             math.floor((high + pad - south) / cell) + 1):
                yield column, row
        return
    slope = (y1 - y0) / (x1 - x0)
    for column in range(first, last + 1):
        left = max(x0, west + column * cell - pad)
        right = min(x1, west + (column + 1) * cell + pad)
        ya = y0 + (left - x0) * slope
        yb = y0 + (right - x0) * slope
        low, high = (ya, yb) if ya <= yb else (yb, ya)
        for row in range(math.floor((low - pad - south) / cell),
                         math.floor((high + pad - south) / cell) + 1):
            yield column, row


# Exact predicates and GEOS's node topology.

def _clean(ring: Ring) -> list[Point]:
    """The ring as (x, y) tuples without repeated consecutive positions (GEOS drops them)."""
    points: list[Point] = []
    for position in ring:
        point = (float(position[0]), float(position[1]))
        if not points or point != points[-1]:
            points.append(point)
    if not points:
        raise ValueError("a ring needs positions")
    if points[0] != points[-1]:
        raise ValueError("rings must be closed: the last position repeats the first")
    if len(points) == 1:
        points.append(points[0])
    return points


def _orientation(a: Point, b: Point, c: Point) -> int:
    """1 when a, b, c turn left (counter-clockwise), -1 right, 0 on one line; exact."""
    if c in (a, b) or a == b:
        return 0  # neighbouring segments ask this for every shared end: answer it fast
    left = (b[0] - a[0]) * (c[1] - a[1])
    right = (b[1] - a[1]) * (c[0] - a[0])
    det = left - right
    # Shewchuk's bound for this float evaluation is 3.3e-16 of the sum; be generous.
    bound = 1e-14 * (abs(left) + abs(right))
    if det > bound:
        return 1
    if det < -bound:
        return -1
    ax, ay = Fraction(a[0]), Fraction(a[1])
    exact = (Fraction(b[0]) - ax) * (Fraction(c[1]) - ay) - \
        (Fraction(b[1]) - ay) * (Fraction(c[0]) - ax)
    return (exact > 0) - (exact < 0)


def _meet(p1: Point, p2: Point, q1: Point, q2: Point) -> tuple[int, list[Point], bool]:
    """How two segments meet: (kind, meeting points, whether they cross in both interiors).

    GEOS's LineIntersector: for an overlap the points are its ends, and otherwise the
    one point is a shared end, or an end of one lying on the other (or, for a proper
    crossing, not computed here).
    """
    if max(p1[0], p2[0]) < min(q1[0], q2[0]) or max(q1[0], q2[0]) < min(p1[0], p2[0]) or \
            max(p1[1], p2[1]) < min(q1[1], q2[1]) or max(q1[1], q2[1]) < min(p1[1], p2[1]):
        return _APART, [], False
    pq1 = _orientation(p1, p2, q1)
    pq2 = _orientation(p1, p2, q2)
    if pq1 * pq2 > 0:
        return _APART, [], False
    qp1 = _orientation(q1, q2, p1)
    qp2 = _orientation(q1, q2, p2)
    if qp1 * qp2 > 0:
        return _APART, [], False
    if pq1 == pq2 == qp1 == qp2 == 0:
        return _collinear_meeting(p1, p2, q1, q2)
    if pq1 == 0 or pq2 == 0 or qp1 == 0 or qp2 == 0:
        if p1 in (q1, q2):
            return _AT_POINT, [p1], False
        if p2 in (q1, q2):
            return _AT_POINT, [p2], False
        point = q1 if pq1 == 0 else q2 if pq2 == 0 else p1 if qp1 == 0 else p2
        return _AT_POINT, [point], False
    return _AT_POINT, [], True


def _collinear_meeting(p1: Point, p2: Point, q1: Point, q2: Point
                       ) -> tuple[int, list[Point], bool]:
    q1_in_p, q2_in_p = _in_box(p1, p2, q1), _in_box(p1, p2, q2)
    p1_in_q, p2_in_q = _in_box(q1, q2, p1), _in_box(q1, q2, p2)
    if q1_in_p and q2_in_p:
        return _ALONG, [q1, q2], False
    if p1_in_q and p2_in_q:
        return _ALONG, [p1, p2], False
    for (a, a_in), (b, b_in), others in (((q1, q1_in_p), (p1, p1_in_q), (q2_in_p, p2_in_q)),
                                         ((q1, q1_in_p), (p2, p2_in_q), (q2_in_p, p1_in_q)),
                                         ((q2, q2_in_p), (p1, p1_in_q), (q1_in_p, p2_in_q)),
                                         ((q2, q2_in_p), (p2, p2_in_q), (q1_in_p, p1_in_q))):
        if a_in and b_in:
            if a == b and not any(others):
                return _AT_POINT, [a], False
            return _ALONG, [a, b], False
    return _APART, [], False


def _in_box(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and \
        min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _crossing_point(p1: Point, p2: Point, q1: Point, q2: Point) -> Point:
    """Where two properly crossing segments cross, rounded once from the exact answer."""
    x1, y1, x2, y2 = (Fraction(v) for v in (*p1, *p2))
    x3, y3, x4, y4 = (Fraction(v) for v in (*q1, *q2))
    denominator = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / denominator
    return float(x1 + t * (x2 - x1)), float(y1 + t * (y2 - y1))


def _adjacent(index0: int, index1: int, segments: int) -> bool:
    delta = abs(index0 - index1)
    return delta <= 1 or delta >= segments - 1


def _vertex_before(ring: list[Point], index: int, node: Point) -> Point:
    """The ring's nearest position before ``node`` on segment ``index`` (GEOS's
    findRingVertexPrev)."""
    last = len(ring) - 2
    while ring[index] == node:
        index = last if index == 0 else index - 1
    return ring[index]


def _vertex_after(ring: list[Point], index: int, node: Point) -> Point:
    last = len(ring) - 2
    index += 1
    while ring[index] == node:
        index = 0 if index >= last else index + 1
    return ring[index]


def _quadrant(origin: Point, p: Point) -> int:
    dx, dy = p[0] - origin[0], p[1] - origin[1]
    if dx >= 0:
        return 0 if dy >= 0 else 3
    return 1 if dy >= 0 else 2


def _compare_angle(origin: Point, p: Point, q: Point) -> int:
    quadrant_p, quadrant_q = _quadrant(origin, p), _quadrant(origin, q)
    if quadrant_p != quadrant_q:
        return 1 if quadrant_p > quadrant_q else -1
    return _orientation(origin, q, p)


def _is_angle_greater(origin: Point, p: Point, q: Point) -> bool:
    return _compare_angle(origin, p, q) > 0


def _compare_between(origin: Point, p: Point, e0: Point, e1: Point) -> int:
    to_e0 = _compare_angle(origin, p, e0)
    if to_e0 == 0:
        return 0
    to_e1 = _compare_angle(origin, p, e1)
    if to_e1 == 0:
        return 0
    return 1 if to_e0 > 0 and to_e1 < 0 else -1


def _is_crossing(node: Point, a0: Point, a1: Point, b0: Point, b1: Point) -> bool:
    """Whether ring b's corner at ``node`` crosses ring a's (GEOS's PolygonNodeTopology)."""
    low, high = (a1, a0) if _is_angle_greater(node, a0, a1) else (a0, a1)
    side0 = _compare_between(node, b0, low, high)
    if side0 == 0:
        return False
    side1 = _compare_between(node, b1, low, high)
    return side1 != 0 and side0 != side1


def _is_between(origin: Point, p: Point, e0: Point, e1: Point) -> bool:
    return _is_angle_greater(origin, p, e0) and not _is_angle_greater(origin, p, e1)


def _is_interior_segment(node: Point, a0: Point, a1: Point, b: Point) -> bool:
    """Whether the edge node→b heads into the corner a0→node→a1 of a clockwise ring."""
    low, high, interior_between = a0, a1, True
    if _is_angle_greater(node, low, high):
        low, high, interior_between = a1, a0, False
    return _is_between(node, b, low, high) == interior_between


def _locate_in_ring(p: Point, ring: list[Point]) -> int:
    """GEOS's RayCrossingCounter: interior, boundary or exterior of a closed ring."""
    crossings = 0
    px, py = p
    for i in range(len(ring) - 1):
        p1, p2 = ring[i], ring[i + 1]
        if p1[0] < px and p2[0] < px:
            continue
        if p == p2:
            return _BOUNDARY
        if p1[1] == py and p2[1] == py:
            if min(p1[0], p2[0]) <= px <= max(p1[0], p2[0]):
                return _BOUNDARY
            continue
        if (p1[1] > py >= p2[1]) or (p2[1] > py >= p1[1]):
            side = _orientation(p1, p2, p)
            if side == 0:
                return _BOUNDARY
            if p2[1] < p1[1]:
                side = -side
            if side > 0:
                crossings += 1
    return _INTERIOR if crossings % 2 else _EXTERIOR


def _locate_in_polygon(p: Point, rings: list[list[Point]]) -> int:
    where = _locate_in_ring(p, rings[0])
    if where != _INTERIOR:
        return where
    for hole in rings[1:]:
        in_hole = _locate_in_ring(p, hole)
        if in_hole == _BOUNDARY:
            return _BOUNDARY
        if in_hole == _INTERIOR:
            return _EXTERIOR
    return _INTERIOR


def _ring_nested(test: list[Point], target: list[Point]) -> bool:
    """GEOS's isRingNested: whether ``test`` lies inside ``target`` (they may touch)."""
    p0 = test[0]
    where = _locate_in_ring(p0, target)
    if where != _BOUNDARY:
        return where == _INTERIOR
    p1 = next((p for p in test[1:] if p != p0), p0)
    return _incident_segment_in_ring(p0, p1, target)


def _incident_segment_in_ring(p0: Point, p1: Point, ring: list[Point]) -> bool:
    index = next(i for i in range(len(ring) - 1) if _on_segment(p0, ring[i], ring[i + 1]))
    before, after = _vertex_before(ring, index, p0), _vertex_after(ring, index, p0)
    if _is_ccw(ring):
        before, after = after, before
    return _is_interior_segment(p0, before, after, p1)


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    return _in_box(a, b, p) and _orientation(a, b, p) == 0


def _nested_point(shell: list[Point], outer: list[list[Point]]) -> Point | None:
    """GEOS's IndexedNestedPolygonTester.findNestedPoint: a point showing ``shell`` lies
    inside polygon ``outer`` (not in one of its holes), or None."""
    for p in shell[:2]:
        where = _locate_in_polygon(p, outer)
        if where == _EXTERIOR:
            return None
        if where == _INTERIOR:
            return p
    if not _ring_nested(shell, outer[0]):
        return None
    shell_box = _box(shell)
    for hole in outer[1:]:
        if _box_covers(_box(hole), shell_box) and _ring_nested(shell, hole):
            return None
    return shell[0]


def _is_ccw(ring: list[Point]) -> bool:
    return _signed_area(ring) > 0


def _signed_area(ring: list[Point]) -> float:
    x0, y0 = ring[0]
    twice = math.fsum((a[0] - x0) * (b[1] - y0) - (b[0] - x0) * (a[1] - y0)
                      for a, b in zip(ring, ring[1:], strict=False))
    return twice / 2


Box = tuple[float, float, float, float]


def _box(ring: list[Point]) -> Box:
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _box_covers(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and \
        outer[2] >= inner[2] and outer[3] >= inner[3]
