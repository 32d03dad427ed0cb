// Sends the vector requests with the official Java SDK (tencentcloud-sdk-java, compiled by
// generate.sh from the release given to it) to the capture server in $ENDPOINT /
// $ENDPOINT_LOCALHOST. Part of crates/tc3-sign/tests/sdk-vectors; not built by cargo.

import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.ms.v20180408.MsClient;
import com.tencentcloudapi.ms.v20180408.models.AppInfo;
import com.tencentcloudapi.ms.v20180408.models.CreateScanInstancesRequest;
import com.tencentcloudapi.ms.v20180408.models.DescribeScanInstancesRequest;
import com.tencentcloudapi.ms.v20180408.models.Filter;
import com.tencentcloudapi.ms.v20180408.models.ScanInfo;

public class Gen {
    static final String ID = "AKIDvectorsJava00000000000000000000";
    static final String KEY = "vectorsSecretKey00000000000000000";

    static MsClient client(String endpoint, String method, String sign) {
        HttpProfile http = new HttpProfile();
        http.setEndpoint(endpoint);
        http.setReqMethod(method);
        http.setProtocol("http://");
        ClientProfile profile = new ClientProfile();
        profile.setHttpProfile(http);
        profile.setSignMethod(sign);
        return new MsClient(new Credential(ID, KEY), "ap-guangzhou", profile);
    }

    public static void main(String[] args) throws Exception {
        String ep = System.getenv("ENDPOINT");
        String lh = System.getenv("ENDPOINT_LOCALHOST");
        String[][] cases = {
            {ep, "POST", "TC3-HMAC-SHA256"},
            {ep, "GET", "TC3-HMAC-SHA256"},
            {lh, "POST", "TC3-HMAC-SHA256"},
            {ep, "POST", "HmacSHA256"},
            {lh, "GET", "HmacSHA256"},
            {ep, "POST", "HmacSHA1"},
            {ep, "GET", "HmacSHA1"},
        };
        for (String[] c : cases) {
            MsClient client = client(c[0], c[1], c[2]);
            DescribeScanInstancesRequest d = new DescribeScanInstancesRequest();
            d.setLimit(5L);
            Filter f = new Filter();
            f.setName("AppName");
            f.setValue("微信 a+b&c=d*~'()/😀");
            d.setFilters(new Filter[] {f});
            client.DescribeScanInstances(d);
            CreateScanInstancesRequest cr = new CreateScanInstancesRequest();
            AppInfo a = new AppInfo();
            a.setAppUrl("https://example.com/a.apk?x=1&y=2");
            a.setAppMd5("0123456789abcdef0123456789abcdef");
            a.setAppSize(1024L);
            a.setAppName("Vectors 微信");
            a.setAppPkgName("com.example.vectors");
            cr.setAppInfos(new AppInfo[] {a});
            ScanInfo s = new ScanInfo();
            s.setCallbackUrl("http://example.com/cb");
            s.setScanTypes(new String[] {"VULSCAN", "ADSCAN"});
            cr.setScanInfo(s);
            client.CreateScanInstances(cr);
        }
    }
}
