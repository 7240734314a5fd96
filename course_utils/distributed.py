"""Training on several processes: what `course_utils.training` needs to run under `torchrun` with
PyTorch's DistributedDataParallel (DDP), and nothing at all when it runs alone.

`torchrun --nproc_per_node=N script.py` starts N copies of the script and tells each its place in
the environment (RANK 0..N-1, LOCAL_RANK on its machine, WORLD_SIZE N). `start` joins them into
one process group (gloo on the CPU, NCCL on GPUs, one GPU per process) and `stop` leaves it.

One step of N processes is one step of a single process on the same global batch:
- every process draws the whole batch from the same seed and keeps its own rows (`share`);
- `wrap` puts the model in DDP, which averages the gradients over the processes during backward.
  Each process's loss is the mean over its rows; the shares are equal, so the mean of the N means
  is the mean over the whole batch, and so is the averaged gradient. Gradient clipping and the
  optimizer then see the same gradient in every process, and their parameters stay equal;
- `mean` averages a number, such as the loss a step logs, over the processes;
- process 0 alone writes (`is_main`): checkpoints, the exported model, the log.

Dropout is the exception. Its masks come from each process's own generator, seeded alike in
every process, so row i of every share gets the same mask (nanoGPT offsets the seed by the rank
instead); the gain is that a checkpoint's one dropout state resumes every process exactly. The
masks of a share are not those one process draws for the whole batch, so N processes equal one
(up to float rounding) only with dropout=0; with dropout they make a run of their own.

Left out: model parallelism (each process holds the whole model), sharded optimizer state
(ZeRO, FSDP), uneven shares, and data loaders (the batches are cut from token ids in memory).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import Tensor, nn

from course_utils.validation import check_int, check_type

__all__ = ["launched", "start", "stop", "rank", "world_size", "is_main", "local_batch_size",
           "share", "mean", "wrap"]


def launched() -> bool:
    """True when torchrun (or another launcher) started this process as one of several."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def _joined() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """The number of processes training together: 1 when alone."""
    return dist.get_world_size() if _joined() else 1


def rank() -> int:
    """This process's number, 0 to world_size() - 1: 0 when alone."""
    return dist.get_rank() if _joined() else 0


def is_main() -> bool:
    """True in process 0, the one that logs and writes files (and when alone).

    >>> is_main()
    True
    """
    return rank() == 0


def start(device: str) -> str:
    """Join the other processes torchrun started and return this process's device: on "cuda",
    the GPU of its LOCAL_RANK with NCCL; on "cpu", the CPU with gloo. Alone (not launched by
    torchrun), do nothing and return `device` as it is.

    >>> start("cpu")  # alone
    'cpu'
    """
    device = check_type("device", device, str, 'a device name such as "cpu" or "cuda"')
    if not launched() or _joined():
        return device
    if device.startswith("cuda"):
        local_rank = int(os.environ["LOCAL_RANK"])
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"process {local_rank} of this machine has no GPU of its own "
                             f"({torch.cuda.device_count()} found); start at most that many "
                             f"processes per machine (--nproc_per_node)")
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return device


def stop() -> None:
    """Leave the process group, if this process joined one (call it in a `finally:`)."""
    if _joined():
        dist.destroy_process_group()


def local_batch_size(batch_size: int, processes: int | None = None, *,
                     name: str = "batch_size") -> int:
    """Return each process's rows of a global batch of `batch_size` over `processes`
    (default: world_size()); a batch that does not split evenly is a ValueError naming `name`.

    >>> local_batch_size(32, processes=4)
    8
    """
    batch_size = check_int(name, batch_size, minimum=1)
    processes = world_size() if processes is None else check_int("processes", processes,
                                                                  minimum=1)
    if batch_size % processes:
        lower, upper = batch_size // processes * processes, -(-batch_size // processes) * processes
        raise ValueError(f"{name}={batch_size} (the global batch) does not split evenly over "
                         f"{processes} processes; use a multiple of {processes} "
                         f"(e.g. {upper}{f' or {lower}' if lower else ''}), or another number "
                         f"of processes (a divisor of {batch_size})")
    return batch_size // processes


def share(batch: Tensor, *, rank: int | None = None, processes: int | None = None) -> Tensor:
    """Return this process's rows of a global batch: with b = len(batch) / processes, process r
    gets rows r·b to (r+1)·b - 1. Alone, the batch itself.

    >>> share(torch.arange(8), rank=1, processes=2)  # process 1 of 2
    tensor([4, 5, 6, 7])
    >>> batch = torch.arange(8)
    >>> share(batch) is batch  # alone
    True
    """
    processes = world_size() if processes is None else processes
    if processes == 1:
        return batch
    rows = local_batch_size(len(batch), processes)
    if rank is None:
        rank = dist.get_rank() if _joined() else 0
    rank = check_int("rank", rank, minimum=0, maximum=processes - 1)
    return batch[rank * rows:(rank + 1) * rows]


def mean(value: float) -> float:
    """Return the mean of `value` over the processes (in float64); alone, `value` itself.

    >>> mean(2.5)
    2.5
    """
    if world_size() == 1:
        return value
    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    total = torch.tensor(value, dtype=torch.float64, device=device)
    dist.all_reduce(total)  # the sum, the same in every process
    return total.item() / world_size()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """Return the model in DistributedDataParallel when several processes train together, else
    the model itself. Its parameters are the model's: an optimizer of either steps both.

    >>> model = nn.Linear(2, 2)
    >>> wrap(model, torch.device("cpu")) is model
    True
    """
    if world_size() == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                   else None)
