"""The patient's time zone(s), for quiet hours: where they live, else where their number is.

Most US states keep one zone. Those that span two are split by ZIP prefix where the split
follows ZIP lines closely enough (the rest of the state takes its main zone; a patient in
a county that differs can name a zone in their preferences, which wins over all of this).
A number can belong to several zones (a toll-free number, an area code on a zone line):
``zones_for`` then returns all of them and quiet hours keep to the window inside every one.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from functools import cache

import phonenumbers
from phonenumbers import timezone as number_zones

from clinicline.patients import normalize
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice

E, C, M, P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
STATE_ZONE = {
    "AL": C, "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": C, "CA": P, "CO": M,
    "CT": E, "DE": E, "DC": E, "FL": E, "GA": E, "HI": "Pacific/Honolulu", "ID": M,
    "IL": C, "IN": "America/Indiana/Indianapolis", "IA": C, "KS": C, "KY": E, "LA": C,
    "ME": E, "MD": E, "MA": E, "MI": "America/Detroit", "MN": C, "MS": C, "MO": C, "MT": M,
    "NE": C, "NV": P, "NH": E, "NJ": E, "NM": M, "NY": E, "NC": E, "ND": C, "OH": E,
    "OK": C, "OR": P, "PA": E, "RI": E, "SC": E, "SD": C, "TN": C, "TX": C, "UT": M,
    "VT": E, "VA": E, "WA": P, "WV": E, "WI": C, "WY": M, "PR": "America/Puerto_Rico",
    "GU": "Pacific/Guam", "VI": "America/St_Thomas", "AS": "Pacific/Pago_Pago",
}
# ZIP prefixes (three digits) in a state's other zone.
ZIP_ZONE = {
    **dict.fromkeys(["323", "324", "325"], C),             # the Florida panhandle
    **dict.fromkeys(["798", "799", "885"], M),             # El Paso
    **dict.fromkeys(["835", "838"], P),                    # the Idaho panhandle
    **dict.fromkeys(["977"], M),                           # Ontario, Oregon
    **dict.fromkeys(["420", "421", "422", "423", "424", "427"], C),  # western Kentucky
    **dict.fromkeys(["463", "464", "476", "477"], C),      # Indiana's Gary, Evansville corners
    **dict.fromkeys(["498", "499"], C),                    # Michigan's western Upper Peninsula
    **dict.fromkeys(["676", "677", "678", "679"], M),      # western Kansas
    **dict.fromkeys(["691", "693"], M),                    # western Nebraska
    **dict.fromkeys(["577"], M),                           # western South Dakota
    **dict.fromkeys(["586", "587", "588"], M),             # south-western North Dakota
}
# Tennessee's main zone is Central; its east (Knoxville, Chattanooga) keeps Eastern.
TN_EASTERN = {"373", "374", "376", "377", "378", "379"}


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def from_address(address: dict[str, str] | None) -> str | None:
    """The zone of a US address, from its state and, where the state spans two, its ZIP."""
    if not address:
        return None
    state = (address.get("state") or "").strip().upper()[:2]
    prefix = "".join(ch for ch in address.get("postal_code") or "" if ch.isdigit())[:3]
    if state == "TN":
        return E if prefix in TN_EASTERN else C
    if state not in STATE_ZONE:
        return None
    return ZIP_ZONE.get(prefix, STATE_ZONE[state]) if len(prefix) == 3 else STATE_ZONE[state]


def from_number(number: str) -> list[str]:
    """The zones the number's area belongs to (none: unknown or unparsable)."""
    try:
        parsed, kind = normalize.parsed(number), normalize.number_type(number)
    except phonenumbers.NumberParseException:
        return []
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return []
    # What ``time_zones_for_number`` does, with the number's type already read (the sending
    # decision read it for the number's validity): an area's zones for a number of one.
    found = (number_zones.time_zones_for_geographical_number(parsed)
             if phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0)
             else number_zones.time_zones_for_number(parsed))
    return [z for z in found if z != "Etc/Unknown"]


def zones_for(patient: Patient, practice: Practice, *, number: str = "",
              chosen: str = "") -> Sequence[zoneinfo.ZoneInfo]:
    """The zones quiet hours must hold in: the patient's own choice, else their address's,
    else their number's (all of them), else the practice's."""
    if chosen:
        return [zone(chosen)]
    found = from_address(patient.address)
    if found:
        return [zone(found)]
    by_number = from_number(number) if number else []
    return [zone(z) for z in by_number] or [practice.tz]
