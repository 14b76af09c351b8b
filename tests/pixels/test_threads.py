"""``threads=``: one thread decodes on the calling thread, several on a pool, with the same output."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import dicomfast

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

# multi-frame RLE (frames and segments split over threads), one J2K frame (OpenJPEG's threads), one
# YBR JPEG frame (colour conversion in slices): each parallel step the pixel code has
FILES = ["emri_small_RLE.dcm", "SC_rgb_rle_2frame.dcm", "US1_J2KR.dcm", "SC_rgb_jpeg_dcmtk.dcm"]


@pytest.mark.skipif(sys.platform != "linux", reason="counts threads in /proc")
def test_one_thread_decodes_on_the_calling_thread() -> None:
    # threads=1 is the calling thread: no pool thread is started (and woken for each call, a hand-off
    # that cost ~100 us per small frame), while threads=2 keeps a pool of its own for work worth it.
    code = textwrap.dedent(
        f"""
        import os, dicomfast
        from pydicom.data import get_testdata_file
        tasks = lambda: len(os.listdir("/proc/self/task"))
        dss = [dicomfast.dcmread(get_testdata_file(n)) for n in {FILES!r}]
        before = tasks()
        for ds in dss:
            for i in range(ds.num_frames):
                dicomfast.pixel_array(ds, index=i, threads=1)
            dicomfast.pixel_array(ds, threads=1)
        one = tasks()
        dicomfast.pixel_array(dss[2], threads=2)  # 0.9 MB of J2K: worth a second thread
        print(before, one, tasks())
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, one, two = map(int, r.stdout.split())
    assert one == before, "threads=1 started threads"
    assert two > one, "threads=2 should run on a pool of its own"


@pytest.mark.parametrize("name", FILES)
def test_same_output_on_any_number_of_threads(name: str) -> None:
    ds = dicomfast.dcmread(get_testdata_file(name))
    want = dicomfast.pixel_array(ds)
    for threads in (1, 2, 3):
        assert (dicomfast.pixel_array(ds, threads=threads) == want).all()
        if ds.num_frames > 1:
            for i in range(ds.num_frames):
                assert (dicomfast.pixel_array(ds, index=i, threads=threads) == want[i]).all()


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_the_first_bad_frame_is_the_one_named(threads: int | None) -> None:
    # Frames decode on the calling thread and pool threads that take them in turn; whichever thread meets
    # a bad frame, the error names the lowest bad frame, every time (frames 3 and 6 of 8 are cut short).
    import io

    import numpy as np

    from dicomfast import _native
    from dicomfast.codec import encapsulate

    ds = dicomfast.dcmread(get_testdata_file("emri_small_RLE.dcm"))
    n, rows, cols = 8, 512, 512  # 4 MB of output: worth more than one thread
    arr = (np.arange(n * rows * cols, dtype=np.uint32) * 2654435761 >> 20).astype(np.uint16) & 0x0FFF
    frames = [
        bytes(f)
        for f in _native.encode_frames(
            arr.tobytes(), rows, cols, 1, 16, 12, 0, "MONOCHROME2", n, "1.2.840.10008.1.2.5", 1
        )
    ]
    for k in (3, 6):
        frames[k] = frames[k][:64] + b"\xff" * 8
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, n
    ds.PixelData = encapsulate(frames)[0]
    buf = io.BytesIO()
    dicomfast.dcmwrite(buf, ds)
    bad = dicomfast.dcmread(buf.getvalue())
    for _ in range(20):
        with pytest.raises(dicomfast.DecodeError, match=r"^Frame 3 \(1\.2\.840\.10008\.1\.2\.5\)"):
            dicomfast.pixel_array(bad, threads=threads)
    # the good frames still decode one by one, and the threads are still there for the next call
    assert (dicomfast.pixel_array(bad, index=5, threads=threads) == arr.reshape(n, rows, cols)[5]).all()
