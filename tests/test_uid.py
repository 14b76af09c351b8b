"""UIDs: the transfer syntax table and ``generate_uid`` (PS3.5 §9, §B.2)."""

from __future__ import annotations

import re

import pytest

import dicomfast
from dicomfast.uid import UID, generate_uid

# PS3.5 §9.1: components of digits without leading zeros (a lone 0 allowed), '.'-separated, 64 chars at most.
_VALID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def test_generated_uids_are_valid_and_unique() -> None:
    uids = {generate_uid() for _ in range(2000)}
    assert len(uids) == 2000
    for u in uids:
        assert isinstance(u, UID)
        assert u.startswith("2.25.")
        assert len(u) <= 64
        assert _VALID.fullmatch(u), u
        assert int(u[5:]) < 2**128


def test_entropy_sources_make_the_same_uid() -> None:
    a = generate_uid(entropy_srcs=["1.2.3", "patient"])
    assert a == generate_uid(entropy_srcs=["1.2.3", "patient"])
    assert a != generate_uid(entropy_srcs=["1.2.3", "other"])
    assert _VALID.fullmatch(a)
    assert len(a) <= 64


def test_prefixes() -> None:
    for prefix in ("1.2.826.0.1.3680043.8.498.", "1.2.", "2.25.123456789."):
        u = generate_uid(prefix)
        assert u.startswith(prefix)
        assert len(u) == 64
        assert _VALID.fullmatch(u), u
    assert generate_uid("1.2.3.", entropy_srcs=["x"]) == generate_uid("1.2.3.", entropy_srcs=["x"])
    for bad in ("1.2.3", "1.02.3.", "a.b.", "1..2.", "1." + "2" * 62 + "."):
        with pytest.raises(ValueError, match="UID prefix"):
            generate_uid(bad)


def test_transfer_syntax_properties() -> None:
    ts = dicomfast.uid.JPEG2000
    assert ts.is_transfer_syntax
    assert ts.is_compressed
    assert not dicomfast.uid.ExplicitVRLittleEndian.is_compressed
    assert dicomfast.uid.ImplicitVRLittleEndian.is_implicit_VR
