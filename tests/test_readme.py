"""The README's tables match the project: each page of app.py once, each module of vae/ named."""
import re

from tests.conftest import ROOT


def test_the_page_table_lists_every_page_once():
    """"Train live" was listed twice."""
    titles = re.findall(r'st\.Page\("pages/\w+\.py", title="([^"]+)"', (ROOT / "app.py").read_text())
    rows = re.findall(r"^\| ([^|]+?) \|", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(titles) == 8
    for title in titles:
        assert rows.count(title) == 1, (title, rows.count(title))


def test_the_module_table_names_every_module_of_the_library():
    """catalog, live, numpy_decoder, decomposition, distributed and cli were missing."""
    listed = set(re.findall(r"^\| `(\w+)/?` \|", (ROOT / "README.md").read_text(), flags=re.M))
    modules = {p.stem for p in (ROOT / "vae").glob("*.py") if not p.stem.startswith("__")}
    packages = {p.parent.name for p in (ROOT / "vae").glob("*/__init__.py")}
    assert modules | packages <= listed, sorted((modules | packages) - listed)
