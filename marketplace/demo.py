"""The demo catalog: demo accounts, seller organizations and data products built from the real open data shipped in
``marketplace/data``, through the real services only (``flask demo load`` calls ``load_demo``).

What to build is data in ``marketplace.demo_catalog``; this module reads the real sample files, derives the
value-added files some products sell (tidy tables, spatial joins, daily and monthly aggregates), and drives the
services: register users, create organizations and products, cite sources, upload assets, infer the data
dictionary from the uploaded sample, add plans, declare and attest compliance, submit. It is idempotent: accounts
are found by e-mail, organizations by owner and name, products by organization and title.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from statistics import fmean, quantiles

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Membership, Organization, PlatformRole, User
from marketplace.accounts.services import create_organization, normalise_email, register_user
from marketplace.demo_catalog import ACCOUNTS, COMPLIANCE, FIELD_DOCS, ORGANIZATIONS, OTHER_SOURCES, PLANS, PRODUCTS
from marketplace.listings import services as listings
from marketplace.listings.assets import dictionary_from_inference, infer_from_asset, upload_asset
from marketplace.listings.licences import DATA_DIR
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.opendata import (
    datagovhk_records,
    shanghai_records,
    source_from_datagovhk,
    source_from_shanghai,
)
from marketplace.listings.vocab import UpdateFrequency
from marketplace.storage import Storage

SAMPLES = DATA_DIR / "samples"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024

# ---------------------------------------------------------------- reading the real samples


@cache
def _raw_csv(rel: str) -> tuple[list[str], list[list[str]]]:
    with open(SAMPLES / rel, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _dicts(rel: str) -> list[dict]:
    header, rows = _raw_csv(rel)
    return [dict(zip(header, (c.strip() for c in r))) for r in rows]


@cache
def _json(rel: str):
    with open(SAMPLES / rel, encoding="utf-8") as fh:
        return json.load(fh)


def _num(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


def _norm(name: str) -> str:
    """District spelling key: "Central and Western", "Central & Western District" -> "centralwestern"."""
    return re.sub(r"[^a-z]", "", re.sub(r"\b(and|district)\b", "", name.lower()))


# ---------------------------------------------------------------- geometry of the 18 districts

def _in_ring(x: float, y: float, ring: list) -> bool:
    inside, j = False, len(ring) - 1
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i][:2], ring[j][:2]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _ring_area_centroid(ring: list) -> tuple[float, float, float]:
    """Signed area (km², equirectangular at 22.35°N) and centroid (lon, lat) of a ring."""
    kx, ky = 111.32 * math.cos(math.radians(22.35)), 110.57
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a, cx, cy = a + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
    return a / 2 * kx * ky, cx / (3 * a), cy / (3 * a)


@cache
def _districts() -> list[dict]:
    out = []
    for f in _json("hk/hk_district_council_boundaries_2001_lowres.geojson")["features"]:
        g, p = f["geometry"], f["properties"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        parts = [(_ring_area_centroid([pt[:2] for pt in poly[0]]), poly) for poly in polys]
        area = sum(abs(a) - sum(abs(_ring_area_centroid([pt[:2] for pt in h])[0]) for h in poly[1:])
                   for (a, _, _), poly in parts)
        weight = sum(abs(a) for (a, _, _), _ in parts)
        xs = [pt[0] for poly in polys for pt in poly[0]]
        ys = [pt[1] for poly in polys for pt in poly[0]]
        out.append({
            "code": p["DC_CODE"], "number": p["DC"], "en": p["DC_ENG"], "zh": p["DC_CHIN"], "polys": polys,
            "bbox": (min(xs), min(ys), max(xs), max(ys)), "area": area, "parts": len(polys),
            "clon": sum(abs(a) * cx for (a, cx, _), _ in parts) / weight,
            "clat": sum(abs(a) * cy for (a, _, cy), _ in parts) / weight,
        })
    return sorted(out, key=lambda d: d["number"])


def _locate(lon: float, lat: float) -> tuple[dict, str]:
    """The district containing a point, or the one with the nearest centroid (points on simplified coasts)."""
    for d in _districts():
        w, s, e, n = d["bbox"]
        if w <= lon <= e and s <= lat <= n:
            for poly in d["polys"]:
                if _in_ring(lon, lat, poly[0]) and not any(_in_ring(lon, lat, h) for h in poly[1:]):
                    return d, "polygon"
    return min(_districts(), key=lambda d: _km(lat, lon, d["clat"], d["clon"])), "nearest_centroid"


def _by_name(name: str) -> dict | None:
    return next((d for d in _districts() if _norm(d["en"]) == _norm(name)), None)


# ---------------------------------------------------------------- derived files (each returns filename, payload)

def _detectors() -> list[dict]:
    return _dicts("hk/hk_td_traffic_detector_locations.csv")


def _detector_coverage():
    rows, groups = _detectors(), defaultdict(list)
    for r in rows:
        groups[(_by_name(r["District"])["en"], r["Direction"])].append(r)
    out = [[district, direction, len(g), round(100 * len(g) / len(rows), 2),
            round(fmean(float(r["Latitude"]) for r in g), 5), round(fmean(float(r["Longitude"]) for r in g), 5)]
           for (district, direction), g in sorted(groups.items())]
    return "hk_detector_coverage_by_district.csv", (
        ["district_en", "direction", "detector_count", "share_pct", "centroid_lat", "centroid_lon"], out)


def _detector_dc_join():
    out = []
    for r in _detectors():
        lat, lon = float(r["Latitude"]), float(r["Longitude"])
        d, how = _locate(lon, lat)
        out.append([r["AID_ID_Number"], r["District"], d["code"], d["en"], d["zh"], how,
                    _norm(r["District"]) == _norm(d["en"]), lat, lon])
    return "hk_detectors_by_district_polygon.csv", (
        ["aid_id", "td_district", "district_code", "district_en", "district_zh", "match_method", "td_district_agrees",
         "latitude", "longitude"], out)


def _wind() -> list[dict]:
    rows = _dicts("hk/hko_10min_wind_combined_20250908.csv")
    for r in rows:
        r["hkt"] = r["timestamp_hkt"][:19].replace(" ", "T") + "+08:00"
    return rows


def _beaufort(kmh: float) -> int:
    return sum(kmh >= t for t in (1, 6, 12, 20, 29, 39, 50, 62, 75, 89, 103, 118))


@cache
def _station_peaks() -> dict[str, dict]:
    stations = defaultdict(list)
    for r in _wind():
        stations[r["station_name"]].append(r)
    out = {}
    for name, rows in stations.items():
        mean = max(rows, key=lambda r: float(r["wind_speed_kmh"]))
        gust = max(rows, key=lambda r: float(r["wind_gust_kmh"]))
        out[name] = {"lat": float(rows[0]["latitude"]), "lon": float(rows[0]["longitude"]), "n": len(rows),
                     "mean": float(mean["wind_speed_kmh"]), "mean_at": mean["hkt"],
                     "gust": float(gust["wind_gust_kmh"]), "gust_at": gust["hkt"]}
    return out


def _wind_station_peaks():
    rows = [[name, s["lat"], s["lon"], s["n"], s["mean"], s["mean_at"], s["gust"], s["gust_at"],
             _beaufort(s["mean"]), round(s["gust"] / s["mean"], 2) if s["mean"] else None]
            for name, s in sorted(_station_peaks().items(), key=lambda kv: -kv[1]["gust"])]
    return "hko_station_peaks_signal8_20250908.csv", (
        ["station_name", "latitude", "longitude", "observations", "peak_mean_wind_kmh", "peak_mean_at_hkt",
         "peak_gust_kmh", "peak_gust_at_hkt", "beaufort_force", "gust_factor"], rows)


def _exposure(gust: float) -> str:
    return "severe" if gust >= 110 else "high" if gust >= 90 else "elevated" if gust >= 70 else "moderate"


def _detector_wind():
    peaks, out = _station_peaks(), []
    for r in _detectors():
        lat, lon = float(r["Latitude"]), float(r["Longitude"])
        name, s = min(peaks.items(), key=lambda kv: _km(lat, lon, kv[1]["lat"], kv[1]["lon"]))
        out.append([r["AID_ID_Number"], r["District"], r["Road_EN"], lat, lon, name,
                    round(_km(lat, lon, s["lat"], s["lon"]), 2), s["mean"], s["gust"], _exposure(s["gust"])])
    return "hk_detector_wind_exposure_signal8_20250908.csv", (
        ["aid_id", "td_district", "Road_EN", "latitude", "longitude", "nearest_station", "station_distance_km",
         "peak_mean_wind_kmh", "peak_gust_kmh", "exposure_class"], out)


def _wind_district_hourly():
    where = {n: _locate(s["lon"], s["lat"])[0] for n, s in _station_peaks().items()}
    groups = defaultdict(list)
    for r in _wind():
        groups[(r["hkt"][:13] + ":00:00+08:00", where[r["station_name"]]["number"])].append(r)
    out = []
    for (hour, number), rows in sorted(groups.items()):
        d = next(d for d in _districts() if d["number"] == number)
        out.append([hour, d["code"], d["en"], d["zh"], len({r["station_name"] for r in rows}),
                    _r(fmean(float(r["wind_speed_kmh"]) for r in rows)), max(float(r["wind_speed_kmh"]) for r in rows),
                    max(float(r["wind_gust_kmh"]) for r in rows), rows[0]["official_signal_hko"]])
    return "hk_district_hourly_wind_signal8_20250908.csv", (
        ["hour_start_hkt", "district_code", "district_en", "district_zh", "stations", "mean_wind_kmh",
         "peak_mean_wind_kmh", "max_gust_kmh", "official_signal_hko"], out)


def _rhrread() -> dict:
    return _json("hk/hko_current_weather_report_rhrread_20240914.json")


def _weather_long():
    w, out = _rhrread(), []
    for item in w["temperature"]["data"]:
        out.append([w["temperature"]["recordTime"], "temperature", item["place"], item["value"], "°C"])
    for item in w["humidity"]["data"]:
        out.append([w["humidity"]["recordTime"], "relative_humidity", item["place"], item["value"], "%"])
    for item in w["rainfall"]["data"]:
        for key in ("max", "min"):
            if key in item:
                out.append([w["rainfall"]["endTime"], f"rainfall_{key}", item["place"], item[key], "mm"])
    for item in w["uvindex"]["data"]:
        out.append([w["updateTime"], "uv_index", item["place"], item["value"], ""])
    for item in w["lightning"]["data"]:
        out.append([w["lightning"]["endTime"], "lightning", item["place"], int(item["occur"] == "true"), ""])
    return "hko_weather_observations_long_20240914.csv", (["observed_at", "variable", "place", "value", "unit"], out)


def _lightning_region(d: dict) -> str:
    n = int(d["number"])
    return ("Hong Kong Island" if n < 20 else "Kowloon" if n < 30 else "New Territories West" if n < 35
            else "Islands" if n == 39 else "New Territories East")


def _rainfall_district():
    w = _rhrread()
    lit = {i["place"] for i in w["lightning"]["data"] if i["occur"] == "true"}
    out = []
    for item in w["rainfall"]["data"]:
        d = _by_name(item["place"])
        out.append([w["rainfall"]["endTime"], d["code"], d["en"], d["zh"], item["place"], item.get("min"), item["max"],
                    _lightning_region(d), _lightning_region(d) in lit])
    return "hk_district_rainfall_lightning_20240914.csv", (
        ["observed_at", "district_code", "district_en", "district_zh", "hko_rainfall_place", "rainfall_min_mm",
         "rainfall_max_mm", "lightning_region", "lightning_reported"], sorted(out, key=lambda r: r[1]))


def _lampposts() -> tuple[str, list[dict]]:
    data = _json("hk/hk_smart_lampposts_air_quality_realtime.json")
    return data["ts"].replace(".000Z", "+00:00"), data["data"]


def _lamppost_flat():
    ts, items = _lampposts()
    out = [[ts, i["lamppost"]["PI"], i["lamppost"]["DI"], i["lamppost"]["location_en"], i["lamppost"]["location_tc"],
            _locate(i["lamppost"]["lng"], i["lamppost"]["lat"])[0]["code"], i["lamppost"]["district_en"],
            i["lamppost"]["lat"], i["lamppost"]["lng"], i["lamppost"]["is_online"], _r(i["no"], 2), _r(i["no2"], 2),
            _r(i["pm25"], 2)] for i in items]
    return "hk_smart_lamppost_air_quality_flat.csv", (
        ["observed_at", "lamppost_id", "device_id", "location_en", "location_zh", "district_code", "district_en",
         "latitude", "longitude", "online", "no_ugm3", "no2_ugm3", "pm25_ugm3"], out)


def _lamppost_district():
    ts, items = _lampposts()
    groups = defaultdict(list)
    for i in items:
        groups[_locate(i["lamppost"]["lng"], i["lamppost"]["lat"])[0]["number"]].append(i)
    out = []
    for number, g in sorted(groups.items()):
        d = next(d for d in _districts() if d["number"] == number)
        out.append([ts, d["code"], d["en"], d["zh"], len(g), _r(fmean(i["no2"] for i in g)), _r(max(i["no2"] for i in g)),
                    _r(fmean(i["pm25"] for i in g)), _r(max(i["pm25"] for i in g))])
    return "hk_roadside_exposure_by_district.csv", (
        ["observed_at", "district_code", "district_en", "district_zh", "lampposts", "no2_mean_ugm3", "no2_max_ugm3",
         "pm25_mean_ugm3", "pm25_max_ugm3"], out)


def _dc_centroids():
    out = [[d["code"], d["number"], d["en"], d["zh"], round(d["clat"], 5), round(d["clon"], 5),
            *(round(v, 5) for v in d["bbox"]), round(d["area"], 1), d["parts"]] for d in _districts()]
    return "hk_district_centroids.csv", (
        ["district_code", "dc_number", "district_en", "district_zh", "centroid_lat", "centroid_lon", "bbox_west",
         "bbox_south", "bbox_east", "bbox_north", "approx_area_km2", "parts"], out)


def _district_crosswalk():
    def spellings(names) -> dict[str, str]:
        found = defaultdict(set)
        for n in names:
            if _by_name(n):
                found[_by_name(n)["number"]].add(n)
        return {k: " | ".join(sorted(v)) for k, v in found.items()}

    td = spellings(r["District"] for r in _detectors())
    lamp = spellings(i["lamppost"]["district_en"] for i in _lampposts()[1])
    hko = spellings(i["place"] for i in _rhrread()["rainfall"]["data"])
    out = [[d["code"], d["number"], d["en"], d["zh"], td.get(d["number"], ""), lamp.get(d["number"], ""),
            hko.get(d["number"], "")] for d in _districts()]
    return "hk_district_name_crosswalk.csv", (
        ["district_code", "dc_number", "district_en", "district_zh", "td_district_name", "lamppost_district_name",
         "hko_rainfall_place"], out)


def _links_geojson():
    features = [{
        "type": "Feature",
        "properties": {k: link[k] for k in ("link_id", "link_name_en", "link_name_tc", "region", "road_type")} | {
            "length_m": round(1000 * _km(link["start_node_latitude"], link["start_node_longitude"],
                                         link["end_node_latitude"], link["end_node_longitude"]))},
        "geometry": {"type": "LineString", "coordinates": [
            [link["start_node_longitude"], link["start_node_latitude"]],
            [link["end_node_longitude"], link["end_node_latitude"]]]},
    } for link in _json("hk/hk_traffic_speed_map_link_info.json")]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
    return "hk_speed_map_links.geojson", body.encode()


@cache
def _journeys() -> list[list]:
    header, rows = _raw_csv("hk/hk_td_am_peak_car_journey_time_cross_district_2023.csv")
    head = next(r for r in rows if any(c.startswith("Origin - Destination") for c in r))
    cols = [j for j, c in enumerate(head) if c.strip()]
    out, outbound_via = [], ""
    for r in rows[rows.index(head) + 1:]:
        cells = [" ".join(r[j].split()) if j < len(r) else "" for j in cols]
        if not cells[0]:
            continue
        od, start, via, end, dist, mins = cells
        m = re.match(r"(.*?)\s+-\s+(.*?)\s*(?:\((via[^)]*)\))?$", od)
        if via.strip("- ").lower() == "vice versa":
            via = " - ".join(reversed(re.split(r"\s*-\s*", outbound_via)))
        else:
            outbound_via = via
        out.append([f"KLN-{len(out) + 1:02d}", m.group(1), m.group(2), m.group(3) or "", start, via, end,
                    float(dist), float(mins), round(float(dist) / float(mins) * 60, 1)])
    return out


def _journeys_tidy():
    return "td_am_peak_journey_time_kowloon_2023_tidy.csv", (
        ["route_id", "origin", "destination", "via_note", "start_point", "route", "end_point", "distance_km",
         "journey_time_min", "avg_speed_kmh"], _journeys())


def _journey_ranking():
    rows = _journeys()
    out = []
    for i, r in enumerate(rows):
        back = rows[i ^ 1][8]  # routes come in outbound/return pairs
        out.append([r[0], r[1], r[2], r[7], r[8], r[9], back, round(100 * (r[8] - back) / back, 1)])
    out.sort(key=lambda r: r[5])
    return "kowloon_route_speed_ranking_2023.csv", (
        ["rank_slowest", "route_id", "origin", "destination", "distance_km", "journey_time_min", "avg_speed_kmh",
         "return_journey_time_min", "asymmetry_pct"], [[i + 1, *r] for i, r in enumerate(out)])


@cache
def _shanghai() -> list[dict]:
    out = []
    for r in _dicts("shanghai/shanghai_pm25_us_post_2015.csv"):
        out.append({"at": datetime(int(r["year"]), int(r["month"]), int(r["day"]), int(r["hour"])),
                    "pm": _num(r["PM_US Post"]), "temp": _num(r["TEMP"]), "humi": _num(r["HUMI"]),
                    "dewp": _num(r["DEWP"]), "pres": _num(r["PRES"]), "wind": r["cbwd"], "season": int(r["season"]),
                    "rain": _num(r["precipitation"]) or 0.0})
    return out


def _iso(at: datetime) -> str:
    return at.isoformat() + "+08:00"


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return _r(fmean(values)) if values else None


def _p90(values) -> float | None:
    values = [v for v in values if v is not None]
    return _r(quantiles(values, n=10)[-1]) if len(values) > 1 else None


def _iaqi(c: float) -> tuple[int, str]:
    """China individual AQI of a 24-h PM2.5 mean (HJ 633-2012) and its category."""
    cs, i_s = (0, 35, 75, 115, 150, 250, 350, 500), (0, 50, 100, 150, 200, 300, 400, 500)
    k = next((k for k in range(1, len(cs)) if c <= cs[k]), len(cs) - 1)
    iaqi = min(500, round(i_s[k - 1] + (i_s[k] - i_s[k - 1]) * (c - cs[k - 1]) / (cs[k] - cs[k - 1])))
    names = ("优", "良", "轻度污染", "中度污染", "重度污染", "重度污染", "严重污染", "严重污染")
    return iaqi, names[k - 1]


@cache
def _days() -> list[dict]:
    groups = defaultdict(list)
    for h in _shanghai():
        groups[h["at"].date()].append(h)
    out = []
    for day, hours in sorted(groups.items()):
        pm = [h["pm"] for h in hours if h["pm"] is not None]
        out.append({"date": day, "hours": hours, "n": len(pm), "mean": _r(fmean(pm)) if pm else None,
                    "max": max(pm) if pm else None})
    return out


def _dominant(hours) -> str:
    return Counter(h["wind"] for h in hours).most_common(1)[0][0]


def _pm_daily():
    out = []
    for d in _days():
        iaqi, cat = _iaqi(d["mean"]) if d["mean"] is not None else (None, "")
        out.append([d["date"].isoformat(), d["n"], d["mean"], d["max"], iaqi, cat,
                    d["mean"] is not None and d["mean"] > 75, _mean(h["temp"] for h in d["hours"]),
                    _mean(h["humi"] for h in d["hours"]), _r(sum(h["rain"] for h in d["hours"]))])
    return "shanghai_daily_pm25_aqi_2015.csv", (
        ["date", "hours_observed", "pm25_mean_ugm3", "pm25_max_ugm3", "iaqi_pm25", "aqi_category", "exceeds_grade_ii",
         "temp_mean_c", "humidity_mean_pct", "precipitation_mm"], out)


def _pm_monthly():
    months = defaultdict(list)
    for d in _days():
        months[d["date"].strftime("%Y-%m")].append(d)
    out = []
    for month, days in sorted(months.items()):
        hours = [h for d in days for h in d["hours"]]
        out.append([month, len(days), _mean(h["pm"] for h in hours), _p90(h["pm"] for h in hours),
                    sum(1 for d in days if (d["mean"] or 0) > 75), _mean(h["temp"] for h in hours),
                    _mean(h["humi"] for h in hours), _r(sum(h["rain"] for h in hours)), _dominant(hours)])
    return "shanghai_monthly_air_quality_2015.csv", (
        ["month", "days", "pm25_mean_ugm3", "pm25_p90_ugm3", "exceedance_days", "temp_mean_c", "humidity_mean_pct",
         "precipitation_mm", "dominant_wind"], out)


def _pm_episodes():
    runs, current = [], []
    for d in _days():
        if (d["mean"] or 0) > 75 and (not current or d["date"] - current[-1]["date"] == timedelta(days=1)):
            current.append(d)
        else:
            runs, current = runs + ([current] if current else []), ([d] if (d["mean"] or 0) > 75 else [])
    runs += [current] if current else []
    out = [[i + 1, run[0]["date"].isoformat(), run[-1]["date"].isoformat(), len(run), max(d["mean"] for d in run),
            _r(fmean(d["mean"] for d in run)), _dominant([h for d in run for h in d["hours"]])]
           for i, run in enumerate(runs)]
    return "shanghai_pm25_episodes_2015.csv", (
        ["episode_id", "start_date", "end_date", "days", "peak_daily_pm25_ugm3", "pm25_mean_ugm3", "dominant_wind"], out)


def _pm_wind():
    names, groups = {1: "spring", 2: "summer", 3: "autumn", 4: "winter"}, defaultdict(list)
    for h in _shanghai():
        groups[(h["season"], h["wind"])].append(h)
    totals = Counter(h["season"] for h in _shanghai())
    out = [[names[s], w, len(g), round(100 * len(g) / totals[s], 1), _mean(h["pm"] for h in g), _p90(h["pm"] for h in g)]
           for (s, w), g in sorted(groups.items())]
    return "shanghai_pm25_by_season_and_wind.csv", (
        ["season_name", "wind_sector", "hours", "share_of_season_pct", "pm25_mean_ugm3", "pm25_p90_ugm3"], out)


def _pm_rain():
    hours, groups = _shanghai(), defaultdict(list)
    for i, h in enumerate(hours[:-3]):
        rain = h["rain"]
        cls = "dry" if rain == 0 else "light" if rain < 2.5 else "moderate" if rain < 8 else "heavy"
        later = hours[i + 3]["pm"]
        groups[cls].append((h["pm"], later - h["pm"] if later is not None and h["pm"] is not None else None))
    out = [[cls, len(g), _mean(p for p, _ in g), _mean(c for _, c in g)]
           for cls in ("dry", "light", "moderate", "heavy") if (g := groups.get(cls))]
    return "shanghai_rain_washout_2015.csv", (
        ["rain_class", "hours", "pm25_mean_ugm3", "pm25_change_next_3h_ugm3"], out)


def _heat_index(t: float, rh: float) -> float:
    if t < 27 or rh < 40:
        return t
    f = t * 9 / 5 + 32
    hi = (-42.379 + 2.04901523 * f + 10.14333127 * rh - 0.22475541 * f * rh - 0.00683783 * f * f
          - 0.05481717 * rh * rh + 0.00122874 * f * f * rh + 0.00085282 * f * rh * rh - 0.00000199 * f * f * rh * rh)
    return round((hi - 32) * 5 / 9, 1)


def _pm_heat():
    out = [[_iso(h["at"]), h["temp"], h["humi"], h["dewp"], h["pres"],
            _heat_index(h["temp"], h["humi"]) if h["temp"] is not None and h["humi"] is not None else None,
            max(0.0, h["temp"] - 26) if h["temp"] is not None else None,
            max(0.0, 18 - h["temp"]) if h["temp"] is not None else None] for h in _shanghai()]
    return "shanghai_hourly_heat_humidity_2015.csv", (
        ["observed_at", "temp_c", "humidity_pct", "dew_point_c", "pressure_hpa", "heat_index_c",
         "cooling_degree_hours_26c", "heating_degree_hours_18c"], out)


_SH_STATION = ("US-Post", "US Consulate General Shanghai (PM_US Post)", "UCI PM2.5 Data of Five Chinese Cities")


def _twin_air():
    ts, items = _lampposts()
    out = [["hong_kong", i["lamppost"]["PI"], i["lamppost"]["location_en"], ts, pollutant, _r(i[pollutant], 2), "µg/m³",
            "EPD Smart Lampposts Air Quality Data"] for i in items for pollutant in ("no", "no2", "pm25")]
    out += [["shanghai", _SH_STATION[0], _SH_STATION[1], _iso(h["at"]), "pm25", h["pm"], "µg/m³", _SH_STATION[2]]
            for h in _shanghai() if h["at"].date() == date(2015, 9, 13) and h["pm"] is not None]
    return "hk_shanghai_air_quality_long.csv", (
        ["city", "station_id", "station", "observed_at", "pollutant", "value", "unit", "source_dataset"], out)


def _twin_weather():
    w = _rhrread()
    out = [["hong_kong", i["place"], w["temperature"]["recordTime"], "temperature", i["value"], "°C",
            "HKO Current weather report"] for i in w["temperature"]["data"]]
    out += [["hong_kong", i["place"], w["humidity"]["recordTime"], "relative_humidity", i["value"], "%",
             "HKO Current weather report"] for i in w["humidity"]["data"]]
    for h in (h for h in _shanghai() if h["at"].date() == date(2015, 9, 14)):
        out += [["shanghai", _SH_STATION[1], _iso(h["at"]), var, h[key], unit, _SH_STATION[2]]
                for var, key, unit in (("temperature", "temp", "°C"), ("relative_humidity", "humi", "%"),
                                       ("pressure", "pres", "hPa"))]
    return "hk_shanghai_weather_long.csv", (
        ["city", "station", "observed_at", "variable", "value", "unit", "source_dataset"], out)


def _benchmark_row(city, period, source, values):
    values = [v for v in values if v is not None]
    return [city, period, source, len(values), _r(fmean(values)), _r(max(values)),
            _r(100 * sum(v > 15 for v in values) / len(values)), _r(100 * sum(v > 75 for v in values) / len(values))]


def _twin_benchmark():
    ts, items = _lampposts()
    out = [_benchmark_row("hong_kong", f"snapshot {ts}", "EPD smart lampposts (instantaneous)", [i["pm25"] for i in items])]
    out.append(_benchmark_row("shanghai", "2015 (daily means)", _SH_STATION[2], [d["mean"] for d in _days()]))
    for s, name in ((1, "spring"), (2, "summer"), (3, "autumn"), (4, "winter")):
        days = [d["mean"] for d in _days() if d["hours"][0]["season"] == s]
        out.append(_benchmark_row("shanghai", f"2015 {name} (daily means)", _SH_STATION[2], days))
    return "hk_shanghai_pm25_benchmark.csv", (
        ["city", "period", "source_dataset", "observations", "pm25_mean_ugm3", "pm25_max_ugm3", "share_above_who_pct",
         "share_above_grade_ii_pct"], out)


DERIVED = {name[1:]: fn for name, fn in globals().items() if name.startswith("_") and name[1:] in {
    "detector_coverage", "detector_dc_join", "wind_station_peaks", "detector_wind", "wind_district_hourly",
    "weather_long", "rainfall_district", "lamppost_flat", "lamppost_district", "dc_centroids", "district_crosswalk",
    "links_geojson", "journeys_tidy", "journey_ranking", "pm_daily", "pm_monthly", "pm_episodes", "pm_wind", "pm_rain",
    "pm_heat", "twin_air", "twin_weather", "twin_benchmark"}}


def _csv_bytes(header: list, rows: list) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().encode("utf-8")


@cache
def derived_file(spec: str) -> tuple[str, bytes]:
    """The file a catalog spec ``@name`` / ``@name:N`` / ``@head:path:N`` stands for, as (filename, bytes)."""
    name, _, arg = spec.lstrip("@").partition(":")
    if name == "head":
        rel, _, n = arg.rpartition(":")
        header, rows = _raw_csv(rel)
        return f"{Path(rel).stem}_sample.csv", _csv_bytes(header, rows[:int(n)])
    filename, payload = DERIVED[name]()
    if isinstance(payload, bytes):
        return filename, payload
    rows = payload[1][:int(arg)] if arg else payload[1]
    return (filename.replace(".csv", "_sample.csv") if arg else filename), _csv_bytes(payload[0], rows)


# ---------------------------------------------------------------- building through the services

def _max_upload_bytes() -> int:
    try:
        from flask import current_app
        return int(current_app.config.get("MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))
    except RuntimeError:  # no application context
        return DEFAULT_MAX_BYTES


def _ensure_user(session: Session, account: dict, created: Counter) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(account["email"])))
    if user is None:
        user = register_user(session, email=account["email"], password=account["password"],
                             display_name=account["name"], locale=account.get("locale", "en"),
                             platform_role=PlatformRole(account.get("role", "none")))
        created["users"] += 1
    return user


def _ensure_org(session: Session, owner: User, key: str, created: Counter) -> Organization:
    spec = ORGANIZATIONS[key]
    org = session.scalar(select(Organization).join(Membership).where(
        Membership.user_id == owner.id, Organization.name == spec["name"]))
    if org is None:
        org = create_organization(session, owner, name=spec["name"], description=spec["description"],
                                  contact_email=spec["contact_email"])
        created["organizations"] += 1
    return org


def _existing_product(session: Session, org: Organization, title: str) -> DataProduct | None:
    return session.scalar(select(DataProduct).join(ProductVersion, ProductVersion.product_id == DataProduct.id).where(
        DataProduct.organization_id == org.id, ProductVersion.number == 1, ProductVersion.title_en == title))


def _sources(spec: dict) -> list[tuple[dict, str]]:
    """(source fields, one-line note from the record) for each upstream the product cites, in citation order."""
    hk = {r["name"]: r for r in datagovhk_records()}
    sh = {r["slug"]: r for r in shanghai_records()}
    out = []
    for name in spec.get("hk", []):
        notes = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", " ".join(hk[name]["notes"].split()))
        out.append((source_from_datagovhk(hk[name]), re.split(r"(?<=[.!?])\s", notes)[0][:200]))
    for slug in spec.get("sh", []):
        out.append((source_from_shanghai(sh[slug]), "字段 fields: " + " ".join(sh[slug]["notes"].split())[:200]))
    for key in spec.get("other", []):
        fields = dict(OTHER_SOURCES[key])
        out.append((fields, fields.pop("note")))
    return out


_FREQ_ZH = {"realtime": "實時", "hourly": "每小時", "daily": "每日", "weekly": "每週", "monthly": "每月",
            "quarterly": "每季", "yearly": "每年", "irregular": "不定期", "one_off": "一次性"}
_SIMPLIFIED = str.maketrans("實週時間區數據來內蓋圍頻範", "实周时间区数据来内盖围频范")


def _describe(spec: dict, sources: list[tuple[dict, str]], lang: str) -> str:
    """Markdown description: the seller's own lead and value-added list, then provenance and coverage."""
    start, end = spec["temporal"]
    if lang == "en":
        heads = ("What we add", "Built on open data", "Coverage")
        period = f"Period: {start} to {end}" if end else f"Period: from {start}, updated continuously"
        cover = [period, f"Area: {spec['spatial']}", f"Updates: {UpdateFrequency(spec['frequency']).label}"]
    else:
        heads = ("增值內容", "數據來源", "覆蓋範圍")
        cover = [f"時間：{start} 至 {end}" if end else f"時間：{start} 起持續更新", f"地區：{spec['spatial']}",
                 f"更新頻率：{_FREQ_ZH[spec['frequency']]}"]
    lines = [spec[f"lead_{lang}"], "", f"### {heads[0]}", *(f"- {v}" for v in spec[f"value_{lang}"]), "",
             f"### {heads[1]}"]
    lines += [f"- **{s['title']}** ({s['publisher']}): {note}" for s, note in sources]
    text = "\n".join([*lines, "", f"### {heads[2]}", *(f"- {c}" for c in cover)])
    return text if lang == "en" or spec["regions"] == ["hong_kong"] else text.translate(_SIMPLIFIED)


