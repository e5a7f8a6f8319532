#!/usr/bin/python3
"""Are the peers right, not just fast? Runs every pipeline of torchvision_loader.py on the same images with the
same crop and flip (train) or none (eval) and compares each output with the PIL pipeline's, the reference:

  - shape (3, 224, 224), dtype float32, every value inside the range normalization can give
    ((0 - mean) / std .. (1 - mean) / std per channel), no NaN;
  - mean and largest absolute difference from PIL's output, in 0..255 pixel levels (the normalized difference
    times std times 255), and the PSNR against it;
  - a PNG per mode (OUT/check-train.png, OUT/check-eval.png): one row per image, one column per pipeline,
    de-normalized, for a look by eye.

Prints one JSON object; exits 1 when a check fails (a shape, a range, or a mean difference above --max-mean-diff
levels), 0 otherwise.

    /usr/bin/python3 tools/peers/check_peers.py --data ../shared/data/imagenet-sample --count 16 --out OUT
"""
import argparse
import json
import math
import os
import sys

import numpy
import torch
from PIL import Image

import torchvision_loader as peers


def to_levels(tensor):
    """Normalized float32 CHW -> float64 HWC in 0..255 pixel levels (unclamped)."""
    mean = numpy.array(peers.IMAGENET_MEAN).reshape(3, 1, 1)
    std = numpy.array(peers.IMAGENET_STD).reshape(3, 1, 1)
    return ((tensor.numpy().astype(numpy.float64) * std + mean) * 255.0).transpose(1, 2, 0)


def range_ok(tensor):
    low = torch.tensor([(0 - m) / s for m, s in zip(peers.IMAGENET_MEAN, peers.IMAGENET_STD)]).view(3, 1, 1)
    high = torch.tensor([(1 - m) / s for m, s in zip(peers.IMAGENET_MEAN, peers.IMAGENET_STD)]).view(3, 1, 1)
    eps = 1e-5
    return bool(torch.isfinite(tensor).all() and (tensor >= low - eps).all() and (tensor <= high + eps).all())


def check_mode(mode, paths, count_seed, out_dir):
    pipelines = {name: cls(mode) for name, cls in peers.PIPELINES.items()}
    reference = peers.PilPipeline.name
    generator = torch.Generator().manual_seed(count_seed)
    stats = {name: {'max_abs_levels': 0.0, 'sum_abs_levels': 0.0, 'sum_sq_levels': 0.0, 'values': 0,
                    'shape_ok': True, 'range_ok': True} for name in pipelines}
    rows = []
    for path in paths:
        with Image.open(path) as probe:
            width, height = probe.size
        # The crop and flip drawn once per image, with torchvision's own algorithm, given to every pipeline.
        state = torch.get_rng_state()
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        params, flip = peers.draw_train_params(width, height)
        torch.set_rng_state(state)
        outputs = {name: pipeline.fixed(path, params, flip) for name, pipeline in pipelines.items()}
        base = to_levels(outputs[reference])
        row = []
        for name, tensor in outputs.items():
            s = stats[name]
            s['shape_ok'] &= tuple(tensor.shape) == (3, peers.SIZE, peers.SIZE) and tensor.dtype == torch.float32
            s['range_ok'] &= range_ok(tensor)
            diff = numpy.abs(to_levels(tensor) - base)
            s['max_abs_levels'] = max(s['max_abs_levels'], float(diff.max()))
            s['sum_abs_levels'] += float(diff.sum())
            s['sum_sq_levels'] += float((diff ** 2).sum())
            s['values'] += diff.size
            row.append(numpy.clip(to_levels(tensor), 0, 255).round().astype(numpy.uint8))
        rows.append(numpy.concatenate(row, axis=1))
    Image.fromarray(numpy.concatenate(rows, axis=0)).save(os.path.join(out_dir, f'check-{mode}.png'))

    result = {}
    for name, s in stats.items():
        mse = s['sum_sq_levels'] / s['values']
        result[name] = {
            'shape_ok': s['shape_ok'],
            'range_ok': s['range_ok'],
            'mean_abs_levels': round(s['sum_abs_levels'] / s['values'], 3),
            'max_abs_levels': round(s['max_abs_levels'], 2),
            'psnr_db': None if mse == 0 else round(10 * math.log10(255.0 ** 2 / mse), 2),
        }
    for name, pipeline in pipelines.items():
        if isinstance(pipeline, peers.OpenCvPipeline):
            result[name]['reduced_decodes'] = {f'1/{f}': n for f, n in pipeline.reductions.items()}
    return result, list(pipelines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='image folder (as torchvision_loader.py reads it)')
    ap.add_argument('--count', type=int, default=16, help='images to check (the first N by path; default 16)')
    ap.add_argument('--seed', type=int, default=0, help='seed of the crops and flips (default 0)')
    ap.add_argument('--out', required=True, help='folder for check-train.png and check-eval.png')
    ap.add_argument('--max-mean-diff', type=float, default=4.0,
                    help='largest mean absolute difference from PIL allowed, in 0..255 levels (default 4)')
    args = ap.parse_args()

    samples, _ = peers.scan(args.data)
    step = max(1, len(samples) // args.count)
    paths = [path for path, _ in samples[::step][:args.count]]
    os.makedirs(args.out, exist_ok=True)
    report = {'images': len(paths), 'reference': peers.PilPipeline.name, 'max_mean_diff_levels': args.max_mean_diff}
    failed = []
    for mode in ('train', 'eval'):
        result, columns = check_mode(mode, paths, args.seed, args.out)
        report[mode] = result
        report[f'{mode}_png_columns'] = columns
        for name, r in result.items():
            if not r['shape_ok'] or not r['range_ok'] or r['mean_abs_levels'] > args.max_mean_diff:
                failed.append(f'{mode}/{name}')
    report['failed'] = failed
    print(json.dumps(report))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
