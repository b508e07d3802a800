"""Device memory that the sandbox exports and the judge maps, through CUDA IPC (the driver API,
called with ctypes), so a trial's outputs cross from one process to the other as two copies on the
device instead of a round trip through host memory. exchange.py uses it when the judge asks for it
and a probe at load time has shown it works; otherwise outputs go through files as before.

The sandbox allocates these buffers itself (cuMemAlloc, outside torch's caching allocator, so a
handle covers exactly one buffer). The judge treats a handle as untrusted: it opens it, asks the
driver for the mapped range, and reads only inside it."""

import ctypes

import torch

HANDLE_BYTES = 64
_LAZY_ENABLE_PEER_ACCESS = 1


class IpcError(RuntimeError):
    pass


class _Handle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_ubyte * HANDLE_BYTES)]


_lib = None


def _driver():
    global _lib
    if _lib is None:
        try:
            lib = ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            raise IpcError(f"no CUDA driver library ({e})")
        ptr, size = ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_size_t)
        for name, args in (("cuCtxGetCurrent", [ctypes.POINTER(ctypes.c_void_p)]),
                           ("cuMemAlloc_v2", [ptr, ctypes.c_size_t]),
                           ("cuMemFree_v2", [ctypes.c_uint64]),
                           ("cuIpcGetMemHandle", [ctypes.POINTER(_Handle), ctypes.c_uint64]),
                           ("cuIpcOpenMemHandle_v2", [ptr, _Handle, ctypes.c_uint]),
                           ("cuIpcCloseMemHandle", [ctypes.c_uint64]),
                           ("cuMemGetAddressRange_v2", [ptr, size, ctypes.c_uint64]),
                           ("cuMemHostRegister_v2", [ctypes.c_void_p, ctypes.c_size_t,
                                                     ctypes.c_uint]),
                           ("cuMemHostUnregister", [ctypes.c_void_p])):
            fn = getattr(lib, name, None)
            if fn is None:
                raise IpcError(f"the CUDA driver has no {name}")
            fn.argtypes, fn.restype = args, ctypes.c_int
        _lib = lib
    return _lib


def _check(rc: int, what: str):
    if rc != 0:
        raise IpcError(f"{what} failed (CUresult {rc})")


def _enter(device: torch.device):
    """Makes the device's primary context (torch's) current on this thread for driver calls."""
    torch.cuda.set_device(device)
    torch.cuda.synchronize(device)
    ctx = ctypes.c_void_p()
    _check(_driver().cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
    if not ctx.value:
        raise IpcError("no current CUDA context")


def host_register(ptr: int, size: int, device: torch.device) -> bool:
    """Pins host memory for DMA; False where the driver refuses. Through the driver API: the
    runtime's cudaHostRegister leaves a refusal as the thread's last error, which PyTorch's next
    kernel launch check then raises as its own ("invalid argument")."""
    try:
        _enter(device)
        return _driver().cuMemHostRegister_v2(ptr, size, 0) == 0
    except IpcError:
        return False


def host_unregister(ptr: int) -> None:
    _driver().cuMemHostUnregister(ptr)


class _Raw:
    """A device range as __cuda_array_interface__, for a zero-copy uint8 tensor over it."""

    def __init__(self, ptr: int, size: int):
        self.__cuda_array_interface__ = {"shape": (size,), "typestr": "|u1",
                                         "data": (ptr, False), "version": 2}


def _tensor(ptr: int, size: int, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(_Raw(ptr, size), device=device)


class Exported:
    """The sandbox's side: `size` bytes of device memory and the handle that names them."""

    def __init__(self, size: int, device: torch.device):
        lib = _driver()
        _enter(device)
        ptr = ctypes.c_uint64()
        _check(lib.cuMemAlloc_v2(ctypes.byref(ptr), size), "cuMemAlloc")
        handle = _Handle()
        rc = lib.cuIpcGetMemHandle(ctypes.byref(handle), ptr.value)
        if rc != 0:
            lib.cuMemFree_v2(ptr.value)
            _check(rc, "cuIpcGetMemHandle")
        self.ptr, self.size = ptr.value, size
        self.handle = bytes(handle.reserved).hex()
        self.tensor = _tensor(self.ptr, size, device)

    def close(self):
        self.tensor = None
        if self.ptr:
            _driver().cuMemFree_v2(self.ptr)
            self.ptr = 0


class Imported:
    """The judge's side: a handle from the sandbox, mapped; `size` is what the driver says the
    mapping holds, not what the sandbox claims."""

    def __init__(self, handle_hex: str, device: torch.device):
        try:
            raw = bytes.fromhex(handle_hex)
        except (TypeError, ValueError):
            raise IpcError("the handle is not hex")
        if len(raw) != HANDLE_BYTES:
            raise IpcError(f"the handle has {len(raw)} bytes, not {HANDLE_BYTES}")
        lib = _driver()
        _enter(device)
        ptr = ctypes.c_uint64()
        _check(lib.cuIpcOpenMemHandle_v2(ctypes.byref(ptr), _Handle.from_buffer_copy(raw),
                                         _LAZY_ENABLE_PEER_ACCESS), "cuIpcOpenMemHandle")
        base, size = ctypes.c_uint64(), ctypes.c_size_t()
        rc = lib.cuMemGetAddressRange_v2(ctypes.byref(base), ctypes.byref(size), ptr.value)
        if rc != 0:
            lib.cuIpcCloseMemHandle(ptr.value)
            _check(rc, "cuMemGetAddressRange")
        self.ptr = ptr.value
        self.size = size.value - (ptr.value - base.value)
        self.tensor = _tensor(self.ptr, self.size, device)

    def close(self):
        self.tensor = None
        if self.ptr:
            _driver().cuIpcCloseMemHandle(self.ptr)
            self.ptr = 0
