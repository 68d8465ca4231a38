"""The chassis's map (``platform/README.md``) names every module, each in its room's section.

A module added without a line in the map fails here, so the map cannot fall behind the code.
"""

import re
from pathlib import Path

import shoplab.platform

PLATFORM = Path(shoplab.platform.__file__).parent
MAP = PLATFORM / "README.md"


def sections(text: str) -> dict[str, str]:
    """The map's text per room: ``""`` for the top table, ``"messaging"`` for its section..."""
    parts = re.split(r"^## `(\w+)/`.*$", text, flags=re.M)
    return {"": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}


def unmapped(platform: Path, text: str) -> list[str]:
    rooms = sections(text)
    missing = []
    for module in sorted(platform.rglob("*.py")):
        relative = module.relative_to(platform)
        if module.name == "__init__.py" or "migrations" in relative.parts:
            continue
        room = relative.parts[0] if len(relative.parts) > 1 else ""
        if module.name not in rooms.get(room, ""):
            missing.append(str(relative))
    return missing


def test_every_chassis_module_is_on_the_map() -> None:
    assert unmapped(PLATFORM, MAP.read_text()) == []


def test_a_module_missing_from_the_map_is_named(tmp_path: Path) -> None:
    (tmp_path / "messaging").mkdir()
    (tmp_path / "messaging" / "relay.py").write_text("")
    (tmp_path / "messaging" / "shortcut.py").write_text("")
    (tmp_path / "time.py").write_text("")
    text = "| `time.py` | t |\n\n## `messaging/`: m\n\n| `relay.py` | r |\n"
    assert unmapped(tmp_path, text) == ["messaging/shortcut.py"]
