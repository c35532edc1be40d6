"""Command line: ``python -m bookbuild build|preview``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .build import BuildOptions, build, fail
from .context import FORMATS
from .errors import BuildError
from .progress import TRACE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bookbuild", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build every output into _book/")
    build_cmd.add_argument("--refresh", action="store_true", help="ignore every cache")
    build_cmd.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    build_cmd.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="documents executed in parallel (default: the number of cores)",
    )  # fmt: skip
    build_cmd.add_argument(
        "--formats", default=",".join(FORMATS),
        help=f"comma-separated outputs to build (default: all of {','.join(FORMATS)})",
    )  # fmt: skip
    build_cmd.add_argument("--trace", type=Path, help="write every engine call's time (JSON)")
    build_cmd.add_argument("--quiet", action="store_true", help="no progress lines")
    preview = commands.add_parser("preview", help="serve _book/ and rebuild on change")
    preview.add_argument("--port", type=int, default=4321)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            options = BuildOptions(
                refresh=args.refresh,
                timeout=args.timeout,
                jobs=max(1, args.jobs),
                formats=frozenset(f.strip() for f in args.formats.split(",") if f.strip()),
                quiet=args.quiet,
            )
            try:
                build(args.root, options)
            finally:
                if args.trace is not None:
                    TRACE.write(args.trace)
        else:
            from .preview import serve

            serve(args.root, args.port)
    except BuildError as error:
        return fail(error)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
