"""Runs the ms scan workflow against ms-emulator with the official Tencent Cloud Python SDK.

Usage: interop.py BASE_URL CERT_PEM SECRET_ID SECRET_KEY

Runs create -> describe instances -> results -> delete three times (TC3 POST, TC3 GET,
HmacSHA256 form POST) over HTTPS trusting CERT_PEM, and checks that a wrong secret key fails
with AuthFailure.SignatureFailure. Exits non-zero on any failure.
"""

import hashlib
import json
import sys
import time
import traceback
from urllib.parse import urlparse

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ms.v20180408 import models, ms_client

RESULTS = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def make_client(endpoint, cert, secret_id, secret_key, req_method, sign_method):
    http = HttpProfile(endpoint=endpoint, reqMethod=req_method, reqTimeout=30, certification=cert)
    profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    return ms_client.MsClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


def md5_of(label):
    return hashlib.md5(label.encode()).hexdigest()


def workflow(client, label):
    apps = [md5_of(label + "-a"), md5_of(label + "-b")]

    req = models.CreateScanInstancesRequest()
    req.from_json_string(json.dumps({
        "AppInfos": [
            {"AppUrl": "https://example.com/%s.apk" % m, "AppMd5": m, "AppSize": 1024 + i,
             "AppName": "Interop %s %d" % (label, i), "AppPkgName": "com.interop.%s%d" % (label.replace("-", ""), i)}
            for i, m in enumerate(apps)
        ],
        "ScanInfo": {"CallbackUrl": "http://example.com/cb", "ScanTypes": ["VULSCAN", "VIRUSSCAN", "ADSCAN", "PERMISSION", "SENSITIVE"]},
    }))
    created = client.CreateScanInstances(req)
    check(created.ItemId, "CreateScanInstances returned no ItemId")
    check(created.AppMd5s == apps, "AppMd5s %r != %r" % (created.AppMd5s, apps))
    check(created.Progress in (1, 2), "Progress %r" % created.Progress)
    check(isinstance(created.LimitCount, int), "LimitCount missing")
    check(created.RequestId, "no RequestId")

    # Wait for the scans (the emulator runs with a short scan time).
    deadline = time.time() + 60
    while True:
        d = models.DescribeScanInstancesRequest()
        d.ItemIds = [created.ItemId]
        d.Limit = 100
        d.OrderField = "TaskTime"
        d.OrderDirection = "asc"
        listed = client.DescribeScanInstances(d)
        check(listed.TotalCount == 2, "TotalCount %r" % listed.TotalCount)
        statuses = [s.TaskStatus for s in listed.ScanSet]
        if all(s == 1 for s in statuses):
            break
        check(all(s in (1, 2) for s in statuses), "unexpected TaskStatus %r" % statuses)
        check(time.time() < deadline, "scans did not finish in time")
        time.sleep(0.2)
    sids = [s.AppSid for s in listed.ScanSet]
    check(all(sids), "missing AppSid")
    check(sorted(s.AppMd5 for s in listed.ScanSet) == sorted(apps), "AppMd5 in ScanSet")

    r = models.DescribeScanResultsRequest()
    r.ItemId = created.ItemId
    results = client.DescribeScanResults(r)
    check(results.TotalCount == 2, "results TotalCount %r" % results.TotalCount)
    for s in results.ScanSet:
        check(s.TaskStatus == 1 and s.StatusCode == 0, "result status")
        check(s.AppDetailInfo.AppMd5 in apps, "AppDetailInfo.AppMd5")
        check(s.VulInfo is not None and isinstance(s.VulInfo.VulList, list), "VulInfo")
        check(s.VirusInfo.SafeType in (1, 2, 3), "SafeType %r" % s.VirusInfo.SafeType)
        check(s.AdInfo is not None, "AdInfo")
        check(len(s.PermissionInfo.PermissionList) >= 1, "PermissionList")
        for v in s.VulInfo.VulList:
            check(v.RiskLevel in (1, 2, 3), "RiskLevel")
    # Only one app.
    r.AppMd5s = [apps[0]]
    one = client.DescribeScanResults(r)
    check(one.TotalCount == 1 and one.ScanSet[0].AppDetailInfo.AppMd5 == apps[0], "AppMd5s filter")

    dl = models.DeleteScanInstancesRequest()
    dl.AppSids = sids
    deleted = client.DeleteScanInstances(dl)
    check(deleted.Progress == 1, "delete Progress %r" % deleted.Progress)

    # The task is gone.
    try:
        client.DescribeScanResults(r)
        raise AssertionError("DescribeScanResults after delete succeeded")
    except TencentCloudSDKException as e:
        check(e.get_code() == "ResourceNotFound.ItemIdNotFound", "after delete: %s" % e.get_code())


