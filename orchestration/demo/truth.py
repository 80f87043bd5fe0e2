"""The planted truth: exact answers the marts must reproduce, built from the simulation's own facts.

Each incident is added once, when it is created, with everything the simulation decided about it;
nothing here reads the extract files. Definitions are the ones in docs/metrics.md; where a metric needs
a choice (which timestamps, which denominator), the same choice is written next to it here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter, defaultdict

PROGRAM_UNITS = ("crt", "cor", "ccd")
FIELD_UNITS = ("crt", "cor")
REASONS = ("outside_hours", "outside_area", "no_unit_available", "declined_by_team", "cancelled", "unknown")
FAMILIAR_THRESHOLDS = (5, 10, 20, 40)
REPEAT_WINDOWS = (30, 90)  # days after a response in which another 911 incident at the place counts
AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))
CONCURRENT_WINDOW = dt.timedelta(minutes=5)
FOLLOW_UP_WINDOW = dt.timedelta(hours=48)
LATE_ENTRY_HOURS = 24  # a case-management record last changed later than this after its encounter (dbt var)


def percentile_cont(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (SQL percentile_cont)."""
    if not values:
        return None
    v = sorted(values)
    pos = p * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def stats(values: list[float], excluded: int) -> dict:
    return dict(
        n=len(values),
        excluded_no_arrival=excluded,
        mean=sum(values) / len(values) if values else None,
        median=percentile_cont(values, 0.5),
        p90=percentile_cont(values, 0.9),
    )


def share(numerator: int, denominator: int) -> dict:
    return dict(numerator=numerator, denominator=denominator, value=numerator / denominator if denominator else None)


def not_served_reason(facts, constrained: bool = True) -> str:
    """First applicable reason, in the order of docs/metrics.md."""
    if constrained and not facts.in_hours:
        return "outside_hours"
    if constrained and not facts.in_area:
        return "outside_area"
    if not facts.field_unit_available:
        return "no_unit_available"
    if facts.declined:
        return "declined_by_team"
    if facts.cancelled:
        return "cancelled"
    return "unknown"


