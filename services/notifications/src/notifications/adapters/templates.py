"""Jinja2 templates of every email, in text and HTML (autoescaped), from src/notifications/templates/."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.domain.emails import Kind


class Renderer:
    """Renders `<kind>.txt.j2` and `<kind>.html.j2` with the same context."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("notifications", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # packaged templates never change under a running process: no stat per render
        )

    def render(self, kind: Kind, **context: Any) -> tuple[str, str]:
        text = self._env.get_template(f"{kind}.txt.j2").render(**context)
        html = self._env.get_template(f"{kind}.html.j2").render(**context)
        return text, html