def run(name, fn):
    try:
        fn()
        RESULTS.append((name, True, ""))
        print("PASS %s" % name, flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure
        detail = "%s: %s" % (type(e).__name__, e)
        RESULTS.append((name, False, detail))
        print("FAIL %s: %s" % (name, detail), flush=True)
        traceback.print_exc()


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    base_url, cert, secret_id, secret_key = sys.argv[1:]
    endpoint = urlparse(base_url).netloc
    variants = [
        ("TC3-HMAC-SHA256 POST", "POST", "TC3-HMAC-SHA256"),
        ("TC3-HMAC-SHA256 GET", "GET", "TC3-HMAC-SHA256"),
        ("HmacSHA256 form POST", "POST", "HmacSHA256"),
        ("HmacSHA1 GET", "GET", "HmacSHA1"),
    ]
    for label, method, sign in variants:
        client = make_client(endpoint, cert, secret_id, secret_key, method, sign)
        tag = label.split()[0].lower() + "-" + method.lower()
        run("workflow over %s" % label, lambda c=client, t=tag: workflow(c, t))

    def wrong_key():
        client = make_client(endpoint, cert, secret_id, secret_key + "x", "POST", "TC3-HMAC-SHA256")
        req = models.DescribeScanInstancesRequest()
        try:
            client.DescribeScanInstances(req)
        except TencentCloudSDKException as e:
            check(e.get_code() == "AuthFailure.SignatureFailure", "got %s" % e.get_code())
            check(e.get_request_id(), "error without RequestId")
            return
        raise AssertionError("a wrong secret key was accepted")

    run("wrong secret key -> AuthFailure.SignatureFailure", wrong_key)

    def unknown_id():
        client = make_client(endpoint, cert, "AKIDunknown", secret_key, "POST", "TC3-HMAC-SHA256")
        try:
            client.DescribeScanInstances(models.DescribeScanInstancesRequest())
        except TencentCloudSDKException as e:
            check(e.get_code() == "AuthFailure.SecretIdNotFound", "got %s" % e.get_code())
            return
        raise AssertionError("an unknown SecretId was accepted")

    run("unknown SecretId -> AuthFailure.SecretIdNotFound", unknown_id)

    def missing_app_info():
        client = make_client(endpoint, cert, secret_id, secret_key, "POST", "TC3-HMAC-SHA256")
        req = models.CreateScanInstancesRequest()
        req.from_json_string(json.dumps({"ScanInfo": {"CallbackUrl": "http://example.com/cb", "ScanTypes": ["VULSCAN"]}}))
        try:
            client.CreateScanInstances(req)
        except TencentCloudSDKException as e:
            check(e.get_code() == "MissingParameter.MissingAppInfo", "got %s" % e.get_code())
            return
        raise AssertionError("CreateScanInstances without AppInfos was accepted")

    run("no AppInfos -> MissingParameter.MissingAppInfo", missing_app_info)

    print("")
    print("interop summary:")
    for name, ok, detail in RESULTS:
        print("  %s  %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else "  (" + detail + ")"))
    failed = sum(1 for _, ok, _ in RESULTS if not ok)
    print("%d passed, %d failed" % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
