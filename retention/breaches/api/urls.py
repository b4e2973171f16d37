from rest_framework import routers

from .views import BreachViewSet

router = routers.SimpleRouter()
router.register("breaches", BreachViewSet, basename="breach")
