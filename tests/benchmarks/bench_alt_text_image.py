"""Benchmark: what an alt text request costs before it leaves the site.

For a few typical uploads (a camera photo, a screenshot, a chart with transparency) it times
studio_site.ai.alt_text.image_data_url (open, downscale to MAX_SIDE, JPEG, base64) and
prints the upload's size, the data URL's size and the time, the median of --repeat runs.

    python tests/benchmarks/bench_alt_text_image.py [--repeat 5]

Needs: the cms requirements (Django, Wagtail, Pillow) in the running Python.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "cms"), str(ROOT), str(ROOT / "contracts")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio_site.settings.test")
os.environ.setdefault("LS_CMS_DATA_DIR", "/tmp/ls-cms-bench-data")


def photo(width: int, height: int) -> bytes:
    """Noisy gradients: compresses like a photograph, not like a flat colour."""
    from PIL import Image

    rng = random.Random(7)
    small = Image.new("RGB", (width // 8, height // 8))
    small.putdata([(rng.randrange(256), (x * 7) % 256, rng.randrange(128))
                   for x in range(small.width * small.height)])
    big = small.resize((width, height), Image.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def screenshot(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    for y in range(0, height, 18):
        draw.text((20, y), "for n in range(10):  total += n  # " + "x" * (y % 40), fill="black")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def chart(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    for i in range(12):
        draw.rectangle((40 + i * (width - 80) // 12, height - 40 - i * (height - 80) // 12,
                        30 + (i + 1) * (width - 80) // 12, height - 40), fill=(30, 90, 200, 255))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


class Upload:
    """What image_data_url needs of a Wagtail image: open_file()."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def open_file(self) -> io.BytesIO:
        return io.BytesIO(self.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from studio_site.ai.alt_text import MAX_SIDE, image_data_url

    cases = [
        ("camera photo 4000x3000 JPEG", photo(4000, 3000)),
        ("screenshot 2560x1440 PNG", screenshot(2560, 1440)),
        ("chart 1600x900 PNG, transparent", chart(1600, 900)),
    ]
    print(f"alt text image preparation (downscale to {MAX_SIDE} px, JPEG, base64), "
          f"median of {args.repeat}")
    print(f"{'upload':34} {'upload KB':>10} {'data URL KB':>12} {'ms':>8}")
    for name, data in cases:
        times, url = [], ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            url = image_data_url(Upload(data))
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:34} {len(data) / 1024:10.0f} {len(url) / 1024:12.0f} "
              f"{statistics.median(times):8.1f}")


if __name__ == "__main__":
    main()
