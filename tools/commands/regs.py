"""atmemu regs: a device's register map as Markdown, generated from its declaration."""

from __future__ import annotations

from hw.errors import FieldError
from hw.regs import device_maps

NAME = "regs"
HELP = "print a device's register map (Markdown, from the declaration)"
DESCRIPTION = """Prints the programmer's reference of a device's registers: offsets, fields, access types,
reset values. Every device that declares a map in hw/<device>/registers.py (DEVICE and register_map())
is listed."""
EXAMPLES = """examples:
  atmemu regs --list
  atmemu regs fabric > docs/fabric-registers.md
"""


def register(p) -> None:
    p.add_argument("device", nargs="?", help="device whose map to print (see --list)")
    p.add_argument("--list", action="store_true", help="list the devices with a register map")


def main(args) -> int:
    maps = device_maps()
    if args.list or not args.device:
        print("\n".join(sorted(maps)))
        return 0 if args.list else 2
    if args.device not in maps:
        raise FieldError("device", args.device, "one of " + ", ".join(sorted(maps)))
    print(maps[args.device]().markdown(), end="")
    return 0
