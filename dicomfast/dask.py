"""Scan archives on a Dask cluster: the file list is walked once, each partition scanned by the Rust scanner.

>>> from dicomfast import dask as dfdask  # doctest: +SKIP
>>> ddf = dfdask.scan("/archive", tags=["PatientID", "StudyDate"], files_per_partition=20_000)  # doctest: +SKIP
>>> ddf.to_parquet("index/")  # doctest: +SKIP

The walk runs on the client (in Rust, with the GIL released) and its errors (broken links, loops, directories
that cannot be listed) travel with the file list, so the cluster's table has the same rows as
:func:`dicomfast.scan`: one per file, in the same order. Columns keep their Arrow types through
``pandas.ArrowDtype``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from dicomfast import _native
from dicomfast.scan import TagsArg, _paths, _tags, scan_batches, schema

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["scan"]


def _to_pandas(table: Any) -> pd.DataFrame:
    import pandas as pd

    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _scan_partition(
    entries: list[tuple[str, str | None]],
    tags: list[tuple[str | None, str]],
    keep_raw: bool,
    threads: int | None,
    force: bool = False,
) -> pd.DataFrame:
    """Scan one partition's files (run on a worker)."""
    import pyarrow as pa

    named = {name: spec for name, spec in tags if name is not None}
    tag_arg: Any = named if len(named) == len(tags) and tags else [spec for _, spec in tags]
    batches = list(
        scan_batches([], tag_arg, threads=threads, keep_raw=keep_raw, force=force, batch_size=65536, _entries=entries)
    )
    return _to_pandas(pa.Table.from_batches(batches))


def scan(
    paths: Any,
    tags: TagsArg | None = None,
    *,
    files_per_partition: int = 10_000,
    recursive: bool = True,
    follow_symlinks: bool = False,
    pattern: str | None = None,
    keep_raw: bool = False,
    force: bool = False,
    threads: int | None = None,
) -> dd.DataFrame:
    """Scan files and directories into a Dask DataFrame, one partition per ``files_per_partition`` files.

    Parameters
    ----------
    paths, tags, recursive, follow_symlinks, pattern, keep_raw, force
        As for :func:`dicomfast.scan`; the paths must be readable from the workers.
    files_per_partition : int
        Files per partition (each partition is one task).
    threads : int, optional
        Scan threads per task (default: every core of the worker).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``.compute()`` gives a pandas DataFrame with ``ArrowDtype`` columns, ``.to_parquet(...)``
        writes the index through Dask.
    """
    import dask.dataframe as dd

    if files_per_partition < 1:
        raise ValueError(f"files_per_partition must be at least 1, not {files_per_partition}")
    entries = [(os.fsdecode(p), e) for p, e in _native.list_files(_paths(paths), recursive, follow_symlinks, pattern)]
    chunks = [entries[i : i + files_per_partition] for i in range(0, len(entries), files_per_partition)] or [[]]
    spec = _tags(tags)
    meta = _to_pandas(schema(tags, keep_raw=keep_raw).empty_table())
    return dd.from_map(
        _scan_partition,
        chunks,
        tags=spec,
        keep_raw=keep_raw,
        threads=threads,
        force=force,
        meta=meta,
        label="dicomfast-scan",
        enforce_metadata=False,
    )
