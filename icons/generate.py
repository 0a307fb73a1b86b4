#!/usr/bin/python3
"""Draws the app and tray icons (the same mark as ui/img/logo.svg) with Pillow, so the PNGs in this
folder can be regenerated: /usr/bin/python3 icons/generate.py  (Debian: python3-pil)."""
import pathlib

from PIL import Image, ImageDraw

HERE = pathlib.Path(__file__).resolve().parent
ACCENT = (37, 99, 235, 255)
LIGHT = (147, 197, 253, 255)
AMBER = (245, 158, 11, 255)
WHITE = (255, 255, 255, 255)


def mark(size, dot=LIGHT, radius_frac=14 / 64):
    """The 64-unit logo drawn at 4x then downsampled, for smooth edges without a font."""
    big = size * 4
    u = big / 64
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, big - 1, big - 1], radius=int(big * radius_frac), fill=ACCENT)
    w = 7 * u
    for x in (18, 46):
        d.rounded_rectangle([x * u - w / 2, 16 * u - w / 2, x * u + w / 2, 48 * u + w / 2], radius=w / 2, fill=WHITE)
    d.rounded_rectangle([18 * u, 32 * u - w / 2, 46 * u, 32 * u + w / 2], radius=w / 2, fill=WHITE)
    d.ellipse([41 * u, 11 * u, 51 * u, 21 * u], fill=dot)
    return img.resize((size, size), Image.LANCZOS)


def main():
    mark(512).save(HERE / "icon.png")
    mark(32).save(HERE / "32x32.png")
    mark(128).save(HERE / "128x128.png")
    mark(256).save(HERE / "128x128@2x.png")
    mark(256).save(HERE / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    # Tray: idle, and an amber dot while a sync runs.
    mark(64).save(HERE / "tray.png")
    mark(64, dot=AMBER).save(HERE / "tray-syncing.png")


if __name__ == "__main__":
    main()
