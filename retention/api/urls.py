from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("processing-activities", views.ProcessingActivityViewSet)
router.register("records", views.RecordViewSet)
router.register("legal-holds", views.LegalHoldViewSet)
router.register("erasure-feed", views.ErasureFeedViewSet, basename="erasure-feed")

urlpatterns = router.urls