def _plan(entry: tuple) -> dict:
    preset, amount, currency, *overrides = entry
    return {**PLANS[preset], "amount": amount, "currency": currency, **(overrides[0] if overrides else {})}


def _upload(session, storage, user, version, kind: str, spec: str, max_bytes: int):
    if spec.startswith("@"):
        filename, data = derived_file(spec)
        stream = io.BytesIO(data)
    else:  # a real sample file, streamed from disk
        filename, stream = Path(spec).name, open(SAMPLES / spec, "rb")
    with stream:
        return upload_asset(session, storage, user, version, kind=kind, filename=filename, stream=stream,
                            content_type=None, max_bytes=max_bytes)


def _document(row: dict) -> dict:
    description, unit = FIELD_DOCS.get(row["name"], ("", ""))
    return row | {"description": row["description"] or description, "unit": row["unit"] or unit}


def _build_product(session: Session, storage: Storage, user: User, org: Organization, spec: dict,
                   max_bytes: int) -> DataProduct:
    sources = _sources(spec)
    start, end = (date.fromisoformat(d) if d else None for d in spec["temporal"])
    product = listings.create_product(session, user, org, {"title_en": spec["title_en"], "category": spec["category"]})
    version = product.latest_version
    listings.update_metadata(session, user, version, {
        "title_zh": spec["title_zh"], "description_en": _describe(spec, sources, "en"),
        "description_zh": _describe(spec, sources, "zh"), "tags": [t.strip() for t in spec["tags"].split(",")],
        "regions": spec["regions"], "temporal_start": start, "temporal_end": end, "spatial_coverage": spec["spatial"],
        "update_frequency": spec["frequency"], "delivery_methods": spec["delivery"], "formats": spec["formats"],
    })
    for fields, _ in sources:
        listings.add_source(session, user, version, fields)
    for entry in spec["plans"]:
        listings.add_plan(session, user, version, _plan(entry))
    state = spec.get("state", "submit")
    attester = ORGANIZATIONS[spec["org"]]["attester"]
    if state == "incomplete":  # profile declared but not attested; no files or dictionary yet
        listings.set_compliance(session, user, version, COMPLIANCE[spec["compliance"]], attest=False,
                                attested_by_name=None)
        return product
    samples = [_upload(session, storage, user, version, "sample", s, max_bytes) for s in spec["samples"]]
    for d in spec["deliverables"]:
        _upload(session, storage, user, version, "deliverable", d, max_bytes)
    inferred = infer_from_asset(storage, samples[0])
    listings.replace_dictionary(session, user, version,
                                [_document(r) for r in dictionary_from_inference(version, inferred)])
    listings.set_compliance(session, user, version, COMPLIANCE[spec["compliance"]], attest=True,
                            attested_by_name=attester)
    if state == "submit":
        listings.submit_version(session, user, version)
        _after_submission(session, product, version, spec.get("review", "approve"))
    return product


