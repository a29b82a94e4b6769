from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from clinnova.access import CLINICIAN, MODEL_ADMIN, PRIVACY_OFFICER, user_roles


def health(request):
    """Liveness and database reachability, for the container health check."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not ready"; the body says no more
        return JsonResponse({"status": "unavailable"}, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok"})


# Machine clients read JSON errors: a path no route matches under the API doors answers in their format.
API_PREFIXES = ("/api/", "/cds-services")


def _wants_json(request) -> bool:
    return request.path.startswith(API_PREFIXES)


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "message": f"No resource at {request.path}.", "errors": []},
                            status=404)
    if request.path.startswith("/fhir"):
        return JsonResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "not-found", "diagnostics": f"No resource at {request.path}."}]},
            status=404, content_type="application/fhir+json")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if _wants_json(request) or request.path.startswith("/fhir"):
        return JsonResponse({"code": "server_error", "message": "An unexpected error; it has been logged with the "
                             "request id in the X-Request-ID header.", "errors": []}, status=500)
    from django.views.defaults import server_error as page

    return page(request)


@login_required
def home(request):
    """Each role lands where its day starts: a clinician on their patients, a model admin on the model
    versions, a privacy officer on the audit trail."""
    roles = user_roles(request.user)
    if CLINICIAN in roles or request.user.sites.exists():
        return redirect("patients:list")
    if MODEL_ADMIN in roles:
        return redirect("models:list")
    if PRIVACY_OFFICER in roles:
        return redirect("audit:search")
    return render(request, "home.html", status=200)


def signed_out(request):
    """Where signing out lands: a page of its own, so a shared workstation shows nobody is signed in."""
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "registration/logged_out.html")
