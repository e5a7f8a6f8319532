#!/usr/bin/python3
"""Peer baselines: three PyTorch data loaders a user would pick for ImageNet on the CPU.

Our copy of the reference peer script (shared/peers/torchvision_loader.py), extended with two more pipelines;
run by `loader-bench compare` and tools/peers/compare.sh beside our own loader over the same images.

Measures images/s delivered by torch.utils.data.DataLoader to the training loop (the main process), CPU only, no
model. Intended to be run with Debian's /usr/bin/python3 and the Debian packages python3-torch,
python3-torchvision, python3-pil, python3-numpy and python3-opencv (tools/peers/setup.sh installs them).

Pipelines (--pipeline), each doing the same work per sample, through the same DataLoader (same workers, batch,
shuffle, collate):
  torchvision-pil  (default) PIL decode, torchvision.transforms v1 on PIL images: the ImageNet example's loader
  torchvision-io   torchvision.io.read_file + decode_jpeg, torchvision.transforms v1 on uint8 tensors
                   (antialias=True, as the PIL path always is)
  opencv           cv2.imdecode with IMREAD_REDUCED_COLOR_2/4/8 where the crop allows, cv2.resize
                   (INTER_AREA shrinking, INTER_LINEAR enlarging), cv2.flip, numpy normalize
  opencv-linear    the same with INTER_LINEAR when shrinking too (not antialiased: less work, faster)
  (classes PilPipeline, TvioPipeline, OpenCvPipeline below say exactly what each does)

Modes
  train (default)  RandomResizedCrop(224, scale=(0.08,1), ratio=(3/4,4/3)),
                   RandomHorizontalFlip, to float32 CHW, Normalize(ImageNet mean/std)
  --eval           Resize(256), CenterCrop(224), to float32 CHW, Normalize
  --decode-only    PIL open + convert('RGB') + load(); no augmentation.  Each
                   sample yields only (pixel_count, label) so that the
                   measurement is decode cost, not IPC of variable-size images.
                   --decoder tvio uses torchvision.io.decode_jpeg instead
                   (RGB, libjpeg-turbo via torchvision's C++ op).

Dataset layout
  * class-subfolder tree  DIR/<synset>/<file>.JPEG  (torchvision ImageFolder
    layout), label = index of the folder name in sorted order; or
  * flat folder           DIR/<synset>_<anything>.JPEG, label = index of the
    synset (text before the first '_') in sorted order of distinct synsets.

Timing
  The first --warmup-batches K batches are untimed (--warmup-epochs N: the
  first N epochs, i.e. K = (N - 1) x batches per epoch + 1); the warm-up then
  drains the rest of the epoch it is in (also untimed), so that every timed epoch starts
  from a normal epoch boundary (breaking a persistent-worker iterator mid-epoch
  would make the next iter() wait for the abandoned prefetched batches).  Then
  --epochs E full epochs are timed, each from iter(loader) to the last batch
  received in the main process.  images/s = images in the timed epochs /
  sum of the timed epoch durations.  K=0 means no warm-up at all (the timed
  epochs then include worker start-up, because workers are created lazily on
  the first iter()).
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy
import PIL
import torch
import torchvision
from PIL import Image, features
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMG_EXTS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def scan(root):
    """Return (samples, classes): samples = [(path, label)], sorted by path."""
    entries = sorted(os.listdir(root))
    subdirs = [e for e in entries if os.path.isdir(os.path.join(root, e))]
    samples = []
    if subdirs:  # ImageFolder layout
        classes = subdirs
        idx = {c: i for i, c in enumerate(classes)}
        for c in classes:
            for dirpath, _, files in sorted(os.walk(os.path.join(root, c))):
                for f in sorted(files):
                    if f.lower().endswith(IMG_EXTS):
                        samples.append((os.path.join(dirpath, f), idx[c]))
    else:  # flat folder: <synset>_<name>.JPEG
        files = [e for e in entries if e.lower().endswith(IMG_EXTS)]
        classes = sorted({f.split('_', 1)[0] for f in files})
        idx = {c: i for i, c in enumerate(classes)}
        for f in files:
            samples.append((os.path.join(root, f), idx[f.split('_', 1)[0]]))
    if not samples:
        raise SystemExit(f'no images found under {root}')
    return samples, classes


def pil_loader(path):
    # Same as torchvision.datasets.folder.pil_loader.
    with open(path, 'rb') as f:
        img = Image.open(f)
        return img.convert('RGB')


# ---------------------------------------------------------------------------------------------------------------
# The three pipelines. Each does the same work per sample: train = RandomResizedCrop(224, scale (0.08, 1), ratio
# (3/4, 4/3)) drawn by torchvision's own RandomResizedCrop.get_params, horizontal flip with p = 0.5, normalize to
# float32 CHW; eval = resize the short side to 256, center crop 224, normalize. `sample(path)` is what the
# DataLoader's workers run; `fixed(path, params, flip)` is the same computation with a given crop (i, j, h, w) and
# flip, so that check_peers.py can compare the pipelines' outputs pixel for pixel.
# ---------------------------------------------------------------------------------------------------------------

SCALE = (0.08, 1.0)
RATIO = (3.0 / 4.0, 4.0 / 3.0)
SIZE = 224
RESIZE = 256


def draw_train_params(width, height):
    """torchvision's RandomResizedCrop.get_params and RandomHorizontalFlip's coin, on an image of this size.
    get_params only reads the size: a zero-stride tensor of that shape allocates nothing."""
    shape_only = torch.empty(1, 1, 1).expand(1, height, width)
    i, j, h, w = transforms.RandomResizedCrop.get_params(shape_only, list(SCALE), list(RATIO))
    flip = bool(torch.rand(1) < 0.5)
    return (i, j, h, w), flip


def eval_geometry(width, height):
    """torchvision's Resize(256) output size (short side 256, long side truncated) and CenterCrop(224)'s corner."""
    if width <= height:
        new_w, new_h = RESIZE, int(RESIZE * height / width)
    else:
        new_w, new_h = int(RESIZE * width / height), RESIZE
    top = int(round((new_h - SIZE) / 2.0))
    left = int(round((new_w - SIZE) / 2.0))
    return new_w, new_h, top, left


class PilPipeline:
    """The standard torchvision ImageNet loader: PIL decode (libjpeg-turbo), PIL's antialiased bilinear resize,
    ToTensor, Normalize; torchvision.transforms v1 exactly as the ImageNet example composes them."""
    name = 'torchvision-pil'
    description = 'PIL decode + PIL resize (bilinear, always antialiased) + ToTensor + Normalize'

    def __init__(self, mode):
        self.mode = mode
        self.norm = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
        if mode == 'train':
            self.transform = transforms.Compose([
                transforms.RandomResizedCrop(SIZE, scale=SCALE, ratio=RATIO),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                self.norm,
            ])
        else:
            self.transform = transforms.Compose([
                transforms.Resize(RESIZE),
                transforms.CenterCrop(SIZE),
                transforms.ToTensor(),
                self.norm,
            ])

    def sample(self, path):
        return self.transform(pil_loader(path))

    def fixed(self, path, params, flip):
        if self.mode != 'train':
            return self.sample(path)
        i, j, h, w = params
        img = transforms.functional.resized_crop(pil_loader(path), i, j, h, w, [SIZE, SIZE])
        if flip:
            img = transforms.functional.hflip(img)
        return self.norm(transforms.functional.to_tensor(img))


class TvioPipeline:
    """torchvision.io.read_file + decode_jpeg (torchvision's C++ op over libjpeg) into a uint8 CHW tensor, then the
    same torchvision.transforms v1 on tensors (torchvision 0.14 has no transforms.v2). antialias=True: on tensors
    0.14 defaults to no antialiasing, unlike the PIL path, which always antialiases; with it both filter alike."""
    name = 'torchvision-io'
    description = 'torchvision.io.decode_jpeg + tensor transforms v1 (bilinear, antialias=True) + Normalize'

    def __init__(self, mode):
        from torchvision.io import ImageReadMode, decode_jpeg, read_file
        self.mode = mode
        self.read_file, self.decode_jpeg, self.rgb = read_file, decode_jpeg, ImageReadMode.RGB
        self.to_float = transforms.ConvertImageDtype(torch.float32)
        self.norm = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
        if mode == 'train':
            self.transform = transforms.Compose([
                transforms.RandomResizedCrop(SIZE, scale=SCALE, ratio=RATIO, antialias=True),
                transforms.RandomHorizontalFlip(),
                self.to_float,
                self.norm,
            ])
        else:
            self.transform = transforms.Compose([
                transforms.Resize(RESIZE, antialias=True),
                transforms.CenterCrop(SIZE),
                self.to_float,
                self.norm,
            ])

    def decode(self, path):
        return self.decode_jpeg(self.read_file(path), mode=self.rgb)

    def sample(self, path):
        return self.transform(self.decode(path))

    def fixed(self, path, params, flip):
        if self.mode != 'train':
            return self.sample(path)
        i, j, h, w = params
        img = transforms.functional.resized_crop(self.decode(path), i, j, h, w, [SIZE, SIZE], antialias=True)
        if flip:
            img = transforms.functional.hflip(img)
        return self.norm(self.to_float(img))


def jpeg_size(data):
    """(width, height) from a JPEG's SOF header, or None: OpenCV cannot tell the size before decoding, and the crop
    (hence the reduced-size decode) must be chosen first."""
    if data[:2] != b'\xff\xd8':
        return None
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = (data[pos + 2] << 8) | data[pos + 3]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > n:
                return None
            height = (data[pos + 5] << 8) | data[pos + 6]
            width = (data[pos + 7] << 8) | data[pos + 8]
            return (width, height) if width > 0 and height > 0 else None
        pos += 2 + length
    return None


class OpenCvPipeline:
    """cv2.imdecode with the reduced-size decode flags (libjpeg's DCT scaling, 1/2, 1/4, 1/8): the largest
    reduction that still leaves the crop at least 224 on both sides (train; the rule our loader's DCT scaling
    uses), or the short side at least 256 (eval). Then crop, cv2.resize (INTER_AREA when shrinking both sides,
    INTER_LINEAR otherwise: OpenCV's own advice, and INTER_AREA is its antialiased one), cv2.flip, BGR -> RGB,
    normalize to float32 CHW in numpy. IMREAD_IGNORE_ORIENTATION: PIL and decode_jpeg do not apply EXIF rotation,
    so neither does this. One OpenCV thread per DataLoader worker (cv2.setNumThreads(1), as torch does for itself)."""
    name = 'opencv'
    description = ('cv2.imdecode (IMREAD_REDUCED_COLOR_2/4/8 where the crop allows) + cv2.resize '
                   '(INTER_AREA shrinking, INTER_LINEAR enlarging) + numpy normalize')

    REDUCED = {1: 0, 2: 16, 4: 32, 8: 64}  # IMREAD_REDUCED_*: 16 | colour, 32 | colour, 64 | colour

    def __init__(self, mode):
        import cv2
        import numpy as np
        self.cv2, self.np = cv2, np
        self.mode = mode
        self.shrink = cv2.INTER_AREA
        self.scale = np.array([1.0 / (255.0 * s) for s in IMAGENET_STD], dtype=np.float32)
        self.shift = np.array([-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)], dtype=np.float32)
        self.reductions = {1: 0, 2: 0, 4: 0, 8: 0}  # samples decoded at each reduction, read by check_peers.py

    def decode(self, data, factor):
        cv2 = self.cv2
        flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION | self.REDUCED[factor]
        img = cv2.imdecode(self.np.frombuffer(data, dtype=self.np.uint8), flags)
        if img is None:
            raise ValueError('cv2.imdecode could not decode the file')
        return img

    def read(self, path):
        with open(path, 'rb') as f:
            data = f.read()
        size = jpeg_size(data)
        if size is None:  # not a JPEG OpenCV can size from its header: decode at full size to learn it
            img = self.decode(data, 1)
            size = (img.shape[1], img.shape[0])
        return data, size

    def resize(self, img, width, height):
        cv2 = self.cv2
        shrink = img.shape[1] >= width and img.shape[0] >= height
        return cv2.resize(img, (width, height), interpolation=self.shrink if shrink else cv2.INTER_LINEAR)

    def finish(self, bgr, flip):
        if flip:
            bgr = self.cv2.flip(bgr, 1)
        rgb = self.cv2.cvtColor(bgr, self.cv2.COLOR_BGR2RGB).astype(self.np.float32)
        rgb *= self.scale
        rgb += self.shift
        return torch.from_numpy(self.np.ascontiguousarray(rgb.transpose(2, 0, 1)))

    def train(self, data, size, params, flip):
        i, j, h, w = params
        factor = next(f for f in (8, 4, 2, 1) if f == 1 or (w // f >= SIZE and h // f >= SIZE))
        img = self.decode(data, factor)
        self.reductions[factor] += 1
        fx, fy = img.shape[1] / size[0], img.shape[0] / size[1]
        x0, y0 = int(round(j * fx)), int(round(i * fy))
        x1 = min(img.shape[1], max(x0 + 1, int(round((j + w) * fx))))
        y1 = min(img.shape[0], max(y0 + 1, int(round((i + h) * fy))))
        return self.finish(self.resize(img[y0:y1, x0:x1], SIZE, SIZE), flip)

    def eval(self, data, size):
        width, height = size
        short = min(width, height)
        factor = next(f for f in (8, 4, 2, 1) if f == 1 or -(-short // f) >= RESIZE)  # libjpeg: ceil(side / f)
        img = self.decode(data, factor)
        self.reductions[factor] += 1
        new_w, new_h, top, left = eval_geometry(width, height)
        resized = self.resize(img, new_w, new_h)
        return self.finish(resized[top:top + SIZE, left:left + SIZE], False)

    def sample(self, path):
        data, size = self.read(path)
        if self.mode == 'train':
            params, flip = draw_train_params(*size)
            return self.train(data, size, params, flip)
        return self.eval(data, size)

    def fixed(self, path, params, flip):
        data, size = self.read(path)
        return self.train(data, size, params, flip) if self.mode == 'train' else self.eval(data, size)


class OpenCvLinearPipeline(OpenCvPipeline):
    """The OpenCV pipeline with INTER_LINEAR when shrinking too: less work than the others (bilinear without
    antialiasing: each output pixel reads 2x2 source pixels however large the crop), the fastest OpenCV set-up and
    albumentations' default; kept as a peer so that no faster configuration is left out of the comparison."""
    name = 'opencv-linear'
    description = ('cv2.imdecode (IMREAD_REDUCED_COLOR_2/4/8 where the crop allows) + cv2.resize '
                   '(INTER_LINEAR, not antialiased) + numpy normalize')

    def __init__(self, mode):
        super().__init__(mode)
        self.shrink = self.cv2.INTER_LINEAR


PIPELINES = {p.name: p for p in (PilPipeline, TvioPipeline, OpenCvPipeline, OpenCvLinearPipeline)}


def worker_init(_):
    # OpenCV starts its own thread pool per process; a DataLoader worker is one thread of work, as ours are.
    try:
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass


class FolderDataset(Dataset):
    def __init__(self, root, pipeline=None, decode_only=None):
        self.samples, self.classes = scan(root)
        self.pipeline = pipeline
        self.decode_only = decode_only  # None | 'pil' | 'tvio'

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        if self.decode_only == 'pil':
            img = pil_loader(path)
            img.load()
            w, h = img.size
            return w * h, label
        if self.decode_only == 'tvio':
            from torchvision.io import ImageReadMode, decode_jpeg, read_file
            t = decode_jpeg(read_file(path), mode=ImageReadMode.RGB)
            return t.shape[1] * t.shape[2], label
        return self.pipeline.sample(path), label


def opencv_version():
    try:
        import cv2
        return cv2.__version__
    except ImportError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--warmup-batches', type=int, default=1)
    ap.add_argument('--warmup-epochs', type=int, default=None,
                    help='untimed whole epochs first (overrides --warmup-batches; 0: none)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--prefetch-factor', type=int, default=2, help='DataLoader default is 2')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--eval', action='store_true')
    g.add_argument('--decode-only', action='store_true')
    ap.add_argument('--decoder', choices=['pil', 'tvio'], default='pil', help='only with --decode-only')
    ap.add_argument('--pipeline', choices=sorted(PIPELINES), default='torchvision-pil',
                    help='train/eval pipeline: torchvision-pil (default), torchvision-io, opencv, opencv-linear')
    args = ap.parse_args()

    mode = 'eval' if args.eval else 'decode-only' if args.decode_only else 'train'
    torch.manual_seed(args.seed)
    pipeline = PIPELINES[args.pipeline](mode) if mode != 'decode-only' else None
    ds = FolderDataset(args.data, pipeline, decode_only=args.decoder if mode == 'decode-only' else None)
    kw = {}
    if args.workers > 0:
        kw = dict(persistent_workers=True, prefetch_factor=args.prefetch_factor, worker_init_fn=worker_init)
    else:
        worker_init(0)
    gen = torch.Generator()
    gen.manual_seed(args.seed)
    loader = DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                        pin_memory=False, drop_last=False, generator=gen, **kw)
    bpe = len(loader)
    if args.warmup_epochs is not None:
        args.warmup_batches = (args.warmup_epochs - 1) * bpe + 1 if args.warmup_epochs > 0 else 0

    # Warm-up: K batches, then drain the rest of that epoch (untimed).
    t0 = time.perf_counter()
    warm_batches = 0
    while warm_batches < args.warmup_batches:
        for _ in loader:
            warm_batches += 1
    warm_s = time.perf_counter() - t0

    # Timed epochs.
    epoch_s, n_img = [], 0
    check = 0.0
    for _ in range(args.epochs):
        t = time.perf_counter()
        for x, y in loader:
            n_img += int(y.shape[0])
            # touch the data so nothing is lazily skipped (cheap)
            check += float(x.view(-1)[0]) if x.dim() > 1 else float(x[0])
        epoch_s.append(time.perf_counter() - t)
    timed_s = sum(epoch_s)

    res = {
        'mode': mode + ('' if mode != 'decode-only' else f'/{args.decoder}'),
        'pipeline': pipeline.name if pipeline else None,
        'pipeline_description': pipeline.description if pipeline else None,
        'images_per_s': round(n_img / timed_s, 2),
        'timed_images': n_img,
        'timed_s': round(timed_s, 4),
        'epoch_s': [round(e, 4) for e in epoch_s],
        'epochs': args.epochs,
        'dataset_images': len(ds),
        'classes': len(ds.classes),
        'batches_per_epoch': bpe,
        'warmup_batches_requested': args.warmup_batches,
        'warmup_batches_consumed': warm_batches,
        'warmup_s': round(warm_s, 4),
        'workers': args.workers,
        'batch': args.batch,
        'prefetch_factor': args.prefetch_factor if args.workers > 0 else None,
        'persistent_workers': args.workers > 0,
        'pin_memory': False,
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'PIL': PIL.__version__,
        'PIL_libjpeg': features.version('jpg'),
        'PIL_libjpeg_turbo': features.check_feature('libjpeg_turbo'),
        'numpy': numpy.__version__,
        'opencv': opencv_version(),
        'python': platform.python_version(),
        'torch_threads_main': torch.get_num_threads(),
        'cpu_count': os.cpu_count(),
        'affinity_cpus': len(os.sched_getaffinity(0)),
    }
    print(json.dumps(res))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
