"""The remembered select (csudesk/forms.py) renders what WTForms renders, for what it is given."""

import pytest
import wtforms
from markupsafe import Markup

from csudesk import forms
from csudesk.forms import Form, SelectField, choices

OPTIONS = choices([("a", "Apple"), ("b", "Banana <b>"), ("c", "Cherry")])


class Remembered(Form):
    class Meta:
        csrf = False

    fruit = SelectField("Fruit", choices=OPTIONS)


class Plain(Form):
    class Meta:
        csrf = False

    fruit = wtforms.SelectField("Fruit", choices=OPTIONS)


@pytest.fixture(autouse=True)
def _forgotten():
    forms._SELECTS.clear()
    yield
    forms._SELECTS.clear()


@pytest.mark.parametrize("data", ["a", "b", None])
def test_it_renders_what_wtforms_renders(app, data):
    with app.test_request_context():
        remembered, plain = Remembered(fruit=data).fruit, Plain(fruit=data).fruit
        for _ in range(2):  # rendered, then remembered
            assert remembered(class_="fr-select") == plain(class_="fr-select")
    assert "Banana &lt;b&gt;" in plain(class_="fr-select")


def test_another_value_or_attribute_is_another_rendering(app):
    with app.test_request_context():
        first = Remembered(fruit="a").fruit(class_="fr-select")
        second = Remembered(fruit="c").fruit(class_="fr-select")
        described = Remembered(fruit="a").fruit(class_="fr-select", **{"aria-invalid": "true"})
    assert 'selected value="a"' in first and 'selected value="c"' in second
    assert 'aria-invalid="true"' in described and "aria-invalid" not in first
    assert len(forms._SELECTS) == 3


def test_options_of_their_own_are_rendered_every_time(app):
    with app.test_request_context():
        form = Remembered(fruit="a")
        form.fruit.choices = [wtforms.SelectChoice("a", "Apple", render_kw={"lang": "en"})]
        html = form.fruit()
    assert isinstance(html, Markup) and 'lang="en"' in html
    assert forms._SELECTS == {}


def test_it_keeps_a_bounded_number(app, monkeypatch):
    monkeypatch.setattr(forms, "SELECTS_KEPT", 2)
    with app.test_request_context():
        for value in "abc":
            Remembered(fruit=value).fruit()
    assert len(forms._SELECTS) == 1  # cleared when full, then the last one kept


def test_a_select_with_groups_or_other_options_is_never_taken_for_a_plain_one(app):
    grouped = choices([("a", "Apple")]) + [wtforms.SelectChoice("b", "Banana", optgroup="G")]
    with app.test_request_context():
        alone = Remembered(fruit="a")
        alone.fruit.choices = choices([("a", "Apple")])
        alone.fruit()  # Apple alone, remembered
        form, plain = Remembered(fruit="a"), Plain(fruit="a")
        form.fruit.choices = plain.fruit.choices = grouped
        assert form.fruit() == plain.fruit() and "<optgroup" in form.fruit()


def test_what_renders_differently_is_remembered_apart(app):
    with app.test_request_context():
        one = Remembered(fruit="a")
        one.fruit.choices = choices([("a", "<b>A</b>")])
        marked = Remembered(fruit="a")
        marked.fruit.choices = choices([("a", Markup("<b>A</b>"))])
        flagged = Remembered(fruit="a").fruit(data_x=True)
        numbered = Remembered(fruit="a").fruit(data_x=1)
        assert "&lt;b&gt;A&lt;/b&gt;" in one.fruit() and "<b>A</b>" in marked.fruit()
    assert 'data-x="1"' in numbered and 'data-x="1"' not in flagged
