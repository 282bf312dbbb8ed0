"""The course's data registry (``datasets/registry.json``) and its verified downloader, :func:`fetch`.

Lessons load data through :mod:`sparkcourse.datasets`, which calls :func:`fetch`.

- Shipped data (license allows it) lives in ``datasets/`` and is checked against its sha256.
- Other data (MovieLens) is fetched once into a cache outside git: from GroupLens, verified
  against the ``.md5`` published beside the zip, then by content (row, user and movie counts) and
  against the sha256 of each published file in the registry.
- ``SPARKCOURSE_DATA_MIRROR`` points the downloader at a local folder or a URL instead; a folder
  may hold the zip (and its ``.md5``) or the unpacked folder (and a ``NAME.SHA256SUMS``).
- ``SPARKCOURSE_DATA_HOME`` moves the cache (default ``~/.cache/sparkcourse/datasets``).

A damaged or partial copy is detected, removed and reported; it is never loaded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sparkcourse.paths import cache_dir, project_root

MIRROR_ENV = "SPARKCOURSE_DATA_MIRROR"
HOME_ENV = "SPARKCOURSE_DATA_HOME"
MANIFEST = ".verified.json"


class DatasetError(RuntimeError):
    """A dataset could not be found, fetched or trusted; the message says what to do."""


class ChecksumError(DatasetError):
    """A file's bytes are not the published ones."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    shipped: bool
    folder: str
    files: dict = field(default_factory=dict)  # file name -> sha256 of the published file (None: content only)
    expect: dict = field(default_factory=dict)  # file name -> {"rows": n, "distinct": {col: n}}
    url: str | None = None
    md5_url: str | None = None
    source: str = ""
    license: str = ""
    citation: str = ""

    @property
    def archive_name(self) -> str:
        return self.url.rsplit("/", 1)[-1] if self.url else f"{self.folder}.zip"


def registry(path: Path | None = None) -> dict[str, Dataset]:
    """Every dataset the course knows, by name."""
    path = path or project_root() / "datasets" / "registry.json"
    raw = json.loads(Path(path).read_text())
    return {name: Dataset(name=name, **entry) for name, entry in raw.items()}


def get(name: str) -> Dataset:
    known = registry()
    if name not in known:
        raise DatasetError(f"Unknown dataset {name!r}; known: {', '.join(sorted(known))}.")
    return known[name]


def data_home() -> Path:
    home = os.environ.get(HOME_ENV)
    if home:
        path = Path(home).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return cache_dir("datasets")


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    return _digest(path, "sha256")


def verify_published(dataset: Dataset, folder: Path) -> None:
    """Every file with a sha256 in the registry has exactly the published bytes (line endings included)."""
    for name, expected in dataset.files.items():
        if expected and sha256_file(folder / name) != expected:
            raise ChecksumError(
                f"{dataset.name}: {name} is not the published file (its sha256 differs from "
                "datasets/registry.json): the copy was changed, converted or truncated. Nothing was kept; "
                f"fetch it again from {dataset.source or 'its source'} or fix the mirror."
            )


def verify_content(dataset: Dataset, folder: Path) -> None:
    """Check row counts and distinct counts of the parsed CSV files (catches truncation)."""
    for name, expected in dataset.expect.items():
        path = folder / name
        if not path.exists():
            raise DatasetError(f"{dataset.name}: {name} is missing from {folder}.")
        rows, distinct = 0, {column: set() for column in expected.get("distinct", {})}
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    rows += 1
                    for column, values in distinct.items():
                        values.add(row[column])
        except (csv.Error, UnicodeDecodeError, KeyError) as exc:
            raise DatasetError(f"{dataset.name}: {name} does not parse as expected ({exc!r}).") from exc
        problems = []
        if rows != expected["rows"]:
            problems.append(f"{rows:,} rows instead of {expected['rows']:,}")
        for column, count in expected.get("distinct", {}).items():
            if len(distinct[column]) != count:
                problems.append(f"{len(distinct[column]):,} distinct {column} instead of {count:,}")
        if problems:
            raise DatasetError(
                f"{dataset.name}: {name} has {', '.join(problems)}: the file is incomplete or "
                "not the published version."
            )


def _download(url: str, dest: Path, progress: bool) -> None:
    """Download ``url`` to ``dest`` (via ``dest.part``; a failed download leaves nothing)."""
    partial = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            show = progress and url.startswith(("http://", "https://"))
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                done += len(block)
                if show and total:
                    bar = "#" * int(30 * done / total)
                    print(f"\r{dest.name}: [{bar:<30}] {done / 2**20:.1f}/{total / 2**20:.1f} MiB",
                          end="", file=sys.stderr, flush=True)
            if show and total:
                print(file=sys.stderr)
        os.replace(partial, dest)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"Could not download {url}: {getattr(exc, 'reason', exc)}.\n"
            f"Check the internet connection, or set {MIRROR_ENV} to a folder that holds the "
            "zip (or the unpacked folder)."
        ) from exc


