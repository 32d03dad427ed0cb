"use strict";
/**
 * Runs the ms scan workflow against ms-emulator with the official Tencent Cloud Node.js SDK
 * (tencentcloud-sdk-nodejs 4.0.576), pointed at the emulator the way its users point it at
 * any endpoint: `profile.httpProfile.endpoint` ("127.0.0.1:PORT" or "localhost:PORT") and an
 * https agent trusting the emulator's CA (`httpProfile.agent`).
 *
 * Usage: node interop.js BASE_URL CERT_PEM SECRET_ID SECRET_KEY
 *
 * Runs create -> describe instances -> results -> delete once for each of TC3-HMAC-SHA256
 * POST and GET, HmacSHA256 POST and GET, HmacSHA1 POST and GET; then checks that a wrong
 * secret key fails with AuthFailure.SignatureFailure (TC3 and legacy), an unknown SecretId
 * with AuthFailure.SecretIdNotFound, and a request without AppInfos with
 * MissingParameter.MissingAppInfo. Exits non-zero on any failure.
 */

const crypto = require("crypto");
const fs = require("fs");
const https = require("https");

const tencentcloud = require("tencentcloud-sdk-nodejs");
const { sdkVersion } = require("tencentcloud-sdk-nodejs/tencentcloud/common/sdk_version");

const MsClient = tencentcloud.ms.v20180408.Client;
const RESULTS = [];

function check(cond, what) {
  if (!cond) {
    throw new Error(what);
  }
}

function makeClient(endpoint, agent, secretId, secretKey, reqMethod, signMethod) {
  return new MsClient({
    credential: { secretId, secretKey },
    region: "ap-guangzhou",
    profile: {
      signMethod,
      httpProfile: { endpoint, reqMethod, reqTimeout: 30, agent },
    },
  });
}

