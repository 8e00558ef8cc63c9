"""The ``fxsim`` command (also ``python -m fxsim``).

Exit codes: 0 ok, 1 a comparison failed the user's threshold, 2 usage or input error (a
one-line message naming the file, flag or tensor; no traceback).
"""

import argparse
import sys

from .errors import FxsimError


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="fxsim",
        description="Bit-exact fixed-point simulation of quantized neural networks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo = sub.add_parser(
        "demo",
        help="run the embedded end-to-end example (no files needed)",
        description="Quantize a small two-layer network, run it with the integer arithmetic "
        "of several targets, and show how far each is from the float model.",
    )
    demo.add_argument("--samples", type=int, default=512, help="input samples to run (default 512)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the example's weights and data")
    return parser


def main(argv=None):
    """Entry point of the ``fxsim`` console script; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            from .demo import run_demo

            if args.samples < 1:
                raise FxsimError(f"--samples must be >= 1, got {args.samples}")
            print(run_demo(samples=args.samples, seed=args.seed))
            return 0
    except FxsimError as err:
        print(f"fxsim {args.command}: error: {err}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