def _expected_md5(text: str, what: str) -> str:
    match = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if not match:
        raise DatasetError(f"No MD5 checksum found in {what}.")
    return match.group(0).lower()


def _extract(dataset: Dataset, archive: Path, staging: Path) -> None:
    """Unpack only the registry's files (never paths chosen by the archive)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = {Path(m).name: m for m in zipped.namelist() if not m.endswith("/")}
            for name in dataset.files:
                if name not in members:
                    raise DatasetError(f"{dataset.name}: {archive.name} has no {name}.")
                with zipped.open(members[name]) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as exc:
        raise ChecksumError(f"{dataset.name}: {archive} is not a valid zip ({exc}).") from exc


def _from_zip(dataset: Dataset, archive_url: str, md5_url: str | None, staging: Path, progress: bool) -> None:
    archive = staging / dataset.archive_name
    _download(archive_url, archive, progress)
    if md5_url is not None:
        md5_file = staging / "archive.md5"
        _download(md5_url, md5_file, progress=False)
        expected = _expected_md5(md5_file.read_text(errors="replace"), md5_url)
        actual = _digest(archive, "md5")
        md5_file.unlink()
        if actual != expected:
            raise ChecksumError(
                f"{dataset.name}: {archive_url} has MD5 {actual}, but {expected} was published: "
                "the download is damaged or incomplete. Nothing was kept; run again."
            )
    _extract(dataset, archive, staging)
    archive.unlink()


def _from_folder_mirror(dataset: Dataset, mirror: Path, staging: Path, progress: bool) -> None:
    archive = mirror / dataset.archive_name
    if archive.exists():
        md5 = archive.with_name(archive.name + ".md5")
        _from_zip(dataset, archive.as_uri(), md5.as_uri() if md5.exists() else None, staging, progress)
        return
    unpacked = mirror / dataset.folder
    if not unpacked.is_dir():
        raise DatasetError(
            f"{MIRROR_ENV}={mirror} holds neither {dataset.archive_name} nor {dataset.folder}/."
        )
    sums_file = mirror / f"{dataset.folder}.SHA256SUMS"
    sums = {}
    if sums_file.exists():
        for line in sums_file.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0].lower()
    for name in dataset.files:
        source = unpacked / name
        if not source.exists():
            raise DatasetError(f"{dataset.name}: the mirror {unpacked} has no {name}.")
        shutil.copyfile(source, staging / name)
        if name in sums and sha256_file(staging / name) != sums[name]:
            raise ChecksumError(
                f"{dataset.name}: {source} does not match its sha256 in {sums_file.name}; "
                "the mirror copy is damaged."
            )


def _obtain(dataset: Dataset, staging: Path, progress: bool) -> None:
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        _from_zip(dataset, dataset.url, dataset.md5_url, staging, progress)
    elif re.match(r"^[a-z][a-z0-9+.-]*://", mirror):
        base = mirror.rstrip("/")
        archive_url = f"{base}/{dataset.archive_name}"
        _from_zip(dataset, archive_url, archive_url + ".md5", staging, progress)
    else:
        folder = Path(mirror).expanduser()
        if not folder.is_dir():
            raise DatasetError(f"{MIRROR_ENV}={mirror} is not a folder (or a URL).")
        _from_folder_mirror(dataset, folder, staging, progress)


def _check_shipped(dataset: Dataset) -> Path:
    folder = project_root() / "datasets" / dataset.folder
    for name, expected in dataset.files.items():
        path = folder / name
        if not path.exists():
            raise DatasetError(f"{dataset.name}: {path} is missing; restore it with: git checkout -- {path}")
        if expected and sha256_file(path) != expected:
            raise ChecksumError(
                f"{dataset.name}: {path} was changed (its sha256 differs from the registry); "
                f"restore it with: git checkout -- {path}"
            )
    return folder


def _cached_copy_ok(folder: Path) -> bool:
    try:
        recorded = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return all((folder / name).exists() and sha256_file(folder / name) == sha for name, sha in recorded.items())


def fetch(name: str, progress: bool = True) -> Path:
    """The folder holding dataset ``name``, verified; downloads it into the cache the first time."""
    dataset = get(name)
    if dataset.shipped:
        return _check_shipped(dataset)
    target = data_home() / dataset.folder
    if target.exists():
        if _cached_copy_ok(target):
            return target
        print(f"The cached copy of {name} in {target} is damaged or incomplete: removed it, fetching again.",
              file=sys.stderr)
        shutil.rmtree(target)
    staging = data_home() / f".{dataset.folder}.{os.getpid()}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _obtain(dataset, staging, progress)
        verify_content(dataset, staging)
        verify_published(dataset, staging)
        manifest = {n: sha256_file(staging / n) for n in dataset.files}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        try:
            os.rename(staging, target)
        except OSError:  # another process finished first: keep theirs if it is sound
            if not _cached_copy_ok(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
