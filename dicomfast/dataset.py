"""Dataset, DataElement, Sequence, PersonName and Tag: thin Python wrappers over native handles.

A :class:`Dataset` read from a file wraps a native handle (``dicomfast._native.Dataset``) that holds the
element index; values are decoded by the core the first time they are asked for and cached here. Elements
set from Python are kept beside the handle, so a modified data set still holds every untouched element as
it was read.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from typing import Any, BinaryIO, NamedTuple

from dicomfast import _native

__all__ = [
    "DataElement",
    "Dataset",
    "FileMetaDataset",
    "PersonName",
    "Sequence",
    "Tag",
    "dcmread",
    "dictionary_VR",
    "dictionary_keyword",
    "keyword_for_tag",
    "tag_for_keyword",
]

_KW: dict[str, int] = _native.keyword_dict()
_MISSING = object()
_TAG_KW: dict[int, str] = {v: k for k, v in _KW.items()}

_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"})


# --------------------------------------------------------------------------------------------- tags


class Tag(int):
    """A data element tag ``0xggggeeee``.

    ``Tag(0x00100010)``, ``Tag(0x0010, 0x0010)``, ``Tag((0x0010, 0x0010))`` and ``Tag("PatientName")`` are the
    same tag; ``str(tag)`` is ``"(0010,0010)"``.
    """

    __slots__ = ()

    def __new__(cls, arg: Any, elem: int | None = None) -> Tag:
        """Build a tag from a number, a (group, element) pair or a keyword."""
        if elem is not None:
            return super().__new__(cls, (int(arg) << 16) | int(elem))
        if isinstance(arg, int):
            if not 0 <= arg <= 0xFFFFFFFF:
                raise ValueError(f"Tags must be between 0 and 0xFFFFFFFF, not {arg:#x}")
            return super().__new__(cls, arg)
        if isinstance(arg, tuple) and len(arg) == 2:
            return super().__new__(cls, (int(arg[0]) << 16) | int(arg[1]))
        if isinstance(arg, str):
            t = _KW.get(arg)
            if t is None:
                try:
                    return super().__new__(cls, int(arg, 16))
                except ValueError:
                    raise ValueError(f"'{arg}' is not a DICOM keyword or a hexadecimal tag") from None
            return super().__new__(cls, t)
        raise TypeError(f"Cannot make a tag from {arg!r}")

    @property
    def group(self) -> int:
        """The group number."""
        return int(self) >> 16

    @property
    def element(self) -> int:
        """The element number."""
        return int(self) & 0xFFFF

    elem = element

    @property
    def is_private(self) -> bool:
        """Odd group numbers are private (PS3.5 §7.8)."""
        return self.group % 2 == 1

    @property
    def is_private_creator(self) -> bool:
        """Private creator elements (gggg,0010-00FF) of an odd group."""
        return self.is_private and 0x0010 <= self.element <= 0x00FF

    def __str__(self) -> str:
        return f"({self.group:04X},{self.element:04X})"

    def __repr__(self) -> str:
        return str(self)


def tag_for_keyword(keyword: str) -> int | None:
    """The tag of a dictionary keyword, or ``None``."""
    return _KW.get(keyword)


def keyword_for_tag(tag: int) -> str:
    """The keyword of a tag, or ``""`` (repeating groups resolved)."""
    kw = _TAG_KW.get(tag)
    if kw is not None:
        return kw
    entry = _native.dictionary_entry(tag)
    return entry[3] if entry else ""


dictionary_keyword = keyword_for_tag


def dictionary_VR(tag: int) -> str:
    """The VR the dictionary gives a tag (e.g. ``"US or SS"``); ``KeyError`` when unknown."""
    entry = _native.dictionary_entry(int(tag))
    if entry is None:
        raise KeyError(f"Tag {Tag(tag)} not found in the DICOM dictionary")
    return entry[0]


def _tag_of(key: Any) -> int:
    """A tag from anything a user may index with."""
    if isinstance(key, int):
        return int(key)
    if isinstance(key, str):
        t = _KW.get(key)
        if t is None:
            raise KeyError(key)
        return t
    if isinstance(key, tuple) and len(key) == 2:
        return (int(key[0]) << 16) | int(key[1])
    raise TypeError(f"Data sets are indexed by keyword, tag or (group, element), not {type(key).__name__}")


# --------------------------------------------------------------------------------------------- values


class PersonName(str):
    """A PN value: the text ``family^given^middle^prefix^suffix=ideographic=phonetic`` with its components.

    It is a ``str``, so it compares equal to its text (PS3.5 §6.2.1).
    """

    __slots__ = ()

    def _group(self, i: int) -> str:
        groups = self.split("=")
        return groups[i] if i < len(groups) else ""

    def _component(self, i: int) -> str:
        parts = self._group(0).split("^")
        return parts[i] if i < len(parts) else ""

    @property
    def components(self) -> tuple[str, ...]:
        """The component groups: alphabetic, ideographic, phonetic (as present)."""
        return tuple(self.split("="))

    @property
    def alphabetic(self) -> str:
        """The alphabetic component group."""
        return self._group(0)

    @property
    def ideographic(self) -> str:
        """The ideographic component group."""
        return self._group(1)

    @property
    def phonetic(self) -> str:
        """The phonetic component group."""
        return self._group(2)

    @property
    def family_name(self) -> str:
        """Family name (first component of the alphabetic group)."""
        return self._component(0)

    @property
    def given_name(self) -> str:
        """Given name."""
        return self._component(1)

    @property
    def middle_name(self) -> str:
        """Middle name."""
        return self._component(2)

    @property
    def name_prefix(self) -> str:
        """Name prefix."""
        return self._component(3)

    @property
    def name_suffix(self) -> str:
        """Name suffix."""
        return self._component(4)

    @property
    def original_string(self) -> str:
        """The text as stored."""
        return str(self)


class Sequence(list):  # type: ignore[type-arg]
    """An SQ value: a list of :class:`Dataset` items."""

    def __repr__(self) -> str:
        return f"<Sequence, length {len(self)}>"


def _vm(value: Any) -> int:
    if value is None or value == "" or (isinstance(value, bytes) and not value):
        return 0
    if isinstance(value, list | tuple) and not isinstance(value, Sequence):
        return len(value)
    return 1


class DataElement:
    """One data element: ``tag``, ``VR``, ``value``, and the dictionary's ``keyword`` and ``name``."""

    __slots__ = ("VR", "tag", "value")

    def __init__(self, tag: Any, VR: str, value: Any) -> None:
        self.tag = Tag(_tag_of(tag))
        self.VR = VR
        self.value = value

    @classmethod
    def _make(cls, tag: int, vr: str, value: Any) -> DataElement:
        """Build an element from trusted parts (a native tag number), skipping argument checks."""
        elem = object.__new__(cls)
        elem.tag = int.__new__(Tag, tag)
        elem.VR = vr
        elem.value = value
        return elem

    @property
    def vr(self) -> str:
        """Alias of :attr:`VR`."""
        return self.VR

    @property
    def keyword(self) -> str:
        """The dictionary keyword (``""`` for private and unknown tags)."""
        return keyword_for_tag(self.tag)

    @property
    def name(self) -> str:
        """The dictionary name (``"Private tag data"`` or ``"Unknown"`` when not in the dictionary)."""
        entry = _native.dictionary_entry(self.tag)
        if entry is not None:
            return entry[2]
        if self.tag.is_private_creator:
            return "Private Creator"
        return "Private tag data" if self.tag.is_private else "Unknown"

    @property
    def VM(self) -> int:
        """Value multiplicity: the number of values (0 when empty; 1 for a sequence)."""
        return _vm(self.value)

    @property
    def is_empty(self) -> bool:
        """Whether the element has no value."""
        return self.VM == 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataElement):
            return NotImplemented
        return self.tag == other.tag and self.VR == other.VR and self.value == other.value

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return _element_line(self, width=80)


