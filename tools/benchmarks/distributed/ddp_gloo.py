"""PyTorch DDP with Gloo on the CPU: images/s of torchvision's resnet18 at the same image size, per-rank batch and
libtorch threads as the trainer's run (synthetic data, SGD, cross-entropy). Usage: ddp_gloo.py RANKS BATCH SIZE STEPS
[PORT] (the rendezvous port, default 29500 + RANKS: two runs at once need two).
Prints one JSON object. Debian: apt-get install python3-torch python3-torchvision; run with /usr/bin/python3."""
import json, os, sys, time
import torch, torch.distributed as dist, torch.multiprocessing as mp, torchvision


def worker(rank, world, batch, size, steps, port, queue):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(rank)
    model = torchvision.models.resnet18(num_classes=1000)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.875)
    images = torch.randn(batch, 3, size, size)
    labels = torch.randint(0, 1000, (batch,))
    for step in range(steps + 3):
        if step == 3:
            dist.barrier()
            start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(ddp(images), labels).backward()
        optimizer.step()
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        queue.put(seconds)
    dist.destroy_process_group()


if __name__ == "__main__":
    world, batch, size, steps = (int(a) for a in sys.argv[1:5])
    port = int(sys.argv[5]) if len(sys.argv) > 5 else 29500 + world
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(worker, args=(world, batch, size, steps, port, queue), nprocs=world)
    seconds = queue.get()
    print(json.dumps({"impl": "pytorch_ddp_gloo", "torch": torch.__version__, "ranks": world, "per_rank_batch": batch,
                      "image_size": size, "steps": steps, "images_per_sec": world * batch * steps / seconds}))
