"""Placeholder until its feature lands."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
