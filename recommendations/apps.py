from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"

    def ready(self):
        from patients.services import visit_stored
        from recommendations.jobs import visit_stored_receive

        # Every stored visit gets a scoring job in its own transaction, sent to a worker on commit.
        visit_stored.connect(visit_stored_receive, dispatch_uid="recommendations.visit_stored")
