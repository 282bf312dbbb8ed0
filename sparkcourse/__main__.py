"""Command line: ``python -m sparkcourse doctor | java [--ensure|--install] | warmup | workspace``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="print versions, memory and cores, and what is wrong")
    java = sub.add_parser("java", help="show the Java Spark will use")
    java.add_argument("--ensure", action="store_true", help="fetch a JDK into .jdk/ if none fits")
    java.add_argument("--install", action="store_true", help="fetch a JDK into .jdk/ now")
    warm = sub.add_parser("warmup", help="build the JVM class-data archive (faster Spark start)")
    warm.add_argument("--force", action="store_true")
    space = sub.add_parser("workspace", help="copy new lessons from course/ into the learner workspace")
    space.add_argument("--target", default=None)
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from sparkcourse.doctor import report

        text, problems = report()
        print(text)
        return 1 if problems else 0
    if args.command == "java":
        from sparkcourse import java as javamod

        try:
            if args.install:
                found = javamod.install_local_jdk()
            elif args.ensure:
                found = javamod.ensure_java()
            else:
                found = javamod.find_java()
        except javamod.JavaError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"Java for Spark: {found.describe()}")
        return 0
    if args.command == "warmup":
        from sparkcourse.java import JavaError
        from sparkcourse.warmup import build_cds_archive

        try:
            build_cds_archive(force=args.force)
        except JavaError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    if args.command == "workspace":
        from sparkcourse.workspace import sync_workspace

        for line in sync_workspace(args.target):
            print(line)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