_VALUE_SLOT = DataElement.__dict__["value"]
_set_slot_value = _VALUE_SLOT.__set__


def _set_bound_value(elem: _BoundElement, value: Any) -> None:
    _set_slot_value(elem, value)
    elem._ds[elem.tag] = elem


class _BoundElement(DataElement):
    """An element of a data set read from a file, as ``ds[tag]`` and iteration give it.

    Setting its value sets it in the data set (``ds["PatientName"].value = "Anon"``, or in a ``walk``
    callback), as pydicom's elements do. Reading the value is the slot's own C getter (no Python call).
    """

    __slots__ = ("_ds",)

    value = property(_VALUE_SLOT.__get__, _set_bound_value)  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        # copied or pickled alone, it is a plain element (not tied to a data set)
        return (DataElement, (int(self.tag), self.VR, self.value))


def _bind(ds: Dataset, tag: int, vr: str, value: Any) -> _BoundElement:
    """A :class:`_BoundElement` of ``ds`` from trusted parts (a native tag number)."""
    elem = object.__new__(_BoundElement)
    elem.tag = int.__new__(Tag, tag)
    elem.VR = vr
    _set_slot_value(elem, value)
    elem._ds = ds
    return elem


def _format_value(elem: DataElement, width: int) -> str:
    v = elem.value
    if elem.VR == "SQ":
        return f"<Sequence of {len(v)} item{'s' if len(v) != 1 else ''}>"
    if isinstance(v, bytes):
        s = f"Array of {len(v)} bytes" if len(v) > 16 else repr(v)
    elif isinstance(v, list):
        s = "[" + ", ".join(repr(str(x)) if isinstance(x, str) else repr(x) for x in v) + "]"
    elif isinstance(v, str):
        s = repr(str(v))
    else:
        s = repr(v)
    if len(s) > width:
        s = s[: max(width - 3, 0)] + "..."
    return s


def _element_line(elem: DataElement, width: int = 80, indent: int = 0) -> str:
    name = elem.name if elem.tag != 0 else ""
    return f"{'  ' * indent}{elem.tag} {name[:35]:<35} {elem.VR}: {_format_value(elem, width)}"


# --------------------------------------------------------------------------------------------- dataset


