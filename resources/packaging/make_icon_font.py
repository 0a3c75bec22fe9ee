"""Regenerate the window's icon font, resources/icons/ui-icons.ttf and its charmap, from Material Design Icons.

Run after changing a glyph in ``sniper_app/ui/icons.py``:

    .venv/bin/pip install fonttools && .venv/bin/python resources/packaging/make_icon_font.py

The font is the Material Design Icons font that qtawesome ships, cut down to the glyphs the window names
(a few kilobytes instead of qtawesome's 6 MB of fonts, which would push the bundle over its budget and be
read in full at the first icon). Material Design Icons is under the Apache License 2.0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "resources" / "icons"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import qtawesome
    from fontTools import subset

    from sniper_app.ui.icons import FONT_FILE, GLYPHS, MAP_FILE, STATUS_GLYPHS

    fonts = Path(qtawesome.__file__).parent / "fonts"
    source = next(fonts.glob("materialdesignicons6-webfont-[0-9]*.ttf"))
    charmap = json.loads(next(fonts.glob("materialdesignicons6-webfont-charmap-*.json")).read_text())
    names = sorted(set(GLYPHS.values()) | {glyph for glyph, _tone in STATUS_GLYPHS.values()})
    missing = [name for name in names if name not in charmap]
    if missing:
        raise SystemExit(f"not in Material Design Icons: {', '.join(missing)}")
    wanted = {name: charmap[name] for name in names}
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the font's names and its licence notice
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[int(code, 16) for code in wanted.values()])
    subsetter.subset(font)
    subset.save_font(font, str(OUT / FONT_FILE), options)
    (OUT / MAP_FILE).write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n")
    print(f"{OUT / FONT_FILE}: {len(wanted)} glyphs, {(OUT / FONT_FILE).stat().st_size} bytes from {source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
