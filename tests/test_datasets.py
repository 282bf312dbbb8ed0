"""The data registry, the verified downloader (mirror, checksum, corruption paths) and loaders."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from sparkcourse import datasets, registry

CSV = "user,item\n1,10\n2,10\n2,11\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty dataset cache and no mirror."""
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(registry.MIRROR_ENV, raising=False)
    return tmp_path / "cache"


def make_source(folder: Path, csv_text: str = CSV, md5: str | None = None) -> Path:
    """A published zip (tiny.zip with tiny/events.csv) and its .md5, like GroupLens serves."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("tiny/events.csv", csv_text)
        zipped.writestr("tiny/../../escape.txt", "never extracted")
    digest = md5 or hashlib.md5(archive.read_bytes()).hexdigest()
    (folder / "tiny.zip.md5").write_text(f"MD5 (tiny.zip) = {digest}\n")
    return archive


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Register a tiny downloadable dataset whose 'internet' is a local folder."""
    published = tmp_path / "published"
    make_source(published)
    entry = registry.Dataset(
        name="tiny", title="tiny", shipped=False, folder="tiny",
        files={"events.csv": None},
        expect={"events.csv": {"rows": 3, "distinct": {"user": 2}}},
        url=(published / "tiny.zip").as_uri(), md5_url=(published / "tiny.zip.md5").as_uri(),
    )
    real_get = registry.get
    monkeypatch.setattr(registry, "get", lambda name: entry if name == "tiny" else real_get(name))
    return published


def test_registry_entries_are_complete():
    known = registry.registry()
    assert {"penguins", "ml-latest-small"} <= set(known)
    for entry in known.values():
        assert entry.license and entry.citation and entry.source and entry.files
        if entry.shipped:
            assert all(entry.files.values()), f"{entry.name}: shipped files need a sha256"
        else:
            assert entry.url.startswith("https://") and entry.md5_url.startswith("https://")


def test_shipped_penguins_verify(home):
    folder = registry.fetch("penguins")
    assert (folder / "penguins.csv").exists()
    registry.verify_content(registry.get("penguins"), folder)


def test_changed_shipped_file_is_refused(tmp_path, monkeypatch, root):
    copy = tmp_path / "project"
    shutil.copytree(root / "datasets", copy / "datasets")
    with open(copy / "datasets" / "penguins" / "penguins.csv", "a") as handle:
        handle.write("Adelie,Dream,1,1,1,1,male,2009\n")
    monkeypatch.setattr(registry, "project_root", lambda: copy)
    with pytest.raises(registry.ChecksumError, match="git checkout"):
        registry.fetch("penguins")


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(registry.DatasetError, match="penguins"):
        registry.fetch("no-such-data")


def test_download_verifies_and_caches(home, tiny):
    folder = registry.fetch("tiny")
    assert (folder / "events.csv").read_text() == CSV
    manifest = json.loads((folder / registry.MANIFEST).read_text())
    assert manifest == {"events.csv": hashlib.sha256(CSV.encode()).hexdigest()}
    assert not (home / "escape.txt").exists() and not (home.parent / "escape.txt").exists()
    shutil.rmtree(tiny)  # the source is gone: the verified cache must serve
    assert registry.fetch("tiny") == folder
    assert sorted(p.name for p in home.iterdir()) == ["tiny"]  # no staging left behind


def test_damaged_cache_is_removed_and_fetched_again(home, tiny, capsys):
    folder = registry.fetch("tiny")
    (folder / "events.csv").write_text("user,item\n1,10\n")  # truncated behind our back
    again = registry.fetch("tiny")
    assert (again / "events.csv").read_text() == CSV
    assert "damaged or incomplete" in capsys.readouterr().err


def test_partial_folder_without_manifest_is_not_trusted(home, tiny):
    (home / "tiny").mkdir(parents=True)
    (home / "tiny" / "events.csv").write_text("user,item\n")
    assert (registry.fetch("tiny") / "events.csv").read_text() == CSV


