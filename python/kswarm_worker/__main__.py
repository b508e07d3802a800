"""Entry point: python3 -m kswarm_worker --device cuda|cpu [--index N]."""

import argparse
import os
import sys

from .server import serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], required=True,
                        help="auto: cuda when torch can use it, else cpu")
    parser.add_argument("--index", type=int, default=0, help="CUDA device index")
    args = parser.parse_args()

    # Keep the protocol on private descriptors; point fd 0 at /dev/null and fd 1 at stderr so that
    # candidate code (Python or C) can neither read requests nor write into the reply stream.
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    device = args.device
    if device == "auto":
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return serve(proto_in, proto_out, device, args.index)


if __name__ == "__main__":
    sys.exit(main())
