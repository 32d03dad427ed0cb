// Sends the vector requests with the official Go SDK (tencentcloud-sdk-go, the version the
// generate script points go.mod at) to the capture server in $ENDPOINT / $ENDPOINT_LOCALHOST.
// Part of crates/tc3-sign/tests/sdk-vectors (generate.sh); not built by cargo.
package main

import (
	"fmt"
	"os"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	ms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ms/v20180408"
)

const secretID = "AKIDvectorsGo0000000000000000000000"
const secretKey = "vectorsSecretKey00000000000000000"

func client(endpoint, method, sign string) *ms.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = endpoint
	cpf.HttpProfile.ReqMethod = method
	cpf.HttpProfile.Scheme = "http"
	cpf.SignMethod = sign
	c, err := ms.NewClient(common.NewCredential(secretID, secretKey), "ap-guangzhou", cpf)
	if err != nil {
		panic(err)
	}
	return c
}

func main() {
	cases := []struct{ endpoint, method, sign string }{
		{os.Getenv("ENDPOINT"), "POST", "TC3-HMAC-SHA256"},
		{os.Getenv("ENDPOINT"), "GET", "TC3-HMAC-SHA256"},
		{os.Getenv("ENDPOINT_LOCALHOST"), "POST", "TC3-HMAC-SHA256"},
		{os.Getenv("ENDPOINT"), "POST", "HmacSHA256"},
		{os.Getenv("ENDPOINT_LOCALHOST"), "GET", "HmacSHA256"},
		{os.Getenv("ENDPOINT"), "POST", "HmacSHA1"},
		{os.Getenv("ENDPOINT"), "GET", "HmacSHA1"},
	}
	for _, k := range cases {
		c := client(k.endpoint, k.method, k.sign)
		d := ms.NewDescribeScanInstancesRequest()
		d.Limit = common.Uint64Ptr(5)
		d.Filters = []*ms.Filter{{Name: common.StringPtr("AppName"), Value: common.StringPtr("微信 a+b&c=d*~'()/😀")}}
		if _, err := c.DescribeScanInstances(d); err != nil {
			fmt.Fprintln(os.Stderr, "DescribeScanInstances:", err)
			os.Exit(1)
		}
		cr := ms.NewCreateScanInstancesRequest()
		cr.AppInfos = []*ms.AppInfo{{
			AppUrl:     common.StringPtr("https://example.com/a.apk?x=1&y=2"),
			AppMd5:     common.StringPtr("0123456789abcdef0123456789abcdef"),
			AppSize:    common.Uint64Ptr(1024),
			AppName:    common.StringPtr("Vectors 微信"),
			AppPkgName: common.StringPtr("com.example.vectors"),
		}}
		cr.ScanInfo = &ms.ScanInfo{CallbackUrl: common.StringPtr("http://example.com/cb"), ScanTypes: common.StringPtrs([]string{"VULSCAN", "ADSCAN"})}
		if _, err := c.CreateScanInstances(cr); err != nil {
			fmt.Fprintln(os.Stderr, "CreateScanInstances:", err)
			os.Exit(1)
		}
	}
}
