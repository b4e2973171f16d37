"""How the token scheme reads in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ropa.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <token>`. Tokens are issued with `manage.py issue_token` or in the admin, shown once, "
                "and carry a role (dpo, auditor, system) and a scope."
            ),
        }
