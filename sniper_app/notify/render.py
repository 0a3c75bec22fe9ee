"""Email text from the templates in resources/email: a subject, a plain text and an HTML part per kind.

The HTML environment escapes every value (an item title is whatever a seller typed); the subject and the
text are not HTML, so they are not escaped, and the subject is folded onto one line so a title with a
newline cannot inject a mail header.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sniper_app.notify.notice import Notice, NoticeKind

if TYPE_CHECKING:
    import jinja2

_SPACES = re.compile(r"\s+")


def resources_dir() -> Path:
    """resources/ of a PyInstaller bundle (``sys._MEIPASS``) or of the source checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    def __init__(self, template_dir: Path | None = None) -> None:
        self._directory = template_dir or resources_dir() / "email"
        self._environments: tuple[jinja2.Environment, jinja2.Environment] | None = None

    def _envs(self) -> tuple[jinja2.Environment, jinja2.Environment]:
        """(HTML, plain), made at the first use: importing jinja2 costs the window tens of milliseconds
        before it first shows, and most people never set email up."""
        if self._environments is None:
            import jinja2

            loader = jinja2.FileSystemLoader(str(self._directory))
            common: dict[str, Any] = {
                "loader": loader, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True}
            # Subjects and plain text are not HTML: escaping would show "&amp;" to the reader.
            self._environments = (jinja2.Environment(autoescape=True, **common),
                                  jinja2.Environment(autoescape=False, **common))  # noqa: S701
        return self._environments

    def render(self, notice: Notice) -> RenderedEmail:
        html, plain = self._envs()
        context = _context(notice)
        name = notice.kind.value.lower()
        subject = plain.get_template(f"{name}.subject.txt").render(context)
        return RenderedEmail(
            subject=_SPACES.sub(" ", subject).strip()[:200],
            text=plain.get_template(f"{name}.txt").render(context),
            html=html.get_template(f"{name}.html").render(context),
        )

    def check(self) -> None:
        """Fail now, not at the first win, when a template is missing or broken."""
        _html, plain = self._envs()
        for kind in NoticeKind:
            name = kind.value.lower()
            for suffix in ("subject.txt", "txt", "html"):
                plain.get_template(f"{name}.{suffix}")


def _context(notice: Notice) -> dict[str, Any]:
    saving = notice.saving
    return {
        "kind": notice.kind.value,
        "headline": notice.headline,
        # A title with a line break must not break the layout of the text part either.
        "title": _SPACES.sub(" ", notice.title).strip() or "(untitled item)",
        "item_url": _web_url(notice.item_url),
        "image_url": _web_url(notice.image_url),
        "max_bid": notice.max_bid_text,
        "final_price": notice.final_price_text,
        "saving": saving.format() if saving is not None and saving.minor > 0 else None,
        "timing": notice.timing,
        "reason": notice.useful_reason,
        "outcome": notice.outcome,
        "outcome_code": notice.outcome_code,
        "ends_at": notice.ends_at.astimezone().strftime("%Y-%m-%d %H:%M %Z") if notice.ends_at else None,
        "account": notice.account,
        "lines": list(notice.lines),
        "when": notice.when.astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


def _web_url(url: str | None) -> str | None:
    # Only http(s) links reach an href or src: a "javascript:" URL would survive HTML escaping.
    return url if url and re.match(r"^https?://[^\s]+$", url) else None
