"""Declarative register maps: a device's registers are declared once, and everything else comes from
that declaration: bus reads and writes by offset, named field helpers, bulk access to table windows,
validation of the values written, and the Markdown reference of the map.

Vocabulary (as in a chip's programmer's reference):

- a :class:`Field` is a bit range ``[msb:lsb]`` of a register with an access type and a reset value;
- a :class:`Register` sits at a byte offset, is 32 or 64 bits wide and is made of fields;
- a :class:`Window` is a table of identical entries (one per port, per VC, per leaf...): ``count``
  entries of ``stride`` octets starting at ``base``, each entry laid out by the window's registers
  (offsets relative to the entry);
- a :class:`RegisterMap` is the whole declaration for one device;
- a :class:`RegisterFile` binds a map to the device's state: each field reads and writes one numpy
  array (one element per window entry) that the device also uses, so programming a table through the
  registers *is* programming the hardware model, with no copy to keep in step.

Access types (the usual ones of hardware register specifications, e.g. IP-XACT / SystemRDL):

- ``RO``  read-only: bus writes are ignored (as hardware does); named writes raise :class:`AccessError`;
- ``RW``  read-write;
- ``W1C`` write-one-to-clear: reading gives the state, writing 1 to a bit clears it, 0 leaves it;
- ``RC``  read-to-clear: a bus read returns the value and clears it (named ``peek`` reads do not);
- ``WO``  write-only: reads return 0.

Devices make their maps discoverable by the ``atmemu regs`` command through a module
``hw/<device>/registers.py`` that defines ``DEVICE = "<name>"`` and ``register_map() -> RegisterMap``
(see :func:`device_maps`).
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

from hw.errors import AtmemuError, FieldError


class RegisterError(AtmemuError):
    """Base of the register-file errors."""


class UnmappedOffset(RegisterError, LookupError):
    """A bus access at an offset where no register is declared."""

    def __init__(self, device: str, offset: int, reason: str = "no register at this offset") -> None:
        self.device = device
        self.offset = offset
        super().__init__(f"{device}: offset {offset:#x}: {reason}")


class AccessError(RegisterError):
    """A named access that the field's access type forbids (e.g. writing a RO counter)."""

    def __init__(self, where: str, access: str, operation: str) -> None:
        self.where = where
        self.access = access
        self.operation = operation
        super().__init__(f"{where}: {access} field cannot be {operation}")


class Access(enum.StrEnum):
    RO = "RO"
    RW = "RW"
    W1C = "W1C"
    RC = "RC"
    WO = "WO"

    @property
    def readable(self) -> bool:
        return self is not Access.WO

    @property
    def writable(self) -> bool:
        return self in (Access.RW, Access.W1C, Access.WO)


