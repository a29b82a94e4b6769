"""CDS Hooks 2.0: Clinnova's therapy ranking as cards in the EHR, when a clinician opens a patient.

    GET  /cds-services                                         discovery (public)
    POST /cds-services/clinnova-therapy-ranking                patient-view hook → {"cards": [...]}
    POST /cds-services/clinnova-therapy-ranking/feedback       accepted / overridden cards, with the reason

Calls carry `Authorization: Bearer <JWT>` signed ES384 or RS384 by a client registered with
`manage.py register_cds_client --iss ISS --jwks FILE --site CODE [--origin URL]`: `kid` names a key of its JWK
Set, `aud` is the URL called on SITE_URL, `exp` at most CDS_JWT_MAX_LIFETIME (300 s) ahead, `iat` present,
`jti` never used before. A failure is 401 {"error": "invalid_token", "error_description": "<short reason>"}
with the same reason in WWW-Authenticate (RFC 6750 §3). A malformed body is 400 in the JSON API's error shape;
an unknown patient is {"cards": []}. Every issued card is kept (CdsCard); feedback must name one.
"""
