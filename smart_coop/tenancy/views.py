from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smart_coop.tenancy.selectors import entities_listed


def entity_directory(request: HttpRequest) -> HttpResponse:
    """The public site: every country entity, with a link to its own site."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    suffix = "" if port == default_port else f":{port}"
    entities = [
        (entity, f"{request.scheme}://{entity.get_primary_domain().domain}{suffix}/")
        for entity in entities_listed()
        if entity.get_primary_domain() is not None
    ]
    return render(request, "tenancy/entity_directory.html", {"entities": entities})
