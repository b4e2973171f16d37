from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("controllers", views.ControllerViewSet)
router.register("recipients", views.RecipientViewSet)
router.register("data-subject-categories", views.DataSubjectCategoryViewSet)
router.register("data-categories", views.DataCategoryViewSet)
router.register("security-measures", views.SecurityMeasureViewSet)
router.register("purposes", views.PurposeViewSet)
# processing-activities is registered by retention/api/urls.py, with the retention rules nested: the register
# does not know about retention (see DESIGN.md, "direction of dependencies").

urlpatterns = router.urls
