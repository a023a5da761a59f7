"""Prompt memes in templates.

`{% prompter prompt %}`: the prompter's name as pages show it (linked to the pseud, or
plain "Anonymous"); `{% prompt_fills_line work %}`: the work page's "In response to a
prompt by ... in ..."; `{% fill_prompt_fields form %}`: the work form's "This work fills
a prompt" fields.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import Form
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chapbook.collections import prompts
from chapbook.collections.models import Fill, Prompt
from chapbook.works.models import Work

register = template.Library()


@register.simple_tag
def prompter(prompt: Prompt) -> SafeString:
    """Every page names a prompter through this tag, which asks `prompts.prompter_name`."""
    url = prompts.prompter_url(prompt)
    name = prompts.prompter_name(prompt)
    if url:
        return format_html('<a href="{}">{}</a>', url, name)
    return format_html("{}", name)


@register.inclusion_tag("collections/_prompt_fills_line.html")
def prompt_fills_line(work: Work) -> dict[str, Any]:
    """One query, and the same for every reader: a guest's work page is cached whole,
    keyed on the work's `revised_at`, which `fill_prompt` and `delete_prompt` move."""
    fills = list(
        Fill.objects.filter(work_id=work.pk)
        .select_related("prompt__collection", "prompt__pseud__user")
        .order_by("created_at", "pk")
    )
    return {"fills": fills}


@register.inclusion_tag("collections/_prompt_fill_fields.html", takes_context=True)
def fill_prompt_fields(context: Any, form: Form) -> dict[str, Any]:
    """The fields `add_fill_fields` put on the work form, with `?fill=ID` preselected.

    The prompt page's "Post a fill" links to /works/new?fill=ID; the posting view builds
    its form without the query string, so an unbound form is given the prompt here,
    before any of its fields is rendered: as the claim when the writer claimed it, else
    as the typed prompt.
    """
    request = context.get("request")
    work = context.get("work")
    if "fill_claim" not in form.fields:
        return {"form": None}
    wanted = request.GET.get("fill", "") if request is not None else ""
    target = None
    if not form.is_bound and wanted.isdigit() and len(wanted) < 19:
        target = Prompt.objects.select_related("collection").filter(pk=int(wanted), collection__prompt_meme=True).first()
        if target is not None:
            claimed = {str(value) for value, _label in form.fields["fill_claim"].choices}  # type: ignore[attr-defined]
            form.initial["fill_claim" if wanted in claimed else "fill_prompt"] = wanted
    current: list[Fill] = []
    if isinstance(work, Work):
        current = list(Fill.objects.filter(work=work).select_related("prompt__collection").order_by("created_at", "pk"))
    return {"form": form, "target": target, "current": current}
