"""How app.py names its pages."""
import ast
from pathlib import Path

from tests.support import ROOT


def test_every_pages_link_is_its_files_name():
    """What makes a deep link work on a fresh server (tests/browser/test_browser.py) for every page: Streamlit's legacy mode looks the link
    up among pages/*.py by file name, before app.py's st.navigation has run once."""
    tree = ast.parse((ROOT / "app.py").read_text())
    pages = [{k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("url_path", "default")}
             | {"file": ast.literal_eval(call.args[0])}
             for call in ast.walk(tree) if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "Page"
             and isinstance(call.args[0], ast.Constant)]  # a file's page (an alias, /learn, opens another page)
    assert len(pages) >= 10
    for page in pages:
        if not page.get("default"):
            assert Path(page["file"]).stem == page["url_path"], page