class PrivateBlock:
    """The private elements one Private Creator reserves in a group (PS3.5 §7.8.1).

    (gggg,00xx) holds the creator's name and reserves (gggg,xx00) to (gggg,xxFF); elements are addressed
    by their offset 0x00 to 0xFF in the block.
    """

    __slots__ = ("block_start", "dataset", "group", "private_creator")

    def __init__(self, dataset: Dataset, group: int, slot: int, private_creator: str) -> None:
        self.dataset = dataset
        self.group = group
        self.private_creator = private_creator
        #: The element number of the block's first element (``slot << 8``).
        self.block_start = slot << 8

    def get_tag(self, element_offset: int) -> Tag:
        """The tag of the element at ``element_offset`` in this block."""
        if not 0 <= element_offset <= 0xFF:
            raise ValueError(f"Element offset {element_offset:#x}: it must be 0x00 to 0xFF within a private block")
        return Tag((self.group << 16) | self.block_start | element_offset)

    def __contains__(self, element_offset: int) -> bool:
        return self.get_tag(element_offset) in self.dataset

    def __getitem__(self, element_offset: int) -> DataElement:
        return self.dataset[self.get_tag(element_offset)]

    def __delitem__(self, element_offset: int) -> None:
        del self.dataset[self.get_tag(element_offset)]

    def add_new(self, element_offset: int, VR: str, value: Any) -> None:
        """Add (or replace) the element at ``element_offset`` with the given VR and value."""
        tag = self.get_tag(element_offset)
        self.dataset[tag] = DataElement(tag, VR, value)

    def __repr__(self) -> str:
        return f"<PrivateBlock {self.private_creator!r} at ({self.group:04X},{self.block_start:04X})>"


