"""Shared fixtures: where the test corpora are, and helpers to find them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def pydicom_test_files() -> list[Path]:
    """pydicom's own test files (including charset_files), or [] when pydicom is absent."""
    try:
        import pydicom
    except ImportError:
        return []
    base = Path(pydicom.__file__).parent / "data"
    out = []
    for sub in ("test_files", "charset_files"):
        for p in sorted((base / sub).rglob("*")):
            if p.is_file() and p.suffix.lower() not in (".py", ".pyc", ".gz", ".bz2", ".json", ".txt", ".xml", ".md"):
                out.append(p)
    return out


def pydicom_data_files() -> list[Path]:
    """Files of the pydicom-data package, or [] when absent."""
    try:
        import data_store
    except ImportError:
        return []
    base = Path(data_store.__file__).parent / "data"
    return sorted(p for p in base.rglob("*") if p.is_file() and not p.name.endswith(".py"))


def corpus_files() -> list[Path]:
    """Files of ../shared/corpus, or [] when absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix == ".dcm")


def all_files() -> list[Path]:
    """Every test file of the three corpora."""
    return pydicom_test_files() + pydicom_data_files() + corpus_files()


def file_id(p: Path) -> str:
    """A short, stable id for a test file."""
    parts = p.parts
    for anchor in ("test_files", "charset_files", "data", "corpus"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return anchor + "/" + "/".join(parts[i + 1 :])
    return p.name


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus, or skip."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent (expected at {CORPUS})")
    return CORPUS


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"corpora: pydicom test files {len(pydicom_test_files())}, pydicom-data {len(pydicom_data_files())}, "
        f"shared corpus {len(corpus_files())} ({CORPUS if CORPUS.is_dir() else 'absent'})",
        f"cpu count: {os.cpu_count()}",
    ]
