"""On a CUDA device, relaxed and hard results (and gradients) equal the CPU's, and stay on the
device. Skipped where no GPU is present (CI has none); run on a lent GPU with
``python -m pytest tests/test_cuda.py``."""

import warnings

import pytest
import torch

import relaxc
from corpus import CASES, RELAXED_ERRORS
from helpers import flatten, instance

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def arguments(specs, batch, device):
    generator = torch.Generator().manual_seed(11)
    args = []
    for spec in specs:
        if spec == "x":
            args.append(torch.randn(batch, dtype=torch.float64, generator=generator).to(device))
        elif isinstance(spec, str):
            args.append(torch.randn(batch, int(spec[2:]), dtype=torch.float64,
                                    generator=generator).to(device))
        else:
            args.append(1)
    return args


def tensors_in(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_in(v)]
    return []


@pytest.mark.parametrize("mode", ["relaxed", "hard"])
@pytest.mark.parametrize("function", [f for f in CASES if f not in RELAXED_ERRORS],
                         ids=lambda f: f.__name__)
def test_cuda_equals_cpu(function, mode):
    relaxed = relaxc.relax(function, beta=0.3, mode=mode, max_iter=40)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for device in ("cpu", "cuda"):
            args = arguments(CASES[function], 6, device)
            if mode == "relaxed":
                for a in args:
                    if isinstance(a, torch.Tensor):
                        a.requires_grad_(True)
            out = relaxed(*args)
            for t in tensors_in(out):
                assert t.device.type == device
            grads = []
            floats = [t for t in tensors_in(out) if t.is_floating_point() and t.requires_grad]
            if floats:
                total = sum(t.sum() for t in floats)
                leaves = [a for a in args if isinstance(a, torch.Tensor)]
                grads = torch.autograd.grad(total, leaves, allow_unused=True)
            results[device] = (out, grads)
    cpu, cuda = results["cpu"], results["cuda"]
    for i in range(6):
        assert flatten(instance(cuda[0], i)) == pytest.approx(flatten(instance(cpu[0], i)),
                                                             rel=1e-9, abs=1e-9)
    for g_cpu, g_cuda in zip(cpu[1], cuda[1]):
        if g_cpu is not None:
            torch.testing.assert_close(g_cuda.cpu(), g_cpu, rtol=1e-9, atol=1e-9)
