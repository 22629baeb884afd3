"""Value-added files some demo products sell, derived from the real samples in ``marketplace/data/samples``:
tidy tables, spatial joins against the district boundaries, QA'd and aggregated series."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from statistics import fmean, quantiles

from marketplace.listings.licences import DATA_DIR

SAMPLES = DATA_DIR / "samples"


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


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return _r(fmean(values)) if values else None


def _max(values) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _p90(values) -> float | None:
    values = [v for v in values if v is not None]
    return _r(quantiles(values, n=10)[-1]) if len(values) > 1 else None


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


def _area_centroid(ring: list) -> tuple[float, float, float]:
    """Area (km², equirectangular at 22.35°N) and centroid (lon, lat) of a ring."""
    a = cx = cy = 0.0
    for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a, cx, cy = a + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
    return abs(a / 2) * 111.32 * math.cos(math.radians(22.35)) * 110.57, cx / (3 * a), cy / (3 * a)


@cache
def _districts() -> list[dict]:
    out = []
    for f in _json("hk/hk_district_council_boundaries_2001_lowres.geojson")["features"]:
        g, p = f["geometry"], f["properties"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        outer = [_area_centroid(poly[0]) for poly in polys]
        weight = sum(a for a, _, _ in outer)
        xs, ys = [pt[0] for poly in polys for pt in poly[0]], [pt[1] for poly in polys for pt in poly[0]]
        out.append({"code": p["DC_CODE"], "number": p["DC"], "en": p["DC_ENG"], "zh": p["DC_CHIN"], "polys": polys,
                    "bbox": (min(xs), min(ys), max(xs), max(ys)), "parts": len(polys),
                    "area": weight - sum(_area_centroid(h)[0] for poly in polys for h in poly[1:]),
                    "clon": sum(a * x for a, x, _ in outer) / weight, "clat": sum(a * y for a, _, y in outer) / weight})
    return sorted(out, key=lambda d: d["number"])


def _locate(lon: float, lat: float) -> tuple[dict, str]:
    """The district containing a point, else the one whose outline comes closest (points off simplified coasts)."""
    for d in _districts():
        w, s, e, n = d["bbox"]
        if w <= lon <= e and s <= lat <= n and any(_in_ring(lon, lat, poly[0]) and not any(
                _in_ring(lon, lat, hole) for hole in poly[1:]) for poly in d["polys"]):
            return d, "polygon"
    return min(_districts(), key=lambda d: min((x - lon) ** 2 + (y - lat) ** 2 for poly in d["polys"]
                                               for x, y, *_ in poly[0])), "nearest_boundary"


def _by_name(name: str) -> dict:
    return next(d for d in _districts() if _norm(d["en"]) == _norm(name))


def _by_number(number: str) -> dict:
    return next(d for d in _districts() if d["number"] == number)


# ---------------------------------------------------------------- derived files: (filename, header, rows)

def _detectors() -> list[dict]:
    return _dicts("hk/hk_td_traffic_detector_locations.csv")


def _detector_coverage():
    rows, groups = _detectors(), defaultdict(list)
    for r in rows:
        groups[(_by_name(r["District"])["en"], r["Direction"])].append(r)
    return "hk_detector_coverage_by_district.csv", [
        "district_en", "direction", "detector_count", "share_pct", "centroid_lat", "centroid_lon"], [
        [dist, direction, len(g), round(100 * len(g) / len(rows), 2), round(fmean(float(r["Latitude"]) for r in g), 5),
         round(fmean(float(r["Longitude"]) for r in g), 5)] for (dist, direction), g in sorted(groups.items())]


def _detector_dc_join():
    out = []
    for r in _detectors():
        lat, lon = float(r["Latitude"]), float(r["Longitude"])
        d, how = _locate(lon, lat)
        out.append([r["AID_ID_Number"], r["District"], d["code"], d["en"], d["zh"], how,
                    _norm(r["District"]) == _norm(d["en"]), lat, lon])
    return "hk_detectors_by_district_polygon.csv", [
        "aid_id", "td_district", "district_code", "district_en", "district_zh", "match_method", "td_district_agrees",
        "latitude", "longitude"], out


_FILL_GUSTS = {9.0, 10.0, 20.0, 30.0, 40.0, 50.0}


@cache
def _wind() -> list[dict]:
    """The student-collected 10-minute wind log, QA'd: at most stations the collector wrote a constant 9.0 km/h
    mean and a 10-50 km/h gust fill cycle (Wetland Park and the live API calls vary), so those values become None."""
    rows, means = _dicts("hk/hko_10min_wind_combined_20250908.csv"), defaultdict(Counter)
    for r in rows:
        if r["data_source"] == "collector_today":
            means[r["station_name"]][r["wind_speed_kmh"]] += 1
    for r in rows:
        counts = means[r["station_name"]]
        fill = counts["9.0"] >= 0.8 * sum(counts.values()) and r["data_source"] == "collector_today"
        mean, gust = float(r["wind_speed_kmh"]), float(r["wind_gust_kmh"])
        r |= {"hkt": r["timestamp_hkt"][:19].replace(" ", "T") + "+08:00", "mean": None if fill and mean == 9 else mean,
              "gust": None if fill and gust in _FILL_GUSTS else gust}
    return rows


def _beaufort(kmh: float | None) -> int | None:
    return None if kmh is None else sum(kmh >= t for t in (1, 6, 12, 20, 29, 39, 50, 62, 75, 89, 103, 118))


@cache
def _station_peaks() -> dict[str, dict]:
    stations = defaultdict(list)
    for r in _wind():
        stations[r["station_name"]].append(r)
    out = {}
    for name, rows in stations.items():
        mean = max((r for r in rows if r["mean"] is not None), key=lambda r: r["mean"], default={})
        gust = max((r for r in rows if r["gust"] is not None), key=lambda r: r["gust"])
        out[name] = {"lat": float(rows[0]["latitude"]), "lon": float(rows[0]["longitude"]),
                     "n": sum(r["gust"] is not None for r in rows), "mean": mean.get("mean"),
                     "mean_at": mean.get("hkt"), "gust": gust["gust"], "gust_at": gust["hkt"]}
    return out


def _wind_station_peaks():
    return "hko_station_peaks_signal8_20250908.csv", [
        "station_name", "latitude", "longitude", "observations", "peak_mean_wind_kmh", "peak_mean_at_hkt",
        "peak_gust_kmh", "peak_gust_at_hkt", "beaufort_force", "gust_factor"], [
        [name, s["lat"], s["lon"], s["n"], s["mean"], s["mean_at"], s["gust"], s["gust_at"], _beaufort(s["mean"]),
         round(s["gust"] / s["mean"], 2) if s["mean"] else None]
        for name, s in sorted(_station_peaks().items(), key=lambda kv: -kv[1]["gust"])]


def _detector_wind():
    peaks, out = _station_peaks(), []
    for r in _detectors():
        lat, lon = float(r["Latitude"]), float(r["Longitude"])
        name, s = min(peaks.items(), key=lambda kv: _km(lat, lon, kv[1]["lat"], kv[1]["lon"]))
        gust = s["gust"]
        out.append([r["AID_ID_Number"], r["District"], r["Road_EN"], lat, lon, name,
                    round(_km(lat, lon, s["lat"], s["lon"]), 2), gust,
                    "severe" if gust >= 110 else "high" if gust >= 90 else "elevated" if gust >= 70 else "moderate"])
    return "hk_detector_wind_exposure_signal8_20250908.csv", [
        "aid_id", "td_district", "Road_EN", "latitude", "longitude", "nearest_station", "station_distance_km",
        "peak_gust_kmh", "exposure_class"], out


def _wind_district_hourly():
    where = {n: _locate(s["lon"], s["lat"])[0]["number"] for n, s in _station_peaks().items()}
    groups = defaultdict(list)
    for r in (r for r in _wind() if r["gust"] is not None):  # readings that passed QA
        groups[(r["hkt"][:13] + ":00:00+08:00", where[r["station_name"]])].append(r)
    return "hk_district_hourly_wind_signal8_20250908.csv", [
        "hour_start_hkt", "district_code", "district_en", "district_zh", "stations", "mean_wind_kmh",
        "peak_mean_wind_kmh", "max_gust_kmh", "official_signal_hko"], [
        [hour, (d := _by_number(number))["code"], d["en"], d["zh"], len({r["station_name"] for r in rows}),
         _mean(r["mean"] for r in rows), _max(r["mean"] for r in rows), _max(r["gust"] for r in rows),
         rows[0]["official_signal_hko"]] for (hour, number), rows in sorted(groups.items())]


def _rainfall_district():
    w = _json("hk/hko_current_weather_report_rhrread_20240914.json")
    lit = {i["place"] for i in w["lightning"]["data"] if i["occur"] == "true"}
    out = []
    for item in w["rainfall"]["data"]:
        d = _by_name(item["place"])
        n = int(d["number"])
        region = ("Hong Kong Island" if n < 20 else "Kowloon" if n < 30 else "New Territories West" if n < 35
                  else "Islands" if n == 39 else "New Territories East")
        out.append([w["rainfall"]["endTime"], d["code"], d["en"], d["zh"], item["place"], item.get("min"),
                    item["max"], region, region in lit])
    return "hk_district_rainfall_lightning_20240914.csv", [
        "observed_at", "district_code", "district_en", "district_zh", "hko_rainfall_place", "rainfall_min_mm",
        "rainfall_max_mm", "lightning_region", "lightning_reported"], sorted(out, key=lambda r: r[1])


def _lampposts() -> tuple[str, list[dict]]:
    data = _json("hk/hk_smart_lampposts_air_quality_realtime.json")
    return data["ts"].replace(".000Z", "+00:00"), data["data"]


def _lamppost_district():
    ts, items = _lampposts()
    groups = defaultdict(list)
    for i in items:
        groups[_locate(i["lamppost"]["lng"], i["lamppost"]["lat"])[0]["number"]].append(i)
    return "hk_roadside_exposure_by_district.csv", [
        "observed_at", "district_code", "district_en", "district_zh", "lampposts", "no2_mean_ugm3", "no2_max_ugm3",
        "pm25_mean_ugm3", "pm25_max_ugm3"], [
        [ts, (d := _by_number(number))["code"], d["en"], d["zh"], len(g), _mean(i["no2"] for i in g),
         _r(_max(i["no2"] for i in g)), _mean(i["pm25"] for i in g), _r(_max(i["pm25"] for i in g))]
        for number, g in sorted(groups.items())]


def _dc_centroids():
    return "hk_district_centroids.csv", [
        "district_code", "dc_number", "district_en", "district_zh", "centroid_lat", "centroid_lon", "bbox_west",
        "bbox_south", "bbox_east", "bbox_north", "approx_area_km2", "parts"], [
        [d["code"], d["number"], d["en"], d["zh"], round(d["clat"], 5), round(d["clon"], 5),
         *(round(v, 5) for v in d["bbox"]), round(d["area"], 1), d["parts"]] for d in _districts()]


def _links_geojson():
    features = [{"type": "Feature", "properties": {
        **{k: link[k] for k in ("link_id", "link_name_en", "link_name_tc", "region", "road_type")},
        "length_m": round(1000 * _km(link["start_node_latitude"], link["start_node_longitude"],
                                     link["end_node_latitude"], link["end_node_longitude"]))},
        "geometry": {"type": "LineString", "coordinates": [[link[f"{end}_node_longitude"], link[f"{end}_node_latitude"]]
                                                           for end in ("start", "end")]},
    } for link in _json("hk/hk_traffic_speed_map_link_info.json")]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
    return "hk_speed_map_links.geojson", body.encode(), None


@cache
def _journeys() -> list[list]:
    """TD Table 2B (a report laid out in a CSV) as one row per route and direction, "Vice Versa" spelled out."""
    _, rows = _raw_csv("hk/hk_td_am_peak_car_journey_time_cross_district_2023.csv")
    head = next(r for r in rows if any(c.startswith("Origin - Destination") for c in r))
    cols = [j for j, c in enumerate(head) if c.strip()]
    out, outbound = [], ""
    for r in rows[rows.index(head) + 1:]:
        od, start, via, end, dist, mins = (" ".join(r[j].split()) if j < len(r) else "" for j in cols)
        if not od:
            continue
        m = re.match(r"(.*?)\s+-\s+(.*?)\s*(?:\((via[^)]*)\))?$", od)
        if via.strip("- ").lower() == "vice versa":
            via = " - ".join(reversed(re.split(r"\s*-\s*", outbound)))
        outbound = via
        out.append([f"KLN-{len(out) + 1:02d}", m.group(1), m.group(2), m.group(3) or "", start, via, end,
                    float(dist), float(mins), round(float(dist) / float(mins) * 60, 1)])
    return out


def _journeys_tidy():
    return "td_am_peak_journey_time_kowloon_2023_tidy.csv", [
        "route_id", "origin", "destination", "via_note", "start_point", "route", "end_point", "distance_km",
        "journey_time_min", "avg_speed_kmh"], _journeys()


def _journey_ranking():
    rows, out = _journeys(), []
    for i, r in enumerate(rows):
        back = rows[i ^ 1]  # the table lists each route's outbound and return direction as a pair
        same = abs(back[7] - r[7]) <= 0.1 * r[7]
        out.append([r[0], r[1], r[2], r[7], r[8], r[9], back[8], round(100 * (r[8] - back[8]) / back[8], 1) if same
                    else None])
    out.sort(key=lambda row: row[5])  # slowest average speed first
    return "kowloon_route_speed_ranking_2023.csv", [
        "rank_slowest", "route_id", "origin", "destination", "distance_km", "journey_time_min", "avg_speed_kmh",
        "return_journey_time_min", "asymmetry_pct"], [[i + 1, *r] for i, r in enumerate(out)]


@cache
def _shanghai() -> list[dict]:
    def num(v: str) -> float | None:
        return None if v in ("", "NA") else float(v)
    return [{"at": datetime(int(r["year"]), int(r["month"]), int(r["day"]), int(r["hour"])), "pm": num(r["PM_US Post"]),
             "temp": num(r["TEMP"]), "humi": num(r["HUMI"]), "dewp": num(r["DEWP"]), "pres": num(r["PRES"]),
             "wind": r["cbwd"], "season": int(r["season"]), "rain": num(r["precipitation"]) or 0.0}
            for r in _dicts("shanghai/shanghai_pm25_us_post_2015.csv")]


def _iso(at: datetime) -> str:
    return at.isoformat() + "+08:00"


def _iaqi(c: float | None) -> tuple[int | None, str]:
    """China individual AQI of a 24-h PM2.5 mean (HJ 633-2012) and its category."""
    if c is None:
        return None, ""
    cs, iv = (0, 35, 75, 115, 150, 250, 350, 500), (0, 50, 100, 150, 200, 300, 400, 500)
    k = next((k for k in range(1, 8) if c <= cs[k]), 7)
    names = ("优", "良", "轻度污染", "中度污染", "重度污染", "重度污染", "严重污染")
    return min(500, round(iv[k - 1] + (iv[k] - iv[k - 1]) * (c - cs[k - 1]) / (cs[k] - cs[k - 1]))), names[k - 1]


@cache
def _days() -> list[dict]:
    groups = defaultdict(list)
    for h in _shanghai():
        groups[h["at"].date()].append(h)
    return [{"date": day, "hours": hours, "n": sum(h["pm"] is not None for h in hours),
             "mean": _mean(h["pm"] for h in hours), "max": _max(h["pm"] for h in hours)}
            for day, hours in sorted(groups.items())]


def _dominant(hours) -> str:
    return Counter(h["wind"] for h in hours).most_common(1)[0][0]


def _pm_daily():
    return "shanghai_daily_pm25_aqi_2015.csv", [
        "date", "hours_observed", "pm25_mean_ugm3", "pm25_max_ugm3", "iaqi_pm25", "aqi_category", "exceeds_grade_ii",
        "temp_mean_c", "humidity_mean_pct", "precipitation_mm"], [
        [d["date"].isoformat(), d["n"], d["mean"], d["max"], *_iaqi(d["mean"]), (d["mean"] or 0) > 75,
         _mean(h["temp"] for h in d["hours"]), _mean(h["humi"] for h in d["hours"]),
         _r(sum(h["rain"] for h in d["hours"]))] for d in _days()]


def _pm_monthly():
    months = defaultdict(list)
    for d in _days():
        months[d["date"].strftime("%Y-%m")].append(d)
    return "shanghai_monthly_air_quality_2015.csv", [
        "month", "days", "pm25_mean_ugm3", "pm25_p90_ugm3", "exceedance_days", "temp_mean_c", "humidity_mean_pct",
        "precipitation_mm", "dominant_wind"], [
        [month, len(days), _mean(h["pm"] for h in hours), _p90(h["pm"] for h in hours),
         sum((d["mean"] or 0) > 75 for d in days), _mean(h["temp"] for h in hours), _mean(h["humi"] for h in hours),
         _r(sum(h["rain"] for h in hours)), _dominant(hours)]
        for month, days in sorted(months.items()) for hours in [[h for d in days for h in d["hours"]]]]


def _pm_episodes():
    runs: list[list[dict]] = []
    for d in _days():
        if (d["mean"] or 0) <= 75:
            continue
        if runs and d["date"] - runs[-1][-1]["date"] == timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    return "shanghai_pm25_episodes_2015.csv", [
        "episode_id", "start_date", "end_date", "days", "peak_daily_pm25_ugm3", "pm25_mean_ugm3", "dominant_wind"], [
        [i + 1, run[0]["date"].isoformat(), run[-1]["date"].isoformat(), len(run), max(d["mean"] for d in run),
         _mean(d["mean"] for d in run), _dominant([h for d in run for h in d["hours"]])] for i, run in enumerate(runs)]


def _pm_wind():
    names, groups = {1: "spring", 2: "summer", 3: "autumn", 4: "winter"}, defaultdict(list)
    for h in _shanghai():
        groups[(h["season"], h["wind"])].append(h)
    totals = Counter(h["season"] for h in _shanghai())
    return "shanghai_pm25_by_season_and_wind.csv", [
        "season_name", "wind_sector", "hours", "share_of_season_pct", "pm25_mean_ugm3", "pm25_p90_ugm3"], [
        [names[s], w, len(g), round(100 * len(g) / totals[s], 1), _mean(h["pm"] for h in g), _p90(h["pm"] for h in g)]
        for (s, w), g in sorted(groups.items())]


def _pm_rain():
    hours, groups = _shanghai(), defaultdict(list)
    for h, later in zip(hours, hours[3:]):
        cls = "dry" if h["rain"] == 0 else "light" if h["rain"] < 2.5 else "moderate" if h["rain"] < 8 else "heavy"
        groups[cls].append((h["pm"], later["pm"] - h["pm"] if None not in (h["pm"], later["pm"]) else None))
    return "shanghai_rain_washout_2015.csv", ["rain_class", "hours", "pm25_mean_ugm3", "pm25_change_next_3h_ugm3"], [
        [cls, len(g), _mean(p for p, _ in g), _mean(c for _, c in g)]
        for cls in ("dry", "light", "moderate", "heavy") if (g := groups.get(cls))]


def _heat_index(t: float | None, rh: float | None) -> float | None:
    """NOAA heat index (Rothfusz regression) in °C; the air temperature below 27 °C or 40 % humidity."""
    if t is None or rh is None or t < 27 or rh < 40:
        return t
    f = t * 9 / 5 + 32
    hi = (-42.379 + 2.04901523 * f + 10.14333127 * rh - 0.22475541 * f * rh - 0.00683783 * f * f
          - 0.05481717 * rh * rh + 0.00122874 * f * f * rh + 0.00085282 * f * rh * rh - 0.00000199 * f * f * rh * rh)
    return round((hi - 32) * 5 / 9, 1)


def _pm_heat():
    return "shanghai_hourly_heat_humidity_2015.csv", [
        "observed_at", "temp_c", "humidity_pct", "dew_point_c", "pressure_hpa", "heat_index_c",
        "cooling_degree_hours_26c", "heating_degree_hours_18c"], [
        [_iso(h["at"]), h["temp"], h["humi"], h["dewp"], h["pres"], _heat_index(h["temp"], h["humi"]),
         *((max(0.0, h["temp"] - 26), max(0.0, 18 - h["temp"])) if h["temp"] is not None else (None, None))]
        for h in _shanghai()]


_SH_POST = ("US-Post", "US Consulate General Shanghai (PM_US Post)", "UCI PM2.5 Data of Five Chinese Cities")


def _twin_air():
    ts, items = _lampposts()
    out = [["hong_kong", i["lamppost"]["PI"], i["lamppost"]["location_en"], ts, pollutant, _r(i[pollutant], 2),
            "µg/m³", "EPD Smart Lampposts Air Quality Data"] for i in items for pollutant in ("no", "no2", "pm25")]
    out += [["shanghai", *_SH_POST[:2], _iso(h["at"]), "pm25", h["pm"], "µg/m³", _SH_POST[2]]
            for h in _shanghai() if h["at"].date() == date(2015, 9, 13) and h["pm"] is not None]
    return "hk_shanghai_air_quality_long.csv", [
        "city", "station_id", "station", "observed_at", "pollutant", "value", "unit", "source_dataset"], out


def _twin_benchmark():
    def row(city, period, source, values):
        values = [v for v in values if v is not None]
        share = [_r(100 * sum(v > limit for v in values) / len(values)) for limit in (15, 75)]
        return [city, period, source, len(values), _mean(values), _r(max(values)), *share]
    ts, items = _lampposts()
    out = [row("hong_kong", f"snapshot {ts}", "EPD smart lampposts (instantaneous)", [i["pm25"] for i in items]),
           row("shanghai", "2015 (daily means)", _SH_POST[2], [d["mean"] for d in _days()])]
    out += [row("shanghai", f"2015 {name} (daily means)", _SH_POST[2],
                [d["mean"] for d in _days() if d["hours"][0]["season"] == s])
            for s, name in ((1, "spring"), (2, "summer"), (3, "autumn"), (4, "winter"))]
    return "hk_shanghai_pm25_benchmark.csv", [
        "city", "period", "source_dataset", "observations", "pm25_mean_ugm3", "pm25_max_ugm3", "share_above_who_pct",
        "share_above_grade_ii_pct"], out


DERIVED = {
    "detector_coverage": _detector_coverage, "detector_dc_join": _detector_dc_join, "detector_wind": _detector_wind,
    "wind_station_peaks": _wind_station_peaks, "wind_district_hourly": _wind_district_hourly,
    "rainfall_district": _rainfall_district, "lamppost_district": _lamppost_district, "dc_centroids": _dc_centroids,
    "links_geojson": _links_geojson, "journeys_tidy": _journeys_tidy, "journey_ranking": _journey_ranking,
    "pm_daily": _pm_daily, "pm_monthly": _pm_monthly, "pm_episodes": _pm_episodes, "pm_wind": _pm_wind,
    "pm_rain": _pm_rain, "pm_heat": _pm_heat, "twin_air": _twin_air, "twin_benchmark": _twin_benchmark,
}


def _csv_bytes(header: list, rows: list) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().encode("utf-8")


@cache
def derived_file(spec: str) -> tuple[str, bytes]:
    """The file a catalog spec ``@name``, ``@name:N`` or ``@head:path:N`` (first N rows) stands for."""
    name, _, arg = spec.lstrip("@").partition(":")
    if name == "head":
        rel, _, n = arg.rpartition(":")
        header, rows = _raw_csv(rel)
        return f"{Path(rel).stem}_sample.csv", _csv_bytes(header, rows[:int(n)])
    filename, header, rows = DERIVED[name]()
    if isinstance(header, bytes):
        return filename, header
    if arg:
        filename, rows = filename.replace(".csv", "_sample.csv"), rows[:int(arg)]
    return filename, _csv_bytes(header, rows)
