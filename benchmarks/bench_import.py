"""Import cost of the command line: ``ganlimits list`` and ``ganlimits --help`` against ``python -c "import torch"``.

Both are whole processes started the same way, interleaved over several rounds in one run; the script prints the
median wall time of each and the ratio (target: ``list`` below 0.6 of ``import torch``). It also checks, in a fresh
interpreter, that importing the CLI and running ``list`` loaded neither torch nor sympy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

ROUNDS = 9
COMMANDS = {
    "ganlimits list": [sys.executable, "-m", "ganlimits.verify._cli", "list"],
    "ganlimits --help": [sys.executable, "-m", "ganlimits.verify._cli", "--help"],
    "import torch": [sys.executable, "-c", "import torch"],
}
PROBE = ("import sys, contextlib, io\n"
         "from ganlimits.verify._cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n"
         "    main(['list'])\n"
         "print('torch' in sys.modules, 'sympy' in sys.modules)")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    for cmd in COMMANDS.values():  # warm the file cache once
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(ROUNDS):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, v in med.items():
        print(f"{name:<18} median {v * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f}, max "
              f"{max(times[name]) * 1000:.1f}; {ROUNDS} rounds)")
    print(f"ratio list / import torch:   {med['ganlimits list'] / med['import torch']:.3f}  (target < 0.6)")
    print(f"ratio --help / import torch: {med['ganlimits --help'] / med['import torch']:.3f}")
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout.split()
    print(f"after `list`: torch imported {out[0]}, sympy imported {out[1]}")


if __name__ == "__main__":
    main()
