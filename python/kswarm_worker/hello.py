"""What the worker reports about itself, its libraries and its device."""

import glob
import os
import platform
import subprocess

import torch

from . import WORKER_VERSION


def backend_flags() -> dict:
    """PyTorch's backend settings as found; the worker never changes them."""
    return {
        "cudnn_enabled": torch.backends.cudnn.enabled,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "matmul_allow_fp16_reduced_precision_reduction":
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "num_threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
    }


def restore_backend_flags(flags: dict) -> None:
    """Puts back flags a candidate may have changed, so the next job sees PyTorch's defaults."""
    torch.backends.cudnn.enabled = flags["cudnn_enabled"]
    torch.backends.cudnn.benchmark = flags["cudnn_benchmark"]
    torch.backends.cudnn.deterministic = flags["cudnn_deterministic"]
    torch.backends.cudnn.allow_tf32 = flags["cudnn_allow_tf32"]
    torch.backends.cuda.matmul.allow_tf32 = flags["matmul_allow_tf32"]
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = \
        flags["matmul_allow_fp16_reduced_precision_reduction"]
    torch.set_float32_matmul_precision(flags["float32_matmul_precision"])
    torch.backends.mkldnn.enabled = flags["mkldnn_enabled"]
    torch.set_num_threads(flags["num_threads"])
    torch.use_deterministic_algorithms(flags["deterministic_algorithms"])


def cpu_llc_bytes() -> int:
    """Size of the largest CPU cache level, from sysfs; 0 when unknown."""
    best_level, best_bytes = -1, 0
    for d in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
        try:
            with open(os.path.join(d, "level")) as f:
                level = int(f.read())
            with open(os.path.join(d, "size")) as f:
                text = f.read().strip()
        except OSError:
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        size = int(text.rstrip("KMG")) * mult
        if level > best_level:
            best_level, best_bytes = level, size
    return best_bytes


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_driver(index: int):
    try:
        import pynvml  # nvidia-ml-py, where installed
        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else version
    except Exception:
        pass
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", "-i", str(index)],
            capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[0]
    except Exception:
        pass
    return None


def device_info(device: str, index: int) -> dict:
    if device == "cuda":
        props = torch.cuda.get_device_properties(index)
        return {
            "type": "cuda", "name": props.name, "index": index,
            "uuid": str(getattr(props, "uuid", "")) or None,  # which of a host's GPUs
            "driver": _nvidia_driver(index),
            "capability": f"{props.major}.{props.minor}",
            "sm_count": props.multi_processor_count,
            "memory_bytes": props.total_memory,
            "l2_bytes": props.L2_cache_size,
        }
    return {"type": "cpu", "name": _cpu_name(), "threads": torch.get_num_threads(),
            "llc_bytes": cpu_llc_bytes()}


def hello(device: str, index: int) -> dict:
    from .errors import require_device
    require_device(device)
    try:
        import triton
        triton_version = triton.__version__
    except Exception:
        triton_version = None
    from . import buildcache, containment
    info = device_info(device, index)
    contained, _ = containment.probe()
    return {
        "worker_version": WORKER_VERSION,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "triton": triton_version,
        "device": info,
        "backend_flags": backend_flags(),
        "build_arch": buildcache.arch_of(device, info.get("capability", "")),
        "device_count": torch.cuda.device_count() if device == "cuda" else 1,
        "contained": contained,
        "isolation": containment.isolation(),
    }
