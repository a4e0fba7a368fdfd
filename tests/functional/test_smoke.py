import json


def test_services_list(api):
    r = api.http.get("/open311/v2/services.json?jurisdiction_id=maplefalls.example")
    assert r.status_code == 200, r.body
    services = json.loads(r.body)
    assert len(services) == 12
