from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinnovaConfig(AppConfig):
    name = "clinnova"
    verbose_name = "Clinnova platform"

    def ready(self):
        # Sign-in attempts are audited where Django reports them (password form, admin, any backend).
        from axes.signals import user_locked_out
        from django.contrib.auth import signals as auth
        from django.core.signals import got_request_exception

        from clinnova import signin
        from clinnova.logging import request_exception_log

        auth.user_logged_in.connect(signin.on_signed_in, dispatch_uid="clinnova_signed_in")
        auth.user_login_failed.connect(signin.on_sign_in_failed, dispatch_uid="clinnova_sign_in_failed")
        auth.user_logged_out.connect(signin.on_signed_out, dispatch_uid="clinnova_signed_out")
        user_locked_out.connect(signin.on_locked_out, dispatch_uid="clinnova_locked_out")
        got_request_exception.connect(request_exception_log, dispatch_uid="clinnova_request_exception")


class ClinnovaAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Clinnova's admin site: a second factor, no patient data, no bulk deletes."""

    default = False  # ClinnovaConfig stays the clinnova app; this one is named in INSTALLED_APPS
    default_site = "clinnova.admin_site.ClinnovaAdminSite"
