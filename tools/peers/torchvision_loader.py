#!/usr/bin/python3
"""Peer baseline: the standard PyTorch/torchvision ImageNet data loader.

Our copy of the reference peer script (shared/peers/torchvision_loader.py), run by
`loader-bench compare` and tools/peers/compare.sh beside our own loader over the
same images.

Measures images/s delivered by torch.utils.data.DataLoader to the training
loop (the main process), CPU only, no model.  Intended to be run with Debian's
/usr/bin/python3 and the Debian packages python3-torch / python3-torchvision /
python3-pil (see README.md in this directory).

Modes
  train (default)  RandomResizedCrop(224, scale=(0.08,1), ratio=(3/4,4/3)),
                   RandomHorizontalFlip, ToTensor, Normalize(ImageNet mean/std)
  --eval           Resize(256), CenterCrop(224), ToTensor, Normalize
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
  The first --warmup-batches K batches are untimed; the warm-up then drains the
  rest of the epoch it is in (also untimed), so that every timed epoch starts
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


class FolderDataset(Dataset):
    def __init__(self, root, transform=None, decode_only=None):
        self.samples, self.classes = scan(root)
        self.transform = transform
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
        img = pil_loader(path)
        return self.transform(img), label


def build_transform(mode):
    norm = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    if mode == 'train':
        return transforms.Compose([
            transforms.RandomResizedCrop(224, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            norm,
        ])
    if mode == 'eval':
        return transforms.Compose([
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            norm,
        ])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--warmup-batches', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--prefetch-factor', type=int, default=2, help='DataLoader default is 2')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--eval', action='store_true')
    g.add_argument('--decode-only', action='store_true')
    ap.add_argument('--decoder', choices=['pil', 'tvio'], default='pil', help='only with --decode-only')
    args = ap.parse_args()

    mode = 'eval' if args.eval else 'decode-only' if args.decode_only else 'train'
    torch.manual_seed(args.seed)
    ds = FolderDataset(args.data, build_transform(mode),
                       decode_only=args.decoder if mode == 'decode-only' else None)
    kw = {}
    if args.workers > 0:
        kw = dict(persistent_workers=True, prefetch_factor=args.prefetch_factor)
    gen = torch.Generator()
    gen.manual_seed(args.seed)
    loader = DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                        pin_memory=False, drop_last=False, generator=gen, **kw)
    bpe = len(loader)

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
        'python': platform.python_version(),
        'torch_threads_main': torch.get_num_threads(),
        'cpu_count': os.cpu_count(),
        'affinity_cpus': len(os.sched_getaffinity(0)),
    }
    print(json.dumps(res))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
