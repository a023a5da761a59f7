from tests.test_api_works import api_as
from django.test import Client
api_as.client = Client(raise_request_exception=False)

def test_probe(author, reader, make_work):
    work = make_work(author)
    me = api_as(reader)
    r = me.post(f"/api/v1/works/{work.pk}/kudos", {}); print("kudos {}", r.status_code, r.content[:300])
    r = me.client.post(f"/api/v1/works/{work.pk}/kudos", headers=me.headers); print("kudos nobody", r.status_code, r.content[:300])
    r = me.post(f"/api/v1/works/{work.pk}/kudos", None); print("kudos null", r.status_code, r.content[:300])
    r = me.post("/api/v1/inbox/read", {}); print("read", r.status_code, r.content[:300])
    r = me.get(f"/api/v1/works/{work.pk}/comments", {"chapter": 0}); print("chapter 0", r.status_code, r.content[:300])
    r = api_as().post(f"/api/v1/works/{work.pk}/comments", {"text": "hi", "name": "G", "email": "bad"}); print("guest bad email", r.status_code, r.content[:300])
    r = me.post(f"/api/v1/works/{work.pk}/comments", {"text": "hi"}); print("comment", r.status_code, r.content[:500])
    r = me.post(f"/api/v1/works/{work.pk}/comments", {"text": "hi", "pseud": "x"*10000}); print("pseud", r.status_code, r.content[:300])
    r = me.post("/api/v1/bookmarks", {"work": work.pk, "tags": ["x"*5000]}); print("bm tag", r.status_code, r.content[:300])
    r = me.post("/api/v1/bookmarks", {"work": work.pk, "tags": ["a,b"]}); print("bm tag comma", r.status_code, r.content[:300])
    r = me.post("/api/v1/subscriptions", {"creator": ""}); print("sub creator empty", r.status_code, r.content[:300])
    r = me.post("/api/v1/inbox/read", {"ids": [2**70]}); print("read huge", r.status_code, r.content[:300])
    r = me.get(f"/api/v1/works/{work.pk}/comments", {"chapter": 2**70}); print("chapter huge", r.status_code, r.content[:300])
    r = me.post(f"/api/v1/works/{work.pk}/comments", {"text": "hi", "chapter": 2**70}); print("comment chapter huge", r.status_code, r.content[:300])
