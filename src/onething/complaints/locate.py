"""Where a ticket is: an address and/or coordinates mapped to a district and a street.

Pure: no Django. Names in the address win over coordinates (the caller said where); coordinates
inside a district's extent give that district, and the street whose centre is nearest within it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

from onething.complaints.dispatch import DATA_DIR, DEFAULT_FILE

AREAS_FILE = DATA_DIR / "areas.yaml"


@dataclass(frozen=True)
class District:
    code: str
    city: str
    name: str
    south: float
    north: float
    west: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude < self.north and self.west <= longitude < self.east


@dataclass(frozen=True)
class StreetArea:
    code: str
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Place:
    region_code: str
    street_code: str  # "" when only the district is known
    how: str  # "address" or "coordinates"


class LocationUnknown(ValueError):
    """Neither the address nor the coordinates lie in a district the hotline serves."""


@dataclass(frozen=True)
class Areas:
    districts: tuple[District, ...]
    streets: tuple[StreetArea, ...]

    def locate(
        self,
        address: str = "",
        latitude: float | Decimal | None = None,
        longitude: float | Decimal | None = None,
    ) -> Place:
        """The district and street of a ticket; LocationUnknown when neither input places it."""
        by_name = self._by_address(address or "")
        if by_name is not None:
            return by_name
        if latitude is not None and longitude is not None:
            lat, lon = float(latitude), float(longitude)
            for district in self.districts:
                if district.contains(lat, lon):
                    inside = [s for s in self.streets if s.code[:6] == district.code]
                    street = min(
                        inside,
                        key=lambda s: math.hypot(s.latitude - lat, s.longitude - lon),
                        default=None,
                    )
                    return Place(district.code, street.code if street else "", "coordinates")
        raise LocationUnknown(
            "the address names no district or street the hotline serves, and the coordinates "
            "(if any) lie outside them"
        )

    def place_name(self, region_code: str, street_code: str = "") -> str:
        """The area's name in our addressing system, no finer than the street office:
        `厦门市思明区中华街道`, `厦门市思明区`; "" for an area the hotline does not serve."""
        district = next((d for d in self.districts if d.code == region_code), None)
        if district is None:
            return ""
        street = next((s for s in self.streets if s.code == street_code), None)
        return f"{district.city}{district.name}{street.name if street else ''}"

    def _by_address(self, address: str) -> Place | None:
        text = address.replace(" ", "")
        if not text:
            return None
        for street in self.streets:
            if street.name and street.name in text:
                return Place(street.code[:6], street.code, "address")
        named = [d for d in self.districts if d.name in text]
        if len(named) > 1:  # two cities' districts share the name: the city decides
            named = [d for d in named if d.city in text] or named[:0]
        if len(named) == 1:
            return Place(named[0].code, "", "address")
        return None


# Public coordinates keep 3 decimals: about 100 m, the block, not the doorway.
PUBLIC_DECIMALS = 3


def public_coordinate(value: Decimal | float | None) -> float | None:
    """A coordinate coarsened for the public: rounded half-even to `PUBLIC_DECIMALS`."""
    if value is None:
        return None
    return float(round(Decimal(str(value)), PUBLIC_DECIMALS))


def load_areas(path: Path | str = AREAS_FILE, dispatch_file: Path | str = DEFAULT_FILE) -> Areas:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    dispatch_raw = yaml.safe_load(Path(dispatch_file).read_text(encoding="utf-8"))
    names = {str(s["code"]): s["name"]["zh"] for s in dispatch_raw.get("streets", [])}
    districts = tuple(District(**{k: v for k, v in d.items()}) for d in raw["districts"])
    streets = tuple(
        StreetArea(
            code=str(s["code"]),
            name=names.get(str(s["code"]), ""),
            latitude=float(s["latitude"]),
            longitude=float(s["longitude"]),
        )
        for s in raw["streets"]
    )
    unknown = [s.code for s in streets if s.code[:6] not in {d.code for d in districts}]
    if unknown:
        raise ValueError(f"{path}: streets outside every district: {', '.join(unknown)}")
    return Areas(districts, streets)


@cache
def areas() -> Areas:
    return load_areas()
