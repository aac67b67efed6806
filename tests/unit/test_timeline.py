"""A fault's timeline is a valid SVG that shows every request and shades the fault window."""

from __future__ import annotations

import xml.dom.minidom

from releasegate.measure.timeline import Window, render_svg
from releasegate.measure.traffic import Sample


def test_every_request_is_a_dot_and_the_fault_is_shaded() -> None:
    samples = [Sample("write", 100.0 + i * 0.1, 0.02, 201) for i in range(30)]
    samples += [Sample("probe", 101.0, 2.5, 503),
                Sample("write", 101.5, 10.0, None, "ReadTimeout")]
    svg = render_svg(samples, [Window(101.0, 102.0, "database <paused>")], title="t & u")
    dom = xml.dom.minidom.parseString(svg)  # noqa: S318 - our own output
    assert len(dom.getElementsByTagName("circle")) == len(samples)
    assert "database &lt;paused&gt;" in svg and 'fill="#d62728"' in svg


def test_no_requests_says_so() -> None:
    assert "no requests were made" in render_svg([], [], title="empty")
