"""Routing of called party numbers: longest-prefix match over the address plan, and the causes of
refusal (Q.850: 1 unallocated number inside the switch's domain, 3 no route outside it, 28 invalid
number format)."""

from __future__ import annotations

import pytest

from firmware.switch.config import AddressPrefix, PortConfig, SwitchConfig
from firmware.switch.errors import RoutingError, SwitchConfigError
from firmware.switch.routing import Router
from firmware.uni import builders as B

DOMAIN = "39.840f.80.113744.0000.0000"


def aesa(text: str) -> bytes:
    return B.aesa(text)


@pytest.fixture
def plan() -> SwitchConfig:
    return SwitchConfig.uniform(16, domain=DOMAIN, e164="1555010")


def test_each_port_gets_its_own_addresses(plan: SwitchConfig) -> None:
    r = Router(plan)
    for p in range(16):
        assert r.route(plan.aesa_of(p, esi=0x0000_0000_1234, sel=7)) == p
        assert r.route(f"+1555010{p:02d}4711") == p
    assert sum(r.routed.values()) == 32 and not r.refused


def test_called_party_number_ie_is_routed_by_its_plan(plan: SwitchConfig) -> None:
    r = Router(plan)
    assert r.route(B.called_party_number(plan.aesa_of(5))) == 5
    assert r.route(B.called_party_number("155501007")) == 7


def test_unassigned_number_inside_the_domain_is_cause_1(plan: SwitchConfig) -> None:
    r = Router(plan)
    with pytest.raises(RoutingError) as e:
        r.route(aesa(DOMAIN + ".0010.0000.0000.0001.00"))     # port 16 of a 16-port switch: unassigned
    assert e.value.cause == 1 and "39.840f.80.113744.0000.0000.0010" in str(e.value)
    with pytest.raises(RoutingError) as e:
        r.route("+155501099")
    assert e.value.cause == 1
    assert r.refused[1] == 2


def test_number_outside_every_prefix_is_cause_3(plan: SwitchConfig) -> None:
    r = Router(plan)
    with pytest.raises(RoutingError) as e:
        r.route(aesa("47.0005.80.ffe100.0000.0000.0001.000000000001.00"))   # an ICD address elsewhere
    assert e.value.cause == 3
    with pytest.raises(RoutingError) as e:
        r.route("+4930123456")
    assert e.value.cause == 3


def test_bad_formats_are_cause_28(plan: SwitchConfig) -> None:
    r = Router(plan)
    for number in ("+15550A0", b"\x39" * 7, None, B.called_party_number("1555", plan=9)):
        with pytest.raises(RoutingError) as e:
            r.route(number)
        assert e.value.cause == 28, number


def test_longest_prefix_wins() -> None:
    # port 0 serves the whole 88-bit domain, port 1 a 104-bit prefix inside it, port 2 a 100-bit one
    cfg = SwitchConfig((
        PortConfig(0, prefixes=(DOMAIN,)),
        PortConfig(1, prefixes=(DOMAIN + ".0001",)),
        PortConfig(2, prefixes=(DOMAIN + ".002",)),          # 100 bits
        PortConfig(3, prefixes=("+49", "+4930")),
        PortConfig(4, prefixes=("+493012",)),
    ))
    r = Router(cfg)
    assert r.route(aesa(DOMAIN + ".0001.0000.0000.0001.00")) == 1
    assert r.route(aesa(DOMAIN + ".0021.0000.0000.0001.00")) == 2     # the 100-bit prefix beats the 88-bit one
    assert r.route(aesa(DOMAIN + ".0030.0000.0000.0001.00")) == 0     # only the domain matches
    assert r.route("+4930129999") == 4
    assert r.route("+4930999") == 3
    assert r.route("+4989") == 3


def test_prefix_parsing_and_bits() -> None:
    p = AddressPrefix.parse("39.840f/12")
    assert p.bits == 12 and p.value >> 148 == 0x398
    assert AddressPrefix.parse(b"\x39\x84").bits == 16
    assert AddressPrefix.parse("+1555").digits == "1555"
    assert str(AddressPrefix.parse("39.840f/12")) == "398"
    assert str(AddressPrefix.parse("39.84/10")) == "398/10" and AddressPrefix.parse("39.84/10").bits == 10
    for bad in ("39.84zz", "39/9", "+15x", "e164:" + "1" * 16, 42):
        with pytest.raises(SwitchConfigError):
            AddressPrefix.parse(bad)


def test_a_prefix_on_two_ports_is_refused() -> None:
    with pytest.raises(SwitchConfigError):
        SwitchConfig((PortConfig(0, prefixes=(DOMAIN,)), PortConfig(1, prefixes=(DOMAIN,))))


def test_config_checks_ranges() -> None:
    with pytest.raises(SwitchConfigError):
        PortConfig(0, vci_range=(5, 100))              # VCI 0..31 are reserved (I.361)
    with pytest.raises(SwitchConfigError):
        PortConfig(0, vpi_range=(0, 256))              # 8-bit VPI at the UNI
    with pytest.raises(SwitchConfigError):
        PortConfig(0, utilisation=1.5)
    with pytest.raises(SwitchConfigError):
        SwitchConfig((PortConfig(1),))                 # indices must be 0..n-1 in order
    assert SwitchConfig.uniform(2).aesa_of(1, esi=0xA1B2C3D4E5F6, sel=9).hex() == \
        "39840f8011374400000000" + "0001" + "a1b2c3d4e5f6" + "09"
