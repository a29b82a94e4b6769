"""CDS Hooks 2.0: Clinnova's therapy ranking as cards in the EHR, when a clinician opens a patient.

    GET  /cds-services                                         discovery (public)
    POST /cds-services/clinnova-therapy-ranking                patient-view hook → {"cards": [...]}
    POST /cds-services/clinnova-therapy-ranking/feedback       accepted / overridden cards, with the reason

Calls carry `Authorization: Bearer <JWT>` signed ES384 or RS384 by a client registered with
`manage.py register_cds_client --iss ISS --jwks FILE --site CODE`: `kid` names a key of its JWK Set, `aud` is
the URL called, `exp` at most five minutes ahead, `iat` present, `jti` never used before. Any failure is a bare
401 with an empty body. A malformed body is 400 in the JSON API's error shape; an unknown patient is
{"cards": []}.
"""
