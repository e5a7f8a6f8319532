#!/usr/bin/env python3
"""PyTorch baselines on the GPU machine, same images and GPU as device-check, printed as JSON.

  decode:  torchvision.io.decode_jpeg(list_of_tensors, device='cuda'), batched, decode only (the issue's baseline
           for our decode+augment), images/s over --seconds.
  resnet:  PyTorch eager ResNet-50 training steps (SGD, channels_last, torch.autocast fp16 with GradScaler and bf16),
           synthetic data, images/s: the reference our trainer is held to in Phase B.
usage: torch_reference.py IMAGES_DIR [--seconds S] [--batch N] [--resnet-steps K] [--skip-resnet]
"""
import argparse, json, os, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--resnet-steps", type=int, default=30)
    ap.add_argument("--skip-resnet", action="store_true")
    a = ap.parse_args()
    import torch, torchvision
    from torchvision.io import decode_jpeg, read_file, ImageReadMode
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "cuda": torch.version.cuda,
           "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    files = sorted(os.path.join(a.images, f) for f in os.listdir(a.images) if f.lower().endswith((".jpg", ".jpeg")))
    data = [read_file(f) for f in files]
    batch = [data[i % len(data)] for i in range(a.batch)]
    try:
        for _ in range(3):
            decode_jpeg(batch, device="cuda", mode=ImageReadMode.RGB)
        torch.cuda.synchronize()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            decode_jpeg(batch, device="cuda", mode=ImageReadMode.RGB)
            n += 1
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        out["torchvision_decode_jpeg_cuda"] = {"images_per_second": round(n * a.batch / dt, 1), "batches": n, "batch": a.batch, "seconds": round(dt, 2)}
    except Exception as e:  # recorded, not fatal: the other baseline still runs
        out["torchvision_decode_jpeg_cuda"] = {"error": repr(e)}
    if not a.skip_resnet:
        out["pytorch_eager_resnet50"] = {}
        for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
            try:
                out["pytorch_eager_resnet50"][name] = resnet_steps(torch, torchvision, dtype, a.batch, a.resnet_steps)
            except Exception as e:
                out["pytorch_eager_resnet50"][name] = {"error": repr(e)}
    print(json.dumps(out, indent=2))

def resnet_steps(torch, torchvision, dtype, batch, steps):
    torch.backends.cudnn.benchmark = True
    model = torchvision.models.resnet50().cuda().to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-5)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    x = torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    for _ in range(8):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"images_per_second": round(steps * batch / dt, 1), "steps": steps, "batch": batch, "channels_last": True}

if __name__ == "__main__":
    sys.exit(main())
