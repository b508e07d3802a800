"""Outputs handed from the sandbox to the judge: raw bytes plus a header the judge checks."""
import mmap
import os

import pytest
import torch

from kswarm_worker import exchange


def test_round_trip_keeps_dtype_shape_and_values(tmp_path):
    path = str(tmp_path / "x.bin")
    tensors = [torch.randn(3, 5), torch.tensor(2.5, dtype=torch.float64),
               torch.arange(7, dtype=torch.int16), torch.tensor([True, False, True]),
               torch.empty(0, 4), torch.randn(4, 6).t(),  # not contiguous
               torch.randn(5, dtype=torch.bfloat16), torch.randn(2, dtype=torch.complex64)]
    header = exchange.write(path, tensors)
    assert all(h["offset"] % 64 == 0 for h in header)
    back = exchange.read(path, header, "cpu")
    for a, b in zip(tensors, back):
        assert b.dtype == a.dtype and b.shape == a.shape and torch.equal(a, b)


def test_no_outputs_and_empty_outputs(tmp_path):
    path = str(tmp_path / "x.bin")
    assert exchange.read(path, exchange.write(path, []), "cpu") == []
    back = exchange.read(path, exchange.write(path, [torch.empty(0)]), "cpu")
    assert back[0].shape == (0,)


@pytest.mark.parametrize("header, why", [
    ("nope", "not a list"),
    ([{"dtype": "object", "shape": [1], "offset": 0}], "unknown dtype"),
    ([{"dtype": "float32", "shape": [-1], "offset": 0}], "malformed"),
    ([{"dtype": "float32", "shape": [4], "offset": 3}], "malformed"),
    ([{"dtype": "float32", "shape": [1 << 40], "offset": 0}], "outside the file"),
    ([{"dtype": "float32", "shape": [32], "offset": mmap.PAGESIZE - 64}], "outside the file"),
])
def test_a_malformed_header_is_refused_before_reading(tmp_path, header, why):
    path = str(tmp_path / "x.bin")
    exchange.write(path, [torch.zeros(4)])
    with pytest.raises(exchange.ExchangeError, match=why):
        exchange.read(path, header, "cpu")


def test_the_file_is_whole_pages_so_the_driver_can_pin_it(tmp_path):
    path = str(tmp_path / "x.bin")
    for n in (1, 100, mmap.PAGESIZE // 4 + 1):
        exchange.write(path, [torch.zeros(n), torch.zeros(3, dtype=torch.int8)])
        assert os.path.getsize(path) % mmap.PAGESIZE == 0
    exchange.forget()


@pytest.mark.parametrize("free_gib, cached_gib, reserve_gib, fits", [
    (10, 0, 0, True),     # 3 x 2 GiB and 1 GiB spare
    (6.9, 0, 0, False),   # no room for the next call's inputs and outputs beside the copy
    (5, 2, 0, True),      # what this process's allocator holds unused counts as free
    (10, 0, 3.5, False),  # the judge beside it may still need 3.5 GiB
    (10.5, 0, 3.5, True),
])
def test_a_copy_stays_on_the_device_only_with_room_left_for_the_judge(
        monkeypatch, free_gib, cached_gib, reserve_gib, fits):
    gib = 1 << 30
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda d: (int(free_gib * gib), 80 * gib))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda d: int(cached_gib * gib))
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda d: 0)
    assert exchange.fits_on_device(2 * gib, "cuda:0", int(reserve_gib * gib)) is fits


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(exchange.ExchangeError, match="no outputs file"):
        exchange.read(str(tmp_path / "none.bin"), [], "cpu")


def test_a_mapping_is_reused_across_trials_and_follows_a_new_size(tmp_path):
    path = str(tmp_path / "trial.bin")
    try:
        for n in (8, 8, 100, 3):
            t = torch.arange(n, dtype=torch.float32)
            assert torch.equal(exchange.read(path, exchange.write(path, [t]), "cpu")[0], t)
    finally:
        exchange.forget()


def test_the_device_transport_is_asked_for_only_on_cuda(tmp_path):
    # CPU tensors go through the file whatever the judge asks for.
    path = str(tmp_path / "x.bin")
    header = exchange.write(path, [torch.ones(3)], ipc=True)
    assert "ipc" not in header[0]
    assert torch.equal(exchange.read(path, header, "cpu")[0], torch.ones(3))


@pytest.mark.parametrize("header, device, why", [
    ([{"dtype": "float32", "shape": [1], "offset": 0, "ipc": "00" * 64},
      {"dtype": "float32", "shape": [1], "offset": 64, "ipc": "11" * 64}], "cuda:0",
     "exactly one device buffer"),
    ([{"dtype": "float32", "shape": [1], "offset": 0, "ipc": "00" * 64},
      {"dtype": "float32", "shape": [1], "offset": 64}], "cuda:0", "exactly one device buffer"),
    ([{"dtype": "float32", "shape": [1], "offset": 0, "ipc": 7}], "cuda:0",
     "exactly one device buffer"),
    ([{"dtype": "float32", "shape": [1], "offset": 0, "ipc": "00" * 64}], "cpu",
     "judge is not on CUDA"),
    (["not an object"], "cpu", "not an object"),
])
def test_a_device_buffer_header_is_refused_before_mapping(tmp_path, header, device, why):
    with pytest.raises(exchange.ExchangeError, match=why):
        exchange.read(str(tmp_path / "x.bin"), header, device)


def test_a_handle_that_cannot_be_mapped_is_an_exchange_error():
    # Here without a GPU the driver is missing; on a GPU a handle of zeros names no memory.
    with pytest.raises(exchange.ExchangeError, match="could not be mapped"):
        exchange.read("", [{"dtype": "uint8", "shape": [4], "offset": 0, "ipc": "00" * 64}],
                      "cuda:0")
