"""The data behind the sandbox: companies, document stores, change tracking, stock.

Contract: a :class:`World` holds every company's data set, the shared products (shared
across companies, as EcoResProduct is in AX), RecId/RecVersion allocation, a virtual clock
(real time plus an offset the tests can advance) and the seeded RNG. Every change to a
document goes through :meth:`DocStore.put` or :meth:`World.touch`, which stamps RecIds,
bumps RecVersions and records the change for ``getChangedKeys``.

RecIds: a real AOS never hands out a RecId twice in a database's life. A sandbox is rebuilt
from its seed on every start, so each life starts its RecId sequence above every earlier
life's: at :func:`life_recid_base` (the start time in milliseconds, 1,000 RecIds per
millisecond of wall time between two starts). Everything else (ids from number sequences,
names, RecVersions) stays the same for the same seed. :meth:`World.predate` moves the seeded
data's change time before the start, as in an AOS whose data predates the bridge.
Not thread-safe by design: the app serialises calls (one IIS worker) or runs them on one
event loop.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from ..wsdl import SERVICES, ServiceSpec
from .entity import Entity, walk

__all__ = ["Company", "DocStore", "World", "fmt", "norm_key"]

FIRST_RECID = 5637144576  # AX RecIds of a fresh partition start here
#: RecIds one sandbox life may take per millisecond of wall time before the next life starts
RECIDS_PER_MS = 1000
#: how long before the start the seeded data was last changed (inside change tracking's
#: two-day retention, far outside any poller's overlap window)
SEED_AGE_S = 24 * 3600.0


def life_recid_base(start: float) -> int:
    """The last RecId "used" before a sandbox life started at ``start`` (epoch seconds).

    Lives started later begin higher, so a RecId of one life is never a RecId of another
    (unless one life took more than :data:`RECIDS_PER_MS` RecIds per millisecond it ran)."""
    global _LAST_BASE
    base = max(FIRST_RECID + int(start * 1000) * RECIDS_PER_MS, _LAST_BASE + 1_000_000)
    _LAST_BASE = base  # two lives started in one millisecond by one process still do not meet
    return base


_LAST_BASE = 0


def fmt(value: Decimal) -> str:
    """Canonical decimal text: no exponent, no trailing zeros ("12.5", "3", "0")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def norm_key(values: tuple[str, ...]) -> tuple[str, ...]:
    """AX compares keys case-insensitively (SQL collation)."""
    return tuple(v.strip().lower() for v in values)


@dataclass
class DocStore:
    """The documents of one service in one company, by normalised key."""

    spec: ServiceSpec
    docs: dict[tuple[str, ...], Entity] = field(default_factory=dict)
    changes: dict[tuple[str, ...], tuple[float, int]] = field(default_factory=dict)

    def key_of(self, entity: Entity) -> tuple[str, ...]:
        return tuple(str(entity.rec_id) if f == "RecId" else entity.get(f) for f in self.spec.key_fields)

    def get(self, key: tuple[str, ...]) -> Entity | None:
        return self.docs.get(norm_key(key))


@dataclass
class Company:
    """One AX company (DataAreaId) with its own stores, number sequences and master data."""

    id: str
    stores: dict[str, DocStore]
    counters: dict[str, int] = field(default_factory=dict)
    cust_groups: dict[str, str] = field(default_factory=dict)  # group -> payment terms
    warehouses: dict[str, str] = field(default_factory=dict)  # InventLocationId -> InventSiteId
    default_warehouse: str = ""
    dims: dict[tuple[str, str], str] = field(default_factory=dict)  # (site, location) -> InventDimId
    #: (customer account, customer PO number), lower case -> number of sales orders using it
    po_index: dict[tuple[str, str], int] = field(default_factory=dict)

    def next_number(self, sequence: str, prefix: str, width: int = 6) -> str:
        n = self.counters.get(sequence, 0) + 1
        self.counters[sequence] = n
        return f"{prefix}{n:0{width}d}"

    def dim_id(self, site: str, location: str) -> str:
        key = (site, location)
        if key not in self.dims:
            self.dims[key] = f"{len(self.dims) + 1:08d}_069"  # [I] AX-style InventDimId
        return self.dims[key]

    def store(self, service: str) -> DocStore:
        return self.stores[service]


