"""Charts of the back office: SVG drawn on the server by pygal, shown as images.

An <img> of a data: URI: no script runs in it and the page's Content-Security-Policy
is kept. Each chart prints its values and labels its axes, so that it reads without
colour; the page shows the same figures in a table beside it.
"""

import base64
from decimal import Decimal
from functools import lru_cache

import pygal
from pygal.style import Style

# Dark marks on white, the values printed on them: legible in grey scale as in colour.
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#cbd2d9",
    colors=("#2f5d8a", "#7b8794"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=10,
    title_font_size=14,
)


def _options(title: str) -> dict[str, object]:
    return {
        "title": title,
        "style": _STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "print_values": True,
        "width": 720,
        "height": 300,
        "x_label_rotation": 30,
        "truncate_label": -1,
    }


# Kept by their figures: a dashboard shown again unchanged draws nothing again.
@lru_cache(maxsize=64)
def bar_chart(title: str, labels: tuple[str, ...], values: tuple[Decimal, ...]) -> str:
    """A bar per label, its value printed on it; a data: URI for an <img>."""
    chart = pygal.Bar(**_options(title))
    chart.x_labels = list(labels)
    chart.add(title, [float(v) for v in values])  # drawing only: the figures stay Decimal
    return _data_uri(chart.render(is_unicode=True))


@lru_cache(maxsize=64)
def line_chart(title: str, labels: tuple[str, ...], values: tuple[Decimal, ...]) -> str:
    """A line through a dot per label, each value printed; a data: URI for an <img>."""
    chart = pygal.Line(dots_size=4, **_options(title))
    chart.x_labels = list(labels)
    chart.add(title, [float(v) for v in values])  # drawing only: the figures stay Decimal
    return _data_uri(chart.render(is_unicode=True))


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