def test_md5_mismatch_keeps_nothing(home, tiny):
    make_source(tiny, md5="0" * 32)
    with pytest.raises(registry.ChecksumError, match="MD5"):
        registry.fetch("tiny")
    assert list(home.iterdir()) == []


def test_wrong_content_is_refused(home, tiny):
    make_source(tiny, csv_text="user,item\n1,10\n")  # a valid zip with a valid md5, but short
    with pytest.raises(registry.DatasetError, match="1 rows instead of 3"):
        registry.fetch("tiny")
    assert list(home.iterdir()) == []


def test_not_a_zip_is_reported(home, tiny):
    (tiny / "tiny.zip").write_bytes(b"<html>404</html>")
    (tiny / "tiny.zip.md5").write_text(hashlib.md5(b"<html>404</html>").hexdigest())
    with pytest.raises(registry.ChecksumError, match="not a valid zip"):
        registry.fetch("tiny")


def test_unreachable_source_names_the_mirror_variable(home, tiny, monkeypatch):
    monkeypatch.setenv(registry.MIRROR_ENV, "http://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(registry.DatasetError, match=registry.MIRROR_ENV):
        registry.fetch("tiny")
    assert list(home.iterdir()) == []


def test_folder_mirror_with_zip(home, tiny, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny, mirror)
    shutil.rmtree(tiny)
    monkeypatch.setenv(registry.MIRROR_ENV, str(mirror))
    assert (registry.fetch("tiny") / "events.csv").read_text() == CSV


def test_folder_mirror_unpacked_with_sha256sums(home, tiny, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "tiny").mkdir(parents=True)
    (mirror / "tiny" / "events.csv").write_text(CSV)
    digest = hashlib.sha256(CSV.encode()).hexdigest()
    (mirror / "tiny.SHA256SUMS").write_text(f"{digest}  events.csv\n")
    monkeypatch.setenv(registry.MIRROR_ENV, str(mirror))
    assert (registry.fetch("tiny") / "events.csv").read_text() == CSV

    shutil.rmtree(home)
    (mirror / "tiny.SHA256SUMS").write_text(f"{'0' * 64}  events.csv\n")
    with pytest.raises(registry.ChecksumError, match="mirror copy is damaged"):
        registry.fetch("tiny")


def test_missing_mirror_folder_is_a_clear_error(home, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(registry.DatasetError, match="is not a folder"):
        registry.fetch("tiny")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(registry.MIRROR_ENV, str(tmp_path / "empty"))
    with pytest.raises(registry.DatasetError, match="holds neither tiny.zip nor tiny/"):
        registry.fetch("tiny")


def test_penguins_loader_has_explicit_types_and_nulls(spark):
    penguins = datasets.load_penguins(spark)
    assert penguins.schema.simpleString() == (
        "struct<species:string,island:string,bill_length_mm:double,bill_depth_mm:double,"
        "flipper_length_mm:int,body_mass_g:int,sex:string,year:int>")
    assert penguins.count() == 344
    assert penguins.filter("sex IS NULL").count() == 11


def _unpacked_mirror() -> Path | None:
    """The configured mirror's unpacked ml-latest-small folder, if that is what it holds."""
    mirror = os.environ.get(registry.MIRROR_ENV)
    if not mirror or "://" in mirror:
        return None
    folder = Path(mirror) / "ml-latest-small"
    return folder if folder.is_dir() and not (Path(mirror) / "ml-latest-small.zip").exists() else None


@pytest.mark.slow
def test_movielens_from_the_configured_source(spark, tmp_path, monkeypatch):
    """The real MovieLens path: GroupLens, or SPARKCOURSE_DATA_MIRROR when set (as in CI).

    The source must be the published data: exact counts, and the CSV files read as the download
    gives them (CRLF line endings) with no stray carriage return in the last column.
    """
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "cache"))
    folder = registry.fetch("ml-latest-small", progress=False)
    assert b"\r\n" in (folder / "ratings.csv").read_bytes()[:200], "the published files have CRLF line endings"
    ratings = datasets.load_ratings(spark)
    assert ratings.count() == 100_836
    assert ratings.select("userId").distinct().count() == 610
    assert ratings.select("movieId").distinct().count() == 9_724
    assert ratings.schema.simpleString() == "struct<userId:int,movieId:int,rating:float,timestamp:bigint>"
    assert ratings.where("timestamp IS NULL OR rating IS NULL").count() == 0
    movies = datasets.load_movies(spark)
    assert movies.count() == 9_742
    assert movies.filter("title IS NULL OR genres IS NULL").count() == 0
    assert movies.where(movies.genres.contains("\r") | movies.title.contains("\r")).count() == 0
    assert movies.where("movieId = 1").first().genres == "Adventure|Animation|Children|Comedy|Fantasy"


