#!/usr/bin/env python3
"""Writes the image-decoding fixtures in data/images/ (run: .refenv/bin/python scripts/make_image_fixtures.py).
Needs numpy, Pillow and scikit-image (`.refenv/bin/pip install scikit-image`, for the photo). Output is
deterministic for a given Pillow build.

Each fixture is a small PNG or JPEG plus the 8-bit pixels a reference decoder produces for it, as raw
HWC bytes in data/images/expected/NAME.u8; data/images/fixtures.json lists file, shape and the allowed
per-byte difference. The reference pixels come from Pillow (which uses its own bundled libpng/zlib and
libjpeg-turbo), converted the way Runtime's Image does it:
  palette -> RGB, or RGBA when there is a tRNS chunk; gray+alpha and gray+tRNS -> RGBA (gray copied);
  1-bit gray -> 0/255; 16-bit -> 8-bit by rounding v*255/65535 (libpng's png_set_scale_16);
  CMYK JPEG (Adobe, inverted) -> RGB = C'*K'/255 on the stored (inverted) values, rounded.
Pillow cannot write 16-bit RGB or interlaced PNGs, so those two are written by the small encoder
below and checked against Pillow's decode of them.

Sources: synthetic gradients made here, and a 64x64 crop of scikit-image's `astronaut` (NASA photo of
Eileen Collins, public domain) shrunk by 2x2 box averaging.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "images")
W, H = 32, 24


def gradient(w=W, h=H):
    """[h, w, 4] uint8: red across, green down, blue on a diagonal ripple, alpha a radial falloff."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = x * 255 / (w - 1)
    g = y * 255 / (h - 1)
    b = 127.5 + 127.5 * np.sin((x + 2 * y) / 3.0)
    a = 255 * np.clip(1.2 - np.hypot(x - w / 2, y - h / 2) / (w / 2), 0, 1)
    return np.rint(np.stack([r, g, b, a], -1)).astype(np.uint8)


def gray_of(rgba):
    return np.rint(rgba[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114]).astype(np.uint8)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(path, pixels, bit_depth, interlace=False):
    """Minimal PNG encoder: pixels [h, w, c] (uint8 or uint16), filter 0, optional Adam7 interlace."""
    h, w, c = pixels.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    dtype = ">u2" if bit_depth == 16 else "u1"
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in (passes if interlace else [(0, 0, 1, 1)]):
        sub = pixels[y0::dy, x0::dx]
        if sub.size == 0:
            continue  # an empty pass has no rows and no filter bytes
        for row in sub:
            raw += b"\x00" + row.astype(dtype).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9))
    with open(path, "wb") as f:
        f.write(data + png_chunk(b"IEND", b""))


