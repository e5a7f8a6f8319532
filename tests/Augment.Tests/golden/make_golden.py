#!/usr/bin/python3
"""Generates the reference outputs the Augment tests compare against, with Debian's torchvision and PIL.

Run once (outputs are checked in; the tests never need Python):
    apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-pil python3-numpy libjpeg-turbo-progs
    /usr/bin/python3 tests/Augment.Tests/golden/make_golden.py

Writes into tests/Augment.Tests/Fixtures/:
  images/      the input JPEGs: a dozen small ImageNet samples (two grayscale) and special cases made here
               (progressive, arithmetic-coded, CMYK, 1x1, odd sizes, smaller than the output)
  golden/      torchvision's uint8 output for each case, as PNG
  golden.json  the cases: file, mode (train: crop window + flip + output size; eval: Resize(256)+CenterCrop(224))
  get_params.json  RandomResizedCrop.get_params cases: the draws torch made and the window it returned
  eval_plans.json  Resize(256) + CenterCrop(224) geometry for many image sizes: torchvision's resized size and
                   crop offsets (the planner maps them back to a source box)
"""
import json
import os
import random
import shutil
import subprocess
import sys

import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Fixtures")
IMAGES = os.path.join(FIXTURES, "images")
GOLDEN = os.path.join(FIXTURES, "golden")
# The shared ImageNet sample sits beside the repository: REPO/../shared/data/imagenet-sample.
SAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "imagenet-sample"))

# Small real ImageNet images (two grayscale), chosen to keep the fixtures a few hundred KB.
REAL = [
    "n02815834_beaker.JPEG",          # grayscale 320x221
    "n04372370_switch.JPEG",          # grayscale 492x369
    "n02727426_apiary.JPEG",          # 533x400
    "n02093428_American_Staffordshire_terrier.JPEG",  # 335x500 portrait
    "n04238763_slide_rule.JPEG",      # 411x120, very wide
    "n03691459_loudspeaker.JPEG",     # 423x441
    "n03196217_digital_clock.JPEG",   # 500x375
    "n02669723_academic_gown.JPEG",   # 413x580
    "n07742313_Granny_Smith.JPEG",    # 252x276
    "n01630670_common_newt.JPEG",     # 400x200
    "n03445777_golf_ball.JPEG",       # 169x240, smaller than 224 one way
    "n03584829_iron.JPEG",            # 100x100, smaller than the output
]


def make_special_images():
    """Special encodings, made from one real image so their content is natural."""
    src = Image.open(os.path.join(SAMPLE, "n03196217_digital_clock.JPEG")).convert("RGB")
    out = {}
    p = os.path.join(IMAGES, "progressive_301x227.jpg")
    src.resize((301, 227), Image.BILINEAR).save(p, quality=90, progressive=True)
    out["progressive"] = p
    p = os.path.join(IMAGES, "cmyk_257x193.jpg")
    src.resize((257, 193), Image.BILINEAR).convert("CMYK").save(p, quality=90)
    out["cmyk"] = p
    p = os.path.join(IMAGES, "odd_333x251_444.jpg")
    src.resize((333, 251), Image.BILINEAR).save(p, quality=90, subsampling=0)
    out["odd444"] = p
    p = os.path.join(IMAGES, "tiny_1x1.jpg")
    src.resize((1, 1), Image.BILINEAR).save(p, quality=95)
    out["tiny"] = p
    p = os.path.join(IMAGES, "small_37x23.jpg")
    src.resize((37, 23), Image.BILINEAR).save(p, quality=95)
    out["small"] = p
    baseline = os.path.join(IMAGES, "_baseline_tmp.jpg")
    src.resize((289, 217), Image.BILINEAR).save(baseline, quality=90)
    p = os.path.join(IMAGES, "arithmetic_289x217.jpg")
    subprocess.run(["jpegtran", "-arithmetic", "-outfile", p, baseline], check=True)
    os.remove(baseline)
    out["arithmetic"] = p
    return out


