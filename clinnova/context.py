from django.conf import settings


def frame(request):
    """What every page's frame shows: the signed-in user's sites and roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"synthetic_notice": settings.SYNTHETIC_NOTICE}
    from clinnova.access import user_roles

    return {
        "synthetic_notice": settings.SYNTHETIC_NOTICE,
        "user_sites": list(user.sites.values_list("code", flat=True)),
        "user_roles": user_roles(user),
    }
