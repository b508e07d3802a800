"""How the sandbox hands tensors to the judge: raw bytes described by a small header (dtype, shape,
offset per tensor) that travels in the sandbox's reply. No pickling, no archive, no checksum pass.

Two transports. On CUDA, when the judge asks for it (`ipc`), the bytes stay on the device: the
sandbox copies them into device memory it exports through CUDA IPC (cuda_ipc.py) and every header
entry names the handle; the judge maps it once per job and copies out on the device. Otherwise
they go through a file under /dev/shm that both processes keep mapped for the whole job and, on
CUDA, register with the driver as pinned memory, so a trial's outputs cost one device-to-host and
one host-to-device DMA (2.5 ms each for 128 MiB on an H100, against 130 ms through pageable
memory). The judge treats the header as untrusted and checks every field against the bytes it can
reach (the file's size, or the mapped range the driver reports) before it reads one."""

import mmap
import os

import torch

from . import cuda_ipc

_ALIGN = 64
DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64,
    torch.complex128, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)}


class ExchangeError(ValueError):
    pass


class _Mapping:
    """One file mapped shared, as a uint8 tensor; pinned for DMA when CUDA is in use."""

    def __init__(self, path: str, size: int, create: bool):
        self.size = size
        self.fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
        try:
            if create:
                os.ftruncate(self.fd, size)
            self.mm = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise
        self.buf = torch.frombuffer(self.mm, dtype=torch.uint8)
        self.pinned = torch.cuda.is_available() and torch.cuda.is_initialized() and \
            cuda_ipc.host_register(self.buf.data_ptr(), size,
                                   torch.device("cuda", torch.cuda.current_device()))

    def close(self):
        if self.pinned:
            cuda_ipc.host_unregister(self.buf.data_ptr())
        del self.buf
        try:
            self.mm.close()
        except BufferError:  # a view still alive somewhere: unmapped when it is collected
            pass
        os.close(self.fd)


_mappings = {}  # path -> _Mapping, kept for the job
_exported = {}  # path -> cuda_ipc.Exported (the sandbox's), kept for the job
_retired = []  # exported buffers outgrown during the job: the judge may still map them
_imported = {}  # handle -> cuda_ipc.Imported (the judge's), kept for the job


def forget() -> None:
    """Unmaps every file and device buffer (a job ends); the files themselves belong to the
    judge's job folder."""
    for m in _mappings.values():
        m.close()
    _mappings.clear()
    for b in list(_imported.values()) + list(_exported.values()) + _retired:
        b.close()
    _imported.clear()
    _exported.clear()
    _retired.clear()


def probe_pattern(seed: int, device) -> torch.Tensor:
    """256 bytes that the sandbox sends through the device-buffer transport when a job loads; the
    judge uses the transport for the job only if they arrive intact."""
    return ((torch.arange(256, dtype=torch.int64) * 7 + seed) % 256).to(torch.uint8).to(device)


def fits_on_device(nbytes: int, device, reserve: int = 0) -> bool:
    """Whether one more copy of nbytes leaves the device room for two more of its size (the next
    call's inputs and outputs) and for `reserve` bytes (what the judge beside this process may
    still allocate): copies that would not are kept in host memory instead, so large outputs
    kept for the judge cannot take the device's last memory, the judge's included."""
    free = torch.cuda.mem_get_info(device)[0]
    free += torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return free >= 3 * nbytes + reserve + (1 << 30)