@pytest.fixture
def tampered_mirror(tmp_path):
    """A copy of the published mirror (or of the GroupLens download) to damage: never the mirror itself."""
    source = _unpacked_mirror()
    if source is None:
        source = registry.fetch("ml-latest-small", progress=False)
    copy = tmp_path / "mirror"
    (copy / "ml-latest-small").mkdir(parents=True)
    for name in registry.get("ml-latest-small").files:
        shutil.copyfile(source / name, copy / "ml-latest-small" / name)
    return copy


def _rewrite_sums(mirror: Path) -> None:
    """A mirror whose own SHA256SUMS agree with its (damaged) files: only the registry can tell."""
    folder = mirror / "ml-latest-small"
    lines = [f"{registry.sha256_file(p)}  {p.name}" for p in sorted(folder.iterdir())]
    (mirror / "ml-latest-small.SHA256SUMS").write_text("\n".join(lines) + "\n")


def _assert_refused(mirror: Path, cache: Path, monkeypatch, error: type, match: str) -> None:
    """Fetching from ``mirror`` raises ``error`` matching ``match`` and leaves the cache empty."""
    _rewrite_sums(mirror)
    monkeypatch.setenv(registry.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(registry.HOME_ENV, str(cache))
    with pytest.raises(error, match=match):
        registry.fetch("ml-latest-small", progress=False)
    assert list(cache.iterdir()) == []


def test_movielens_copy_with_an_extra_row_is_refused(tampered_mirror, tmp_path, monkeypatch):
    with open(tampered_mirror / "ml-latest-small" / "ratings.csv", "ab") as ratings:
        ratings.write(b"999,999999,5.0,1493846415\r\n")
    _assert_refused(tampered_mirror, tmp_path / "cache", monkeypatch, registry.DatasetError,
                    "100,837 rows instead of 100,836")


def test_movielens_copy_with_a_changed_value_is_refused(tampered_mirror, tmp_path, monkeypatch):
    """Same rows, users and movies, one rating changed: the counts pass, the published sha256 does not."""
    path = tampered_mirror / "ml-latest-small" / "ratings.csv"
    data = path.read_bytes()
    assert data.startswith(b"userId,movieId,rating,timestamp\r\n1,1,4.0,")
    path.write_bytes(data.replace(b"\r\n1,1,4.0,", b"\r\n1,1,1.0,", 1))
    _assert_refused(tampered_mirror, tmp_path / "cache", monkeypatch, registry.ChecksumError,
                    "ratings.csv is not the published file")


def test_ratings_loader_takes_a_users_own_file(spark, tmp_path):
    own = tmp_path / "my_ratings.csv"
    own.write_text("userId,movieId,rating,timestamp\n7,1,4.5,1700000000\n7,2,3.0,1700000100\n")
    rows = datasets.load_ratings(spark, own).orderBy("movieId").collect()
    assert [(r.userId, r.movieId, r.rating) for r in rows] == [(7, 1, 4.5), (7, 2, 3.0)]