# ---------------------------------------------------------------- hook for the compliance-review issue
# Review does not exist yet, so every demo product stops at SUBMITTED (or DRAFT). When the review services land,
# implement ``_after_submission`` to move each newly submitted version on as reviewer@demo.exchange, following the
# product's "review" entry in demo_catalog.PRODUCTS (``review_plan()`` lists them):
#   "approve" -> claim, approve and list, so buyers browse a populated catalog;
#   "queue"   -> leave SUBMITTED, so the reviewer has a queue to demonstrate;
#   "changes" -> claim and request changes with a comment, to show the seller's side of the loop.
# Products loaded before that (already SUBMITTED) are found by organization and title, as load_demo does.

def _after_submission(session: Session, product: DataProduct, version: ProductVersion, decision: str) -> None:
    """Called once for each version the demo submits; a no-op until compliance review exists."""
    return None


def review_plan() -> dict[str, list[str]]:
    """Titles of the submitted demo products by what the later review step should do with them."""
    plan: dict[str, list[str]] = defaultdict(list)
    for spec in PRODUCTS:
        if spec.get("state", "submit") == "submit":
            plan[spec.get("review", "approve")].append(spec["title_en"])
    return dict(plan)


# ---------------------------------------------------------------- entry point and report

def load_demo(session: Session, storage: Storage) -> str:
    """Create the demo accounts, organizations and products that do not exist yet; return a report for people."""
    started, created, max_bytes = time.perf_counter(), Counter(), _max_upload_bytes()
    users = {a["email"]: _ensure_user(session, a, created) for a in ACCOUNTS}
    owners = {a["org"]: users[a["email"]] for a in ACCOUNTS if a.get("org")}
    orgs = {key: _ensure_org(session, owner, key, created) for key, owner in owners.items()}
    for spec in PRODUCTS:
        if _existing_product(session, orgs[spec["org"]], spec["title_en"]) is None:
            _build_product(session, storage, owners[spec["org"]], orgs[spec["org"]], spec, max_bytes)
            created["products"] += 1
    session.flush()
    return _report(session, orgs, created, time.perf_counter() - started)