class Dataset:
    """A DICOM data set: elements by keyword (``ds.PatientName``), tag (``ds[0x00100010]``) or pair.

    Missing keywords raise ``AttributeError``, missing tags ``KeyError``. Iteration yields
    :class:`DataElement` objects in tag order.
    """

    __slots__ = ("__dict__", "_deleted", "_elements", "_native", "_values")

    _native: Any
    _values: dict[int, Any]
    _elements: dict[int, DataElement]
    _deleted: set[int]

    def __init__(self, elements: dict[str, Any] | Iterable[DataElement] | None = None) -> None:
        object.__setattr__(self, "_native", None)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_elements", {})
        object.__setattr__(self, "_deleted", set())
        if isinstance(elements, dict):
            for k, v in elements.items():
                self[k] = v
        elif elements is not None:
            for e in elements:
                # an element bound to another data set is taken as a plain copy
                self._elements[int(e.tag)] = DataElement(e.tag, e.VR, e.value) if isinstance(e, _BoundElement) else e

    @classmethod
    def _from_native(cls, handle: Any) -> Dataset:
        ds = cls.__new__(cls)
        object.__setattr__(ds, "_native", handle)
        object.__setattr__(ds, "_values", {})
        object.__setattr__(ds, "_elements", {})
        object.__setattr__(ds, "_deleted", set())
        return ds

    # ----------------------------------------------------------------------------- access

    def __getattr__(self, name: str) -> Any:
        # Only called when normal attribute lookup fails: keyword access.
        if name[:1] == "_":
            raise AttributeError(name)
        tag = _KW.get(name)
        if tag is not None:
            value = self._values.get(tag, _MISSING)
            if value is not _MISSING:
                return value
            elem = self._elements.get(tag)
            if elem is not None:
                return elem.value
            native = self._native
            if native is not None and tag not in self._deleted:
                value = native.get(tag, _MISSING)
                if value is not _MISSING:
                    self._values[tag] = value
                    return value
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        tag = _KW.get(name)
        if tag is None:
            if name[:1].isupper():
                raise AttributeError(
                    f"'{name}' is not a DICOM keyword; set private elements with ds[tag] = DataElement(...)"
                )
            object.__setattr__(self, name, value)
            return
        self[tag] = value

    def __delattr__(self, name: str) -> None:
        tag = _KW.get(name)
        if tag is None:
            object.__delattr__(self, name)
            return
        try:
            del self[tag]
        except KeyError:
            raise AttributeError(name) from None

    def _native_has(self, tag: int) -> bool:
        return self._native is not None and tag not in self._deleted and tag in self._native

    def __contains__(self, key: Any) -> bool:
        try:
            tag = _tag_of(key)
        except (KeyError, TypeError):
            return False
        return tag in self._elements or self._native_has(tag)

    def __getitem__(self, key: Any) -> DataElement:
        if isinstance(key, slice):
            raise TypeError("Slicing a Dataset is not supported")
        tag = _tag_of(key)
        elem = self._elements.get(tag)
        if elem is not None:
            return elem
        if not self._native_has(tag):
            raise KeyError(f"{Tag(tag)}")
        try:
            value = self._values[tag]
            vr = self._native.vr(tag)
        except KeyError:
            vr, value = self._native.item(tag)
            self._values[tag] = value
        return _bind(self, tag, vr, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        tag = _tag_of(key)
        if isinstance(value, DataElement):
            elem = value
            if int(elem.tag) != tag or (isinstance(elem, _BoundElement) and elem._ds is not self):
                # (an element of another data set is copied: setting its value later must not reach this one)
                elem = DataElement(tag, elem.VR, elem.value)
        else:
            vr = self._vr_for_new(tag)
            elem = DataElement(tag, vr, _coerce(vr, value))
        self._elements[tag] = elem
        self._values.pop(tag, None)
        self._deleted.discard(tag)

    def _vr_for_new(self, tag: int) -> str:
        if self._native_has(tag):
            return str(self._native.vr(tag))
        entry = _native.dictionary_entry(tag)
        if entry is None:
            if Tag(tag).is_private_creator:
                return "LO"
            raise KeyError(
                f"{Tag(tag)} is not in the dictionary: give its VR with ds[tag] = DataElement(tag, VR, value)"
            )
        vr = entry[0]
        if " or " in vr:
            vr = vr.split(" or ")[0]
        return vr

    def __delitem__(self, key: Any) -> None:
        tag = _tag_of(key)
        found = self._elements.pop(tag, None) is not None
        if self._native_has(tag):
            self._deleted.add(tag)
            found = True
        self._values.pop(tag, None)
        if not found:
            raise KeyError(f"{Tag(tag)}")

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for a keyword, or the :class:`DataElement` for a tag; ``default`` when absent."""
        if isinstance(key, str):
            tag = _KW.get(key)
            if tag is None:
                return getattr(self, key, default)
            value = self._values.get(tag, _MISSING)
            if value is not _MISSING:
                return value
            elem = self._elements.get(tag)
            if elem is not None:
                return elem.value
            native = self._native
            if native is None or tag in self._deleted:
                return default
            value = native.get(tag, _MISSING)
            if value is _MISSING:
                return default
            self._values[tag] = value
            return value
        try:
            return self[key]
        except KeyError:
            return default

    def get_item(self, key: Any) -> DataElement:
        """The :class:`DataElement` for ``key`` (same as ``ds[key]``)."""
        return self[key]

    def keys(self) -> list[Tag]:
        """The tags, in ascending order."""
        return [Tag(t) for t in self._tags()]

    def values(self) -> list[DataElement]:
        """The elements, in tag order."""
        return list(self)

    def items(self) -> list[tuple[Tag, DataElement]]:
        """``(tag, element)`` pairs, in tag order."""
        return [(e.tag, e) for e in self]

    def dir(self, *filters: str) -> list[str]:
        """Keywords of the elements present, optionally filtered by case-insensitive substrings."""
        kws = [keyword_for_tag(t) for t in self._tags()]
        kws = [k for k in kws if k]
        if filters:
            kws = [k for k in kws if any(f.lower() in k.lower() for f in filters)]
        return sorted(kws)

    def _tags(self) -> list[int]:
        tags: set[int] = set(self._elements)
        if self._native is not None:
            deleted = self._deleted
            tags.update(t for t in self._native.tags() if t not in deleted)
        return sorted(tags)

    def __iter__(self) -> Iterator[DataElement]:
        native = self._native
        if native is not None and not self._elements and not self._deleted:
            # Unmodified data set read from a file: one native call decodes every value in tag order.
            values = self._values
            for tag, vr, value in native.all_items():
                yield _bind(self, tag, vr, values.setdefault(tag, value))
            return
        for t in self._tags():
            yield self[t]

    def __len__(self) -> int:
        if self._native is None:
            return len(self._elements)
        n = len(self._native) - len(self._deleted)
        return n + sum(1 for t in self._elements if t not in self._native)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        if self._tags() != other._tags():
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def walk(self, callback: Callable[[Dataset, DataElement], None], recursive: bool = True) -> None:
        """Call ``callback(dataset, element)`` for every element, depth first."""
        for elem in self:
            callback(self, elem)
            if recursive and elem.VR == "SQ":
                for item in elem.value:
                    item.walk(callback, recursive)

    def iterall(self) -> Iterator[DataElement]:
        """Every element at every nesting level, depth first."""
        for elem in self:
            yield elem
            if elem.VR == "SQ":
                for item in elem.value:
                    yield from item.iterall()

    def add(self, elem: DataElement) -> None:
        """Add (or replace) an element."""
        self[elem.tag] = elem

    def add_new(self, tag: Any, VR: str, value: Any) -> None:
        """Add (or replace) the element ``tag`` with the given VR and value (any tag, private ones too)."""
        self[tag] = DataElement(tag, VR, value)

    def private_creators(self, group: int) -> list[str]:
        """The Private Creator values reserving blocks of an odd ``group`` (PS3.5 §7.8.1)."""
        if group % 2 == 0:
            raise ValueError(f"Group {group:04X} is not private: private groups are odd")
        return [str(self[t].value).strip() for t in self._tags() if t >> 16 == group and 0x10 <= (t & 0xFFFF) <= 0xFF]

    def private_block(self, group: int, private_creator: str, create: bool = False) -> PrivateBlock:
        """The block of private elements ``private_creator`` reserves in ``group`` (PS3.5 §7.8.1).

        With ``create``, a block is reserved when there is none: the creator is written in the first free
        element (gggg,0010) to (gggg,00FF).
        """
        if group % 2 == 0:
            raise ValueError(f"Group {group:04X} is not private: a private creator needs an odd group")
        if not private_creator:
            raise ValueError("A private block needs a non-empty private creator")
        free = None
        for slot in range(0x10, 0x100):
            tag = (group << 16) | slot
            if tag in self:
                if str(self[tag].value).strip() == private_creator:
                    return PrivateBlock(self, group, slot, private_creator)
            elif free is None:
                free = slot
        if not create:
            raise KeyError(f"Private creator '{private_creator}' not found in group {group:04X}")
        if free is None:
            raise ValueError(f"Group {group:04X} has no free private block (all 240 are reserved)")
        self[(group << 16) | free] = DataElement((group << 16) | free, "LO", private_creator)
        return PrivateBlock(self, group, free, private_creator)

    def get_private_item(self, group: int, element_offset: int, private_creator: str) -> DataElement:
        """The element at ``element_offset`` (0x00-0xFF) of ``private_creator``'s block in ``group``."""
        return self.private_block(group, private_creator)[element_offset]

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove the element for ``key`` (keyword, tag or pair) and return it; ``default`` when absent."""
        try:
            elem = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return elem

    def setdefault(self, key: Any, default: Any = None) -> DataElement:
        """The element for ``key``; when absent, first add one with ``default`` (a value or a DataElement)."""
        if key in self:
            return self[key]
        self[key] = default if isinstance(default, DataElement) else ("" if default is None else default)
        return self[key]

    def update(self, other: Any = (), **kwargs: Any) -> None:
        """Set elements from a mapping or Dataset (keywords, tags or pairs as keys) and from keywords."""
        items = other.items() if hasattr(other, "items") else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def clear(self) -> None:
        """Remove every element."""
        for tag in self._tags():
            del self[tag]

    def data_element(self, keyword: str) -> DataElement | None:
        """The :class:`DataElement` for a keyword, or ``None`` when absent."""
        tag = _KW.get(keyword)
        return self[tag] if tag is not None and tag in self else None

    def group_dataset(self, group: int) -> Dataset:
        """A new Dataset with the elements of one group."""
        return Dataset(self[t] for t in self._tags() if t >> 16 == group)

    def remove_private_tags(self) -> None:
        """Remove every private element (odd group, PS3.5 §7.8), in sequence items too."""

        def drop(ds: Dataset, elem: DataElement) -> None:
            if elem.tag.is_private:
                del ds[elem.tag]

        self.walk(drop)

    def copy(self) -> Dataset:
        """A shallow copy (as ``copy.copy``): the values decoded so far, sequences included, are shared."""
        return self.__copy__()

    def __copy__(self) -> Dataset:
        new = type(self).__new__(type(self))
        object.__setattr__(new, "_native", self._native)
        object.__setattr__(new, "_values", dict(self._values))
        object.__setattr__(new, "_elements", dict(self._elements))
        object.__setattr__(new, "_deleted", set(self._deleted))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Dataset:
        # The native index is read-only and shared; what was set, deleted or decoded is copied, nested
        # sequence items (and the file meta) through this same method.
        import copy

        new = type(self).__new__(type(self))
        memo[id(self)] = new
        object.__setattr__(new, "_native", self._native)
        object.__setattr__(new, "_values", copy.deepcopy(self._values, memo))
        object.__setattr__(new, "_elements", copy.deepcopy(self._elements, memo))
        object.__setattr__(new, "_deleted", set(self._deleted))
        for k, v in self.__dict__.items():
            new.__dict__[k] = v if k == "_source" else copy.deepcopy(v, memo)
        return new

    # ----------------------------------------------------------------------------- file-level

    @property
    def file_meta(self) -> FileMetaDataset:
        """The file meta information (group 0002); empty when the file had none."""
        fm = self.__dict__.get("_file_meta")
        if fm is None:
            if self._native is not None and self._native.depth == 0:
                fm = FileMetaDataset()
                object.__setattr__(fm, "_native", self._native.file_meta())
            else:
                fm = FileMetaDataset()
            self.__dict__["_file_meta"] = fm
        return fm

    @file_meta.setter
    def file_meta(self, value: Dataset) -> None:
        if not isinstance(value, FileMetaDataset):
            fm = FileMetaDataset()
            for e in value:
                fm[e.tag] = e
            value = fm
        self.__dict__["_file_meta"] = value

    @property
    def preamble(self) -> bytes | None:
        """The 128-byte preamble, or ``None``."""
        if "_preamble" in self.__dict__:
            return self.__dict__["_preamble"]  # type: ignore[no-any-return]
        return self._native.preamble() if self._native is not None else None

    @preamble.setter
    def preamble(self, value: bytes | None) -> None:
        self.__dict__["_preamble"] = value

    @property
    def is_little_endian(self) -> bool:
        """Whether the data set was read as little endian."""
        return True if self._native is None else bool(self._native.is_little_endian)

    @property
    def is_implicit_VR(self) -> bool:
        """Whether the data set was read as implicit VR."""
        return False if self._native is None else bool(self._native.is_implicit_vr)

    @property
    def original_transfer_syntax(self) -> str | None:
        """The transfer syntax UID the data set was read with (``None`` for a new data set)."""
        return None if self._native is None else str(self._native.transfer_syntax)

    @property
    def errors(self) -> list[ReadError]:
        """Faults met while reading with ``on_error="collect"`` or ``"warn"`` (empty otherwise)."""
        return self.__dict__.get("errors", [])  # type: ignore[no-any-return]

    @property
    def filename(self) -> str | None:
        """The path the data set was read from, if any."""
        return self.__dict__.get("_filename")

    # ----------------------------------------------------------------------------- conversions

    def to_json_dict(
        self,
        bulk_data_threshold: int = 1024,
        bulk_data_element_handler: Callable[[DataElement], str] | None = None,
    ) -> dict[str, Any]:
        """The DICOM JSON model of the data set (PS3.18 §F.2) as a dict.

        Binary values longer than ``bulk_data_threshold`` go to ``bulk_data_element_handler`` (which returns a
        BulkDataURI) when one is given; otherwise they are written inline as base64 (InlineBinary).
        """
        out: dict[str, Any] = {}
        for elem in self:
            out[f"{int(elem.tag):08X}"] = _element_to_json(elem, bulk_data_threshold, bulk_data_element_handler)
        return out

    def to_json(
        self,
        bulk_data_threshold: int = 1024,
        bulk_data_element_handler: Callable[[DataElement], str] | None = None,
        **dumps_kwargs: Any,
    ) -> str:
        """The DICOM JSON model of the data set (PS3.18 §F.2) as a string."""
        return json.dumps(self.to_json_dict(bulk_data_threshold, bulk_data_element_handler), **dumps_kwargs)

    @classmethod
    def from_json(
        cls,
        json_dataset: str | bytes | dict[str, Any],
        bulk_data_uri_handler: Callable[[str, str, str], Any] | None = None,
    ) -> Dataset:
        """A data set from the DICOM JSON model (PS3.18 §F.2).

        ``bulk_data_uri_handler(tag, vr, uri)`` returns the bytes of a BulkDataURI; without one the URI
        elements get an empty value.
        """
        data = json.loads(json_dataset) if isinstance(json_dataset, str | bytes) else json_dataset
        ds = cls()
        for key, obj in data.items():
            tag = int(key, 16)
            vr = obj.get("vr")
            if vr is None:
                entry = _native.dictionary_entry(tag)
                if entry is None:
                    raise ValueError(f"Element {Tag(tag)} has no 'vr' and is not in the dictionary")
                vr = entry[0].split(" or ")[0]
            ds._elements[tag] = DataElement(tag, vr, _json_value(tag, vr, obj, bulk_data_uri_handler))
        return ds

    def to_pydicom(self) -> Any:
        """This data set as a ``pydicom.Dataset`` (needs pydicom)."""
        import pydicom

        def convert(src: Dataset, dst: Any) -> None:
            for elem in src:
                v = elem.value
                if elem.VR == "SQ":
                    items = []
                    for item in v:
                        d = pydicom.Dataset()
                        convert(item, d)
                        items.append(d)
                    v = pydicom.Sequence(items)
                elif isinstance(v, PersonName):
                    v = str(v)
                elif isinstance(v, list):
                    v = [str(x) if isinstance(x, PersonName) else x for x in v]
                dst.add_new(int(elem.tag), elem.VR, v)

        out = pydicom.Dataset()
        convert(self, out)
        if self._native is not None and len(self.file_meta):
            meta = pydicom.dataset.FileMetaDataset()
            convert(self.file_meta, meta)
            out.file_meta = meta
        return out

    @classmethod
    def from_pydicom(cls, pds: Any) -> Dataset:
        """A data set from a ``pydicom.Dataset``."""

        def convert(src: Any) -> Dataset:
            ds = cls()
            for elem in src:
                vr = str(elem.VR)
                v = elem.value
                if vr == "SQ":
                    v = Sequence([convert(item) for item in v])
                elif vr == "PN":
                    if isinstance(v, list | MutableSequence) and not isinstance(v, str | bytes):
                        v = [PersonName(str(x)) for x in v]
                    elif v is not None:
                        v = PersonName(str(v))
                elif isinstance(v, MutableSequence) and not isinstance(v, str | bytes):
                    v = list(v)
                if " or " in vr:
                    vr = "OW" if isinstance(v, bytes) else vr.split(" or ")[0]
                ds._elements[int(elem.tag)] = DataElement(int(elem.tag), vr, v)
            return ds

        out = convert(pds)
        meta = getattr(pds, "file_meta", None)
        if meta is not None and len(meta):
            out.file_meta = convert(meta)
        return out

    # ----------------------------------------------------------------------------- display

    def _lines(self, width: int, indent: int = 0) -> list[str]:
        lines = []
        for elem in self:
            lines.append(_element_line(elem, width, indent))
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value):
                    lines.append(f"{'  ' * (indent + 1)}(Item #{i})")
                    lines.extend(item._lines(width, indent + 2))
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines(80))

    def __repr__(self) -> str:
        return str(self)

    # ----------------------------------------------------------------------------- pickling

    def __reduce__(self) -> tuple[Any, ...]:
        # Read from a file or bytes: the source again, and what was changed since (elements set or deleted,
        # sequences whose items changed, the file meta once touched, the preamble). Otherwise (a new data set,
        # or a sequence item of one read) every element as it is now.
        state = {k: v for k, v in self.__dict__.items() if k != "_source"}
        src = self.__dict__.get("_source")
        if src is not None:
            changed = self._changed_values()
            if not self._elements and not self._deleted and not state.get("_file_meta") and not changed:
                return (_reopen, (src,))
            return (_reopen_changed, (src, self._elements, self._deleted, changed, state))
        return (_rebuild, (type(self), [self[t] for t in self._tags()], state))

    def _changed_values(self) -> dict[int, Any]:
        """The values read from the file that were changed in place (sequence items, multi-valued values)."""
        from dicomfast.filewriter import _changed_in_place

        return {t: e.value for t, e in _changed_in_place(self)}


class FileMetaDataset(Dataset):
    """The file meta information (group 0002, PS3.10 §7.1)."""

    __slots__ = ()


def _reopen(src: tuple[Any, ...]) -> Dataset:
    source, stop, tags, force, max_depth, max_elements, ts, on_error = src
    return dcmread(
        source, stop, tags, force, max_depth=max_depth, max_elements=max_elements, transfer_syntax=ts, on_error=on_error
    )


def _reopen_changed(
    src: tuple[Any, ...],
    elements: dict[int, DataElement],
    deleted: set[int],
    changed: dict[int, Any],
    state: dict[str, Any],
) -> Dataset:
    ds = _reopen(src)
    ds._elements.update(elements)
    ds._deleted.update(deleted)
    ds._values.update(changed)
    ds.__dict__.update(state)
    return ds


def _rebuild(cls: type[Dataset], elements: list[DataElement], state: dict[str, Any]) -> Dataset:
    ds = cls(elements)
    ds.__dict__.update(state)
    return ds


def _coerce(vr: str, value: Any) -> Any:
    """Normalise a value set from Python, as pydicom takes them.

    PN text becomes :class:`PersonName`, tuples become lists, numpy scalars and arrays become Python numbers
    and lists (little-endian bytes for the binary VRs).
    """
    if value is None:
        return None
    if type(value).__module__ == "numpy":
        if vr in _BINARY_VRS and hasattr(value, "tobytes"):
            return value.astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
        value = value.tolist()
    elif isinstance(value, list | tuple) and any(type(v).__module__ == "numpy" for v in value):
        value = [v.item() if type(v).__module__ == "numpy" and hasattr(v, "item") else v for v in value]
    if vr == "PN":
        if isinstance(value, list | tuple):
            return [PersonName(v) for v in value]
        return PersonName(value)
    if vr == "SQ":
        return value if isinstance(value, Sequence) else Sequence(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --------------------------------------------------------------------------------------------- JSON


def _element_to_json(elem: DataElement, threshold: int, handler: Callable[[DataElement], str] | None) -> dict[str, Any]:
    vr = elem.VR
    obj: dict[str, Any] = {"vr": vr}
    v = elem.value
    if v is None or (v == "" and vr != "SQ"):
        return obj
    if vr == "SQ":
        obj["Value"] = [item.to_json_dict(threshold, handler) for item in v]
        return obj
    if vr in _BINARY_VRS or isinstance(v, bytes):
        if handler is not None and len(v) > threshold:
            obj["BulkDataURI"] = handler(elem)
        else:
            obj["InlineBinary"] = base64.b64encode(v).decode("ascii")
        return obj
    values = v if isinstance(v, list) else [v]
    if vr == "PN":
        out = []
        for name in values:
            groups = str(name).split("=")
            d = {}
            for key, g in zip(("Alphabetic", "Ideographic", "Phonetic"), groups, strict=False):
                if g:
                    d[key] = g
            out.append(d)
        obj["Value"] = out
    elif vr == "AT":
        obj["Value"] = [f"{int(x):08X}" for x in values]
    elif vr in ("DS", "IS"):
        obj["Value"] = [x if isinstance(x, int | float) else (None if x == "" else x) for x in values]
    else:
        obj["Value"] = [None if x == "" else x for x in values]
    return obj


def _json_value(tag: int, vr: str, obj: dict[str, Any], handler: Callable[[str, str, str], Any] | None) -> Any:
    if "InlineBinary" in obj:
        return base64.b64decode(obj["InlineBinary"])
    if "BulkDataURI" in obj:
        return handler(f"{tag:08X}", vr, obj["BulkDataURI"]) if handler else None
    values = obj.get("Value")
    if values is None:
        return Sequence() if vr == "SQ" else ("" if vr in _TEXT_VRS else None)
    if vr == "SQ":
        return Sequence([Dataset.from_json(v, handler) for v in values])
    if vr == "PN":
        out = []
        for v in values:
            if isinstance(v, dict):
                groups = [v.get("Alphabetic", ""), v.get("Ideographic", ""), v.get("Phonetic", "")]
                while groups and not groups[-1]:
                    groups.pop()
                out.append(PersonName("=".join(groups)))
            else:
                out.append(PersonName(v or ""))
        values = out
    elif vr == "AT":
        values = [int(v, 16) for v in values]
    elif vr in ("DS", "FL", "FD"):
        values = [float(v) if v is not None else "" for v in values]
    elif vr in ("IS", "US", "SS", "UL", "SL", "UV", "SV"):
        values = [int(v) if v is not None else "" for v in values]
    else:
        values = ["" if v is None else v for v in values]
    return values[0] if len(values) == 1 else list(values)


# --------------------------------------------------------------------------------------------- reading


class ReadError(NamedTuple):
    """A fault met while reading leniently: the tag (when known), the byte offset and what was wrong."""

    tag: Tag | None
    offset: int | None
    message: str


def _specific(tags: Iterable[Any] | None) -> list[int] | None:
    if tags is None:
        return None
    return [_tag_of(t) for t in tags]


def dcmread(
    fp: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO,
    stop_before_pixels: bool = False,
    specific_tags: Iterable[Any] | None = None,
    force: bool = False,
    *,
    max_depth: int | None = None,
    max_elements: int | None = None,
    transfer_syntax: str | None = None,
    on_error: str = "raise",
    defer_size: int | str | None = None,
) -> Dataset:
    """Read a DICOM file (PS3.10) or, with ``force=True``, a bare data set.

    Parameters
    ----------
    fp : str, PathLike, bytes, bytearray, memoryview or binary file object
        What to read. Paths are memory-mapped (large files) or read (small ones); ``bytes`` are used without a
        copy; mutable buffers are copied.
    stop_before_pixels : bool
        Stop before (7FE0,0010) *Pixel Data*: only the header bytes are read from a path.
    specific_tags : iterable of keywords or tags, optional
        Keep only these top-level elements (and *Specific Character Set*); reading stops after the largest.
    force : bool
        Read data without the 128-byte preamble and ``DICM`` prefix (the encoding is then guessed).
    max_depth : int, optional
        Deepest sequence nesting accepted (default 64); deeper raises a ``LimitError``.
    max_elements : int, optional
        Most elements accepted in the file, at all levels (default 50,000,000); more raises a ``LimitError``
        (in every ``on_error`` mode). The other limits: :mod:`dicomfast.limits`.
    transfer_syntax : str, optional
        The transfer syntax UID of a bare data set without file meta (e.g. one received over the network);
        without it the encoding is guessed from the first bytes. With it, the data is read as a bare data set
        from byte 0 (no preamble, "DICM" prefix or file meta is looked for: a data set's own bytes may spell
        "DICM" at byte 0 or 128).
    on_error : {"raise", "warn", "collect"}
        What to do with a damaged file: raise a ``ParseError`` (default); or read everything readable up to
        and around the damage and list the faults in ``ds.errors`` (``"collect"``), also issuing a
        :class:`~dicomfast.errors.DicomWarning` for each (``"warn"``). A value cut short by the end of the
        data is kept with the bytes present.
    defer_size : int or str, optional
        Accepted for pydicom's signature and not needed: every value is read on first access already.

    Returns
    -------
    Dataset
        The data set; values are decoded on first access.

    Raises
    ------
    InvalidDicomError
        The data is not DICOM and ``force`` is not set.
    ParseError
        The data is malformed (the message names the tag and the byte offset).
    """
    tags = _specific(specific_tags)
    if on_error not in ("raise", "warn", "collect"):
        raise ValueError(f"on_error must be 'raise', 'warn' or 'collect', not {on_error!r}")
    lenient = on_error != "raise"
    source: Any = None
    name: str | None = None
    if isinstance(fp, str | os.PathLike):
        name = os.fspath(fp)
        handle = _native.read_file(
            name, stop_before_pixels, tags, force, max_depth, transfer_syntax, lenient, max_elements
        )
        source = name
    elif isinstance(fp, bytes):
        handle = _native.read_bytes(
            fp, stop_before_pixels, tags, force, max_depth, transfer_syntax, lenient, max_elements
        )
        source = fp
    elif isinstance(fp, bytearray | memoryview):
        data = bytes(fp)
        handle = _native.read_bytes(
            data, stop_before_pixels, tags, force, max_depth, transfer_syntax, lenient, max_elements
        )
        source = data
    elif hasattr(fp, "read"):
        data = fp.read()
        if not isinstance(data, bytes):
            raise TypeError("dcmread needs a binary file object (opened with 'rb')")
        name = getattr(fp, "name", None)
        handle = _native.read_bytes(
            data, stop_before_pixels, tags, force, max_depth, transfer_syntax, lenient, max_elements
        )
        source = data
    else:
        raise TypeError(f"dcmread cannot read from {type(fp).__name__}")
    ds = Dataset._from_native(handle)
    d = ds.__dict__
    if name is not None:
        d["_filename"] = name
    d["_source"] = (source, stop_before_pixels, tags, force, max_depth, max_elements, transfer_syntax, on_error)
    if lenient:
        errors = [ReadError(Tag(t) if t is not None else None, off, msg) for t, off, msg in handle.read_errors()]
        d["errors"] = errors
        if on_error == "warn":
            import warnings

            from dicomfast.errors import DicomWarning

            for e in errors:
                warnings.warn(e.message, DicomWarning, stacklevel=2)
    return ds


_native.register(Dataset._from_native, Sequence, PersonName)
