"""Sends the vector requests with the official Python SDK (tencentcloud-sdk-python-ms, from the
tests/interop virtualenv) to the capture server in $ENDPOINT / $ENDPOINT_LOCALHOST. Part of
crates/tc3-sign/tests/sdk-vectors (generate.sh); not run by cargo."""

import json
import os

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ms.v20180408 import models, ms_client

ID = "AKIDvectorsPython000000000000000000"
KEY = "vectorsSecretKey00000000000000000"


def client(endpoint, method, sign):
    http = HttpProfile(endpoint=endpoint, reqMethod=method, protocol="http")
    return ms_client.MsClient(credential.Credential(ID, KEY), "ap-guangzhou", ClientProfile(signMethod=sign, httpProfile=http))


def main():
    ep, lh = os.environ["ENDPOINT"], os.environ["ENDPOINT_LOCALHOST"]
    cases = [(ep, "POST", "TC3-HMAC-SHA256"), (ep, "GET", "TC3-HMAC-SHA256"), (lh, "POST", "TC3-HMAC-SHA256"),
             (ep, "POST", "HmacSHA256"), (lh, "GET", "HmacSHA256"), (ep, "POST", "HmacSHA1"), (ep, "GET", "HmacSHA1")]
    for endpoint, method, sign in cases:
        c = client(endpoint, method, sign)
        d = models.DescribeScanInstancesRequest()
        d.from_json_string(json.dumps({"Limit": 5, 
                                       "Filters": [{"Name": "AppName", "Value": "微信 a+b&c=d*~'()/😀"}]}))
        c.DescribeScanInstances(d)
        r = models.CreateScanInstancesRequest()
        r.from_json_string(json.dumps({
            "AppInfos": [{"AppUrl": "https://example.com/a.apk?x=1&y=2", "AppMd5": "0123456789abcdef0123456789abcdef",
                          "AppSize": 1024, "AppName": "Vectors 微信", "AppPkgName": "com.example.vectors"}],
            "ScanInfo": {"CallbackUrl": "http://example.com/cb", "ScanTypes": ["VULSCAN", "ADSCAN"]}}))
        c.CreateScanInstances(r)


if __name__ == "__main__":
    main()
