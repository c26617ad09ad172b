"""What a rendered page offers a person — its links and its forms — so that a test follows the
page (the href it renders, the form it submits) instead of building the URL by hand. A test that
builds its own URL passes while the page links somewhere else."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class PageLink:
    href: str
    text: str


@dataclass
class PageForm:
    action: str
    method: str
    data: dict[str, list[str]] = field(default_factory=dict)
    # (name, value) of each submit button; a form may be sent by any of them
    buttons: list[tuple[str, str]] = field(default_factory=list)
    # choice fields: name -> every value offered
    options: dict[str, list[str]] = field(default_factory=dict)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[PageLink] = []
        self.forms: list[PageForm] = []
        self._link: PageLink | None = None
        self._form: PageForm | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: dict | None = None
        self._textarea: str | None = None
        self._textarea_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: (value or "") for name, value in attrs}
        if tag == "a" and "href" in attrs:
            self._link = PageLink(href=attrs["href"], text="")
            self.links.append(self._link)
        elif tag == "form":
            self._form = PageForm(action=attrs.get("action", ""), method=attrs.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            self._input(attrs)
        elif tag == "button" and attrs.get("name") and attrs.get("type", "submit") == "submit":
            self._form.buttons.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self._select, self._select_first, self._select_chosen = attrs["name"], None, False
            self._form.options.setdefault(attrs["name"], [])
        elif tag == "option" and self._select:
            self._option = {"value": attrs.get("value"), "text": "", "selected": "selected" in attrs}
        elif tag == "textarea" and attrs.get("name"):
            self._textarea, self._textarea_text = attrs["name"], []

    def _input(self, attrs):
        kind = attrs.get("type", "text").lower()
        name = attrs["name"]
        if kind in ("submit", "image"):
            self._form.buttons.append((name, attrs.get("value", "")))
        elif kind in ("checkbox", "radio"):
            self._form.options.setdefault(name, []).append(attrs.get("value", "on"))
            if "checked" in attrs:
                self._form.data.setdefault(name, []).append(attrs.get("value", "on"))
        elif kind != "file":
            self._form.data.setdefault(name, []).append(attrs.get("value", ""))

    def handle_data(self, data):
        if self._link is not None:
            self._link.text += data
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea_text.append(data)

    def handle_endtag(self, tag):
        if tag == "a":
            self._link = None
        elif tag == "form":
            self._form = None
        elif tag == "option" and self._option is not None:
            self._end_option()
        elif tag == "select" and self._select:
            if self._option is not None:
                self._end_option()
            if not self._select_chosen and self._select_first is not None:
                self._form.data.setdefault(self._select, []).append(self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea:
            # The HTML parser drops the newline right after <textarea>; so do browsers.
            text = "".join(self._textarea_text)
            self._form.data.setdefault(self._textarea, []).append(text.removeprefix("\n"))
            self._textarea = None

    def _end_option(self):
        option, self._option = self._option, None
        value = option["value"] if option["value"] is not None else option["text"].strip()
        self._form.options[self._select].append(value)
        if self._select_first is None:
            self._select_first = value
        if option["selected"]:
            self._select_chosen = True
            self._form.data.setdefault(self._select, []).append(value)


def _parse(response) -> _PageParser:
    parser = _PageParser()
    parser.feed(response.content.decode())
    parser.close()
    return parser


def _page_url(response) -> str:
    query = response.request.get("QUERY_STRING", "")
    return "http://testserver" + response.request["PATH_INFO"] + (f"?{query}" if query else "")


def resolve(response, href: str) -> str:
    """The path and query a browser on this page would request for `href`."""
    parts = urlsplit(urljoin(_page_url(response), href))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links(response) -> list[PageLink]:
    """Every link on the page, with its text as a person reads it (white space collapsed)."""
    found = _parse(response).links
    for link in found:
        link.text = " ".join(link.text.split())
    return found


def link_to(response, text: str) -> str:
    """The URL of the one link whose text is `text`, resolved against the page."""
    matches = [link for link in links(response) if link.text == text]
    assert len(matches) == 1, f"expected one link {text!r}, found {[link.href for link in matches]}"
    return resolve(response, matches[0].href)


def form_on(
    response, *, has_field: str | None = None, action_contains: str | None = None, action: str | None = None
) -> PageForm:
    """The one form on the page that has `has_field`, an action containing `action_contains`
    and/or exactly the action `action` as written ("" for a form that submits to the page
    itself); its action is resolved against the page."""
    matches = [
        form
        for form in _parse(response).forms
        if (has_field is None or has_field in form.data or has_field in form.options)
        and (action_contains is None or action_contains in form.action)
        and (action is None or form.action == action)
    ]
    assert len(matches) == 1, f"expected one form, found {len(matches)}"
    form = matches[0]
    form.action = resolve(response, form.action)
    return form


def submit(client, form: PageForm, *, button: str | tuple[str, str] | None = None, **values):
    """Send the form as a browser would: its current values, `values` typed over them, and the
    submit button named `button` — or (name, value) when several buttons share a name — or else
    the first one."""
    data = {name: list(items) for name, items in form.data.items()}
    for name, value in values.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    if isinstance(button, tuple):
        chosen = [b for b in form.buttons if b == button]
    else:
        chosen = [b for b in form.buttons if b[0] == button][:1] if button else form.buttons[:1]
    if button:
        assert chosen, f"no button {button!r} in the form"
    for name, value in chosen:
        data[name] = [value]
    if form.method == "post":
        return client.post(form.action, data)
    return client.get(form.action, data)
