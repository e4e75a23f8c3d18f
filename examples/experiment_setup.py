"""What the experiment scripts (``examples/*_supervision.py``) share: the budget behind ``--quick``,
the process group under ``torchrun``, and the checkpoint an interrupted run resumes from."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist


def fill_budget(args: argparse.Namespace, quick: dict, full: dict) -> None:
    """Give every flag left unset its value from the quick or the full budget."""
    for key, default in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, default)


def start_processes(batch_size: int) -> tuple[bool, int, int]:
    """``(distributed, rank, world size)``: under ``torchrun`` (``WORLD_SIZE`` > 1) a gloo process
    group is started, and the batch must split evenly between the processes."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    world_size = dist.get_world_size() if distributed else 1
    if batch_size % world_size:
        raise ValueError(f"--batch-size {batch_size} is not divisible by {world_size} processes")
    return distributed, rank, world_size


def checkpoint_to_resume(path: Path | None, args: argparse.Namespace, resume_keys) -> dict | None:
    """The checkpoint at ``path``, if there is one, to resume from; refused when it was written
    with other values of the flags in ``resume_keys`` (another run's checkpoint)."""
    if path is None or not path.is_file():
        return None
    checkpoint = torch.load(path, weights_only=False)
    missing = object()  # a key the checkpoint lacks (written before its flag existed) is different
    mismatched = [k for k in resume_keys if checkpoint["args"].get(k, missing) != getattr(args, k)]
    if mismatched:
        raise ValueError(f"{path} was written with different {mismatched}")
    return checkpoint
