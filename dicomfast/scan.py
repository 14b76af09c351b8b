"""Scan whole archives into Arrow tables and Parquet files: one row per file, whatever happens.

The work happens in the compiled core: the directory walk, header-only reads (the bytes before
(7FE0,0010) *Pixel Data*, and only up to the largest tag wanted), parsing and typed column building, on a
pool of threads with the GIL released. This module only wraps the column buffers the core builds in
:func:`pyarrow.Array.from_buffers` (no copy) and assembles them into record batches.

Columns
-------
``path`` (text), ``size`` (int64, bytes), ``ok`` (bool), ``error`` (text, null when ``ok``; it starts with the
name of the exception :func:`dicomfast.dcmread` would raise, e.g. ``"InvalidDicomError: ..."``), then
``TransferSyntaxUID``, ``SOPClassUID``, ``SOPInstanceUID``, ``StudyInstanceUID``, ``SeriesInstanceUID`` and
one column per requested tag. Types follow the data dictionary: IS, US, UL, SS, SL, SV, AT → ``int64``; UV →
``uint64``; DS, FL, FD → ``float64``; DA → ``date32`` (null when not a valid date; ``keep_raw=True`` adds a
``<name>_raw`` text column beside DA, DS and IS columns); OB, OW, UN and unknown private tags → binary (the
value bytes); every other VR (TM and DT included) → text. A value multiplicity other than 1 gives a list
column. A missing or empty value is null, and so is a value that does not fit its column (an IS with a
fraction, a DS or IS that is not a number, a second value in a single-valued number column; a second value
in a single-valued text column is kept backslash-separated, as written).

Elements that are not asked for are stepped over, not parsed, as ``dcmread(..., specific_tags=...)`` (and
pydicom's reader) steps over them: a fault inside one (a malformed sequence, say) does not fail the row,
and nothing after the largest tag asked for is read.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dicomfast import _native

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["TagsArg", "scan", "scan_batches", "scan_to_parquet"]

#: Tags to scan: a list of keywords, tag numbers or nested paths, or a mapping of column name to tag.
TagsArg = Iterable["str | int"] | Mapping[str, "str | int"]

PathsArg = "str | os.PathLike[str] | Iterable[str | os.PathLike[str]]"


def _pa() -> Any:
    try:
        import pyarrow
    except ImportError as e:  # pragma: no cover - pyarrow is the scan extra
        raise ImportError("dicomfast.scan needs pyarrow: pip install 'dicomfast[scan]'") from e
    return pyarrow


def _tag_text(tag: str | int) -> str:
    if isinstance(tag, int):
        if not 0 <= tag <= 0xFFFFFFFF:
            raise ValueError(f"Tags must be between 0 and 0xFFFFFFFF, not {tag:#x}")
        return f"{tag:08X}"
    if isinstance(tag, tuple) and len(tag) == 2:
        return f"{int(tag[0]):04X}{int(tag[1]):04X}"
    return str(tag)


def _tags(tags: TagsArg | None) -> list[tuple[str | None, str]]:
    if tags is None:
        return []
    if isinstance(tags, (str, int)):
        tags = [tags]
    if isinstance(tags, Mapping):
        return [(str(name), _tag_text(t)) for name, t in tags.items()]
    return [(None, _tag_text(t)) for t in tags]


def _paths(paths: Any) -> list[str]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    return [os.fsdecode(p) for p in paths]


def _arrow_type(pa: Any, name: str, list_: bool = False) -> Any:
    t = {
        "large_string": pa.large_string(),
        "large_binary": pa.large_binary(),
        "int64": pa.int64(),
        "uint64": pa.uint64(),
        "float64": pa.float64(),
        "date32": pa.date32(),
        "bool": pa.bool_(),
    }[name]
    return pa.list_(t) if list_ else t


def _array(pa: Any, desc: tuple[Any, ...]) -> Any:
    kind, length, nulls, validity, buffers, child = desc
    valid = None if validity is None else pa.py_buffer(validity)
    bufs = [pa.py_buffer(b) for b in buffers]
    if kind == "list":
        items = _array(pa, child)
        return pa.Array.from_buffers(pa.list_(items.type), length, [valid, *bufs], nulls, children=[items])
    return pa.Array.from_buffers(_arrow_type(pa, kind), length, [valid, *bufs], nulls)


def _batch(pa: Any, raw: tuple[int, int, list[tuple[str, tuple[Any, ...]]]]) -> Any:
    _rows, _errors, cols = raw
    return pa.RecordBatch.from_arrays([_array(pa, c) for _, c in cols], names=[n for n, _ in cols])


def _scanner(
    paths: Any,
    tags: TagsArg | None,
    threads: int | None,
    recursive: bool,
    follow_symlinks: bool,
    pattern: str | None,
    keep_raw: bool,
    batch_size: int,
    entries: list[tuple[str, str | None]] | None = None,
    force: bool = False,
) -> Any:
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    return _native.Scanner(
        [] if entries is not None else _paths(paths),
        _tags(tags),
        threads=threads,
        recursive=recursive,
        follow_symlinks=follow_symlinks,
        pattern=pattern,
        keep_raw=keep_raw,
        batch_size=batch_size,
        chunk_size=min(batch_size, 4096),
        entries=entries,
        force=force,
    )


def schema(tags: TagsArg | None = None, *, keep_raw: bool = False) -> pa.Schema:
    """The schema of a scan with these tags (without reading any file).

    Parameters
    ----------
    tags, keep_raw
        As for :func:`scan`.

    Returns
    -------
    pyarrow.Schema
    """
    pa = _pa()
    s = _scanner([], tags, 1, True, False, None, keep_raw, 1, entries=[])
    return pa.schema([pa.field(n, _arrow_type(pa, t, lst)) for n, t, lst in s.schema()])


def scan_batches(
    paths: Any,
    tags: TagsArg | None = None,
    *,
    threads: int | None = None,
    recursive: bool = True,
    follow_symlinks: bool = False,
    pattern: str | None = None,
    keep_raw: bool = False,
    force: bool = False,
    batch_size: int = 16384,
    _entries: list[tuple[str, str | None]] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Scan files and directories, yielding :class:`pyarrow.RecordBatch` es of at most ``batch_size`` rows.

    Memory stays bounded by the batch, not by the archive: the walk is lazy and each batch is built,
    handed over and forgotten. Ctrl-C stops the scan between chunks of 4096 files.

    Parameters
    ----------
    paths : str, os.PathLike or an iterable of them
        Files (always scanned, whatever their name) and directories (walked).
    tags : iterable or mapping, optional
        Tags to add as columns: keywords (``"PatientName"``), numbers (``0x00100010``, ``"(0019,100C)"``,
        private ones too), or nested paths (``"ReferencedImageSequence[0].ReferencedSOPInstanceUID"``); a
        ``":VR"`` suffix (``"(0019,100C):IS"``) types a private tag. A mapping gives the column names.
    threads : int, optional
        Worker threads; default: every core.
    recursive : bool
        Walk sub-directories.
    follow_symlinks : bool
        Follow symbolic links to directories (loops are detected and reported as rows).
    pattern : str, optional
        A glob on the names of files found in directories, e.g. ``"*.dcm"``.
    keep_raw : bool
        Add ``<name>_raw`` text columns beside DA, DS and IS columns.
    force : bool
        Read files without the preamble and ``DICM`` prefix, as ``dcmread(force=True)`` does.
    batch_size : int
        Rows per batch.

    Yields
    ------
    pyarrow.RecordBatch
        At least one batch (an empty one when there is no file), all with the same schema.
    """
    pa = _pa()
    s = _scanner(paths, tags, threads, recursive, follow_symlinks, pattern, keep_raw, batch_size, _entries, force)
    first = True
    while True:
        raw = s.next_batch()
        if raw is None:
            if first:
                yield _batch(pa, s.empty_batch())
            return
        first = False
        yield _batch(pa, raw)


