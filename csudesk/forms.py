"""The base form and helpers shared by the forms of every blueprint.

Forms read `request.form` only (SECURITY.md 17): a file part sent for a text field
(`curl -F email=@f.txt`) is simply absent, a JSON or other body is no form data at all, so no
validator ever sees a file object and nothing calls `get_json()` on a body that is not JSON.
"""

from collections.abc import Iterable

import wtforms
from flask import abort, current_app, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import SelectChoice
from wtforms.fields.choices import Choice
from wtforms.widgets import Select

from csudesk.exceptions import ServiceError

FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def posted_form():
    """The request's form fields: `request.form` for a form body, else an empty form."""
    if request.mimetype in FORM_MIMETYPES:
        return request.form
    return ImmutableMultiDict()


class Form(FlaskForm):
    """Every csudesk form: WTForms' own messages in French (config WTF_I18N_ENABLED = False)."""

    class Meta:
        locales = ("fr",)

        def wrap_formdata(self, form, formdata):
            if formdata is _Auto:
                if request.method in BODY_METHODS:
                    return posted_form()
                return None
            return formdata


def refuse_unreadable_body():
    """Before anything reads the body (CSRF, rate-limit keys, views): a French 413 or 400.

    A body over MAX_CONTENT_LENGTH is refused outright; a body that is not a form (JSON, text,
    XML...) is refused on every route, since no route of csudesk takes anything but forms. An
    empty body without a content type is an empty form (a bare button).
    """
    if request.method not in BODY_METHODS:
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        abort(413)
    has_body = bool(length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if has_body and request.mimetype not in FORM_MIMETYPES:
        abort(400)


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def populate_errors(form, error: ServiceError, field: str | None = None) -> None:
    """Put a service's refusal on the form: on its field, else on `field`, else form-wide."""
    name = error.field or field
    target = getattr(form, name, None) if name else None
    if target is not None:
        target.errors.append(str(error))
    else:
        form.form_errors.append(str(error))


# The HTML of the selects rendered lately, by everything it depends on (RememberedSelect).
_SELECTS: dict[tuple, Markup] = {}
SELECTS_KEPT = 1024


def _typed(value) -> tuple:
    """A value with its type: 1 and True, or a str and its Markup, render differently."""
    return type(value), value


class RememberedSelect(Select):
    """WTForms' select, its HTML remembered: the desk renders the same category and channel
    lists on every voter file, and building them option by option was a tenth of the page.

    The key holds everything the HTML is made of: the widget and field types, name, id, each
    option as WTForms yields it (value, label, selected, each with its type), the attributes
    and the required and disabled flags. A select with groups or with options of their own
    attributes, or an attribute value that cannot be a key, is rendered as WTForms does.
    """

    def __call__(self, field, **kwargs):
        options = list(field.iter_choices())
        if field.has_groups() or any(
            not isinstance(option, Choice) or option.render_kw for option in options
        ):
            return super().__call__(field, **kwargs)
        key = (
            type(self),
            self.multiple,
            type(field),
            field.name,
            field.id,
            tuple((*_typed(o.value), *_typed(o.label), bool(o.selected)) for o in options),
            tuple((name, *_typed(value)) for name, value in sorted(kwargs.items())),
            bool(getattr(field.flags, "required", False)),
            bool(getattr(field.flags, "disabled", False)),
        )
        try:
            html = _SELECTS.get(key)
        except TypeError:  # an attribute value that cannot be hashed
            return super().__call__(field, **kwargs)
        if html is None:
            html = super().__call__(field, **kwargs)
            if len(_SELECTS) >= SELECTS_KEPT:
                _SELECTS.clear()
            _SELECTS[key] = html
        return html


class SelectField(wtforms.SelectField):
    """A select whose HTML is remembered (RememberedSelect)."""

    widget = RememberedSelect()
