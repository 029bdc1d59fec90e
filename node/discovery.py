"""Finding neighbours on the LAN with mDNS (multicast DNS service discovery), for node/wifi.py.

Each node announces one service ``<peer id>._entraide._tcp.local.`` with its IPv4 addresses,
its TCP port and a TXT record ``id=<peer id>``, ``zone=<zone id hex>``, and browses for the
others. Services of other zones are ignored, and so is our own. A sighting only says where a
peer can be dialled: node/wifi.py dials it (nothing dials by itself) and watches it with pings
(an mDNS goodbye is not a liveness signal). IPv4 only.

zeroconf is thread-based: starting it blocks for ~1.6 s (probing the name on the network) and
its callbacks arrive on its own threads, so it is started, queried and stopped on trio worker
threads (``trio.to_thread``), and callbacks are handed into trio with
``trio.from_thread.run_sync(..., trio_token=...)``. Many home routers filter multicast: a
static peer list (the zone's bootstrap peers) must always work without this module.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import ifaddr
import trio
from zeroconf import (
    InterfaceChoice,
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    ServiceListener,
    Zeroconf,
)

__all__ = [
    "SERVICE_TYPE",
    "MdnsDiscovery",
    "Sighting",
    "expand_wildcard",
    "ipv4_interface_addresses",
]

log = logging.getLogger(__name__)

SERVICE_TYPE = "_entraide._tcp.local."
#: How long one lookup of a sighted service's records may take (zeroconf's unit: ms).
RESOLVE_TIMEOUT_MS = 3000
#: Sightings waiting to be resolved; more are dropped (mDNS announces again anyway).
PENDING_SIGHTINGS = 256
STOP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Sighting:
    """A peer of our zone announced itself: where it can be dialled."""

    peer_id: str
    addrs: tuple[str, ...]  # multiaddrs without /p2p/, e.g. "/ip4/192.168.1.20/tcp/40123"


def ipv4_interface_addresses() -> list[str]:
    """This machine's IPv4 addresses, loopback last."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and ip.ip not in found:
                found.append(ip.ip)
    return sorted(found, key=lambda a: (ipaddress.ip_address(a).is_loopback, a))


def expand_wildcard(addrs: Iterable[str]) -> list[str]:
    """Listen multiaddrs with ``/ip4/0.0.0.0/`` replaced by each interface address."""
    expanded: list[str] = []
    for addr in addrs:
        if addr.startswith("/ip4/0.0.0.0/"):
            rest = addr[len("/ip4/0.0.0.0/") :]
            expanded.extend(f"/ip4/{ip}/{rest}" for ip in ipv4_interface_addresses())
        else:
            expanded.append(addr)
    return list(dict.fromkeys(expanded))


class _Listener(ServiceListener):
    """zeroconf's callbacks (on its threads): hand the service name to trio, nothing more."""

    def __init__(self, token: trio.lowlevel.TrioToken, names: trio.MemorySendChannel[str]):
        self._token = token
        self._names = names
        self.closed = False

    def _hand_in(self, name: str) -> None:
        if self.closed:
            return
        try:
            trio.from_thread.run_sync(self._names.send_nowait, name, trio_token=self._token)
        except trio.WouldBlock:
            log.debug("mDNS: too many sightings pending, %s dropped (it will announce again)", name)
        except (trio.RunFinishedError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # shutting down

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._hand_in(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._hand_in(name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass  # liveness is the ping watchdog's job, not mDNS's


class MdnsDiscovery:
    """Announce this node and report the peers of the same zone that announce themselves."""

    def __init__(self, *, peer_id: str, zone_hex: str, port: int, addresses: list[str]) -> None:
        self.peer_id = peer_id
        self.zone_hex = zone_hex
        self.port = port
        self.addresses = [a for a in addresses if _is_ipv4(a)]
        self.sightings_resolved = 0
        self.sightings_ignored = 0

    async def serve(
        self,
        sightings: trio.MemorySendChannel[Sighting],
        *,
        task_status: Any = trio.TASK_STATUS_IGNORED,
    ) -> None:
        token = trio.lowlevel.current_trio_token()
        names_in, names_out = trio.open_memory_channel[str](PENDING_SIGHTINGS)
        listener = _Listener(token, names_in)
        # Blocking (~1.6 s): on a worker thread, so the node keeps running meanwhile.
        zc, browser = await trio.to_thread.run_sync(self._start, listener)
        try:
            log.info(
                "mDNS: announcing %s on %s port %d",
                SERVICE_TYPE,
                ", ".join(self.addresses),
                self.port,
            )
            task_status.started()
            async with names_out:
                async for name in names_out:
                    try:
                        info = await trio.to_thread.run_sync(
                            partial(zc.get_service_info, SERVICE_TYPE, name, RESOLVE_TIMEOUT_MS),
                            abandon_on_cancel=True,  # type: ignore[call-arg]  # stale trio-stubs
                        )
                    except Exception as exc:  # zeroconf's errors on names from the network
                        log.debug("mDNS: cannot resolve %s: %s", name, exc)
                        continue
                    sighting = self._parse(name, info)
                    if sighting is not None:
                        self.sightings_resolved += 1
                        await sightings.send(sighting)
        finally:
            listener.closed = True
            with trio.CancelScope(shield=True), trio.move_on_after(STOP_TIMEOUT):
                await trio.to_thread.run_sync(self._stop, zc, browser)

    def _start(self, listener: _Listener) -> tuple[Zeroconf, ServiceBrowser]:
        zc = Zeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
        try:
            info = ServiceInfo(
                SERVICE_TYPE,
                f"{self.peer_id}.{SERVICE_TYPE}",
                port=self.port,
                properties={"id": self.peer_id, "zone": self.zone_hex},
                server=f"{self.peer_id.lower()}.local.",
                addresses=[socket.inet_aton(a) for a in self.addresses],
            )
            zc.register_service(info, allow_name_change=True)
            browser = ServiceBrowser(zc, SERVICE_TYPE, listener=listener)
        except BaseException:
            zc.close()
            raise
        return zc, browser

    @staticmethod
    def _stop(zc: Zeroconf, browser: ServiceBrowser) -> None:
        browser.cancel()
        zc.unregister_all_services()
        zc.close()

    def _parse(self, name: str, info: ServiceInfo | None) -> Sighting | None:
        if info is None:
            log.debug("mDNS: %s did not answer in time", name)
            return None
        props = info.properties
        peer_id = _text(props.get(b"id"))
        zone = _text(props.get(b"zone"))
        if peer_id is None or peer_id == self.peer_id:
            return None
        if zone != self.zone_hex:
            self.sightings_ignored += 1
            log.debug("mDNS: %s belongs to zone %s, not ours", name, zone)
            return None
        if info.port is None:
            return None
        addrs = tuple(
            f"/ip4/{ip}/tcp/{info.port}" for ip in info.parsed_addresses() if _is_ipv4(ip)
        )
        return Sighting(peer_id, addrs) if addrs else None


def _is_ipv4(address: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address)
    except ValueError:
        return False


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return None
