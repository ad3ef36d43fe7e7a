"""Dotted rules in the PDF as one stroked line each, not one curve per dot.

WeasyPrint (66 and later) draws a dotted border side dot by dot: a clip path of four
Bézier curves per dot, then a fill (Kozea/WeasyPrint#2526). The briefing's dotted rules
under each "At a glance" line and each "Also noted" story are 13 or so such sides of
about 265 dots: about 1 MB of path operators, 45 % of a news day's PDF after compression,
and time to write and compress. WeasyPrint 70 strokes a line with round caps and a
zero-length dash instead (#2776), which draws the same round dots, but only for a border
dotted on all four sides. `dotted_rules_as_strokes` does the same for the sides of a box
dotted on their own, with the dots where WeasyPrint's own drawing puts them:

- a side of length L and width w holds n + 1 dots, n = floor(L / 2w), the first and the
  last flush with its ends: centres w/2 + i (L - w) / n from its start, w/2 in from its
  edge, each a disc of diameter w;
- only sides whose neighbours have no border are drawn so (WeasyPrint cuts a side's
  corners on the diagonal towards a neighbour's border), with no rounded corners, in one
  colour; anything else goes to WeasyPrint unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from math import floor
from typing import Any

SIDES = ("top", "right", "bottom", "left")
_INSTALLED: dict[str, Any] = {}


def dotted_rules_as_strokes() -> bool:
    """Draw lone dotted border sides as dashed strokes from now on; tell whether it could.

    Changes WeasyPrint's drawing in this process only; does nothing (and says so) when
    WeasyPrint's drawing is not laid out as expected, so the PDF is then as WeasyPrint
    makes it.
    """
    if "draw_border" in _INSTALLED:
        return True
    try:
        from weasyprint import draw
        from weasyprint.draw import border
        from weasyprint.draw.color import get_color
    except ImportError:
        return False
    if getattr(draw, "draw_border", None) is not getattr(border, "draw_border", draw):
        return False  # not drawn the way this replaces
    original = border.draw_border
    draw.draw_border = _drawing(original, get_color)
    _INSTALLED["draw_border"] = original
    return True


def _drawing(original: Callable[[Any, Any], None], get_color: Any) -> Callable[[Any, Any], None]:
    def draw_border(stream: Any, box: Any) -> None:
        sides = _lone_dotted_sides(box, get_color)
        if sides is None:
            original(stream, box)
            return
        for line in sides:
            with stream.artifact(), stream.stacked():
                _stroke(stream, *line)

    return draw_border


def _lone_dotted_sides(box: Any, get_color: Any) -> list[tuple[Any, ...]] | None:
    """Return the strokes that draw box's border, or None when WeasyPrint must draw it."""
    style = box.style
    if style["visibility"] != "visible" or style["border_image_source"][0] != "none":
        return None
    if style["column_width"] != "auto" or style["column_count"] != "auto":
        return None  # column rules: WeasyPrint's own
    widths = [getattr(box, f"border_{side}_width") for side in SIDES]
    x, y, width, height, *radii = box.rounded_border_box()
    if any(rx or ry for rx, ry in radii):
        return None
    strokes = []
    for index, side in enumerate(SIDES):
        w = widths[index]
        if not w:
            continue
        color = get_color(style, f"border_{side}_color")
        if style[f"border_{side}_style"] != "dotted" or not color.alpha:
            return None
        if widths[index - 1] or widths[(index + 1) % 4]:
            return None  # a neighbour's border: WeasyPrint cuts the corner diagonally
        length = width if side in ("top", "bottom") else height
        spaces = floor(length / w / 2)
        if not spaces:
            return None  # shorter than two dots
        pitch = (length - w) / spaces
        # Past the last dot by half a pitch: the line ends in a gap, so the last dot is
        # drawn whatever the rounding, and no further one.
        reach = w / 2 + spaces * pitch + pitch / 2
        if side == "top":
            line = (x + w / 2, y + w / 2, x + reach, y + w / 2)
        elif side == "bottom":
            line = (x + w / 2, y + height - w / 2, x + reach, y + height - w / 2)
        elif side == "left":
            line = (x + w / 2, y + w / 2, x + w / 2, y + reach)
        else:
            line = (x + width - w / 2, y + w / 2, x + width - w / 2, y + reach)
        strokes.append((color, w, pitch, *line))
    return strokes or None


def _stroke(
    stream: Any, color: Any, width: float, pitch: float, x1: float, y1: float, x2: float, y2: float
) -> None:
    """Stroke round dots of diameter width every pitch from (x1, y1) towards (x2, y2)."""
    stream.set_color(color, stroke=True)
    stream.set_line_width(width)
    stream.set_line_cap(1)  # round: a dash of length 0 is a dot
    stream.set_dash([0, pitch], 0)
    stream.move_to(x1, y1)
    stream.line_to(x2, y2)
    stream.stroke()
