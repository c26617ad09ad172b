"""The checks every browser test makes catch what they are for: a page that scrolls sideways,
controls drawn over one another and a field without a label fail; a link wrapping over two lines
beside another does not."""

import pytest

from portal.tests.browser import LAPTOP, check_page

PAGE = """<!doctype html><html lang="en"><head><title>Check</title></head><body><main>
<h1>Check</h1>{}</main></body></html>"""


@pytest.fixture
def blank(in_browser, page):
    page.set_viewport_size(LAPTOP)
    return page


def test_a_button_drawn_over_a_link_fails(blank):
    blank.set_content(
        PAGE.format(
            '<a href="#a">First link</a><button style="position:absolute;left:0;top:60px">Over it</button>'
            '<a href="#b" style="position:absolute;left:0;top:60px">Under it</a>'
        )
    )
    with pytest.raises(AssertionError, match='elements overlap: button "Over it" and a "Under it"'):
        check_page(blank, "check-overlap")


def test_a_page_wider_than_the_window_fails(blank):
    blank.set_content(PAGE.format('<p style="width:2000px">Too wide</p>'))
    with pytest.raises(AssertionError, match=r"scrolls sideways by \d+ px"):
        check_page(blank, "check-wide")


def test_links_wrapping_beside_each_other_pass(blank):
    words = " ".join(["wrapping"] * 40)
    blank.set_content(
        PAGE.format(f'<p style="width:300px"><a href="#a">{words}</a> <a href="#b">next</a></p>')
    )
    check_page(blank, "check-wrapping")


def test_a_field_without_a_label_fails_the_accessibility_scan(blank):
    blank.set_content(PAGE.format('<form><input type="text" name="q"></form>'))
    with pytest.raises(AssertionError, match=r"label \(critical\): Form elements must have labels"):
        check_page(blank, "check-unlabelled")
    check_page(blank, "check-unlabelled-narrow", accessibility=False)  # layout only: passes
