"""Safe page elements: escaping, reproducible ids, Leaflet assets, macros never re-compiled."""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import branca.element
import folium
import xstatic.pkg.leaflet as xleaflet
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["RUNTIME", "asset", "deterministic_ids", "escape", "leaflet_assets", "runtime",
           "unsafe_elements"]


def escape(value: object) -> str:
    """Escape text for HTML, and for JavaScript template literals it may pass through.

    ``html.escape`` covers ``& < > " '``; backticks, ``$`` and backslashes are also encoded so a
    value cannot close a template literal or start a ``${…}`` substitution.
    """
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@contextlib.contextmanager
def deterministic_ids(prefix: str = "ccamap") -> Iterator[None]:
    """Give every Folium/branca element created inside the block a counter-based id.

    Folium names elements with random hex ids, so two builds of the same data differ; inside this
    block they are numbered in creation order and the HTML is reproducible.
    """
    counter = itertools.count(1)
    element = branca.element.Element
    original = element.__dict__["_generate_id"]
    element._generate_id = classmethod(  # type: ignore[method-assign,assignment]
        lambda cls: f"{prefix}{next(counter):05d}"
    )
    try:
        yield
    finally:
        element._generate_id = original  # type: ignore[method-assign]



def asset(name: str) -> str:
    """Return the text of one of ccamap's own assets (``ccamap.css``, ``runtime/core.js`` ...)."""
    return resources.files("ccamap").joinpath("assets", name).read_text(encoding="utf-8")


#: The map runtime's parts in ``assets/runtime/``, in the order they are joined. They are one
#: closure: ``core.js`` opens it (and holds the shared state, text and basemap), ``controls.js``
#: closes it, and a part may use what any other part declares.
RUNTIME: tuple[str, ...] = (
    "core.js",  # state, languages, basemap outlines and place names
    "data.js",  # page data: decoding text and packed geometry, LineSet
    "draw.js",  # tracing and stroking lines; the drawing helper (a worker)
    "canvas.js",  # the shared canvas of large layers (LineCanvas), LineGroup, LineFeature
    "points.js",  # large point layers on that canvas: PointSet, PointFeature
    "loading.js",  # addLayer, addRest, fillLayer: layers read and made into entries
    "card.js",  # the card, filtering, route uncertainty halos
    "search.js",  # search, the card panel, the header
    "downloads.js",  # downloads, statistics, the URL
    "controls.js",  # the panel, list, buttons, minimap, stacked points, addControls
)


def runtime() -> str:
    """Return the map runtime (JavaScript): the parts of :data:`RUNTIME`, joined in order."""
    return "".join(asset(f"runtime/{name}") for name in RUNTIME)


#: Leaflet as folium references it online (the same version XStatic-Leaflet ships offline).
_LEAFLET_CDN = {
    "js": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
    "css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
}


def leaflet_assets(*, offline: bool) -> tuple[str, str]:
    """Return the ``<script>`` and ``<style>``/``<link>`` tags that load Leaflet.

    Offline, Leaflet's JavaScript and CSS are read from the installed ``xstatic-leaflet``
    package and inlined, with the CSS images as data URIs, so the page needs no network.
    """
    if not offline:
        return (f'<script src="{_LEAFLET_CDN["js"]}"></script>',
                f'<link rel="stylesheet" href="{_LEAFLET_CDN["css"]}"/>')
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js).replace("</script", "<\\/script")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = base / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    return f"<script>{js}</script>", f"<style>{css}</style>"


class _Raw(branca.element.Element):
    """Literal HTML in the page (already escaped or our own), with no template to compile."""

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.html_text = html_text

    def render(self, **kwargs: Any) -> str:
        """Return the HTML as given."""
        return self.html_text


