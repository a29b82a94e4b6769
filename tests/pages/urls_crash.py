"""The site's URLs plus one view that fails: for the 500 page test only, never in production URLs."""

from django.urls import path

from clinnova.urls import urlpatterns as site_urlpatterns


def crash(request):
    raise RuntimeError("internal detail that must not reach the page")


urlpatterns = [*site_urlpatterns, path("crash/", crash)]
