"""Colours, fonts and text sizes shared by the Graphviz views and the matplotlib charts.

Everything is colour-blind safe: categorical colours are the Okabe-Ito
palette, the emotion scale is the diverging PuOr scheme (orange = bad,
purple = good, never red against green) and waiting is a single-hue orange
ramp, so lightness alone carries the meaning and prints in greyscale too.
"""

from __future__ import annotations

__all__ = [
    "OKABE_ITO",
    "HANDOFF",
    "REWORK",
    "FLOW",
    "TOUCHPOINT_FILL",
    "CUSTOMER_FILL",
    "INTERNAL_FILL",
    "MOMENT",
    "BOTTLENECK",
    "CHANGED",
    "EMOTION_COLOURS",
    "emotion_colour",
    "emotion_text_colour",
    "waiting_colour",
    "FONT",
    "NAME_SIZE",
    "TEXT_SIZE",
    "HEADER_SIZE",
    "TITLE_SIZE",
]

#: Okabe & Ito (2008), "Color Universal Design": distinguishable by every common form of colour blindness.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

HANDOFF = OKABE_ITO["vermillion"]
REWORK = OKABE_ITO["blue"]
FLOW = "#4D4D4D"
TOUCHPOINT_FILL = "#D6EAF8"
CUSTOMER_FILL = "#FFF4CC"
INTERNAL_FILL = "#FFFFFF"
MOMENT = "#B8860B"
BOTTLENECK = "#000000"
#: Steps a new design adds or changes.
CHANGED = OKABE_ITO["green"]

#: PuOr, -3 .. +3 (ColorBrewer, colour-blind safe).
EMOTION_COLOURS = {
    -3: "#B35806",
    -2: "#F1A340",
    -1: "#FEE0B6",
    0: "#F7F7F7",
    1: "#D8DAEB",
    2: "#998EC3",
    3: "#542788",
}

#: One family for every label; fontconfig maps it to Liberation Sans or DejaVu Sans on Linux.
FONT = "Helvetica,Arial,sans-serif"

#: Text sizes of the Graphviz views (points): a step's name, other text, headers, the title.
NAME_SIZE = 16.0
TEXT_SIZE = 14.0
HEADER_SIZE = 18.0
TITLE_SIZE = 26.0


def emotion_colour(value: float) -> str:
    """The PuOr colour of an emotion between -3 and +3 (rounded to the nearest step)."""
    return EMOTION_COLOURS[max(-3, min(3, int(round(value))))]


def emotion_text_colour(value: float) -> str:
    """Black on light backgrounds, white on the two darkest ends of the scale."""
    return "#FFFFFF" if abs(round(value)) >= 3 or round(value) == 2 else "#000000"


def _mix(a: str, b: str, t: float) -> str:
    t = max(0.0, min(1.0, t))
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb, strict=True))


def waiting_colour(share: float, max_share: float = 1.0) -> str:
    """White (no waiting) to deep orange (the largest share), relative to ``max_share``."""
    if not max_share or share <= 0:
        return "#FFFFFF"
    t = share / max_share
    # two segments so the middle stays light enough for black text
    if t <= 0.5:
        return _mix("#FFFFFF", "#FDD0A2", t * 2)
    return _mix("#FDD0A2", "#FD8D3C", (t - 0.5) * 2)
