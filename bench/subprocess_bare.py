"""Baseline: the parent-side CPU of spawning a program from asyncio, in its own process.

N runs of ``/bin/true`` at concurrency C through ``asyncio.create_subprocess_exec`` with
stdout/stderr piped and a new session, as a command check would run it (peer-bench's
``py_subprocess.py`` approach). CPU is this process's own (from /proc, children excluded), so
the figure is the daemon-side floor of a command check: fork/exec, pipes, reaping, the loop.

Usage: python bench/subprocess_bare.py [--n 500] [--c 10] [--cmd /bin/true]
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import time

from procs import cpu_seconds


async def spawn_all(n: int, concurrency: int, argv: list[str]) -> int:
    left = n
    failures = 0

    async def worker() -> None:
        nonlocal left, failures
        while left > 0:
            left -= 1
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            await proc.communicate()
            failures += proc.returncode != 0

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--cmd", default="/bin/true")
    args = parser.parse_args()
    pid = os.getpid()
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    failures = asyncio.run(asyncio.wait_for(spawn_all(args.n, args.c, shlex.split(args.cmd)), timeout=120))
    cpu1, wall1 = cpu_seconds(pid), time.perf_counter()
    print(
        json.dumps(
            {
                "n": args.n,
                "c": args.c,
                "failures": failures,
                "spawns_per_s": args.n / (wall1 - wall0),
                "cpu_ms_per_spawn": 1000 * (cpu1 - cpu0) / args.n,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
