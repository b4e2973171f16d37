"""Single sign-on with an OpenID Connect identity provider (IdP), on django-allauth's ``openid_connect``.

What it guarantees:
- The ID token is verified at every login: signature (asymmetric algorithms only, key from the IdP's JWKS),
  issuer (the configured one, which the discovery document must name exactly), audience, expiry, and the
  nonce sent with this browser's authorisation request. The userinfo answer must be about the same ``sub``.
- The IdP decides access: its roles claim maps to the DPO and Auditor groups at every login (a role removed
  there is removed here); a login whose claim maps to no role is refused and creates nothing. With a
  controllers claim configured, the user's controller scope is exactly the controllers it names.
- A second factor is the IdP's: the session records what the ID token's ``amr``/``acr`` show
  (``signals.SSO_SESSION_KEY``), and a login without the ones the settings require is refused.

What it never does: create an account through a form, link to a local account by e-mail unless
``ROPA_OIDC_TRUST_EMAIL`` says the IdP verifies addresses, reactivate an account a DPO deactivated, or touch
``is_superuser``.

Modules: ``claims`` (pure rules on claims), ``provider`` (the protocol: nonce, ID token checks),
``views``/``urls`` (allauth's URLs, served with that provider), ``adapter`` (allauth's hooks),
``services`` (writes the user's roles and scope, audited).
"""
