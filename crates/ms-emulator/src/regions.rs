//! The regions the gateway accepts in `X-TC-Region` (TC3) or `Region` (legacy v1).
//!
//! The list is data: the region constants the official SDKs ship
//! (`tencentcloud-sdk-go`, `tencentcloud/common/regions/regions.go`, the same names as the
//! "Request Structure" pages of the API 3.0 documentation). The emulator keys its rate limit
//! by (action, region, SecretId) as the service documents it, so a region outside this list
//! must be refused before the limiter: otherwise every invented name would open a fresh
//! bucket and the limit would mean nothing.
//!
//! For a value that is not a region the gateway answers `InvalidParameterValue` with the
//! message below (observed with the official SDKs, e.g. `Region: gz`); an omitted or empty
//! region is accepted (the scan actions need none), and an action whose page says the region
//! is required answers `MissingParameter` without one.

use ms_model::ErrorCode;

use crate::api::ApiError;

/// Every region name the official SDKs define, sorted.
pub(crate) const REGIONS: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-guangzhou-open",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "eu-frankfurt",
    "eu-moscow",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];

/// Checks the request's region for `action`: a listed region, or none at all when the action
/// does not require one.
pub(crate) fn check(action: &str, region: &str) -> Result<(), ApiError> {
    if region.is_empty() {
        let required = ms_model::action_info(action).and_then(|a| a.region_required);
        return if required == Some(true) {
            Err(ApiError::missing("Region"))
        } else {
            Ok(())
        };
    }
    if REGIONS.binary_search(&region).is_ok() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            "A value specified in `Region` is not valid, is unsupported, or cannot be used.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(REGIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn listed_and_empty_regions_pass_others_do_not() {
        for r in REGIONS {
            assert_eq!(check("CreateScanInstances", r), Ok(()), "{r}");
        }
        assert_eq!(check("CreateScanInstances", ""), Ok(()));
        for bad in ["gz", "ap-guangzhou ", "AP-GUANGZHOU", "ap-guangzhou-1", "x"] {
            let e = check("CreateScanInstances", bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameterValue, "{bad}");
            assert!(e.message.contains("`Region`"), "{}", e.message);
        }
        // An action whose page marks the region required.
        let e = check("CreateEncryptInstance", "").unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert_eq!(check("CreateEncryptInstance", "ap-guangzhou"), Ok(()));
    }
}
