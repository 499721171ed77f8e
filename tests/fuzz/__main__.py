"""`python -m tests.fuzz [--cases N] [--seed S]`: run fuzz cases and list what is wrong.

`--cases 0` runs until interrupted. Each case is reproducible from (seed, index):
`python -m tests.fuzz --seed S --start I --cases 1 -v`."""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from collections import Counter

from tests.fuzz.cases import judge, make_case

# Bounds the address space, so that a model asking for terabytes fails inside this process
# instead of taking the machine down.
ADDRESS_SPACE = 16 << 30


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=300, help="0: until interrupted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    stop = None if args.cases == 0 else args.start + args.cases
    findings: list[tuple[str, str]] = []
    kinds: Counter[str] = Counter()
    began = time.monotonic()
    done = 0
    indices = itertools.count(args.start) if stop is None else range(args.start, stop)
    try:
        for index in indices:
            case = make_case(args.seed, index)
            verdict = judge(case)
            done += 1
            kinds[case.command.value] += 1
            if args.verbose or verdict is not None:
                print(f"{case.describe()}: {verdict or 'ok'}", flush=True)
            if verdict is not None:
                findings.append((case.describe(), verdict))
            if done % 100 == 0:
                print(
                    f"{done} cases, {len(findings)} findings, {time.monotonic() - began:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    except KeyboardInterrupt:
        pass
    seconds = time.monotonic() - began
    mix = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    print(f"{done} cases (seed {args.seed}; {mix}) in {seconds:.0f} s: {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