def scale16(v):
    return ((v.astype(np.uint64) * 255 + 32767) // 65535).astype(np.uint8)


def decoded(path):
    """What Pillow decodes, converted to 8-bit 1/3/4 channels as Runtime does."""
    im = Image.open(path)
    im.load()
    if im.mode in ("L", "RGB", "RGBA"):
        if im.mode == "L" and "transparency" in im.info:  # gray + tRNS -> RGBA
            g = np.asarray(im)
            a = np.where(g == im.info["transparency"], 0, 255).astype(np.uint8)
            return np.stack([g, g, g, a], -1)
        return np.asarray(im)
    if im.mode == "1":
        return np.asarray(im.convert("L"))
    if im.mode == "LA":
        la = np.asarray(im)
        return la[..., [0, 0, 0, 1]]
    if im.mode == "P":
        return np.asarray(im.convert("RGBA" if "transparency" in im.info else "RGB"))
    if im.mode.startswith("I;16"):
        return scale16(np.asarray(im))
    if im.mode == "CMYK":
        # Pillow un-inverts Adobe CMYK on load; invert back to the stored values.
        s = 255 - np.asarray(im).astype(np.uint32)
        return ((s[..., :3] * s[..., 3:] + 127) // 255).astype(np.uint8)
    raise ValueError(f"{path}: unexpected mode {im.mode}")


def main():
    os.makedirs(os.path.join(ROOT, "expected"), exist_ok=True)
    g = gradient()
    rgb, rgba, gray = g[..., :3], g, gray_of(g)
    entries = []

    def add(name, note, tolerance=0, check=None):
        path = os.path.join(ROOT, name)
        px = decoded(path)
        if check is not None:
            assert np.array_equal(px, check), f"{name}: Pillow's decode differs from the source pixels"
        if px.ndim == 2:
            px = px[..., None]
        h, w, c = px.shape
        px.astype(np.uint8).tofile(os.path.join(ROOT, "expected", name + ".u8"))
        entries.append({"file": name, "expected": "expected/" + name + ".u8", "width": w, "height": h,
                        "channels": c, "tolerance": tolerance, "what": note})

    # PNG: every color type, palettes, low and high bit depths, interlace. Exact match required.
    Image.fromarray(gray, "L").save(os.path.join(ROOT, "gray.png"))
    add("gray.png", "8-bit gray", check=gray)
    Image.fromarray(rgb, "RGB").save(os.path.join(ROOT, "rgb.png"))
    add("rgb.png", "8-bit RGB", check=rgb)
    Image.fromarray(rgba, "RGBA").save(os.path.join(ROOT, "rgba.png"))
    add("rgba.png", "8-bit RGBA", check=rgba)
    Image.fromarray(np.stack([gray, g[..., 3]], -1), "LA").save(os.path.join(ROOT, "gray_alpha.png"))
    add("gray_alpha.png", "8-bit gray+alpha, decoded as RGBA")
    im = Image.fromarray(gray, "L")
    im.save(os.path.join(ROOT, "gray_trns.png"), transparency=int(gray[0, 0]))
    add("gray_trns.png", "8-bit gray with a tRNS color key, decoded as RGBA")
    Image.fromarray(gray >= 128).save(os.path.join(ROOT, "gray_1bit.png"))
    add("gray_1bit.png", "1-bit gray, expanded to 0/255")
    pal = Image.fromarray(rgb, "RGB").quantize(colors=64, dither=Image.Dither.NONE)
    pal.save(os.path.join(ROOT, "palette.png"))
    add("palette.png", "8-bit palette (64 colors), decoded as RGB")
    pal16 = Image.fromarray(rgb, "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    pal16.save(os.path.join(ROOT, "palette_4bit.png"), bits=4)
    add("palette_4bit.png", "4-bit palette (16 colors), decoded as RGB")
    pal.save(os.path.join(ROOT, "palette_trns.png"), transparency=bytes(range(0, 256, 8)))
    add("palette_trns.png", "palette with a tRNS chunk (32 alpha entries), decoded as RGBA")
    y, x = np.mgrid[0:H, 0:W].astype(np.uint64)
    v16 = ((x * 2113 + y * 2741 + x * y * 97) % 65536).astype(np.uint16)
    Image.fromarray(v16).save(os.path.join(ROOT, "gray16.png"))
    add("gray16.png", "16-bit gray, scaled to 8 bits", check=scale16(v16))
    rgb16 = np.stack([v16, 65535 - v16, (v16.astype(np.uint64) * 7) % 65536], -1).astype(np.uint16)
    write_png(os.path.join(ROOT, "rgb16.png"), rgb16, 16)
    assert np.array_equal(np.asarray(Image.open(os.path.join(ROOT, "rgb16.png"))), (rgb16 >> 8).astype(np.uint8))
    entries.append({"file": "rgb16.png", "expected": "expected/rgb16.png.u8", "width": W, "height": H,
                    "channels": 3, "tolerance": 0,
                    "what": "16-bit RGB, scaled to 8 bits (Pillow truncates; reference is the source scaled)"})
    scale16(rgb16).tofile(os.path.join(ROOT, "expected", "rgb16.png.u8"))
    # Odd size so that some Adam7 passes are partial.
    odd = gradient(31, 23)
    write_png(os.path.join(ROOT, "interlaced_rgba.png"), odd, 8, interlace=True)
    add("interlaced_rgba.png", "Adam7-interlaced 8-bit RGBA, 31x23", check=odd)

    # JPEG: baseline and progressive, gray and RGB (4:2:0), and Adobe CMYK. Same libjpeg-turbo
    # algorithms on both sides (islow IDCT, fancy upsampling): Pillow 13's bundled libjpeg-turbo 3.2
    # and Debian's 2.1.5 agree byte for byte; the tolerance of 1 leaves room for other builds.
    for kind, arr, mode in (("gray", gray, "L"), ("rgb", rgb, "RGB")):
        for prog in (False, True):
            name = f"{kind}_{'progressive' if prog else 'baseline'}.jpg"
            Image.fromarray(arr, mode).save(os.path.join(ROOT, name), quality=90, progressive=prog)
            add(name, f"{'progressive' if prog else 'baseline'} JPEG, {mode}", tolerance=1)
    cmyk = Image.fromarray(rgb, "RGB").convert("CMYK")
    cmyk.save(os.path.join(ROOT, "cmyk.jpg"), quality=90)
    add("cmyk.jpg", "Adobe CMYK JPEG, decoded as RGB", tolerance=1)

    # A real photo: astronaut (public domain), face region 128x128 box-shrunk to 64x64.
    from skimage import data as skdata
    face = skdata.astronaut()[20:148, 160:288].astype(np.float64)
    face = np.rint(face.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))).astype(np.uint8)
    Image.fromarray(face, "RGB").save(os.path.join(ROOT, "photo.png"), optimize=True)
    add("photo.png", "astronaut face, 64x64 RGB PNG", check=face)
    Image.fromarray(face, "RGB").save(os.path.join(ROOT, "photo.jpg"), quality=85)
    add("photo.jpg", "astronaut face, 64x64 baseline JPEG q85", tolerance=1)

    with open(os.path.join(ROOT, "fixtures.json"), "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(ROOT) for n in ns)
    print(f"{len(entries)} fixtures, {total} bytes in {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