def load(path):
    # torchvision's ImageFolder loader: PIL, converted to RGB, no EXIF transpose.
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def get_params_cases():
    """Runs the real RandomResizedCrop.get_params with torch's RNG, recording every draw it makes."""
    import torchvision.transforms.transforms as tt

    real_torch = tt.torch

    class Recorder:
        def __init__(self):
            self.uniform = []
            self.ints = []

        def __getattr__(self, name):
            return getattr(real_torch, name)

        def empty(self, *args, **kwargs):
            t = real_torch.empty(*args, **kwargs)
            rec = self

            class Uniform:
                def uniform_(self, a, b):
                    t.uniform_(a, b)
                    rec.uniform.append([float(a), float(b), t.item()])
                    return t
            return Uniform()

        def randint(self, low, high, size):
            v = real_torch.randint(low, high, size)
            self.ints.append([int(high), int(v.item())])
            return v

    cases = []
    sizes = [(500, 375), (375, 500), (224, 224), (1, 1), (3, 2000), (2000, 3), (411, 120), (100, 100), (640, 480), (97, 333)]
    settings = [((0.08, 1.0), (3 / 4, 4 / 3)), ((0.5, 1.0), (3 / 4, 4 / 3)), ((0.08, 1.0), (0.5, 2.0)), ((0.9, 1.0), (1.5, 2.0))]
    try:
        for k in range(240):
            w, h = sizes[k % len(sizes)]
            scale, ratio = settings[(k // len(sizes)) % len(settings)]
            torch.manual_seed(1000 + k)
            rec = Recorder()
            tt.torch = rec
            i, j, ch, cw = T.RandomResizedCrop.get_params(torch.zeros(1, h, w), list(scale), list(ratio))
            tt.torch = real_torch
            cases.append({"width": w, "height": h, "scale": list(scale), "ratio": list(ratio),
                          "uniform": rec.uniform, "randint": rec.ints, "crop": [j, i, cw, ch]})
    finally:
        tt.torch = real_torch
    return cases


def eval_plan_cases():
    """The sizes torchvision's Resize(256) picks and where CenterCrop(224) cuts, taken from the real transforms."""
    cases = []
    rng = random.Random(11)
    sizes = [(500, 375), (375, 500), (256, 256), (256, 400), (224, 224), (1, 1), (100, 37), (3000, 2000), (257, 999), (341, 256)]
    sizes += [(rng.randint(1, 2000), rng.randint(1, 2000)) for _ in range(90)]
    for w, h in sizes:
        resized = T.Resize(256)(Image.new("L", (w, h)))
        rw, rh = resized.size
        # CenterCrop's offsets, found by cropping an image whose pixel values encode their coordinates.
        top = int(round((rh - 224) / 2.0))
        left = int(round((rw - 224) / 2.0))
        probe = torch.arange(rh * rw, dtype=torch.float64).reshape(1, rh, rw)
        cropped = T.CenterCrop(224)(probe)
        first = int(cropped[0, 0, 0].item()) if rh >= 224 and rw >= 224 else None
        if first is not None:
            assert (first // rw, first % rw) == (top, left), (w, h)
        cases.append({"width": w, "height": h, "resized": [rw, rh], "top": top, "left": left})
    return cases


def main():
    os.makedirs(IMAGES, exist_ok=True)
    if os.path.isdir(GOLDEN):
        shutil.rmtree(GOLDEN)
    os.makedirs(GOLDEN)
    for name in REAL:
        shutil.copyfile(os.path.join(SAMPLE, name), os.path.join(IMAGES, name))
    special = make_special_images()

    rng = random.Random(2024)
    cases = []

    def add(file, mode, img, crop=None, flip=False, size=None):
        idx = len(cases)
        png = f"{idx:03d}.png"
        if mode == "train":
            x, y, w, h = crop
            out = F.resized_crop(img, y, x, h, w, [size, size])  # PIL: crop, then antialiased bilinear resize
            if flip:
                out = F.hflip(out)
        else:
            out = T.Compose([T.Resize(256), T.CenterCrop(224)])(img)
            size = 224
        out.save(os.path.join(GOLDEN, png))
        cases.append({"file": os.path.basename(file), "mode": mode, "crop": crop, "flip": flip, "size": size, "png": png})

    for n, name in enumerate(REAL):
        path = os.path.join(IMAGES, name)
        img = load(path)
        W, H = img.size
        # A small crop (full-scale decode, upscaled or mildly downscaled) ...
        w = rng.randint(max(1, W // 6), max(1, W // 2)); h = rng.randint(max(1, H // 6), max(1, H // 2))
        add(name, "train", img, [rng.randint(0, W - w), rng.randint(0, H - h), w, h], flip=(n % 2 == 0), size=128)
        # ... and a large one (at output 128, crops of 147+ pixels decode at a reduced DCT scale).
        w = rng.randint((W * 2) // 3, W); h = rng.randint((H * 2) // 3, H)
        add(name, "train", img, [rng.randint(0, W - w), rng.randint(0, H - h), w, h], flip=(n % 2 == 1), size=128)
        if n < 4:
            add(name, "eval", img)

    for kind, path in special.items():
        img = load(path)
        W, H = img.size
        add(path, "train", img, [0, 0, W, H], flip=True, size=64)
        if W > 8 and H > 8:
            add(path, "train", img, [W // 5, H // 7, W // 2, H // 2], flip=False, size=96)
        if kind in ("progressive", "cmyk"):
            add(path, "eval", img)

    with open(os.path.join(FIXTURES, "golden.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "cases": cases}, f, indent=1)
    with open(os.path.join(FIXTURES, "get_params.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": get_params_cases()}, f)
    with open(os.path.join(FIXTURES, "eval_plans.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "cases": eval_plan_cases()}, f)
    print(f"{len(cases)} golden cases")


if __name__ == "__main__":
    sys.exit(main())
