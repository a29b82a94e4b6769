from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clinnova.signin import AuditedPasswordChangeView
from clinnova.views import health, home, signed_out
from doors.cds.views import DiscoveryView
from doors.fhir.views import BundleView
from recommendations.views import rules_list

cds_discovery = DiscoveryView.as_view()
# The CapabilityStatement names the base without a slash; clients POST to either form. APPEND_SLASH would
# redirect a POST (301 -> GET -> 405) and, with DEBUG on, refuse it: the base answers under both paths.
fhir_base = BundleView.as_view()

urlpatterns = [
    path("", home, name="home"),
    path("accounts/signed-out/", signed_out, name="signed_out"),
    # Sign-in, sign-out and password change; no password reset: there is no mail backend to send its link, and an
    # administrator resets a password (and issues a new enrolment link) instead.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", AuditedPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("account/2fa/", include("clinnova.otp")),
    path("audit/", include("clinnova.auditlog")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("patients/", include("doors.pages.urls")),
    path("models/", include("recommendations.urls")),
    path("rules/", rules_list, name="rules"),
    path("network/", include("network.urls")),
    path("api/v1/", include("recommendations.api_urls")),
    path("api/v1/", include("doors.api.urls")),
    # The EHR integration doors with contracts of their own: FHIR R4 and CDS Hooks 2.0.
    path("fhir", fhir_base, name="fhir-base"),
    path("fhir/", include("doors.fhir.urls")),
    path("cds-services", cds_discovery, name="cds-discovery"),
    path("cds-services/", include("doors.cds.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI starts from an inline script and style: the one page whose CSP allows them.
    path("api/docs/", csp_override({**settings.SECURE_CSP, "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
                                    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
        SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
]

handler404 = "clinnova.views.not_found"
handler500 = "clinnova.views.server_error"
