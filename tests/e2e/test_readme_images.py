"""The pictures the README shows exist, and the timeline screenshot
(scripts/timeline_screenshot.sh) is of the sample lab's timeline at its
own size: a timeline redrawn at another size needs a new screenshot."""
import os
import re
import struct

from conftest import SAMPLE, SOURCE

README = open(os.path.join(SOURCE, "README.md")).read()


def test_every_image_the_readme_shows_exists():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert "docs/images/timeline.png" in images
    for path in images:
        assert os.path.getsize(os.path.join(SOURCE, path)) > 0, path


def test_the_timeline_screenshot_has_the_size_of_the_sample_timeline():
    with open(os.path.join(SOURCE, "docs", "images", "timeline.png"), "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    svg = open(os.path.join(SAMPLE, "timeline.svg")).read()
    m = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    assert (width, height) == (int(m.group(1)), int(m.group(2)))
