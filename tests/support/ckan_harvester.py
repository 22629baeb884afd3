"""The gather stage of the CKAN harvester of ckanext-harvest, as it talks to a remote CKAN.

Follows ``CKANHarvester.gather_stage`` and ``CKANHarvester._search_for_datasets`` of ckanext-harvest
(``ckanext/harvest/harvesters/ckanharvester.py``, the 1.x line: requests-based, Action API version 3), line for
line where they speak to the remote CKAN: the ``fq_terms`` built from ``organizations_filter_include`` /
``organizations_filter_exclude`` and ``groups_filter_include`` / ``groups_filter_exclude``, the incremental
``metadata_modified:[<since>Z TO *]`` term with ``since`` one hour before the last error-free job's
``gather_started``, the fall-back to a full search when that search fails, paging with ``rows=100``, ``start`` and
``sort=id asc`` (stopping at the first empty page, refusing a page identical to the previous one), and the weeding
of ids already seen. What needs a CKAN instance of its own is left out: there is no harvest database, so the
last job's ``gather_started`` is the ``last_time`` parameter, and the harvest objects are returned as
``(guid, package dict)`` pairs instead of being saved.
"""
# ruff: noqa: UP031, UP032 (the string formatting is upstream's, kept as written)
from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

import requests


class SearchError(Exception):
    pass


class ContentFetchError(Exception):
    pass


class CKANHarvesterGather:
    action_api_version = 3
    rows = "100"  # upstream's page size

    def __init__(self, remote_ckan_base_url: str, config: dict | None = None) -> None:
        self.remote_ckan_base_url = remote_ckan_base_url.rstrip("/")
        self.config = config or {}
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only
        self.urls: list[str] = []  # every search URL asked, for the tests to read
        self.errors: list[str] = []  # upstream's _save_gather_error

    def _get_action_api_offset(self) -> str:
        return "/api/%d/action" % self.action_api_version

    def _get_search_api_offset(self) -> str:
        return "%s/package_search" % self._get_action_api_offset()

    def _get_content(self, url: str) -> str:
        headers = {}
        api_key = self.config.get("api_key")
        if api_key:
            headers["Authorization"] = api_key
        try:
            http_request = self.http.get(url, headers=headers, timeout=30)
        except requests.RequestException as e:
            raise ContentFetchError("Request error: %s" % e) from e
        return http_request.text  # upstream reads the body whatever the status

    def gather(self, last_time: datetime.datetime | None = None) -> list[tuple[str, dict]] | None:
        """The harvest objects a gather would create: (guid, package dict), or [] / None where upstream
        returns them (nothing changed / an error)."""
        get_all_packages = True
        fq_terms = []
        org_filter_include = self.config.get("organizations_filter_include", [])
        org_filter_exclude = self.config.get("organizations_filter_exclude", [])
        if org_filter_include:
            fq_terms.append(" OR ".join("organization:%s" % org_name for org_name in org_filter_include))
        elif org_filter_exclude:
            fq_terms.extend("-organization:%s" % org_name for org_name in org_filter_exclude)

        groups_filter_include = self.config.get("groups_filter_include", [])
        groups_filter_exclude = self.config.get("groups_filter_exclude", [])
        if groups_filter_include:
            fq_terms.append(" OR ".join("groups:%s" % group_name for group_name in groups_filter_include))
        elif groups_filter_exclude:
            fq_terms.extend("-groups:%s" % group_name for group_name in groups_filter_exclude)

        pkg_dicts: list[dict] = []
        if last_time is not None and not self.config.get("force_all", False):
            get_all_packages = False
            # Upstream: gather_started is naive UTC; going back an hour, just in case.
            get_changes_since = (last_time - datetime.timedelta(hours=1)).isoformat()
            fq_since_last_time = "metadata_modified:[{since}Z TO *]".format(since=get_changes_since)
            try:
                pkg_dicts = self._search_for_datasets(self.remote_ckan_base_url, fq_terms + [fq_since_last_time])
            except SearchError:
                get_all_packages = True
            if not get_all_packages and not pkg_dicts:
                return []

        if get_all_packages:
            try:
                pkg_dicts = self._search_for_datasets(self.remote_ckan_base_url, fq_terms)
            except SearchError as e:
                self.errors.append("Unable to search remote CKAN for datasets:%s url:%s terms:%s"
                                   % (e, self.remote_ckan_base_url, fq_terms))
                return None
        if not pkg_dicts:
            self.errors.append("No datasets found at CKAN: %s" % self.remote_ckan_base_url)
            return []

        package_ids = set()
        objects = []
        for pkg_dict in pkg_dicts:
            if pkg_dict["id"] in package_ids:
                continue  # "Discarding duplicate dataset"
            package_ids.add(pkg_dict["id"])
            objects.append((pkg_dict["id"], json.loads(json.dumps(pkg_dict))))
        return objects

    def _search_for_datasets(self, remote_ckan_base_url: str, fq_terms: list[str] | None = None) -> list[dict]:
        base_search_url = remote_ckan_base_url + self._get_search_api_offset()
        params = {"rows": self.rows, "start": "0"}
        params["sort"] = "id asc"
        if fq_terms:
            params["fq"] = " ".join(fq_terms)

        pkg_dicts: list[dict] = []
        pkg_ids: set[str] = set()
        previous_content = None
        while True:
            url = base_search_url + "?" + urlencode(params)
            self.urls.append(url)
            try:
                content = self._get_content(url)
            except ContentFetchError as e:
                raise SearchError("Error sending request to search remote CKAN instance %s using URL %r. Error: %s"
                                  % (remote_ckan_base_url, url, e)) from e
            if previous_content and content == previous_content:
                raise SearchError("The paging doesn't seem to work. URL: %s" % url)
            try:
                response_dict = json.loads(content)
            except ValueError:
                raise SearchError("Response from remote CKAN was not JSON: %r" % content) from None
            try:
                pkg_dicts_page = response_dict.get("result", {}).get("results", [])
            except ValueError:
                raise SearchError("Response JSON did not contain result/results: %r" % response_dict) from None

            ids_in_page = set(p["id"] for p in pkg_dicts_page)
            duplicate_ids = ids_in_page & pkg_ids
            if duplicate_ids:
                pkg_dicts_page = [p for p in pkg_dicts_page if p["id"] not in duplicate_ids]
            pkg_ids |= ids_in_page

            pkg_dicts.extend(pkg_dicts_page)
            if len(pkg_dicts_page) == 0:
                break
            params["start"] = str(int(params["start"]) + int(params["rows"]))
        return pkg_dicts
