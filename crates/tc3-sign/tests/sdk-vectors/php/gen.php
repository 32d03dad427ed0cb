<?php
// Sends the vector requests with the official PHP SDK (tencentcloud-sdk-php; its src/ directory
// in $PHP_SDK_SRC, Guzzle from Debian's php-guzzlehttp-guzzle) to the capture server in
// $ENDPOINT / $ENDPOINT_LOCALHOST. Part of crates/tc3-sign/tests/sdk-vectors; not run by cargo.

require_once '/usr/share/php/GuzzleHttp/autoload.php';
spl_autoload_register(function ($class) {
    $file = getenv('PHP_SDK_SRC') . '/' . str_replace('\\', '/', $class) . '.php';
    if (is_file($file)) {
        require_once $file;
    }
});

use TencentCloud\Common\Credential;
use TencentCloud\Common\Profile\ClientProfile;
use TencentCloud\Common\Profile\HttpProfile;
use TencentCloud\Ms\V20180408\MsClient;
use TencentCloud\Ms\V20180408\Models\CreateScanInstancesRequest;
use TencentCloud\Ms\V20180408\Models\DescribeScanInstancesRequest;

const ID = 'AKIDvectorsPhp000000000000000000000';
const KEY = 'vectorsSecretKey00000000000000000';

function client($endpoint, $method, $sign) {
    $http = new HttpProfile();
    $http->setEndpoint($endpoint);
    $http->setReqMethod($method);
    $http->setProtocol('http://');
    $profile = new ClientProfile();
    $profile->setHttpProfile($http);
    $profile->setSignMethod($sign);
    return new MsClient(new Credential(ID, KEY), 'ap-guangzhou', $profile);
}

$ep = getenv('ENDPOINT');
$lh = getenv('ENDPOINT_LOCALHOST');
$cases = [
    [$ep, 'POST', 'TC3-HMAC-SHA256'],
    [$ep, 'GET', 'TC3-HMAC-SHA256'],
    [$lh, 'POST', 'TC3-HMAC-SHA256'],
    [$ep, 'POST', 'HmacSHA256'],
    [$lh, 'GET', 'HmacSHA256'],
    [$ep, 'POST', 'HmacSHA1'],
    [$ep, 'GET', 'HmacSHA1'],
];
foreach ($cases as [$endpoint, $method, $sign]) {
    $client = client($endpoint, $method, $sign);
    $d = new DescribeScanInstancesRequest();
    $d->fromJsonString(json_encode([
        'Limit' => 5,
        
        'Filters' => [['Name' => 'AppName', 'Value' => "微信 a+b&c=d*~'()/😀"]],
    ]));
    $client->DescribeScanInstances($d);
    $c = new CreateScanInstancesRequest();
    $c->fromJsonString(json_encode([
        'AppInfos' => [[
            'AppUrl' => 'https://example.com/a.apk?x=1&y=2',
            'AppMd5' => '0123456789abcdef0123456789abcdef',
            'AppSize' => 1024,
            'AppName' => 'Vectors 微信',
            'AppPkgName' => 'com.example.vectors',
        ]],
        'ScanInfo' => ['CallbackUrl' => 'http://example.com/cb', 'ScanTypes' => ['VULSCAN', 'ADSCAN']],
    ]));
    $client->CreateScanInstances($c);
}