def _device_buffer(path: str, size: int, device: torch.device) -> cuda_ipc.Exported:
    b = _exported.get(path)
    if b is not None and b.size >= size:
        return b
    if b is not None:
        _retired.append(b)
    b = _exported[path] = cuda_ipc.Exported(-(-size // (2 << 20)) * (2 << 20), device)
    return b


def _mapping(path: str, size: int, create: bool) -> _Mapping:
    m = _mappings.get(path)
    if m is not None and m.size != size:
        m.close()
        del _mappings[path]
        m = None
    if m is None:
        m = _mappings[path] = _Mapping(path, size, create)
    return m


def destination(path: str, tensors, ipc: bool = False, reserve: int = 0):
    """Room for the tensors' bytes at `path`, or with `ipc` (every tensor on one CUDA device) in
    device memory exported for the judge where it fits (fits_on_device, with `reserve`), falling
    back to the file if it does not or the driver refuses:
    returns the header the reader needs and, per tensor, a view of its room shaped like it (a
    contiguous one) to copy into. With `ipc`, synchronize the device before the header leaves."""
    header, offset = [], 0
    for t in tensors:
        name = str(t.dtype).removeprefix("torch.")
        if name not in DTYPES:
            raise ExchangeError(f"outputs of dtype {t.dtype} are not supported")
        header.append({"dtype": name, "shape": list(t.shape), "offset": offset})
        offset += -(-t.numel() * t.element_size() // _ALIGN) * _ALIGN
    if offset == 0:
        with open(path, "wb"):
            pass
        return header, [torch.empty(t.shape, dtype=t.dtype) for t in tensors]
    devices = {t.device for t in tensors}
    device = devices.pop() if len(devices) == 1 else None
    buf = None
    if ipc and device is not None and device.type == "cuda" and \
            (path in _exported and _exported[path].size >= offset or
             fits_on_device(offset, device, reserve)):
        try:
            buf = _device_buffer(path, offset, device)
        except cuda_ipc.IpcError:
            buf = None
        if buf is not None:
            for h in header:
                h["ipc"] = buf.handle
    # Whole pages: the driver pins only page-aligned ranges.
    pages = -(-offset // mmap.PAGESIZE) * mmap.PAGESIZE
    dst = buf.tensor if buf is not None else _mapping(path, pages, create=True).buf
    views = [dst[h["offset"]:h["offset"] + t.numel() * t.element_size()].view(t.dtype)
             .view(t.shape) for t, h in zip(tensors, header)]
    return header, views


def write(path: str, tensors, ipc: bool = False, reserve: int = 0) -> list:
    """Writes the tensors' bytes (see destination); returns the header the reader needs."""
    header, views = destination(path, tensors, ipc, reserve)
    for v, t in zip(views, tensors):
        v.copy_(t.detach())
    if any("ipc" in h for h in header):
        torch.cuda.synchronize(views[0].device)  # the bytes are there before the reply
    return header


def _source(path: str, header: list, device: str):
    """The bytes the header describes, as a uint8 tensor: the mapped device buffer its entries
    name, or the file."""
    handles = {h.get("ipc") for h in header}
    if not header or handles == {None}:
        try:
            size = os.path.getsize(path)
        except OSError as e:
            raise ExchangeError(f"no outputs file ({e.strerror})")
        return None if size == 0 else _mapping(path, size, create=False).buf
    if len(handles) != 1 or not isinstance(next(iter(handles)), str):
        raise ExchangeError("the outputs do not name exactly one device buffer")
    if not str(device).startswith("cuda"):
        raise ExchangeError("outputs on a CUDA device buffer, but the judge is not on CUDA")
    handle = next(iter(handles))
    if handle not in _imported:
        try:
            _imported[handle] = cuda_ipc.Imported(handle, torch.device(device))
        except cuda_ipc.IpcError as e:
            raise ExchangeError(f"the device buffer could not be mapped ({e})")
    return _imported[handle].tensor


def read(path: str, header, device: str) -> list:
    """The tensors described by `header`, on `device`. ExchangeError for anything malformed."""
    if not isinstance(header, list):
        raise ExchangeError("the header is not a list")
    if not all(isinstance(h, dict) for h in header):
        raise ExchangeError("a header entry is not an object")
    src = _source(path, header, device)
    size = 0 if src is None else src.numel()
    specs = []
    for i, h in enumerate(header):
        if h.get("dtype") not in DTYPES:
            raise ExchangeError(f"output {i}: unknown dtype")
        shape, offset = h.get("shape"), h.get("offset")
        if (not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape)
                or type(offset) is not int or offset < 0 or offset % _ALIGN):
            raise ExchangeError(f"output {i}: malformed shape or offset")
        dtype = DTYPES[h["dtype"]]
        numel = 1
        for d in shape:
            numel *= d
        n = numel * torch.empty((), dtype=dtype).element_size()
        if offset + n > size:
            where = "the file" if h.get("ipc") is None else "the device buffer"
            raise ExchangeError(f"output {i}: {n} bytes at {offset} lie outside {where}")
        specs.append((dtype, shape, offset, n))
    if size == 0:
        return [torch.empty(shape, dtype=dtype, device=device) for dtype, shape, _, _ in specs]
    # Copies that own their memory: the sandbox writes the same bytes again next trial.
    return [src[offset:offset + n].view(dtype).reshape(shape).to(device, copy=True)
            for dtype, shape, offset, n in specs]