class World:
    """All data of one sandbox process."""

    def __init__(self, seed: int, recid_base: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(seed * 7919 + 1)
        self.offset = 0.0
        self.started = time.time()
        self._recid = life_recid_base(self.started) if recid_base is None else recid_base
        self._seq = 0
        self.companies: dict[str, Company] = {}
        self.products = DocStore(SERVICES["EcoResProductService"])  # shared by all companies
        self.message_ids: dict[str, tuple[float, bytes]] = {}
        self.tracking_since = self.now()

    def now(self) -> float:
        return time.time() + self.offset

    def add_company(self, company_id: str) -> Company:
        stores = {
            name: (self.products if name == "EcoResProductService" else DocStore(spec))
            for name, spec in SERVICES.items()
        }
        company = Company(company_id.upper(), stores)
        self.companies[company.id] = company
        return company

    def company(self, company_id: str) -> Company | None:
        return self.companies.get(company_id.strip().upper())

    # ----- records ---------------------------------------------------------------------------

    def stamp(self, entity: Entity) -> None:
        """Give every record of the tree without a RecId one, and a fresh RecVersion."""
        for e in walk(entity):
            if not e.rec_id:
                self._recid += 1
                e.rec_id = self._recid
                e.rec_version = 1
            e.action = None

    def bump(self, entity: Entity) -> None:
        """A record changed: new RecVersion (AX stores a random int)."""
        entity.rec_version = self.rng.randint(2, 2**31 - 1)

    def touch(self, store: DocStore, top: Entity) -> None:
        """Record that the document with this top entity changed now."""
        self._seq += 1
        store.changes[norm_key(store.key_of(top))] = (self.now(), self._seq)

    def put(self, store: DocStore, top: Entity) -> tuple[str, ...]:
        """Insert or replace a document, stamp it and record the change; returns its key."""
        self.stamp(top)
        key = store.key_of(top)
        store.docs[norm_key(key)] = top
        self.touch(store, top)
        return key

    def predate(self, age_s: float = SEED_AGE_S) -> None:
        """Move every change recorded so far (the seeded data) ``age_s`` before the start, so
        that ``getChangedKeys`` from the start time (a poller's first cursor) lists none of it."""
        stamp = self.started - age_s
        for company in self.companies.values():
            for store in company.stores.values():
                for nk, (_, seq) in list(store.changes.items()):
                    store.changes[nk] = (stamp, seq)
        self.tracking_since = min(self.tracking_since, stamp)

    def remove(self, store: DocStore, key: tuple[str, ...]) -> None:
        nk = norm_key(key)
        store.docs.pop(nk, None)
        self._seq += 1
        # a deleted key stays in the change log so pollers learn about the deletion [I]
        store.changes[nk] = (self.now(), self._seq)

    # ----- stock -----------------------------------------------------------------------------

    def on_hand(self, company: Company, item_id: str, location: str) -> Entity:
        """The InventSum record of an item in a warehouse, created empty when missing."""
        site = company.warehouses.get(location, "")
        dim_id = company.dim_id(site, location)
        store = company.store("InventoryOnHandService")
        found = store.get((item_id, dim_id))
        if found is not None:
            return found
        dim = Entity("InventDim", "AxdEntity_InventDim",
                     {"InventDimId": dim_id, "InventSiteId": site, "InventLocationId": location})
        top = Entity("InventSum", "AxdEntity_InventSum", {"ItemId": item_id, "InventDimId": dim_id})
        top.children["InventDim"] = [dim]
        self._recalc(top)
        self.put(store, top)
        return top

    def adjust(self, company: Company, item_id: str, location: str, **deltas: Decimal) -> Entity:
        """Add ``deltas`` to InventSum counters and recompute the derived quantities.

        Counters: PostedQty, Received, Deducted, Picked, ReservPhysical, OnOrder, Registered.
        PhysicalInvent = PostedQty + Received + Registered - Deducted - Picked;
        AvailPhysical = PhysicalInvent - ReservPhysical; AvailOrdered = AvailPhysical - OnOrder.
        """
        top = self.on_hand(company, item_id, location)
        for name, delta in deltas.items():
            top.fields[name] = fmt(top.dec(name) + delta)
        self._recalc(top)
        top.fields["LastUpdDatePhysical"] = time.strftime("%Y-%m-%d", time.gmtime(self.now()))
        self.bump(top)
        self.touch(company.store("InventoryOnHandService"), top)
        return top

    @staticmethod
    def _recalc(top: Entity) -> None:
        physical = (top.dec("PostedQty") + top.dec("Received") + top.dec("Registered")
                    - top.dec("Deducted") - top.dec("Picked"))
        top.fields["PhysicalInvent"] = fmt(physical)
        top.fields["AvailPhysical"] = fmt(physical - top.dec("ReservPhysical"))
        top.fields["AvailOrdered"] = fmt(physical - top.dec("ReservPhysical") - top.dec("OnOrder"))