def _report(session: Session, orgs: dict[str, Organization], created: Counter, seconds: float) -> str:
    if created:
        made = ", ".join(f"{n} {what}" for what, n in created.items())
        lines = [f"Demo catalog loaded in {seconds:.1f} s: created {made}."]
    else:
        lines = ["The demo catalog is already loaded; nothing new was created."]
    lines += ["", "Demo accounts (demo passwords: change or remove them on any shared server):"]
    lines += [f"  {a['email']:<26} {a['password']:<22} {a['what']}" for a in ACCOUNTS]
    totals: Counter = Counter()
    lines += ["", f"Organizations ({len(orgs)}):"]
    for org in orgs.values():
        products = session.scalars(select(DataProduct).where(DataProduct.organization_id == org.id)).all()
        status = Counter(p.latest_version.status.value for p in products)
        totals.update(status)
        detail = ", ".join(f"{n} {s}" for s, n in sorted(status.items())) or "buyer"
        lines.append(f"  {org.name} <{org.contact_email}>: {len(products)} products ({detail})" if products
                     else f"  {org.name} <{org.contact_email}>: {detail}")
    lines.append(f"Products: {sum(totals.values())} ("
                 + ", ".join(f"{n} {s}" for s, n in sorted(totals.items())) + ")")
    plan = review_plan()
    lines.append("Review is not implemented yet; marketplace.demo._after_submission will later approve "
                 f"{len(plan.get('approve', []))}, leave {len(plan.get('queue', []))} in the queue and request "
                 f"changes on {len(plan.get('changes', []))}.")
    return "\n".join(lines)
