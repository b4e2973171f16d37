from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("consents", views.ConsentViewSet)
router.register("requests", views.DataSubjectRequestViewSet)

urlpatterns = router.urls