@dataclass(frozen=True)
class Field:
    name: str
    msb: int
    lsb: int
    access: Access = Access.RW
    reset: int = 0
    doc: str = ""
    #: named values of the field (for documentation and for writing by name), e.g. {"OQ": 0, ...}
    values: Mapping[str, int] | None = None

    @property
    def width(self) -> int:
        return self.msb - self.lsb + 1

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    def bits(self) -> str:
        return f"[{self.msb}]" if self.msb == self.lsb else f"[{self.msb}:{self.lsb}]"


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    fields: tuple[Field, ...]
    doc: str = ""
    width: int = 32

    @property
    def octets(self) -> int:
        return self.width // 8

    @property
    def reset(self) -> int:
        return sum((f.reset & f.mask) << f.lsb for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise FieldError("field", f"{self.name}.{name}", "one of " + ", ".join(f.name for f in self.fields))


def counter(name: str, offset: int, doc: str, access: Access = Access.RO) -> Register:
    """A 64-bit free-running statistics counter (one field, COUNT[63:0])."""
    return Register(name, offset, (Field("COUNT", 63, 0, access, 0, doc),), doc, width=64)


@dataclass(frozen=True)
class Window:
    """A table of ``count`` identical entries at ``base + index * stride``."""

    name: str
    base: int
    count: int
    stride: int
    registers: tuple[Register, ...]
    doc: str = ""
    #: how the entry count follows from the device's configuration, for the documentation ("ports + 1")
    count_doc: str = ""

    def register(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise FieldError("register", f"{self.name}.{name}", "one of " + ", ".join(r.name for r in self.registers))

    @property
    def end(self) -> int:
        return self.base + self.count * self.stride


@dataclass(frozen=True)
class RegisterMap:
    device: str
    title: str
    registers: tuple[Register, ...] = ()
    windows: tuple[Window, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        self._validate()

    # -- declaration checks ------------------------------------------------------------------------
    def _validate(self) -> None:
        def check_register(r: Register, where: str, limit: int | None) -> None:
            if r.width not in (32, 64):
                raise FieldError(f"{where}.width", r.width, "32 or 64")
            if r.offset % r.octets:
                raise FieldError(f"{where}.offset", hex(r.offset), f"aligned to {r.octets} octets")
            if limit is not None and r.offset + r.octets > limit:
                raise FieldError(f"{where}.offset", hex(r.offset), f"inside the entry stride {limit:#x}")
            used = 0
            names = set()
            for f in r.fields:
                if f.name in names:
                    raise FieldError(f"{where}.{f.name}", f.name, "a field name unique in its register")
                names.add(f.name)
                if not (0 <= f.lsb <= f.msb < r.width):
                    raise FieldError(f"{where}.{f.name}", f.bits(), f"bits inside 0..{r.width - 1}")
                bits = f.mask << f.lsb
                if used & bits:
                    raise FieldError(f"{where}.{f.name}", f.bits(), "bits not used by another field")
                used |= bits
                if f.reset & ~f.mask:
                    raise FieldError(f"{where}.{f.name}.reset", f.reset, f"fits in {f.width} bits")

        def check_overlaps(regs: Iterable[Register], where: str) -> None:
            spans = sorted((r.offset, r.offset + r.octets, r.name) for r in regs)
            for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
                if b0 < a1:
                    raise FieldError(f"{where}.{bn}.offset", hex(b0), f"not overlapping {an} ({a0:#x}..{a1:#x})")

        names = [r.name for r in self.registers] + [w.name for w in self.windows]
        if len(names) != len(set(names)):
            raise FieldError("name", names, "register and window names unique in the map")
        for r in self.registers:
            check_register(r, r.name, None)
        check_overlaps(self.registers, self.device)
        spans = [(r.offset, r.offset + r.octets, r.name) for r in self.registers]
        for w in self.windows:
            if w.count < 0 or w.stride <= 0:
                raise FieldError(f"{w.name}.count/stride", (w.count, w.stride), "count >= 0, stride > 0")
            for r in w.registers:
                check_register(r, f"{w.name}.{r.name}", w.stride)
            check_overlaps(w.registers, w.name)
            spans.append((w.base, w.end, w.name))
        spans.sort()
        for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
            if b0 < a1:
                raise FieldError(f"{bn}.base", hex(b0), f"not overlapping {an} ({a0:#x}..{a1:#x})")

    # -- look-ups ----------------------------------------------------------------------------------
    def window(self, name: str) -> Window:
        for w in self.windows:
            if w.name == name:
                return w
        raise FieldError("window", name, "one of " + ", ".join(w.name for w in self.windows))

    def register(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise FieldError("register", name, "one of " + ", ".join(r.name for r in self.registers))

    def resolve(self, name: str) -> tuple[Window | None, Register]:
        """``"STATUS"`` -> (None, register); ``"PORT.CTRL"`` -> (window, register)."""
        if "." in name:
            wname, rname = name.split(".", 1)
            w = self.window(wname)
            return w, w.register(rname)
        return None, self.register(name)

    def decode(self, offset: int) -> tuple[Window | None, int, Register]:
        """The register at a bus offset: (window or None, entry index, register)."""
        for r in self.registers:
            if r.offset == offset:
                return None, 0, r
        for w in self.windows:
            if w.base <= offset < w.end:
                index, rel = divmod(offset - w.base, w.stride)
                for r in w.registers:
                    if r.offset == rel:
                        return w, index, r
                raise UnmappedOffset(self.device, offset, f"{w.name}[{index}] has no register at +{rel:#x}")
        raise UnmappedOffset(self.device, offset)

    def offset_of(self, name: str, index: int = 0) -> int:
        w, r = self.resolve(name)
        if w is None:
            return r.offset
        if not 0 <= index < w.count:
            raise FieldError(f"{w.name} index", index, f"0..{w.count - 1}")
        return w.base + index * w.stride + r.offset

    # -- documentation -----------------------------------------------------------------------------
    def markdown(self) -> str:
        """The programmer's reference of the map, generated from the declaration."""
        out = [f"# {self.title}", ""]
        if self.doc:
            out += [self.doc.strip(), ""]
        out += [
            "Access: RO read-only (bus writes ignored), RW read-write, W1C write 1 to clear,",
            "RC cleared by a read, WO write-only (reads 0). Offsets are in octets.",
            "",
            "## Summary",
            "",
            "| offset | name | width | description |",
            "|---|---|---|---|",
        ]
        for r in self.registers:
            out.append(f"| {r.offset:#06x} | {r.name} | {r.width} | {_one_line(r.doc)} |")
        for w in self.windows:
            count = w.count_doc or str(w.count)
            out.append(
                f"| {w.base:#010x} | {w.name}[{count}] | stride {w.stride:#x} | {_first_sentence(w.doc)} |"
            )
        out.append("")
        if self.registers:
            out += ["## Registers", ""]
            for r in self.registers:
                out += _register_md(r, f"{r.offset:#06x}")
        for w in self.windows:
            count = w.count_doc or str(w.count)
            out += [
                f"## Window {w.name}",
                "",
                f"{count} entries; entry *i* at {w.base:#x} + *i* x {w.stride:#x}"
                + (f" (this configuration: {w.count} entries)." if w.count_doc else "."),
                "",
            ]
            if w.doc:
                out += [w.doc.strip(), ""]
            for r in w.registers:
                out += _register_md(r, f"+{r.offset:#04x}", prefix=f"{w.name}.")
        return "\n".join(out).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_sentence(text: str) -> str:
    line = _one_line(text)
    cut = line.find(". ")
    return line if cut < 0 else line[: cut + 1]


def _register_md(r: Register, where: str, prefix: str = "") -> list[str]:
    out = [f"### {prefix}{r.name} ({where}, {r.width} bits, reset {r.reset:#x})", ""]
    if r.doc:
        out += [_one_line(r.doc), ""]
    out += ["| bits | field | access | reset | description |", "|---|---|---|---|---|"]
    for f in sorted(r.fields, key=lambda f: -f.msb):
        desc = _one_line(f.doc)
        if f.values:
            desc = (desc.rstrip(".") + ". " if desc else "") + "Values: " + ", ".join(f"{k}={v}" for k, v in f.values.items()) + "."
        out.append(f"| {f.bits()} | {f.name} | {f.access} | {f.reset:#x} | {desc} |")
    out.append("")
    return out


# --------------------------------------------------------------------------------------------------
# Binding a map to device state
# --------------------------------------------------------------------------------------------------

#: called after a write: (register name as "WINDOW.REG" or "REG", entry indices written)
WriteHook = Callable[[str, np.ndarray], None]
#: called before a read of a register so the device can refresh derived values: (name, indices)
ReadHook = Callable[[str, np.ndarray], None]


@dataclass
class RegisterFile:
    """A register map bound to storage: one numpy array per field (``count`` elements for a window
    field, one element for a plain register). ``backing`` maps ``"REG.FIELD"`` or
    ``"WINDOW.REG.FIELD"`` to the device's array, or to ``(array, shift)`` when the field lives in
    bits ``shift..`` of a flags array the device packs several fields into. Fields without a backing
    array get a private one holding the reset value. Arrays are written in place, so the device sees
    every write at once.

    Hooks: ``check(name, indices, values)`` runs before a write with the new field values (it raises
    to refuse them, and nothing is written); ``on_write(name, indices)`` runs after it;
    ``on_read(name, indices)`` runs before a read. ``check_names``: the registers whose writes the check
    hook looks at (None: all); writes to the others skip it (and the values it would be given are not
    built), as a device whose checker has nothing to say about them."""

    map: RegisterMap
    backing: Mapping[str, "np.ndarray | tuple[np.ndarray, int]"] = field(default_factory=dict)
    on_write: WriteHook | None = None
    on_read: ReadHook | None = None
    check: Callable[[str, np.ndarray, dict], None] | None = None
    check_names: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self._bus_plans: dict[int, tuple] = {}  # bus offset -> decoded write (see _bus_plan)
        self._field_plans: dict[tuple[str, str], tuple] = {}  # (register, field) -> decoded read (see get)
        self._store: dict[str, np.ndarray] = {}
        self._shift: dict[str, int | None] = {}
        for w, r in self._all():
            count = 1 if w is None else w.count
            base = r.name if w is None else f"{w.name}.{r.name}"
            for f in r.fields:
                key = f"{base}.{f.name}"
                arr = self.backing.get(key)
                shift = None  # None: the array holds this field alone; else packed at bit ``shift``
                if isinstance(arr, tuple):
                    arr, shift = arr
                    if arr.dtype.kind != "u" or (f.mask << shift) > _full_mask(arr):
                        raise FieldError(key, shift, f"a shift that fits {f.width} bits in an unsigned array")
                if arr is None:
                    dtype = np.uint64 if f.width > 32 else np.uint32
                    arr = np.full(count, f.reset, dtype=dtype)
                elif arr.shape != (count,):
                    raise FieldError(key, arr.shape, f"a backing array of shape ({count},)")
                self._store[key] = arr
                self._shift[key] = shift
        unknown = set(self.backing) - set(self._store)
        if unknown:
            raise FieldError("backing", sorted(unknown), "names of declared fields")

    def _all(self):
        for r in self.map.registers:
            yield None, r
        for w in self.map.windows:
            for r in w.registers:
                yield w, r

    def array(self, name: str) -> np.ndarray:
        """The array behind a field, e.g. ``array("PORT.CTRL.CAPTURE")``."""
        try:
            return self._store[name]
        except KeyError:
            raise FieldError("field", name, "a declared REG.FIELD or WINDOW.REG.FIELD") from None

    def reset(self) -> None:
        """Every field back to its reset value."""
        for w, r in self._all():
            base = r.name if w is None else f"{w.name}.{r.name}"
            for f in r.fields:
                key = f"{base}.{f.name}"
                self._put(key, f, slice(None), np.int64(f.reset))

    def _get(self, key: str, f: Field, index) -> np.ndarray:
        arr, shift = self._store[key], self._shift[key]
        if shift is None:
            return arr[index]
        return (arr[index] >> shift) & f.mask

    def _put(self, key: str, f: Field, index, values) -> None:
        arr, shift = self._store[key], self._shift[key]
        if shift is None:
            arr[index] = values
            return
        keep = np.asarray(_full_mask(arr) & ~(f.mask << shift), dtype=arr.dtype)
        vals = (np.asarray(values).astype(np.int64) << shift).astype(arr.dtype)
        arr[index] = (arr[index] & keep) | vals

    # -- bus access --------------------------------------------------------------------------------
    def read(self, offset: int) -> int:
        """A bus read at a byte offset: the register's value (RC fields clear, WO fields read 0)."""
        w, index, r = self.map.decode(offset)
        name = r.name if w is None else f"{w.name}.{r.name}"
        value = self._compose(name, r, index)
        for f in r.fields:
            if f.access is Access.RC:
                self._put(f"{name}.{f.name}", f, index, 0)
        return value

    def write(self, offset: int, value: int) -> None:
        """A bus write at a byte offset, with hardware semantics: RO bits ignored, W1C bits clear.

        The offset is decoded once (:meth:`_bus_plan`) and the write runs on Python ints: the same
        effects as the named path (:meth:`_apply` with ``bus=True``: the check hook with every written
        field's value as a one-element array, the fields stored, the write hook), which
        tests/hw/test_regs_fast_path.py holds equal to it."""
        plan = self._bus_plans.get(offset)
        if plan is None:
            plan = self._bus_plan(offset)
        name, width, index, idx, fields, checked = plan
        if value.__class__ is not int:
            if not isinstance(value, (int, np.integer)):
                raise FieldError(f"{name} value", value, f"an unsigned {width}-bit value")
            value = int(value)
        if not 0 <= value < (1 << width):
            raise FieldError(f"{name} value", value, f"an unsigned {width}-bit value")
        if not fields:
            return  # no writable field: hardware ignores the write
        if checked and self.check is not None:
            self.check(name, idx, {fname: np.array([(value >> lsb) & mask])
                                   for fname, lsb, mask, _, _, _ in fields})
        for _, lsb, mask, w1c, arr, shift in fields:
            v = (value >> lsb) & mask
            if shift is None:
                arr[index] = (int(arr[index]) & ~v) if w1c else v
            else:
                cur = int(arr[index])
                if w1c:
                    v = ((cur >> shift) & mask) & ~v
                arr[index] = (cur & ~(mask << shift)) | (v << shift)
        if self.on_write is not None:
            self.on_write(name, idx)

    def _bus_plan(self, offset: int) -> tuple:
        """(register name, width, entry index, index array, writable fields as (name, lsb, mask, W1C,
        array, shift), whether ``check_names`` lets the check hook see it) of the register at
        ``offset``, decoded once and kept."""
        w, index, r = self.map.decode(offset)
        name = r.name if w is None else f"{w.name}.{r.name}"
        fields = tuple((f.name, f.lsb, f.mask, f.access is Access.W1C, self._store[f"{name}.{f.name}"],
                        self._shift[f"{name}.{f.name}"]) for f in r.fields if f.access.writable)
        idx = np.array([index])
        idx.flags.writeable = False  # shared by every write of this offset: hooks only read it
        plan = (name, r.width, index, idx, fields, self.check_names is None or name in self.check_names)
        self._bus_plans[int(offset)] = plan
        return plan

    # -- named access ------------------------------------------------------------------------------
    def peek(self, name: str, index: int = 0) -> int:
        """The value of a register (``"STATUS"`` or ``"PORT.RX_CELLS"``), without read side effects."""
        w, r = self.map.resolve(name)
        return self._compose(name, r, self._index(w, index))

    def get(self, name: str, field: str | None = None, index: int = 0) -> int:
        """A field (or the whole register when ``field`` is None), without read side effects."""
        if field is None:
            w, r = self.map.resolve(name)
            return self._compose(name, r, self._index(w, index))
        plan = self._field_plans.get((name, field))
        if plan is None:
            plan = self._field_plan(name, field)
        w, arr, shift, mask = plan
        i = self._index(w, index)
        if self.on_read is not None:
            self.on_read(name, np.array([i]))
        v = int(arr[i])
        return (v if shift is None else v >> shift) & mask

    def _field_plan(self, name: str, field: str) -> tuple:
        """(window, array, shift, mask) of a readable field, decoded once and kept (the named read path
        of :meth:`get`: the same value as ``_get`` masked to the field)."""
        w, r = self.map.resolve(name)
        f = r.field(field)
        if not f.access.readable:
            raise AccessError(f"{name}.{field}", f.access, "read")
        key = f"{name}.{field}"
        plan = (w, self._store[key], self._shift[key], f.mask)
        self._field_plans[(name, field)] = plan
        return plan

    def set(self, name: str, index: int = 0, **fields: int) -> None:
        """Write named fields of one register (read-modify-write: other fields keep their value)."""
        w, r = self.map.resolve(name)
        self._apply(name, r, np.array([self._index(w, index)]), fields, bus=False)

    def write_table(self, window: str, indices, **fields) -> None:
        """Bulk write of window entries: ``fields`` maps ``"REG.FIELD"``, a field name unique in the
        window, or the name of a one-field register, to a scalar or an array (one value per index). Values are checked against the
        field widths; the device's write hook runs once per register touched."""
        w = self.map.window(window)
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        if idx.size and (idx.min() < 0 or idx.max() >= w.count):
            raise FieldError(f"{window} index", int(idx.min() if idx.min() < 0 else idx.max()), f"0..{w.count - 1}")
        per_reg: dict[str, dict[str, object]] = {}
        for key, value in fields.items():
            rname, fname = self._split_window_field(w, key)
            per_reg.setdefault(rname, {})[fname] = value
        for rname, fvals in per_reg.items():
            self._apply(f"{window}.{rname}", w.register(rname), idx, fvals, bus=False)

    def read_table(self, window: str, key: str, indices=None) -> np.ndarray:
        """Bulk read of one field of a window: ``read_table("VC", "IN_CELLS")`` (no side effects)."""
        w = self.map.window(window)
        rname, fname = self._split_window_field(w, key)
        f = w.register(rname).field(fname)
        if not f.access.readable:
            raise AccessError(f"{window}.{rname}.{fname}", f.access, "read")
        idx = np.arange(w.count) if indices is None else np.atleast_1d(np.asarray(indices, dtype=np.int64))
        self._before_read(f"{window}.{rname}", idx)
        return np.array(self._get(f"{window}.{rname}.{fname}", f, idx))

    # -- internals ---------------------------------------------------------------------------------
    def _split_window_field(self, w: Window, key: str) -> tuple[str, str]:
        if "." in key:
            rname, fname = key.split(".", 1)
            w.register(rname).field(fname)
            return rname, fname
        owners = [r.name for r in w.registers if any(f.name == key for f in r.fields)]
        if not owners:  # a register with a single field may be named by the register's name
            single = [r for r in w.registers if r.name == key and len(r.fields) == 1]
            if single:
                return key, single[0].fields[0].name
        if len(owners) != 1:
            raise FieldError(f"{w.name} field", key, "REG.FIELD, or a field name unique in the window")
        return owners[0], key

    @staticmethod
    def _index(w: Window | None, index: int) -> int:
        if w is None:
            if index != 0:
                raise FieldError("index", index, "0 for a register outside a window")
            return 0
        if not 0 <= index < w.count:
            raise FieldError(f"{w.name} index", index, f"0..{w.count - 1}")
        return index

    def _checks(self, name: str) -> bool:
        """Whether the check hook sees writes to register ``name``."""
        return self.check is not None and (self.check_names is None or name in self.check_names)

    def _before_read(self, name: str, idx: np.ndarray) -> None:
        if self.on_read is not None:
            self.on_read(name, idx)

    def _compose(self, name: str, r: Register, index: int) -> int:
        self._before_read(name, np.array([index]))
        value = 0
        for f in r.fields:
            if f.access.readable:
                value |= (int(self._get(f"{name}.{f.name}", f, index)) & f.mask) << f.lsb
        return value

    def _apply(self, name: str, r: Register, idx: np.ndarray, fvals: Mapping[str, object], bus: bool) -> None:
        staged: list[tuple[str, Field, np.ndarray]] = []
        for fname, raw in fvals.items():
            f = r.field(fname)
            where = f"{name}.{fname}"
            if isinstance(raw, str):
                if not f.values or raw not in f.values:
                    raise FieldError(where, raw, "one of " + ", ".join(f.values or {}) if f.values else "a number")
                raw = f.values[raw]
            vals = np.asarray(raw)
            if vals.ndim and vals.shape != idx.shape:
                raise FieldError(where, vals.shape, f"a scalar or {idx.shape[0]} values")
            ivals = vals.astype(np.int64) if vals.dtype != np.uint64 else vals
            if ivals.size and (int(ivals.min()) < 0 or int(ivals.max()) > f.mask):
                bad = int(ivals.min()) if int(ivals.min()) < 0 else int(ivals.max())
                raise FieldError(where, bad, f"0..{f.mask} ({f.width} bits)")
            if not f.access.writable:
                if bus:
                    continue  # hardware ignores writes to read-only bits
                raise AccessError(where, f.access, "written")
            staged.append((where, f, np.broadcast_to(ivals, idx.shape)))
        if not staged:
            return
        if self._checks(name):
            self.check(name, idx, {where.rsplit(".", 1)[1]: v for where, _, v in staged})
        for where, f, vals in staged:
            if f.access is Access.W1C:
                old = np.asarray(self._get(where, f, idx), dtype=np.int64)
                self._put(where, f, idx, old & ~vals.astype(np.int64))
            else:
                self._put(where, f, idx, vals)
        if self.on_write is not None:
            self.on_write(name, idx)


def _full_mask(arr: np.ndarray) -> int:
    return (1 << (8 * arr.itemsize)) - 1


# --------------------------------------------------------------------------------------------------
# Discovery of the devices' maps (for ``atmemu regs``)
# --------------------------------------------------------------------------------------------------


def device_maps() -> dict[str, Callable[[], RegisterMap]]:
    """``{device name: register_map}`` for every module ``hw/<package>/registers.py`` that defines
    ``DEVICE`` and ``register_map()`` (the map of a default configuration)."""
    import hw

    found: dict[str, Callable[[], RegisterMap]] = {}
    for info in sorted(pkgutil.iter_modules(hw.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"hw.{info.name}.registers")
        except ModuleNotFoundError as exc:
            if exc.name == f"hw.{info.name}.registers":
                continue
            raise
        name = getattr(module, "DEVICE", None)
        provider = getattr(module, "register_map", None)
        if name and callable(provider):
            found[name] = provider
    return found
