"""Command line: ``python -m bookbuild build|preview``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import BuildOptions, build, fail
from .errors import BuildError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bookbuild", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build every output into _book/")
    build_cmd.add_argument("--refresh", action="store_true", help="ignore the freeze cache")
    build_cmd.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    build_cmd.add_argument("--jobs", type=int, default=2, help="chapters executed in parallel")
    preview = commands.add_parser("preview", help="serve _book/ and rebuild on change")
    preview.add_argument("--port", type=int, default=4321)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(
                args.root, BuildOptions(refresh=args.refresh, timeout=args.timeout, jobs=args.jobs)
            )
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