function md5Of(label) {
  return crypto.createHash("md5").update(label).digest("hex");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error code of a failed call, or a failure when the call succeeded. */
async function errorCode(promise) {
  try {
    await promise;
  } catch (e) {
    check(e.requestId, `error without RequestId: ${e.code} ${e.message}`);
    return e.code;
  }
  throw new Error("the call succeeded");
}

async function workflow(client, label) {
  const apps = [md5Of(`${label}-a`), md5Of(`${label}-b`)];
  const created = await client.CreateScanInstances({
    AppInfos: apps.map((m, i) => ({
      AppUrl: `https://example.com/${m}.apk`,
      AppMd5: m,
      AppSize: 1024 + i,
      AppName: `Interop ${label} ${i} 微信 a+b&c=d`,
      AppPkgName: `com.interop.${label.replace(/[^a-z0-9]/g, "")}${i}`,
    })),
    ScanInfo: {
      CallbackUrl: "http://example.com/cb",
      ScanTypes: ["VULSCAN", "VIRUSSCAN", "ADSCAN", "PERMISSION", "SENSITIVE"],
    },
  });
  check(created.ItemId, "CreateScanInstances returned no ItemId");
  check(JSON.stringify(created.AppMd5s) === JSON.stringify(apps), `AppMd5s ${created.AppMd5s}`);
  check(created.Progress === 1 || created.Progress === 2, `Progress ${created.Progress}`);
  check(Number.isInteger(created.LimitCount), "LimitCount missing");
  check(created.RequestId, "no RequestId");

  // Wait for the scans (the emulator runs with a short scan time).
  const deadline = Date.now() + 60000;
  let listed;
  for (;;) {
    listed = await client.DescribeScanInstances({
      ItemIds: [created.ItemId],
      Limit: 100,
      OrderField: "TaskTime",
      OrderDirection: "asc",
    });
    check(listed.TotalCount === 2, `TotalCount ${listed.TotalCount}`);
    const statuses = listed.ScanSet.map((s) => s.TaskStatus);
    if (statuses.every((s) => s === 1)) {
      break;
    }
    check(statuses.every((s) => s === 1 || s === 2), `unexpected TaskStatus ${statuses}`);
    check(Date.now() < deadline, "scans did not finish in time");
    await sleep(200);
  }
  const sids = listed.ScanSet.map((s) => s.AppSid);
  check(sids.every(Boolean), "missing AppSid");
  check(
    JSON.stringify(listed.ScanSet.map((s) => s.AppMd5).sort()) === JSON.stringify([...apps].sort()),
    "AppMd5 in ScanSet"
  );

  const results = await client.DescribeScanResults({ ItemId: created.ItemId });
  check(results.TotalCount === 2, `results TotalCount ${results.TotalCount}`);
  for (const s of results.ScanSet) {
    check(s.TaskStatus === 1 && s.StatusCode === 0, "result status");
    check(apps.includes(s.AppDetailInfo.AppMd5), "AppDetailInfo.AppMd5");
    check(s.VulInfo && Array.isArray(s.VulInfo.VulList), "VulInfo");
    check([1, 2, 3].includes(s.VirusInfo.SafeType), `SafeType ${s.VirusInfo.SafeType}`);
    check(s.AdInfo, "AdInfo");
    check(s.PermissionInfo.PermissionList.length >= 1, "PermissionList");
    for (const v of s.VulInfo.VulList) {
      check([1, 2, 3].includes(v.RiskLevel), "RiskLevel");
    }
  }
  const one = await client.DescribeScanResults({ ItemId: created.ItemId, AppMd5s: [apps[0]] });
  check(one.TotalCount === 1 && one.ScanSet[0].AppDetailInfo.AppMd5 === apps[0], "AppMd5s filter");

  const deleted = await client.DeleteScanInstances({ AppSids: sids });
  check(deleted.Progress === 1, `delete Progress ${deleted.Progress}`);
  const gone = await errorCode(client.DescribeScanResults({ ItemId: created.ItemId }));
  check(gone === "ResourceNotFound.ItemIdNotFound", `after delete: ${gone}`);
}

async function run(name, fn) {
  try {
    await fn();
    RESULTS.push([name, true, ""]);
    console.log(`PASS ${name}`);
  } catch (e) {
    const detail = `${e.code || e.name}: ${e.message}`;
    RESULTS.push([name, false, detail]);
    console.log(`FAIL ${name}: ${detail}`);
    console.log(e.stack);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 4) {
    console.log("usage: node interop.js BASE_URL CERT_PEM SECRET_ID SECRET_KEY");
    return 2;
  }
  const [baseUrl, certPath, secretId, secretKey] = args;
  check(sdkVersion === "4.0.576", `tencentcloud-sdk-nodejs ${sdkVersion}, expected 4.0.576`);
  const url = new URL(baseUrl);
  check(url.protocol === "https:", `expected an https base URL, got ${baseUrl}`);
  // The agent trusts exactly the emulator's CA (and no proxy is involved: the SDK uses its
  // http_proxy handling only when no agent is given).
  const agent = new https.Agent({ ca: fs.readFileSync(certPath), keepAlive: true });
  const endpoints = [url.host, `localhost:${url.port}`];

  const variants = [
    ["TC3-HMAC-SHA256", "POST", endpoints[0]],
    ["TC3-HMAC-SHA256", "GET", endpoints[0]],
    ["TC3-HMAC-SHA256", "POST", endpoints[1]],
    ["HmacSHA256", "POST", endpoints[0]],
    ["HmacSHA256", "GET", endpoints[1]],
    ["HmacSHA1", "POST", endpoints[1]],
    ["HmacSHA1", "GET", endpoints[0]],
  ];
  for (const [sign, method, endpoint] of variants) {
    const client = makeClient(endpoint, agent, secretId, secretKey, method, sign);
    const tag = `node-${sign}-${method}-${endpoint}`.toLowerCase();
    await run(`workflow over ${sign} ${method} at endpoint ${endpoint}`, () => workflow(client, tag));
  }

  for (const [sign, method] of [["TC3-HMAC-SHA256", "POST"], ["HmacSHA256", "POST"], ["HmacSHA1", "GET"]]) {
    await run(`wrong secret key over ${sign} ${method} -> AuthFailure.SignatureFailure`, async () => {
      const client = makeClient(endpoints[0], agent, secretId, `${secretKey}x`, method, sign);
      const code = await errorCode(client.DescribeScanInstances({}));
      check(code === "AuthFailure.SignatureFailure", `got ${code}`);
    });
  }

  await run("unknown SecretId -> AuthFailure.SecretIdNotFound", async () => {
    const client = makeClient(endpoints[0], agent, "AKIDunknown", secretKey, "POST", "TC3-HMAC-SHA256");
    const code = await errorCode(client.DescribeScanInstances({}));
    check(code === "AuthFailure.SecretIdNotFound", `got ${code}`);
  });

  await run("no AppInfos -> MissingParameter.MissingAppInfo", async () => {
    const client = makeClient(endpoints[0], agent, secretId, secretKey, "POST", "TC3-HMAC-SHA256");
    const code = await errorCode(
      client.CreateScanInstances({ ScanInfo: { CallbackUrl: "http://example.com/cb", ScanTypes: ["VULSCAN"] } })
    );
    check(code === "MissingParameter.MissingAppInfo", `got ${code}`);
  });

  agent.destroy();
  console.log("");
  console.log("node interop summary:");
  for (const [name, ok, detail] of RESULTS) {
    console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}${ok ? "" : `  (${detail})`}`);
  }
  const failed = RESULTS.filter(([, ok]) => !ok).length;
  console.log(`${RESULTS.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.log(`FAIL ${e.stack}`);
    process.exitCode = 1;
  }
);
