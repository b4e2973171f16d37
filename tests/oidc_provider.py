"""A real OpenID Connect provider for tests: an HTTP server on 127.0.0.1 (a random port, its own thread) with
discovery, JWKS, the authorisation endpoint, the token endpoint and userinfo, signing ID tokens with an RSA key
made for the test run.

It does what the protocol asks of a provider: codes are single-use and bound to the client, the redirect URI,
the nonce and the PKCE challenge; the token endpoint authenticates the client (HTTP Basic or form). ``user``
holds the claims of whoever logs in next; ``tamper`` makes the next ID token wrong in one way, to show that
the app checks it.

    with OIDCProvider() as idp:
        idp.user = {"sub": "u1", "groups": ["ropa-dpo"], "amr": ["pwd", "mfa"]}
        ...
"""

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# What ``tamper`` can break in the next ID token.
TAMPERINGS = ("signature", "audience", "nonce", "issuer", "expired", "algorithm")


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OIDCProvider:
    def __init__(self, *, client_id: str = "register", client_secret: str | None = None):
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.key = _rsa_key()
        self.kid = "test-key-1"
        self.user: dict = {"sub": "user-1"}
        self.userinfo_extra: dict = {}  # claims only userinfo gives (or overrides)
        self.discovery_overrides: dict = {}  # e.g. {"issuer": ...}: a provider posing as another
        self.tamper: str | None = None
        self.authorize_requests: list[dict] = []  # the query of every /authorize request, for assertions
        self.token_requests: list[dict] = []
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, dict] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"

    # -- life cycle ---------------------------------------------------------------------------------------
    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    # -- what the endpoints answer ------------------------------------------------------------------------
    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
            **self.discovery_overrides,
        }

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict) -> tuple[int, dict]:
        """(status, headers): a redirect back with a code and the state, or a 400 for a bad request."""
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}
        if "openid" not in query.get("scope", "").split():
            return 400, {}
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "redirect_uri": query["redirect_uri"],
            "nonce": query.get("nonce"),
            "code_challenge": query.get("code_challenge"),
            "claims": dict(self.user),
        }
        back = {"code": code, "state": query.get("state", "")}
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant = self._codes.pop(form.get("code", ""), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if challenge != grant["code_challenge"]:
                return 400, {"error": "invalid_grant"}
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = grant["claims"]
        id_token = self.id_token(grant["claims"], nonce=grant["nonce"])
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

    def userinfo(self, authorization: str | None) -> tuple[int, dict]:
        claims = self._access_tokens.get((authorization or "").removeprefix("Bearer "))
        if claims is None:
            return 401, {"error": "invalid_token"}
        keep = ("sub", "email", "email_verified", "name", "preferred_username", "given_name", "family_name")
        return 200, {**{k: v for k, v in claims.items() if k in keep}, **self.userinfo_extra}

    def id_token(self, claims: dict, *, nonce: str | None) -> str:
        """An RS256 ID token for ``claims``, broken as ``tamper`` says (then ``tamper`` is reset)."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        if nonce is not None:
            payload["nonce"] = nonce
        key, algorithm, tamper = self.key, "RS256", self.tamper
        self.tamper = None
        if tamper == "signature":
            key = _rsa_key()  # the same kid, another key: what a forger without the IdP's key can do
        elif tamper == "audience":
            payload["aud"] = "another-client"
        elif tamper == "nonce":
            payload["nonce"] = "a-nonce-of-another-login"
        elif tamper == "issuer":
            payload["iss"] = "https://idp.example.net"
        elif tamper == "expired":
            payload["iat"], payload["exp"] = now - 3600, now - 1800
        elif tamper == "algorithm":
            key, algorithm = self.client_secret, "HS256"  # "signed" with the shared secret
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": self.kid})

    # -- HTTP ---------------------------------------------------------------------------------------------
    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, provider.jwks())
                elif url.path == "/authorize":
                    status, headers = provider.authorize(query)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/userinfo":
                    self._json(*provider.userinfo(self.headers.get("Authorization")))
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if urlsplit(self.path).path == "/token":
                    self._json(*provider.token(form, self.headers.get("Authorization")))
                else:
                    self._json(404, {"error": "not_found"})

        return Handler