class Truth:
    def __init__(self, start: dt.date, end: dt.date, delivered_until: dt.datetime, displacement_factor: float):
        self.start, self.end = start, end
        self.delivered_until = delivered_until  # the last drop's extract time: later follow-ups are not delivered
        self.displacement_factor = displacement_factor
        self.c = Counter()
        self.by_origin = Counter()
        self.by_local_date = Counter()
        self.reasons = Counter()
        self.reasons_unconstrained = Counter()
        self.by_month = defaultdict(Counter)
        self.forgone_by_dow_hour = Counter()
        self.forgone_by_beat = Counter()
        self.forgone_reason_by_dow_hour = defaultdict(Counter)  # "7-23" -> reason -> incidents
        self.forgone_reason_by_beat = defaultdict(Counter)
        self.request_reasons = {"police_backup": Counter(), "ems": Counter()}
        self.calls_911_at: defaultdict[str, list[dt.datetime]] = defaultdict(list)  # location -> 911 incidents
        self.repeat_index: list[tuple[str, str, dt.datetime]] = []  # (group, location, received) compared
        # person -> (received, incident) of the 911 incidents the program served with the person's encounter
        self.person_contacts: defaultdict[str, set[tuple[dt.datetime, str]]] = defaultdict(set)
        self.last_received: dt.datetime | None = None
        self.response = defaultdict(list)
        self.response_excluded = Counter()
        self.outcomes = Counter()
        self.referral_types = Counter()
        self.transport_destinations = Counter()
        self.groups = {g: Counter() for g in ("served", "police_handled")}
        self.strata = defaultdict(Counter)  # (group, call type, hour band) -> incidents, arrests, transports
        self.police_hours: list[float] = []
        self.encounter_people: list[tuple[str, dt.date]] = []
        self.people: dict[str, tuple[dt.date, dict]] = {}  # person_id -> the version staging keeps

    # ------------------------------------------------------------------------------------- incidents
    def incident(self, facts, inc: dict) -> None:
        c = self.c
        units = inc["_units"]
        program = [u for u in units if u["unit_type"] in PROGRAM_UNITS and u["unit_disposition"] != "declined"]
        police = [u for u in units if u["unit_type"] == "police"]
        served = bool(program)
        assert served == facts.served, inc["incident_number"]
        origin = "phone_resolved" if facts.phone_resolved else facts.origin
        program_eligible = facts.calltype_eligible and facts.screen is True
        month = facts.local_received.strftime("%Y-%m")

        c["incidents"] += 1
        c["calls"] += len(inc["_calls"])
        c["multi_call_incidents"] += len(inc["_calls"]) > 1
        self.by_origin[origin] += 1
        self.by_local_date[facts.local_received.date().isoformat()] += 1
        c["calltype_eligible"] += facts.calltype_eligible
        c["screen_eligible"] += facts.screen is True
        c["screen_failed"] += facts.screen is False
        c["not_triaged"] += facts.screen is None
        c["calltype_eligible_not_triaged"] += facts.calltype_eligible and facts.screen is None
        c["program_eligible"] += program_eligible
        c["served"] += served
        self.by_month[month]["incidents"] += 1
        if program_eligible:
            c["eligible_in_service_area"] += facts.in_area
            c["eligible_in_service_hours"] += facts.in_hours
            c["served_eligible"] += served
            self.by_month[month]["program_eligible"] += 1
            self.by_month[month]["served_eligible"] += served
            if not served:
                reason = not_served_reason(facts)
                self.reasons[reason] += 1
                self.reasons_unconstrained[not_served_reason(facts, constrained=False)] += 1
                self.by_month[month]["forgone"] += 1
                slot = f"{facts.local_received.isoweekday()}-{facts.local_received.hour:02d}"
                self.forgone_by_dow_hour[slot] += 1
                self.forgone_by_beat[inc["beat"]] += 1
                self.forgone_reason_by_dow_hour[slot][reason] += 1
                self.forgone_reason_by_beat[inc["beat"]][reason] += 1

        # Response time, 911-dispatched incidents only: the first non-declined program field unit,
        # dispatch to its arrival; police: first police dispatch to first police arrival.
        if served and facts.origin == "911_dispatch":
            field = sorted((u for u in program if u["unit_type"] in FIELD_UNITS), key=lambda u: u["dispatched_at"])
            if field:
                first = field[0]
                if first["arrived_at"] is None:
                    self.response_excluded[first["unit_type"]] += 1
                else:
                    self.response[first["unit_type"]].append(_minutes(first["dispatched_at"], first["arrived_at"]))
            if any(u["dispatched_at"] - inc["received_at"] <= CONCURRENT_WINDOW for u in police):
                c["served_with_concurrent_police"] += 1
            # the concurrent dispatch rate's denominator: a team was sent (phone-resolved: none was)
            c["served_911_field"] += not facts.phone_resolved

        if served:
            encounters = [e for e in inc.get("_encounters", []) if e["incident_number"] is not None]
            if encounters:
                e = encounters[0]
                c["served_linked"] += 1
                self.outcomes[e["primary_outcome"]] += 1
                refs = {r["referral_type"] for r in e["_referrals"]}
                c["served_with_referral"] += bool(refs)
                self.referral_types.update(refs)
                dests = {t["destination_type"] for t in e["_transports"]}
                c["served_with_cm_transport"] += bool(dests)
                self.transport_destinations.update(dests)
                fus = [x["followed_up_at"] for x in e["_follow_ups"] if x["followed_up_at"] <= self.delivered_until]
                c["served_with_follow_up"] += bool(fus)
                c["served_with_follow_up_48h"] += bool(fus) and min(fus) - e["ended_at"] <= FOLLOW_UP_WINDOW

        # Repeat contacts: every 911 incident by place; the compared groups' incidents are the index ones.
        received = inc["received_at"]
        if served and facts.origin == "911_dispatch":
            for e in inc.get("_encounters", []):
                if e["incident_number"] is not None and e["person_id"]:
                    self.person_contacts[e["person_id"]].add((received, inc["incident_number"]))
        self.last_received = received if self.last_received is None else max(self.last_received, received)
        if facts.origin == "911_dispatch" and inc["location_key"]:
            self.calls_911_at[inc["location_key"]].append(received)

        # Comparative groups and police time: program-eligible 911-dispatched incidents.
        if program_eligible and facts.origin == "911_dispatch" and not facts.phone_resolved:
            group = "served" if served else ("police_handled" if police else None)
            if group and inc["location_key"]:
                self.repeat_index.append((group, inc["location_key"], received))
            if group:
                g = self.groups[group]
                g["incidents"] += 1
                g["arrests"] += len(inc.get("_arrests", []))
                g["transported_incidents"] += any(u["transported_at"] for u in units)
                stratum = self.strata[(group, facts.final_type, facts.local_received.hour // 6)]
                stratum["incidents"] += 1
                stratum["arrests"] += len(inc.get("_arrests", []))
                stratum["transported_incidents"] += any(u["transported_at"] for u in units)
            if group == "police_handled":
                c["police_assignments"] += len(police)
                self.police_hours += [_minutes(u["dispatched_at"], u["cleared_at"]) / 60 for u in police]
            if group == "served":
                c["served_eligible_911"] += 1
        if program_eligible and facts.origin == "911_dispatch" and facts.phone_resolved:
            c["served_eligible_phone_resolved"] += 1
        if facts.origin == "911_dispatch":
            police_arrivals = [u["arrived_at"] for u in police if u["arrived_at"]]
            if program_eligible and not served and police:
                if police_arrivals:
                    first_dispatch = min(u["dispatched_at"] for u in police)
                    self.response["police_on_eligible"].append(_minutes(first_dispatch, min(police_arrivals)))
                else:
                    self.response_excluded["police_on_eligible"] += 1

    # ------------------------------------------------------------------------------------ encounters
    def encounter(self, e: dict) -> None:
        c = self.c
        c["encounters"] += 1
        c["encounters_linked"] += e["incident_number"] is not None
        # the record's last change is the case's closing (every case closes within the trailing drops)
        c["encounters_entered_late"] += e["_closed_at"] - e["ended_at"] > dt.timedelta(hours=LATE_ENTRY_HOURS)
        in_person = e["team_type"] in FIELD_UNITS and e["primary_outcome"] != "cancelled_en_route"
        c["encounters_in_person"] += in_person
        if e["responder_felt_safe"] is not None:
            c["safety_answered"] += 1
            c["safety_felt_safe"] += e["responder_felt_safe"]
        c["backup_requests"] += e["police_backup_requested_at"] is not None
        c["ems_requests"] += e["ems_requested_at"] is not None
        if e["police_backup_requested_at"] is not None:
            self.request_reasons["police_backup"][e["police_backup_reason"] or "not recorded"] += 1
        if e["ems_requested_at"] is not None:
            self.request_reasons["ems"][e["ems_request_reason"] or "not recorded"] += 1
        if e["person_id"]:
            self.encounter_people.append((e["person_id"], e["started_at"]))

    def person(self, p: dict, drop_day: dt.date) -> None:
        """A version of a person record, sent in the drop of drop_day: a later drop wins, and within a
        drop the last version sent (as landing and staging keep it)."""
        previous = self.people.get(p["person_id"])
        if previous is None or previous[0] <= drop_day:
            self.people[p["person_id"]] = (drop_day, p)

    def demographics(self) -> dict:
        """People with an encounter, counted once each, by age band (at the record's last update, as
        staging bands it), gender and race/ethnicity, for the whole history."""
        counts = {"age_band": Counter(), "gender": Counter(), "race_ethnicity": Counter()}
        for person_id in {p for p, _ in self.encounter_people}:
            p = self.people[person_id][1]
            updated = p["updated_at"].astimezone(dt.UTC).date()
            age = (updated - p["birth_date"]).days // 365.25
            band = next((b for limit, b in AGE_BANDS if age < limit), "65 and over")
            counts["age_band"][band] += 1
            counts["gender"][p["gender"] or "unknown"] += 1
            counts["race_ethnicity"][p["race_ethnicity"] or "unknown"] += 1
        return {dim: dict(sorted(c.items())) for dim, c in counts.items()}

    def repeat_contacts(self) -> dict:
        """Per compared group and window: index incidents whose whole window lies within the data, and
        those of them followed by another 911 incident at the same place within the window."""
        out = {}
        times = {loc: sorted(ts) for loc, ts in self.calls_911_at.items()}
        for days in REPEAT_WINDOWS:
            window = dt.timedelta(days=days)
            for group, loc, t in self.repeat_index:
                cell = out.setdefault(group, {}).setdefault(
                    str(days), dict(incidents_observed=0, incidents_with_repeat=0, not_yet_observable=0)
                )
                if t + window > self.last_received:
                    cell["not_yet_observable"] += 1
                    continue
                cell["incidents_observed"] += 1
                later = times[loc]
                cell["incidents_with_repeat"] += bisect.bisect_right(later, t + window) > bisect.bisect_right(later, t)
        return out

    def repeat_contacts_people(self) -> dict:
        """Per window: people the program served on a 911 incident, each judged from their first such
        incident; those whose window lies within the data, and those of them the program served again on
        another 911 incident within the window."""
        out = {}
        for days in REPEAT_WINDOWS:
            window = dt.timedelta(days=days)
            cell = out.setdefault(
                str(days), dict(people_served=0, people_observed=0, people_with_repeat=0, not_yet_observable=0)
            )
            for contacts in self.person_contacts.values():
                first, *later = sorted(contacts)
                cell["people_served"] += 1
                if first[0] + window > self.last_received:
                    cell["not_yet_observable"] += 1
                    continue
                cell["people_observed"] += 1
                cell["people_with_repeat"] += any(first[0] < t <= first[0] + window for t, _ in later)
        return out

    def standardized(self, group: str) -> dict:
        """Direct standardization to the combined mix of both groups, over call type x hour-band strata
        where both groups have incidents (per 100 incidents)."""
        # sorted: a set's order follows the string hash seed, and the sum's last bit with it
        cells = sorted({(call_type, hour_band) for (_, call_type, hour_band) in self.strata})
        common = [
            c
            for c in cells
            if self.strata[("served", *c)]["incidents"] and self.strata[("police_handled", *c)]["incidents"]
        ]
        standard = {
            c: self.strata[("served", *c)]["incidents"] + self.strata[("police_handled", *c)]["incidents"]
            for c in common
        }
        total = sum(standard.values())
        out = {}
        for event in ("arrests", "transported_incidents"):
            name = "standardized_arrests_per_100" if event == "arrests" else "standardized_transports_per_100"
            out[name] = (
                100
                * sum(
                    standard[c] / total * self.strata[(group, *c)][event] / self.strata[(group, *c)]["incidents"]
                    for c in common
                )
                if total
                else None
            )
        return out

    # ------------------------------------------------------------------------------------ result
    def result(self, tz, config: dict) -> dict:
        c = self.c
        forgone = sum(self.reasons.values())
        police = self.groups["police_handled"]
        avg_units = c["police_assignments"] / police["incidents"] if police["incidents"] else None
        avg_hours = sum(self.police_hours) / len(self.police_hours) if self.police_hours else None
        hours_saved = (
            c["served_eligible_911"] * avg_units * avg_hours * self.displacement_factor
            if avg_units is not None and avg_hours is not None
            else None
        )

        # Familiar neighbors: people with >= N encounters in the 12 months ending on the last day.
        window_start = self.end.replace(year=self.end.year - 1)
        in_window = Counter(
            p for p, started in self.encounter_people if window_start < started.astimezone(tz).date() <= self.end
        )
        encounters_in_window = sum(in_window.values())
        familiar = {}
        for n in FAMILIAR_THRESHOLDS:
            people = [p for p, k in in_window.items() if k >= n]
            familiar[str(n)] = dict(
                people=len(people),
                encounters=sum(in_window[p] for p in people),
                share_of_encounters=share(sum(in_window[p] for p in people), encounters_in_window),
            )
        outcome_total = sum(self.outcomes.values())
        located = outcome_total - self.outcomes["unable_to_locate"]
        return dict(
            config=config,
            demographics=self.demographics(),
            repeat_contacts=self.repeat_contacts(),
            repeat_contacts_people=self.repeat_contacts_people(),
            volume=dict(
                incidents=c["incidents"],
                calls=c["calls"],
                multi_call_incidents=c["multi_call_incidents"],
                by_origin=dict(sorted(self.by_origin.items())),
                by_local_date=dict(sorted(self.by_local_date.items())),
            ),
            eligibility=dict(
                calltype_eligible=c["calltype_eligible"],
                screen_eligible=c["screen_eligible"],
                screen_failed=c["screen_failed"],
                not_triaged=c["not_triaged"],
                calltype_eligible_not_triaged=c["calltype_eligible_not_triaged"],
                program_eligible=c["program_eligible"],
                eligible_in_service_area=c["eligible_in_service_area"],
                eligible_in_service_hours=c["eligible_in_service_hours"],
            ),
            served=dict(
                served_incidents=c["served"],
                served_eligible=c["served_eligible"],
                share_of_eligible_served=share(c["served_eligible"], c["program_eligible"]),
            ),
            forgone=dict(
                total=forgone,
                share_of_eligible=share(forgone, c["program_eligible"]),
                by_reason={r: self.reasons[r] for r in REASONS},
                unconstrained_by_reason={r: self.reasons_unconstrained[r] for r in REASONS},
                by_dow_hour=dict(sorted(self.forgone_by_dow_hour.items())),
                by_beat=dict(sorted(self.forgone_by_beat.items())),
                reason_by_dow_hour={
                    k: dict(sorted(v.items())) for k, v in sorted(self.forgone_reason_by_dow_hour.items())
                },
                reason_by_beat={k: dict(sorted(v.items())) for k, v in sorted(self.forgone_reason_by_beat.items())},
            ),
            by_month={m: dict(v) for m, v in sorted(self.by_month.items())},
            response_time_minutes={
                k: stats(self.response[k], self.response_excluded[k]) for k in ("crt", "cor", "police_on_eligible")
            },
            outcomes=dict(
                linked_served_incidents=c["served_linked"],
                counts=dict(sorted(self.outcomes.items())),
                share_with_unable_to_locate={k: share(v, outcome_total) for k, v in sorted(self.outcomes.items())},
                share_without_unable_to_locate={
                    k: share(v, located) for k, v in sorted(self.outcomes.items()) if k != "unable_to_locate"
                },
            ),
            encounters=dict(
                total=c["encounters"],
                linked_to_cad=c["encounters_linked"],
                link_rate=share(c["encounters_linked"], c["encounters"]),
                entered_late=c["encounters_entered_late"],
                in_person=c["encounters_in_person"],
            ),
            safety=share(c["safety_felt_safe"], c["safety_answered"]),
            backup=dict(
                police_backup_requests=c["backup_requests"],
                ems_requests=c["ems_requests"],
                in_person_encounters=c["encounters_in_person"],
                served_911_with_concurrent_police=c["served_with_concurrent_police"],
                served_911_field=c["served_911_field"],
                concurrent_police_dispatch_rate=share(c["served_with_concurrent_police"], c["served_911_field"]),
                reasons={kind: dict(sorted(r.items())) for kind, r in self.request_reasons.items()},
            ),
            referrals=dict(
                served_with_referral=share(c["served_with_referral"], c["served_linked"]),
                incidents_by_type=dict(sorted(self.referral_types.items())),
            ),
            transports=dict(
                served_with_transport=share(c["served_with_cm_transport"], c["served_linked"]),
                incidents_by_destination=dict(sorted(self.transport_destinations.items())),
            ),
            follow_ups=dict(
                served_with_follow_up=c["served_with_follow_up"],
                served_with_follow_up_within_48h=c["served_with_follow_up_48h"],
                linked_served_incidents=c["served_linked"],
            ),
            comparative={
                g: dict(
                    incidents=v["incidents"],
                    arrests=v["arrests"],
                    transported_incidents=v["transported_incidents"],
                    arrests_per_100=100 * v["arrests"] / v["incidents"] if v["incidents"] else None,
                    transports_per_100=100 * v["transported_incidents"] / v["incidents"] if v["incidents"] else None,
                    **self.standardized(g),
                )
                for g, v in self.groups.items()
            },
            police_time=dict(
                served_eligible_911=c["served_eligible_911"],
                served_eligible_phone_resolved=c["served_eligible_phone_resolved"],
                police_handled_incidents=police["incidents"],
                police_assignments=c["police_assignments"],
                avg_police_units_per_incident=avg_units,
                avg_police_hours_per_unit=avg_hours,
                displacement_factor=self.displacement_factor,
                police_hours_saved=hours_saved,
            ),
            familiar_neighbors=dict(
                window_start_exclusive=window_start.isoformat(),
                window_end=self.end.isoformat(),
                encounters_with_person=encounters_in_window,
                people=len(in_window),
                thresholds=familiar,
            ),
        )


def _minutes(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 60.0