def scan(
    paths: Any,
    tags: TagsArg | None = None,
    *,
    threads: int | None = None,
    recursive: bool = True,
    follow_symlinks: bool = False,
    pattern: str | None = None,
    keep_raw: bool = False,
    force: bool = False,
) -> pa.Table:
    """Scan files and directories into a :class:`pyarrow.Table` with one row per file.

    Parameters are those of :func:`scan_batches`.

    Returns
    -------
    pyarrow.Table
        One row per file given or found, in walk order (directories depth first, by name); files that
        cannot be read have ``ok`` false and their ``error``.

    Examples
    --------
    >>> t = dicomfast.scan("archive/", tags=["PatientID", "StudyDate", "PixelSpacing"])  # doctest: +SKIP
    >>> t.filter(t["ok"]).to_pandas()  # doctest: +SKIP
    """
    pa = _pa()
    batches = list(
        scan_batches(
            paths,
            tags,
            threads=threads,
            recursive=recursive,
            follow_symlinks=follow_symlinks,
            pattern=pattern,
            keep_raw=keep_raw,
            force=force,
            batch_size=65536,
        )
    )
    return pa.Table.from_batches(batches)


def scan_to_parquet(
    paths: Any,
    out: str | os.PathLike[str],
    tags: TagsArg | None = None,
    *,
    threads: int | None = None,
    recursive: bool = True,
    follow_symlinks: bool = False,
    pattern: str | None = None,
    keep_raw: bool = False,
    force: bool = False,
    batch_size: int = 65536,
    compression: str = "zstd",
    progress: Any = None,
) -> tuple[int, int]:
    """Scan files and directories straight into a Parquet file, one row group per batch.

    Parameters
    ----------
    paths, tags, threads, recursive, follow_symlinks, pattern, keep_raw, force, batch_size
        As for :func:`scan_batches`.
    out : str or os.PathLike
        The Parquet file to write.
    compression : str
        Parquet compression codec.
    progress : callable, optional
        Called after each batch as ``progress(files, errors)`` with the running totals.

    Returns
    -------
    tuple of int
        ``(files, errors)``: rows written and rows with ``ok`` false.
    """
    import pyarrow.parquet as pq

    files = errors = 0
    writer = None
    try:
        for batch in scan_batches(
            paths,
            tags,
            threads=threads,
            recursive=recursive,
            follow_symlinks=follow_symlinks,
            pattern=pattern,
            keep_raw=keep_raw,
            force=force,
            batch_size=batch_size,
        ):
            if writer is None:
                writer = pq.ParquetWriter(os.fspath(out), batch.schema, compression=compression)
            writer.write_batch(batch)
            files += batch.num_rows
            errors += batch.num_rows - batch.column("ok").true_count
            if progress is not None:
                progress(files, errors)
    finally:
        if writer is not None:
            writer.close()
    return files, errors
