"""Reading a rendered page in tests: the language it declares and the text of its main content."""
from __future__ import annotations

import html
import re


def lang_of(response) -> str:
    """The page's ``<html lang>``."""
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def main(response) -> str:
    """The text inside the page's ``<main>``, entities decoded."""
    page = response.get_data(as_text=True)
    return html.unescape(page.split("<main>", 1)[1].split("</main>", 1)[0])
