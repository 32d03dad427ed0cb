"use strict";
// Sends the vector requests with the official Node.js SDK (tencentcloud-sdk-nodejs, from
// tests/interop/node/node_modules) to the capture server in $ENDPOINT / $ENDPOINT_LOCALHOST.
// Part of crates/tc3-sign/tests/sdk-vectors (generate.sh); not run by cargo.
const path = require("path");
const sdk = require(path.join(process.env.NODE_SDK_DIR, "tencentcloud-sdk-nodejs"));

const ID = "AKIDvectorsNode00000000000000000000";
const KEY = "vectorsSecretKey00000000000000000";

function client(endpoint, reqMethod, signMethod) {
  return new sdk.ms.v20180408.Client({
    credential: { secretId: ID, secretKey: KEY },
    region: "ap-guangzhou",
    profile: { signMethod, httpProfile: { endpoint, reqMethod, protocol: "http://" } },
  });
}

async function main() {
  const ep = process.env.ENDPOINT;
  const lh = process.env.ENDPOINT_LOCALHOST;
  const cases = [
    [ep, "POST", "TC3-HMAC-SHA256"],
    [ep, "GET", "TC3-HMAC-SHA256"],
    [lh, "POST", "TC3-HMAC-SHA256"],
    [ep, "POST", "HmacSHA256"],
    [lh, "GET", "HmacSHA256"],
    [ep, "POST", "HmacSHA1"],
    [ep, "GET", "HmacSHA1"],
  ];
  for (const [endpoint, method, sign] of cases) {
    const c = client(endpoint, method, sign);
    await c.DescribeScanInstances({
      Limit: 5,
      Filters: [{ Name: "AppName", Value: "微信 a+b&c=d*~'()/😀" }],
    });
    await c.CreateScanInstances({
      AppInfos: [
        {
          AppUrl: "https://example.com/a.apk?x=1&y=2",
          AppMd5: "0123456789abcdef0123456789abcdef",
          AppSize: 1024,
          AppName: "Vectors 微信",
          AppPkgName: "com.example.vectors",
        },
      ],
      ScanInfo: { CallbackUrl: "http://example.com/cb", ScanTypes: ["VULSCAN", "ADSCAN"] },
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
