"""The README's tables match the project: each page of app.py once, each module of vae/ named."""
import re

from tests.support import ROOT


def test_the_page_table_lists_every_page_once():
    """"Train live" was listed twice."""
    titles = re.findall(r'st\.Page\("pages/\w+\.py", title="([^"]+)"', (ROOT / "app.py").read_text())
    rows = re.findall(r"^\| ([^|]+?) \|", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(titles) == (ROOT / "app.py").read_text().count('st.Page("pages/') >= 11
    for title in titles:
        assert rows.count(title) == 1, (title, rows.count(title))


def test_the_module_table_names_every_module_of_the_library():
    """catalog, live, numpy_decoder, decomposition, distributed and cli were missing."""
    listed = set(re.findall(r"^\| `(\w+)/?` \|", (ROOT / "README.md").read_text(), flags=re.M))
    modules = {p.stem for p in (ROOT / "vae").glob("*.py") if not p.stem.startswith("__")}
    packages = {p.parent.name for p in (ROOT / "vae").glob("*/__init__.py")}
    assert modules | packages <= listed, sorted((modules | packages) - listed)


def test_the_checkpoint_table_quotes_each_shipped_models_stored_figures():
    """Each row's ELBO, IWAE log p(x) and bits/dim against the checkpoint's own metrics (the 8-bit standard)."""
    from vae import catalog
    from vae.units import bits_per_dim

    rows = re.findall(r"^\| ([\w.-]+)(?: \(default\))? \| \d+ \| [^|]+ \| ([−\d.]+) \| ([−\d.]+)[^|]* \| ([\d.]+) \((8-bit|binary)\) \|$",
                      (ROOT / "README.md").read_text(), flags=re.M)
    shipped = {i.name: i for i in catalog.list_checkpoints(ROOT / "checkpoints")}
    assert sorted(name for name, *_ in rows) == sorted(shipped)
    number = lambda text: float(text.replace("−", "-"))  # noqa: E731
    for name, elbo, log_px, bits, kind in rows:
        info = shipped[name]
        test = info.metrics["test"]
        key, value = bits_per_dim(test["log_px_iwae"], info.config)
        assert test[key] == value and key == {"8-bit": "bits_per_dim_8bit", "binary": "bits_per_dim_binary"}[kind]
        assert "bits_per_dim" not in test  # the old key: −log p(x)/(D ln 2) of a density, −0.086 for the default
        assert number(elbo) == round(test["elbo"], 1)
        assert abs(number(log_px) - test["log_px_iwae"]) < 0.051
        assert number(bits) == round(value, 3)


def test_every_parameter_a_link_can_hold_is_listed_with_its_page():
    """Each widget bound to the URL (bind="query-params") is a parameter of ui/links.PARAMETERS, which the README's
    table lists page by page: a teacher finds the names without fiddling."""
    import ast

    from ui.links import PARAMETERS

    bound = set()
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(k.arg == "bind" for k in node.keywords):
                key = next((k.value for k in node.keywords if k.arg == "key"), None)
                if isinstance(key, ast.Constant):
                    bound.add(key.value)
                elif isinstance(key, ast.JoinedStr):  # latent_view's f"{key}_projection"
                    bound |= {f"{name}_projection" for name in ("explore", "interp", "generate", "sampling", "draw")}
    listed = {key for keys in PARAMETERS.values() for key in keys}
    assert bound - {"dataset", "model"} <= listed, sorted(bound - listed)
    readme = (ROOT / "README.md").read_text()
    for page, keys in PARAMETERS.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `/{'' if page == 'learn' else page}` |")), "")
        assert all(f"`{key}`" in row for key in keys), page


def test_every_test_file_the_documents_name_exists():
    """docs/math.md sent a reader to tests/test_units.py, which did not exist; the layers moved the rest."""
    named = {path for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "vae").rglob("*.py"),
                              *(ROOT / "ui").rglob("*.*")]
             for path in re.findall(r"\btests/[\w/]+\.py\b", doc.read_text(errors="ignore"))}
    assert named, "no test file named anywhere (the pattern is wrong)"
    assert not sorted(p for p in named if not (ROOT / p).is_file()), sorted(p for p in named if not (ROOT / p).is_file())
    layers = re.findall(r"^\| `tests/(\w+)/` \|", (ROOT / "README.md").read_text(), flags=re.M)
    assert layers == ["unit", "app", "browser"] and all((ROOT / "tests" / layer).is_dir() for layer in layers)
