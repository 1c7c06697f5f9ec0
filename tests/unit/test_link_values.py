"""ui/links' pure parts: a value written as its widget reads it, every spelling of a float choice read as one, a lesson
step's address, a page's title from a step's link."""
from types import SimpleNamespace

from ui import links


def test_a_value_is_written_as_its_widget_reads_it_and_any_spelling_of_a_float_choice_is_read_as_one():
    """σ_dec 1.0 was written `1` (format .6g), which the slider, whose options read 1.0, refused."""
    assert links.text("train_sigma", 1.0) == "1.0" and links.text("train_lr", 1e-4) == "0.0001"
    assert links.text("train_beta", 0.1 * 3) == str(0.1 * 3)  # every digit: read back, the same float
    assert links.text("explore_projection", "tsne") == "t-SNE" and links.text("explore_pad_x", 2) == "z3"
    for spelling in ("1", "1.0", "1.00", "1e0", "01"):
        assert links.canonical("train_sigma", spelling) == "1.0", spelling
    assert links.canonical("train_sigma", "abc") == "abc" and links.canonical("train_sigma", "nan") == "nan"
    assert links.canonical("train_hidden", "256") == "256" and links.canonical("train_seed", "7") == "7"
    assert links.agrees("1", "1.0") and not links.agrees("0.3", "0.35") and links.agrees("PCA", "PCA")


def test_a_lesson_steps_address_and_its_pages_title():
    lesson = SimpleNamespace(code="K7Q2MX", steps=({"link": "/elbo?elbo_sigma=0.1"}, {"link": "/"}))
    assert links.step_url(lesson, 1) == "/elbo?elbo_sigma=0.1&lesson=K7Q2MX&lesson_step=1"
    assert links.step_url(lesson, 2) == "/?lesson=K7Q2MX&lesson_step=2"
    assert links.lesson_address("K7Q2MX") == "/lesson?lesson=K7Q2MX"
    links.TITLES.update({"": "The VAE, step by step", "elbo": "ELBO decomposition"})
    assert links.page_title("/elbo?elbo_sigma=0.1") == "ELBO decomposition"
    assert links.page_title("/?learn_step=5") == links.page_title("/learn") == "The VAE, step by step"
