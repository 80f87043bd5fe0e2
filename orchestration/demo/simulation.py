"""A day-by-day simulation of a city's 911 center, its police and its alternative response program.

Every record is created with its whole life known (dispatch, arrival, clear, case closure), and every
metric-relevant decision is recorded as a fact at the moment it is made (was a field unit free, was
the incident in hours, did the team decline...). The planted truth (truth.py) is built from those
facts, never by reading the extract files back, so it is an independent answer for the marts.

Definitions the simulation follows (the same ones docs/metrics.md states):
- a unit is on shift from shift_start (inclusive) to shift_end (exclusive);
- a unit is busy at t when one of its assignments has dispatched_at <= t < cleared_at;
- a program field unit (crt, cor) is available at t when it is on shift and not busy;
- served: the incident has a program assignment (crt, cor, ccd) whose disposition is not `declined`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from orchestration.demo.rules import ProgramRules

UTC = dt.UTC

# ------------------------------------------------------------------------------------ world knobs
# Call-type mix per 1,000 incidents (Durham-like: ~10% on the program's list before the risk screen).
CALL_TYPE_WEIGHTS = {
    "TRESPASS": 22,
    "MENTAL": 14,
    "WELFARE": 16,
    "INTOX": 10,
    "PANHANDL": 5,
    "NUISANCE": 9,
    "DISTVERB": 12,
    "HOMELESS": 8,
    "SUICIDE_NW": 6,
    "TRAFFIC": 140,
    "ACCIDENT": 55,
    "THEFT": 70,
    "BURGLARY": 25,
    "ASSAULT": 35,
    "DOMESTIC": 45,
    "SHOTS": 15,
    "ALARM": 60,
    "SUSPICIOUS": 80,
    "NOISE": 45,
    "FIRE": 15,
    "MEDICAL": 90,
    "ROBBERY": 8,
    "VANDALISM": 25,
    "MISSING": 8,
    "FRAUD": 15,
    "PATROL": 90,
    "ANIMAL": 20,
    "PARKING": 30,
    "WARRANT": 12,
    "FIGHT": 15,
}
PROGRAM_TYPES = {"TRESPASS", "MENTAL", "WELFARE", "INTOX", "PANHANDL", "NUISANCE", "DISTVERB", "HOMELESS", "SUICIDE_NW"}
ON_VIEW_SHARE = {
    "TRAFFIC": 0.9,
    "PATROL": 1.0,
    "SUSPICIOUS": 0.3,
    "WARRANT": 0.8,
    "PARKING": 0.1,
    "TRESPASS": 0.02,
    "INTOX": 0.02,
    "PANHANDL": 0.05,
}
ARREST_RATE = {
    "ASSAULT": 0.25,
    "DOMESTIC": 0.3,
    "THEFT": 0.06,
    "BURGLARY": 0.08,
    "ROBBERY": 0.2,
    "WARRANT": 0.9,
    "FIGHT": 0.3,
    "TRAFFIC": 0.02,
    "SHOTS": 0.05,
}
FELONY_TYPES = {"ROBBERY", "BURGLARY", "SHOTS", "ASSAULT"}
RECLASSIFY = {
    "WELFARE": ["MENTAL", "DISTVERB", "ASSAULT"],
    "THEFT": ["TRESPASS"],
    "NOISE": ["DISTVERB"],
    "SUSPICIOUS": ["TRESPASS", "HOMELESS"],
    "DISTVERB": ["FIGHT", "DOMESTIC"],
    "MENTAL": ["SUICIDE_NW"],
}
RECLASSIFY_RATE = 0.02
CCD_TYPES = {"MENTAL", "WELFARE", "SUICIDE_NW", "DISTVERB"}
HOURLY = [
    0.55,
    0.45,
    0.38,
    0.32,
    0.28,
    0.30,
    0.45,
    0.70,
    0.90,
    1.00,
    1.05,
    1.10,
    1.12,
    1.15,
    1.18,
    1.22,
    1.25,
    1.22,
    1.18,
    1.12,
    1.05,
    0.95,
    0.82,
    0.68,
]
WEEKLY = [0.97, 0.96, 0.97, 0.99, 1.06, 1.07, 0.98]  # Monday first
INCIDENTS_PER_PERSON_YEAR = 0.448  # Durham: ~129,000 police incidents for ~288,000 people
# Program fleet by date (units on the roster); absences are random.
FLEET = [(dt.date(2000, 1, 1), {"crt": 2, "cor": 1, "ccd": 2}), (dt.date(2023, 10, 23), {"crt": 3, "cor": 1, "ccd": 2})]
ABSENCE_RATE = 0.08
OUTCOMES_FIELD = {
    "resolved_on_scene": 0.34,
    "referred": 0.14,
    "transported_community": 0.06,
    "transported_hospital": 0.03,
    "involuntary_hold": 0.01,
    "handed_to_police": 0.01,
    "handed_to_ems": 0.02,
    "unable_to_locate": 0.25,
    "declined_services": 0.10,
    "cancelled_en_route": 0.04,
}
OUTCOMES_PHONE = {"resolved_on_scene": 0.6, "referred": 0.3, "declined_services": 0.1}
OUTCOMES_OUTREACH = {
    "resolved_on_scene": 0.5,
    "referred": 0.3,
    "declined_services": 0.15,
    "transported_community": 0.05,
}
REFERRAL_TYPES = {
    "behavioral_health": 0.35,
    "substance_use": 0.15,
    "housing_shelter": 0.2,
    "domestic_violence": 0.03,
    "medical": 0.08,
    "food": 0.07,
    "benefits": 0.07,
    "other": 0.05,
}
COMMUNITY_DESTINATIONS = {
    "behavioral_health_facility": 0.35,
    "recovery_center": 0.25,
    "shelter_housing": 0.25,
    "family_friends": 0.1,
    "food_source": 0.05,
}
FIRST_NAMES = ["James", "Maria", "José", "Aisha", "Chen", "Tamika", "Robert", "Zoë", "DeShawn", "Ana", "Liam", "Nguyễn"]
LAST_NAMES = ["Smith", "García", "Johnson", "O'Neal", "Williams", "Müller", "Brown", "Jones", "Peña", "Davis", "Lee"]
STREETS = ["Main St", "Roxboro St", "Fayetteville St", "Holloway St", "Alston Ave", "Chapel Hill Rd", "Duke St"]


@dataclass
class DemoConfig:
    seed: int = 42
    start: dt.date = dt.date(2023, 7, 1)
    days: int = 365
    population: int = 290_000
    city_tz: str = "America/New_York"
    program: str = "heart"
    # Drops continue this many days after the last incident day, carrying case closures and updates.
    trailing_drop_days: int = 3

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)


@dataclass
class Facts:
    """What the simulation knows about one incident, for the planted truth."""

    origin: str
    final_type: str
    local_received: dt.datetime
    calltype_eligible: bool
    screen: bool | None  # None = not triaged
    in_area: bool
    in_hours: bool
    field_unit_available: bool
    declined: bool = False
    cancelled: bool = False
    served: bool = False
    phone_resolved: bool = False


class Simulation:
    def __init__(self, cfg: DemoConfig, rules: ProgramRules, truth):
        self.cfg = cfg
        self.rules = rules
        self.tz = ZoneInfo(cfg.city_tz)
        self.rng = random.Random(cfg.seed)
        self.seq = defaultdict(int)
        self.beats = [f"D{d}{b:02d}" for d in range(1, 6) for b in range(1, 11)]
        self.beat_weights = [1.4 if b[1] in "12" else 0.8 for b in self.beats]
        types = sorted(CALL_TYPE_WEIGHTS)
        self.types = types
        self.type_cum = list(_cumulative([CALL_TYPE_WEIGHTS[now] for now in types]))
        # unit state
        self.intervals: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        self.shifts: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        self.unit_type: dict[str, str] = {}
        # work CAD never sees (outreach logged only in case management) keeps a unit from being sent,
        # but is not "busy" in the data, so it is tracked apart from the CAD intervals
        self.reserved_until: dict[str, dt.datetime] = {}
        self.police_pool = 0
        # people: append-only registry with heavy-tailed visit weights
        self.people: list[dict] = []
        self.people_cum: list[float] = []
        # outputs, bucketed by the local date they are extracted on
        self.incidents_by_day: dict[dt.date, list[dict]] = defaultdict(list)
        self.cm_by_day: dict[dt.date, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.shifts_by_day: dict[dt.date, list[dict]] = defaultdict(list)
        self.truth = truth

    # ------------------------------------------------------------------------------- helpers
    def next_id(self, kind: str, prefix: str, width: int = 8) -> str:
        self.seq[kind] += 1
        return f"{prefix}{self.seq[kind]:0{width}d}"

    def local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self.tz)

    def local_day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def minutes(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(seconds=int(self.rng.uniform(lo, hi) * 60))

    def during(self, started: dt.datetime, ended: dt.datetime) -> dt.datetime:
        """A moment inside an encounter (requests for backup or EMS happen while the team is there)."""
        return started + min(self.minutes(2, 15), dt.timedelta(seconds=(ended - started).total_seconds() // 2))

    def pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def in_hours(self, now: dt.datetime) -> bool:
        lt = self.local(now)
        window = self.rules.hours_on(lt.date())
        return window is not None and window[0] <= lt.time().replace(tzinfo=None) < window[1]

    def on_shift(self, unit: str, now: dt.datetime) -> bool:
        return any(s <= now < e for s, e in self.shifts[unit][-2:])

    def busy(self, unit: str, now: dt.datetime) -> bool:
        for dispatched_at, cleared_at in reversed(self.intervals[unit]):
            if dispatched_at <= now:
                return cleared_at > now
        return False

    def available_by_definition(self, now: dt.datetime) -> bool:
        return any(
            self.on_shift(u, now) and not self.busy(u, now)
            for u, kind in self.unit_type.items()
            if kind in ("crt", "cor")
        )

    def free_units(self, now: dt.datetime, kinds: tuple[str, ...]) -> list[str]:
        """Units the dispatcher can send: on shift, with nothing assigned from now on."""
        out = []
        for u, kind in self.unit_type.items():
            if kind in kinds and self.on_shift(u, now):
                last = self.intervals[u][-1][1] if self.intervals[u] else None
                if (last is None or last <= now) and self.reserved_until.get(u, now) <= now:
                    out.append(u)
        return out

    # ------------------------------------------------------------------------------- roster
    def roster_day(self, day: dt.date) -> None:
        fleet = [f for since, f in FLEET if since <= day][-1]
        window = self.rules.hours_on(day)
        if window is None:
            return
        start = dt.datetime.combine(day, window[0], self.tz).astimezone(UTC)
        end = dt.datetime.combine(day, window[1], self.tz).astimezone(UTC)
        for kind, count in fleet.items():
            for n in range(1, count + 1):
                unit = f"{kind.upper()}{n}"
                self.unit_type.setdefault(unit, kind)
                if self.rng.random() < ABSENCE_RATE:
                    continue
                self.shifts[unit].append((start, end))
                self.shifts_by_day[day].append(
                    dict(
                        shift_id=f"S{day:%Y%m%d}-{unit}", unit_id=unit, team_type=kind, shift_start=start, shift_end=end
                    )
                )

    # ------------------------------------------------------------------------------- people
    def person_for_encounter(self, now: dt.datetime) -> dict:
        if not self.people or self.rng.random() < 0.45:
            n = len(self.people) + 1
            weight = min(self.rng.paretovariate(1.3), 200.0)
            p = dict(
                person_id=f"P{n:07d}",
                first_name=self.rng.choice(FIRST_NAMES),
                last_name=self.rng.choice(LAST_NAMES),
                birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365 * 65)),
                phone=f"919-555-{self.rng.randrange(10000):04d}",
                address=self.rng.choice(
                    ["Urban Ministries shelter", f"{self.rng.randrange(1, 40)}00 {self.rng.choice(STREETS)}"]
                ),
                gender=self.pick({"female": 0.42, "male": 0.55, "nonbinary": 0.02, "": 0.01}),
                race_ethnicity=self.pick(
                    {"Black": 0.5, "White": 0.3, "Hispanic/Latino": 0.12, "Asian": 0.03, "Other": 0.05}
                ),
                updated_at=now,
            )
            self.people.append(p)
            self.people_cum.append((self.people_cum[-1] if self.people_cum else 0.0) + weight)
            return p
        i = bisect.bisect_left(self.people_cum, self.rng.random() * self.people_cum[-1])
        p = self.people[min(i, len(self.people) - 1)]
        p = dict(p, updated_at=now)  # case management updates "last contact"; sometimes a new phone
        if self.rng.random() < 0.05:
            p["phone"] = f"919-555-{self.rng.randrange(10000):04d}"
        self.people[min(i, len(self.people) - 1)] = p
        return p

    # ------------------------------------------------------------------------------- day
    def simulate_day(self, day: dt.date) -> None:
        self.roster_day(day)
        day_start = dt.datetime.combine(day, dt.time(0), self.tz).astimezone(UTC)
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz).astimezone(UTC)
        base = self.cfg.population * INCIDENTS_PER_PERSON_YEAR / 365.0
        season = 1 + 0.08 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365.0)
        rate = base * WEEKLY[day.weekday()] * season / 24.0

        events = []
        # Walk the real (UTC) hours of the local day: a 25-hour day gets 25 hours of calls, a 23-hour one 23.
        now = day_start
        while now < day_end:
            hour_rate = rate * HOURLY[self.local(now).hour] / (sum(HOURLY) / 24)
            for _ in range(_poisson(self.rng, hour_rate)):
                events.append((now + dt.timedelta(seconds=self.rng.randrange(3600)), "call"))
            now += dt.timedelta(hours=1)
        window = self.rules.hours_on(day)
        if window:
            w_start = dt.datetime.combine(day, window[0], self.tz).astimezone(UTC)
            span = int((dt.datetime.combine(day, window[1], self.tz).astimezone(UTC) - w_start).total_seconds())
            for kind, mean in (("referral", 2.5), ("outreach", 3.0), ("outreach_no_cad", 1.0)):
                for _ in range(_poisson(self.rng, mean)):
                    events.append((w_start + dt.timedelta(seconds=self.rng.randrange(span)), kind))
        for _ in range(_poisson(self.rng, 1.0)):  # warrants served at the jail: arrests with no CAD incident
            at = day_start + dt.timedelta(seconds=self.rng.randrange(int((day_end - day_start).total_seconds())))
            self.add_arrest(None, at, "WARRANT")
        events.sort(key=lambda e: e[0])
        for now, kind in events:
            if kind == "call":
                self.new_call_incident(now)
            elif kind == "referral":
                self.new_incident(
                    now,
                    "agency_referral",
                    self.rng.choice(["WELFARE", "HOMELESS", "MENTAL", "INTOX"]),
                    beat=self.rng.choice(sorted(self.rules.service_beats(day)) or self.beats),
                    screen_ok=True,
                )
            elif kind == "outreach":
                self.outreach(now, with_cad=True)
            else:
                self.outreach(now, with_cad=False)

    # ------------------------------------------------------------------------------- incidents
    def new_call_incident(self, now: dt.datetime) -> None:
        i = bisect.bisect_left(self.type_cum, self.rng.random() * self.type_cum[-1])
        call_type = self.types[i]
        origin = "self_initiated" if self.rng.random() < ON_VIEW_SHARE.get(call_type, 0.0) else "911_dispatch"
        self.new_incident(now, origin, call_type)

    def new_incident(self, now, origin, call_type, beat=None, screen_ok=False) -> None:
        rng = self.rng
        day = self.local_day(now)
        beat = beat or rng.choices(self.beats, weights=self.beat_weights)[0]
        final_type = call_type
        if call_type in RECLASSIFY and rng.random() < RECLASSIFY_RATE:
            final_type = rng.choice(RECLASSIFY[call_type])
        # Risk screen flags known at intake: all three recorded, or none (not triaged).
        if screen_ok:
            flags = (False, False, False)
        elif rng.random() < (0.04 if call_type in PROGRAM_TYPES else 0.10):
            flags = (None, None, None)
        else:
            weapon_p = 0.05 if call_type in PROGRAM_TYPES else (0.3 if call_type in ARREST_RATE else 0.02)
            flags = (
                rng.random() < weapon_p,
                rng.random() < 0.04,
                rng.random() < (0.12 if call_type == "INTOX" else 0.03),
            )
        screen = None if flags[0] is None else not any(flags)
        eligible_types = self.rules.eligible_types(day)
        calltype_eligible = final_type in eligible_types
        in_area = beat in self.rules.service_beats(day)
        in_hours = self.in_hours(now)
        facts = Facts(
            origin,
            final_type,
            self.local(now),
            calltype_eligible,
            screen,
            in_area,
            in_hours,
            field_unit_available=self.available_by_definition(now),
        )
        inc = dict(
            incident_number=self.next_id("incident", f"{day:%y}-", 7),
            received_at=now,
            call_origin=origin,
            initial_call_type=call_type,
            final_call_type=final_type,
            priority=(2 if screen is False else 3 if call_type in PROGRAM_TYPES else rng.choice([1, 2, 2, 3, 3, 4])),
            beat=beat,
            location_key=f"{beat}-{rng.randrange(1, 200):03d}",
            address=f"{rng.randrange(1, 40)}00 {rng.choice(STREETS)}",
            weapon_involved=flags[0],
            violence_in_progress=flags[1],
            medical_need=flags[2],
            disposition_code=None,
            closed_at=None,
            _calls=[],
            _units=[],
        )
        self.add_calls(inc, now, origin, call_type)

        # What the dispatcher does (decided on the initial call type, as in real life).
        intake_program = call_type in eligible_types and screen is True and in_area and in_hours
        if origin == "self_initiated":
            self.police_response(inc, now, call_type, on_view=True)
        elif intake_program:
            self.program_intake(inc, now, call_type, facts)
        elif (
            call_type in eligible_types
            and screen is False
            and in_area
            and in_hours
            and rng.random() < 0.5
            and self.free_units(now, ("cor",))
        ):
            self.field_response(inc, now, self.free_units(now, ("cor",))[0], facts)
        elif rng.random() < (0.03 if calltype_eligible else 0.01):
            self.cancel(inc, now, facts)
        else:
            self.agency_response(inc, now, call_type)
        self.close(inc)
        self.incidents_by_day[day].append(inc)
        self.truth.incident(facts, inc)

    def add_calls(self, inc, now, origin, call_type) -> None:
        rng = self.rng
        if origin == "self_initiated":
            sources, n = ["radio"], 1
        elif origin == "agency_referral":
            sources, n = [rng.choice(["radio", "311"])], 1
        else:
            r = rng.random()
            n = 1 if r < 0.82 else 2 if r < 0.94 else rng.randint(3, 5)
            sources = [
                "alarm" if call_type == "ALARM" else self.pick({"911": 0.8, "ten_digit": 0.18, "text": 0.02})
                for _ in range(n)
            ]
        for k in range(n):
            at = now if k == 0 else now + self.minutes(0.2, 20)
            inc["_calls"].append(
                dict(
                    call_id=self.next_id("call", "C", 9),
                    incident_number=inc["incident_number"],
                    call_received_at=at,
                    call_source=sources[k],
                )
            )

    def program_intake(self, inc, now, call_type, facts: Facts) -> None:
        rng = self.rng
        if rng.random() < 0.03:
            return self.cancel(inc, now, facts)
        if call_type in CCD_TYPES and rng.random() < 0.75:
            ccd = self.free_units(now, ("ccd",))
            if ccd:
                return self.phone_resolution(inc, now, ccd[0], facts)
        free = self.free_units(now, ("crt", "cor"))  # co-response takes eligible calls when it is free
        if not free:
            return self.agency_response(inc, now, call_type)
        r = rng.random()
        if r < 0.02:  # dispatcher sends police although a team was free: an unexplained forgone call
            return self.agency_response(inc, now, call_type)
        if r < 0.05:  # the team declines
            unit = rng.choice(free)
            d = now + self.minutes(0.5, 3)
            self.assign(inc, unit, self.unit_type[unit], d, None, None, d + self.minutes(1, 4), "declined")
            facts.declined = True
            return self.agency_response(inc, d + self.minutes(4, 6), call_type)
        self.field_response(inc, now, rng.choice(free), facts)

    def cancel(self, inc, now, facts: Facts) -> None:
        facts.cancelled = True
        inc["disposition_code"] = "CANCELLED"
        inc["closed_at"] = now + self.minutes(2, 10)

    def phone_resolution(self, inc, now, unit, facts: Facts) -> None:
        d = now + self.minutes(0.5, 2)
        c = d + self.minutes(10, 40)
        self.assign(inc, unit, "ccd", d, None, None, c, "completed")
        facts.served = facts.phone_resolved = True
        self.encounter(inc, "ccd", "phone_resolved", d, c, self.pick(OUTCOMES_PHONE), in_person=False)
        inc["disposition_code"] = "PROGRAM"

    def field_response(self, inc, now, unit, facts: Facts) -> None:
        rng = self.rng
        kind = self.unit_type[unit]
        outcome = self.pick(OUTCOMES_FIELD)
        d = now + self.minutes(0.5, 3)
        er = d + self.minutes(0, 1.5)
        arrive = er + dt.timedelta(seconds=int(60 * min(3 + rng.expovariate(1 / 5.0), 30)))
        transported = None
        if outcome == "cancelled_en_route":
            c = d + self.minutes(2, 10)
            arrive = None
        elif outcome == "unable_to_locate":
            c = arrive + self.minutes(5, 12)
        else:
            on_scene_end = arrive + self.minutes(25, 100)
            if outcome in ("transported_community", "transported_hospital", "involuntary_hold"):
                transported = on_scene_end
                c = on_scene_end + self.minutes(20, 40)
            else:
                c = on_scene_end
        marked_arrival = arrive if (arrive is not None and rng.random() > 0.02) else None
        self.assign(
            inc,
            unit,
            kind,
            d,
            er,
            marked_arrival,
            c,
            "cancelled_en_route" if outcome == "cancelled_en_route" else "completed",
            transported,
        )
        facts.served = True
        inc["disposition_code"] = "PROGRAM"
        if kind == "crt" and facts.final_type in ("TRESPASS", "DISTVERB") and arrive and rng.random() < 0.15:
            # concurrent police dispatch: police sent at intake alongside the team
            pd = now + self.minutes(0.5, 1.0)
            self.police_unit(inc, pd, min(arrive, pd + self.minutes(3, 10)), c)
        enc = self.encounter(
            inc,
            kind,
            inc["call_origin"],
            arrive or d,
            c,
            outcome,
            in_person=arrive is not None,
            transported=transported,
        )
        if enc.get("police_backup_requested_at"):
            at = enc["police_backup_requested_at"]
            arrival = at + self.minutes(4, 10)
            self.police_unit(inc, at, arrival, max(c, arrival) + self.minutes(0, 10))
        if enc.get("ems_requested_at"):
            at = enc["ems_requested_at"]
            arr = at + self.minutes(5, 12)
            tr = arr + self.minutes(10, 20) if rng.random() < 0.5 else None
            self.assign(
                inc,
                self.next_id("ems_unit", "M", 3),
                "ems",
                at,
                at,
                arr,
                (tr or arr) + self.minutes(10, 30),
                "completed",
                tr,
            )
        if outcome == "handed_to_police" and rng.random() < 0.1 and arrive:
            self.add_arrest(inc, c, facts.final_type)

    def outreach(self, now, with_cad: bool) -> None:
        free = self.free_units(now, ("crt",))
        if not free:
            return  # no one free to do outreach: it never happens
        unit = self.rng.choice(free)
        c = now + self.minutes(15, 45)
        outcome = self.pick(OUTCOMES_OUTREACH)
        if not with_cad:
            self.encounter(None, "crt", "self_initiated", now, c, outcome, in_person=True)
            self.reserved_until[unit] = c
            return
        day = self.local_day(now)
        call_type = self.rng.choice(["HOMELESS", "WELFARE"])
        facts = Facts(
            "self_initiated",
            call_type,
            self.local(now),
            call_type in self.rules.eligible_types(day),
            screen=True,
            in_area=True,
            in_hours=self.in_hours(now),
            field_unit_available=self.available_by_definition(now),
        )
        beat = self.rng.choice(sorted(self.rules.service_beats(day)))
        inc = dict(
            incident_number=self.next_id("incident", f"{day:%y}-", 7),
            received_at=now,
            call_origin="self_initiated",
            initial_call_type=call_type,
            final_call_type=call_type,
            priority=4,
            beat=beat,
            location_key=f"{beat}-{self.rng.randrange(1, 200):03d}",
            address=f"{self.rng.randrange(1, 40)}00 {self.rng.choice(STREETS)}",
            weapon_involved=False,
            violence_in_progress=False,
            medical_need=False,
            disposition_code="PROGRAM",
            closed_at=None,
            _calls=[],
            _units=[],
        )
        self.add_calls(inc, now, "self_initiated", call_type)
        transported = c - self.minutes(5, 10) if outcome == "transported_community" else None
        self.assign(inc, unit, "crt", now, now, now, c, "completed", transported)
        facts.served = True
        self.encounter(inc, "crt", "self_initiated", now, c, outcome, in_person=True, transported=transported)
        self.close(inc)
        self.incidents_by_day[day].append(inc)
        self.truth.incident(facts, inc)

    # ------------------------------------------------------------------------------- police/fire/ems
    def agency_response(self, inc, now, call_type) -> None:
        rng = self.rng
        if call_type == "FIRE":
            for _ in range(rng.randint(2, 3)):
                d = now + self.minutes(0.5, 2)
                self.assign(
                    inc,
                    self.next_id("fire_unit", "E", 3),
                    "fire",
                    d,
                    d,
                    d + self.minutes(4, 9),
                    d + self.minutes(30, 120),
                    "completed",
                )
            return self.set_disposition(inc, "FIRE")
        if call_type == "MEDICAL":
            d = now + self.minutes(0.5, 2)
            arr = d + self.minutes(5, 12)
            tr = arr + self.minutes(10, 25) if rng.random() < 0.6 else None
            self.assign(
                inc,
                self.next_id("ems_unit", "M", 3),
                "ems",
                d,
                d,
                arr,
                (tr or arr) + self.minutes(15, 40),
                "completed",
                tr,
            )
            if rng.random() < 0.5:
                self.assign(
                    inc,
                    self.next_id("fire_unit", "E", 3),
                    "fire",
                    d,
                    d,
                    d + self.minutes(4, 9),
                    d + self.minutes(20, 40),
                    "completed",
                )
            return self.set_disposition(inc, "EMS")
        self.police_response(inc, now, call_type, on_view=False)

    def police_response(self, inc, now, call_type, on_view: bool) -> None:
        rng = self.rng
        eligible_kind = call_type in PROGRAM_TYPES
        n = (
            1
            if on_view and call_type == "TRAFFIC"
            else self.pick({"1": 0.45, "2": 0.40, "3": 0.15})
            if eligible_kind
            else self.pick({"1": 0.5, "2": 0.35, "3": 0.15})
        )
        priority = inc["priority"] or 3
        delay = {1: (0.5, 3), 2: (2, 8), 3: (4, 20), 4: (10, 45)}.get(priority, (10, 45))
        last_clear = now
        for k in range(int(n)):
            d = now if on_view and k == 0 else now + self.minutes(*delay) + self.minutes(0, 3) * k
            arr = d if on_view and k == 0 else d + self.minutes(4, 15)
            c = arr + self.minutes(15, 75)
            self.police_unit(inc, d, arr if rng.random() > 0.03 else None, c)
            last_clear = max(last_clear, c)
        if call_type == "ACCIDENT" and rng.random() < 0.4:
            d = now + self.minutes(1, 3)
            arr = d + self.minutes(5, 12)
            tr = arr + self.minutes(10, 20) if rng.random() < 0.5 else None
            self.assign(
                inc,
                self.next_id("ems_unit", "M", 3),
                "ems",
                d,
                d,
                arr,
                (tr or arr) + self.minutes(10, 30),
                "completed",
                tr,
            )
        elif eligible_kind and rng.random() < 0.04:  # EMS takes the person to hospital
            d = now + self.minutes(5, 20)
            arr = d + self.minutes(5, 12)
            tr = arr + self.minutes(10, 20)
            self.assign(
                inc, self.next_id("ems_unit", "M", 3), "ems", d, d, arr, tr + self.minutes(10, 30), "completed", tr
            )
        rate = 0.03 if eligible_kind else ARREST_RATE.get(call_type, 0.01)
        arrested = rng.random() < rate
        if arrested:
            self.add_arrest(inc, now + self.minutes(10, 50), call_type)
            if rng.random() < 0.1:
                self.add_arrest(inc, now + self.minutes(10, 50), call_type)
        self.set_disposition(inc, "ARREST" if arrested else rng.choice(["REPORT", "ADVISED", "GOA", "NO_ACTION"]))

    def police_unit(self, inc, dispatched_at, arrived_at, cleared_at) -> None:
        self.police_pool = self.police_pool % 180 + 1
        en_route_at = dispatched_at + self.minutes(0, 1) if arrived_at else None
        self.assign(
            inc, f"P{self.police_pool:03d}", "police", dispatched_at, en_route_at, arrived_at, cleared_at, "completed"
        )

    def set_disposition(self, inc, code: str) -> None:
        if inc["disposition_code"] is None:
            inc["disposition_code"] = code

    def assign(
        self,
        incident: dict,
        unit_id: str,
        unit_type: str,
        dispatched_at: dt.datetime,
        en_route_at: dt.datetime | None,
        arrived_at: dt.datetime | None,
        cleared_at: dt.datetime,
        disposition: str,
        transported_at: dt.datetime | None = None,
    ) -> None:
        """One CAD unit assignment on an incident; a program unit is busy from dispatch to clear."""
        if en_route_at is not None and arrived_at is not None and en_route_at > arrived_at:
            en_route_at = arrived_at
        incident["_units"].append(
            dict(
                assignment_id=self.next_id("assignment", "A", 9),
                incident_number=incident["incident_number"],
                unit_id=unit_id,
                unit_type=unit_type,
                dispatched_at=dispatched_at,
                en_route_at=en_route_at,
                arrived_at=arrived_at,
                transported_at=transported_at,
                cleared_at=cleared_at,
                unit_disposition=disposition,
            )
        )
        if unit_type in ("crt", "cor", "ccd"):
            self.intervals[unit_id].append((dispatched_at, cleared_at))
            if len(self.intervals[unit_id]) > 50:
                del self.intervals[unit_id][:25]

    def close(self, inc) -> None:
        if inc["closed_at"] is None:
            ends = [u["cleared_at"] for u in inc["_units"]]
            inc["closed_at"] = max(ends) if ends else inc["received_at"] + self.minutes(5, 30)
        if inc["disposition_code"] is None:
            inc["disposition_code"] = "NO_ACTION"

    def add_arrest(self, inc, at, call_type) -> None:
        level = "felony" if call_type in FELONY_TYPES else self.pick({"misdemeanor": 0.7, "ordinance": 0.3})
        rec = dict(
            arrest_id=self.next_id("arrest", "R", 8),
            incident_number=inc["incident_number"] if inc else None,
            arrested_at=at,
            charge_level=level,
        )
        if inc is not None:
            inc.setdefault("_arrests", []).append(rec)
        self.cm_by_day[self.local_day(at)]["rms_arrests"].append(rec)

    # ------------------------------------------------------------------------------- case management
    def encounter(self, inc, kind, origin, started, ended, outcome, in_person: bool, transported=None) -> dict:
        rng = self.rng
        engaged = outcome not in ("unable_to_locate", "cancelled_en_route")
        person = self.person_for_encounter(started) if engaged else None
        closed = ended + self.minutes(30, 30 * 60)
        link = inc["incident_number"] if inc is not None and rng.random() > 0.03 else None
        enc = dict(
            encounter_id=self.next_id("encounter", "E", 8),
            incident_number=link,
            person_id=person["person_id"] if person else None,
            team_type=kind,
            call_origin=origin,
            started_at=started,
            ended_at=ended,
            primary_outcome=outcome,
            responder_felt_safe=(self.pick({"t": 0.985, "f": 0.01, "n": 0.005}) if in_person else "n"),
            police_backup_requested_at=None,
            police_backup_reason=None,
            ems_requested_at=None,
            ems_request_reason=None,
            narrative=None,
            updated_at=started,
            _closed_at=closed,
            _referrals=[],
            _transports=[],
            _follow_ups=[],
        )
        enc["responder_felt_safe"] = {"t": True, "f": False, "n": None}[enc["responder_felt_safe"]]
        if in_person and kind != "ccd":
            if rng.random() < 0.006:
                enc["police_backup_requested_at"] = self.during(started, ended)
                enc["police_backup_reason"] = rng.choice(
                    ["escalating behavior", "weapon discovered", "crowd gathering"]
                )
            if outcome == "handed_to_ems" or rng.random() < 0.02:
                enc["ems_requested_at"] = self.during(started, ended)
                enc["ems_request_reason"] = rng.choice(["chest pain", "overdose signs", "injury", "intoxication"])
        if engaged:
            name = person["first_name"] if person else "client"
            enc["narrative"] = rng.choice(
                [
                    f'{name} said "I just need somewhere to sleep", team offered shelter options.',
                    f"Met {name} outside the store.\nTalked through options, calm, agreed to follow-up.",
                    f"{name} in distress, 'voices' mentioned;\nclinician assessed, no immediate danger.",
                ]
            )
        day = self.local_day(started)
        n_ref = 0
        if outcome == "referred":
            n_ref = 2 if rng.random() < 0.3 else 1
        elif (
            outcome in ("resolved_on_scene",)
            and rng.random() < 0.2
            or outcome.startswith("transported")
            and rng.random() < 0.3
            or outcome == "declined_services"
            and rng.random() < 0.05
        ):
            n_ref = 1
        for _ in range(n_ref):
            ref = dict(
                referral_id=self.next_id("referral", "F", 8),
                encounter_id=enc["encounter_id"],
                referral_type=self.pick(REFERRAL_TYPES),
                referred_at=ended,
            )
            enc["_referrals"].append(ref)
            self.cm_by_day[self.local_day(ended)]["cm_referrals"].append(ref)
        if transported is not None:
            dest = {"transported_hospital": "hospital_ed", "involuntary_hold": "behavioral_health_facility"}.get(
                outcome
            ) or self.pick(COMMUNITY_DESTINATIONS)
            tr = dict(
                transport_id=self.next_id("transport", "T", 8),
                encounter_id=enc["encounter_id"],
                destination_type=dest,
                transported_at=transported,
            )
            enc["_transports"].append(tr)
            self.cm_by_day[self.local_day(transported)]["cm_transports"].append(tr)
        if engaged and in_person and rng.random() < 0.35:
            at = ended + dt.timedelta(seconds=int(3600 * (2 + rng.expovariate(1 / 36.0))))
            for k in range(2 if rng.random() < 0.1 else 1):
                when = at + dt.timedelta(days=k * rng.randint(3, 10))
                fu = dict(
                    follow_up_id=self.next_id("follow_up", "U", 8),
                    encounter_id=enc["encounter_id"],
                    followed_up_at=when,
                    team_type="cn",
                    contact_made=rng.random() < 0.75,
                )
                enc["_follow_ups"].append(fu)
                self.cm_by_day[self.local_day(when)]["cm_follow_ups"].append(fu)
        self.cm_by_day[day]["cm_encounters"].append(enc)
        close_day = self.local_day(closed)
        if close_day != day:
            self.cm_by_day[close_day]["cm_encounters"].append(enc)
        if person is not None:
            self.cm_by_day[day]["cm_people"].append(person)
            self.truth.person(person, day)
        if inc is not None:
            inc.setdefault("_encounters", []).append(enc)
        self.truth.encounter(enc)
        return enc


def _cumulative(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, normal approximation for large)."""
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
