"""The checks' findings as the worker reports them: {"check": name, "detail": sentence}
(docs/worker_protocol.md, "Flags"). kswarm decides by the check's name alone; a finding of
reduced precision labels a candidate, any other one forbids keeping it."""

STATIC = "static"                   # the static check, under the report policy
STATE = "state"                     # a mode, hook or trace function the candidate left active
REDUCED_PRECISION = "reduced_precision"
DEGENERATE_PROBLEM = "degenerate_problem"
SPEED_OF_LIGHT = "speed_of_light"
CHECKS = (STATIC, STATE, REDUCED_PRECISION, DEGENERATE_PROBLEM, SPEED_OF_LIGHT)


def flag(check: str, detail: str) -> dict:
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}")
    return {"check": check, "detail": detail}


def is_flag(value) -> bool:
    """Whether `value` is a finding as the sandbox must send it."""
    return isinstance(value, dict) and set(value) == {"check", "detail"} and \
        value["check"] in CHECKS and isinstance(value["detail"], str)
