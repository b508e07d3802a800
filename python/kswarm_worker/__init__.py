"""kswarm worker: the only part of kswarm that imports PyTorch.

Speaks the JSON-lines protocol of docs/worker_protocol.md on stdin/stdout.
"""

PROTOCOL_VERSION = 1
WORKER_VERSION = "0.5.0"
