"""Decoding in a forked child after the parent used the thread pool (DataLoader workers fork)."""

from __future__ import annotations

import multiprocessing as mp
import sys
from typing import Any

import numpy as np
import pytest

import dicomfast

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

# ten J2K frames: enough work that the decode spreads over the pool (small work stays on the calling thread)
PATH = get_testdata_file("emri_small_jpeg_2k_lossless.dcm")


def _child(q: mp.Queue) -> None:  # type: ignore[type-arg]
    arr = dicomfast.dcmread(PATH).pixel_array  # default threads: all cores
    q.put(int(arr.sum()))


def _in_forked_child(target: Any) -> Any:
    """What ``target(queue)`` puts in the queue, run in a forked child that must end within 60 s."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(q,))
    p.start()
    p.join(60)
    alive = p.is_alive()
    if alive:
        p.kill()
    assert not alive, "the child hung decoding after fork"
    assert p.exitcode == 0
    return q.get(timeout=5)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_decode_after_fork_does_not_hang() -> None:
    want = int(dicomfast.dcmread(PATH).pixel_array.sum())  # the parent uses the global pool first
    assert _in_forked_child(_child) == want
    assert np.array_equal(dicomfast.dcmread(PATH).pixel_array.sum(), want)


def _child_threads(q: mp.Queue) -> None:  # type: ignore[type-arg]
    ds = dicomfast.dcmread(PATH)
    q.put([int(dicomfast.pixel_array(ds, threads=t).sum()) for t in (2, 1, 2)])


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_explicit_threads_after_fork_do_not_hang() -> None:
    # An explicit threads= (other than 1) keeps a pool per calling thread; one inherited through fork has no
    # threads in the child and must be replaced, not used.
    ds = dicomfast.dcmread(PATH)
    want = [int(dicomfast.pixel_array(ds, threads=t).sum()) for t in (2, 1, 2)]
    assert _in_forked_child(_child_threads) == want
