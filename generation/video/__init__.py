"""Templated video rendering: templates as data, ``timeline_build`` resolves one ad,
``render`` is a pure function of (timeline, assets) → MP4 + thumbnail + SRT + timeline JSON."""
from .render import RenderResult, render
from .schema import Template, Timeline
from .timeline import TemplateError, list_templates, load_template, timeline_build

__all__ = ["RenderResult", "Template", "TemplateError", "Timeline", "list_templates", "load_template",
           "render", "timeline_build"]
