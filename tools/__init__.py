"""The course's own tools, run from the project root as a package: ``python -m tools.release``.

``tools/bootstrap.py`` alone also runs as a plain script (it is the first thing a fresh machine
runs, before any environment exists), and uses the standard library only.
"""

from pathlib import Path

#: The project root: the folder holding solutions/, course/, sparkcourse/ and this package.
ROOT = Path(__file__).resolve().parent.parent