class _SafeMacro(MacroElement):
    """A MacroElement whose rendered macros are inserted as text, never compiled again.

    branca's ``MacroElement.render`` wraps the *output* of each macro (``header``, ``html``,
    ``script``) in a new ``Element``, whose constructor compiles that output as a Jinja
    template: any ``{{ … }}``, ``{% … %}`` or ``{# … #}`` in the data a macro serialised would run
    as template code (or vanish, or crash the build). This class renders the macros once, with
    the data as values, and adds the result as literal text. Every element of a ccamap map
    derives from it (it sits just above ``MacroElement`` in each class's MRO, so folium's own
    ``render`` methods still run first).
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render the macros to literal text in the figure, then the children."""
        figure = self.get_root()
        if not isinstance(figure, branca.element.Figure):
            msg = f"expected {type(self).__name__} to be inside a Figure, found no Figure"
            raise TypeError(msg)
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Raw(str(macro(self, kwargs))),
                                                name=self.get_name())
        for element in self._children.values():
            if _plain_macro(element):
                # A helper folium adds while rendering (e.g. ``ElementAddToElement``): it has
                # no render of its own, so render its macros the safe way too.
                _SafeMacro.render(element, **kwargs)  # type: ignore[arg-type]
            else:
                element.render(**kwargs)


def _plain_macro(element: branca.element.Element) -> bool:
    """Whether ``element`` is a MacroElement that uses branca's unsafe ``render`` as it is."""
    return (isinstance(element, MacroElement) and not isinstance(element, _SafeMacro)
            and type(element).render is MacroElement.render)


class _Map(folium.Map, _SafeMacro):
    """folium's Map, rendered without re-compiling its output, and with page zoom allowed.

    folium's header forbids pinch-zoom (``maximum-scale=1.0, user-scalable=no``), which fails
    WCAG 1.4.4; the map's own two-finger zoom is Leaflet's and stays on.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render as :class:`_SafeMacro`, then let the reader zoom the page."""
        _SafeMacro.render(self, **kwargs)
        figure = self.get_root()
        header = getattr(figure, "header", None)
        raw = header._children.get(self.get_name()) if header is not None else None
        if isinstance(raw, _Raw):
            raw.html_text = re.sub(r'<meta name="viewport"[^>]*>', _VIEWPORT, raw.html_text)


_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1"/>'

#: The page around the map: branca's Figure template with the document language set.
_FIGURE_TEMPLATE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="en">\n'
    "<head>\n"
    "    {{this.header.render(**kwargs)}}\n"
    "</head>\n"
    '<body class="ccamap-page">\n'
    "    {{this.html.render(**kwargs)}}\n"
    "</body>\n"
    "<script>\n"
    "    {{this.script.render(**kwargs)}}\n"
    "</script>\n"
    "{% if this.ccamap_tail %}{{this.ccamap_tail}}\n{% endif %}"
    "</html>\n",
)


class _TileLayer(folium.TileLayer, _SafeMacro):
    """folium's TileLayer, rendered without re-compiling its output."""


class _LayerControl(folium.LayerControl, _SafeMacro):
    """folium's LayerControl, rendered without re-compiling its output."""


class _FitBounds(folium.map.FitBounds, _SafeMacro):
    """folium's FitBounds, rendered without re-compiling its output."""


def unsafe_elements(m: folium.Map) -> list[str]:
    """Return the names of elements of ``m`` whose output branca would compile as a template.

    Every ``MacroElement`` in a ccamap map must be a :class:`_SafeMacro`, or a plain helper
    that a :class:`_SafeMacro` parent renders safely; the tests use this (after rendering, when
    folium has added its helpers) to make sure no element slips through.
    """
    found: list[str] = []

    def walk(element: branca.element.Element) -> None:
        if (isinstance(element, MacroElement) and not isinstance(element, _SafeMacro)
                and not (_plain_macro(element) and isinstance(element._parent, _SafeMacro))):
            found.append(f"{type(element).__name__} {element.get_name()}")
        for child in element._children.values():
            walk(child)

    walk(m)
    return found


